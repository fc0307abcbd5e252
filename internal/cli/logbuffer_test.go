package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the timer's goroutine.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogBuffer(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		flush bool // call Flush instead of waiting for the timer
		// wantWrites is the number of writes to the destination (0: any)
		wantWrites int
	}{
		{"lines written together on flush", []string{"a=1\n", "b=2\n", "c=3\n"}, true, 1},
		{"lines written by the timer", []string{"a=1\n", "b=2\n"}, false, 0},
		{"a line larger than the buffer", []string{"x\n", strings.Repeat("y", logBufferSize+1) + "\n"}, true, 2},
		{"nothing to write", nil, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dst lockedBuffer
			// A long delay for the Flush cases keeps the timer out of them.
			delay := time.Hour
			if !tc.flush {
				delay = time.Millisecond
			}
			b := newLogBuffer(&dst, delay)
			for _, l := range tc.lines {
				if n, err := b.Write([]byte(l)); n != len(l) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			want := strings.Join(tc.lines, "")
			if tc.flush {
				if err := b.Flush(); err != nil {
					t.Fatal(err)
				}
			} else {
				for deadline := time.Now().Add(10 * time.Second); dst.String() != want && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			}
			if got := dst.String(); got != want {
				t.Fatalf("destination has %d bytes, want %d", len(got), len(want))
			}
			if tc.wantWrites > 0 && dst.writes != tc.wantWrites {
				t.Errorf("%d writes to the destination, want %d", dst.writes, tc.wantWrites)
			}
		})
	}
}

// TestLogBufferConcurrent checks that concurrent lines stay whole.
func TestLogBufferConcurrent(t *testing.T) {
	var dst lockedBuffer
	b := newLogBuffer(&dst, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				fmt.Fprintf(b, "goroutine=%d line=%d %s\n", g, i, strings.Repeat("x", 200))
			}
		}()
	}
	wg.Wait()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(dst.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "goroutine=") || !strings.HasSuffix(l, strings.Repeat("x", 200)) {
			t.Fatalf("torn line %q", l)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestLogBufferReportsWriteError(t *testing.T) {
	b := newLogBuffer(failingWriter{}, time.Hour)
	if _, err := b.Write([]byte("a\n")); err != nil {
		t.Fatalf("Write = %v, want the error deferred to Flush", err)
	}
	if err := b.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush = %v, want the write error", err)
	}
}
