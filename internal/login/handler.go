package login

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/authorize"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/web"
)

// Deps is what the hosted pages need. Authorize is the /authorize handler
// whose transactions the pages complete.
type Deps struct {
	Config    func() *config.Config
	Store     store.Store
	Passwords *password.Hasher
	Authorize *authorize.Handler
	Pages     *web.Pages
	Logger    *slog.Logger
	Now       func() time.Time
}

// Handler serves the hosted pages under /u/.
type Handler struct {
	d   Deps
	cop *http.CrossOriginProtection
}

// New returns a Handler. Missing Now, Logger and Pages get defaults.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Pages == nil {
		d.Pages = web.MustParse()
	}
	// Forms are also guarded by Fetch-metadata / Origin checks: a cross-site
	// POST (login CSRF into an attacker's account) is refused even though the
	// attacker can hold a valid transaction and token of their own.
	return &Handler{d: d, cop: http.NewCrossOriginProtection()}
}

// Stylesheet serves GET /u/assets/latch.css in the tenant's colours.
func (h *Handler) Stylesheet(w http.ResponseWriter, _ *http.Request) {
	web.ServeStylesheet(w, h.d.Config().Tenant.PrimaryColor)
}

// base is what every page shows.
func (h *Handler) base(cfg *config.Config, title string) web.Base {
	return web.Base{Brand: web.BrandOf(cfg.Tenant.Name, cfg.Tenant.LogoURL, cfg.Tenant.PrimaryColor), Title: title}
}

// render writes a hosted page with its CSP. callback is where a form of the
// page may end up after a redirect (form-action), "" for none.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, b web.Base, data any, callback string) {
	web.SetCSP(w, web.PageCSP(b.Brand, callback), false)
	if err := h.d.Pages.Render(w, status, name, data); err != nil {
		h.d.Logger.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
	}
}

// errorPage renders the error page with an optional link. link is always
// built by latch (a registered callback's origin or one of its own pages),
// so it is trusted as a URL.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg, link string) {
	h.d.Authorize.RenderError(w, r, status, web.ErrorData{
		Base: web.Base{Title: title}, Message: msg, LinkURL: template.URL(link),
	})
}

// internalError logs err and shows a generic page; causes are never shown.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.d.Logger.ErrorContext(r.Context(), "hosted page failed", "path", r.URL.Path, "error", err)
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"latch could not complete your request. Please try again in a moment.", "")
}

// load resolves the transaction of ?state= (or the posted state) and shows
// the matching page when it is unknown, expired or already used.
func (h *Handler) load(w http.ResponseWriter, r *http.Request, handle string) (*authorize.Transaction, bool) {
	tx, err := h.d.Authorize.Transaction(r.Context(), handle)
	switch {
	case err == nil:
		return tx, true
	case errors.Is(err, authorize.ErrTransactionUnknown):
		h.errorPage(w, r, http.StatusBadRequest, "This login link is not valid",
			"The link you followed does not belong to a login in progress. Go back to the application and sign in again.", "")
	case errors.Is(err, authorize.ErrTransactionExpired):
		h.errorPage(w, r, http.StatusBadRequest, "Your login session has expired",
			"You took longer than allowed to sign in, so this login was stopped for your security. Go back to the application and sign in again.",
			authorize.AppURL(tx.Request))
	case errors.Is(err, authorize.ErrTransactionDone):
		h.errorPage(w, r, http.StatusBadRequest, "This login was already completed",
			"This login has already been used, for example from another tab or with the back button. Go back to the application; sign in again there if needed.",
			authorize.AppURL(tx.Request))
	default:
		h.internalError(w, r, err)
	}
	return nil, false
}

// beginPost runs the checks every form POST shares: same-origin request,
// readable form, live transaction, and the transaction's CSRF token
// (compared in constant time).
func (h *Handler) beginPost(w http.ResponseWriter, r *http.Request) (*authorize.Transaction, bool) {
	if err := h.cop.Check(r); err != nil {
		h.errorPage(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site, so latch did not accept it. Go back to the application and sign in again.", "")
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		h.errorPage(w, r, status, "The form could not be read", "The form data sent was malformed or too large. Go back and try again.", "")
		return nil, false
	}
	tx, ok := h.load(w, r, r.PostForm.Get("state"))
	if !ok {
		return nil, false
	}
	token := r.PostForm.Get("csrf")
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(tx.Request.CSRF)) != 1 {
		h.errorPage(w, r, http.StatusForbidden, "The form has expired",
			"This form is missing its security token or does not belong to this login. Reload the login page and try again.",
			pageURL(authorize.LoginPath, tx.Handle))
		return nil, false
	}
	return tx, true
}

// pageURL is a hosted page of the transaction.
func pageURL(path, handle string) string { return path + "?state=" + url.QueryEscape(handle) }

// clientName is how the pages name the application.
func clientName(cfg *config.Config, clientID string) string {
	if c := cfg.Client(clientID); c != nil && c.Name != "" {
		return c.Name
	}
	return clientID
}

// clientIP is the address recorded as last_ip: the peer, or, when the peer
// is a trusted proxy, the right-most X-Forwarded-For entry that is not one.
func clientIP(cfg *config.Config, r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	trusted := func(s string) bool {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		for _, p := range cfg.TrustedProxyPrefixes() {
			if p.Contains(ip.Unmap()) {
				return true
			}
		}
		return false
	}
	if !trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break
		}
		if !trusted(hop) {
			return hop
		}
	}
	return host
}
