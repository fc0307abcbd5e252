package keys

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// MaxTokenLen bounds the input Verify will parse.
const MaxTokenLen = 64 << 10

// ErrInvalidToken wraps every Verify failure: malformed, wrong algorithm,
// unknown or retired kid, bad signature, or a payload that does not decode.
var ErrInvalidToken = errors.New("keys: invalid token")

// allowedAlgs is the only "alg" Verify accepts; "none" and HMAC algorithms
// fail in parsing (RFC 8725 §3.1).
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256}

// Sign returns claims, marshalled with encoding/json, as an RS256 compact JWS
// (RFC 7515 §7.1) with header kid and typ "JWT", signed with the current key.
func (m *Manager) Sign(claims any) (string, error) {
	return m.SignWithType(claims, "JWT")
}

// SignWithType is Sign with another typ header, e.g. "at+jwt" for access
// tokens (RFC 9068 §2.1); "" omits typ.
func (m *Manager) SignWithType(claims any, typ string) (string, error) {
	e, err := m.signingKey(m.opts.Now())
	if err != nil {
		return "", err
	}
	signer := e.jwt
	if typ != "JWT" {
		if signer, err = e.signerFor(typ); err != nil {
			return "", err
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: marshal claims: %w", err)
	}
	// An RSA-2048 signature is the longest stretch of CPU work a request
	// does (about a millisecond). Yield first, so that a goroutine this one
	// just woke, typically one handed the database's single write
	// connection, runs now rather than after the signature: otherwise the
	// connection sits idle while it waits for a core, and every other
	// writer queues behind it (the load benchmark showed cores idle and
	// token requests waiting on the write connection).
	runtime.Gosched()
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("keys: serialize: %w", err)
	}
	return tok, nil
}

// signerFor returns the cached signer for a typ other than "JWT".
func (mat *material) signerFor(typ string) (jose.Signer, error) {
	if s, ok := mat.typed.Load(typ); ok {
		return s.(jose.Signer), nil
	}
	s, err := newSigner(mat.priv, mat.jwk.KeyID, typ)
	if err != nil {
		return nil, err
	}
	actual, _ := mat.typed.LoadOrStore(typ, s)
	return actual.(jose.Signer), nil
}

// signingKey returns the key that signs at now.
func (m *Manager) signingKey(now time.Time) (*entry, error) {
	ks := m.set.Load()
	if ks == nil {
		return nil, fmt.Errorf("%w: Init has not run", ErrNoSigningKey)
	}
	e := current(ks.entries, now)
	if e == nil {
		return nil, fmt.Errorf("%w: every key has expired", ErrNoSigningKey)
	}
	return e, nil
}

// CurrentKeyID returns the kid Sign uses now, or "" before Init.
func (m *Manager) CurrentKeyID() string {
	e, err := m.signingKey(m.opts.Now())
	if err != nil {
		return ""
	}
	return e.id
}

// Verify checks token, an RS256 compact JWS signed by a key in the current
// JWKS, and unmarshals its payload into dst. It checks no claims: exp, iss
// and aud are the caller's job. Every failure wraps ErrInvalidToken.
func (m *Manager) Verify(token string, dst any) error {
	if len(token) > MaxTokenLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenLen)
	}
	sum := sha256.Sum256([]byte(token))
	if v, ok := m.verified.get(sum); ok {
		if ks := m.set.Load(); ks != nil {
			if e := ks.byID[v.kid]; e != nil && e.published(m.opts.Now()) {
				return unmarshalPayload(v.payload, dst)
			}
		}
	}
	jws, err := jose.ParseSignedCompact(token, allowedAlgs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if len(jws.Signatures) != 1 {
		return fmt.Errorf("%w: want one signature", ErrInvalidToken)
	}
	kid := jws.Signatures[0].Header.KeyID
	if kid == "" {
		return fmt.Errorf("%w: no kid", ErrInvalidToken)
	}
	ks := m.set.Load()
	if ks == nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, ErrNoSigningKey)
	}
	e := ks.byID[kid]
	if e == nil || !e.published(m.opts.Now()) {
		return fmt.Errorf("%w: unknown kid %q", ErrInvalidToken, kid)
	}
	payload, err := jws.Verify(&e.priv.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	m.verified.put(sum, verifiedToken{kid: kid, payload: payload})
	return unmarshalPayload(payload, dst)
}

func unmarshalPayload(payload []byte, dst any) error {
	if err := json.Unmarshal(payload, dst); err != nil {
		return fmt.Errorf("%w: payload: %w", ErrInvalidToken, err)
	}
	return nil
}

// JWKS returns the JSON Web Key Set (RFC 7517 §5) of every published key:
// current, next and retiring. The bytes are cached and shared; callers must
// not modify them. They are rebuilt only when the key set changes or a key's
// ExpiresAt passes.
func (m *Manager) JWKS() []byte {
	ks := m.set.Load()
	if ks == nil {
		return []byte(`{"keys":[]}`)
	}
	now := m.opts.Now()
	if d := ks.jwks.Load(); d != nil && (d.from.IsZero() || !now.Before(d.from)) && (d.until.IsZero() || now.Before(d.until)) {
		return d.body
	}
	d := ks.buildJWKS(now)
	ks.jwks.Store(d)
	return d.body
}

// buildJWKS serialises the keys published at now.
func (ks *keySet) buildJWKS(now time.Time) *jwksDoc {
	d := &jwksDoc{}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, e := range ks.entries {
		if e.expiresAt.IsZero() {
			set.Keys = append(set.Keys, e.jwk)
			continue
		}
		if e.published(now) {
			set.Keys = append(set.Keys, e.jwk)
			if d.until.IsZero() || e.expiresAt.Before(d.until) {
				d.until = e.expiresAt
			}
		} else if e.expiresAt.After(d.from) {
			d.from = e.expiresAt
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		// RSA public keys always marshal; keep serving something valid.
		body = []byte(`{"keys":[]}`)
	}
	d.body = body
	return d
}
