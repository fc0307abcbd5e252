package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

func TestAuthorizationCodeGrant(t *testing.T) {
	e := newEnv(t, false)
	r := e.postForm("/oauth/token", codeForm(e.seedCode(nil)), nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for k, v := range map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "Content-Type": "application/json; charset=utf-8"} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// Auth0's field order.
	order := []string{`"access_token"`, `"id_token"`, `"refresh_token"`, `"expires_in"`, `"token_type"`, `"scope"`}
	last := -1
	for _, k := range order {
		i := strings.Index(string(r.body), k)
		if i <= last {
			t.Fatalf("field %s out of Auth0's order in %s", k, r.body)
		}
		last = i
	}
	if r.str("token_type") != "Bearer" || r.json["expires_in"] != float64(86400) || r.str("scope") != fullScope {
		t.Errorf("answer = %v", r.json)
	}
	if at := r.str("access_token"); strings.Count(at, ".") != 4 {
		t.Errorf("access token without audience should be opaque (sealed: a compact JWE), got %q", at)
	}
	c := e.claims(r.str("id_token"))
	want := map[string]any{
		"iss": issuer, "sub": e.user.ID, "aud": "spa", "azp": "spa", "sid": testSID, "nonce": testNonce,
		"email": "ann@example.com", "name": "Ann Example", "given_name": "Ann",
		"auth_time": float64(e.clock.Now().Add(-time.Minute).Unix()), "exp": float64(e.clock.Now().Unix() + 36000),
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("id_token %s = %v, want %v", k, c[k], v)
		}
	}
	if _, ok := c["updated_at"].(string); !ok {
		t.Errorf("updated_at = %#v, want an RFC 3339 string", c["updated_at"])
	}
}

func TestAuthorizationCodeWithAudience(t *testing.T) {
	e := newEnv(t, false)
	code := e.seedCode(func(c *store.AuthCode) { c.Audience = apiID; c.Scope = "openid profile read:items offline_access" })
	// The Pieces SDK's wire form: schema=[object Blob] first, audience
	// repeated, an X-Application-ID header.
	body := "schema=%5Bobject+Blob%5D&" + codeForm(code).Encode() + "&audience=" + url.QueryEscape(apiID)
	r := e.request(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded;charset=UTF-8", body,
		map[string]string{"X-Application-ID": "pieces-app"})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	c := e.claims(r.str("access_token"))
	aud, _ := c["aud"].([]any)
	if len(aud) != 2 || aud[0] != apiID || aud[1] != issuer+"userinfo" {
		t.Errorf("aud = %v, want [api, userinfo]", c["aud"])
	}
	if c["scope"] != "openid profile read:items offline_access" || c["azp"] != "spa" || c["sub"] != e.user.ID {
		t.Errorf("claims = %v", c)
	}
	if _, ok := c["gty"]; ok {
		t.Errorf("authorization_code access token has gty %v", c["gty"])
	}
	if r.str("refresh_token") == "" {
		t.Error("no refresh token for an API that allows offline access")
	}
}

func TestAuthorizationCodeJSONBodyAndConfidentialClient(t *testing.T) {
	e := newEnv(t, false)
	seed := func() string {
		return e.seedCode(func(c *store.AuthCode) {
			c.ClientID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod = "web", "https://web.test/cb", "", ""
		})
	}
	tests := []struct {
		name string
		send func(code string) *response
	}{
		{"client_secret_post JSON", func(code string) *response {
			return e.postJSON("/oauth/token", map[string]any{"grant_type": "authorization_code", "client_id": "web",
				"client_secret": webSecret, "code": code, "redirect_uri": "https://web.test/cb", "unknown": 12}, nil)
		}},
		{"client_secret_basic form", func(code string) *response {
			return e.postForm("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"https://web.test/cb"}}, basic("web", webSecret))
		}},
		{"basic without form-encoding", func(code string) *response {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://web.test/cb"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("web", webSecret)
			return e.do(req)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.send(seed())
			if r.status != http.StatusOK || r.str("access_token") == "" || r.str("id_token") == "" {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		})
	}
}

// tokenErrorCase is one refused token request; strictStatus and
// strictCode are the RFC 6749 §5.2 answer when they differ.
type tokenErrorCase struct {
	name         string
	form         func(e *env) (url.Values, map[string]string)
	raw          func(t *testing.T, e *env) *response
	status       int
	code, desc   string
	strictStatus int
	strictCode   string
}

func runTokenErrors(t *testing.T, cases []tokenErrorCase) {
	t.Helper()
	for _, mode := range []struct {
		name   string
		strict bool
	}{{"auth0", false}, {"strict", true}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, mode.strict)
			for _, tt := range cases {
				t.Run(tt.name, func(t *testing.T) {
					var r *response
					if tt.raw != nil {
						r = tt.raw(t, e)
					} else {
						form, hdr := tt.form(e)
						r = e.postForm("/oauth/token", form, hdr)
					}
					status, code := tt.status, tt.code
					if mode.strict {
						if status = tt.strictStatus; status == 0 {
							status = http.StatusBadRequest
						}
						if tt.strictCode != "" {
							code = tt.strictCode
						}
					}
					desc := tt.desc
					if mode.strict && tt.strictCode != "" {
						desc = ""
					}
					wantError(t, r, status, code, desc)
				})
			}
		})
	}
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<del>" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

