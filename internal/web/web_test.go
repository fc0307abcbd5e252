package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRenderEveryPage(t *testing.T) {
	p, err := Parse()
	if err != nil {
		t.Fatal(err)
	}
	brand := BrandOf("Acme <Corp>", "https://cdn.example.com/logo.png", "#123456")
	base := Base{Brand: brand, Title: "Log in"}
	evil := `"><script>alert(1)</script>`
	tests := []struct {
		name string
		page string
		data any
		want []string
	}{
		{"login", PageLogin, LoginData{Base: base, ClientName: "My " + evil, Action: "/u/login", State: "st", CSRF: "tok",
			Username: Field{Value: evil, Error: "Enter your email"}, FormError: "Wrong email or password.", SignupURL: "/u/signup?state=st"},
			[]string{`name="username"`, `autocomplete="username"`, `name="password"`, `autocomplete="current-password"`,
				`aria-describedby="username-error"`, `id="username-error"`, `name="csrf" value="tok"`, `href="/u/signup?state=st"`,
				`src="https://cdn.example.com/logo.png"`, `<label for="username">`, `<label for="password">`}},
		{"login prefilled", PageLogin, LoginData{Base: base, Username: Field{Value: "ann@example.com"}},
			[]string{`value="ann@example.com"`, `autocomplete="current-password" required autofocus`}},
		{"signup", PageSignup, SignupData{Base: base, Email: Field{Value: "a@b.co"}, Password: Field{Error: "Password is too short."}, MinLength: 8, LoginURL: "/u/login?state=x"},
			[]string{`name="email"`, `autocomplete="email"`, `autocomplete="new-password"`, `minlength="8"`,
				`aria-describedby="password-hint password-error"`, `id="password-error"`, `Password is too short.`}},
		{"consent", PageConsent, ConsentData{Base: base, ClientName: "Third party", UserName: "Ann", Scopes: []Scope{{Name: "profile", Description: "Your profile"}}},
			[]string{`value="accept"`, `value="deny"`, `Your profile`, `Authorize Third party`}},
		{"consent no scopes", PageConsent, ConsentData{Base: base}, []string{`Sign you in`}},
		{"error", PageError, ErrorData{Base: base, Message: "Something went wrong.", Code: "invalid_request", Description: evil, LinkURL: "http://localhost:3000/", RequestID: "abc"},
			[]string{`<code>invalid_request</code>`, `href="http://localhost:3000/"`, `Back to the application`}},
		{"form_post", PageFormPost, FormPostData{Action: "https://app.example.com/cb?x=1", Params: []Param{{"code", "c"}, {"state", evil}}, Nonce: "n0nce"},
			[]string{`action="https://app.example.com/cb?x=1"`, `name="code" value="c"`, `<noscript>`, `<button type="submit">Continue</button>`, `<script nonce="n0nce">`}},
		{"form_post custom scheme", PageFormPost, FormPostData{Action: "com.example.app:/cb", Nonce: "n"},
			[]string{`action="com.example.app:/cb"`}},
		{"web_message", PageWebMessage, WebMessageData{TargetOrigin: "http://localhost:3000", Response: WebMessageResponse{Code: "c", State: "</script><b>"}, Nonce: "n"},
			[]string{`var targetOrigin = "http://localhost:3000"`, `type: "authorization_response"`, `"code":"c"`, `mainWin.postMessage(authorizationResponse, targetOrigin)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := p.Render(rec, http.StatusBadRequest, tt.page, tt.data); err != nil {
				t.Fatalf("Render: %v", err)
			}
			body := rec.Body.String()
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d", rec.Code)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, "</script><b>") {
				t.Errorf("unescaped input in page:\n%s", body)
			}
		})
	}
}

func TestRenderUnknownPage(t *testing.T) {
	p := MustParse()
	rec := httptest.NewRecorder()
	if err := p.Render(rec, 200, "nope", nil); err == nil {
		t.Fatal("Render of an unknown page succeeded")
	}
	if rec.Body.Len() != 0 {
		t.Fatal("Render wrote a body on error")
	}
}

func TestSource(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"https://app.example.com/cb?x=1", "https://app.example.com", true},
		{"http://localhost:3000/callback", "http://localhost:3000", true},
		{"HTTP://LOCALHOST:3000", "http://localhost:3000", true},
		{"https://*.example.com", "https://*.example.com", true},
		{"com.example.app:/oauth", "com.example.app:", true},
		{"http://[::1]:8080/cb", "", false},
		{"https://a;b.example.com/", "", false},
		{"not a url", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Source(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Source(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestPolicies(t *testing.T) {
	b := BrandOf("", "https://cdn.example.com/l.png", "")
	if got, want := PageCSP(b, "http://localhost:3000/cb"), "default-src 'none'; style-src 'self'; img-src 'self' https://cdn.example.com; form-action 'self' http://localhost:3000; frame-ancestors 'none'; base-uri 'none'"; got != want {
		t.Errorf("PageCSP = %q\nwant %q", got, want)
	}
	if got := PageCSP(Branding{}, "http://[::1]:5000/cb"); strings.Contains(got, "form-action") {
		t.Errorf("PageCSP with an IPv6 target = %q, want no form-action", got)
	}
	if got, want := WebMessageCSP("n", []string{"http://localhost:3000/", "https://*.example.com"}), "default-src 'none'; script-src 'nonce-n'; frame-ancestors http://localhost:3000 https://*.example.com; base-uri 'none'"; got != want {
		t.Errorf("WebMessageCSP = %q\nwant %q", got, want)
	}
	if got := WebMessageCSP("n", nil); !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("WebMessageCSP without origins = %q", got)
	}
	if got := FormPostCSP("n", "https://app.example.com/cb"); !strings.Contains(got, "form-action 'self' https://app.example.com") || !strings.Contains(got, "script-src 'nonce-n'") {
		t.Errorf("FormPostCSP = %q", got)
	}
}

func TestStylesheet(t *testing.T) {
	tests := []struct{ color, want string }{
		{"#123456", ":root{--primary:#123456;--on-primary:#ffffff}"},
		{"#fff", ":root{--primary:#fff;--on-primary:#111111}"},
		{"red;}body{display:none", ":root{--primary:#635bff;"},
		{"", ":root{--primary:#635bff;"},
	}
	for _, tt := range tests {
		t.Run(tt.color, func(t *testing.T) {
			css := string(Stylesheet(tt.color))
			if !strings.HasPrefix(css, tt.want) {
				t.Errorf("Stylesheet(%q) starts %q", tt.color, css[:60])
			}
		})
	}
	if a, b := BrandOf("", "", "#000000").CSSURL, BrandOf("", "", "#ffffff").CSSURL; a == b {
		t.Error("stylesheet URL does not change with the colour")
	}
	if got := BrandOf("", "javascript:alert(1)", "").LogoURL; got != "" {
		t.Errorf("non-http logo kept: %q", got)
	}
}
