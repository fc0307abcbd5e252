// Package libcrypto is a minimal cgo binding to the system's OpenSSL 3
// libcrypto: it signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518
// §3.3) with an RSA key imported once, for latch's faster-signing build.
//
// It exists only in builds with the "openssl" tag and cgo enabled
// (go build -tags openssl ./cmd/latch); it needs a C compiler and
// OpenSSL's headers (Debian: libssl-dev). A build with the tag but with
// CGO_ENABLED=0 fails to compile rather than silently signing in pure Go.
// No maintained binding is served by the Go module proxy, so this one is
// kept to the few calls latch needs.
package libcrypto
