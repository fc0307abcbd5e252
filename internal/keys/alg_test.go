package keys

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

var (
	allOnce sync.Once
	allMgr  *Manager
	allErr  error
)

// allAlgManager is one Manager with a key of every algorithm, for the
// read-only tests.
func allAlgManager(t testing.TB) *Manager {
	t.Helper()
	allOnce.Do(func() {
		allMgr = NewManager(&memKeys{}, testMaster, Options{})
		allErr = allMgr.Init(context.Background(), ES256, EdDSA)
	})
	if allErr != nil {
		t.Fatal(allErr)
	}
	return allMgr
}

// signRaw makes a compact JWS with go-jose directly: what an attacker or
// a buggy issuer could send.
func signRaw(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, payload string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSignVerifyEachAlg(t *testing.T) {
	m := allAlgManager(t)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{RS256, ES256, EdDSA} {
		t.Run(alg, func(t *testing.T) {
			kid := m.CurrentKeyIDOf(alg)
			if kid == "" {
				t.Fatalf("no current %s key", alg)
			}
			tok, err := m.SignWithAlg(testClaims{Sub: "auth0|" + alg, Exp: 7}, "JWT", alg)
			if err != nil {
				t.Fatal(err)
			}
			h := header(t, tok)
			if h["alg"] != alg || h["kid"] != kid || h["typ"] != "JWT" || len(h) != 3 {
				t.Fatalf("header = %v, want alg %s, kid %s, typ JWT", h, alg, kid)
			}
			var got testClaims
			if err := m.Verify(tok, &got); err != nil || got.Sub != "auth0|"+alg || got.Exp != 7 {
				t.Fatalf("Verify = %v, claims %+v", err, got)
			}
			if err := m.VerifyAlg(tok, alg, &got); err != nil {
				t.Fatalf("VerifyAlg(%s) = %v", alg, err)
			}
			for _, other := range []string{RS256, ES256, EdDSA} {
				if other != alg {
					if err := m.VerifyAlg(tok, other, &testClaims{}); !errors.Is(err, ErrInvalidToken) {
						t.Errorf("VerifyAlg(%s token, %s) = %v, want ErrInvalidToken", alg, other, err)
					}
				}
			}
			// A relying party verifies it with go-jose and the JWKS alone.
			keys := set.Key(kid)
			if len(keys) != 1 || keys[0].Algorithm != alg {
				t.Fatalf("JWKS key for %s: %+v", kid, keys)
			}
			jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify(keys[0].Key); err != nil {
				t.Fatalf("go-jose with the JWKS key: %v", err)
			}
			typed, err := m.SignWithAlg(testClaims{Sub: "x"}, "at+jwt", alg)
			if err != nil || header(t, typed)["typ"] != "at+jwt" || header(t, typed)["alg"] != alg {
				t.Fatalf("SignWithAlg at+jwt: %v, header %v", err, header(t, typed))
			}
		})
	}
	// Sign, SignWithType and an empty alg stay RS256.
	for name, sign := range map[string]func() (string, error){
		"Sign":              func() (string, error) { return m.Sign(testClaims{}) },
		"SignWithType":      func() (string, error) { return m.SignWithType(testClaims{}, "at+jwt") },
		"SignWithAlg(\"\")": func() (string, error) { return m.SignWithAlg(testClaims{}, "JWT", "") },
	} {
		tok, err := sign()
		if err != nil || header(t, tok)["alg"] != RS256 || header(t, tok)["kid"] != m.CurrentKeyID() {
			t.Errorf("%s: %v, header %v; want the RS256 key", name, err, header(t, tok))
		}
	}
	for _, alg := range []string{"HS256", "PS256", "none", "ES384", "rs256"} {
		if _, err := m.SignWithAlg(testClaims{}, "JWT", alg); err == nil {
			t.Errorf("SignWithAlg(%q) signed", alg)
		}
		if err := m.VerifyAlg("a.b.c", alg, &testClaims{}); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("VerifyAlg(%q) = %v, want ErrInvalidToken", alg, err)
		}
	}
}

