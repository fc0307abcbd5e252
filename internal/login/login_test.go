package login_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/users"
	"golang.org/x/crypto/bcrypt"
)

// loginForm opens the login page of a fresh transaction and returns its
// hidden fields.
func loginForm(t *testing.T, b *at.Browser, authorizeURL string) url.Values {
	t.Helper()
	r := b.Get(authorizeURL)
	if !strings.HasPrefix(r.Location(), "/u/login?state=") {
		t.Fatalf("authorize: %d %q", r.Status, r.Location())
	}
	page := b.Get(r.Location())
	assertPageHeaders(t, page)
	return at.Hidden(page.Body)
}

func assertPageHeaders(t *testing.T, r *at.Resp) {
	t.Helper()
	h := r.Header
	if h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("security headers: %v", h)
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
	}
}

func TestLoginPage(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	r := b.Get(at.AuthorizeURL(nil))
	page := b.Get(r.Location())
	for _, want := range []string{
		`<label for="username">`, `name="username"`, `autocomplete="username"`,
		`<label for="password">`, `name="password"`, `type="password"`, `autocomplete="current-password"`,
		`name="csrf"`, `name="state"`, `action="/u/login"`, `href="/u/signup?state=`,
		`Log in to continue to My SPA.`, `<p class="tenant">Acme</p>`, `<link rel="stylesheet" href="/u/assets/latch.css?v=`,
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://app.test") {
		t.Errorf("CSP %q must let the form's redirect reach the app", csp)
	}
	if strings.Contains(page.Body, "<script") {
		t.Error("login page needs JavaScript")
	}
}

func TestStylesheet(t *testing.T) {
	e := at.New(t, nil)
	r := e.Browser().Get("/u/assets/latch.css")
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.HasPrefix(r.Body, ":root{--primary:#0055aa;") {
		t.Fatalf("stylesheet %d %q %.60q", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
}

// TestLoginFailures: wrong password and unknown user give the same status
// and message; missing fields are reported next to the field.
func TestLoginFailures(t *testing.T) {
	e := at.New(t, nil)
	tests := []struct {
		name, user, pw string
		status         int
		want           []string
	}{
		{"wrong password", at.Email, "nope nope nope", 400, []string{`<p class="alert" role="alert" id="form-error">Wrong email or password.</p>`, `aria-describedby="form-error"`}},
		{"unknown user", "nobody@example.com", "nope nope nope", 400, []string{`<p class="alert" role="alert" id="form-error">Wrong email or password.</p>`, `aria-describedby="form-error"`}},
		{"unknown username", "nobody", at.Password, 400, []string{`<p class="alert" role="alert" id="form-error">Wrong email or password.</p>`}},
		{"email case and spaces", "  ANN@example.com ", "wrong", 400, []string{`Wrong email or password.`, `value="ANN@example.com"`}},
		{"missing username", "", at.Password, 400, []string{`id="username-error"`, `aria-describedby="username-error"`, `Enter your email address or username.`}},
		{"missing password", at.Email, "", 400, []string{`id="password-error"`, `Enter your password.`, `value="ann@example.com"`}},
	}
	var bodies []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.Browser()
			form := loginForm(t, b, at.AuthorizeURL(nil))
			form.Set("username", tt.user)
			form.Set("password", tt.pw)
			r := b.Post("/u/login", form)
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d", r.Status, tt.status)
			}
			assertPageHeaders(t, r)
			for _, w := range tt.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("page lacks %q:\n%s", w, r.Body)
				}
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Errorf("failed login set a cookie: %q", r.Header.Get("Set-Cookie"))
			}
			if strings.Contains(r.Body, tt.pw) && tt.pw != "" {
				t.Error("the password is echoed in the page")
			}
			if strings.Contains(tt.name, "wrong password") || strings.Contains(tt.name, "unknown user") {
				// The two answers must not differ beyond the transaction's own values.
				body := strings.ReplaceAll(strings.ReplaceAll(r.Body, form.Get("state"), ""), form.Get("csrf"), "")
				body = strings.ReplaceAll(body, tt.user, "")
				bodies = append(bodies, body)
			}
		})
	}
	if len(bodies) == 2 && bodies[0] != bodies[1] {
		t.Errorf("wrong password and unknown user pages differ:\n%s\n----\n%s", bodies[0], bodies[1])
	}
}

