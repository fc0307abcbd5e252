package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVerifyCache: a token verified once is served from the cache, but
// only while its key is published, and only for exactly its bytes.
func TestVerifyCache(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st := &memKeys{}
	m := NewManager(st, testMaster, Options{Now: clk.Now})
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	kid := m.CurrentKeyID()
	tok, err := m.Sign(testClaims{Sub: "auth0|abc", Exp: 42})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + b64(`{"sub":"auth0|admin","exp":42}`) + "." + parts[2]

	steps := []struct {
		name    string
		before  func()
		token   string
		wantErr bool
		wantSub string
	}{
		{"first verification", nil, tok, false, "auth0|abc"},
		{"second verification, from the cache", nil, tok, false, "auth0|abc"},
		{"tampered payload with the cached signature", nil, tampered, true, ""},
		{"key retired after the token was cached", func() {
			if err := st.SetSigningKeyExpiry(ctx, kid, clk.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := m.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Advance(2 * time.Minute)
		}, tok, true, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before()
			}
			var c testClaims
			err := m.Verify(s.token, &c)
			if s.wantErr {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("Verify = %v, want ErrInvalidToken", err)
				}
				return
			}
			if err != nil || c.Sub != s.wantSub || c.Exp != 42 {
				t.Fatalf("Verify = %v, claims %+v", err, c)
			}
			if _, ok := m.verified.get(sha256.Sum256([]byte(s.token))); !ok {
				t.Error("the verified token is not in the cache")
			}
		})
	}
}

func TestVerifiedCacheIsBounded(t *testing.T) {
	var c verifiedCache
	for i := range verifiedCap + 100 {
		c.put(sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)}), verifiedToken{kid: "k"})
	}
	if n := len(c.m); n != verifiedCap {
		t.Fatalf("%d entries, want %d", n, verifiedCap)
	}
}

// BenchmarkVerifyUncached is Verify's full check (parse, RSA public
// operation); BenchmarkVerify, which repeats one token, measures the cache.
func BenchmarkVerifyUncached(b *testing.B) {
	m := sharedManager(b)
	tok, _ := m.Sign(testClaims{Sub: "auth0|0123456789abcdef01234567", Exp: 2000000000})
	b.ReportAllocs()
	for b.Loop() {
		m.verified.mu.Lock()
		m.verified.m = nil
		m.verified.mu.Unlock()
		var c testClaims
		if err := m.Verify(tok, &c); err != nil {
			b.Fatal(err)
		}
	}
}
