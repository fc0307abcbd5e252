package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// tiny keeps the tests fast; the format and logic do not depend on cost.
var tiny = Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashFormat(t *testing.T) {
	h := New(DefaultParams, 1)
	enc, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q, want $argon2id$v=19$m=19456,t=2,p=1$ prefix", enc)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("Hash = %q: want 22-char salt and 43-char hash", enc)
	}
	enc2, _ := h.Hash(context.Background(), "correct horse")
	if enc2 == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	h := New(tiny, 2)
	argon, err := h.Hash(ctx, "s3cret pässword")
	if err != nil {
		t.Fatal(err)
	}
	otherParams, err := New(Params{Memory: 128, Time: 2, Threads: 2, KeyLen: 32, SaltLen: 16}, 1).Hash(ctx, "s3cret pässword")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("imported pw"), 10)
	if err != nil {
		t.Fatal(err)
	}
	bcY := "$2y$" + string(bc[4:])

	tests := []struct {
		name        string
		encoded, pw string
		ok, rehash  bool
		wantErr     error
	}{
		{name: "argon2id match", encoded: argon, pw: "s3cret pässword", ok: true},
		{name: "argon2id wrong password", encoded: argon, pw: "s3cret passw0rd"},
		{name: "argon2id empty password", encoded: argon, pw: ""},
		{name: "argon2id other params match", encoded: otherParams, pw: "s3cret pässword", ok: true, rehash: true},
		{name: "argon2id other params wrong", encoded: otherParams, pw: "nope"},
		{name: "bcrypt 2a match", encoded: string(bc), pw: "imported pw", ok: true, rehash: true},
		{name: "bcrypt 2y match", encoded: bcY, pw: "imported pw", ok: true, rehash: true},
		{name: "bcrypt wrong password", encoded: string(bc), pw: "imported PW"},
		{name: "empty hash", encoded: "", pw: "x", wantErr: ErrUnknownFormat},
		{name: "plain text", encoded: "hunter2", pw: "hunter2", wantErr: ErrUnknownFormat},
		{name: "argon2i", encoded: "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", pw: "x", wantErr: ErrUnknownFormat},
		{name: "md5 crypt", encoded: "$1$abc$def", pw: "x", wantErr: ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.encoded, tt.pw)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if ok != tt.ok || rehash != tt.rehash {
				t.Fatalf("Verify = (%v, %v), want (%v, %v)", ok, rehash, tt.ok, tt.rehash)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := New(tiny, 1)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), 4)

	tests := map[string]string{
		"argon2id only":       "$argon2id$",
		"missing hash":        "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"extra field":         good + "$x",
		"version 16":          "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":          "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"params out of order": "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"negative time":       "$argon2id$v=19$m=64,t=-1,p=1$" + salt + "$" + key,
		"zero time":           "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":        "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"300 threads":         "$argon2id$v=19$m=4096,t=1,p=300$" + salt + "$" + key,
		"huge memory":         "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"overflow memory":     "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key,
		"huge time":           "$argon2id$v=19$m=64,t=4000000000,p=1$" + salt + "$" + key,
		"leading zero":        "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"empty param":         "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key,
		"bad salt base64":     "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key,
		"short salt":          "$argon2id$v=19$m=64,t=1,p=1$YWJj$" + key,
		"padded hash":         "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "=",
		"empty hash":          "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"bcrypt truncated":    string(bc[:40]),
		"bcrypt cost 31":      "$2b$31$" + string(bc[7:]),
		"bcrypt cost xx":      "$2b$xx$" + string(bc[7:]),
		"bcrypt bad salt":     "$2b$04$" + strings.Repeat("!", 53),
		"bcrypt too long":     string(bc) + "a",
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), enc, "pw")
			if err == nil || ok || rehash {
				t.Fatalf("Verify(%q) = (%v, %v, %v), want error", enc, ok, rehash, err)
			}
		})
	}
}

func TestVerifyDummy(t *testing.T) {
	h := New(tiny, 1)
	h.VerifyDummy(context.Background(), "anything")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.VerifyDummy(ctx, "anything") // returns without hashing; must not block or panic
}

func TestContextWhileWaiting(t *testing.T) {
	h := New(tiny, 1)
	h.sem <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := h.Hash(ctx, "pw")
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash err = %v, want ErrBusy wrapping DeadlineExceeded", err)
	}
	_, _, err = h.Verify(ctx, "$2b$04$"+strings.Repeat("a", 53), "pw")
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify err = %v, want ErrBusy", err)
	}
	<-h.sem
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatalf("Hash after release: %v", err)
	}
}

func TestConcurrencyBounded(t *testing.T) {
	const limit, workers = 3, 40
	h := New(tiny, limit)
	var inFlight, peak atomic.Int32
	h.track = func(delta int32) {
		n := inFlight.Add(delta)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if delta > 0 {
			time.Sleep(time.Millisecond) // widen the window so overlaps show
		}
	}
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = h.Hash(context.Background(), "pw")
			case 1:
				_, _, err = h.Verify(context.Background(), enc, "pw")
			default:
				h.VerifyDummy(context.Background(), "pw")
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != limit {
		t.Fatalf("peak hashes in flight = %d, want %d (the limit, reached with %d workers)", p, limit, workers)
	}
	if n := inFlight.Load(); n != 0 {
		t.Fatalf("%d hashes still counted in flight after all returned", n)
	}
}

func TestNewDefaults(t *testing.T) {
	h := New(Params{Memory: 64}, 0)
	if cap(h.sem) < 1 {
		t.Fatalf("maxConcurrent 0 gave %d slots", cap(h.sem))
	}
	want := Params{Memory: 64, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
	if h.Params() != want {
		t.Fatalf("Params = %+v, want zero fields defaulted: %+v", h.Params(), want)
	}
}

func TestCheckPolicy(t *testing.T) {
	tests := []struct {
		name, pw string
		min      int
		wantErr  string
	}{
		{name: "ok", pw: "longenough", min: 8},
		{name: "exact min", pw: "12345678", min: 8},
		{name: "runes not bytes", pw: "ääää", min: 4},
		{name: "runes short", pw: "äää", min: 4, wantErr: "too short"},
		{name: "empty", pw: "", min: 8, wantErr: "required"},
		{name: "short", pw: "1234567", min: 8, wantErr: "at least 8"},
		{name: "blank", pw: "          ", min: 8, wantErr: "blank"},
		{name: "tabs", pw: "\t\t\t\t\n\n\n\n", min: 8, wantErr: "blank"},
		{name: "max bytes", pw: strings.Repeat("a", 1024), min: 8},
		{name: "too long", pw: strings.Repeat("a", 1025), min: 8, wantErr: "too long"},
		{name: "min zero", pw: "a", min: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPolicy(tt.pw, tt.min)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckPolicy = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckPolicy = %v, want *PolicyError containing %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	h := New(tiny, 2)
	good, _ := h.Hash(context.Background(), "pw")
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	for _, s := range []string{good, string(bc), "", "$argon2id$", "$2b$", "$argon2id$v=19$m=64,t=1,p=1$$", "$2y$04$" + strings.Repeat(".", 53)} {
		f.Add(s, "pw")
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		ok, rehash, err := h.Verify(context.Background(), encoded, pw)
		if err != nil && (ok || rehash) {
			t.Fatalf("Verify(%q) = (%v, %v, %v): ok or rehash with an error", encoded, ok, rehash, err)
		}
		if !ok && rehash {
			t.Fatalf("Verify(%q): needsRehash without a match", encoded)
		}
	})
}

func BenchmarkHash(b *testing.B) {
	h := New(DefaultParams, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
