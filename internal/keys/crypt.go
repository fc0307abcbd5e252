package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latch-auth/latch/internal/store"
)

// Algorithm is the algorithm of ID tokens and everything else latch signs,
// and the default for access tokens.
const Algorithm = RS256

// rsaBits is the modulus size of new keys.
const rsaBits = 2048

// kekInfo is the HKDF info string (RFC 5869 §3.2); changing it would make
// every stored key undecryptable, so a new scheme needs a new string.
const kekInfo = "latch signing keys v1"

// ErrWrongSecret means a stored signing key does not decrypt under the
// master secret in use.
var ErrWrongSecret = errors.New("wrong LATCH_SECRET or secret file?")

// deriveKEK derives the AES-256 key-encryption key from the master secret.
func deriveKEK(master []byte) ([]byte, error) {
	if len(master) < MinSecretLen {
		return nil, fmt.Errorf("keys: master secret is %d bytes, need at least %d", len(master), MinSecretLen)
	}
	kek, err := hkdf.Key(sha256.New, master, nil, kekInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive key encryption key: %w", err)
	}
	return kek, nil
}

// seal encrypts plaintext with AES-256-GCM under kek; the key id is the
// additional data, so a sealed key copied onto another row will not open.
// The result is nonce || ciphertext || tag.
func seal(kek []byte, kid string, plaintext []byte) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: read nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, []byte(kid)), nil
}

// open reverses seal. Any failure is ErrWrongSecret: a GCM tag mismatch
// cannot tell a wrong secret from a damaged row, and the secret is by far
// the likelier cause.
func open(kek []byte, kid string, sealed []byte) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("signing key %s cannot be decrypted (ciphertext too short): %w", kid, ErrWrongSecret)
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("signing key %s cannot be decrypted: %w", kid, ErrWrongSecret)
	}
	return pt, nil
}

func newAEAD(kek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return aead, nil
}

// generate makes a new key for alg and its stored form. The kid is the
// RFC 7638 JWK thumbprint (SHA-256, base64url), so it is unique and needs
// no coordination between instances. Every algorithm's private key is
// stored the same way: PKCS#8 DER sealed under the KEK.
func generate(kek []byte, alg string, now, notBefore time.Time) (*store.SigningKey, crypto.Signer, error) {
	priv, err := newPrivateKey(alg)
	if err != nil {
		return nil, nil, err
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: thumbprint: %w", err)
	}
	pub.KeyID = b64url(tp)
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: marshal public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	sealed, err := seal(kek, pub.KeyID, der)
	if err != nil {
		return nil, nil, err
	}
	return &store.SigningKey{
		ID:               pub.KeyID,
		Algorithm:        alg,
		EncryptedPrivate: sealed,
		PublicJWK:        pubJSON,
		CreatedAt:        now,
		NotBefore:        notBefore,
	}, priv, nil
}

// decrypt opens a stored key and checks that it is a key of its algorithm.
func decrypt(kek []byte, k *store.SigningKey) (crypto.Signer, error) {
	if !Supported(k.Algorithm) {
		return nil, fmt.Errorf("signing key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	der, err := open(kek, k.ID, k.EncryptedPrivate)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: parse private key: %w", k.ID, err)
	}
	if !checkKeyType(k.Algorithm, parsed) {
		return nil, fmt.Errorf("signing key %s: %T is not a %s key", k.ID, parsed, k.Algorithm)
	}
	return parsed.(crypto.Signer), nil
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
