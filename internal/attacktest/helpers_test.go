package attacktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
)

// Logout URLs of the test tenant (added to authorizetest's).
const (
	clientBye = "http://app.test/bye"
	tenantBye = "http://app.test/"
)

// newEnv is authorizetest's tenant with logout URLs.
func newEnv(t *testing.T) *at.Env {
	return at.New(t, func(c *config.Config) {
		c.AllowedLogoutURLs = []string{tenantBye}
		for i := range c.Clients {
			if c.Clients[i].ClientID == "spa" {
				c.Clients[i].AllowedLogoutURLs = []string{clientBye}
			}
		}
	})
}

// tokens is a 200 answer of /oauth/token.
type tokens struct {
	Access  string `json:"access_token"`
	ID      string `json:"id_token"`
	Refresh string `json:"refresh_token"`
}

// oauthError is Auth0's error body.
type oauthError struct {
	Code string `json:"error"`
	Desc string `json:"error_description"`
}

// token posts to /oauth/token and decodes either answer.
func token(t *testing.T, b *at.Browser, form url.Values) (int, tokens, oauthError) {
	t.Helper()
	r := b.Post("/oauth/token", form)
	var tok tokens
	var oe oauthError
	if r.Status == http.StatusOK {
		if err := json.Unmarshal([]byte(r.Body), &tok); err != nil {
			t.Fatalf("token 200 with a non-JSON body: %s", r.Body)
		}
	} else if err := json.Unmarshal([]byte(r.Body), &oe); err != nil || oe.Code == "" {
		t.Fatalf("token %d without an OAuth error body: %s", r.Status, r.Body)
	}
	return r.Status, tok, oe
}

// codeFor logs in on a fresh browser for authorize parameters changed by
// mod and returns the browser and the code.
func codeFor(t *testing.T, e *at.Env, mod func(url.Values)) (*at.Browser, string) {
	t.Helper()
	b := e.Browser()
	q := at.Result(t, b.Login(at.AuthorizeURL(mod), at.Email, at.Password), false)
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return b, q.Get("code")
}

// exchangeForm is the spa client's code exchange.
func exchangeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code},
		"redirect_uri": {at.Callback}, "code_verifier": {at.Verifier}}
}

// userinfoStatus is /userinfo's status for an access token.
func userinfoStatus(t *testing.T, e *at.Env, access string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	return e.Browser().Do(req).Status
}

// refusedPage checks an answer is latch's HTML error page: 4xx, no
// redirect, no cookie.
func refusedPage(t *testing.T, r *at.Resp, what string) {
	t.Helper()
	if r.Status < 400 || r.Status > 499 || r.Location() != "" {
		t.Errorf("%s: %d Location %q, want a 4xx page", what, r.Status, r.Location())
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("%s: Content-Type %q", what, r.Header.Get("Content-Type"))
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Errorf("%s: refused request set a cookie", what)
	}
}
