package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
)

// newSession stores an SSO session for the test user and returns its
// cookie value.
func (e *env) newSession() string {
	e.t.Helper()
	now := e.clock.Now()
	cookie := session.NewToken()
	err := e.st.CreateSession(context.Background(), &store.Session{
		ID: session.NewToken(), CookieHash: store.HashToken(cookie), UserID: e.user.ID,
		AuthTime: now, CreatedAt: now, LastSeenAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return cookie
}

func (e *env) sessionAlive(cookie string) bool {
	_, err := e.st.GetSessionByCookie(context.Background(), store.HashToken(cookie), e.clock.Now())
	return err == nil
}

func (e *env) idToken(clientID, sid string) string {
	e.t.Helper()
	iss := tokens.NewIssuer(func() *config.Config { return e.cfg }, e.keys, e.st, e.clock.Now)
	tok, err := iss.IDToken(context.Background(), tokens.IDTokenRequest{User: e.user, ClientID: clientID, SessionID: sid, Scope: "openid"})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func TestV2Logout(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		status     int
		location   string
		endSession bool
	}{
		{"no parameters", "", 200, "", true},
		{"client default returnTo", "client_id=spa", 302, "http://app.test/bye", true},
		{"client without logout URLs", "client_id=spa2", 200, "", true},
		{"allowed returnTo", "client_id=spa&returnTo=" + url.QueryEscape("http://app.test/bye"), 302, "http://app.test/bye", true},
		{"returnTo query and fragment ignored", "client_id=spa&returnTo=" + url.QueryEscape("http://app.test/bye?x=1#y"), 302, "http://app.test/bye?x=1#y", true},
		{"host case-insensitive", "client_id=spa&returnTo=" + url.QueryEscape("http://APP.test/bye"), 302, "http://APP.test/bye", true},
		{"wildcard sub-domain", "client_id=spa&returnTo=" + url.QueryEscape("https://eu.app.test/bye"), 302, "https://eu.app.test/bye", true},
		{"tenant list without client_id", "returnTo=" + url.QueryEscape("http://app.test/tenant-bye"), 302, "http://app.test/tenant-bye", true},
		{"federated flag ignored", "client_id=spa&federated", 302, "http://app.test/bye", true},
		{"client URL without client_id", "returnTo=" + url.QueryEscape("http://app.test/bye"), 400, "", false},
		{"tenant URL with client_id", "client_id=spa&returnTo=" + url.QueryEscape("http://app.test/tenant-bye"), 400, "", false},
		{"path case-sensitive", "client_id=spa&returnTo=" + url.QueryEscape("http://app.test/BYE"), 400, "", false},
		{"wildcard is one label", "client_id=spa&returnTo=" + url.QueryEscape("https://a.b.app.test/bye"), 400, "", false},
		{"other scheme", "client_id=spa&returnTo=" + url.QueryEscape("https://app.test/bye"), 400, "", false},
		{"user info", "client_id=spa&returnTo=" + url.QueryEscape("http://evil@app.test/bye"), 400, "", false},
		{"javascript URL", "client_id=spa&returnTo=" + url.QueryEscape("javascript:alert(1)"), 400, "", false},
		{"relative URL", "client_id=spa&returnTo=%2Fbye", 400, "", false},
		{"unknown client", "client_id=nope", 400, "", false},
	}
	e := newEnv(t, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cookie := e.newSession()
			r := e.get("/v2/logout?"+tt.query, map[string]string{"Cookie": session.CookieName + "=" + cookie, "X-Application-ID": "pieces"})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if loc := r.header.Get("Location"); loc != tt.location {
				t.Errorf("Location = %q, want %q", loc, tt.location)
			}
			if ct := r.header.Get("Content-Type"); tt.status != 302 && !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", ct)
			}
			if tt.status == 200 && string(r.body) != "OK" {
				t.Errorf("body = %q, want OK", r.body)
			}
			if tt.status == 400 && !strings.Contains(string(r.body), "invalid_request") {
				t.Errorf("error page = %s", r.body)
			}
			if alive := e.sessionAlive(cookie); alive == tt.endSession {
				t.Errorf("session alive = %v after logout", alive)
			}
			if tt.endSession && !strings.Contains(r.header.Get("Set-Cookie"), session.CookieName+"=;") {
				t.Errorf("Set-Cookie = %q, want the session cookie cleared", r.header.Get("Set-Cookie"))
			}
		})
	}
}

