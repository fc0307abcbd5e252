//go:build openssl

package keys

import (
	"crypto/rsa"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/latch-auth/latch/internal/libcrypto"
)

// Signer names the RS256 implementation this build signs with: "openssl",
// the system's libcrypto through internal/libcrypto (built with -tags
// openssl; see README "Faster signing builds").
func Signer() string { return "openssl" }

// rsaSigningKey imports priv into libcrypto once and returns a
// jose.OpaqueSigner over it, so go-jose builds the JWS and libcrypto
// computes the signature.
func rsaSigningKey(priv *rsa.PrivateKey) (any, error) {
	k, err := libcrypto.NewRSAKey(priv)
	if err != nil {
		return nil, err
	}
	return &opensslSigner{key: k, pub: &jose.JSONWebKey{Key: k.Public(), Algorithm: string(jose.RS256), Use: "sig"}}, nil
}

// opensslSigner is a jose.OpaqueSigner that signs RS256 with libcrypto.
// It holds no mutable state, so one serves every goroutine.
type opensslSigner struct {
	key *libcrypto.Key
	pub *jose.JSONWebKey
}

var _ jose.OpaqueSigner = (*opensslSigner)(nil)

// Public returns the public half as a JWK.
func (s *opensslSigner) Public() *jose.JSONWebKey { return s.pub }

// Algs returns the one algorithm this signer has: RS256.
func (s *opensslSigner) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.RS256}
}

// SignPayload signs the JWS signing input (RFC 7515 §5.1) with RS256.
func (s *opensslSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.RS256 {
		return nil, fmt.Errorf("keys: openssl signer: %w: %s", jose.ErrUnsupportedAlgorithm, alg)
	}
	return s.key.SignRS256(payload)
}
