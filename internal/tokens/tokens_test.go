package tokens_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/tokens"
)

const (
	issuer = "https://latch.test/"
	api    = "https://api.test/"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	cfg   *config.Config
	st    store.Store
	keys  *keys.Manager
	iss   *tokens.Issuer
	clock *clock
	user  *store.User
}

func newEnv(t *testing.T, strict bool) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := &config.Config{
		Issuer:     issuer,
		OIDCStrict: strict,
		APIs:       []config.API{{Identifier: api, Scopes: []string{"read:items"}, TokenLifetime: config.Duration(time.Hour)}},
		Clients: []config.Client{
			{ClientID: "spa", Type: config.TypeSPA, Callbacks: []string{"https://app.test/cb"}},
		},
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	km := keys.NewManager(st, []byte("0123456789abcdef0123456789abcdef"), keys.Options{Now: clk.Now})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	u := &store.User{
		ID: "auth0|0123456789abcdef01234567", Connection: config.DefaultConnection,
		Email: "ann@example.com", EmailVerified: true, Name: "Ann Example", Nickname: "ann",
		Picture: "https://example.com/ann.png", GivenName: "Ann", FamilyName: "Example", Locale: "en",
		CreatedAt: clk.Now().Add(-time.Hour), UpdatedAt: clk.Now().Add(-time.Minute),
	}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return &env{cfg: cfg, st: st, keys: km, clock: clk, user: u,
		iss: tokens.NewIssuer(func() *config.Config { return cfg }, km, st, clk.Now)}
}

func TestIDTokenClaimsByScope(t *testing.T) {
	profileClaims := []string{"name", "nickname", "picture", "given_name", "family_name", "locale", "updated_at"}
	emailClaims := []string{"email", "email_verified"}
	tests := []struct {
		name        string
		scope       string
		strict      bool
		nonce       string
		want, avoid []string
	}{
		{name: "openid only", scope: "openid", avoid: append(profileClaims, emailClaims...)},
		{name: "profile", scope: "openid profile", want: profileClaims, avoid: emailClaims},
		{name: "email", scope: "openid email", want: emailClaims, avoid: profileClaims},
		{name: "all with nonce", scope: "openid profile email", nonce: "n-0S6_WzA2Mj", want: append(append(profileClaims, emailClaims...), "nonce")},
		{name: "strict", scope: "openid profile", strict: true, want: profileClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.strict)
			authTime := e.clock.Now().Add(-30 * time.Second)
			tok, err := e.iss.IDToken(context.Background(), tokens.IDTokenRequest{
				User: e.user, ClientID: "spa", Nonce: tt.nonce, SessionID: "sid-1", Scope: tt.scope, AuthTime: authTime,
			})
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			if err := e.keys.Verify(tok, &c); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			now := e.clock.Now().Unix()
			fixed := map[string]any{
				"iss": issuer, "sub": e.user.ID, "aud": "spa", "azp": "spa", "sid": "sid-1",
				"iat": float64(now), "exp": float64(now + 36000), "auth_time": float64(authTime.Unix()),
			}
			for k, v := range fixed {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			for _, k := range tt.want {
				if _, ok := c[k]; !ok {
					t.Errorf("claim %s missing", k)
				}
			}
			for _, k := range tt.avoid {
				if _, ok := c[k]; ok {
					t.Errorf("claim %s present without its scope", k)
				}
			}
			if _, ok := c["nonce"]; ok != (tt.nonce != "") {
				t.Errorf("nonce present = %v, want %v", ok, tt.nonce != "")
			}
			if ua, ok := c["updated_at"]; ok {
				if tt.strict {
					if ua != float64(e.user.UpdatedAt.Unix()) {
						t.Errorf("strict updated_at = %v, want %d", ua, e.user.UpdatedAt.Unix())
					}
				} else if ua != "2025-03-01T11:59:00.000Z" {
					t.Errorf("updated_at = %v, want RFC 3339 string", ua)
				}
			}
		})
	}
}

func TestIDTokenNeedsUserAndClient(t *testing.T) {
	e := newEnv(t, false)
	if _, err := e.iss.IDToken(context.Background(), tokens.IDTokenRequest{ClientID: "spa"}); err == nil {
		t.Fatal("IDToken without a user succeeded")
	}
	if _, err := e.iss.IDToken(context.Background(), tokens.IDTokenRequest{User: e.user}); err == nil {
		t.Fatal("IDToken without a client succeeded")
	}
}

