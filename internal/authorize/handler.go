package authorize

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/oauth"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
	"github.com/latch-auth/latch/internal/web"
)

// Paths of the hosted pages a transaction continues on.
const (
	LoginPath   = "/u/login"
	SignupPath  = "/u/signup"
	ConsentPath = "/u/consent"
)

// Deps is what the handler needs. Config is read on every request so a
// reload applies to the next one.
type Deps struct {
	Config func() *config.Config
	Store  store.Store
	Pages  *web.Pages
	Logger *slog.Logger
	Now    func() time.Time
	// Tokens mints the ID token of response_type=id_token (OIDC Core
	// §3.2.2.10); nil answers that response type unsupported_response_type.
	Tokens *tokens.Issuer
}

// Handler serves GET and POST /authorize and carries the steps the hosted
// pages share with it: transactions, consent, code issuance and delivery.
type Handler struct {
	d Deps
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
	return &Handler{d: d}
}

// ServeHTTP implements GET /authorize and POST /authorize (OIDC Core
// §3.1.2.1 allows form-encoded POST).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := h.d.Config()
	v, oe := readParams(r)
	if oe != nil {
		h.ErrorPage(w, r, oe)
		return
	}
	p := Parse(v)
	client, callback, oe := trust(cfg, p)
	if oe != nil {
		h.ErrorPage(w, r, oe)
		return
	}
	req, oe := newRequest(p, client, callback)
	if req.ResponseMode == ModeWebMessage {
		// The response is posted to the callback's origin; unless the client
		// lists it among its web origins nothing can be delivered, so this
		// is the error page's, not the application's, to show.
		if origin, ok := OriginOf(callback); !ok || !MatchOrigin(client.WebOrigins, origin) {
			h.ErrorPage(w, r, oauth.Errorf(http.StatusBadRequest, "invalid_request",
				"The origin of redirect_uri (%s) is not in the client's allowed web origins, which response_mode=web_message requires", clip(origin)))
			return
		}
	}
	if oe == nil {
		oe = validate(cfg, client, p, req, h.d.Tokens != nil)
	}
	if oe != nil {
		h.Fail(w, r, req, oe)
		return
	}
	h.authorize(w, r, cfg, req)
}

// readParams returns the request's parameters: the query of a GET, the
// form body of a POST.
func readParams(r *http.Request) (url.Values, *oauth.Error) {
	if r.Method != http.MethodPost {
		v, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, oauth.NewError(http.StatusBadRequest, "invalid_request", "The query string is malformed")
		}
		return v, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, oauth.NewError(http.StatusUnsupportedMediaType, "invalid_request",
			"POST /authorize takes an application/x-www-form-urlencoded body")
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, oauth.NewError(http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large")
		}
		return nil, oauth.NewError(http.StatusBadRequest, "invalid_request", "The request body is malformed")
	}
	return r.PostForm, nil
}

// authorize continues a valid request: with a usable SSO session (and the
// consent it needs) a code is issued at once; otherwise prompt=none fails
// and every other request goes to a hosted page through a transaction.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, cfg *config.Config, req *Request) {
	ctx := r.Context()
	now := h.d.Now()
	sess, user, err := h.usableSession(r, req, now)
	var oe *oauth.Error
	switch {
	case errors.As(err, &oe):
		h.Fail(w, r, req, oe)
		return
	case err != nil:
		h.serverError(w, r, req, err)
		return
	}
	if sess == nil {
		if req.HasPrompt("none") {
			h.Fail(w, r, req, oauth.NewError(http.StatusBadRequest, "login_required", "Login required"))
			return
		}
		next := LoginPath
		if cn := cfg.Connection(req.Connection); req.ScreenHint == "signup" && cn != nil && cn.SignupEnabled() {
			next = SignupPath
		}
		h.startTransaction(w, r, cfg, req, next)
		return
	}
	need, err := h.ConsentNeeded(ctx, req, user.ID)
	if err != nil {
		h.serverError(w, r, req, err)
		return
	}
	if need {
		if req.HasPrompt("none") {
			h.Fail(w, r, req, oauth.NewError(http.StatusBadRequest, "consent_required", "Consent required"))
			return
		}
		h.startTransaction(w, r, cfg, req, ConsentPath)
		return
	}
	h.touch(r, cfg, sess, now)
	h.Finish(w, r, req, sess)
}

// ErrorPage shows an OAuth error on latch's own error page: used while the
// client or redirect URI is not trusted, so there is never a Location.
func (h *Handler) ErrorPage(w http.ResponseWriter, r *http.Request, oe *oauth.Error) {
	h.d.Logger.DebugContext(r.Context(), "authorize error page", "error", oe.Code, "description", oe.Description)
	status := oe.Status
	if status < 400 || status > 499 {
		status = http.StatusBadRequest
	}
	h.RenderError(w, r, status, web.ErrorData{
		Base:        web.Base{Title: "Something went wrong"},
		Message:     "The application sent a request that latch cannot accept. Tell the application's developers about the error below.",
		Code:        oe.Code,
		Description: oe.Description,
	})
}

// RenderError renders the error page with the tenant's branding, the page
// CSP and the request id (for support), never with a Location.
func (h *Handler) RenderError(w http.ResponseWriter, r *http.Request, status int, d web.ErrorData) {
	cfg := h.d.Config()
	d.Brand = web.BrandOf(cfg.Tenant.Name, cfg.Tenant.LogoURL, cfg.Tenant.PrimaryColor)
	if d.RequestID == "" {
		d.RequestID = w.Header().Get("X-Request-Id")
	}
	w.Header().Del("Location")
	web.SetCSP(w, web.PageCSP(d.Brand), false)
	if err := h.d.Pages.Render(w, status, web.PageError, d); err != nil {
		h.d.Logger.ErrorContext(r.Context(), "render error page", "error", err)
		http.Error(w, d.Title, status)
	}
}

// serverError reports a storage failure to the application as RFC 6749
// §4.1.2.1's server_error; the cause is logged, never sent.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, req *Request, err error) {
	h.d.Logger.ErrorContext(r.Context(), "authorize failed", "client_id", req.ClientID, "error", err)
	h.Fail(w, r, req, oauth.NewError(http.StatusInternalServerError, "server_error", "Internal error"))
}
