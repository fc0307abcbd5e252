//go:build openssl && !cgo

package libcrypto

// The openssl build signs through the system's libcrypto with cgo. Built
// with CGO_ENABLED=0 it would have no signer at all, so it stops here with
// an error that names the cause: build with CGO_ENABLED=1 (and a C compiler
// and libssl-dev installed), or drop -tags openssl for the pure-Go build.
var _ = latch_openssl_build_needs_cgo__set_CGO_ENABLED_1_or_drop_tags_openssl