// TestAlgorithmWithoutKey: an algorithm nobody ensured has no key, so
// SignWithAlg fails with ErrNoSigningKey (the tokens package then calls
// Ensure) instead of silently signing RS256.
func TestAlgorithmWithoutKey(t *testing.T) {
	m := sharedManager(t) // RS256 only
	if _, err := m.SignWithAlg(testClaims{}, "JWT", ES256); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("SignWithAlg(ES256) without a key = %v, want ErrNoSigningKey", err)
	}
	if m.CurrentKeyIDOf(EdDSA) != "" {
		t.Fatal("CurrentKeyIDOf(EdDSA) without a key")
	}
	if err := NewManager(&memKeys{}, testMaster, Options{}).Init(context.Background(), "HS256"); err == nil {
		t.Fatal("Init(HS256) succeeded")
	}
}

func TestJWKSPerAlg(t *testing.T) {
	m := allAlgManager(t)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		alg, kty, crv string
		fields        []string // public fields besides kid, kty, alg, use, crv
	}{
		// RS256 first: a client that takes the first key gets an RSA one.
		{RS256, "RSA", "", []string{"n", "e"}},
		{ES256, "EC", "P-256", []string{"x", "y"}},
		{EdDSA, "OKP", "Ed25519", []string{"x"}},
	}
	if len(set.Keys) != len(tests) {
		t.Fatalf("JWKS has %d keys, want %d: %s", len(set.Keys), len(tests), m.JWKS())
	}
	for i, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			k := set.Keys[i]
			want := map[string]any{"kid": m.CurrentKeyIDOf(tt.alg), "kty": tt.kty, "alg": tt.alg, "use": "sig"}
			if tt.crv != "" {
				want["crv"] = tt.crv
			}
			for f, v := range want {
				if k[f] != v {
					t.Errorf("%s = %v, want %v", f, k[f], v)
				}
			}
			for _, f := range tt.fields {
				if s, _ := k[f].(string); s == "" {
					t.Errorf("missing %s", f)
				}
			}
			if len(k) != len(want)+len(tt.fields) {
				t.Errorf("key has fields %v, want exactly %v and %v", k, want, tt.fields)
			}
		})
	}
	// Without ES256 or EdDSA APIs the JWKS is RSA-only, as Auth0's.
	if kids := strings.Count(string(sharedManager(t).JWKS()), `"kid"`); kids != 1 {
		t.Fatalf("RS256-only manager publishes %d keys", kids)
	}
}

