//go:build !goexperiment.boringcrypto

package keys

// goSignerName names crypto/rsa's implementation in this build.
func goSignerName() string { return "go" }
