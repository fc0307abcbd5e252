// Package keys manages latch's signing keys: RS256 (RSA-2048) for ID tokens
// and by default for access tokens, and ES256 (P-256) and EdDSA (Ed25519)
// for APIs configured with them. It covers creation on first start (or when
// a configuration first names an algorithm), AES-256-GCM encryption of the
// private half under the master secret, per-algorithm rotation (`latch keys
// rotate`), the published JWKS, signing of JWTs with each algorithm's
// current key, and verification that holds every token to its key's own
// algorithm.
package keys
