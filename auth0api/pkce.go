package auth0api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// NewVerifier returns a PKCE code verifier (RFC 7636 §4.1): 32 random
// bytes, base64url-encoded without padding, 43 characters of the unreserved
// set.
func NewVerifier() string { return random(32) }

// ChallengeS256 returns the S256 code challenge of a verifier (RFC 7636
// §4.2): BASE64URL(SHA256(ASCII(verifier))), 43 characters.
func ChallengeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewState returns a random state value for the authorization request
// (RFC 6749 §10.12): 256 bits, base64url.
func NewState() string { return random(32) }

// NewNonce returns a random nonce for an ID token (OIDC Core §3.1.2.1):
// 256 bits, base64url.
func NewNonce() string { return random(32) }

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