func TestLogoutKeepsRefreshTokens(t *testing.T) {
	e := newEnv(t, false)
	rt := e.login(nil).str("refresh_token")
	if r := e.get("/v2/logout", map[string]string{"Cookie": session.CookieName + "=" + e.newSession()}); r.status != 200 {
		t.Fatal(r.status)
	}
	if r := e.postForm("/oauth/token", refreshForm(rt), nil); r.status != http.StatusOK {
		t.Fatalf("refresh after logout: %d %s", r.status, r.body)
	}
}

func TestErrorPageEscapesInput(t *testing.T) {
	e := newEnv(t, false)
	r := e.get("/v2/logout?returnTo="+url.QueryEscape(`http://x.test/"><script>alert(1)</script>`), nil)
	if r.status != 400 || strings.Contains(string(r.body), "<script>") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestOIDCLogout(t *testing.T) {
	e := newEnv(t, false)
	hint := e.idToken("spa", testSID)
	otherHint := e.idToken("spa2", "sid-2")
	expiredHint := e.idToken("spa", testSID)
	e.clock.Add(48 * time.Hour) // every hint above is now expired, which is fine
	tests := []struct {
		name       string
		params     url.Values
		status     int
		location   string
		endSession bool
	}{
		{"nothing", url.Values{}, 200, "", true},
		{"hint and redirect with state", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://app.test/bye"}, "state": {"s 1"}},
			302, "http://app.test/bye?state=s+1", true},
		{"expired hint accepted", url.Values{"id_token_hint": {expiredHint}, "post_logout_redirect_uri": {"http://app.test/bye"}}, 302, "http://app.test/bye", true},
		{"client_id and redirect", url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {"http://app.test/bye"}}, 302, "http://app.test/bye", true},
		{"matching logout_hint", url.Values{"id_token_hint": {hint}, "logout_hint": {testSID}}, 200, "", true},
		{"tenant list without client", url.Values{"post_logout_redirect_uri": {"http://app.test/tenant-bye"}}, 302, "http://app.test/tenant-bye", true},
		{"invalid hint", url.Values{"id_token_hint": {"a.b.c"}}, 400, "", false},
		{"hint of another client", url.Values{"id_token_hint": {otherHint}, "client_id": {"spa"}}, 400, "", false},
		{"logout_hint mismatch", url.Values{"id_token_hint": {hint}, "logout_hint": {"other"}}, 400, "", false},
		{"redirect not allowed", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://evil.test/"}}, 400, "", false},
		{"redirect query must match exactly", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://app.test/bye?x=1"}}, 400, "", false},
		{"redirect of another client's list", url.Values{"id_token_hint": {otherHint}, "post_logout_redirect_uri": {"http://app.test/bye"}}, 400, "", false},
		{"unknown client", url.Values{"client_id": {"nope"}}, 400, "", false},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				cookie := e.newSession()
				hdr := map[string]string{"Cookie": session.CookieName + "=" + cookie}
				var r *response
				if method == http.MethodGet {
					r = e.get("/oidc/logout?"+tt.params.Encode(), hdr)
				} else {
					r = e.postForm("/oidc/logout", tt.params, hdr)
				}
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				if loc := r.header.Get("Location"); loc != tt.location {
					t.Errorf("Location = %q, want %q", loc, tt.location)
				}
				if alive := e.sessionAlive(cookie); alive == tt.endSession {
					t.Errorf("session alive = %v after logout", alive)
				}
			})
		}
	}
}
