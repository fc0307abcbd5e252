package login_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
)

// signupForm opens the sign-up page through screen_hint=signup.
func signupForm(t *testing.T, b *at.Browser, mod func(url.Values)) (url.Values, *at.Resp) {
	t.Helper()
	r := b.Get(at.AuthorizeURL(func(v url.Values) {
		v.Set("screen_hint", "signup")
		if mod != nil {
			mod(v)
		}
	}))
	if !strings.HasPrefix(r.Location(), "/u/signup?state=") {
		t.Fatalf("authorize: %d %q", r.Status, r.Location())
	}
	page := b.Get(r.Location())
	if page.Status != http.StatusOK {
		t.Fatalf("signup page %d:\n%s", page.Status, page.Body)
	}
	assertPageHeaders(t, page)
	return at.Hidden(page.Body), page
}

func TestSignupPage(t *testing.T) {
	e := at.New(t, nil)
	_, page := signupForm(t, e.Browser(), func(v url.Values) { v.Set("login_hint", "new@example.com") })
	for _, want := range []string{
		`<label for="email">`, `name="email"`, `type="email"`, `autocomplete="email"`, `value="new@example.com"`,
		`autocomplete="new-password"`, `minlength="10"`, `At least 10 characters.`, `href="/u/login?state=`,
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("signup page lacks %q", want)
		}
	}
}

func TestSignup(t *testing.T) {
	e := at.New(t, nil)
	tests := []struct {
		name, email, pw string
		field           string // the field whose error is shown
		text            string
	}{
		{"missing email", "", "long enough pw", "email", "Enter your email address."},
		{"missing password", "x@example.com", "", "password", "Choose a password."},
		{"invalid email", "not-an-email", "long enough pw", "email", "Enter a valid email address"},
		{"existing user", at.Email, "long enough pw", "email", "The user already exists."},
		{"existing user other case", "ANN@EXAMPLE.COM", "long enough pw", "email", "The user already exists."},
		{"short password", "short@example.com", "short", "password", "Password is too short (at least 10 characters)."},
		{"blank password", "blank@example.com", "              ", "password", "Password cannot be blank."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.Browser()
			form, _ := signupForm(t, b, nil)
			form.Set("email", tt.email)
			form.Set("password", tt.pw)
			r := b.Post("/u/signup", form)
			if r.Status != http.StatusBadRequest {
				t.Errorf("status = %d", r.Status)
			}
			assertPageHeaders(t, r)
			want := `<p class="error" id="` + tt.field + `-error">` + tt.text
			if !strings.Contains(r.Body, want) {
				t.Errorf("page lacks %q:\n%s", want, r.Body)
			}
			if !strings.Contains(r.Body, `aria-invalid="true"`) {
				t.Error("field not marked aria-invalid")
			}
		})
	}
	t.Run("success logs in", func(t *testing.T) {
		b := e.Browser()
		form, _ := signupForm(t, b, nil)
		form.Set("email", "new@example.com")
		form.Set("password", "a good long password")
		r := b.Post("/u/signup", form)
		q := at.Result(t, r, false)
		if q.Get("code") == "" || !strings.Contains(r.Header.Get("Set-Cookie"), "latch_session=") {
			t.Fatalf("got %v, cookie %q", q, r.Header.Get("Set-Cookie"))
		}
		u, err := e.Store.GetUserByEmail(context.Background(), config.DefaultConnection, "new@example.com")
		if err != nil || u.LoginsCount != 1 {
			t.Fatalf("user %v, %v", u, err)
		}
		if c := e.Code(q.Get("code")); c.UserID != u.ID {
			t.Errorf("code for %q, want %q", c.UserID, u.ID)
		}
		// The new session is an SSO session.
		if q := at.Result(t, b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "none") })), false); q.Get("code") == "" {
			t.Errorf("prompt=none after signup: %v", q)
		}
	})
}

func TestSignupClosed(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	form := loginForm(t, b, at.AuthorizeURL(func(v url.Values) { v.Set("connection", at.ClosedConn) }))
	page := b.Get("/u/login?state=" + url.QueryEscape(form.Get("state")))
	if strings.Contains(page.Body, "/u/signup") {
		t.Error("login page links to sign-up on a closed connection")
	}
	if r := b.Get("/u/signup?state=" + url.QueryEscape(form.Get("state"))); r.Status != http.StatusForbidden {
		t.Errorf("GET signup = %d", r.Status)
	}
	form.Set("email", "x@example.com")
	form.Set("password", "long enough password")
	if r := b.Post("/u/signup", form); r.Status != http.StatusForbidden {
		t.Errorf("POST signup = %d", r.Status)
	}
	if _, err := e.Store.GetUserByEmail(context.Background(), at.ClosedConn, "x@example.com"); err == nil {
		t.Error("user created on a closed connection")
	}
}

// thirdParty is the third-party client's authorize URL.
func thirdParty(mod func(url.Values)) string {
	return at.AuthorizeURL(func(v url.Values) {
		v.Set("client_id", "third")
		v.Set("redirect_uri", "http://third.test/cb")
		if mod != nil {
			mod(v)
		}
	})
}

