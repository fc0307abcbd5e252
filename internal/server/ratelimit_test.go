package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
)

// limited starts the test tenant behind a trusted proxy (so requests can
// come from any IP via X-Forwarded-For) with the given budgets.
func limited(t *testing.T, rl config.RateLimits) *at.Env {
	return at.New(t, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		c.RateLimits = rl
	})
}

type call struct {
	method, path, ip, body string
	hdr                    map[string]string
}

func (c call) do(t *testing.T, e *at.Env) *at.Resp {
	t.Helper()
	req, err := http.NewRequest(c.method, e.Server.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", c.ip)
	if c.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	return e.Browser().Do(req)
}

func jsonErr(t *testing.T, r *at.Resp) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.Body)
	}
	return body.Error
}

// TestRateLimitPerIP: each class has its own per-IP budget; the request
// past it gets 429 with Retry-After (HTML for pages, JSON for APIs); other
// IPs are unaffected; the bucket refills with time.
func TestRateLimitPerIP(t *testing.T) {
	tests := []struct {
		name      string
		rl        config.RateLimits
		c         call
		budget    int
		retry     string // Retry-After of the refusal
		html      bool
		refillGap time.Duration
	}{
		{"login form", config.RateLimits{LoginPerMinute: 5}, call{method: "POST", path: "/u/login", body: "state=x"}, 5, "12", true, 12 * time.Second},
		{"signup form", config.RateLimits{LoginPerMinute: 2}, call{method: "POST", path: "/u/signup"}, 2, "30", true, 30 * time.Second},
		{"signup API", config.RateLimits{LoginPerMinute: 2}, call{method: "POST", path: "/dbconnections/signup", body: "{}"}, 2, "30", false, 30 * time.Second},
		{"token", config.RateLimits{TokenPerMinute: 3}, call{method: "POST", path: "/oauth/token", body: "grant_type=nope"}, 3, "20", false, 20 * time.Second},
		{"revoke", config.RateLimits{TokenPerMinute: 3}, call{method: "POST", path: "/oauth/revoke"}, 3, "20", false, 20 * time.Second},
		{"authorize", config.RateLimits{RequestsPerMinute: 4}, call{method: "GET", path: "/authorize?client_id=nobody"}, 4, "15", true, 15 * time.Second},
		{"userinfo", config.RateLimits{RequestsPerMinute: 4}, call{method: "GET", path: "/userinfo"}, 4, "15", false, 15 * time.Second},
		{"logout page", config.RateLimits{RequestsPerMinute: 1}, call{method: "GET", path: "/v2/logout"}, 1, "60", true, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := limited(t, tt.rl)
			c := tt.c
			c.ip = "203.0.113.1"
			for i := range tt.budget {
				if r := c.do(t, e); r.Status == http.StatusTooManyRequests {
					t.Fatalf("request %d of %d refused", i+1, tt.budget)
				}
			}
			r := c.do(t, e)
			if r.Status != http.StatusTooManyRequests {
				t.Fatalf("request past the budget: %d %s", r.Status, r.Body)
			}
			if got := r.Header.Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			if r.Header.Get("X-RateLimit-Limit") == "" || r.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("X-RateLimit headers: %v", r.Header)
			}
			if tt.html {
				if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
					!strings.Contains(r.Body, "Too many requests") || !strings.Contains(r.Body, "203.0.113.1") {
					t.Errorf("refusal page: %s %s", r.Header.Get("Content-Type"), r.Body)
				}
			} else if got := jsonErr(t, r); got != "too_many_requests" {
				t.Errorf("error = %q", got)
			}
			other := c
			other.ip = "198.51.100.2"
			if r := other.do(t, e); r.Status == http.StatusTooManyRequests {
				t.Error("another IP was refused")
			}
			e.Clock.Add(tt.refillGap - time.Millisecond)
			if r := c.do(t, e); r.Status != http.StatusTooManyRequests {
				t.Errorf("refilled too early: %d", r.Status)
			}
			e.Clock.Add(tt.refillGap)
			if r := c.do(t, e); r.Status == http.StatusTooManyRequests {
				t.Errorf("not refilled after %v", tt.refillGap)
			}
		})
	}
}

// TestRateLimitExempt: health, discovery and JWKS are never limited.
func TestRateLimitExempt(t *testing.T) {
	e := limited(t, config.RateLimits{RequestsPerMinute: 1})
	for _, p := range []string{"/healthz", "/readyz", "/.well-known/jwks.json", "/.well-known/openid-configuration"} {
		for range 5 {
			if r := (call{method: "GET", path: p, ip: "203.0.113.9"}).do(t, e); r.Status != http.StatusOK {
				t.Fatalf("%s: %d", p, r.Status)
			}
		}
	}
}

// TestRateLimitPerClient: /oauth/token also draws from a budget per
// client_id (from the body or Basic credentials) shared by every IP;
// unknown client ids have none; the handler still reads the whole body.
func TestRateLimitPerClient(t *testing.T) {
	e := limited(t, config.RateLimits{TokenPerClientPerMinute: 2})
	worker := url.Values{"grant_type": {"client_credentials"}, "client_id": {"worker"},
		"client_secret": {"w"}, "audience": {at.API}}.Encode()
	for i, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		r := call{method: "POST", path: "/oauth/token", ip: ip, body: worker}.do(t, e)
		if r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := call{method: "POST", path: "/oauth/token", ip: "203.0.113.3", body: worker}.do(t, e)
	if r.Status != http.StatusTooManyRequests || jsonErr(t, r) != "too_many_requests" || !strings.Contains(r.Body, "worker") {
		t.Fatalf("third request: %d %s", r.Status, r.Body)
	}
	basic := call{method: "POST", path: "/oauth/token", ip: "203.0.113.4",
		body: "grant_type=client_credentials&audience=" + url.QueryEscape(at.API),
		hdr:  map[string]string{"Authorization": "Basic d29ya2VyOnc="}} // worker:w
	if r := basic.do(t, e); r.Status != http.StatusTooManyRequests {
		t.Errorf("Basic credentials escaped the client budget: %d", r.Status)
	}
	r = call{method: "POST", path: "/oauth/token", ip: "203.0.113.5", body: "grant_type=authorization_code&client_id=spa&code=x"}.do(t, e)
	if r.Status == http.StatusTooManyRequests {
		t.Fatal("another client was refused")
	}
	for range 4 {
		r := call{method: "POST", path: "/oauth/token", ip: "203.0.113.5", body: "grant_type=x&client_id=nobody"}.do(t, e)
		if r.Status == http.StatusTooManyRequests {
			t.Fatal("an unknown client was limited")
		}
	}
	big := call{method: "POST", path: "/oauth/token", ip: "203.0.113.6", body: "client_id=spa&x=" + strings.Repeat("a", 70<<10)}
	if r := big.do(t, e); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s", r.Status, r.Body)
	}
}

// TestRateLimitReload: a new budget applies to existing buckets.
func TestRateLimitReload(t *testing.T) {
	e := limited(t, config.RateLimits{RequestsPerMinute: 1})
	c := call{method: "GET", path: "/userinfo", ip: "203.0.113.1"}
	c.do(t, e)
	if r := c.do(t, e); r.Status != http.StatusTooManyRequests {
		t.Fatalf("second request: %d", r.Status)
	}
	// The new rate applies from the first request that sees it.
	e.Cfg.RateLimits.RequestsPerMinute = 60
	c.do(t, e)
	e.Clock.Add(time.Second)
	if r := c.do(t, e); r.Status == http.StatusTooManyRequests {
		t.Fatalf("after raising the budget: %d", r.Status)
	}
}
