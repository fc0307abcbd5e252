package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latch-auth/latch/internal/store"
)

func TestRevoke(t *testing.T) {
	e := newEnv(t, false)
	revoke := func(form url.Values, hdr map[string]string) *response { return e.postForm("/oauth/revoke", form, hdr) }

	t.Run("revokes the family", func(t *testing.T) {
		first := e.login(nil)
		second := e.postForm("/oauth/token", refreshForm(first.str("refresh_token")), nil)
		r := revoke(url.Values{"client_id": {"spa"}, "token": {second.str("refresh_token")}, "token_type_hint": {"refresh_token"}}, nil)
		if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%d %q %v", r.status, r.body, r.header)
		}
		wantError(t, e.postForm("/oauth/token", refreshForm(second.str("refresh_token")), nil), 403, "invalid_grant", "Unknown or invalid refresh token.")
		if u := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + first.str("access_token")}); u.status != 401 {
			t.Errorf("opaque access token of the revoked family: %d", u.status)
		}
		// Revoking again, or an unknown token, is still 200 (RFC 7009 §2.2).
		if r := revoke(url.Values{"client_id": {"spa"}, "token": {second.str("refresh_token")}}, nil); r.status != 200 {
			t.Errorf("second revoke: %d", r.status)
		}
	})
	t.Run("JSON body as the node SDK sends it", func(t *testing.T) {
		rt := e.login(nil).str("refresh_token")
		r := e.postJSON("/oauth/revoke", map[string]string{"client_id": "spa", "token": rt}, nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		wantError(t, e.postForm("/oauth/token", refreshForm(rt), nil), 403, "invalid_grant", "Unknown or invalid refresh token.")
	})
	t.Run("confidential client with basic auth", func(t *testing.T) {
		code := e.seedCode(func(c *store.AuthCode) {
			c.ClientID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod = "web", "https://web.test/cb", "", ""
		})
		tok := e.postForm("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://web.test/cb"}}, basic("web", webSecret))
		if tok.str("refresh_token") == "" {
			t.Fatalf("no refresh token: %s", tok.body)
		}
		wantError(t, revoke(url.Values{"token": {tok.str("refresh_token")}}, basic("web", "wrong")), 401, "access_denied", "Unauthorized")
		if r := revoke(url.Values{"token": {tok.str("refresh_token")}}, basic("web", webSecret)); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	rt := e.login(nil).str("refresh_token")
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"unknown token", url.Values{"client_id": {"spa"}, "token": {"nope"}}, 200, ""},
		{"access token", url.Values{"client_id": {"spa"}, "token": {e.login(nil).str("access_token")}, "token_type_hint": {"access_token"}}, 200, ""},
		{"missing token", url.Values{"client_id": {"spa"}}, 400, "invalid_request"},
		{"missing client", url.Values{"token": {rt}}, 400, "invalid_request"},
		{"unknown client", url.Values{"client_id": {"nope"}, "token": {rt}}, 401, "access_denied"},
		{"other client's token", url.Values{"client_id": {"spa2"}, "token": {rt}}, 403, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := revoke(tt.form, nil)
			if r.status != tt.status || r.str("error") != tt.code {
				t.Fatalf("%d %s, want %d %q", r.status, r.body, tt.status, tt.code)
			}
		})
	}
	if r := e.postForm("/oauth/token", refreshForm(rt), nil); r.status != 200 {
		t.Errorf("a refused revocation revoked the token: %d %s", r.status, r.body)
	}
}

