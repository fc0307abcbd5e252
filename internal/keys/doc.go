// Package keys manages latch's RS256 signing keys: creation on first start,
// AES-256-GCM encryption of the private half under the master secret,
// rotation (`latch keys rotate`), the published JWKS, and signing of JWTs
// with the current key.
package keys