// TestAlgConfusion: a token is accepted only with its key's own algorithm.
func TestAlgConfusion(t *testing.T) {
	m := allAlgManager(t)
	rsaKid, ecKid, edKid := m.CurrentKeyIDOf(RS256), m.CurrentKeyIDOf(ES256), m.CurrentKeyIDOf(EdDSA)
	ks := m.set.Load()
	ecPub := ks.byID[ecKid].pub.(*ecdsa.PublicKey)
	edPub := ks.byID[edKid].pub.(ed25519.PublicKey)
	rsaPub := ks.byID[rsaKid].pub.(*rsa.PublicKey)

	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, otherEd, _ := ed25519.GenerateKey(rand.Reader)
	ecJWK, _ := json.Marshal(jose.JSONWebKey{Key: ecPub, KeyID: ecKid})
	edJWK, _ := json.Marshal(jose.JSONWebKey{Key: edPub, KeyID: edKid})
	rsaPEMish, _ := json.Marshal(jose.JSONWebKey{Key: rsaPub, KeyID: rsaKid})

	// A genuine ES256 token whose header is rewritten to claim another alg.
	genuine, err := m.SignWithAlg(testClaims{Sub: "auth0|abc"}, "JWT", ES256)
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Split(genuine, ".")
	reheader := func(alg string) string {
		return b64(`{"alg":"`+alg+`","kid":"`+ecKid+`","typ":"JWT"}`) + "." + p[1] + "." + p[2]
	}
	payload := `{"sub":"attacker"}`

	tests := []struct {
		name, token string
		why         string // in the error, when the alg rule (not the signature) refuses it
	}{
		{"ES256 header on the RSA kid", signRaw(t, jose.ES256, otherEC, rsaKid, payload), `alg "ES256" on a RS256 key`},
		{"EdDSA header on the RSA kid", signRaw(t, jose.EdDSA, otherEd, rsaKid, payload), `alg "EdDSA" on a RS256 key`},
		{"RS256 header on the EC kid", signRaw(t, jose.RS256, otherRSA, ecKid, payload), `alg "RS256" on a ES256 key`},
		{"EdDSA header on the EC kid", signRaw(t, jose.EdDSA, otherEd, ecKid, payload), `alg "EdDSA" on a ES256 key`},
		{"ES256 header on the EdDSA kid", signRaw(t, jose.ES256, otherEC, edKid, payload), `alg "ES256" on a EdDSA key`},
		{"RS256 header on the EdDSA kid", signRaw(t, jose.RS256, otherRSA, edKid, payload), `alg "RS256" on a EdDSA key`},
		{"genuine ES256 token relabelled RS256", reheader("RS256"), `alg "RS256" on a ES256 key`},
		{"genuine ES256 token relabelled EdDSA", reheader("EdDSA"), `alg "EdDSA" on a ES256 key`},
		{"ES256 with another key on the EC kid", signRaw(t, jose.ES256, otherEC, ecKid, payload), ""},
		{"EdDSA with another key on the EdDSA kid", signRaw(t, jose.EdDSA, otherEd, edKid, payload), ""},
		{"none on the EC kid", b64(`{"alg":"none","kid":"`+ecKid+`"}`) + "." + p[1] + ".", ""},
		{"none on the EdDSA kid", b64(`{"alg":"none","kid":"`+edKid+`"}`) + "." + p[1] + ".", ""},
		{"HS256 keyed with the EC public JWK", signRaw(t, jose.HS256, ecJWK, ecKid, payload), ""},
		{"HS256 keyed with the Ed25519 public key", signRaw(t, jose.HS256, []byte(edPub), edKid, payload), ""},
		{"HS256 keyed with the Ed25519 JWK", signRaw(t, jose.HS256, edJWK, edKid, payload), ""},
		{"HS256 keyed with the RSA JWK", signRaw(t, jose.HS256, rsaPEMish, rsaKid, payload), ""},
		{"ES384 on the EC kid", signRaw(t, jose.ES384, mustP384(t), ecKid, payload), ""},
		{"PS256 on the RSA kid", signRaw(t, jose.PS256, otherRSA, rsaKid, payload), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst testClaims
			err := m.Verify(tt.token, &dst)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %v, want ErrInvalidToken", err)
			}
			if tt.why != "" && !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("Verify = %v, want the alg rule (%s)", err, tt.why)
			}
			if dst.Sub != "" {
				t.Fatalf("dst filled (%+v) despite error", dst)
			}
		})
	}
}