func TestSignup(t *testing.T) {
	e := newEnv(t, false)
	r := e.postJSON("/dbconnections/signup", map[string]any{
		"client_id": "spa", "email": "new@example.com", "password": "long enough pw", "connection": "Username-Password-Authentication",
		"username": "newbie", "given_name": "New", "family_name": "User", "user_metadata": map[string]string{"plan": "free"},
	}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	id := r.str("_id")
	if len(id) != 24 || r.str("email") != "new@example.com" || r.json["email_verified"] != false || r.str("username") != "newbie" {
		t.Fatalf("answer = %s", r.body)
	}
	u, err := e.st.GetUser(t.Context(), "auth0|"+id)
	if err != nil {
		t.Fatal(err)
	}
	if u.GivenName != "New" || string(u.UserMetadata) != `{"plan":"free"}` {
		t.Errorf("stored user = %+v", u)
	}
	ok, _, err := e.hasher.Verify(t.Context(), u.PasswordHash, "long enough pw")
	if err != nil || !ok {
		t.Errorf("password not stored: %v", err)
	}
}

func TestSignupErrors(t *testing.T) {
	e := newEnv(t, false)
	existing := e.postJSON("/dbconnections/signup", map[string]any{"client_id": "spa", "email": "new@example.com",
		"password": "long enough pw", "connection": "Username-Password-Authentication", "username": "newbie"}, nil)
	if existing.status != 200 {
		t.Fatalf("%d %s", existing.status, existing.body)
	}
	base := map[string]any{"client_id": "spa", "email": "x@example.com", "password": "long enough pw", "connection": "Username-Password-Authentication"}
	mod := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name        string
		body        any
		raw         string
		contentType string
		status      int
		code, ename string
	}{
		{name: "existing email", body: mod("email", "NEW@example.com"), status: 400, code: "user_exists", ename: "BadRequestError"},
		{name: "existing username", body: mod("username", "newbie"), status: 400, code: "username_exists"},
		{name: "weak password", body: mod("password", "short"), status: 400, code: "invalid_password", ename: "PasswordStrengthError"},
		{name: "invalid email", body: mod("email", "not-an-email"), status: 400, code: "invalid_signup"},
		{name: "missing email", body: mod("email", nil), status: 400, code: "invalid_request"},
		{name: "missing password", body: mod("password", nil), status: 400, code: "invalid_request"},
		{name: "missing connection", body: mod("connection", nil), status: 400, code: "invalid_request"},
		{name: "missing client", body: mod("client_id", nil), status: 400, code: "invalid_request"},
		{name: "unknown client", body: mod("client_id", "nope"), status: 400, code: "invalid_request"},
		{name: "unknown connection", body: mod("connection", "nope"), status: 400, code: "invalid_connection"},
		{name: "connection not enabled for client", body: mod("client_id", "spa2", "connection", "closed"), status: 400, code: "invalid_connection"},
		{name: "signup off", body: mod("connection", "closed"), status: 403, code: "operation_not_supported"},
		{name: "user_metadata not an object", body: mod("user_metadata", []string{"a"}), status: 400, code: "invalid_signup"},
		{name: "number for email", body: mod("email", 12), status: 400, code: "invalid_request"},
		{name: "javascript picture", body: mod("picture", "javascript:alert(1)"), status: 400, code: "invalid_signup"},
		{name: "long name", body: mod("name", strings.Repeat("n", 301)), status: 400, code: "invalid_signup"},
		{name: "not JSON", raw: "email=x", contentType: "application/x-www-form-urlencoded", status: 400, code: "invalid_request"},
		{name: "truncated JSON", raw: `{"email":`, status: 400, code: "invalid_request"},
		{name: "two objects", raw: `{} {}`, status: 400, code: "invalid_request"},
		{name: "null body", raw: `null`, status: 400, code: "invalid_request"},
		{name: "too large", raw: `{"email":"` + strings.Repeat("a", 70000) + `"}`, status: 413, code: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, ct := tt.raw, tt.contentType
			if tt.body != nil {
				b, _ := json.Marshal(tt.body)
				raw = string(b)
			}
			if ct == "" {
				ct = "application/json"
			}
			r := e.request(http.MethodPost, "/dbconnections/signup", ct, raw, nil)
			if r.status != tt.status || r.str("code") != tt.code || r.json["statusCode"] != float64(tt.status) || r.str("description") == "" || r.str("name") == "" {
				t.Fatalf("%d %s, want %d code %q", r.status, r.body, tt.status, tt.code)
			}
			if tt.ename != "" && r.str("name") != tt.ename {
				t.Errorf("name = %q, want %q", r.str("name"), tt.ename)
			}
		})
	}
}
