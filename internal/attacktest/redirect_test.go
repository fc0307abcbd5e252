package attacktest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
)

// TestRedirectURITricks: no variant of a registered callback gets the
// authorization response, however it is sent; latch shows its error page
// and links nowhere the attacker chose.
func TestRedirectURITricks(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ client, uri string }{
		// spa: http://app.test/callback
		{"spa", "http://app.test/callbac"},                 // prefix
		{"spa", "http://app.test/callback/"},               // suffix
		{"spa", "http://app.test/callbackx"},               // suffix
		{"spa", "http://app.test/callback/extra"},          // extra path
		{"spa", "http://app.test/callback/../evil"},        // dot segments
		{"spa", "http://app.test/callback/..%2f..%2fevil"}, // encoded dot segments
		{"spa", "http://app.test/callback?next=http://evil.test"},
		{"spa", "http://app.test/callback#http://evil.test"}, // fragment
		{"spa", "http://app.test@evil.test/callback"},        // userinfo
		{"spa", "http://evil.test\\@app.test/callback"},
		{"spa", "http://evil.test#@app.test/callback"},
		{"spa", "http://app.test.evil.test/callback"},
		{"spa", "HTTP://APP.TEST/callback"}, // case changes
		{"spa", "http://App.test/callback"},
		{"spa", "http://app.test/Callback"},
		{"spa", "https://app.test/callback"},       // scheme
		{"spa", "http://app.test:80/callback"},     // explicit default port
		{"spa", "http://app.test:8080/callback"},   // other port
		{"spa", "http://xn--pp-8cd.test/callback"}, // IDN look-alike (punycode)
		{"spa", "http://аpp.test/callback"},        // Cyrillic а
		{"spa", "http://app.test\u2024/callback"},  // one-dot leader
		{"spa", "//evil.test/callback"},
		{"spa", "/callback"},
		{"spa", "javascript:alert(1)//http://app.test/callback"},
		{"spa", "data:text/html,<script>alert(1)</script>"},
		{"spa", "http://app.test/callback\r\nLocation: http://evil.test"},
		{"spa", "http://app.test/callback%0d%0aSet-Cookie:%20x=1"},
		{"spa", " http://app.test/callback"},
		{"spa", "http://app.test/callback\x00"},
		{"spa", "http://app.test/\tcallback"},
		// web: https://*.wild.test/cb
		{"web", "https://evil.test/.wild.test/cb"},
		{"web", "https://a.b.wild.test/cb"}, // * is one label
		{"web", "https://wild.test/cb"},
		{"web", "https://.wild.test/cb"},
		{"web", "https://x.wild.test.evil.test/cb"},
		{"web", "https://x.wild.test@evil.test/cb"},
		{"web", "https://evil.test?.wild.test/cb"},
		{"web", "https://x_y.wild.test/cb"},
		{"web", "https://web.test/cb"},         // registered with ?x=1 only
		{"web", "https://web.test/cb?x=2"},     // other query
		{"spa", "https://tenant.wild.test/cb"}, // another client's callback
		// native: loopback literals, any port
		{"native", "http://127.0.0.1.evil.test/cb"},
		{"native", "http://127.0.0.2/cb"},
		{"native", "http://localhost:8080/cb"},
		{"native", "http://127.0.0.1:8080/cb/../evil"},
		{"native", "http://127.0.0.1:8080@evil.test/cb"},
		{"native", "https://127.0.0.1/cb"},
	}
	for _, tt := range tests {
		for _, mode := range []string{"query", "form_post", "web_message"} {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				name := tt.client + " " + mode + " " + method + " " + tt.uri
				q := at.AuthorizeParams()
				q.Set("client_id", tt.client)
				q.Set("redirect_uri", tt.uri)
				q.Set("response_mode", mode)
				var r *at.Resp
				b := e.Browser()
				if method == http.MethodGet {
					r = b.Get("/authorize?" + q.Encode())
				} else {
					r = b.Post("/authorize", q)
				}
				refusedPage(t, r, name)
				low := strings.ToLower(r.Body)
				for _, bad := range []string{`action="` + strings.ToLower(tt.uri), `href="` + strings.ToLower(tt.uri), "evil.test\"", "<script>alert"} {
					if strings.Contains(low, bad) {
						t.Errorf("%s: the error page contains %q", name, bad)
					}
				}
			}
		}
	}
	// The harness can see a success.
	if r := e.Browser().Get(at.AuthorizeURL(nil)); r.Status != http.StatusFound {
		t.Fatalf("registered callback: %d", r.Status)
	}
}

// TestLogoutOpenRedirect: returnTo and post_logout_redirect_uri never send
// the browser anywhere but an allowed logout URL.
func TestLogoutOpenRedirect(t *testing.T) {
	e := newEnv(t)
	bad := []string{
		"http://evil.test/bye", "http://app.test.evil.test/bye", "http://app.test@evil.test/bye",
		"http://evil.test\\@app.test/bye", "http://evil.test#@app.test/bye", "//evil.test/bye", "/\\evil.test",
		"https://app.test/bye", "http://app.test:8080/bye", "http://app.test/byee", "http://app.test/by",
		"http://app.test/bye/../../evil", "http://app.test/bye/..%2f..%2fevil", "http://app.test/bye/x",
		"javascript:alert(1)//http://app.test/bye", "data:text/html,x", "http://xn--pp-8cd.test/bye",
		"http://аpp.test/bye", "http://app.test/bye\r\nLocation: http://evil.test", "http://evil.test/?http://app.test/bye",
		"http:app.test/bye", "http:/app.test/bye", " http://app.test/bye", "http://app.test/bye\x00",
	}
	for _, uri := range bad {
		for _, path := range []string{
			"/v2/logout?" + url.Values{"client_id": {"spa"}, "returnTo": {uri}}.Encode(),
			"/v2/logout?" + url.Values{"returnTo": {uri}}.Encode(),
			"/oidc/logout?" + url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {uri}}.Encode(),
		} {
			r := e.Browser().Get(path)
			refusedPage(t, r, path)
		}
	}
	// Allowed targets work, their own query kept.
	for path, want := range map[string]string{
		"/v2/logout?client_id=spa&returnTo=" + url.QueryEscape(clientBye+"?x=1"): clientBye + "?x=1",
		"/v2/logout?returnTo=" + url.QueryEscape(tenantBye):                      tenantBye,
		"/v2/logout?client_id=spa":                                               clientBye,
	} {
		if r := e.Browser().Get(path); r.Status != http.StatusFound || r.Location() != want {
			t.Errorf("%s: %d Location %q, want %q", path, r.Status, r.Location(), want)
		}
	}
}
