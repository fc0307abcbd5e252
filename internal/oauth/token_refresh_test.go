package oauth_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/store"
)

// login exchanges a freshly seeded code and returns the answer.
func (e *env) login(mod func(*store.AuthCode)) *response {
	e.t.Helper()
	r := e.postForm("/oauth/token", codeForm(e.seedCode(mod)), nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %s", r.status, r.body)
	}
	return r
}

func refreshForm(rt string, kv ...string) url.Values {
	return with(url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {rt}}, kv...)
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, false)
	first := e.login(nil)
	firstID := e.claims(first.str("id_token"))
	e.clock.Add(10 * time.Minute)

	second := e.postForm("/oauth/token", refreshForm(first.str("refresh_token"), "redirect_uri", callback), nil)
	if second.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", second.status, second.body)
	}
	rt2 := second.str("refresh_token")
	if rt2 == "" || rt2 == first.str("refresh_token") {
		t.Fatalf("refresh token not rotated: %q", rt2)
	}
	if second.str("scope") != fullScope || second.header.Get("Cache-Control") != "no-store" {
		t.Errorf("answer = %v", second.json)
	}
	id := e.claims(second.str("id_token"))
	for _, k := range []string{"sub", "aud", "auth_time", "sid", "azp"} {
		if id[k] != firstID[k] {
			t.Errorf("refreshed ID token %s = %v, want %v", k, id[k], firstID[k])
		}
	}
	if _, ok := id["nonce"]; ok {
		t.Error("refreshed ID token carries a nonce")
	}
	if id["iat"] == firstID["iat"] {
		t.Error("refreshed ID token was not newly issued")
	}

	// Narrowing is allowed; the next refresh token keeps the full grant.
	third := e.postForm("/oauth/token", refreshForm(rt2, "scope", "openid"), nil)
	if third.status != http.StatusOK || third.str("scope") != "openid" {
		t.Fatalf("narrowed refresh: %d %s", third.status, third.body)
	}
	if c := e.claims(third.str("id_token")); c["email"] != nil || c["name"] != nil {
		t.Errorf("narrowed ID token still has profile claims: %v", c)
	}
	fourth := e.postForm("/oauth/token", refreshForm(third.str("refresh_token")), nil)
	if fourth.status != http.StatusOK || fourth.str("scope") != fullScope {
		t.Fatalf("refresh after narrowing: %d %s", fourth.status, fourth.body)
	}

	// Replaying the first (rotated-out) token revokes the whole family.
	wantError(t, e.postForm("/oauth/token", refreshForm(first.str("refresh_token")), nil), 403, "invalid_grant", "Unknown or invalid refresh token.")
	wantError(t, e.postForm("/oauth/token", refreshForm(fourth.str("refresh_token")), nil), 403, "invalid_grant", "Unknown or invalid refresh token.")
}

func TestRefreshWithAudience(t *testing.T) {
	e := newEnv(t, false)
	first := e.login(func(c *store.AuthCode) { c.Audience = apiID; c.Scope = "openid read:items offline_access" })
	r := e.postForm("/oauth/token", refreshForm(first.str("refresh_token")), nil)
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	c := e.claims(r.str("access_token"))
	if c["gty"] != "refresh_token" {
		t.Errorf("gty = %v, want refresh_token", c["gty"])
	}
	aud, _ := c["aud"].([]any)
	if len(aud) != 2 || aud[0] != apiID {
		t.Errorf("aud = %v", c["aud"])
	}
}

func TestRefreshTokenIssuance(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*store.AuthCode)
		wantRT bool
	}{
		{"offline_access without audience", nil, true},
		{"no offline_access", func(c *store.AuthCode) { c.Scope = "openid profile" }, false},
		{"API allows offline access", func(c *store.AuthCode) { c.Audience = apiID }, true},
		{"API refuses offline access", func(c *store.AuthCode) { c.Audience = noOffline }, false},
		{"client without refresh_token grant", func(c *store.AuthCode) { c.ClientID = "spa-noref" }, false},
	}
	e := newEnv(t, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := e.seedCode(tt.mod)
			form := codeForm(code)
			if tt.mod != nil {
				var c store.AuthCode
				tt.mod(&c)
				if c.ClientID != "" {
					form.Set("client_id", c.ClientID)
				}
			}
			r := e.postForm("/oauth/token", form, nil)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := r.str("refresh_token") != ""; got != tt.wantRT {
				t.Fatalf("refresh token issued = %v, want %v", got, tt.wantRT)
			}
		})
	}
}

