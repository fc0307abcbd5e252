package authorize_test

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
)

// loggedIn returns a browser with an SSO session (it logged in once and
// its first code was delivered).
func loggedIn(t *testing.T, e *at.Env) *at.Browser {
	t.Helper()
	b := e.Browser()
	r := b.Login(at.AuthorizeURL(nil), at.Email, at.Password)
	if q := at.Result(t, r, false); q.Get("code") == "" {
		t.Fatalf("login did not deliver a code: %v", q)
	}
	return b
}

func TestLoginDeliversCodeAndStoresIt(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	r := b.Login(at.AuthorizeURL(func(v url.Values) { v.Set("scope", "openid profile read:items bogus offline_access") }), at.Email, at.Password)
	if !strings.HasPrefix(r.Location(), at.Callback+"?code=") {
		t.Fatalf("Location = %q", r.Location())
	}
	q := at.Result(t, r, false)
	if q.Get("state") != "st ate/+=" {
		t.Errorf("state = %q", q.Get("state"))
	}
	code := q.Get("code")
	if len(code) != 43 {
		t.Errorf("code %q is not 256 bits base64url", code)
	}
	c := e.Code(code)
	now := e.Clock.Now()
	want := map[string][2]string{
		"client":    {c.ClientID, "spa"},
		"redirect":  {c.RedirectURI, at.Callback},
		"challenge": {c.CodeChallenge, at.Challenge},
		"method":    {c.CodeChallengeMethod, "S256"},
		"user":      {c.UserID, e.User.ID},
		"scope":     {c.Scope, "openid profile read:items offline_access"},
		"audience":  {c.Audience, at.API},
		"nonce":     {c.Nonce, "n-0S6_WzA2Mj"},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", k, v[0], v[1])
		}
	}
	if c.SessionID == "" || !c.AuthTime.Equal(now) || !c.ExpiresAt.Equal(now.Add(60*time.Second)) {
		t.Errorf("session %q auth_time %v expires %v", c.SessionID, c.AuthTime, c.ExpiresAt)
	}
	sess, err := e.Store.GetSession(t.Context(), c.SessionID)
	if err != nil || sess.UserID != e.User.ID {
		t.Fatalf("session %v, %v", sess, err)
	}
}

func TestSessionCookie(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	r := b.Login(at.AuthorizeURL(nil), at.Email, at.Password)
	set := r.Header.Get("Set-Cookie")
	for _, want := range []string{"latch_session=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %q", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Secure cookie on an http issuer: %q", set)
	}
}

func TestRedirectURIOmittedWithOneCallback(t *testing.T) {
	e := at.New(t, nil)
	r := e.Browser().Login(at.AuthorizeURL(func(v url.Values) {
		v.Set("client_id", "single")
		v.Del("redirect_uri")
	}), at.Email, at.Password)
	if !strings.HasPrefix(r.Location(), "http://single.test/cb?code=") {
		t.Fatalf("Location = %q", r.Location())
	}
	if c := e.Code(at.Result(t, r, false).Get("code")); c.RedirectURI != "" {
		t.Errorf("stored redirect_uri = %q, want empty (it was omitted)", c.RedirectURI)
	}
}

func TestRedirectRules(t *testing.T) {
	e := at.New(t, nil)
	tests := []struct {
		name, client, uri string
	}{
		{"native loopback any port", "native", "http://127.0.0.1:49152/cb"},
		{"native ipv6 loopback", "native", "http://[::1]:8080/cb"},
		{"native custom scheme", "native", "com.example.app:/oauth"},
		{"wildcard sub-domain", "web", "https://tenant-7.wild.test/cb"},
		{"registered query kept", "web", "https://web.test/cb?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Browser().Login(at.AuthorizeURL(func(v url.Values) {
				v.Set("client_id", tt.client)
				v.Set("redirect_uri", tt.uri)
			}), at.Email, at.Password)
			loc := r.Location()
			sep := "?"
			if strings.Contains(tt.uri, "?") {
				sep = "&"
			}
			if !strings.HasPrefix(loc, tt.uri+sep+"code=") {
				t.Fatalf("Location = %q, want %s%scode=...", loc, tt.uri, sep)
			}
		})
	}
}

