package keys

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestSealedTokenRoundTrip(t *testing.T) {
	m := NewManager(&memKeys{}, testMaster, Options{})
	payload := []byte(`{"sub":"auth0|1","gid":"g"}`)
	tok, err := m.Seal(payload)
	if err != nil {
		t.Fatal(err)
	}
	if !IsSealed(tok) || strings.Contains(tok, "auth0") {
		t.Fatalf("sealed token %q", tok)
	}
	again, err := m.Seal(payload)
	if err != nil || again == tok {
		t.Fatalf("second seal %q, %v: want a different token (fresh nonce)", again, err)
	}
	// Opened twice (the second from the cache), by a Manager with the same
	// secret (another instance), never by one with another.
	for i, opener := range []*Manager{m, m, NewManager(&memKeys{}, testMaster, Options{})} {
		got, err := opener.Open(tok)
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("open %d: %q, %v", i, got, err)
		}
	}
	other := NewManager(&memKeys{}, bytes.Repeat([]byte("x"), len(testMaster)), Options{})
	if _, err := other.Open(tok); !errors.Is(err, ErrUnsealable) {
		t.Fatalf("other secret: %v, want ErrUnsealable", err)
	}
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"JWT shape", "a.b.c"},
		{"five empty parts", "...."},
		{"six parts", tok + ".x"},
		{"tag cut", tok[:len(tok)-4]},
		{"ciphertext changed", swapAt(tok, strings.LastIndexByte(tok, '.')-3)},
		{"header changed", swapAt(tok, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.Open(tt.token); !errors.Is(err, ErrUnsealable) {
				t.Fatalf("Open = %v, want ErrUnsealable", err)
			}
		})
	}
}

// swapAt changes one base64url character of s.
func swapAt(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// The sealer is shared by every request: Seal and Open run concurrently
// (go test -race).
func TestSealedTokenConcurrent(t *testing.T) {
	m := NewManager(&memKeys{}, testMaster, Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				p := []byte{byte(g), byte(i)}
				tok, err := m.Seal(p)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := m.Open(tok)
				if err != nil || !bytes.Equal(got, p) {
					t.Errorf("round trip %v: %v, %v", p, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
