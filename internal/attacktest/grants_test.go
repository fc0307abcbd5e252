package attacktest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
)

// TestCodeInjection: a code stolen from one client gets an attacker
// nothing at another client, with another redirect_uri or verifier; the
// attempt spends it, so the victim's own exchange fails too and nothing was
// issued to anyone.
func TestCodeInjection(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		mod  func(url.Values)
	}{
		{"another public client", func(v url.Values) { v.Set("client_id", "firstparty") }},
		{"another client's redirect_uri", func(v url.Values) {
			v.Set("client_id", "firstparty")
			v.Set("redirect_uri", "http://first.test/cb")
		}},
		{"a confidential client with its secret", func(v url.Values) {
			v.Set("client_id", "web")
			v.Set("client_secret", "s3cret")
			v.Set("redirect_uri", "https://web.test/cb?x=1")
		}},
		{"same client, other redirect_uri", func(v url.Values) { v.Set("redirect_uri", "http://app.test/other") }},
		{"same client, attacker's verifier", func(v url.Values) {
			v.Set("code_verifier", "attackerattackerattackerattackerattacker123")
		}},
		{"no verifier", func(v url.Values) { v.Del("code_verifier") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, code := codeFor(t, e, nil)
			form := exchangeForm(code)
			tt.mod(form)
			status, tok, oe := token(t, e.Browser(), form)
			if status == http.StatusOK || tok.Access != "" {
				t.Fatalf("injected code exchanged: %+v", tok)
			}
			if status < 400 || status > 499 || oe.Code == "" {
				t.Fatalf("%d %+v", status, oe)
			}
			if status, _, oe := token(t, b, exchangeForm(code)); status != http.StatusForbidden || oe.Code != "invalid_grant" {
				t.Errorf("the victim's exchange after the attempt: %d %+v, want 403 invalid_grant (code spent)", status, oe)
			}
		})
	}
}

// TestCodeReplay: a second use of a code fails and revokes what the first
// use issued (RFC 6749 §4.1.2).
func TestCodeReplay(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		mod  func(url.Values) // the authorize request
	}{
		{"opaque access token", func(v url.Values) { v.Del("audience") }},
		{"JWT access token", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, code := codeFor(t, e, tt.mod)
			status, first, _ := token(t, b, exchangeForm(code))
			if status != http.StatusOK || first.Refresh == "" {
				t.Fatalf("first exchange: %d %+v", status, first)
			}
			status, second, oe := token(t, e.Browser(), exchangeForm(code))
			if status != http.StatusForbidden || oe.Code != "invalid_grant" || second.Access != "" {
				t.Fatalf("replay: %d %+v", status, oe)
			}
			if status, _, oe := token(t, b, url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {first.Refresh}}); status != http.StatusForbidden || oe.Code != "invalid_grant" {
				t.Errorf("refresh token of the replayed code: %d %+v, want 403 invalid_grant", status, oe)
			}
			if strings.Count(first.Access, ".") != 2 { // opaque tokens are recalled; JWTs expire
				if s := userinfoStatus(t, e, first.Access); s != http.StatusUnauthorized {
					t.Errorf("opaque access token of the replayed code: /userinfo %d", s)
				}
			}
		})
	}
}

// TestPKCEDowngrade: a public client cannot do without S256, at /authorize
// or at the token endpoint.
func TestPKCEDowngrade(t *testing.T) {
	e := newEnv(t)
	t.Run("authorize", func(t *testing.T) {
		tests := []struct {
			name string
			mod  func(url.Values)
		}{
			{"plain", func(v url.Values) { v.Set("code_challenge_method", "plain"); v.Set("code_challenge", at.Verifier) }},
			{"no method", func(v url.Values) { v.Del("code_challenge_method") }},
			{"no challenge", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }},
			{"short challenge", func(v url.Values) { v.Set("code_challenge", at.Challenge[:42]) }},
			{"long challenge", func(v url.Values) { v.Set("code_challenge", at.Challenge+"A") }},
			{"bad characters", func(v url.Values) { v.Set("code_challenge", strings.Repeat("+", 43)) }},
			{"method case", func(v url.Values) { v.Set("code_challenge_method", "s256") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.Browser().Get(at.AuthorizeURL(tt.mod))
				q := at.Result(t, r, false)
				if q.Get("error") != "invalid_request" || q.Get("code") != "" || !strings.HasPrefix(r.Location(), at.Callback+"?") {
					t.Errorf("Location %q, want invalid_request at the callback", r.Location())
				}
			})
		}
	})
	t.Run("token", func(t *testing.T) {
		tests := []struct{ name, verifier string }{
			{"missing", ""},
			{"the challenge itself (plain)", at.Challenge},
			{"42 characters", at.Verifier[:42]},
			{"129 characters", strings.Repeat("a", 129)},
			{"bad characters", at.Verifier[:42] + "+"},
			{"white space", at.Verifier[:42] + " "},
			{"wrong", strings.Repeat("b", 43)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b, code := codeFor(t, e, nil)
				form := exchangeForm(code)
				form.Set("code_verifier", tt.verifier)
				if tt.verifier == "" {
					form.Del("code_verifier")
				}
				status, tok, oe := token(t, b, form)
				if status < 400 || status > 499 || tok.Access != "" || oe.Code == "" {
					t.Errorf("%d %+v %+v", status, tok, oe)
				}
			})
		}
	})
	t.Run("verifier for a code issued without a challenge", func(t *testing.T) {
		b, code := codeFor(t, e, func(v url.Values) {
			v.Set("client_id", "web")
			v.Set("redirect_uri", "https://web.test/cb?x=1")
			v.Del("code_challenge")
			v.Del("code_challenge_method")
		})
		form := exchangeForm(code)
		form.Set("client_id", "web")
		form.Set("client_secret", "s3cret")
		form.Set("redirect_uri", "https://web.test/cb?x=1")
		if status, tok, _ := token(t, b, form); status == http.StatusOK || tok.Access != "" {
			t.Errorf("a verifier was accepted for a code without a challenge: %d", status)
		}
	})
}

// TestRefreshTokenAcrossClients: client B cannot use client A's refresh
// token, and the attempt does not break it for A.
func TestRefreshTokenAcrossClients(t *testing.T) {
	e := newEnv(t)
	b, code := codeFor(t, e, nil)
	_, tok, _ := token(t, b, exchangeForm(code))
	if tok.Refresh == "" {
		t.Fatal("no refresh token")
	}
	for _, form := range []url.Values{
		{"grant_type": {"refresh_token"}, "client_id": {"firstparty"}, "refresh_token": {tok.Refresh}},
		{"grant_type": {"refresh_token"}, "client_id": {"web"}, "client_secret": {"s3cret"}, "refresh_token": {tok.Refresh}},
		{"grant_type": {"refresh_token"}, "refresh_token": {tok.Refresh}},
	} {
		status, got, oe := token(t, e.Browser(), form)
		if status == http.StatusOK || got.Access != "" || status < 400 || status > 499 {
			t.Errorf("client %q used spa's refresh token: %d %+v", form.Get("client_id"), status, oe)
		}
	}
	if status, got, oe := token(t, b, url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tok.Refresh}}); status != http.StatusOK || got.Refresh == "" {
		t.Errorf("spa's own refresh after the attempts: %d %+v", status, oe)
	}
}
