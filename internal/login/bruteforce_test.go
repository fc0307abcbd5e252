package login_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/users"
)

// Addresses the tests log in from. The test server trusts 127.0.0.1 as a
// proxy, so X-Forwarded-For picks the client's IP.
const (
	ipA = "203.0.113.10"
	ipB = "198.51.100.20"
)

// proxied is the test tenant behind a trusted proxy, with mod applied.
func proxied(t *testing.T, mod func(*config.Config)) *at.Env {
	return at.New(t, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		if mod != nil {
			mod(c)
		}
	})
}

// loginFrom posts credentials on a fresh login page of b, as a client at ip.
func loginFrom(t *testing.T, e *at.Env, b *at.Browser, ip, user, pw string) *at.Resp {
	t.Helper()
	form := loginForm(t, b, at.AuthorizeURL(nil))
	return postFrom(t, e, b, ip, form, user, pw)
}

func postFrom(t *testing.T, e *at.Env, b *at.Browser, ip string, form url.Values, user, pw string) *at.Resp {
	t.Helper()
	f := url.Values{"state": {form.Get("state")}, "csrf": {form.Get("csrf")}, "username": {user}, "password": {pw}}
	req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/u/login", strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	return b.Do(req)
}

// outcome names what a login POST answered.
func outcome(r *at.Resp) string {
	switch {
	case r.Status == http.StatusFound && strings.Contains(r.Location(), "code="):
		return "code"
	case r.Status == http.StatusBadRequest && strings.Contains(r.Body, "Wrong email or password."):
		return "wrong"
	case r.Status == http.StatusTooManyRequests && strings.Contains(r.Body, "too_many_attempts") &&
		strings.Contains(r.Body, "blocked after too many failed login attempts"):
		return "blocked"
	case r.Status == http.StatusTooManyRequests && strings.Contains(r.Body, "suspicious login behavior"):
		return "throttled"
	}
	return fmt.Sprintf("%d %q", r.Status, r.Body)
}

// fail posts n wrong passwords for user from ip and checks each answer.
func fail(t *testing.T, e *at.Env, ip, user string, n int, want ...string) {
	t.Helper()
	b := e.Browser()
	form := loginForm(t, b, at.AuthorizeURL(nil))
	for i := range n {
		got := outcome(postFrom(t, e, b, ip, form, user, "wrong password "+strconv.Itoa(i)))
		w := want[min(i, len(want)-1)]
		if got != w {
			t.Fatalf("failure %d from %s: got %s, want %s", i+1, ip, got, w)
		}
	}
}

// wrongs is n times "wrong".
func wrongs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "wrong"
	}
	return out
}

