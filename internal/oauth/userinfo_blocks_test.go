package oauth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// TestUserinfoBlockedFor: /userinfo lists the IPs brute-force protection
// blocks the user from (Auth0's blocked_for), and only those at the
// threshold, with an opaque token and with a JWT; a user whose failures are
// all below the threshold gets [].
func TestUserinfoBlockedFor(t *testing.T) {
	const conn = `{"connection":"Username-Password-Authentication","identifier":"`
	tests := []struct {
		name     string
		jwt      bool
		failures map[string]int
		want     string // %s is the user's email
	}{
		{"Opaque", false, map[string]int{"192.0.2.1": 10, "192.0.2.2": 9, "192.0.2.3": 12},
			`[` + conn + `%s","ip":"192.0.2.1"},` + conn + `%s","ip":"192.0.2.3"}]`},
		{"JWT", true, map[string]int{"192.0.2.1": 10, "192.0.2.2": 9, "192.0.2.3": 12},
			`[` + conn + `%s","ip":"192.0.2.1"},` + conn + `%s","ip":"192.0.2.3"}]`},
		{"BelowThreshold", false, map[string]int{"192.0.2.2": 9}, `[]`},
		{"None", true, nil, `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			tok := e.login(func(c *store.AuthCode) {
				if tc.jwt {
					c.Audience = apiID
				}
			}).str("access_token")
			now := e.clock.Now()
			for ip, n := range tc.failures {
				for range n {
					if _, err := e.st.RecordLoginFailure(t.Context(), e.user.ID, ip, now, now.Add(30*24*time.Hour)); err != nil {
						t.Fatal(err)
					}
				}
			}
			r := e.get("/userinfo", map[string]string{"Authorization": "Bearer " + tok})
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			raw, _ := json.Marshal(r.json["blocked_for"])
			if want := strings.ReplaceAll(tc.want, "%s", e.user.Email); string(raw) != want {
				t.Errorf("blocked_for = %s\nwant %s", raw, want)
			}
		})
	}
}
