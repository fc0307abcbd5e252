//go:build goexperiment.boringcrypto

package keys

import "crypto/boring"

// goSignerName names crypto/rsa's implementation in this build: with
// GOEXPERIMENT=boringcrypto it hands RSA operations to BoringSSL, but only
// where the BoringCrypto module links (linux/amd64 or arm64, with cgo);
// elsewhere the same build quietly stays pure Go, and says so.
func goSignerName() string {
	if boring.Enabled() {
		return "boringcrypto"
	}
	return "go"
}
