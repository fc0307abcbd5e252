package auth0api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// tenant serves a JWKS of keys the test signs with: the ID token side of a
// tenant, enough to exercise the verifier's rules one by one. The full
// flow against a real latch is in auth0apitest_live_test.go.
type tenant struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	fetches atomic.Int32
}

func newTenant(t *testing.T) *tenant {
	tn := &tenant{t: t, keys: map[string]*rsa.PrivateKey{}}
	tn.addKey("k1")
	tn.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != jwksPath {
			http.NotFound(w, r)
			return
		}
		tn.fetches.Add(1)
		tn.mu.Lock()
		defer tn.mu.Unlock()
		set := jose.JSONWebKeySet{}
		for kid, k := range tn.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		// Keys the verifier must skip: an encryption key and a symmetric one.
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &tn.keys["k1"].PublicKey, KeyID: "enc", Use: "enc"},
			jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hs", Algorithm: "HS256"})
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(tn.srv.Close)
	return tn
}

func (tn *tenant) addKey(kid string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.mu.Lock()
	tn.keys[kid] = k
	tn.mu.Unlock()
}

// sign makes a compact JWS of claims with the key kid (nil key: a fresh
// key nobody publishes).
func (tn *tenant) sign(kid string, alg jose.SignatureAlgorithm, claims map[string]any) string {
	tn.mu.Lock()
	k := tn.keys[kid]
	tn.mu.Unlock()
	var key any = k
	if alg == jose.HS256 {
		key = []byte("0123456789abcdef0123456789abcdef")
	} else if k == nil {
		k, _ = rsa.GenerateKey(rand.Reader, 2048)
		key = k
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		tn.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		tn.t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// setClock fixes the verifier's clock for one test.
func setClock(t *testing.T, at time.Time) *time.Time {
	cur := at
	now = func() time.Time { return cur }
	t.Cleanup(func() { now = time.Now })
	return &cur
}

// idCase is a token and what VerifyIDToken must say of it.
type idCase struct {
	name    string
	token   string
	nonce   string
	wantErr string // substring of the error; "" = valid
}

// idTokenCases are tokens of tn's keys checked at time at.
func idTokenCases(tn *tenant, at time.Time) []idCase {
	good := func() map[string]any {
		return map[string]any{
			"iss": tn.srv.URL + "/", "sub": "auth0|1", "aud": "cli", "iat": at.Unix(), "exp": at.Add(time.Hour).Unix(),
			"nonce": "n1", "sid": "s1", "email": "ann@example.com", "email_verified": true, "name": "Ann",
			"updated_at": "2024-01-02T03:04:05.000Z", "https://example.com/role": "admin",
		}
	}
	with := func(k string, v any) map[string]any {
		m := good()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	return []idCase{
		{name: "valid", token: tn.sign("k1", jose.RS256, good()), nonce: "n1"},
		{name: "valid without nonce check", token: tn.sign("k1", jose.RS256, good())},
		{name: "aud array without azp", token: tn.sign("k1", jose.RS256, with("aud", []string{"cli", "https://api/"})),
			wantErr: "no azp"},
		{name: "aud array with azp", token: func() string {
			m := with("aud", []string{"https://api/", "cli"})
			m["azp"] = "cli"
			return tn.sign("k1", jose.RS256, m)
		}()},
		{name: "numeric updated_at", token: tn.sign("k1", jose.RS256, with("updated_at", 1700000000))},
		{name: "expired within leeway", token: tn.sign("k1", jose.RS256, with("exp", at.Add(-30*time.Second).Unix()))},
		{name: "expired", token: tn.sign("k1", jose.RS256, with("exp", at.Add(-2*time.Minute).Unix())), wantErr: "expired"},
		{name: "no exp", token: tn.sign("k1", jose.RS256, with("exp", nil)), wantErr: "no exp"},
		{name: "exp as string", token: tn.sign("k1", jose.RS256, with("exp", "tomorrow")), wantErr: "exp is not a number"},
		{name: "issued in the future", token: tn.sign("k1", jose.RS256, with("iat", at.Add(5*time.Minute).Unix())), wantErr: "future"},
		{name: "no iat", token: tn.sign("k1", jose.RS256, with("iat", nil)), wantErr: "no iat"},
		{name: "wrong issuer", token: tn.sign("k1", jose.RS256, with("iss", tn.srv.URL)), wantErr: "iss"},
		{name: "other audience", token: tn.sign("k1", jose.RS256, with("aud", "other")), wantErr: "aud"},
		{name: "bad aud type", token: tn.sign("k1", jose.RS256, with("aud", 7)), wantErr: "aud"},
		{name: "azp of another client", token: tn.sign("k1", jose.RS256, with("azp", "other")), wantErr: "azp"},
		{name: "no sub", token: tn.sign("k1", jose.RS256, with("sub", nil)), wantErr: "no sub"},
		{name: "nonce mismatch", token: tn.sign("k1", jose.RS256, good()), nonce: "n2", wantErr: "nonce"},
		{name: "nonce expected, none in token", token: tn.sign("k1", jose.RS256, with("nonce", nil)), nonce: "n1", wantErr: "nonce"},
		{name: "HS256", token: tn.sign("hs", jose.HS256, good()), wantErr: "invalid ID token"},
		{name: "unpublished key", token: tn.sign("k9", jose.RS256, good()), wantErr: `kid "k9"`},
		{name: "signed by another key with a known kid", token: func() string {
			tn.addKey("tmp")
			tok := tn.sign("tmp", jose.RS256, good())
			return strings.Replace(tok, tok[:strings.IndexByte(tok, '.')], strings.SplitN(tn.sign("k1", jose.RS256, good()), ".", 2)[0], 1)
		}(), wantErr: "signature"},
		{name: "tampered payload", token: func() string {
			parts := strings.Split(tn.sign("k1", jose.RS256, good()), ".")
			other := strings.Split(tn.sign("k1", jose.RS256, with("sub", "auth0|2")), ".")
			return parts[0] + "." + other[1] + "." + parts[2]
		}(), wantErr: "signature"},
		{name: "encryption key kid", token: tn.sign("enc", jose.RS256, good()), wantErr: `kid "enc"`},
		{name: "not a JWT", token: "abc", wantErr: "invalid ID token"},
		{name: "JSON serialization", token: `{"payload":"e30","signatures":[]}`, wantErr: "invalid ID token"},
		{name: "huge", token: strings.Repeat("a", maxIDToken+1), wantErr: "longer"},
	}
}

func TestVerifyIDToken(t *testing.T) {
	tn := newTenant(t)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	setClock(t, at)
	c := &Client{Domain: tn.srv.URL, ClientID: "cli"}
	for _, tc := range idTokenCases(tn, at) {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := c.VerifyIDToken(context.Background(), tc.token, tc.nonce)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("VerifyIDToken: %v", err)
				}
				if cl.Subject != "auth0|1" || cl.Email != "ann@example.com" || !cl.EmailVerified || cl.UpdatedAt.IsZero() ||
					cl.Claims["https://example.com/role"] != "admin" || cl.SessionID != "s1" {
					t.Fatalf("claims %+v", cl)
				}
				return
			}
			if !errors.Is(err, ErrInvalidIDToken) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrInvalidIDToken with %q", err, tc.wantErr)
			}
		})
	}
}

