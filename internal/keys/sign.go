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

// allowedAlgs are the only "alg" values Verify parses; "none", HMAC and
// every other algorithm fail in parsing (RFC 8725 §3.1). Verify then also
// requires the header's alg to be the algorithm of the key its kid names
// (RFC 8725 §3.1: each key is used with exactly one algorithm).
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// Sign returns claims, marshalled with encoding/json, as an RS256 compact JWS
// (RFC 7515 §7.1) with header kid and typ "JWT", signed with the current
// RS256 key. ID tokens and everything but access tokens go through it.
func (m *Manager) Sign(claims any) (string, error) {
	return m.SignWithType(claims, "JWT")
}

// SignWithType is Sign with another typ header, e.g. "at+jwt" for access
// tokens (RFC 9068 §2.1); "" omits typ.
func (m *Manager) SignWithType(claims any, typ string) (string, error) {
	return m.SignWithAlg(claims, typ, RS256)
}

// SignWithAlg is SignWithType with the current key of alg: RS256, ES256 or
// EdDSA ("" means RS256). An algorithm without a key (see Ensure) fails
// with ErrNoSigningKey.
func (m *Manager) SignWithAlg(claims any, typ, alg string) (string, error) {
	if alg == "" {
		alg = RS256
	}
	e, err := m.signingKey(alg, m.opts.Now())
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
	if alg != RS256 {
		// ECDSA and Ed25519 sign in tens of microseconds: no reason to
		// step aside (see below).
		return serialize(signer, payload)
	}
	// An RSA-2048 signature is the longest stretch of CPU work a request
	// does (about a millisecond). Yield first, so that a goroutine this one
	// just woke, typically one handed the database's single write
	// connection, runs now rather than after the signature: otherwise the
	// connection sits idle while it waits for a core, and every other
	// writer queues behind it (the load benchmark showed cores idle and
	// token requests waiting on the write connection).
	runtime.Gosched()
	return serialize(signer, payload)
}

// serialize signs payload and returns the compact JWS.
func serialize(signer jose.Signer, payload []byte) (string, error) {
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
	s, err := newSigner(mat.alg, mat.priv, mat.jwk.KeyID, typ)
	if err != nil {
		return nil, err
	}
	actual, _ := mat.typed.LoadOrStore(typ, s)
	return actual.(jose.Signer), nil
}

// signingKey returns the key of alg that signs at now.
func (m *Manager) signingKey(alg string, now time.Time) (*entry, error) {
	i := algIndex(alg)
	if i < 0 {
		return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
	}
	ks := m.set.Load()
	if ks == nil {
		return nil, fmt.Errorf("%w: Init has not run", ErrNoSigningKey)
	}
	if len(ks.byAlg[i]) == 0 {
		return nil, fmt.Errorf("%w: no %s key (Ensure creates one)", ErrNoSigningKey, alg)
	}
	e := current(ks.byAlg[i], now)
	if e == nil {
		return nil, fmt.Errorf("%w: every %s key has expired", ErrNoSigningKey, alg)
	}
	return e, nil
}

// CurrentKeyID returns the kid Sign uses now, or "" before Init.
func (m *Manager) CurrentKeyID() string { return m.CurrentKeyIDOf(RS256) }

// CurrentKeyIDOf returns the kid SignWithAlg uses now for alg, or "" when
// alg has no key.
func (m *Manager) CurrentKeyIDOf(alg string) string {
	e, err := m.signingKey(alg, m.opts.Now())
	if err != nil {
		return ""
	}
	return e.id
}

// Verify checks token, a compact JWS signed by a key in the current JWKS
// with that key's algorithm (RS256, ES256 or EdDSA), and unmarshals its
// payload into dst. It checks no claims: exp, iss and aud are the caller's
// job. Every failure wraps ErrInvalidToken.
func (m *Manager) Verify(token string, dst any) error {
	return m.verify(token, "", dst)
}

// VerifyAlg is Verify accepting only tokens signed with alg, e.g. RS256 for
// ID tokens.
func (m *Manager) VerifyAlg(token, alg string, dst any) error {
	if !Supported(alg) {
		return fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidToken, alg)
	}
	return m.verify(token, alg, dst)
}

// verify is Verify; want, when not "", is the only algorithm accepted.
func (m *Manager) verify(token, want string, dst any) error {
	if len(token) > MaxTokenLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenLen)
	}
	sum := sha256.Sum256([]byte(token))
	if v, ok := m.verified.get(sum); ok {
		// The cached token's header alg matched its key's when it was
		// verified; the key (and so its algorithm) is looked up again, and
		// the caller's restriction applies to hits as to misses.
		if want != "" && v.alg != want {
			return fmt.Errorf("%w: alg %s where only %s is accepted", ErrInvalidToken, v.alg, want)
		}
		if ks := m.set.Load(); ks != nil {
			if e := ks.byID[v.kid]; e != nil && e.alg == v.alg && e.published(m.opts.Now()) {
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
	// No algorithm confusion: the header must name the key's own algorithm
	// (an ES256 header on an RSA kid, say, is refused before any
	// signature check).
	if alg := jws.Signatures[0].Header.Algorithm; alg != e.alg {
		return fmt.Errorf("%w: alg %q on a %s key", ErrInvalidToken, alg, e.alg)
	}
	if want != "" && e.alg != want {
		return fmt.Errorf("%w: alg %s where only %s is accepted", ErrInvalidToken, e.alg, want)
	}
	payload, err := jws.Verify(e.pub)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	m.verified.put(sum, verifiedToken{kid: kid, alg: e.alg, payload: payload})
	return unmarshalPayload(payload, dst)
}

func unmarshalPayload(payload []byte, dst any) error {
	if err := json.Unmarshal(payload, dst); err != nil {
		return fmt.Errorf("%w: payload: %w", ErrInvalidToken, err)
	}
	return nil
}

// JWKS returns the JSON Web Key Set (RFC 7517 §5) of every published key:
// current, next and retiring, of each algorithm, RS256 keys first. Each
// key has kid, kty, alg and use "sig" (and crv for EC and OKP keys). The bytes are cached and shared; callers must
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
		// RSA, EC and OKP public keys always marshal; keep serving
		// something valid.
		body = []byte(`{"keys":[]}`)
	}
	d.body = body
	return d
}
