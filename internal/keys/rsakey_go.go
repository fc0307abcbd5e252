//go:build !openssl

package keys

import "crypto/rsa"

// Signer names the RS256 implementation this build signs with: "go"
// (crypto/rsa) or, built with GOEXPERIMENT=boringcrypto, "boringcrypto"
// (crypto/rsa hands the operation to BoringSSL).
func Signer() string { return goSignerName() }

// rsaSigningKey returns what go-jose signs RS256 with for priv: in this
// build, priv itself, so crypto/rsa does the work.
func rsaSigningKey(priv *rsa.PrivateKey) (any, error) { return priv, nil }
