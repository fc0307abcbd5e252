package keys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

type testClaims struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
}

var (
	sharedOnce sync.Once
	sharedMgr  *Manager
	sharedErr  error
)

// sharedManager is one initialised Manager for the read-only tests, so the
// RSA key is generated once.
func sharedManager(t testing.TB) *Manager {
	t.Helper()
	sharedOnce.Do(func() {
		sharedMgr = NewManager(&memKeys{}, testMaster, Options{})
		sharedErr = sharedMgr.Init(context.Background())
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedMgr
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]any{}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSignVerify(t *testing.T) {
	m := sharedManager(t)
	tok, err := m.Sign(testClaims{Sub: "auth0|abc", Exp: 42})
	if err != nil {
		t.Fatal(err)
	}
	h := header(t, tok)
	if h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] != m.CurrentKeyID() || len(h) != 3 {
		t.Fatalf("header = %v, want alg RS256, typ JWT, kid %s only", h, m.CurrentKeyID())
	}
	var got testClaims
	if err := m.Verify(tok, &got); err != nil {
		t.Fatal(err)
	}
	if got != (testClaims{Sub: "auth0|abc", Exp: 42}) {
		t.Fatalf("claims = %+v", got)
	}

	at, err := m.SignWithType(map[string]string{"sub": "x"}, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	if typ := header(t, at)["typ"]; typ != "at+jwt" {
		t.Fatalf("typ = %v, want at+jwt", typ)
	}
	if err := m.Verify(at, &got); err != nil || got.Sub != "x" {
		t.Fatalf("Verify(at+jwt) = %v, sub %q", err, got.Sub)
	}
	if _, err := m.Sign(func() {}); err == nil {
		t.Fatal("Sign accepted claims that do not marshal")
	}
}

func TestNotInitialised(t *testing.T) {
	m := NewManager(&memKeys{}, testMaster, Options{})
	if _, err := m.Sign(testClaims{}); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("Sign before Init: %v", err)
	}
	if err := m.Verify("a.b.c", &testClaims{}); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify before Init: %v", err)
	}
	if got := string(m.JWKS()); got != `{"keys":[]}` {
		t.Fatalf("JWKS before Init = %s", got)
	}
	if err := NewManager(&memKeys{}, []byte("short"), Options{}).Init(context.Background()); err == nil {
		t.Fatal("Init accepted a short master secret")
	}
}