var scriptNonce = regexp.MustCompile(`<script nonce="([^"]+)">`)

func TestResponseModes(t *testing.T) {
	e := at.New(t, nil)
	b := loggedIn(t, e)
	anon := e.Browser()
	for _, success := range []bool{true, false} {
		for _, mode := range []string{"query", "fragment", "form_post", "web_message"} {
			name := mode + "/success"
			if !success {
				name = mode + "/error"
			}
			t.Run(name, func(t *testing.T) {
				br := b
				if !success {
					br = anon // prompt=none without a session: login_required
				}
				r := br.Get(at.AuthorizeURL(func(v url.Values) {
					v.Set("response_mode", mode)
					v.Set("prompt", "none")
				}))
				got := readResponse(t, mode, r)
				if got["state"] != "st ate/+=" {
					t.Errorf("state = %q", got["state"])
				}
				if success && len(got["code"]) != 43 {
					t.Errorf("code = %q (%v)", got["code"], got)
				}
				if !success && (got["error"] != "login_required" || got["error_description"] != "Login required") {
					t.Errorf("got %v, want login_required", got)
				}
			})
		}
	}
}

// readResponse extracts the authorization response from each mode's
// answer and checks the mode's headers.
func readResponse(t *testing.T, mode string, r *at.Resp) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch mode {
	case "query", "fragment":
		for k, v := range at.Result(t, r, mode == "fragment") {
			out[k] = v[0]
		}
		if mode == "fragment" && strings.Contains(r.Location(), "?") {
			t.Errorf("fragment response in the query: %q", r.Location())
		}
	case "form_post":
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `<form method="post" action="`+at.Callback+`">`) ||
			!strings.Contains(r.Body, "<noscript>") || !strings.Contains(r.Body, `<button type="submit">Continue</button>`) {
			t.Fatalf("form_post page %d:\n%s", r.Status, r.Body)
		}
		m := scriptNonce.FindStringSubmatch(r.Body)
		csp := r.Header.Get("Content-Security-Policy")
		if m == nil || !strings.Contains(csp, "script-src 'nonce-"+m[1]+"'") || !strings.Contains(csp, "form-action 'self' http://app.test") {
			t.Errorf("CSP %q does not allow the page's script / form", csp)
		}
		for k, v := range at.Hidden(r.Body) {
			out[k] = v[0]
		}
	case "web_message":
		if r.Status != http.StatusOK {
			t.Fatalf("web_message status %d", r.Status)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors http://app.test http://localhost:3000") {
			t.Errorf("CSP %q: frame-ancestors must be the client's web origins", csp)
		}
		if _, ok := r.Header["X-Frame-Options"]; ok {
			t.Errorf("web_message page keeps X-Frame-Options")
		}
		if m := scriptNonce.FindStringSubmatch(r.Body); m == nil || !strings.Contains(csp, "'nonce-"+m[1]+"'") {
			t.Errorf("script nonce not allowed by %q", csp)
		}
		if !strings.Contains(r.Body, `var targetOrigin = "http://app.test";`) ||
			!strings.Contains(r.Body, `var mainWin = window.opener ? window.opener : window.parent;`) ||
			!strings.Contains(r.Body, `type: "authorization_response", response: `) {
			t.Errorf("web_message page:\n%s", r.Body)
		}
		m := regexp.MustCompile(`response: (\{.*?\})\};`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no response object in:\n%s", r.Body)
		}
		if err := json.Unmarshal([]byte(m[1]), &out); err != nil {
			t.Fatalf("response %s: %v", m[1], err)
		}
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	return out
}

