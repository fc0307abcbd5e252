package oauth_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/tokens"
)

var (
	profileFields = []string{"name", "nickname", "picture", "given_name", "family_name", "updated_at", "username",
		"user_id", "created_at", "identities", "user_metadata", "logins_count", "last_login", "last_ip",
		"blocked_for", "guardian_authenticators"}
	emailFields = []string{"email", "email_verified"}
)

func TestUserinfo(t *testing.T) {
	e := newEnv(t, false)
	opaque := e.login(nil).str("access_token")
	jwt := e.login(func(c *store.AuthCode) { c.Audience = apiID }).str("access_token")
	tests := []struct {
		name, auth  string
		want, avoid []string
	}{
		{"opaque bearer", "Bearer " + opaque, append(profileFields, emailFields...), nil},
		{"opaque bare token as the Pieces SDK sends it", opaque, append(profileFields, emailFields...), nil},
		{"JWT with userinfo audience", "Bearer " + jwt, append(profileFields, emailFields...), nil},
		{"lower-case scheme", "bearer " + opaque, profileFields, nil},
		{"profile only", "Bearer " + e.login(func(c *store.AuthCode) { c.Scope = "openid profile" }).str("access_token"), profileFields, emailFields},
		{"email only", "Bearer " + e.login(func(c *store.AuthCode) { c.Scope = "openid email" }).str("access_token"), emailFields, profileFields},
		{"openid only", "Bearer " + e.login(func(c *store.AuthCode) { c.Scope = "openid" }).str("access_token"), nil, append(profileFields, emailFields...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("/userinfo", map[string]string{"Authorization": tt.auth})
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if r.str("sub") != e.user.ID {
				t.Errorf("sub = %q", r.str("sub"))
			}
			for _, k := range tt.want {
				if _, ok := r.json[k]; !ok {
					t.Errorf("field %s missing from %s", k, r.body)
				}
			}
			for _, k := range tt.avoid {
				if _, ok := r.json[k]; ok {
					t.Errorf("field %s present without its scope", k)
				}
			}
			if _, ok := r.json["app_metadata"]; ok {
				t.Error("app_metadata leaked to /userinfo")
			}
		})
	}
	r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + opaque})
	if ua := r.str("updated_at"); !strings.HasSuffix(ua, "Z") || !strings.Contains(ua, "T") {
		t.Errorf("updated_at = %v, want RFC 3339", r.json["updated_at"])
	}
	ids, _ := r.json["identities"].([]any)
	if len(ids) != 1 || r.str("user_id") != e.user.ID || r.str("last_ip") != "203.0.113.7" {
		t.Errorf("profile = %s", r.body)
	}
	if post := e.request(http.MethodPost, "/userinfo", "", "", map[string]string{"Authorization": "Bearer " + opaque}); post.status != http.StatusOK {
		t.Errorf("POST /userinfo: %d", post.status)
	}
}

func TestUserinfoStrictUpdatedAt(t *testing.T) {
	e := newEnv(t, true)
	r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + e.login(nil).str("access_token")})
	if _, ok := r.json["updated_at"].(float64); !ok {
		t.Fatalf("strict updated_at = %#v, want a number", r.json["updated_at"])
	}
}

func TestUserinfoErrors(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	apiOnly := e.login(func(c *store.AuthCode) { c.Audience = apiID; c.Scope = "read:items" }).str("access_token")
	noOpenID := e.login(func(c *store.AuthCode) { c.Scope = "profile" }).str("access_token")
	m2m := e.postForm("/oauth/token", map[string][]string{"grant_type": {"client_credentials"}, "audience": {apiID}}, basic("worker", workerSec)).str("access_token")
	idToken := e.login(nil).str("id_token")
	revoked := e.login(nil)
	if r := e.postForm("/oauth/revoke", map[string][]string{"client_id": {"spa"}, "token": {revoked.str("refresh_token")}}, nil); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	blockedUser := e.createUser("blocked-ui@example.com")
	blocked := e.login(func(c *store.AuthCode) { c.UserID = blockedUser.ID }).str("access_token")
	blockedJWT := e.login(func(c *store.AuthCode) { c.UserID = blockedUser.ID; c.Audience = apiID }).str("access_token")
	if err := e.st.SetBlocked(ctx, blockedUser.ID, true, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	goneUser := e.createUser("gone-ui@example.com")
	gone := e.login(func(c *store.AuthCode) { c.UserID = goneUser.ID }).str("access_token")
	goneJWT := e.login(func(c *store.AuthCode) { c.UserID = goneUser.ID; c.Audience = apiID }).str("access_token")
	if err := e.st.DeleteUser(ctx, goneUser.ID); err != nil {
		t.Fatal(err)
	}
	foreign := foreignToken(t)

	tests := []struct {
		name, auth string
		status     int
		code       string
	}{
		{"missing", "", 401, "invalid_token"},
		{"empty bearer", "Bearer ", 401, "invalid_token"},
		{"basic scheme", "Basic dXNlcjpwYXNz", 401, "invalid_token"},
		{"garbage", "Bearer garbage", 401, "invalid_token"},
		{"two tokens", "Bearer a b", 401, "invalid_token"},
		{"JWT without userinfo audience", "Bearer " + apiOnly, 401, "invalid_token"},
		{"client_credentials token", "Bearer " + m2m, 401, "invalid_token"},
		{"ID token", "Bearer " + idToken, 401, "invalid_token"},
		{"revoked opaque token", "Bearer " + revoked.str("access_token"), 401, "invalid_token"},
		{"foreign JWT", "Bearer " + foreign, 401, "invalid_token"},
		{"blocked user", "Bearer " + blocked, 401, "invalid_token"},
		{"deleted user", "Bearer " + gone, 401, "invalid_token"},
		{"blocked user, JWT", "Bearer " + blockedJWT, 401, "invalid_token"},
		{"deleted user, JWT", "Bearer " + goneJWT, 401, "invalid_token"},
		{"token without openid", "Bearer " + noOpenID, 403, "insufficient_scope"},
		{"huge header", "Bearer " + strings.Repeat("a", 20000), 401, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.auth != "" {
				hdr["Authorization"] = tt.auth
			}
			r := e.get("/userinfo", hdr)
			if r.status != tt.status || r.str("error") != tt.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if www := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(www, `Bearer error="`+tt.code+`"`) {
				t.Errorf("WWW-Authenticate = %q", www)
			}
		})
	}
	t.Run("expired JWT", func(t *testing.T) {
		jwt := e.login(func(c *store.AuthCode) { c.Audience = apiID }).str("access_token")
		e.clock.Add(86400*time.Second + time.Second)
		r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + jwt})
		if r.status != 401 || r.str("error_description") != "The token has expired" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("expired opaque token", func(t *testing.T) {
		opaque := e.login(nil).str("access_token")
		if r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + opaque}); r.status != 200 {
			t.Fatalf("fresh token: %d", r.status)
		}
		e.clock.Add(86400*time.Second + time.Second)
		r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + opaque})
		if r.status != 401 || r.str("error") != "invalid_token" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// foreignToken is a well-formed access token for latch's issuer name and
// userinfo audience, signed by a key latch does not know.
func foreignToken(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	km := keys.NewManager(st, []byte(masterKey), keys.Options{})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(false)
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	iss := tokens.NewIssuer(func() *config.Config { return cfg }, km, st, nil)
	at, err := iss.AccessToken(ctx, tokens.AccessTokenRequest{UserID: "auth0|0123456789abcdef01234567", ClientID: "spa", Audience: apiID, Scope: "openid profile"})
	if err != nil {
		t.Fatal(err)
	}
	return at.Value
}
