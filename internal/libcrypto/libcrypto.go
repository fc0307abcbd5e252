//go:build openssl && cgo

package libcrypto

/*
#cgo pkg-config: libcrypto
#include <openssl/opensslv.h>
#if !defined(OPENSSL_VERSION_MAJOR) || OPENSSL_VERSION_MAJOR < 3
#error "latch's openssl build needs OpenSSL 3.0 or later (Debian: apt-get install libssl-dev)"
#endif
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

// Error codes of this file's own, outside OpenSSL's packed codes (which
// never have all of the top bits set).
#define LATCH_ERR_UNKNOWN ((unsigned long)-1)
#define LATCH_ERR_SIZE ((unsigned long)-2)

// latch_rsa is one imported key. Nothing in it changes after
// latch_rsa_new, so any number of threads may sign with it at once: each
// call works on its own copy of the template context.
typedef struct {
	EVP_PKEY *pkey;
	EVP_MD_CTX *tmpl; // EVP_DigestSignInit_ex'd for SHA-256, PKCS#1 v1.5
	size_t size;      // signature length: the modulus' bytes
} latch_rsa;

typedef struct {
	latch_rsa *key;
	unsigned long err;
} latch_rsa_result;

// latch_err takes the first error of this thread's queue (the cause; the
// rest are callers reporting it) and empties the queue. It is called in the
// same C call as the failing function: a goroutine may run on another
// thread, with another queue, by its next call.
static unsigned long latch_err(void) {
	unsigned long e = ERR_get_error();
	ERR_clear_error();
	return e != 0 ? e : LATCH_ERR_UNKNOWN;
}

static void latch_rsa_free(latch_rsa *k) {
	if (k == NULL) return;
	EVP_MD_CTX_free(k->tmpl);
	EVP_PKEY_free(k->pkey);
	OPENSSL_free(k);
}

// latch_rsa_new imports a PKCS#1 RSAPrivateKey (DER) and prepares the
// signing context once, so that no signature looks up a provider, the
// digest or the signature algorithm: each copies the prepared context.
static latch_rsa_result latch_rsa_new(const unsigned char *der, long len) {
	latch_rsa_result r = {NULL, 0};
	const unsigned char *p = der;
	ERR_clear_error();
	latch_rsa *k = OPENSSL_zalloc(sizeof *k);
	if (k == NULL) goto fail;
	k->pkey = d2i_PrivateKey_ex(EVP_PKEY_RSA, NULL, &p, len, NULL, NULL);
	if (k->pkey == NULL) goto fail;
	if (EVP_PKEY_get_size(k->pkey) <= 0) goto fail;
	k->size = (size_t)EVP_PKEY_get_size(k->pkey);

	EVP_PKEY_CTX *pctx = NULL;
	k->tmpl = EVP_MD_CTX_new();
	if (k->tmpl == NULL) goto fail;
	if (EVP_DigestSignInit_ex(k->tmpl, &pctx, "SHA256", NULL, NULL, k->pkey, NULL) != 1) goto fail;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) goto fail;
	// Without FINALISE, EVP_DigestSignFinal signs on a duplicate of the
	// context to keep it usable; each call's copy is used once.
	EVP_MD_CTX_set_flags(k->tmpl, EVP_MD_CTX_FLAG_FINALISE);
	r.key = k;
	return r;
fail:
	r.err = latch_err();
	latch_rsa_free(k);
	return r;
}

// latch_rsa_sign signs msg with EVP_DigestSign (SHA-256 in libcrypto) into
// sig, which has k->size bytes.
static unsigned long latch_rsa_sign(const latch_rsa *k, const unsigned char *msg, size_t n, unsigned char *sig) {
	unsigned long e = 0;
	size_t siglen = k->size;
	ERR_clear_error();
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c == NULL || EVP_MD_CTX_copy_ex(c, k->tmpl) != 1 || EVP_DigestSign(c, sig, &siglen, msg, n) != 1) {
		e = latch_err();
	} else if (siglen != k->size) {
		e = LATCH_ERR_SIZE;
	}
	EVP_MD_CTX_free(c);
	return e;
}
*/
import "C"

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// MinBits is the smallest modulus NewRSAKey accepts: RS256 keys must be
// 2048 bits or larger (RFC 7518 §3.3).
const MinBits = 2048

// Key is an RSA private key imported into libcrypto. It is safe for
// concurrent use; its libcrypto memory is freed once the Key is garbage.
type Key struct {
	c   *C.latch_rsa
	pub rsa.PublicKey
}

// NewRSAKey checks priv and imports it into libcrypto once.
func NewRSAKey(priv *rsa.PrivateKey) (*Key, error) {
	if priv == nil || priv.N == nil || priv.D == nil || len(priv.Primes) < 2 {
		return nil, errors.New("libcrypto: import RSA key: incomplete key")
	}
	if priv.N.BitLen() < MinBits {
		return nil, fmt.Errorf("libcrypto: import RSA key: %d-bit modulus, RS256 needs at least %d", priv.N.BitLen(), MinBits)
	}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("libcrypto: import RSA key: %w", err)
	}
	der := x509.MarshalPKCS1PrivateKey(priv)
	defer clear(der) // the private key's only copy outside priv and libcrypto
	k, err := importDER(der)
	if err != nil {
		return nil, err
	}
	if int(k.c.size) != priv.Size() {
		return nil, fmt.Errorf("libcrypto: import RSA key: signature size %d, want %d", k.c.size, priv.Size())
	}
	k.pub = rsa.PublicKey{N: priv.N, E: priv.E}
	return k, nil
}

// importDER hands a PKCS#1 RSAPrivateKey to libcrypto.
func importDER(der []byte) (*Key, error) {
	if len(der) == 0 {
		return nil, errors.New("libcrypto: import RSA key: empty DER")
	}
	r := C.latch_rsa_new((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	if r.key == nil {
		return nil, fmt.Errorf("libcrypto: import RSA key: %w", libError(r.err))
	}
	k := &Key{c: r.key}
	runtime.AddCleanup(k, func(c *C.latch_rsa) { C.latch_rsa_free(c) }, k.c)
	return k, nil
}

// Public returns the key's public half.
func (k *Key) Public() *rsa.PublicKey { return &k.pub }

// SignRS256 returns the RSASSA-PKCS1-v1_5 signature of SHA-256(msg)
// (RFC 8017 §8.2), the same bytes crypto/rsa.SignPKCS1v15 returns.
func (k *Key) SignRS256(msg []byte) ([]byte, error) {
	sig := make([]byte, int(k.c.size))
	var zero [1]byte
	p := zero[:]
	if len(msg) > 0 {
		p = msg
	}
	e := C.latch_rsa_sign(k.c, (*C.uchar)(unsafe.Pointer(&p[0])), C.size_t(len(msg)), (*C.uchar)(unsafe.Pointer(&sig[0])))
	runtime.KeepAlive(k) // the cleanup must not free k.c during the call
	if e != 0 {
		return nil, fmt.Errorf("libcrypto: sign: %w", libError(e))
	}
	return sig, nil
}

// libError turns an error code from this file's C functions into an
// error with OpenSSL's text for it.
func libError(code C.ulong) error {
	switch code {
	case C.LATCH_ERR_UNKNOWN:
		return errors.New("libcrypto failed without an error code")
	case C.LATCH_ERR_SIZE:
		return errors.New("libcrypto returned a signature of the wrong length")
	}
	var buf [256]C.char
	C.ERR_error_string_n(code, &buf[0], C.size_t(len(buf)))
	return errors.New(C.GoString(&buf[0]))
}