func TestSSOSessionSkipsLoginPage(t *testing.T) {
	e := at.New(t, nil)
	b := loggedIn(t, e)
	r := b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("state", "second") }))
	q := at.Result(t, r, false)
	if q.Get("code") == "" || q.Get("state") != "second" {
		t.Fatalf("second authorize = %q", r.Location())
	}
	// Another client of the same tenant shares the session (SSO).
	r = b.Get(at.AuthorizeURL(func(v url.Values) {
		v.Set("client_id", "single")
		v.Set("redirect_uri", "http://single.test/cb")
	}))
	if !strings.HasPrefix(r.Location(), "http://single.test/cb?code=") {
		t.Fatalf("SSO to another client: %q", r.Location())
	}
}

func TestPrompt(t *testing.T) {
	e := at.New(t, nil)
	b := loggedIn(t, e)
	t.Run("none with session", func(t *testing.T) {
		q := at.Result(t, b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "none") })), false)
		if q.Get("code") == "" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("none without session", func(t *testing.T) {
		q := at.Result(t, e.Browser().Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "none") })), false)
		if q.Get("error") != "login_required" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("login with session", func(t *testing.T) {
		r := b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "login") }))
		if !strings.HasPrefix(r.Location(), "/u/login?state=") {
			t.Fatalf("Location = %q, want the login page", r.Location())
		}
	})
	t.Run("select_account is accepted", func(t *testing.T) {
		q := at.Result(t, b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "select_account") })), false)
		if q.Get("code") == "" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("none needing consent", func(t *testing.T) {
		q := at.Result(t, b.Get(at.AuthorizeURL(func(v url.Values) {
			v.Set("client_id", "third")
			v.Set("redirect_uri", "http://third.test/cb")
			v.Set("prompt", "none")
		})), false)
		if q.Get("error") != "consent_required" {
			t.Fatalf("got %v", q)
		}
	})
}

func TestMaxAge(t *testing.T) {
	e := at.New(t, nil)
	b := loggedIn(t, e)
	e.Clock.Add(10 * time.Minute)
	tests := []struct {
		name, maxAge, prompt string
		want                 string // "code", "login" or an error
	}{
		{"session younger", "3600", "", "code"},
		{"session just old enough", "600", "", "code"},
		{"session older", "599", "", "login"},
		{"zero forces login", "0", "", "login"},
		{"older with prompt none", "60", "none", "login_required"},
		{"younger with prompt none", "3600", "none", "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.Get(at.AuthorizeURL(func(v url.Values) {
				v.Set("max_age", tt.maxAge)
				if tt.prompt != "" {
					v.Set("prompt", tt.prompt)
				}
			}))
			switch tt.want {
			case "login":
				if !strings.HasPrefix(r.Location(), "/u/login?state=") {
					t.Fatalf("Location = %q, want the login page", r.Location())
				}
			case "code":
				if q := at.Result(t, r, false); q.Get("code") == "" {
					t.Fatalf("got %v", q)
				}
			default:
				if q := at.Result(t, r, false); q.Get("error") != tt.want {
					t.Fatalf("got %v, want %s", q, tt.want)
				}
			}
		})
	}
	t.Run("re-login records a new auth_time", func(t *testing.T) {
		r := b.Login(at.AuthorizeURL(func(v url.Values) { v.Set("max_age", "0") }), at.Email, at.Password)
		c := e.Code(at.Result(t, r, false).Get("code"))
		if !c.AuthTime.Equal(e.Clock.Now()) {
			t.Errorf("auth_time = %v, want %v", c.AuthTime, e.Clock.Now())
		}
	})
}

func TestLoginHintPrefills(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	r := b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("login_hint", `ann@example.com"><b>`) }))
	page := b.Get(r.Location())
	if !strings.Contains(page.Body, `value="ann@example.com&#34;&gt;&lt;b&gt;"`) {
		t.Errorf("login_hint not pre-filled (escaped):\n%s", page.Body)
	}
}