func TestJWTAccessToken(t *testing.T) {
	tests := []struct {
		name    string
		req     tokens.AccessTokenRequest
		wantAud any
		wantSub string
		wantGty string
	}{
		{
			name:    "openid adds userinfo audience",
			req:     tokens.AccessTokenRequest{UserID: "auth0|0123456789abcdef01234567", ClientID: "spa", Audience: api, Scope: "openid read:items", GrantType: tokens.GrantAuthorizationCode},
			wantAud: []any{api, issuer + "userinfo"}, wantSub: "auth0|0123456789abcdef01234567",
		},
		{
			name:    "without openid the audience is a string",
			req:     tokens.AccessTokenRequest{UserID: "auth0|0123456789abcdef01234567", ClientID: "spa", Audience: api, Scope: "read:items", GrantType: tokens.GrantRefreshToken},
			wantAud: api, wantSub: "auth0|0123456789abcdef01234567", wantGty: "refresh_token",
		},
		{
			name:    "client credentials",
			req:     tokens.AccessTokenRequest{ClientID: "worker", Audience: api, Scope: "read:items", GrantType: tokens.GrantClientCredentials},
			wantAud: api, wantSub: "worker@clients", wantGty: "client-credentials",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			at, err := e.iss.AccessToken(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if at.ExpiresIn != time.Hour {
				t.Errorf("ExpiresIn = %v, want the API's token_lifetime 1h", at.ExpiresIn)
			}
			var c map[string]any
			if err := e.keys.Verify(at.Value, &c); err != nil {
				t.Fatal(err)
			}
			aud, _ := json.Marshal(c["aud"])
			want, _ := json.Marshal(tt.wantAud)
			if string(aud) != string(want) {
				t.Errorf("aud = %s, want %s", aud, want)
			}
			if c["sub"] != tt.wantSub || c["azp"] != tt.req.ClientID || c["scope"] != tt.req.Scope || c["iss"] != issuer {
				t.Errorf("claims = %v", c)
			}
			if g, _ := c["gty"].(string); g != tt.wantGty {
				t.Errorf("gty = %q, want %q", g, tt.wantGty)
			}
		})
	}
}

func TestAccessTokenUnknownAudience(t *testing.T) {
	e := newEnv(t, false)
	_, err := e.iss.AccessToken(context.Background(), tokens.AccessTokenRequest{UserID: e.user.ID, ClientID: "spa", Audience: "https://nope.test/"})
	if !errors.Is(err, tokens.ErrUnknownAudience) {
		t.Fatalf("err = %v, want ErrUnknownAudience", err)
	}
	if _, err := e.iss.AccessToken(context.Background(), tokens.AccessTokenRequest{ClientID: "spa"}); err == nil {
		t.Fatal("opaque token without a user succeeded")
	}
}

