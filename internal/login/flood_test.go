package login_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
)

// hashBound is the concurrency of authorizetest's hasher.
const hashBound = 4

type floodResult struct {
	status     int
	retryAfter string
	body       string
	err        error
}

// flood sends n login POSTs at once on one transaction (a mix of right and
// wrong passwords and unknown users) and returns their answers as they
// arrive.
func flood(t *testing.T, e *at.Env, b *at.Browser, form url.Values, n int) <-chan floodResult {
	t.Helper()
	out := make(chan floodResult, n)
	for i := range n {
		go func() {
			user, pw := at.Email, at.Password
			switch i % 3 {
			case 1:
				pw = "wrong password"
			case 2:
				user = fmt.Sprintf("nobody%d@example.com", i)
			}
			f := url.Values{"state": {form.Get("state")}, "csrf": {form.Get("csrf")}, "username": {user}, "password": {pw}}
			res, err := b.C.Post(e.Server.URL+"/u/login", "application/x-www-form-urlencoded", strings.NewReader(f.Encode()))
			if err != nil {
				out <- floodResult{err: err}
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			out <- floodResult{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: string(body)}
		}()
	}
	return out
}

// allowed are the answers a login POST may give under a flood: a
// redirect, a page, a refusal; never a 500.
var allowed = map[int]bool{200: true, 302: true, 303: true, 400: true, 403: true, 429: true, 503: true}

// TestLoginFlood: a flood of login POSTs never runs more password hashes
// than the hasher's bound; requests that find every slot busy for
// password.MaxWait get a readable 503 with Retry-After, never a 500.
func TestLoginFlood(t *testing.T) {
	e := at.New(t, func(c *config.Config) {
		// Only the hasher limits this flood; it also mixes in enough
		// failures to trip brute-force protection, which would answer
		// before any hash.
		c.RateLimits = config.RateLimits{LoginPerMinute: 1 << 30, BruteForceThreshold: 100, SuspiciousIPFailures: 1 << 20}
	})
	var inFlight, peak, taken atomic.Int32
	release := make(chan struct{})
	e.Hasher.Observe(func(delta int32) {
		n := inFlight.Add(delta)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		// The first hashes keep their slots until released, so that the
		// others deterministically find the hasher full.
		if delta > 0 && taken.Add(1) <= hashBound {
			<-release
		}
	})
	b := e.Browser()
	form := loginForm(t, b, at.AuthorizeURL(nil))

	t.Run("saturated", func(t *testing.T) {
		const n = 24
		results := flood(t, e, b, form, n)
		var once sync.Once
		defer once.Do(func() { close(release) })
		for i := range n {
			r := <-results
			if r.err != nil {
				t.Fatal(r.err)
			}
			if i < n-hashBound {
				// Everything but the slot holders must give up.
				if r.status != http.StatusServiceUnavailable || r.retryAfter == "" ||
					!strings.Contains(r.body, "Too many sign-ins are in progress") {
					t.Fatalf("answer %d while saturated: %d Retry-After %q\n%s", i, r.status, r.retryAfter, r.body)
				}
				if i == n-hashBound-1 {
					once.Do(func() { close(release) })
				}
				continue
			}
			if !allowed[r.status] || r.status == http.StatusServiceUnavailable {
				t.Errorf("slot holder answered %d", r.status)
			}
		}
		if p := peak.Load(); p > hashBound {
			t.Errorf("%d hashes ran at once, bound is %d", p, hashBound)
		}
	})

	t.Run("free flood", func(t *testing.T) {
		const n = 60
		peak.Store(0)
		fresh := e.Browser() // b has a session now: no login page
		results := flood(t, e, fresh, loginForm(t, fresh, at.AuthorizeURL(nil)), n)
		counts := map[int]int{}
		for range n {
			r := <-results
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !allowed[r.status] {
				t.Errorf("answer %d:\n%s", r.status, r.body)
			}
			counts[r.status]++
		}
		if p := peak.Load(); p > hashBound || p < 1 {
			t.Errorf("peak hashes in flight = %d, want 1..%d", p, hashBound)
		}
		if n := inFlight.Load(); n != 0 {
			t.Errorf("%d hashes still in flight after every answer", n)
		}
		t.Logf("answers: %v", counts)
	})
}
