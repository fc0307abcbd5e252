package password

import (
	"context"
	"errors"
	"testing"
)

// TestBusyAfterMaxWait: with every slot taken, each kind of hash gives up
// with ErrBusy after MaxWait even though its context never ends, and never
// runs.
func TestBusyAfterMaxWait(t *testing.T) {
	h := New(tiny, 2)
	ran := 0
	h.Observe(func(delta int32) {
		if delta > 0 {
			ran++
		}
	})
	h.sem <- struct{}{} // occupy both slots
	h.sem <- struct{}{}
	enc := "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
	tests := []struct {
		name string
		run  func() error
	}{
		{"Hash", func() error { _, err := h.Hash(context.Background(), "pw"); return err }},
		{"Verify", func() error { _, _, err := h.Verify(context.Background(), enc, "pw"); return err }},
		{"VerifyDummy", func() error { return h.VerifyDummy(context.Background(), "pw") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, ErrBusy) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want ErrBusy from MaxWait", err)
			}
		})
	}
	if ran != 0 {
		t.Errorf("%d hashes ran without a slot", ran)
	}
	<-h.sem
	if err := h.VerifyDummy(context.Background(), "pw"); err != nil || ran != 1 {
		t.Errorf("with a free slot: err %v, ran %d", err, ran)
	}
}