func TestOpaqueAccessTokenSealed(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	mint := func(grant string) string {
		t.Helper()
		at, err := e.iss.AccessToken(ctx, tokens.AccessTokenRequest{UserID: e.user.ID, ClientID: "spa", Scope: "openid profile", GrantID: grant})
		if err != nil {
			t.Fatal(err)
		}
		if at.ExpiresIn != 86400*time.Second {
			t.Errorf("ExpiresIn = %v, want 86400s", at.ExpiresIn)
		}
		return at.Value
	}
	tok := mint("g1")

	// A compact JWE, dir + A256GCM, like Auth0's opaque tokens; its content
	// is not readable without the secret.
	parts := strings.Split(tok, ".")
	if len(parts) != 5 || parts[1] != "" {
		t.Fatalf("token %q: want a compact JWE with an empty encrypted key", tok)
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(hdr, &h); err != nil || h["alg"] != "dir" || h["enc"] != "A256GCM" {
		t.Fatalf("header %s: %v", hdr, err)
	}
	if strings.Contains(tok, e.user.ID) || strings.Contains(string(hdr), "spa") {
		t.Fatal("token shows its claims")
	}
	if tok == mint("g1") {
		t.Fatal("two tokens of one grant are equal: no fresh nonce")
	}
	// Nothing is stored.
	if _, err := e.st.GetAccessToken(ctx, store.HashToken(tok), e.clock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("sealed token found in the store: %v", err)
	}

	info, err := e.iss.CheckAccessToken(ctx, tok)
	if err != nil || !info.Opaque || info.UserID != e.user.ID || info.ClientID != "spa" || info.Scope != "openid profile" {
		t.Fatalf("CheckAccessToken = %+v, %v", info, err)
	}
	if info.User == nil || info.User.User.Email != e.user.Email {
		t.Fatalf("CheckAccessToken user = %+v", info.User)
	}

	// Another secret cannot open it; a changed byte anywhere breaks it.
	otherKeys := keys.NewManager(e.st, []byte("another secret, 32 bytes long.."), keys.Options{Now: e.clock.Now})
	other := tokens.NewIssuer(func() *config.Config { return e.cfg }, otherKeys, e.st, e.clock.Now)
	if _, err := other.CheckAccessToken(ctx, tok); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("other secret: err = %v, want ErrInvalidToken", err)
	}
	for _, i := range []int{3, len(parts[0]) + 5, len(tok) / 2, len(tok) - 3} {
		b := []byte(tok)
		if b[i] == '.' {
			continue
		}
		b[i] ^= 1
		if _, err := e.iss.CheckAccessToken(ctx, string(b)); !errors.Is(err, tokens.ErrInvalidToken) {
			t.Errorf("byte %d changed: err = %v, want ErrInvalidToken", i, err)
		}
	}

	// Revoking the grant refuses its tokens, and only its tokens.
	other1 := mint("g2")
	noGrant := mint("")
	if err := e.st.RevokeGrant(ctx, "g1", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iss.CheckAccessToken(ctx, tok); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("revoked grant: err = %v, want ErrInvalidToken", err)
	}
	for _, ok := range []string{other1, noGrant} {
		if _, err := e.iss.CheckAccessToken(ctx, ok); err != nil {
			t.Fatalf("token of another grant: %v", err)
		}
	}

	// Another issuer's name, expiry, and a deleted user.
	renamed := *e.cfg
	renamed.Issuer = "https://other.test/"
	if _, err := tokens.NewIssuer(func() *config.Config { return &renamed }, e.keys, e.st, e.clock.Now).CheckAccessToken(ctx, other1); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("other issuer: err = %v, want ErrInvalidToken", err)
	}
	e.clock.Add(86400*time.Second - time.Second)
	if _, err := e.iss.CheckAccessToken(ctx, other1); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	e.clock.Add(time.Second)
	if _, err := e.iss.CheckAccessToken(ctx, other1); !errors.Is(err, tokens.ErrExpiredToken) {
		t.Fatalf("at expiry: err = %v, want ErrExpiredToken", err)
	}
	fresh := mint("g3")
	if err := e.st.DeleteUser(ctx, e.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iss.CheckAccessToken(ctx, fresh); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("deleted user: err = %v, want ErrInvalidToken", err)
	}
}

