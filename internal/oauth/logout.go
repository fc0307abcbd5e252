package oauth

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/session"
)

// Logout serves GET /v2/logout (Auth0's logout): it ends the SSO session
// and redirects to returnTo when the allow-list permits it — the client's
// allowed_logout_urls with client_id, the tenant's without, returnTo's query
// and fragment ignored in the match. Without returnTo it goes to the
// client's first allowed logout URL, or answers 200 "OK". Refresh tokens
// survive logout, as in Auth0.
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	cfg := h.Config()
	q := r.URL.Query()
	clientID, returnTo := q.Get("client_id"), q.Get("returnTo")
	allowed := cfg.AllowedLogoutURLs
	var client *config.Client
	if clientID != "" {
		if client = cfg.Client(clientID); client == nil {
			writeErrorPage(w, cfg, http.StatusBadRequest, "invalid_request", "Unknown client: "+clientID)
			return
		}
		allowed = client.AllowedLogoutURLs
	}
	target := returnTo
	switch {
	case returnTo != "" && !allowedURL(allowed, returnTo, true):
		writeErrorPage(w, cfg, http.StatusBadRequest, "invalid_request",
			`The "returnTo" querystring parameter "`+returnTo+`" is not defined as a valid URL in "Allowed Logout URLs". `+
				`To add a new URL, add it to allowed_logout_urls in the latch configuration.`)
		return
	case returnTo == "" && client != nil && len(client.AllowedLogoutURLs) > 0:
		target = client.AllowedLogoutURLs[0]
	}
	h.finishLogout(w, r, cfg, target)
}

// OIDCLogout serves GET and POST /oidc/logout (OpenID Connect RP-Initiated
// Logout 1.0): id_token_hint (signature and issuer verified; an expired
// hint is accepted), client_id (must be the hint's audience),
// logout_hint (must be the hint's sid), post_logout_redirect_uri (exact
// match in the client's allowed_logout_urls, or the tenant's without a
// client) and state (appended to the redirect).
func (h *Handler) OIDCLogout(w http.ResponseWriter, r *http.Request) {
	cfg := h.Config()
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			status := http.StatusBadRequest
			if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
				status = http.StatusRequestEntityTooLarge
			}
			writeErrorPage(w, cfg, status, "invalid_request", "The logout request could not be read.")
			return
		}
		params = r.PostForm
	}
	clientID := params.Get("client_id")
	redirect := params.Get("post_logout_redirect_uri")
	if hint := params.Get("id_token_hint"); hint != "" {
		claims, err := h.Tokens.CheckIDTokenHint(hint)
		if err != nil {
			writeErrorPage(w, cfg, http.StatusBadRequest, "invalid_request", "The id_token_hint is not a valid ID token of this server.")
			return
		}
		if clientID != "" && !claims.Audience.Contains(clientID) {
			writeErrorPage(w, cfg, http.StatusBadRequest, "invalid_request", "The client_id does not match the audience of the id_token_hint.")
			return
		}
		if lh := params.Get("logout_hint"); lh != "" && lh != claims.SessionID {
			writeErrorPage(w, cfg, http.StatusBadRequest, "invalid_request", "The logout_hint does not match the session of the id_token_hint.")
			return
		}
		if clientID == "" {
			clientID = claims.Audience[0]
		}
	}
	allowed := cfg.AllowedLogoutURLs
	if clientID != "" {
		client := cfg.Client(clientID)
		if client == nil {
			writeErrorPage(w, cfg, http.StatusBadRequest, "invalid_request", "Unknown client: "+clientID)
			return
		}
		allowed = client.AllowedLogoutURLs
	}
	if redirect != "" && !allowedURL(allowed, redirect, false) {
		writeErrorPage(w, cfg, http.StatusBadRequest, "invalid_request",
			`The "post_logout_redirect_uri" parameter "`+redirect+`" is not defined as a valid URL in "Allowed Logout URLs".`)
		return
	}
	if state := params.Get("state"); redirect != "" && state != "" {
		u, _ := url.Parse(redirect) // parsed by allowedURL already
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
		redirect = u.String()
	}
	h.finishLogout(w, r, cfg, redirect)
}

// finishLogout ends the SSO session and clears its cookie, then redirects
// to target, or answers 200 "OK" when there is none.
func (h *Handler) finishLogout(w http.ResponseWriter, r *http.Request, cfg *config.Config, target string) {
	if err := session.End(r.Context(), h.Store, w, r, h.now(), secureCookies(cfg)); err != nil {
		h.log().ErrorContext(r.Context(), "logout: end session", "error", err)
		writeErrorPage(w, cfg, http.StatusInternalServerError, "server_error", "The session could not be ended. Please try again.")
		return
	}
	if target == "" {
		writeOK(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}
