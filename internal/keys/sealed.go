package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// sealInfo is the HKDF info string of the key that seals opaque access
// tokens; changing it invalidates every sealed token in circulation.
const sealInfo = "latch opaque access tokens v1"

// ErrUnsealable means a token is not one this Manager sealed: malformed, of
// another algorithm, sealed under another master secret, or tampered with.
var ErrUnsealable = errors.New("keys: token does not unseal")

// sealer seals and opens opaque access tokens: compact JWE, "dir" with
// A256GCM (the form Auth0's own opaque access tokens take), under a key
// derived from the master secret, so every instance sharing the secret
// opens every other's tokens and nothing about them is stored.
type sealer struct {
	key []byte
	kid string // names the derived key, so a token sealed under another secret says so
	enc jose.Encrypter
}

// newSealer derives the sealing key from the master secret.
func newSealer(master []byte) (*sealer, error) {
	key, err := hkdf.Key(sha256.New, master, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive token sealing key: %w", err)
	}
	sum := sha256.Sum256(key)
	kid := "at-" + hex.EncodeToString(sum[:6])
	enc, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: kid}, nil)
	if err != nil {
		return nil, fmt.Errorf("keys: token sealer: %w", err)
	}
	return &sealer{key: key, kid: kid, enc: enc}, nil
}

// Seal encrypts payload into a compact JWE (five dot-separated parts) that
// only a Manager with the same master secret can open. Each call draws a
// fresh random nonce.
func (m *Manager) Seal(payload []byte) (string, error) {
	if m.sealer == nil {
		return "", m.sealErr()
	}
	obj, err := m.sealer.enc.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("keys: seal: %w", err)
	}
	return obj.CompactSerialize()
}

// IsSealed reports whether token has the shape of a sealed token (five
// dot-separated parts), without opening it.
func IsSealed(token string) bool { return strings.Count(token, ".") == 4 }

// Open decrypts a token made by Seal and returns its payload, which the
// caller must not modify. Every failure wraps ErrUnsealable.
func (m *Manager) Open(token string) ([]byte, error) {
	if m.sealer == nil {
		return nil, m.sealErr()
	}
	if !IsSealed(token) {
		return nil, fmt.Errorf("%w: not a compact JWE", ErrUnsealable)
	}
	// Opening (go-jose: parsing, a fresh AES key schedule) costs tens of
	// microseconds; a client presents one token many times, so tokens
	// that opened are remembered by digest, like verified JWTs. The
	// sealing key never changes while the Manager lives.
	sum := sha256.Sum256([]byte(token))
	if v, ok := m.opened.get(sum); ok {
		return v.payload, nil
	}
	obj, err := jose.ParseEncryptedCompact(token,
		[]jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsealable, err)
	}
	if obj.Header.KeyID != m.sealer.kid {
		return nil, fmt.Errorf("%w: sealed under another secret (kid %q)", ErrUnsealable, obj.Header.KeyID)
	}
	pt, err := obj.Decrypt(m.sealer.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsealable, err)
	}
	m.opened.put(sum, verifiedToken{kid: m.sealer.kid, alg: string(jose.DIRECT), payload: pt})
	return pt, nil
}

func (m *Manager) sealErr() error {
	if m.err != nil {
		return m.err
	}
	return errors.New("keys: no token sealer")
}
