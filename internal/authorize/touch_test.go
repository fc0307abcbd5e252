package authorize_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/store"
)

// TestSilentAuthTouchesSessionAtMostOncePerInterval: /authorize with an
// SSO session slides the session's idle expiry, but writes it only when
// the session was last seen more than a tenth of its idle lifetime (at
// most a minute) ago.
func TestSilentAuthTouchesSessionAtMostOncePerInterval(t *testing.T) {
	tests := []struct {
		name    string
		idle    time.Duration
		after   time.Duration // since the login
		touched bool
	}{
		{"default idle, seconds later", 72 * time.Hour, 10 * time.Second, false},
		{"default idle, two minutes later", 72 * time.Hour, 2 * time.Minute, true},
		{"short idle, a tenth of it later", 100 * time.Second, 11 * time.Second, true},
		{"short idle, less than a tenth later", 100 * time.Second, 9 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := at.New(t, func(c *config.Config) { c.Lifetimes.SessionIdle = config.Duration(tc.idle) })
			b := e.Browser()
			r := b.Login(at.AuthorizeURL(nil), at.Email, at.Password)
			code := at.Result(t, r, false).Get("code")
			sid := e.Code(code).SessionID
			before := session(t, e, sid)

			e.Clock.Add(tc.after)
			r = b.Get(at.AuthorizeURL(func(v url.Values) { v.Set("prompt", "none") }))
			if r.Status != http.StatusFound || at.Result(t, r, false).Get("code") == "" {
				t.Fatalf("silent authorize = %d %s", r.Status, r.Location())
			}
			after := session(t, e, sid)
			if got := !after.LastSeenAt.Equal(before.LastSeenAt); got != tc.touched {
				t.Fatalf("touched = %v (last seen %v -> %v), want %v", got, before.LastSeenAt, after.LastSeenAt, tc.touched)
			}
			if tc.touched {
				if want := e.Clock.Now().Add(tc.idle); !after.IdleExpiresAt.Equal(want) {
					t.Errorf("idle expiry = %v, want %v", after.IdleExpiresAt, want)
				}
			}
		})
	}
}

func session(t *testing.T, e *at.Env, id string) *store.Session {
	t.Helper()
	s, err := e.Store.GetSession(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