func TestAuthorizationCodeErrors(t *testing.T) {
	runTokenErrors(t, append(codeErrorCases(), requestErrorCases()...))
}

// codeErrorCases are the refusals of the authorization_code grant and of
// client authentication.
func codeErrorCases() []tokenErrorCase {
	const (
		invalidCode = "Invalid authorization code"
		badVerifier = "Failed to verify code verifier"
	)
	form := func(mod func(*store.AuthCode), kv ...string) func(e *env) (url.Values, map[string]string) {
		return func(e *env) (url.Values, map[string]string) { return with(codeForm(e.seedCode(mod)), kv...), nil }
	}
	noPKCEWeb := func(c *store.AuthCode) {
		c.ClientID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod = "web", "https://web.test/cb", "", ""
	}
	return []tokenErrorCase{
		{name: "missing grant_type", form: form(nil, "grant_type", "<del>"), status: 400, code: "invalid_request", desc: "Missing required parameter: grant_type"},
		{name: "unsupported grant", form: form(nil, "grant_type", "password"), status: 403, code: "unsupported_grant_type"},
		{name: "missing client_id", form: form(nil, "client_id", "<del>"), status: 400, code: "invalid_request", desc: "Missing required parameter: client_id"},
		{name: "unknown client", form: form(nil, "client_id", "nope"), status: 401, code: "access_denied", desc: "Unauthorized", strictStatus: 401, strictCode: "invalid_client"},
		{name: "public client sends a secret", form: form(nil, "client_secret", "x"), status: 401, code: "access_denied", desc: "Unauthorized", strictStatus: 401, strictCode: "invalid_client"},
		{name: "confidential client without secret", form: form(noPKCEWeb, "client_id", "web", "redirect_uri", "https://web.test/cb", "code_verifier", "<del>"),
			status: 401, code: "access_denied", desc: "Unauthorized", strictStatus: 401, strictCode: "invalid_client"},
		{name: "confidential client wrong secret", form: form(noPKCEWeb, "client_id", "web", "client_secret", "wrong", "redirect_uri", "https://web.test/cb", "code_verifier", "<del>"),
			status: 401, code: "access_denied", desc: "Unauthorized", strictStatus: 401, strictCode: "invalid_client"},
		{name: "two authentication methods", form: func(e *env) (url.Values, map[string]string) {
			return with(codeForm(e.seedCode(noPKCEWeb)), "client_id", "web", "client_secret", webSecret), basic("web", webSecret)
		}, status: 400, code: "invalid_request"},
		{name: "basic client differs from client_id", form: func(e *env) (url.Values, map[string]string) {
			return with(codeForm(e.seedCode(nil)), "client_id", "spa"), basic("web", webSecret)
		}, status: 400, code: "invalid_request"},
		{name: "grant not allowed", form: form(nil, "client_id", "spa-noref", "grant_type", "refresh_token", "refresh_token", "x"),
			status: 403, code: "unauthorized_client", desc: "Grant type 'refresh_token' not allowed for the client."},
		{name: "missing code", form: form(nil, "code", "<del>"), status: 400, code: "invalid_request", desc: "Missing required parameter: code"},
		{name: "unknown code", form: form(nil, "code", "not-a-code"), status: 403, code: "invalid_grant", desc: invalidCode},
		{name: "expired code", raw: func(t *testing.T, e *env) *response {
			code := e.seedCode(func(c *store.AuthCode) { c.ExpiresAt = e.clock.Now().Add(-time.Second) })
			return e.postForm("/oauth/token", codeForm(code), nil)
		}, status: 403, code: "invalid_grant", desc: invalidCode},
		{name: "other client's code", form: form(func(c *store.AuthCode) { c.ClientID = "spa2"; c.RedirectURI = "http://two.test/cb" }, "redirect_uri", "http://two.test/cb"),
			status: 403, code: "invalid_grant", desc: invalidCode},
		{name: "wrong redirect_uri", form: form(nil, "redirect_uri", "http://app.test/other"), status: 403, code: "invalid_grant", desc: invalidCode},
		{name: "redirect_uri with extra slash", form: form(nil, "redirect_uri", callback+"/"), status: 403, code: "invalid_grant", desc: invalidCode},
		{name: "redirect_uri missing though sent", form: form(nil, "redirect_uri", "<del>"), status: 400, code: "invalid_request", desc: "Missing required parameter: redirect_uri"},
		{name: "redirect_uri sent though omitted", form: form(func(c *store.AuthCode) { c.RedirectURI = "" }), status: 403, code: "invalid_grant", desc: invalidCode},
		{name: "missing verifier", form: form(nil, "code_verifier", "<del>"), status: 400, code: "invalid_request", desc: "Missing required parameter: code_verifier"},
		{name: "wrong verifier", form: form(nil, "code_verifier", strings.Repeat("a", 43)), status: 403, code: "invalid_grant", desc: badVerifier},
		{name: "short verifier", form: form(nil, "code_verifier", "abc"), status: 403, code: "invalid_grant", desc: badVerifier},
		{name: "verifier with bad characters", form: form(nil, "code_verifier", verifier+"!"), status: 403, code: "invalid_grant", desc: badVerifier},
		{name: "challenge as verifier", form: form(nil, "code_verifier", challenge), status: 403, code: "invalid_grant", desc: badVerifier},
		{name: "plain challenge method", form: form(func(c *store.AuthCode) { c.CodeChallengeMethod = "plain"; c.CodeChallenge = verifier }),
			status: 403, code: "invalid_grant", desc: badVerifier},
		{name: "public client code without challenge", form: form(func(c *store.AuthCode) { c.CodeChallenge, c.CodeChallengeMethod = "", "" }),
			status: 403, code: "invalid_grant", desc: badVerifier},
		{name: "verifier for a code without challenge", form: form(noPKCEWeb, "client_id", "web", "client_secret", webSecret, "redirect_uri", "https://web.test/cb"),
			status: 403, code: "invalid_grant", desc: badVerifier},
		{name: "blocked user", raw: func(t *testing.T, e *env) *response {
			u := e.createUser("blocked@example.com")
			if err := e.st.SetBlocked(t.Context(), u.ID, true, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			return e.postForm("/oauth/token", codeForm(e.seedCode(func(c *store.AuthCode) { c.UserID = u.ID })), nil)
		}, status: 401, code: "unauthorized", desc: "user is blocked"},
		{name: "deleted user", raw: func(t *testing.T, e *env) *response {
			u := e.createUser("gone@example.com")
			code := e.seedCode(func(c *store.AuthCode) { c.UserID = u.ID })
			if err := e.st.DeleteUser(t.Context(), u.ID); err != nil {
				t.Fatal(err)
			}
			return e.postForm("/oauth/token", codeForm(code), nil)
		}, status: 403, code: "invalid_grant", desc: invalidCode},
	}
}

// requestErrorCases are malformed token requests.
func requestErrorCases() []tokenErrorCase {
	return []tokenErrorCase{
		{name: "duplicate parameter", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", codeForm("x").Encode()+"&code=y", nil)
		}, status: 400, code: "invalid_request"},
		{name: "malformed form", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", "grant_type=%zz", nil)
		}, status: 400, code: "invalid_request"},
		{name: "malformed JSON", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "application/json", `{"grant_type":`, nil)
		}, status: 400, code: "invalid_request"},
		{name: "JSON array", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "application/json", `["grant_type"]`, nil)
		}, status: 400, code: "invalid_request"},
		{name: "JSON number parameter", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "application/json", `{"grant_type":"authorization_code","code":12}`, nil)
		}, status: 400, code: "invalid_request"},
		{name: "unsupported content type", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "text/plain", "grant_type=authorization_code", nil)
		}, status: 400, code: "invalid_request"},
		{name: "malformed content type", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "application/json; =", "{}", nil)
		}, status: 400, code: "invalid_request"},
		{name: "malformed basic header", form: func(e *env) (url.Values, map[string]string) {
			return codeForm("x"), map[string]string{"Authorization": "Basic !!!"}
		}, status: 400, code: "invalid_request"},
		{name: "body over 64 KiB", raw: func(t *testing.T, e *env) *response {
			return e.request(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&x="+strings.Repeat("a", 70000), nil)
		}, status: 413, code: "invalid_request", strictStatus: 400},
	}
}

