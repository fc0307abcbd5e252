package keys

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// These tests and benchmarks run in every signing build (default,
// GOEXPERIMENT=boringcrypto, -tags openssl): whatever rsaSigningKey
// returns must give exactly crypto/rsa's RS256 bytes.

// rs256Input splits a compact JWS into its signing input and signature.
func rs256Input(t testing.TB, tok string) (input, sig []byte) {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || strings.Count(tok, ".") != 2 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tok[:i]), sig
}

func TestRSASigningKeyMatchesCryptoRSA(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsaSigningKey(priv)
	if err != nil {
		t.Fatalf("rsaSigningKey (signer %s): %v", Signer(), err)
	}
	tests := []struct {
		name, typ string
		payload   []byte
	}{
		{"id token", "JWT", []byte(`{"sub":"auth0|0123456789abcdef01234567","aud":"spa","nonce":"n"}`)},
		{"access token", "at+jwt", []byte(`{"sub":"auth0|abc","scope":"openid profile","aud":["https://api.example.com/"]}`)},
		{"no typ, empty claims", "", []byte(`{}`)},
		{"large payload", "JWT", bytes.Repeat([]byte("x"), 16<<10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The same construction as newSigner.
			opts := &jose.SignerOptions{}
			if tc.typ != "" {
				opts = opts.WithType(jose.ContentType(tc.typ))
			}
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, opts)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := s.Sign(tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jws.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			input, sig := rs256Input(t, tok)
			h := header(t, tok)
			if h["alg"] != "RS256" || h["kid"] != "k1" || (tc.typ != "" && h["typ"] != tc.typ) || len(h) != 2+min(1, len(tc.typ)) {
				t.Fatalf("header %v", h)
			}
			d := sha256.Sum256(input)
			want, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sig, want) {
				t.Fatalf("signer %s: signature differs from crypto/rsa's", Signer())
			}
		})
	}
}

// rs256PublicKey is the RS256 key of m's JWKS.
func rs256PublicKey(t testing.TB, m *Manager) *rsa.PublicKey {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if pub, ok := k.Key.(*rsa.PublicKey); ok && k.Algorithm == RS256 {
			return pub
		}
	}
	t.Fatalf("no RS256 key in %s", m.JWKS())
	return nil
}

func TestSignConcurrently(t *testing.T) {
	m := sharedManager(t)
	pub := rs256PublicKey(t, m)
	const goroutines, each = 32, 3
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				tok, err := m.Sign(testClaims{Sub: fmt.Sprintf("auth0|%d-%d", g, i), Exp: 2000000000})
				if err != nil {
					errs <- err
					continue
				}
				input, sig := rs256Input(t, tok)
				d := sha256.Sum256(input)
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig); err != nil {
					errs <- fmt.Errorf("token %d-%d: %w", g, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSignerName(t *testing.T) {
	switch s := Signer(); s {
	case "go", "boringcrypto", "openssl":
	default:
		t.Fatalf("Signer() = %q", s)
	}
}

// BenchmarkSignParallel is BenchmarkSign on every core, as a server signs;
// the sub-benchmark is named for the signer. signs/cpu-s is per CPU-second
// of this process, comparable with `openssl speed rsa2048` on a shared
// machine.
func BenchmarkSignParallel(b *testing.B) {
	m := sharedManager(b)
	claims := testClaims{Sub: "auth0|0123456789abcdef01234567", Exp: 2000000000}
	b.Run(Signer(), func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuSeconds(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.Sign(claims); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/(cpuSeconds(b)-cpu), "signs/cpu-s")
	})
}

// BenchmarkRS256 is one RS256 signature through go-jose with this build's
// signer, without the Manager.
func BenchmarkRS256(b *testing.B) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	key, err := rsaSigningKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"iss":"http://127.0.0.1:1000/","sub":"auth0|0123456789abcdef01234567","aud":["https://api.bench.latch/"],"exp":2000000000}`)
	b.Run(Signer(), func(b *testing.B) {
		cpu := cpuSeconds(b)
		for b.Loop() {
			if _, err := s.Sign(payload); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/(cpuSeconds(b)-cpu), "signs/cpu-s")
	})
}

// cpuSeconds is the CPU time (user + system, all threads) this process
// used so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