func TestScreenHintSignup(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	r := b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("screen_hint", "signup") }))
	if !strings.HasPrefix(r.Location(), "/u/signup?state=") {
		t.Fatalf("Location = %q, want the signup page", r.Location())
	}
	page := b.Get(r.Location())
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `name="email"`) {
		t.Fatalf("signup page %d:\n%s", page.Status, page.Body)
	}
	// A connection closed to sign-ups shows the login page instead.
	r = b.Get(at.AuthorizeURL(func(v url.Values) {
		v.Set("screen_hint", "signup")
		v.Set("connection", at.ClosedConn)
	}))
	if !strings.HasPrefix(r.Location(), "/u/login?state=") {
		t.Fatalf("Location = %q, want the login page", r.Location())
	}
}

func TestTransactionLifecycle(t *testing.T) {
	e := at.New(t, nil)
	t.Run("unknown", func(t *testing.T) {
		b := e.Browser()
		assertPage(t, b.Get("/u/login?state=nope"), 400, "")
		assertPage(t, b.Get("/u/login"), 400, "")
		assertPage(t, b.Get("/u/signup?state="+strings.Repeat("x", 500)), 400, "")
		assertPage(t, b.Post("/u/login", url.Values{"state": {"nope"}, "csrf": {"x"}}), 400, "")
	})
	t.Run("expired", func(t *testing.T) {
		b := e.Browser()
		r := b.Get(at.AuthorizeURL(nil))
		page := b.Get(r.Location())
		e.Clock.Add(10*time.Minute + time.Second)
		for _, r := range []*at.Resp{b.Get(r.Location()), b.Post("/u/login", withCreds(page.Body))} {
			assertPage(t, r, 400, "")
			if !strings.Contains(r.Body, "expired") || !strings.Contains(r.Body, `href="http://app.test/"`) {
				t.Errorf("expired page lacks its words or link:\n%s", r.Body)
			}
		}
	})
	t.Run("reused", func(t *testing.T) {
		b := e.Browser()
		r := b.Get(at.AuthorizeURL(nil))
		page := b.Get(r.Location())
		if first := b.Post("/u/login", withCreds(page.Body)); first.Status != http.StatusFound {
			t.Fatalf("first POST = %d", first.Status)
		}
		again := b.Post("/u/login", withCreds(page.Body))
		assertPage(t, again, 400, "")
		if !strings.Contains(again.Body, "already completed") || !strings.Contains(again.Body, `href="http://app.test/"`) {
			t.Errorf("reused page:\n%s", again.Body)
		}
		if again := b.Get(r.Location()); !strings.Contains(again.Body, "already completed") {
			t.Errorf("GET of a completed transaction:\n%s", again.Body)
		}
	})
	t.Run("stored hashed", func(t *testing.T) {
		b := e.Browser()
		r := b.Get(at.AuthorizeURL(nil))
		handle := strings.TrimPrefix(r.Location(), "/u/login?state=")
		if _, err := e.Store.GetTransaction(t.Context(), handle); err == nil {
			t.Error("transaction found by its raw handle: it must be stored hashed")
		}
	})
}

func withCreds(page string) url.Values {
	v := at.Hidden(page)
	v.Set("username", at.Email)
	v.Set("password", at.Password)
	return v
}