// TestCodeReplayRevokesGrant: a second use of a code fails and revokes the
// refresh token and opaque access token the first use issued (RFC 6749
// §4.1.2).
func TestCodeReplayRevokesGrant(t *testing.T) {
	e := newEnv(t, false)
	code := e.seedCode(nil)
	first := e.postForm("/oauth/token", codeForm(code), nil)
	if first.status != http.StatusOK {
		t.Fatalf("first use: %d %s", first.status, first.body)
	}
	at := first.str("access_token")
	if r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + at}); r.status != http.StatusOK {
		t.Fatalf("userinfo before replay: %d %s", r.status, r.body)
	}
	wantError(t, e.postForm("/oauth/token", codeForm(code), nil), 403, "invalid_grant", "Invalid authorization code")

	if r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + at}); r.status != http.StatusUnauthorized {
		t.Errorf("access token of a replayed code still works: %d %s", r.status, r.body)
	}
	r := e.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {first.str("refresh_token")}}, nil)
	wantError(t, r, 403, "invalid_grant", "Unknown or invalid refresh token.")
}

// TestCodeRace: 20 concurrent exchanges of one code, exactly one wins.
func TestCodeRace(t *testing.T) {
	e := newEnv(t, false)
	code := e.seedCode(nil)
	const n = 20
	statuses := raceTokenRequests(t, e, codeForm(code), n)
	ok, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusForbidden:
			refused++
		}
	}
	if ok != 1 || refused != n-1 {
		t.Fatalf("statuses %v: want exactly one 200 and %d 403", statuses, n-1)
	}
}
