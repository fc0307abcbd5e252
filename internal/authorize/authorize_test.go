package authorize_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
)

// assertPage checks an HTML error page: status, no Location, the error
// code shown, and the security headers of a non-framable page.
func assertPage(t *testing.T, r *at.Resp, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status = %d, want %d\n%s", r.Status, status, r.Body)
	}
	if loc, ok := r.Header["Location"]; ok {
		t.Errorf("error page has Location %q", loc)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if code != "" && !strings.Contains(r.Body, "<code>"+code+"</code>") {
		t.Errorf("page does not show error %q:\n%s", code, r.Body)
	}
	assertPageHeaders(t, r)
}

func assertPageHeaders(t *testing.T, r *at.Resp) {
	t.Helper()
	h := r.Header
	if h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("security headers: %v", h)
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
}

// TestUntrustedRequestsShowErrorPage covers the checks made before
// client_id and redirect_uri are trusted, in order: their errors are an
// HTML page and never a redirect.
func TestUntrustedRequestsShowErrorPage(t *testing.T) {
	e := at.New(t, nil)
	tests := []struct {
		name   string
		mod    func(url.Values)
		code   string
		text   string
		status int
	}{
		{"missing client_id", func(v url.Values) { v.Del("client_id") }, "invalid_request", "Missing required parameter: client_id", 400},
		{"unknown client", func(v url.Values) { v.Set("client_id", "nope") }, "invalid_request", "Unknown client: nope", 400},
		{"duplicate client_id", func(v url.Values) { v.Add("client_id", "single") }, "invalid_request", "Duplicate parameter: client_id", 400},
		{"duplicate redirect_uri", func(v url.Values) { v.Add("redirect_uri", "http://app.test/other") }, "invalid_request", "Duplicate parameter: redirect_uri", 400},
		{"missing redirect_uri with several callbacks", func(v url.Values) { v.Del("redirect_uri") }, "invalid_request", "Missing required parameter: redirect_uri", 400},
		{"missing redirect_uri without callbacks", func(v url.Values) { v.Set("client_id", "nocallback"); v.Del("redirect_uri") }, "invalid_request", "Missing required parameter: redirect_uri", 400},
		{"unregistered redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://evil.test/cb") }, "unauthorized_client",
			"Callback URL mismatch. https://evil.test/cb is not in the list of allowed callback URLs", 400},
		{"redirect_uri trailing slash", func(v url.Values) { v.Set("redirect_uri", at.Callback+"/") }, "unauthorized_client", "Callback URL mismatch", 400},
		{"redirect_uri with fragment", func(v url.Values) { v.Set("redirect_uri", at.Callback+"#x") }, "unauthorized_client", "Callback URL mismatch", 400},
		{"redirect_uri of another client", func(v url.Values) { v.Set("redirect_uri", "http://single.test/cb") }, "unauthorized_client", "Callback URL mismatch", 400},
		{"wildcard spans two labels", func(v url.Values) { v.Set("client_id", "web"); v.Set("redirect_uri", "https://a.b.wild.test/cb") }, "unauthorized_client", "Callback URL mismatch", 400},
		{"native localhost port", func(v url.Values) { v.Set("client_id", "native"); v.Set("redirect_uri", "http://localhost:5000/cb") }, "unauthorized_client", "Callback URL mismatch", 400},
		{"m2m client", func(v url.Values) { v.Set("client_id", "worker"); v.Set("redirect_uri", at.Callback) }, "unauthorized_client", "Callback URL mismatch", 400},
		{"web_message origin not allowed", func(v url.Values) {
			v.Set("client_id", "single")
			v.Set("redirect_uri", "http://single.test/cb")
			v.Set("response_mode", "web_message")
		}, "invalid_request", "allowed web origins", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				b := e.Browser()
				var r *at.Resp
				if method == http.MethodGet {
					r = b.Get(at.AuthorizeURL(tt.mod))
				} else {
					v := at.AuthorizeParams()
					tt.mod(v)
					r = b.Post("/authorize", v)
				}
				assertPage(t, r, tt.status, tt.code)
				if !strings.Contains(r.Body, tt.text) {
					t.Errorf("%s: page lacks %q:\n%s", method, tt.text, r.Body)
				}
			}
		})
	}
}