func TestLoginWithUsernameRecordsLogin(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	form := loginForm(t, b, at.AuthorizeURL(nil))
	form.Set("username", at.Username)
	form.Set("password", at.Password)
	r := b.Post("/u/login", form)
	if q := at.Result(t, r, false); q.Get("code") == "" {
		t.Fatalf("got %v", q)
	}
	u, err := e.Store.GetUser(context.Background(), e.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.LoginsCount != 1 || u.LastIP != "127.0.0.1" || !u.LastLogin.Equal(e.Clock.Now()) {
		t.Errorf("logins_count %d last_ip %q last_login %v", u.LoginsCount, u.LastIP, u.LastLogin)
	}
}

func TestCSRF(t *testing.T) {
	e := at.New(t, nil)
	tests := []struct {
		name string
		mod  func(form url.Values, h http.Header)
	}{
		{"missing token", func(f url.Values, _ http.Header) { f.Del("csrf") }},
		{"wrong token", func(f url.Values, _ http.Header) { f.Set("csrf", "forged") }},
		{"token of another transaction", nil},
		{"cross-site post", func(_ url.Values, h http.Header) { h.Set("Sec-Fetch-Site", "cross-site") }},
		{"foreign origin", func(_ url.Values, h http.Header) { h.Set("Origin", "https://evil.test") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.Browser()
			form := loginForm(t, b, at.AuthorizeURL(nil))
			if tt.mod == nil {
				other := loginForm(t, b, at.AuthorizeURL(nil))
				form.Set("csrf", other.Get("csrf"))
			}
			form.Set("username", at.Email)
			form.Set("password", at.Password)
			for _, path := range []string{"/u/login", "/u/signup", "/u/consent"} {
				f := url.Values{}
				for k, v := range form {
					f[k] = append([]string(nil), v...)
				}
				h := http.Header{}
				if tt.mod != nil {
					tt.mod(f, h)
				}
				req, _ := http.NewRequest(http.MethodPost, e.Server.URL+path, strings.NewReader(f.Encode()))
				for k, v := range h {
					req.Header[k] = v
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r := b.Do(req)
				if r.Status != http.StatusForbidden {
					t.Errorf("%s: status = %d, want 403\n%s", path, r.Status, r.Body)
				}
				if r.Header.Get("Location") != "" || r.Header.Get("Set-Cookie") != "" {
					t.Errorf("%s: refused request redirected or set a cookie", path)
				}
				assertPageHeaders(t, r)
			}
		})
	}
}

func TestMalformedForms(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	t.Run("too large", func(t *testing.T) {
		form := loginForm(t, b, at.AuthorizeURL(nil))
		form.Set("password", strings.Repeat("p", 70<<10))
		if r := b.Post("/u/login", form); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d", r.Status)
		}
	})
	t.Run("bad encoding", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/u/login", strings.NewReader("state=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := b.Do(req); r.Status != http.StatusBadRequest {
			t.Errorf("status = %d", r.Status)
		}
	})
	t.Run("no body", func(t *testing.T) {
		if r := b.Post("/u/login", nil); r.Status != http.StatusBadRequest {
			t.Errorf("status = %d", r.Status)
		}
	})
}

func TestBlockedUser(t *testing.T) {
	e := at.New(t, nil)
	if err := e.Store.SetBlocked(context.Background(), e.User.ID, true, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	t.Run("right password", func(t *testing.T) {
		b := e.Browser()
		form := loginForm(t, b, at.AuthorizeURL(nil))
		form.Set("username", at.Email)
		form.Set("password", at.Password)
		r := b.Post("/u/login", form)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "user is blocked") {
			t.Errorf("status %d:\n%s", r.Status, r.Body)
		}
	})
	t.Run("wrong password does not reveal the block", func(t *testing.T) {
		b := e.Browser()
		form := loginForm(t, b, at.AuthorizeURL(nil))
		form.Set("username", at.Email)
		form.Set("password", "wrong password")
		r := b.Post("/u/login", form)
		if r.Status != http.StatusBadRequest || strings.Contains(r.Body, "blocked") {
			t.Errorf("status %d:\n%s", r.Status, r.Body)
		}
	})
}

