package auth0api_test

// Tests against a live latch: server.New on httptest, a real SQLite file,
// no mocks. The browser step is a test HTTP client with a cookie jar that
// fills the hosted login form, as a user would.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/auth0api"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/users"
)

const (
	liveClient   = "cli"
	liveAPI      = "https://api.test/"
	liveEmail    = "ann@example.com"
	livePassword = "correct horse battery"
	liveLogout   = "http://app.test/bye"
	liveSecret   = "0123456789abcdef0123456789abcdef"
)

// live is one running latch and its only user.
type live struct {
	url  string
	st   store.Store
	user *store.User
}

// startLatch runs latch on 127.0.0.1 with a native client whose callback is
// the loopback http://127.0.0.1/callback (any port, RFC 8252 §7.3). The
// issuer is the server's own URL, so ID tokens verify against Domain.
func startLatch(t *testing.T) *live {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	km := keys.NewManager(st, []byte(liveSecret), keys.Options{})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)
	var cfg *config.Config
	srv := httptest.NewUnstartedServer(server.New(server.Deps{
		Config: func() *config.Config { return cfg }, Store: st, Keys: km, Passwords: hasher,
	}))
	base := "http://" + srv.Listener.Addr().String()
	cfg = &config.Config{
		Issuer: base + "/",
		Tenant: config.Tenant{Name: "Acme"},
		APIs: []config.API{{Identifier: liveAPI, Name: "Items", Scopes: []string{"read:items"},
			AllowOfflineAccess: true}},
		Clients: []config.Client{{ClientID: liveClient, Name: "Latch CLI", Type: config.TypeNative,
			Callbacks:         []string{"http://127.0.0.1/callback"},
			AllowedLogoutURLs: []string{liveLogout}}},
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = st.Close()
	})
	created, _ := time.Parse(time.RFC3339, "2024-01-02T03:04:05Z")
	u, err := users.Create(ctx, st, hasher, users.NewUser{
		Connection: config.DefaultConnection, Email: liveEmail, EmailVerified: true, Username: "ann",
		Password: livePassword, Name: "Ann Smith", Nickname: "annie", GivenName: "Ann", FamilyName: "Smith",
		Locale: "en-GB", UserMetadata: json.RawMessage(`{"vanityname":"ann","beta":true}`), CreatedAt: created,
	}, 8, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &live{url: base, st: st, user: u}
}

func (l *live) client() *auth0api.Client {
	return &auth0api.Client{Domain: l.url, ClientID: liveClient}
}

// browser is a user at a browser: a cookie jar (the SSO session) and the
// credentials it types into the hosted login page.
type browser struct {
	c        *http.Client
	password string
	// edit, when set, changes the /authorize URL before it is opened.
	edit func(*url.URL)
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar}, password: livePassword}
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)"`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// open is an auth0api.AuthorizeOptions.OpenBrowser: it follows /authorize
// to the login page, posts the credentials with the page's hidden fields
// (state, csrf), and follows the answer to the loopback redirect URI —
// submitting the form_post page when the answer is one.
func (b *browser) open(authURL string) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	if b.edit != nil {
		b.edit(u)
	}
	res, body, err := b.do(http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	for range 3 {
		if !formRE.MatchString(body) {
			if res.StatusCode >= 400 {
				return fmt.Errorf("browser: %s answered %d", res.Request.URL.Path, res.StatusCode)
			}
			return nil // the loopback page: done
		}
		action, _ := url.Parse(html.UnescapeString(formRE.FindStringSubmatch(body)[1]))
		form := url.Values{}
		for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
			form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		if strings.HasPrefix(res.Request.URL.Path, "/u/login") {
			form.Set("username", liveEmail)
			form.Set("password", b.password)
		}
		if res, body, err = b.do(http.MethodPost, res.Request.URL.ResolveReference(action).String(), form); err != nil {
			return err
		}
	}
	return errors.New("browser: too many forms")
}

func (b *browser) do(method, target string, form url.Values) (*http.Response, string, error) {
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, string(body), err
}

