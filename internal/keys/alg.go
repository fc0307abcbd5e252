package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// The signing algorithms latch has keys for (RFC 7518 §3.1; EdDSA is
// Ed25519, RFC 8037 §3.1). ID tokens are always RS256, which Auth0 SDKs
// require; an API's access tokens may use any of the three.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RSA-2048 keys
	ES256 = "ES256" // ECDSA with SHA-256 over P-256
	EdDSA = "EdDSA" // Ed25519
)

// algs is every supported algorithm in JWKS order: RS256 keys come first,
// so a client that (wrongly) takes the first key of the set, as if it were
// Auth0's RSA-only JWKS, still gets an RSA key.
var algs = [...]string{RS256, ES256, EdDSA}

// Algorithms returns the supported signing algorithms, RS256 first.
func Algorithms() []string { return slices.Clone(algs[:]) }

// Supported reports whether alg names an algorithm latch signs with.
func Supported(alg string) bool { return algIndex(alg) >= 0 }

// algIndex is alg's position in algs, or -1.
func algIndex(alg string) int {
	for i, a := range algs {
		if a == alg {
			return i
		}
	}
	return -1
}

// joseAlg is alg as go-jose names it.
func joseAlg(alg string) jose.SignatureAlgorithm { return jose.SignatureAlgorithm(alg) }

// newPrivateKey generates a key for alg.
func newPrivateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, fmt.Errorf("keys: generate RSA key: %w", err)
		}
		return k, nil
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generate P-256 key: %w", err)
		}
		return k, nil
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generate Ed25519 key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
}

// checkKeyType reports whether key, parsed from a stored PKCS#8 blob, is
// the kind of key alg signs with.
func checkKeyType(alg string, key any) bool {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return alg == RS256
	case *ecdsa.PrivateKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		return alg == EdDSA
	}
	return false
}

// signingKeyFor is what go-jose signs alg with for priv. RSA goes through
// rsaSigningKey, so a build variant can supply its own RSA signer; go's
// ECDSA and Ed25519 are already fast enough (tens of microseconds).
func signingKeyFor(alg string, priv crypto.Signer) (any, error) {
	if alg == RS256 {
		rk, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("keys: %T is not an RSA key", priv)
		}
		return rsaSigningKey(rk)
	}
	return priv, nil
}