func TestBcryptRehashedOnLogin(t *testing.T) {
	e := at.New(t, nil)
	hash, _ := bcrypt.GenerateFromPassword([]byte("imported password"), 4)
	u, err := users.Create(context.Background(), e.Store, e.Hasher, users.NewUser{
		Connection: config.DefaultConnection, Email: "old@example.com", PasswordHash: string(hash),
	}, 8, e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := e.Browser().Login(at.AuthorizeURL(nil), "old@example.com", "imported password")
	if q := at.Result(t, r, false); q.Get("code") == "" {
		t.Fatalf("got %v", q)
	}
	got, _ := e.Store.GetUser(context.Background(), u.ID)
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
		t.Errorf("hash not upgraded: %q", got.PasswordHash)
	}
	// And the new hash works.
	r = e.Browser().Login(at.AuthorizeURL(nil), "old@example.com", "imported password")
	if q := at.Result(t, r, false); q.Get("code") == "" {
		t.Fatalf("second login: %v", q)
	}
}

func TestLoginReplacesOtherUsersSession(t *testing.T) {
	e := at.New(t, nil)
	e.CreateUser("bob@example.com", "bob", "bob password 1")
	b := e.Browser()
	first := at.Result(t, b.Login(at.AuthorizeURL(nil), at.Email, at.Password), false)
	c1 := e.Code(first.Get("code"))
	second := at.Result(t, b.Login(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "login") }), "bob@example.com", "bob password 1"), false)
	c2 := e.Code(second.Get("code"))
	if c1.SessionID == c2.SessionID {
		t.Fatal("another user's login kept the session id")
	}
	if _, err := e.Store.GetSession(context.Background(), c1.SessionID); err == nil {
		t.Error("the first user's session survives the second login")
	}
	// The same user logging in again keeps the session id (sid stays stable).
	third := at.Result(t, b.Login(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "login") }), "bob@example.com", "bob password 1"), false)
	if c3 := e.Code(third.Get("code")); c3.SessionID != c2.SessionID {
		t.Errorf("re-login of the same user changed sid %q → %q", c2.SessionID, c3.SessionID)
	}
}

// TestBadInputIsA4xx sends malformed requests of many kinds to every
// hosted route: each must get a 4xx page, never a 5xx.
func TestBadInputIsA4xx(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	valid := loginForm(t, b, at.AuthorizeURL(nil))
	type req struct {
		method, path, ctype, body string
	}
	var reqs []req
	for _, p := range []string{"/u/login", "/u/signup", "/u/consent"} {
		reqs = append(reqs,
			req{"GET", p, "", ""},
			req{"GET", p + "?state=%zz", "", ""},
			req{"GET", p + "?state=" + strings.Repeat("é", 300), "", ""},
			req{"GET", p + "?state=a&state=b", "", ""},
			req{"POST", p, "application/json", `{"state":"` + valid.Get("state") + `"}`},
			req{"POST", p, "multipart/form-data; boundary=x", "--x\r\nbroken"},
			req{"POST", p, "application/x-www-form-urlencoded", "state=" + url.QueryEscape(valid.Get("state"))},
			req{"POST", p, "application/x-www-form-urlencoded", "state=" + url.QueryEscape(valid.Get("state")) + "&csrf=" + strings.Repeat("x", 5000)},
			req{"POST", p, "application/x-www-form-urlencoded", "\x00\xff=\x01"},
			req{"POST", p, "text/plain", "hello"},
			req{"DELETE", p, "", ""},
		)
	}
	reqs = append(reqs,
		req{"GET", "/authorize?client_id=spa&redirect_uri=" + url.QueryEscape(at.Callback) + "&response_type=code&code_challenge=" + at.Challenge + "&code_challenge_method=S256&max_age=1e9", "", ""},
		req{"GET", "/authorize?client_id=%00", "", ""},
		req{"GET", "/authorize?" + strings.Repeat("a=b&", 2000), "", ""},
		req{"POST", "/authorize", "application/x-www-form-urlencoded", "client_id=spa&redirect_uri=%"},
	)
	for _, rq := range reqs {
		name := rq.method + " " + rq.path
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			r, _ := http.NewRequest(rq.method, e.Server.URL+rq.path, strings.NewReader(rq.body))
			if rq.ctype != "" {
				r.Header.Set("Content-Type", rq.ctype)
			}
			res := b.Do(r)
			if res.Status < 400 && res.Status != http.StatusFound || res.Status >= 500 {
				t.Errorf("%s %s (%s) = %d\n%.300s", rq.method, rq.path, rq.ctype, res.Status, res.Body)
			}
		})
	}
}
