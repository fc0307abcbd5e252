package attacktest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
)

// loginPage opens the login page of a new transaction on b.
func loginPage(t *testing.T, b *at.Browser) (*at.Resp, url.Values) {
	t.Helper()
	r := b.Get(at.AuthorizeURL(nil))
	page := b.Get(r.Location())
	if page.Status != http.StatusOK {
		t.Fatalf("login page: %d", page.Status)
	}
	return page, at.Hidden(page.Body)
}

// TestLoginCSRF: an attacker's page cannot log the victim's browser into
// the attacker's account: a cross-site POST is refused even with the
// attacker's own valid transaction and token.
func TestLoginCSRF(t *testing.T) {
	e := newEnv(t)
	_, form := loginPage(t, e.Browser()) // the attacker's transaction
	form.Set("username", at.Email)
	form.Set("password", at.Password)
	tests := []struct {
		name string
		hdr  map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign Origin", map[string]string{"Origin": "https://evil.test"}},
		{"null Origin", map[string]string{"Origin": "null"}},
	}
	for _, tt := range tests {
		for _, path := range []string{"/u/login", "/u/signup", "/u/consent"} {
			victim := e.Browser()
			req, _ := http.NewRequest(http.MethodPost, e.Server.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			r := victim.Do(req)
			if r.Status != http.StatusForbidden || r.Header.Get("Set-Cookie") != "" || r.Location() != "" {
				t.Errorf("%s %s: %d Set-Cookie %q Location %q", tt.name, path, r.Status, r.Header.Get("Set-Cookie"), r.Location())
			}
		}
	}
}

// TestSessionFixation: a session cookie planted before login never
// becomes a logged-in session: login issues a new one.
func TestSessionFixation(t *testing.T) {
	e := newEnv(t)
	const planted = "attacker-chosen-session-value-0123456789abcdef"
	b := e.Browser()
	u, _ := url.Parse(e.Server.URL)
	b.C.Jar.SetCookies(u, []*http.Cookie{{Name: "latch_session", Value: planted, Path: "/"}})
	r := b.Login(at.AuthorizeURL(nil), at.Email, at.Password)
	if at.Result(t, r, false).Get("code") == "" {
		t.Fatal("login failed")
	}
	var issued string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "latch_session" {
			issued = c.Value
		}
	}
	if issued == "" || issued == planted {
		t.Fatalf("login kept the planted session cookie (issued %q)", issued)
	}
	// The attacker, holding only the planted value, is not logged in.
	attacker := e.Browser()
	attacker.C.Jar.SetCookies(u, []*http.Cookie{{Name: "latch_session", Value: planted, Path: "/"}})
	if r := attacker.Get(at.AuthorizeURL(nil)); !strings.HasPrefix(r.Location(), "/u/login?") {
		t.Errorf("planted cookie authenticates: %d %q", r.Status, r.Location())
	}
	// Another user's login on the same browser gets yet another session.
	e.CreateUser("bob@example.com", "bob", "bob's password 123")
	r = b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "login") }))
	page := b.Get(r.Location())
	form := at.Hidden(page.Body)
	form.Set("username", "bob@example.com")
	form.Set("password", "bob's password 123")
	r = b.Post("/u/login", form)
	var second string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "latch_session" {
			second = c.Value
		}
	}
	if second == "" || second == issued {
		t.Errorf("another user's login kept the session cookie")
	}
}

// TestClickjackingHeaders: no page latch renders may be framed, except the
// web_message page by the client's own web origins.
func TestClickjackingHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.Browser()
	login, form := loginPage(t, b)
	pages := map[string]*at.Resp{
		"login":      login,
		"signup":     b.Get("/u/signup?state=" + url.QueryEscape(form.Get("state"))),
		"error page": b.Get("/authorize?client_id=nobody"),
		"logout OK":  e.Browser().Get("/v2/logout"),
		"logout 400": e.Browser().Get("/v2/logout?returnTo=http://evil.test/"),
		"rate page":  b.Get("/u/login?state=unknown"),
		"form_post":  e.Browser().Login(at.AuthorizeURL(func(v url.Values) { v.Set("response_mode", "form_post") }), at.Email, at.Password),
		"not found":  b.Get("/nope"),
		"stylesheet": b.Get("/u/assets/latch.css"),
		"discovery":  b.Get("/.well-known/openid-configuration"),
	}
	for name, r := range pages {
		csp := r.Header.Get("Content-Security-Policy")
		if r.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s (%d): X-Frame-Options %q, CSP %q", name, r.Status, r.Header.Get("X-Frame-Options"), csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: nosniff / Referrer-Policy missing: %v", name, r.Header)
		}
	}
	wm := e.Browser().Login(at.AuthorizeURL(func(v url.Values) { v.Set("response_mode", "web_message") }), at.Email, at.Password)
	csp := wm.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors "+at.AppOrigin) || strings.Contains(csp, "frame-ancestors *") {
		t.Errorf("web_message CSP %q, want frame-ancestors limited to the web origins", csp)
	}
}