func mustP384(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVerifyCacheAlgRule: a cache hit is held to the same algorithm rules
// as a full verification.
func TestVerifyCacheAlgRule(t *testing.T) {
	m := NewManager(&memKeys{}, testMaster, Options{})
	if err := m.Init(context.Background(), ES256); err != nil {
		t.Fatal(err)
	}
	es, err := m.SignWithAlg(testClaims{Sub: "auth0|es"}, "JWT", ES256)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := m.Sign(testClaims{Sub: "auth0|rs"})
	if err != nil {
		t.Fatal(err)
	}
	// A cache entry whose alg is not its key's (which Verify never
	// writes) must not be trusted: the token goes through the full check.
	forged := b64(`{"alg":"ES256","kid":"`+m.CurrentKeyID()+`"}`) + "." + b64(`{"sub":"auth0|forged"}`) + ".c2ln"
	m.verified.put(sha256.Sum256([]byte(forged)), verifiedToken{kid: m.CurrentKeyID(), alg: ES256, payload: []byte(`{"sub":"auth0|forged"}`)})

	steps := []struct {
		name, token, only string // only: VerifyAlg's alg, "" for Verify
		wantSub           string // "" means refused
	}{
		{"ES256 token, first check", es, "", "auth0|es"},
		{"ES256 token, cached", es, "", "auth0|es"},
		{"ES256 token, cached, ES256 only", es, ES256, "auth0|es"},
		{"ES256 token, cached, RS256 only", es, RS256, ""},
		{"RS256 token, RS256 only", rs, RS256, "auth0|rs"},
		{"RS256 token, cached, ES256 only", rs, ES256, ""},
		{"RS256 token, cached, EdDSA only", rs, EdDSA, ""},
		{"forged entry naming ES256 for the RSA kid", forged, "", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			var c testClaims
			var err error
			if s.only == "" {
				err = m.Verify(s.token, &c)
			} else {
				err = m.VerifyAlg(s.token, s.only, &c)
			}
			if s.wantSub == "" {
				if !errors.Is(err, ErrInvalidToken) || c.Sub != "" {
					t.Fatalf("= %v, claims %+v; want ErrInvalidToken", err, c)
				}
				return
			}
			if err != nil || c.Sub != s.wantSub {
				t.Fatalf("= %v, claims %+v", err, c)
			}
			v, ok := m.verified.get(sha256.Sum256([]byte(s.token)))
			if !ok || v.alg != header(t, s.token)["alg"] {
				t.Fatalf("cache entry %+v, %v; want one remembering the alg", v, ok)
			}
		})
	}
}

// BenchmarkSignWithAlg compares the three algorithms' cost per token
// (claims marshalling, signature, serialisation).
func BenchmarkSignWithAlg(b *testing.B) {
	m := allAlgManager(b)
	claims := testClaims{Sub: "auth0|0123456789abcdef01234567", Exp: 2000000000}
	for _, alg := range []string{RS256, ES256, EdDSA} {
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.SignWithAlg(claims, "JWT", alg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyUncachedAlg is Verify's full check per algorithm.
func BenchmarkVerifyUncachedAlg(b *testing.B) {
	m := allAlgManager(b)
	claims := testClaims{Sub: "auth0|0123456789abcdef01234567", Exp: 2000000000}
	for _, alg := range []string{RS256, ES256, EdDSA} {
		tok, err := m.SignWithAlg(claims, "JWT", alg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.verified.mu.Lock()
				m.verified.m = nil
				m.verified.mu.Unlock()
				var c testClaims
				if err := m.Verify(tok, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzVerifyAlgs feeds Verify mutations of tokens of every algorithm: only
// a token latch signed may verify, and then with the claims it signed.
func FuzzVerifyAlgs(f *testing.F) {
	m := allAlgManager(f)
	signed := map[string]bool{}
	for _, alg := range []string{RS256, ES256, EdDSA} {
		tok, err := m.SignWithAlg(testClaims{Sub: "auth0|" + alg}, "JWT", alg)
		if err != nil {
			f.Fatal(err)
		}
		p := strings.Split(tok, ".")
		f.Add(tok)
		f.Add(b64(`{"alg":"none","kid":"`+m.CurrentKeyIDOf(alg)+`"}`) + "." + p[1] + ".")
		for _, other := range []string{RS256, ES256, EdDSA, "HS256"} {
			f.Add(b64(`{"alg":"`+other+`","kid":"`+m.CurrentKeyIDOf(alg)+`"}`) + "." + p[1] + "." + p[2])
		}
		signed["auth0|"+alg] = true
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var dst testClaims
		if err := m.Verify(tok, &dst); err == nil && !signed[dst.Sub] {
			t.Fatalf("Verify accepted %q with claims %+v", tok, dst)
		}
	})
}
