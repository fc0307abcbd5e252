package server

import (
	"bytes"
	"hash/maphash"
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/latch-auth/latch/internal/authorize"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/login"
	"github.com/latch-auth/latch/internal/oauth"
	"github.com/latch-auth/latch/internal/web"
)

// Rate limits (SPEC §5). Every request except health, discovery and JWKS
// takes a token from its client IP's bucket for its class (login form
// POSTs, token endpoint, everything else); /oauth/token also takes one
// from its client_id's bucket. Buckets refill continuously at the
// configured rate per minute and hold one minute's worth, so a client may
// burst a minute's budget and then proceeds at the rate. They live in this
// instance's memory: behind a load balancer each instance allows the
// configured rate.
//
// A refused request gets 429 with Retry-After (seconds) at once: nothing
// waits or queues, so a noisy IP costs others only the map lookup.

// limitClass is which budget a request draws from.
type limitClass int

const (
	classExempt limitClass = iota
	classLogin             // rate_limits.login_per_minute
	classToken             // rate_limits.token_per_minute
	classOther             // rate_limits.requests_per_minute
)

// classify sorts a request. Paths are as the client sent them: ServeMux
// answers any unclean path with a redirect, never with the handler.
func classify(r *http.Request) limitClass {
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/.well-known/"):
		return classExempt
	case r.Method == http.MethodPost && (p == authorize.LoginPath || p == authorize.SignupPath || p == "/dbconnections/signup"):
		return classLogin
	case r.Method == http.MethodPost && (p == "/oauth/token" || p == "/oauth/revoke"):
		return classToken
	}
	return classOther
}

// browserPage reports whether a refusal should be an HTML page: the URLs a
// browser navigates to. Everything else gets Auth0's JSON error.
func browserPage(path string) bool {
	return strings.HasPrefix(path, "/u/") || path == "/authorize" || path == "/v2/logout" || path == "/oidc/logout"
}

// maxKeysPerShard bounds memory: 16 shards × 4096 keys per limiter.
const (
	shardCount      = 16
	maxKeysPerShard = 4096
	sweepEvery      = 1024 // inserts between sweeps of idle buckets
)

// limiter holds the token buckets of one budget, keyed by IP or client_id.
// It is sharded so that requests from different clients rarely share a
// lock, and bounded: idle buckets (full again, so indistinguishable from new
// ones) are swept, and when a shard is full of active keys random ones go.
type limiter struct {
	seed   maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu      sync.Mutex
	m       map[string]*bucket
	inserts int
}

type bucket struct {
	lim    *rate.Limiter
	perMin int
	last   time.Time
}

func newLimiter() *limiter {
	l := &limiter{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = make(map[string]*bucket)
	}
	return l
}

// verdict is the outcome of take.
type verdict struct {
	ok        bool
	limit     int           // per minute
	remaining int           // whole tokens left
	wait      time.Duration // until the next token, when refused
	full      time.Duration // until the bucket is full again
}

// take takes one token from key's bucket at now, the budget being perMin
// requests per minute.
func (l *limiter) take(key string, perMin int, now time.Time) verdict {
	sh := &l.shards[maphash.String(l.seed, key)%shardCount]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[key]
	if b == nil {
		sh.makeRoom(now)
		b = &bucket{lim: rate.NewLimiter(perSecond(perMin), perMin), perMin: perMin}
		sh.m[key] = b
	} else if b.perMin != perMin { // the config was reloaded
		b.lim.SetLimitAt(now, perSecond(perMin))
		b.lim.SetBurstAt(now, perMin)
		b.perMin = perMin
	}
	b.last = now
	v := verdict{ok: b.lim.AllowN(now, 1), limit: perMin}
	tokens := b.lim.TokensAt(now)
	v.remaining = max(0, int(tokens))
	perTok := time.Duration(float64(time.Minute) / float64(perMin))
	if !v.ok {
		v.wait = time.Duration((1 - tokens) * float64(perTok))
	}
	v.full = time.Duration((float64(perMin) - tokens) * float64(perTok))
	return v
}

// perSecond converts a per-minute budget.
func perSecond(perMin int) rate.Limit { return rate.Limit(float64(perMin) / 60) }

// makeRoom sweeps idle buckets now and then, and evicts random ones when
// the shard is still full. Called with sh.mu held, before an insert.
func (sh *shard) makeRoom(now time.Time) {
	sh.inserts++
	if sh.inserts%sweepEvery == 0 {
		for k, b := range sh.m {
			// A bucket untouched for a minute has refilled: forgetting
			// it changes nothing.
			if now.Sub(b.last) > time.Minute {
				delete(sh.m, k)
			}
		}
	}
	// Still full of active clients (more than the bound of distinct IPs
	// within a minute): evict one at random (map order is random), which
	// stays O(1) per insert however hard the shard is pushed.
	for k := range sh.m {
		if len(sh.m) < maxKeysPerShard {
			break
		}
		delete(sh.m, k)
	}
}