// loginRequest is the request of a CLI login with a refresh token.
func loginRequest(nonce string) auth0api.AuthorizeRequest {
	return auth0api.AuthorizeRequest{
		Audience: liveAPI, Scope: []string{"openid", "profile", "email", "offline_access"}, Nonce: nonce,
	}
}

// login runs Authorize and the code exchange through b.
func login(t *testing.T, ctx context.Context, c *auth0api.Client, b *browser, req auth0api.AuthorizeRequest) *auth0api.OAuthToken {
	t.Helper()
	res, err := c.Authorize(ctx, req, auth0api.AuthorizeOptions{OpenBrowser: b.open})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if res.Code == "" || res.CodeVerifier == "" || !strings.HasPrefix(res.RedirectURI, "http://127.0.0.1:") {
		t.Fatalf("Authorize = %+v", res)
	}
	tok, err := c.ExchangeForToken(ctx, auth0api.ExchangeRequest{
		Code: res.Code, RedirectURI: res.RedirectURI, CodeVerifier: res.CodeVerifier,
	})
	if err != nil {
		t.Fatalf("ExchangeForToken: %v", err)
	}
	return tok
}

func TestLiveFullFlow(t *testing.T) {
	l := startLatch(t)
	ctx := t.Context()
	c := l.client()
	for _, mode := range []string{"query", "form_post"} {
		t.Run(mode, func(t *testing.T) {
			nonce := auth0api.NewNonce()
			req := loginRequest(nonce)
			req.ResponseMode = mode
			tok := login(t, ctx, c, newBrowser(), req)
			if tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 || tok.RefreshToken == "" || tok.IDToken == "" ||
				!strings.Contains(tok.Scope, "offline_access") {
				t.Fatalf("token = %+v", tok)
			}
			claims, err := c.VerifyIDToken(ctx, tok.IDToken, nonce)
			if err != nil {
				t.Fatalf("VerifyIDToken: %v", err)
			}
			if claims.Subject != l.user.ID || claims.Nonce != nonce || claims.Email != liveEmail ||
				!claims.EmailVerified || claims.Name != "Ann Smith" || claims.SessionID == "" || claims.UpdatedAt.IsZero() {
				t.Fatalf("claims = %+v", claims)
			}
			if _, err := c.VerifyIDToken(ctx, tok.IDToken, "another nonce"); !errors.Is(err, auth0api.ErrInvalidIDToken) {
				t.Fatalf("VerifyIDToken with another nonce = %v, want ErrInvalidIDToken", err)
			}
		})
	}
}

func TestLiveUserInfoEveryField(t *testing.T) {
	l := startLatch(t)
	ctx := t.Context()
	c := l.client()
	tok := login(t, ctx, c, newBrowser(), loginRequest(""))
	u, err := c.UserInfo(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	stored, err := l.st.GetUser(ctx, l.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		field string
		ok    bool
	}{
		{"sub", u.Sub == l.user.ID},
		{"user_id", u.UserID == l.user.ID},
		{"name", u.Name == "Ann Smith"},
		{"nickname", u.Nickname == "annie"},
		{"given_name", u.GivenName == "Ann"},
		{"family_name", u.FamilyName == "Smith"},
		{"locale", u.Locale == "en-GB"},
		{"username", u.Username == "ann"},
		{"email", u.Email == liveEmail},
		{"email_verified", u.EmailVerified},
		{"picture", strings.HasPrefix(u.Picture, "https://s.gravatar.com/avatar/")},
		{"created_at", u.CreatedAt.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))},
		{"updated_at", u.UpdatedAt.Equal(stored.UpdatedAt.Truncate(time.Millisecond))},
		{"last_login", !u.LastLogin.IsZero() && u.LastLogin.Equal(stored.LastLogin.Truncate(time.Millisecond))},
		{"last_ip", u.LastIP == "127.0.0.1"},
		{"logins_count", u.LoginsCount == 1},
		{"identities", len(u.Identities) == 1 && u.Identities[0] == auth0api.Auth0Identity{
			Connection: config.DefaultConnection, Provider: "auth0",
			UserID: strings.TrimPrefix(l.user.ID, "auth0|"), IsSocial: false}},
		{"user_metadata", u.UserMetadata["vanityname"] == "ann" && u.UserMetadata["beta"] == true},
		{"blocked_for", u.BlockedFor != nil && len(u.BlockedFor) == 0},
		{"guardian_authenticators", u.GuardianAuthenticators != nil && len(u.GuardianAuthenticators) == 0},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s wrong in %+v", ch.field, u)
		}
	}
}

