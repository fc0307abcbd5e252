//go:build goexperiment.boringcrypto

package keys

// goSignerName names crypto/rsa's implementation in this build: with
// GOEXPERIMENT=boringcrypto it hands RSA operations to BoringSSL.
func goSignerName() string { return "boringcrypto" }