// Opaque tokens stored by earlier versions stay good until they expire.
func TestOpaqueAccessTokenStored(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	const value = "Z2l2ZS1tZS1hLXN0b3JlZC10b2tlbi1vZi00My1jaGFycw"
	now := e.clock.Now()
	if err := e.st.CreateAccessToken(ctx, &store.AccessToken{
		Hash: store.HashToken(value), GrantID: "g1", ClientID: "spa", UserID: e.user.ID,
		Scope: "openid", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	info, err := e.iss.CheckAccessToken(ctx, value)
	if err != nil || !info.Opaque || info.UserID != e.user.ID || info.Scope != "openid" {
		t.Fatalf("CheckAccessToken = %+v, %v", info, err)
	}
	if err := e.st.RevokeGrant(ctx, "g1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iss.CheckAccessToken(ctx, value); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("revoked token: err = %v, want ErrInvalidToken", err)
	}
}

func TestCheckAccessToken(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	mint := func(req tokens.AccessTokenRequest) string {
		at, err := e.iss.AccessToken(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return at.Value
	}
	withUserinfo := mint(tokens.AccessTokenRequest{UserID: e.user.ID, ClientID: "spa", Audience: api, Scope: "openid profile"})
	apiOnly := mint(tokens.AccessTokenRequest{UserID: e.user.ID, ClientID: "spa", Audience: api, Scope: "read:items"})
	m2m := mint(tokens.AccessTokenRequest{ClientID: "worker", Audience: api, Scope: "openid", GrantType: tokens.GrantClientCredentials})
	idToken, err := e.iss.IDToken(ctx, tokens.IDTokenRequest{User: e.user, ClientID: "spa", Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	other := newEnv(t, false) // another key, same issuer name
	foreign, err := other.iss.AccessToken(ctx, tokens.AccessTokenRequest{UserID: e.user.ID, ClientID: "spa", Audience: api, Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}

	info, err := e.iss.CheckAccessToken(ctx, withUserinfo)
	if err != nil || info.Opaque || info.UserID != e.user.ID || info.Scope != "openid profile" {
		t.Fatalf("valid JWT: %+v, %v", info, err)
	}
	tests := []struct {
		name, token string
		want        error
	}{
		{"empty", "", tokens.ErrInvalidToken},
		{"garbage", "not-a-token", tokens.ErrInvalidToken},
		{"three garbage parts", "a.b.c", tokens.ErrInvalidToken},
		{"no userinfo audience", apiOnly, tokens.ErrInvalidToken},
		{"client credentials", m2m, tokens.ErrInvalidToken},
		{"ID token", idToken, tokens.ErrInvalidToken},
		{"other signer", foreign.Value, tokens.ErrInvalidToken},
		{"huge", strings.Repeat("a", 100000), tokens.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.iss.CheckAccessToken(ctx, tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.clock.Add(time.Hour + time.Second)
		if _, err := e.iss.CheckAccessToken(ctx, withUserinfo); !errors.Is(err, tokens.ErrExpiredToken) {
			t.Fatalf("err = %v, want ErrExpiredToken", err)
		}
	})
}

func TestCheckIDTokenHint(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	tok, err := e.iss.IDToken(ctx, tokens.IDTokenRequest{User: e.user, ClientID: "spa", SessionID: "s1", Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(48 * time.Hour) // expired hints are accepted
	c, err := e.iss.CheckIDTokenHint(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != e.user.ID || !c.Audience.Contains("spa") || c.SessionID != "s1" {
		t.Fatalf("claims = %+v", c)
	}
	for _, bad := range []string{"", "x", "a.b.c", tok + "x"} {
		if _, err := e.iss.CheckIDTokenHint(bad); !errors.Is(err, tokens.ErrInvalidToken) {
			t.Errorf("CheckIDTokenHint(%q) err = %v, want ErrInvalidToken", bad, err)
		}
	}
}

func TestAudienceJSON(t *testing.T) {
	tests := []struct {
		in   string
		want tokens.Audience
		ok   bool
	}{
		{`"a"`, tokens.Audience{"a"}, true},
		{`["a","b"]`, tokens.Audience{"a", "b"}, true},
		{`[]`, tokens.Audience{}, true},
		{`1`, nil, false},
		{`{"a":1}`, nil, false},
		{`[1]`, nil, false},
	}
	for _, tt := range tests {
		var a tokens.Audience
		err := json.Unmarshal([]byte(tt.in), &a)
		if (err == nil) != tt.ok {
			t.Errorf("Unmarshal(%s) err = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && strings.Join(a, ",") != strings.Join(tt.want, ",") {
			t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, a, tt.want)
		}
	}
	one, _ := json.Marshal(tokens.Audience{"a"})
	two, _ := json.Marshal(tokens.Audience{"a", "b"})
	if string(one) != `"a"` || string(two) != `["a","b"]` {
		t.Errorf("Marshal = %s, %s", one, two)
	}
}

func TestScopeHelpers(t *testing.T) {
	if !tokens.HasScope("openid  profile", "profile") || tokens.HasScope("openid profile", "prof") {
		t.Error("HasScope")
	}
	if got := tokens.NormalizeScope("  b a\tb  "); got != "b a" {
		t.Errorf("NormalizeScope = %q", got)
	}
	tests := []struct {
		want, have, out string
		ok              bool
	}{
		{"openid", "openid profile", "openid", true},
		{"profile openid profile", "openid profile", "profile openid", true},
		{"openid email", "openid profile", "", false},
		{"", "openid", "", true},
	}
	for _, tt := range tests {
		out, ok := tokens.SubsetScope(tt.want, tt.have)
		if ok != tt.ok || out != tt.out {
			t.Errorf("SubsetScope(%q, %q) = %q, %v; want %q, %v", tt.want, tt.have, out, ok, tt.out, tt.ok)
		}
	}
}