func TestIDTokenResponseType(t *testing.T) {
	e := at.New(t, nil)
	b := loggedIn(t, e)
	web := func(mod func(url.Values)) string {
		return at.AuthorizeURL(func(v url.Values) {
			v.Set("client_id", "web")
			v.Set("redirect_uri", "https://web.test/cb?x=1")
			v.Set("response_type", "id_token")
			v.Set("response_mode", "form_post")
			v.Set("scope", "openid email")
			v.Del("code_challenge")
			v.Del("code_challenge_method")
			v.Del("audience")
			if mod != nil {
				mod(v)
			}
		})
	}
	t.Run("form_post", func(t *testing.T) {
		r := b.Get(web(nil))
		got := at.Hidden(r.Body)
		tok := got.Get("id_token")
		parts := strings.Split(tok, ".")
		if r.Status != 200 || len(parts) != 3 || got.Get("state") != "st ate/+=" {
			t.Fatalf("form_post %d %v", r.Status, got)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		_ = json.Unmarshal(raw, &claims)
		if claims["nonce"] != "n-0S6_WzA2Mj" || claims["aud"] != "web" || claims["email"] != at.Email || claims["iss"] != at.Issuer {
			t.Errorf("claims %v", claims)
		}
		if !strings.Contains(html.UnescapeString(r.Body), `action="https://web.test/cb?x=1"`) {
			t.Errorf("form action:\n%s", r.Body)
		}
	})
	t.Run("fragment by default", func(t *testing.T) {
		q := at.Result(t, b.Get(web(func(v url.Values) { v.Del("response_mode") })), true)
		if strings.Count(q.Get("id_token"), ".") != 2 {
			t.Errorf("got %v", q)
		}
	})
	tests := []struct {
		name string
		mod  func(url.Values)
		code string
	}{
		{"nonce required", func(v url.Values) { v.Del("nonce") }, "invalid_request"},
		{"query refused", func(v url.Values) { v.Set("response_mode", "query") }, "invalid_request"},
		{"openid required", func(v url.Values) { v.Set("scope", "email") }, "invalid_scope"},
		{"implicit grant required", func(v url.Values) {
			v.Set("client_id", "spa")
			v.Set("redirect_uri", at.Callback)
			v.Set("response_mode", "fragment")
		}, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.Get(web(tt.mod))
			var got string
			if r.Status == http.StatusOK {
				got = at.Hidden(r.Body).Get("error")
			} else {
				frag := strings.Contains(r.Location(), "#")
				got = at.Result(t, r, frag).Get("error")
			}
			if got != tt.code {
				t.Errorf("error = %q, want %q (%d %s)", got, tt.code, r.Status, r.Location())
			}
		})
	}
}

func TestBlockedUserWithSession(t *testing.T) {
	e := at.New(t, nil)
	b := loggedIn(t, e)
	if err := e.Store.SetBlocked(t.Context(), e.User.ID, true, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	q := at.Result(t, b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "none") })), false)
	if q.Get("error") != "unauthorized" || q.Get("error_description") != "user is blocked" {
		t.Errorf("got %v", q)
	}
}

func TestDiscoveryAdvertisesAuthorize(t *testing.T) {
	e := at.New(t, nil)
	r := e.Browser().Get("/.well-known/openid-configuration")
	var d map[string]any
	if err := json.Unmarshal([]byte(r.Body), &d); err != nil {
		t.Fatal(err)
	}
	if d["authorization_endpoint"] != "http://latch.test/authorize" {
		t.Errorf("authorization_endpoint = %v", d["authorization_endpoint"])
	}
	for k, want := range map[string]string{
		"response_types_supported":         `["code","id_token"]`,
		"response_modes_supported":         `["query","fragment","form_post","web_message"]`,
		"code_challenge_methods_supported": `["S256"]`,
	} {
		got, _ := json.Marshal(d[k])
		if string(got) != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
}

// TestCodeExchangesAtTokenEndpoint follows the code to /oauth/token, as
// spa-js does: the stored code is what the token endpoint expects.
func TestCodeExchangesAtTokenEndpoint(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	code := at.Result(t, b.Login(at.AuthorizeURL(nil), at.Email, at.Password), false).Get("code")
	r := b.Post("/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code},
		"redirect_uri": {at.Callback}, "code_verifier": {at.Verifier},
	})
	var tok map[string]any
	if err := json.Unmarshal([]byte(r.Body), &tok); err != nil || r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		if s, _ := tok[k].(string); s == "" {
			t.Errorf("token response lacks %s: %v", k, tok)
		}
	}
	parts := strings.Split(tok["id_token"].(string), ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(raw, &claims)
	if claims["nonce"] != "n-0S6_WzA2Mj" || claims["sub"] != e.User.ID || claims["sid"] == "" {
		t.Errorf("id_token claims %v", claims)
	}
}
