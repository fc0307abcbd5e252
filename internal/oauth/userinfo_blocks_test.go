package oauth_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestUserinfoBlockedFor: /userinfo lists the IPs brute-force protection
// blocks the user from (Auth0's blocked_for), and only those at the
// threshold.
func TestUserinfoBlockedFor(t *testing.T) {
	e := newEnv(t, false)
	tok := e.login(nil).str("access_token")
	now := e.clock.Now()
	for ip, n := range map[string]int{"192.0.2.1": 10, "192.0.2.2": 9, "192.0.2.3": 12} {
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
	want := `[{"connection":"Username-Password-Authentication","identifier":"` + e.user.Email +
		`","ip":"192.0.2.1"},{"connection":"Username-Password-Authentication","identifier":"` + e.user.Email + `","ip":"192.0.2.3"}]`
	if string(raw) != want {
		t.Errorf("blocked_for = %s\nwant %s", raw, want)
	}
}