func consentForm(t *testing.T, b *at.Browser, r *at.Resp) url.Values {
	t.Helper()
	if r.Status != http.StatusSeeOther && r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/u/consent?state=") {
		t.Fatalf("want a redirect to consent, got %d %q", r.Status, r.Location())
	}
	page := b.Get(r.Location())
	if page.Status != http.StatusOK {
		t.Fatalf("consent page %d:\n%s", page.Status, page.Body)
	}
	assertPageHeaders(t, page)
	for _, want := range []string{"Authorize Third Party", "<strong>profile</strong>", "<strong>read:items</strong>", "Access to Items API", `value="accept"`, `value="deny"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	return at.Hidden(page.Body)
}

func TestConsentRemembered(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	form := consentForm(t, b, b.Login(thirdParty(func(v url.Values) { v.Set("scope", "openid profile read:items") }), at.Email, at.Password))
	form.Set("action", "accept")
	r := b.Post("/u/consent", form)
	if !strings.HasPrefix(r.Location(), "http://third.test/cb?code=") {
		t.Fatalf("accept: %d %q", r.Status, r.Location())
	}
	c, err := e.Store.GetConsent(context.Background(), e.User.ID, "third", at.API)
	if err != nil || strings.Join(c.Scopes, " ") != "openid profile read:items" {
		t.Fatalf("consent %v, %v", c, err)
	}
	t.Run("same scopes skip the page", func(t *testing.T) {
		q := at.Result(t, b.Get(thirdParty(func(v url.Values) { v.Set("scope", "openid read:items") })), false)
		if q.Get("code") == "" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("prompt none now works", func(t *testing.T) {
		q := at.Result(t, b.Get(thirdParty(func(v url.Values) { v.Set("scope", "openid profile"); v.Set("prompt", "none") })), false)
		if q.Get("code") == "" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("new scope asks again", func(t *testing.T) {
		r := b.Get(thirdParty(func(v url.Values) { v.Set("scope", "openid profile email read:items") }))
		if !strings.HasPrefix(r.Location(), "/u/consent?state=") {
			t.Fatalf("Location = %q", r.Location())
		}
	})
	t.Run("prompt consent asks again", func(t *testing.T) {
		r := b.Get(thirdParty(func(v url.Values) { v.Set("scope", "openid read:items"); v.Set("prompt", "consent") }))
		if !strings.HasPrefix(r.Location(), "/u/consent?state=") {
			t.Fatalf("Location = %q", r.Location())
		}
	})
}

func TestConsentDeny(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	form := consentForm(t, b, b.Login(thirdParty(func(v url.Values) { v.Set("scope", "openid profile read:items") }), at.Email, at.Password))
	form.Set("action", "deny")
	q := at.Result(t, b.Post("/u/consent", form), false)
	if q.Get("error") != "access_denied" || q.Get("state") != "st ate/+=" || q.Get("code") != "" {
		t.Fatalf("got %v", q)
	}
	if _, err := e.Store.GetConsent(context.Background(), e.User.ID, "third", at.API); err == nil {
		t.Error("denied consent was stored")
	}
	// The transaction is finished: the form cannot be replayed to accept.
	form.Set("action", "accept")
	if r := b.Post("/u/consent", form); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "already completed") {
		t.Errorf("replay: %d\n%s", r.Status, r.Body)
	}
}

func TestConsentForAPIWithoutSkip(t *testing.T) {
	e := at.New(t, nil)
	b := e.Browser()
	r := b.Login(at.AuthorizeURL(func(v url.Values) {
		v.Set("client_id", "firstparty")
		v.Set("redirect_uri", "http://first.test/cb")
		v.Set("audience", at.ConsentAPI)
		v.Set("scope", "openid read:x")
	}), at.Email, at.Password)
	if !strings.HasPrefix(r.Location(), "/u/consent?state=") {
		t.Fatalf("first-party client with a skip_consent:false API: %q", r.Location())
	}
}

func TestConsentPageGuards(t *testing.T) {
	e := at.New(t, nil)
	t.Run("without session goes to login", func(t *testing.T) {
		b := e.Browser()
		r := b.Get(thirdParty(nil))
		handle := strings.TrimPrefix(r.Location(), "/u/login?state=")
		r = b.Get("/u/consent?state=" + handle)
		if r.Status != http.StatusSeeOther || r.Location() != "/u/login?state="+handle {
			t.Errorf("consent without session: %d %q", r.Status, r.Location())
		}
	})
	t.Run("bad action", func(t *testing.T) {
		b := e.Browser()
		form := consentForm(t, b, b.Login(thirdParty(func(v url.Values) { v.Set("scope", "openid profile read:items") }), at.Email, at.Password))
		form.Set("action", "maybe")
		if r := b.Post("/u/consent", form); r.Status != http.StatusBadRequest {
			t.Errorf("status = %d", r.Status)
		}
	})
	t.Run("prompt login needs a login of this transaction", func(t *testing.T) {
		b := e.Browser()
		at.Result(t, b.Login(at.AuthorizeURL(nil), at.Email, at.Password), false)
		e.Clock.Add(time.Second)
		// A session exists; prompt=login sends to the login page. Going to
		// the consent page directly must not skip that login.
		r := b.Get(thirdParty(func(v url.Values) { v.Set("prompt", "login consent") }))
		handle := strings.TrimPrefix(r.Location(), "/u/login?state=")
		r = b.Get("/u/consent?state=" + handle)
		if r.Status != http.StatusSeeOther || r.Location() != "/u/login?state="+handle {
			t.Errorf("consent skipped prompt=login: %d %q", r.Status, r.Location())
		}
	})
}
