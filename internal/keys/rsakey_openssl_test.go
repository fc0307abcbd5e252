//go:build openssl

package keys

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestOpenSSLSigner(t *testing.T) {
	if Signer() != "openssl" {
		t.Fatalf("Signer() = %q in the openssl build", Signer())
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsaSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := key.(jose.OpaqueSigner)
	if !ok {
		t.Fatalf("rsaSigningKey returned %T, want a jose.OpaqueSigner", key)
	}
	if pub, ok := s.Public().Key.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) || !s.Public().IsPublic() {
		t.Fatalf("Public() = %+v", s.Public())
	}
	if algs := s.Algs(); len(algs) != 1 || algs[0] != jose.RS256 {
		t.Fatalf("Algs() = %v", algs)
	}
	for _, alg := range []jose.SignatureAlgorithm{jose.PS256, jose.RS384, jose.ES256, jose.HS256, ""} {
		if _, err := s.SignPayload([]byte("x"), alg); !errors.Is(err, jose.ErrUnsupportedAlgorithm) {
			t.Errorf("SignPayload(%q): %v, want ErrUnsupportedAlgorithm", alg, err)
		}
	}
}

func TestOpenSSLSignerRejectsBadKeys(t *testing.T) {
	good, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		priv *rsa.PrivateKey
	}{
		{"nil", nil},
		{"empty", &rsa.PrivateKey{}},
		{"public half only", &rsa.PrivateKey{PublicKey: good.PublicKey}},
		{"inconsistent primes", &rsa.PrivateKey{PublicKey: good.PublicKey, D: good.D,
			Primes: []*big.Int{new(big.Int).Add(good.Primes[0], big.NewInt(2)), good.Primes[1]}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := rsaSigningKey(tc.priv); err == nil || !strings.Contains(err.Error(), "libcrypto") {
				t.Fatalf("rsaSigningKey: %v, want a libcrypto error", err)
			}
		})
	}
}
