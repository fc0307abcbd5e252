package oauth

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
)

// Handler serves the non-browser endpoints: /oauth/token, /oauth/revoke,
// /userinfo, /v2/logout, /oidc/logout and /dbconnections/signup. Config is
// read on every request so a reload applies at once.
type Handler struct {
	Config    func() *config.Config
	Store     store.Store
	Tokens    *tokens.Issuer
	Passwords *password.Hasher
	Logger    *slog.Logger
	Now       func() time.Time
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// fail writes err as an OAuth JSON error in the tenant's dialect.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, cfg *config.Config, err error) {
	WriteError(w, r, h.log(), err, cfg.OIDCStrict)
}

// secureCookies reports whether the issuer is https, which decides the
// session cookie's Secure and SameSite attributes.
func secureCookies(cfg *config.Config) bool {
	return strings.HasPrefix(strings.ToLower(cfg.Issuer), "https://")
}