// TestJWKSCache: keys are fetched once; a rotated-in kid is fetched again,
// but unknown kids do not trigger a fetch more than every minRefetch.
func TestJWKSCache(t *testing.T) {
	tn := newTenant(t)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := setClock(t, at)
	c := &Client{Domain: tn.srv.URL, ClientID: "cli"}
	claims := map[string]any{"iss": tn.srv.URL + "/", "sub": "s", "aud": "cli", "iat": at.Unix(), "exp": at.Add(time.Hour).Unix()}
	verify := func(kid string) error {
		_, err := c.VerifyIDToken(context.Background(), tn.sign(kid, jose.RS256, claims), "")
		return err
	}
	if err := verify("k1"); err != nil {
		t.Fatal(err)
	}
	if err := verify("k1"); err != nil || tn.fetches.Load() != 1 {
		t.Fatalf("second verify: %v, %d fetches", err, tn.fetches.Load())
	}
	tn.addKey("k2")
	if err := verify("k2"); !errors.Is(err, ErrInvalidIDToken) || tn.fetches.Load() != 1 {
		t.Fatalf("new kid right after a fetch: %v, %d fetches; want refused without fetch", err, tn.fetches.Load())
	}
	*clock = at.Add(minRefetch)
	if err := verify("k2"); err != nil || tn.fetches.Load() != 2 {
		t.Fatalf("rotated key: %v, %d fetches", err, tn.fetches.Load())
	}
	t.Run("no kid tries every key", func(t *testing.T) {
		if err := verify(""); err == nil {
			t.Fatal("a key nobody publishes verified")
		}
	})
	t.Run("JWKS unavailable", func(t *testing.T) {
		broken := &Client{Domain: tn.srv.URL + "/nowhere", ClientID: "cli"}
		_, err := broken.VerifyIDToken(context.Background(), tn.sign("k1", jose.RS256, claims), "")
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != http.StatusNotFound {
			t.Fatalf("err = %v, want the JWKS fetch's 404", err)
		}
	})
}

func FuzzParseIDClaims(f *testing.F) {
	f.Add(`{"iss":"x","aud":["a","b"],"exp":1,"iat":2.5,"updated_at":"2024-01-01T00:00:00Z"}`)
	f.Add(`{"aud":"a","exp":"1"}`)
	f.Add(`{"aud":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, payload string) {
		cl, err := parseIDClaims([]byte(payload))
		if err == nil && cl == nil {
			t.Fatal("nil claims without error")
		}
		if err == nil {
			c := &Client{Domain: "http://x", ClientID: "a"}
			_ = c.checkIDClaims(cl, "n", time.Unix(0, 0))
		}
	})
}
