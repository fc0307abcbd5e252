package flowtest

import (
	"context"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/users"
)

const (
	callback = "http://app.test/callback"
	apiID    = "https://api.test/"
	email    = "flow@example.com"
	userPW   = "correct horse battery"
)

// start runs latch on 127.0.0.1 with the listener's address as its issuer,
// so discovery, JWKS and token endpoints are all reachable by go-oidc.
func start(t *testing.T) (issuer string) {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer = "http://" + ln.Addr().String() + "/"
	cfg := &config.Config{
		Issuer: issuer,
		APIs:   []config.API{{Identifier: apiID, Scopes: []string{"read:items"}, AllowOfflineAccess: true}},
		Clients: []config.Client{{
			ClientID: "spa", Type: config.TypeSPA, Callbacks: []string{callback},
			WebOrigins: []string{"http://app.test"}, AllowedLogoutURLs: []string{"http://app.test/"},
		}},
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	km := keys.NewManager(st, []byte("0123456789abcdef0123456789abcdef"), keys.Options{})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)
	if _, err := users.Create(ctx, st, hasher, users.NewUser{
		Connection: config.DefaultConnection, Email: email, Password: userPW, Name: "Flo Flow",
	}, 8, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(server.New(server.Deps{
		Config: func() *config.Config { return cfg }, Store: st, Keys: km, Passwords: hasher,
	}))
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = st.Close()
	})
	return issuer
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// browse plays the browser: it follows latch's redirects (keeping cookies)
// from authURL through the hosted login page until latch redirects to the
// application's callback, and returns the code and state found there.
func browse(t *testing.T, issuer, authURL string) (code, state string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base, _ := url.Parse(issuer)
	get := func(u string) (*http.Response, string) {
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, _ := get(authURL)
	for hops := 0; ; hops++ {
		if hops > 10 {
			t.Fatal("too many redirects")
		}
		if res.StatusCode != http.StatusFound {
			t.Fatalf("expected a redirect, got %d", res.StatusCode)
		}
		loc, err := base.Parse(res.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if loc.Host != base.Host {
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callback {
				t.Fatalf("redirected to %s, want the callback", got)
			}
			q := loc.Query()
			if q.Get("error") != "" {
				t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
			}
			return q.Get("code"), q.Get("state")
		}
		var body string
		res, body = get(loc.String())
		if res.StatusCode == http.StatusOK && strings.HasPrefix(loc.Path, "/u/login") {
			form := url.Values{}
			for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
				form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
			}
			if form.Get("csrf") == "" {
				t.Fatalf("login page without a CSRF field:\n%s", body)
			}
			form.Set("username", email)
			form.Set("password", userPW)
			post, err := c.PostForm(loc.String(), form)
			if err != nil {
				t.Fatal(err)
			}
			_ = post.Body.Close()
			res = post
		}
	}
}

// TestFullFlow: golang.org/x/oauth2 with PKCE → /authorize → hosted login →
// code → Exchange → ID token verified with go-oidc through discovery and
// JWKS → userinfo → refresh twice → replaying the first refresh token
// revokes the family.
func TestFullFlow(t *testing.T) {
	issuer := start(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID: "spa", Endpoint: provider.Endpoint(), RedirectURL: callback,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
	verifier := oauth2.GenerateVerifier()
	const nonce, wantState = "n-0S6_WzA2Mj", "af0ifjsldkj"
	authURL := conf.AuthCodeURL(wantState, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce),
		oauth2.SetAuthURLParam("audience", apiID))
	code, state := browse(t, issuer, authURL)
	if code == "" || state != wantState {
		t.Fatalf("callback code %q state %q", code, state)
	}

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idVerifier := provider.Verifier(&oidc.Config{ClientID: "spa"})
	rawID, _ := tok.Extra("id_token").(string)
	id, err := idVerifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		Email     string `json:"email"`
		Name      string `json:"name"`
		SID       string `json:"sid"`
		UpdatedAt string `json:"updated_at"`
	}
	if err := id.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if id.Nonce != nonce || claims.Email != email || claims.Name != "Flo Flow" || claims.SID == "" || claims.UpdatedAt == "" {
		t.Fatalf("ID token: nonce %q, claims %+v", id.Nonce, claims)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token = %+v", tok)
	}
	if strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("access token for an API audience should be a JWT")
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != id.Subject || info.Email != email {
		t.Fatalf("userinfo = %+v", info)
	}

	refreshTwiceThenReplay(t, &conf, idVerifier, id.Subject, tok.RefreshToken)
}

// refreshTwiceThenReplay refreshes twice (each answer rotates the refresh
// token and carries a verifiable ID token for the same user without nonce),
// then replays the first refresh token: the replay and the newest token are
// both refused, because the family is revoked.
func refreshTwiceThenReplay(t *testing.T, conf *oauth2.Config, idVerifier *oidc.IDTokenVerifier, sub, rt1 string) {
	ctx := context.Background()
	refresh := func(rt string) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
	}
	second, err := refresh(rt1)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	third, err := refresh(second.RefreshToken)
	if err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	for i, tk := range []*oauth2.Token{second, third} {
		if tk.RefreshToken == "" || tk.RefreshToken == rt1 {
			t.Fatalf("refresh %d did not rotate", i+1)
		}
		raw, _ := tk.Extra("id_token").(string)
		rid, err := idVerifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("refresh %d ID token: %v", i+1, err)
		}
		if rid.Subject != sub || rid.Nonce != "" {
			t.Fatalf("refresh %d ID token: sub %q nonce %q", i+1, rid.Subject, rid.Nonce)
		}
	}

	// Replaying the first refresh token revokes the family: the replay and
	// then the newest token are refused with Auth0's answer.
	for _, rt := range []string{rt1, third.RefreshToken} {
		_, err := refresh(rt)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Unknown or invalid refresh token." || re.Response.StatusCode != http.StatusForbidden {
			t.Fatalf("refresh after replay: %v", err)
		}
	}
}
