package authorize

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/oauth"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/web"
)

// ErrBlocked is Auth0's answer for a blocked user; spa-js logs the user out
// when the description contains "user is blocked".
var ErrBlocked = oauth.NewError(http.StatusUnauthorized, "unauthorized", "user is blocked")

// usableSession returns the browser's SSO session and its user when the
// request may use it: not prompt=login, authenticated within max_age
// (max_age=0 always asks again, OIDC Core §3.1.2.1), the user still exists
// and belongs to the request's connection. A blocked user is ErrBlocked.
// No usable session is (nil, nil, nil).
func (h *Handler) usableSession(r *http.Request, req *Request, now time.Time) (*store.Session, *store.User, error) {
	if req.HasPrompt("login") {
		return nil, nil, nil
	}
	ctx := r.Context()
	s, err := session.Load(ctx, h.d.Store, r, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if req.MaxAge != nil && (*req.MaxAge == 0 || int64(now.Sub(s.AuthTime)/time.Second) > *req.MaxAge) {
		return nil, nil, nil
	}
	u, err := h.d.Store.GetUser(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Connection != req.Connection {
		return nil, nil, nil
	}
	if u.Blocked {
		return nil, nil, ErrBlocked
	}
	return s, u, nil
}

// touchInterval is how long after a session was last seen touch leaves
// it alone: a tenth of the idle lifetime, at most a minute. Each touch is a
// database write, and silent authentication can come many times a minute;
// skipping the write shortens the sliding idle expiry by at most that
// interval (a minute of the default 72 hours).
func touchInterval(idle time.Duration) time.Duration { return min(time.Minute, idle/10) }

// touch slides the session's idle expiry, never past its absolute one.
// A failure only shortens the session, so it is logged, not returned.
func (h *Handler) touch(r *http.Request, cfg *config.Config, s *store.Session, now time.Time) {
	if now.Sub(s.LastSeenAt) < touchInterval(cfg.Lifetimes.SessionIdle.D()) {
		return
	}
	idle := now.Add(cfg.Lifetimes.SessionIdle.D())
	if idle.After(s.ExpiresAt) {
		idle = s.ExpiresAt
	}
	if err := h.d.Store.TouchSession(r.Context(), s.ID, now, idle); err != nil {
		h.d.Logger.WarnContext(r.Context(), "touch session", "error", err)
	}
}

// ConsentNeeded reports whether the user must see the consent page before
// a code is issued: always with prompt=consent; otherwise for third-party
// clients (first_party: false) and for APIs with skip_consent: false,
// unless the user already granted every requested scope to this client
// for this audience.
func (h *Handler) ConsentNeeded(ctx context.Context, req *Request, userID string) (bool, error) {
	if req.HasPrompt("consent") {
		return true, nil
	}
	cfg := h.d.Config()
	client := cfg.Client(req.ClientID)
	var api *config.API
	if req.Audience != "" {
		api = cfg.API(req.Audience)
	}
	required := client == nil || !client.IsFirstParty() ||
		(api != nil && api.SkipConsent != nil && !*api.SkipConsent)
	if !required {
		return false, nil
	}
	c, err := h.d.Store.GetConsent(ctx, userID, req.ClientID, req.Audience)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range strings.Fields(req.Scope) {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// SaveConsent remembers that the user granted the request's scopes to its
// client for its audience, adding them to what was granted before.
func (h *Handler) SaveConsent(ctx context.Context, req *Request, userID string) error {
	scopes := strings.Fields(req.Scope)
	prev, err := h.d.Store.GetConsent(ctx, userID, req.ClientID, req.Audience)
	switch {
	case err == nil:
		for _, s := range prev.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return h.d.Store.SaveConsent(ctx, &store.Consent{
		UserID: userID, ClientID: req.ClientID, Audience: req.Audience,
		Scopes: scopes, GrantedAt: h.d.Now(),
	})
}

// scopeText describes the OpenID scopes on the consent page.
var scopeText = map[string]string{
	"openid":         "Sign you in with your account",
	"profile":        "Your profile: name, nickname and picture",
	"email":          "Your email address",
	"offline_access": "Keep you signed in (refresh tokens)",
}

// ConsentScopes lists what the consent page shows for req.
func (h *Handler) ConsentScopes(req *Request) []web.Scope {
	apiName := req.Audience
	if api := h.d.Config().API(req.Audience); req.Audience != "" && api != nil && api.Name != "" {
		apiName = api.Name
	}
	var out []web.Scope
	for _, s := range strings.Fields(req.Scope) {
		d, ok := scopeText[s]
		if !ok {
			d = "Access to " + apiName
		}
		out = append(out, web.Scope{Name: s, Description: d})
	}
	return out
}