func TestLiveRefreshRotationAndLogout(t *testing.T) {
	l := startLatch(t)
	ctx := t.Context()
	c := l.client()
	tok := login(t, ctx, c, newBrowser(), loginRequest(auth0api.NewNonce()))
	first, err := c.VerifyIDToken(ctx, tok.IDToken, "")
	if err != nil {
		t.Fatal(err)
	}
	next, err := c.ExchangeForToken(ctx, auth0api.ExchangeRequest{RefreshToken: tok.RefreshToken})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", next)
	}
	again, err := c.VerifyIDToken(ctx, next.IDToken, "")
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if again.Subject != first.Subject || again.SessionID != first.SessionID || again.Nonce != "" {
		t.Fatalf("refreshed claims = %+v, first = %+v", again, first)
	}
	if _, err := c.UserInfo(ctx, next.AccessToken); err != nil {
		t.Fatalf("UserInfo with the refreshed token: %v", err)
	}
	// The rotated-out token is refused, and its reuse revokes the family.
	for _, rt := range []string{tok.RefreshToken, next.RefreshToken} {
		_, err = c.ExchangeForToken(ctx, auth0api.ExchangeRequest{RefreshToken: rt})
		var e *auth0api.Error
		if !errors.As(err, &e) || e.Code != "invalid_grant" || e.StatusCode != http.StatusForbidden {
			t.Fatalf("refresh after reuse = %v, want 403 invalid_grant", err)
		}
	}

	t.Run("logout", func(t *testing.T) {
		if got := c.LogoutURL(liveLogout); got != l.url+"/v2/logout?client_id=cli&returnTo=http%3A%2F%2Fapp.test%2Fbye" {
			t.Fatalf("LogoutURL = %s", got)
		}
		for _, tc := range []struct{ name, returnTo, want string }{
			{"returnTo allowed", liveLogout + "?x=1", liveLogout + "?x=1"},
			{"default returnTo", "", liveLogout},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := c.Logout(ctx, tc.returnTo)
				if err != nil || got != tc.want {
					t.Fatalf("Logout(%q) = %q, %v; want %q", tc.returnTo, got, err, tc.want)
				}
			})
		}
		t.Run("no client", func(t *testing.T) {
			bare := &auth0api.Client{Domain: l.url}
			if got, err := bare.Logout(ctx, ""); err != nil || got != "OK" {
				t.Fatalf("Logout = %q, %v; want OK", got, err)
			}
		})
		t.Run("returnTo refused", func(t *testing.T) {
			_, err := c.Logout(ctx, "https://evil.test/")
			var e *auth0api.Error
			if !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest || !strings.Contains(e.Description, "Allowed Logout URLs") {
				t.Fatalf("Logout = %v, want a 400 *Error about Allowed Logout URLs", err)
			}
		})
	})
}

// TestLiveSilentLogin: prompt=none logs in again with the SSO session and
// no form; a browser without one gets login_required.
func TestLiveSilentLogin(t *testing.T) {
	l := startLatch(t)
	ctx := t.Context()
	c := l.client()
	b := newBrowser()
	login(t, ctx, c, b, loginRequest(""))
	b.password = "not used: no form is shown"
	req := loginRequest("")
	req.Prompt = "none"
	if tok := login(t, ctx, c, b, req); tok.AccessToken == "" {
		t.Fatal("no access token")
	}
}

// liveErrorCase is one way a login goes wrong.
type liveErrorCase struct {
	name   string
	run    func(ctx context.Context) error
	code   string // want an *auth0api.Error with this code
	status int
	is     error // or an error that Is this
}