func TestVerifyRejects(t *testing.T) {
	m := sharedManager(t)
	kid := m.CurrentKeyID()
	good, err := m.Sign(testClaims{Sub: "auth0|abc"})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	pub := *m.set.Load().byID[kid].pub.(*rsa.PublicKey)

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(alg jose.SignatureAlgorithm, key any, kid string) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jws, err := s.Sign([]byte(`{"sub":"attacker"}`))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	pubJSON, _ := json.Marshal(jose.JSONWebKey{Key: &pub, KeyID: kid})
	flipSig := []byte(parts[2])
	flipSig[10] ^= 'A' ^ 'B'

	tests := []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "not a token"},
		{"two parts", parts[0] + "." + parts[1]},
		{"four parts", good + ".x"},
		{"dots only", ".."},
		{"bad base64 header", "!!!." + parts[1] + "." + parts[2]},
		{"header not json", b64("nope") + "." + parts[1] + "." + parts[2]},
		{"tampered payload", parts[0] + "." + b64(`{"sub":"auth0|admin"}`) + "." + parts[2]},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(flipSig)},
		{"no signature", parts[0] + "." + parts[1] + "."},
		{"alg none", b64(`{"alg":"none","kid":"`+kid+`"}`) + "." + parts[1] + "."},
		{"alg None", b64(`{"alg":"None","kid":"`+kid+`"}`) + "." + parts[1] + "."},
		{"HS256 keyed with public JWK", signWith(jose.HS256, pubJSON, kid)},
		{"HS256 keyed with modulus", signWith(jose.HS256, pub.N.Bytes(), kid)},
		{"RS384 with other key", signWith(jose.RS384, other, kid)},
		{"PS256 with other key", signWith(jose.PS256, other, kid)},
		{"unknown kid", signWith(jose.RS256, other, "not-a-kid")},
		{"known kid, other key", signWith(jose.RS256, other, kid)},
		{"no kid", signWith(jose.RS256, other, "")},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`},
		{"too long", parts[0] + "." + strings.Repeat("A", MaxTokenLen) + "." + parts[2]},
		{"crit header", b64(`{"alg":"RS256","kid":"`+kid+`","crit":["exp"],"exp":1}`) + "." + parts[1] + "." + parts[2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst testClaims
			err := m.Verify(tt.token, &dst)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %v, want ErrInvalidToken", err)
			}
			if dst.Sub != "" {
				t.Fatalf("dst filled (%+v) despite error", dst)
			}
		})
	}

	t.Run("payload does not fit dst", func(t *testing.T) {
		tok, err := m.Sign([]int{1, 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Verify(tok, &testClaims{}); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify = %v, want ErrInvalidToken", err)
		}
	})
}

func TestJWKS(t *testing.T) {
	m := sharedManager(t)
	a, b := m.JWKS(), m.JWKS()
	if &a[0] != &b[0] {
		t.Fatal("JWKS rebuilt between calls with no change")
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(a, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1: %s", len(set.Keys), a)
	}
	k := set.Keys[0]
	for field, want := range map[string]any{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": m.CurrentKeyID(), "e": "AQAB"} {
		if k[field] != want {
			t.Errorf("JWKS %s = %v, want %v", field, k[field], want)
		}
	}
	if n, _ := k["n"].(string); len(n) != 342 { // 256 bytes, base64url
		t.Errorf("JWKS n has %d chars, want 342", len(n))
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := k[private]; ok {
			t.Errorf("JWKS leaks private field %q", private)
		}
	}
	// The stored PublicJWK is the same key.
	st := m.st.(*memKeys)
	var stored map[string]any
	if err := json.Unmarshal(st.keys[0].PublicJWK, &stored); err != nil || stored["n"] != k["n"] || stored["kid"] != k["kid"] {
		t.Fatalf("stored PublicJWK %s does not match JWKS", st.keys[0].PublicJWK)
	}
}

func TestRefreshKeepsUnchangedSet(t *testing.T) {
	st := &memKeys{}
	clk := newClock()
	m := NewManager(st, testMaster, Options{Now: clk.Now})
	ctx := context.Background()
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	before, jwks := m.set.Load(), m.JWKS()
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if m.set.Load() != before || &m.JWKS()[0] != &jwks[0] {
		t.Fatal("Refresh with no change replaced the key set or the JWKS bytes")
	}
	if _, err := Rotate(ctx, st, testMaster, Options{Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	after := m.set.Load()
	if after == before || len(after.entries) != 2 {
		t.Fatalf("Refresh after Rotate: %d keys", len(after.entries))
	}
	if after.byID[before.entries[0].id].material != before.entries[0].material {
		t.Fatal("Refresh re-decrypted a key it already had")
	}
	// A failing refresh keeps the last good set.
	st.keys[1].EncryptedPrivate = []byte("garbage that will not decrypt")
	st.keys[1].ExpiresAt = clk.Now().Add(time.Hour)
	st.keys = append(st.keys, st.keys[1])
	st.keys[2].ID = "new-broken-key"
	if err := m.Refresh(ctx); !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("Refresh with undecryptable key: %v, want ErrWrongSecret", err)
	}
	if m.set.Load() != after {
		t.Fatal("failed Refresh replaced the key set")
	}
}

func TestCurrentRule(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name string
		keys []entry // id, createdAt, notBefore, expiresAt
		now  time.Time
		want string
	}{
		{"single", []entry{{id: "a", createdAt: at(0), notBefore: at(0)}}, at(1), "a"},
		{"next not yet", []entry{{id: "a", notBefore: at(0)}, {id: "b", notBefore: at(5)}}, at(1), "a"},
		{"next started", []entry{{id: "a", notBefore: at(0)}, {id: "b", notBefore: at(5)}}, at(5), "b"},
		{"tie: later CreatedAt", []entry{{id: "b", createdAt: at(1), notBefore: at(0)}, {id: "a", createdAt: at(2), notBefore: at(0)}}, at(1), "a"},
		{"tie: larger id", []entry{{id: "b", notBefore: at(0)}, {id: "a", notBefore: at(0)}}, at(1), "b"},
		{"expired skipped", []entry{{id: "a", notBefore: at(0)}, {id: "b", notBefore: at(1), expiresAt: at(2)}}, at(3), "a"},
		{"only future (skew)", []entry{{id: "a", notBefore: at(5)}, {id: "b", notBefore: at(6)}}, at(1), "a"},
		{"all expired", []entry{{id: "a", notBefore: at(0), expiresAt: at(1)}}, at(2), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var es []*entry
			for i := range tt.keys {
				es = append(es, &tt.keys[i])
			}
			sorted := sortEntries(es)
			got := ""
			if e := current(sorted, tt.now); e != nil {
				got = e.id
			}
			if got != tt.want {
				t.Fatalf("current = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	m := sharedManager(f)
	good, _ := m.Sign(testClaims{Sub: "auth0|abc"})
	parts := strings.Split(good, ".")
	for _, s := range []string{good, "", "..", "a.b.c", parts[0] + "." + parts[1] + ".", b64(`{"alg":"none"}`) + "." + parts[1] + ".",
		`{"payload":"","signatures":[]}`, parts[0] + ".." + parts[2]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var dst map[string]any
		if err := m.Verify(tok, &dst); err == nil && tok != good {
			// Only a token we signed may verify; a change that still
			// verifies (e.g. re-encoded base64) must carry our claims.
			if dst["sub"] != "auth0|abc" {
				t.Fatalf("Verify accepted %q with claims %v", tok, dst)
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	m := sharedManager(b)
	claims := testClaims{Sub: "auth0|0123456789abcdef01234567", Exp: 2000000000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Sign(claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	m := sharedManager(b)
	tok, _ := m.Sign(testClaims{Sub: "auth0|0123456789abcdef01234567", Exp: 2000000000})
	b.ReportAllocs()
	for b.Loop() {
		var c testClaims
		if err := m.Verify(tok, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJWKS(b *testing.B) {
	m := sharedManager(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(m.JWKS()) == 0 {
			b.Fatal("empty JWKS")
		}
	}
}