func TestMalformedAuthorizeRequests(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	t.Run("bad query escape", func(t *testing.T) {
		assertPage(t, b.Get("/authorize?client_id=spa&state=%zz"), 400, "invalid_request")
	})
	t.Run("POST with JSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/authorize", strings.NewReader(`{"client_id":"spa"}`))
		req.Header.Set("Content-Type", "application/json")
		assertPage(t, b.Do(req), http.StatusUnsupportedMediaType, "invalid_request")
	})
	t.Run("POST too large", func(t *testing.T) {
		v := at.AuthorizeParams()
		v.Set("x", strings.Repeat("a", 70<<10))
		r := b.Post("/authorize", v)
		if r.Status != http.StatusRequestEntityTooLarge || r.Header.Get("Location") != "" {
			t.Errorf("status = %d, Location %q", r.Status, r.Header.Get("Location"))
		}
	})
	t.Run("PUT", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, e.Server.URL+"/authorize", nil)
		if r := b.Do(req); r.Status < 400 || r.Status > 499 || r.Header.Get("Location") != "" {
			t.Errorf("status = %d", r.Status)
		}
	})
}

// TestErrorsAfterTrustGoToCallback covers every later check, in order:
// the error reaches redirect_uri with error, error_description and state.
func TestErrorsAfterTrustGoToCallback(t *testing.T) {
	e := at.New(t, nil)
	tests := []struct {
		name string
		mod  func(url.Values)
		code string
		desc string
	}{
		{"unknown response_mode", func(v url.Values) { v.Set("response_mode", "jwt") }, "invalid_request", "Unsupported response_mode: jwt"},
		{"duplicate parameter", func(v url.Values) { v.Add("scope", "openid") }, "invalid_request", "Duplicate parameter: scope"},
		{"too long", func(v url.Values) { v.Set("nonce", strings.Repeat("n", 5000)) }, "invalid_request", "Parameter too long: nonce"},
		{"missing response_type", func(v url.Values) { v.Del("response_type") }, "invalid_request", "Missing required parameter: response_type"},
		{"response_type token", func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type", "Unsupported response type: token"},
		{"hybrid", func(v url.Values) { v.Set("response_type", "code id_token") }, "unsupported_response_type", "Unsupported response type: code id_token"},
		{"response_type before PKCE", func(v url.Values) { v.Set("response_type", "token"); v.Del("code_challenge") }, "unsupported_response_type", ""},
		{"public client without PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request", "Missing required parameter: code_challenge"},
		{"method without challenge", func(v url.Values) { v.Del("code_challenge") }, "invalid_request", "Missing required parameter: code_challenge"},
		{"plain", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request", "plain is not supported"},
		{"method absent means plain", func(v url.Values) { v.Del("code_challenge_method") }, "invalid_request", "plain is not supported"},
		{"unknown method", func(v url.Values) { v.Set("code_challenge_method", "S512") }, "invalid_request", "Unsupported code_challenge_method: S512"},
		{"short challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, "invalid_request", "Invalid code_challenge"},
		{"challenge bad chars", func(v url.Values) { v.Set("code_challenge", strings.Repeat("+", 43)) }, "invalid_request", "Invalid code_challenge"},
		{"PKCE before scope", func(v url.Values) { v.Del("code_challenge"); v.Set("scope", `"`) }, "invalid_request", "code_challenge"},
		{"malformed scope", func(v url.Values) { v.Set("scope", `openid "quoted"`) }, "invalid_scope", "Invalid scope value"},
		{"scope before audience", func(v url.Values) { v.Set("scope", `"`); v.Set("audience", "https://nope.test/") }, "invalid_scope", ""},
		{"unknown audience", func(v url.Values) { v.Set("audience", "https://nope.test/") }, "access_denied", "Service not found: https://nope.test/"},
		{"grant not allowed", func(v url.Values) { v.Set("client_id", "refreshonly"); v.Set("redirect_uri", "http://ro.test/cb") }, "unauthorized_client",
			"Grant type 'authorization_code' not allowed for the client."},
		{"unknown connection", func(v url.Values) { v.Set("connection", "github") }, "invalid_request", "Connection not found: github"},
		{"disabled connection", func(v url.Values) { v.Set("connection", at.OffConn) }, "invalid_request", "Connection is disabled: disabled"},
		{"connection not enabled for client", func(v url.Values) {
			v.Set("client_id", "third")
			v.Set("redirect_uri", "http://third.test/cb")
			v.Set("connection", at.ClosedConn)
		}, "invalid_request", "Connection closed is not enabled for the client"},
		{"unknown prompt", func(v url.Values) { v.Set("prompt", "none bogus") }, "invalid_request", "Unsupported prompt: bogus"},
		{"prompt none with login", func(v url.Values) { v.Set("prompt", "none login") }, "invalid_request", "Unsupported prompt"},
		{"negative max_age", func(v url.Values) { v.Set("max_age", "-1") }, "invalid_request", "Invalid max_age"},
		{"max_age not a number", func(v url.Values) { v.Set("max_age", "1h") }, "invalid_request", "Invalid max_age"},
		{"max_age overflow", func(v url.Values) { v.Set("max_age", "99999999999999999999") }, "invalid_request", "Invalid max_age"},
		{"organization", func(v url.Values) { v.Set("organization", "org_123") }, "invalid_request", "organization parameter is not supported"},
		{"invitation", func(v url.Values) { v.Set("invitation", "abc") }, "invalid_request", "invitation parameter is not supported"},
		{"request object", func(v url.Values) { v.Set("request", "eyJ") }, "request_not_supported", ""},
		{"request_uri", func(v url.Values) { v.Set("request_uri", "urn:x") }, "request_uri_not_supported", ""},
		{"prompt none without session", func(v url.Values) { v.Set("prompt", "none") }, "login_required", "Login required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Browser().Get(at.AuthorizeURL(tt.mod))
			if !strings.HasPrefix(r.Location(), at.Callback+"?") && !strings.HasPrefix(r.Location(), "http://ro.test/cb?") &&
				!strings.HasPrefix(r.Location(), "http://third.test/cb?") {
				t.Fatalf("Location = %q, want the callback; status %d\n%s", r.Location(), r.Status, r.Body)
			}
			q := at.Result(t, r, false)
			if got := q.Get("error"); got != tt.code {
				t.Errorf("error = %q (%s), want %q", got, q.Get("error_description"), tt.code)
			}
			if !strings.Contains(q.Get("error_description"), tt.desc) {
				t.Errorf("error_description = %q, want it to contain %q", q.Get("error_description"), tt.desc)
			}
			if q.Get("state") != "st ate/+=" {
				t.Errorf("state = %q", q.Get("state"))
			}
			if strings.Contains(r.Location(), "+") {
				t.Errorf("Location %q encodes spaces as +, Auth0 writes %%20", r.Location())
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
			}
		})
	}
}

// TestAuth0ErrorEncoding pins the exact redirect Auth0 sends for an
// unknown audience (AUTH0-BEHAVIOUR §1.2).
func TestAuth0ErrorEncoding(t *testing.T) {
	e := at.New(t, nil)
	r := e.Browser().Get(at.AuthorizeURL(func(v url.Values) {
		v.Set("audience", "https://nope.test/")
		v.Set("state", "xyz")
	}))
	want := at.Callback + "?error=access_denied&error_description=Service%20not%20found%3A%20https%3A%2F%2Fnope.test%2F&state=xyz"
	if r.Location() != want {
		t.Errorf("Location = %q\nwant       %q", r.Location(), want)
	}
}

func TestErrorWithoutStateOmitsIt(t *testing.T) {
	e := at.New(t, nil)
	q := at.Result(t, e.Browser().Get(at.AuthorizeURL(func(v url.Values) {
		v.Del("state")
		v.Set("response_type", "token")
	})), false)
	if _, ok := q["state"]; ok {
		t.Errorf("state present: %v", q)
	}
}