func TestBruteForceBlocksUserAndIP(t *testing.T) {
	e := proxied(t, nil)
	// Nine failures are told apart from a block; the tenth blocks the pair.
	fail(t, e, ipA, at.Email, 10, append(wrongs(9), "blocked")...)

	t.Run("right password from the blocked IP", func(t *testing.T) {
		r := loginFrom(t, e, e.Browser(), ipA, at.Email, at.Password)
		if got := outcome(r); got != "blocked" {
			t.Fatalf("got %s", got)
		}
		for _, want := range []string{ipA, "administrator", "other networks"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("block page does not mention %q", want)
			}
		}
		if r.Header.Get("Set-Cookie") != "" {
			t.Error("a blocked login set a cookie")
		}
	})
	t.Run("the username is the same account", func(t *testing.T) {
		if got := outcome(loginFrom(t, e, e.Browser(), ipA, at.Username, at.Password)); got != "blocked" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("another IP is not blocked", func(t *testing.T) {
		if got := outcome(loginFrom(t, e, e.Browser(), ipB, at.Email, at.Password)); got != "code" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("blocked_for", func(t *testing.T) {
		u, err := e.Store.GetUser(t.Context(), e.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := users.BlockedFor(t.Context(), e.Store, u, e.Cfg.RateLimits.BruteForceThreshold, e.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(got)
		want := `[{"identifier":"ann@example.com","ip":"` + ipA + `","connection":"Username-Password-Authentication"}]`
		if string(raw) != want {
			t.Errorf("blocked_for = %s, want %s", raw, want)
		}
	})
	t.Run("unblock lifts it", func(t *testing.T) {
		if err := users.ClearBlocks(t.Context(), e.Store, e.User.ID); err != nil {
			t.Fatal(err)
		}
		if got := outcome(loginFrom(t, e, e.Browser(), ipA, at.Email, at.Password)); got != "code" {
			t.Fatalf("got %s", got)
		}
	})
}

func TestBruteForceRules(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *at.Env)
	}{
		{"a success resets the count", func(t *testing.T, e *at.Env) {
			fail(t, e, ipA, at.Email, 9, "wrong")
			if got := outcome(loginFrom(t, e, e.Browser(), ipA, at.Email, at.Password)); got != "code" {
				t.Fatalf("login after 9 failures: %s", got)
			}
			fail(t, e, ipA, at.Email, 9, "wrong")
		}},
		{"an unknown account is blocked the same way", func(t *testing.T, e *at.Env) {
			fail(t, e, ipA, "nobody@example.com", 11, append(wrongs(9), "blocked")...)
			fail(t, e, ipB, "nobody@example.com", 1, "wrong")
		}},
		{"the block ends 30 days after the last failure", func(t *testing.T, e *at.Env) {
			fail(t, e, ipA, at.Email, 10, append(wrongs(9), "blocked")...)
			e.Clock.Add(30*24*time.Hour - time.Second)
			fail(t, e, ipA, at.Email, 1, "blocked") // refused unchecked: not a new failure
			if got := outcome(loginFrom(t, e, e.Browser(), ipA, at.Email, at.Password)); got != "blocked" {
				t.Fatalf("login just before 30 days: %s", got)
			}
			e.Clock.Add(time.Second)
			if got := outcome(loginFrom(t, e, e.Browser(), ipA, at.Email, at.Password)); got != "code" {
				t.Fatalf("login after 30 days: %s", got)
			}
		}},
		{"a password change lifts it", func(t *testing.T, e *at.Env) {
			fail(t, e, ipA, at.Email, 10, append(wrongs(9), "blocked")...)
			hash, err := e.Hasher.Hash(t.Context(), "a brand new password")
			if err != nil {
				t.Fatal(err)
			}
			// What `latch users set-password` does.
			if err := e.Store.SetPassword(t.Context(), e.User.ID, hash, e.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			if err := users.ClearBlocks(t.Context(), e.Store, e.User.ID); err != nil {
				t.Fatal(err)
			}
			if got := outcome(loginFrom(t, e, e.Browser(), ipA, at.Email, "a brand new password")); got != "code" {
				t.Fatalf("got %s", got)
			}
		}},
		{"a lower threshold from the config", func(t *testing.T, e *at.Env) {
			e.Cfg.RateLimits.BruteForceThreshold = 3
			fail(t, e, ipA, at.Email, 4, "wrong", "wrong", "blocked", "blocked")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, proxied(t, nil)) })
	}
}

// TestSuspiciousIP: an IP failing against many accounts is throttled after
// suspicious_ip_failures failures, then may try once per 24h/limit.
func TestSuspiciousIP(t *testing.T) {
	e := proxied(t, func(c *config.Config) { c.RateLimits.SuspiciousIPFailures = 6 })
	for i := range 6 {
		fail(t, e, ipA, fmt.Sprintf("victim%d@example.com", i), 1, "wrong")
	}
	r := loginFrom(t, e, e.Browser(), ipA, at.Email, at.Password)
	if got := outcome(r); got != "throttled" {
		t.Fatalf("7th attempt: %s", got)
	}
	// 24h/6 = 4h until the next attempt.
	if ra := r.Header.Get("Retry-After"); ra != strconv.Itoa(4*3600) {
		t.Errorf("Retry-After = %q, want %d", ra, 4*3600)
	}
	if got := outcome(loginFrom(t, e, e.Browser(), ipB, at.Email, at.Password)); got != "code" {
		t.Errorf("another IP: %s", got)
	}
	// IPv4-mapped or not, the same address.
	if got := outcome(loginFrom(t, e, e.Browser(), "::ffff:"+ipA, at.Email, at.Password)); got != "throttled" {
		t.Errorf("mapped address: %s", got)
	}
	e.Clock.Add(4*time.Hour - time.Second)
	fail(t, e, ipA, "victim@example.com", 1, "throttled")
	e.Clock.Add(time.Second)
	fail(t, e, ipA, "victim@example.com", 2, "wrong", "throttled")
	e.Clock.Add(4 * time.Hour)
	if got := outcome(loginFrom(t, e, e.Browser(), ipA, at.Email, at.Password)); got != "code" {
		t.Errorf("after 4 hours: %s", got)
	}
}

// TestIPv6Throttle: the throttle counts an IPv6 /64, not each address.
func TestIPv6Throttle(t *testing.T) {
	e := proxied(t, func(c *config.Config) { c.RateLimits.SuspiciousIPFailures = 2 })
	fail(t, e, "2001:db8:1:2::1", "x@example.com", 1, "wrong")
	fail(t, e, "2001:db8:1:2::ffff", "y@example.com", 1, "wrong")
	fail(t, e, "2001:db8:1:2:aaaa::3", "z@example.com", 1, "throttled")
	fail(t, e, "2001:db8:1:3::1", "z@example.com", 1, "wrong")
}

// TestBruteForceConcurrent: guesses sent at once cannot get more than
// threshold-1 wrong-password answers before the block.
func TestBruteForceConcurrent(t *testing.T) {
	e := proxied(t, nil)
	b := e.Browser()
	form := loginForm(t, b, at.AuthorizeURL(nil))
	const n = 30
	results := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := url.Values{"state": {form.Get("state")}, "csrf": {form.Get("csrf")},
				"username": {at.Email}, "password": {"guess " + strconv.Itoa(i)}}
			req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/u/login", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", ipA)
			res, err := b.C.Do(req)
			if err != nil {
				results[i] = err.Error()
				return
			}
			defer res.Body.Close()
			var sb strings.Builder
			_, _ = fmt.Fprint(&sb, res.StatusCode)
			results[i] = sb.String()
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, r := range results {
		count[r]++
	}
	if count["400"] != 9 || count["429"] != n-9 {
		t.Errorf("answers %v, want 9×400 and %d×429", count, n-9)
	}
}