func TestRefreshErrors(t *testing.T) {
	const invalid = "Unknown or invalid refresh token."
	rt := func(e *env, mod func(*store.AuthCode)) string { return e.login(mod).str("refresh_token") }
	cases := []tokenErrorCase{
		{name: "Pieces quirk: code, redirect_uri, code_verifier but no refresh_token", form: func(e *env) (url.Values, map[string]string) {
			return with(codeForm("some-code"), "grant_type", "refresh_token"), nil
		}, status: 400, code: "invalid_request", desc: "Missing required parameter: refresh_token"},
		{name: "unknown token", form: func(e *env) (url.Values, map[string]string) { return refreshForm("nope"), nil },
			status: 403, code: "invalid_grant", desc: invalid},
		{name: "other client's token", form: func(e *env) (url.Values, map[string]string) {
			return refreshForm(rt(e, nil), "client_id", "spa2"), nil
		}, status: 403, code: "invalid_grant", desc: invalid},
		{name: "scope widening", form: func(e *env) (url.Values, map[string]string) {
			return refreshForm(rt(e, func(c *store.AuthCode) { c.Scope = "openid offline_access" }), "scope", "openid email offline_access"), nil
		}, status: 403, code: "invalid_scope"},
		{name: "revoked family", raw: func(t *testing.T, e *env) *response {
			token := rt(e, nil)
			if r := e.postForm("/oauth/revoke", url.Values{"client_id": {"spa"}, "token": {token}}, nil); r.status != 200 {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			return e.postForm("/oauth/token", refreshForm(token), nil)
		}, status: 403, code: "invalid_grant", desc: invalid},
		{name: "idle expired", raw: func(t *testing.T, e *env) *response {
			token := rt(e, nil)
			e.clock.Add(e.cfg.Lifetimes.RefreshIdle.D() + time.Second)
			return e.postForm("/oauth/token", refreshForm(token), nil)
		}, status: 403, code: "invalid_grant", desc: invalid},
		{name: "blocked user", raw: func(t *testing.T, e *env) *response {
			u := e.createUser("blocked-rt@example.com")
			token := rt(e, func(c *store.AuthCode) { c.UserID = u.ID })
			if err := e.st.SetBlocked(t.Context(), u.ID, true, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			return e.postForm("/oauth/token", refreshForm(token), nil)
		}, status: 401, code: "unauthorized", desc: "user is blocked"},
	}
	runTokenErrors(t, cases)
}

// TestRefreshAbsoluteLifetime: rotation does not extend the family's
// absolute expiry.
func TestRefreshAbsoluteLifetime(t *testing.T) {
	cfg := testConfig(false)
	cfg.Lifetimes = config.Lifetimes{RefreshIdle: config.Duration(time.Hour), RefreshMax: config.Duration(90 * time.Minute)}
	e := newEnvWith(t, cfg)
	token := e.login(nil).str("refresh_token")
	for range 2 {
		e.clock.Add(40 * time.Minute)
		r := e.postForm("/oauth/token", refreshForm(token), nil)
		if r.status != http.StatusOK {
			t.Fatalf("refresh within lifetimes: %d %s", r.status, r.body)
		}
		token = r.str("refresh_token")
	}
	e.clock.Add(15 * time.Minute) // 95 min after issue, 15 min after the last use
	wantError(t, e.postForm("/oauth/token", refreshForm(token), nil), 403, "invalid_grant", "Unknown or invalid refresh token.")
}

// TestRefreshLeeway: within refresh_reuse_leeway the previous token may be
// used again without tripping reuse detection.
func TestRefreshLeeway(t *testing.T) {
	cfg := testConfig(false)
	cfg.Lifetimes.RefreshReuseLeeway = config.Duration(30 * time.Second)
	e := newEnvWith(t, cfg)
	token := e.login(nil).str("refresh_token")
	if r := e.postForm("/oauth/token", refreshForm(token), nil); r.status != http.StatusOK {
		t.Fatalf("first refresh: %d %s", r.status, r.body)
	}
	e.clock.Add(10 * time.Second)
	if r := e.postForm("/oauth/token", refreshForm(token), nil); r.status != http.StatusOK {
		t.Fatalf("reuse within leeway: %d %s", r.status, r.body)
	}
	e.clock.Add(time.Minute)
	wantError(t, e.postForm("/oauth/token", refreshForm(token), nil), 403, "invalid_grant", "Unknown or invalid refresh token.")
}

// TestRefreshRace: 20 concurrent uses of one refresh token, exactly one wins.
func TestRefreshRace(t *testing.T) {
	e := newEnv(t, false)
	token := e.login(nil).str("refresh_token")
	statuses := raceTokenRequests(t, e, refreshForm(token), 20)
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		} else if s != http.StatusForbidden {
			t.Errorf("unexpected status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("statuses %v: want exactly one 200", statuses)
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t, false)
	r := e.postForm("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {apiID}}, basic("worker", workerSec))
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r.str("id_token") != "" || r.str("refresh_token") != "" {
		t.Errorf("client_credentials issued user tokens: %v", r.json)
	}
	c := e.claims(r.str("access_token"))
	if c["sub"] != "worker@clients" || c["aud"] != apiID || c["gty"] != "client-credentials" || c["scope"] != "read:items write:items" || c["azp"] != "worker" {
		t.Errorf("claims = %v", c)
	}
	if r.str("scope") != "read:items write:items" || r.json["expires_in"] != float64(86400) {
		t.Errorf("answer = %v", r.json)
	}
	narrow := e.postForm("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"worker"},
		"client_secret": {workerSec}, "audience": {apiID}, "scope": {"read:items"}}, nil)
	if narrow.status != http.StatusOK || narrow.str("scope") != "read:items" {
		t.Fatalf("narrowed: %d %s", narrow.status, narrow.body)
	}
	// A client_credentials token is not good at /userinfo.
	if u := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + r.str("access_token")}); u.status != http.StatusUnauthorized {
		t.Errorf("userinfo with an m2m token: %d", u.status)
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	cc := func(kv ...string) func(e *env) (url.Values, map[string]string) {
		return func(e *env) (url.Values, map[string]string) {
			return with(url.Values{"grant_type": {"client_credentials"}, "client_id": {"worker"}, "client_secret": {workerSec}, "audience": {apiID}}, kv...), nil
		}
	}
	cases := []tokenErrorCase{
		{name: "missing audience", form: cc("audience", "<del>"), status: 400, code: "invalid_request", desc: "Missing required parameter: audience"},
		{name: "unknown audience", form: cc("audience", "https://nope.test/"), status: 403, code: "access_denied", desc: "Service not enabled within domain: https://nope.test/"},
		{name: "API not granted to the client", form: cc("audience", noOffline), status: 403, code: "access_denied"},
		{name: "scope not granted", form: cc("scope", "read:items delete:all"), status: 403, code: "access_denied", desc: "Client has not been granted scopes: delete:all"},
		{name: "wrong secret", form: cc("client_secret", "nope"), status: 401, code: "access_denied", desc: "Unauthorized", strictStatus: 401, strictCode: "invalid_client"},
		{name: "secret of another client", form: cc("client_secret", webSecret), status: 401, code: "access_denied", desc: "Unauthorized", strictStatus: 401, strictCode: "invalid_client"},
		{name: "public client", form: cc("client_id", "spa", "client_secret", "<del>"), status: 403, code: "unauthorized_client", desc: "Grant type 'client_credentials' not allowed for the client."},
		{name: "m2m client asks for a code grant", form: cc("grant_type", "authorization_code", "code", "x"), status: 403, code: "unauthorized_client"},
	}
	runTokenErrors(t, cases)
}

// TestGrantForRemovedAPI: a code whose audience is no longer configured is
// refused with Auth0's answer, not a server error.
func TestGrantForRemovedAPI(t *testing.T) {
	e := newEnv(t, false)
	code := e.seedCode(func(c *store.AuthCode) { c.Audience = "https://removed.test/" })
	wantError(t, e.postForm("/oauth/token", codeForm(code), nil), 403, "access_denied", "Service not enabled within domain: https://removed.test/")
}