func liveErrorCases(l *live, c *auth0api.Client) []liveErrorCase {
	return []liveErrorCase{
		{name: "state mismatch", is: auth0api.ErrStateMismatch, run: func(ctx context.Context) error {
			b := newBrowser()
			b.edit = func(u *url.URL) {
				q := u.Query()
				q.Set("state", "forged")
				u.RawQuery = q.Encode()
			}
			_, err := c.Authorize(ctx, loginRequest(""), auth0api.AuthorizeOptions{OpenBrowser: b.open})
			return err
		}},
		{name: "login_required", code: "login_required", run: func(ctx context.Context) error {
			req := loginRequest("")
			req.Prompt = "none"
			_, err := c.Authorize(ctx, req, auth0api.AuthorizeOptions{OpenBrowser: newBrowser().open})
			return err
		}},
		{name: "login_required by form_post", code: "login_required", run: func(ctx context.Context) error {
			req := loginRequest("")
			req.Prompt, req.ResponseMode = "none", "form_post"
			_, err := c.Authorize(ctx, req, auth0api.AuthorizeOptions{OpenBrowser: newBrowser().open})
			return err
		}},
		{name: "wrong verifier", code: "invalid_grant", status: http.StatusForbidden, run: func(ctx context.Context) error {
			res, err := c.Authorize(ctx, loginRequest(""), auth0api.AuthorizeOptions{OpenBrowser: newBrowser().open})
			if err != nil {
				return err
			}
			_, err = c.ExchangeForToken(ctx, auth0api.ExchangeRequest{
				Code: res.Code, RedirectURI: res.RedirectURI, CodeVerifier: auth0api.NewVerifier(),
			})
			return err
		}},
		{name: "code used twice", code: "invalid_grant", status: http.StatusForbidden, run: func(ctx context.Context) error {
			res, err := c.Authorize(ctx, loginRequest(""), auth0api.AuthorizeOptions{OpenBrowser: newBrowser().open})
			if err != nil {
				return err
			}
			ex := auth0api.ExchangeRequest{Code: res.Code, RedirectURI: res.RedirectURI, CodeVerifier: res.CodeVerifier}
			if _, err := c.ExchangeForToken(ctx, ex); err != nil {
				return fmt.Errorf("first exchange: %w", err)
			}
			_, err = c.ExchangeForToken(ctx, ex)
			return err
		}},
		{name: "unknown refresh token", code: "invalid_grant", status: http.StatusForbidden, run: func(ctx context.Context) error {
			_, err := c.ExchangeForToken(ctx, auth0api.ExchangeRequest{RefreshToken: "nope"})
			return err
		}},
		{name: "bad access token", code: "invalid_token", status: http.StatusUnauthorized, run: func(ctx context.Context) error {
			_, err := c.UserInfo(ctx, "not-a-token")
			return err
		}},
		{name: "unknown client", code: "", run: func(ctx context.Context) error {
			other := &auth0api.Client{Domain: l.url, ClientID: "nobody"}
			_, err := other.Authorize(ctx, loginRequest(""), auth0api.AuthorizeOptions{OpenBrowser: newBrowser().open})
			if err == nil || !strings.Contains(err.Error(), "open the browser") {
				return fmt.Errorf("want the browser's error (an HTML error page, no redirect), got %v", err)
			}
			return nil
		}},
		{name: "cancelled", is: context.Canceled, run: func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := c.Authorize(ctx, loginRequest(""), auth0api.AuthorizeOptions{
				OpenBrowser: func(string) error { return nil }, // the user never comes back
			})
			return err
		}},
	}
}

func TestLiveErrors(t *testing.T) {
	l := startLatch(t)
	for _, tc := range liveErrorCases(l, l.client()) {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t.Context())
			switch {
			case tc.is != nil:
				if !errors.Is(err, tc.is) {
					t.Fatalf("err = %v, want %v", err, tc.is)
				}
			case tc.code != "":
				var e *auth0api.Error
				if !errors.As(err, &e) || e.Code != tc.code || e.StatusCode != tc.status {
					t.Fatalf("err = %#v (%v), want *Error code %q status %d", err, err, tc.code, tc.status)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