// rateLimiter enforces the budgets in front of next.
type rateLimiter struct {
	next    http.Handler
	cfg     func() *config.Config
	now     func() time.Time
	pages   *web.Pages
	byClass [4]*limiter
	clients *limiter
}

func rateLimit(next http.Handler, d Deps) http.Handler {
	rl := &rateLimiter{next: next, cfg: d.Config, now: d.Now, pages: d.Pages, clients: newLimiter()}
	for c := classLogin; c <= classOther; c++ {
		rl.byClass[c] = newLimiter()
	}
	return rl
}

func (rl *rateLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	class := classify(r)
	if class == classExempt {
		rl.next.ServeHTTP(w, r)
		return
	}
	cfg := rl.cfg()
	now := rl.now()
	ip := login.ClientIP(cfg, r)
	var perMin int
	switch class {
	case classLogin:
		perMin = cfg.RateLimits.LoginPerMinute
	case classToken:
		perMin = cfg.RateLimits.TokenPerMinute
	default:
		perMin = cfg.RateLimits.RequestsPerMinute
	}
	if perMin > 0 { // 0 only in a config that skipped Finalize: no limit
		v := rl.byClass[class].take(ipKey(ip), perMin, now)
		setRateHeaders(w, v, now)
		if !v.ok {
			rl.refuse(w, r, cfg, v, "your network ("+ip+")")
			return
		}
	}
	if perClient := cfg.RateLimits.TokenPerClientPerMinute; perClient > 0 && class == classToken && r.URL.Path == "/oauth/token" {
		if id := tokenClientID(r); id != "" && cfg.Client(id) != nil {
			cv := rl.clients.take(id, perClient, now)
			if !cv.ok {
				setRateHeaders(w, cv, now)
				rl.refuse(w, r, cfg, cv, "the application "+id)
				return
			}
		}
	}
	rl.next.ServeHTTP(w, r)
}

// ipKey is the bucket of an address: the IP itself, or for IPv6 its /64,
// which one subscriber usually holds whole.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// setRateHeaders adds the X-RateLimit-* headers Auth0 sends.
func setRateHeaders(w http.ResponseWriter, v verdict, now time.Time) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(v.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(v.full).Unix(), 10))
}

// refuse answers 429 with Retry-After: an HTML page for browser URLs, JSON
// (Auth0's too_many_requests) for APIs.
func (rl *rateLimiter) refuse(w http.ResponseWriter, r *http.Request, cfg *config.Config, v verdict, who string) {
	secs := int(math.Ceil(v.wait.Seconds()))
	secs = max(secs, 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	wait := strconv.Itoa(secs) + " seconds"
	if secs == 1 {
		wait = "1 second"
	}
	if browserPage(r.URL.Path) {
		brand := web.BrandOf(cfg.Tenant.Name, cfg.Tenant.LogoURL, cfg.Tenant.PrimaryColor)
		web.SetCSP(w, web.PageCSP(brand), false)
		err := rl.pages.Render(w, http.StatusTooManyRequests, web.PageError, web.ErrorData{
			Base:    web.Base{Brand: brand, Title: "Too many requests"},
			Message: "Too many requests came from " + who + " in a short time. Please wait " + wait + " and try again.",
			Code:    "too_many_requests", RequestID: w.Header().Get("X-Request-Id"),
		})
		if err == nil {
			return
		}
	}
	oauth.WriteJSON(w, http.StatusTooManyRequests, map[string]string{
		"error":             "too_many_requests",
		"error_description": "Too many requests from " + who + ". Try again in " + wait + ".",
	})
}

// tokenClientID reads the client_id of a token request (Basic credentials
// or body) and puts the body back for the handler; "" when there is none
// or the request is malformed (the handler will say why).
func tokenClientID(r *http.Request) string {
	if r.Body == nil {
		return ""
	}
	body, err := io.ReadAll(r.Body)
	rest := io.Reader(bytes.NewReader(body))
	if err != nil {
		// Let the handler meet the same error (413 for an oversized body).
		rest = io.MultiReader(rest, errReader{err})
	}
	r.Body = io.NopCloser(rest)
	if err != nil {
		return ""
	}
	clone := r.Clone(r.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	req, perr := oauth.ParseTokenRequest(clone)
	if perr != nil {
		return ""
	}
	if req.Basic != nil {
		return req.Basic.ClientID
	}
	return req.ClientID
}

// errReader replays a read error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
