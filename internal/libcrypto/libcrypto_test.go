//go:build openssl && cgo

package libcrypto

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	keyOnce sync.Once
	key2048 *rsa.PrivateKey
	key3072 *rsa.PrivateKey
)

// testKeys generates the test keys once per test binary.
func testKeys(t testing.TB) (k2048, k3072 *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if key3072, err = rsa.GenerateKey(rand.Reader, 3072); err != nil {
			panic(err)
		}
	})
	return key2048, key3072
}

// goSign is crypto/rsa's RS256 signature, the reference.
func goSign(t testing.TB, priv *rsa.PrivateKey, msg []byte) []byte {
	t.Helper()
	d := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestSignMatchesCryptoRSA(t *testing.T) {
	k2048, k3072 := testKeys(t)
	long := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB, many SHA-256 blocks
	tests := []struct {
		name string
		priv *rsa.PrivateKey
		msg  []byte
	}{
		{"empty", k2048, nil},
		{"jws signing input", k2048, []byte(`eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhdXRoMHwxMjMifQ`)},
		{"one block", k2048, bytes.Repeat([]byte{0xff}, 64)},
		{"64 KiB", k2048, long},
		{"3072-bit key", k3072, []byte("payload")},
	}
	for _, tc := range tests {
		k, err := NewRSAKey(tc.priv)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(tc.name, func(t *testing.T) {
			sig, err := k.SignRS256(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			d := sha256.Sum256(tc.msg)
			if err := rsa.VerifyPKCS1v15(k.Public(), crypto.SHA256, d[:], sig); err != nil {
				t.Fatalf("crypto/rsa rejects the signature: %v", err)
			}
			if want := goSign(t, tc.priv, tc.msg); !bytes.Equal(sig, want) {
				t.Fatalf("signature differs from crypto/rsa's:\n got %x\nwant %x", sig, want)
			}
		})
	}
}

func TestConcurrentSign(t *testing.T) {
	priv, _ := testKeys(t)
	k, err := NewRSAKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 32, 4
	msgs := make([][]byte, goroutines*each)
	want := make([][]byte, len(msgs))
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "message %d", i)
		want[i] = goSign(t, priv, msgs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(msgs))
	for g := range goroutines {
		wg.Go(func() {
			for i := g * each; i < (g+1)*each; i++ {
				sig, err := k.SignRS256(msgs[i])
				if err != nil {
					errs <- err
					continue
				}
				if !bytes.Equal(sig, want[i]) {
					errs <- fmt.Errorf("message %d: wrong signature", i)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestKeysAreFreed drops keys while others sign and collects them, so the
// cleanup that frees their libcrypto memory runs (a double free or a free
// during a call would crash the test binary).
func TestKeysAreFreed(t *testing.T) {
	priv, _ := testKeys(t)
	want := goSign(t, priv, []byte("x"))
	for i := range 20 {
		k, err := NewRSAKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := k.SignRS256([]byte("x"))
		if err != nil || !bytes.Equal(sig, want) {
			t.Fatalf("key %d: %v", i, err)
		}
		runtime.GC()
	}
	runtime.GC()
}

func TestNewRSAKeyRejects(t *testing.T) {
	good, _ := testKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	// altered copies good with f applied to the copy.
	altered := func(f func(k *rsa.PrivateKey)) *rsa.PrivateKey {
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).Set(good.N), E: good.E},
			D: new(big.Int).Set(good.D), Primes: []*big.Int{new(big.Int).Set(good.Primes[0]), new(big.Int).Set(good.Primes[1])}}
		f(k)
		return k
	}
	tests := []struct {
		name string
		priv *rsa.PrivateKey
		want string
	}{
		{"nil", nil, "incomplete key"},
		{"zero", &rsa.PrivateKey{}, "incomplete key"},
		{"public half only", &rsa.PrivateKey{PublicKey: good.PublicKey}, "incomplete key"},
		{"1024 bits", small, "1024-bit modulus"},
		{"wrong private exponent", altered(func(k *rsa.PrivateKey) { k.D.Add(k.D, big.NewInt(2)) }), "libcrypto: import RSA key"},
		{"wrong prime", altered(func(k *rsa.PrivateKey) { k.Primes[0].Add(k.Primes[0], big.NewInt(2)) }), "libcrypto: import RSA key"},
		{"even public exponent", altered(func(k *rsa.PrivateKey) { k.E = 65536 }), "libcrypto: import RSA key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := NewRSAKey(tc.priv)
			if err == nil {
				t.Fatalf("NewRSAKey accepted the key (%v)", k)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestImportDERReportsOpenSSLError checks that a key libcrypto itself
// refuses comes back as an error with OpenSSL's reason, not a crash.
func TestImportDERReportsOpenSSLError(t *testing.T) {
	tests := []struct {
		name string
		der  []byte
		want string
	}{
		{"empty", nil, "empty DER"},
		{"not DER", []byte("not a key at all"), "error:"},
		{"truncated", func() []byte { g, _ := testKeys(t); return marshal(g)[:100] }(), "error:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importDER(tc.der)
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("importDER: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// BenchmarkSign reports signatures per CPU-second of this process
// (user + system, every thread) beside ns/op, since the machine is shared:
// compare that column with `openssl speed rsa2048`, which also divides by
// CPU time.
func BenchmarkSign(b *testing.B) {
	priv, _ := testKeys(b)
	k, err := NewRSAKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("a"), 400) // about a JWS signing input
	signers := []struct {
		name string
		sign func([]byte) ([]byte, error)
	}{
		{"libcrypto", k.SignRS256},
		{"crypto-rsa", func(msg []byte) ([]byte, error) {
			d := sha256.Sum256(msg)
			return rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
		}},
	}
	for _, s := range signers {
		b.Run(s.name, func(b *testing.B) {
			cpu := cpuTime(b)
			for b.Loop() {
				if _, err := s.sign(msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/(cpuTime(b)-cpu), "signs/cpu-s")
		})
		b.Run(s.name+"/parallel", func(b *testing.B) {
			cpu := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.sign(msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/(cpuTime(b)-cpu), "signs/cpu-s")
		})
	}
}

// cpuTime is the CPU time this process used so far, in seconds.
func cpuTime(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func marshal(k *rsa.PrivateKey) []byte { return x509.MarshalPKCS1PrivateKey(k) }
