package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/latch-auth/latch/internal/config"
)

// corsAllowHeaders are the request headers browsers may send: spa-js adds
// Auth0-Client to /oauth/token and /oauth/revoke; the Pieces SDK may add
// X-Application-ID.
const corsAllowHeaders = "Authorization, Content-Type, Auth0-Client, X-Application-ID"

// CORS answers cross-origin requests (the Fetch standard's CORS protocol)
// for the origins of the tenant's clients — every web_origins entry and the
// origin of every callback — and no others. Preflights (OPTIONS) are
// answered here; other requests get Access-Control-Allow-Origin when their
// Origin is allowed. No credentials are ever allowed: these endpoints do not
// use cookies.
type CORS struct {
	Config func() *config.Config
	cache  atomic.Pointer[originCache]
}

type originCache struct {
	cfg      *config.Config
	exact    map[string]bool
	patterns []*url.URL // origins with a * host label
}

// Wrap returns next with CORS headers added; methods is the
// Access-Control-Allow-Methods answer to a preflight (e.g. "POST").
func (c *CORS) Wrap(methods string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && c.Allowed(origin)
		h := w.Header()
		if v, ok := h["Vary"]; ok {
			h["Vary"] = append(v, "Origin")
		} else {
			h["Vary"] = hvVaryOrigin
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if !allowed {
			WriteJSON(w, http.StatusForbidden, errorBody{"invalid_request", "Origin not allowed"})
			return
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", methods+", OPTIONS")
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// Preflight answers OPTIONS requests for an endpoint whose other methods
// are wrapped with Wrap.
func (c *CORS) Preflight(methods string) http.Handler {
	return c.Wrap(methods, http.NotFoundHandler()) // next is never called for OPTIONS
}

// Allowed reports whether origin may call the wrapped endpoints.
func (c *CORS) Allowed(origin string) bool {
	oc := c.origins()
	o := strings.ToLower(strings.TrimSuffix(origin, "/"))
	if oc.exact[o] {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return false
	}
	for _, p := range oc.patterns {
		if p.Scheme == u.Scheme && p.Port() == u.Port() && matchHost(p.Hostname(), u.Hostname()) {
			return true
		}
	}
	return false
}

// origins returns the allowed-origin set for the current config, rebuilt
// only when the config changes.
func (c *CORS) origins() *originCache {
	cfg := c.Config()
	if oc := c.cache.Load(); oc != nil && oc.cfg == cfg {
		return oc
	}
	oc := &originCache{cfg: cfg, exact: map[string]bool{}}
	add := func(raw string) {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return
		}
		o := strings.ToLower(u.Scheme + "://" + u.Host)
		if strings.Contains(u.Host, "*") {
			if p, err := url.Parse(o); err == nil {
				oc.patterns = append(oc.patterns, p)
			}
			return
		}
		oc.exact[o] = true
	}
	for _, cl := range cfg.Clients {
		for _, o := range cl.WebOrigins {
			add(o)
		}
		for _, cb := range cl.Callbacks {
			add(cb)
		}
	}
	c.cache.Store(oc)
	return oc
}
