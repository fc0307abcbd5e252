package login

import (
	"errors"
	"net/http"
	"time"

	"github.com/latch-auth/latch/internal/authorize"
	"github.com/latch-auth/latch/internal/oauth"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/web"
)

// ConsentPage serves GET /u/consent?state=...: the scopes the application
// asks for, with Accept and Deny.
func (h *Handler) ConsentPage(w http.ResponseWriter, r *http.Request) {
	tx, ok := h.load(w, r, r.URL.Query().Get("state"))
	if !ok {
		return
	}
	sess, user, ok := h.consentSession(w, r, tx)
	if !ok || sess == nil {
		return
	}
	cfg := h.d.Config()
	d := web.ConsentData{
		Base:       h.base(cfg, "Authorize application"),
		ClientName: clientName(cfg, tx.Request.ClientID),
		UserName:   user.Email,
		Action:     authorize.ConsentPath,
		State:      tx.Handle, CSRF: tx.Request.CSRF,
		Scopes: h.d.Authorize.ConsentScopes(tx.Request),
	}
	h.render(w, r, http.StatusOK, web.PageConsent, d.Base, d, tx.Request.Callback)
}

// Consent serves POST /u/consent: Accept remembers the grant and issues the
// code; Deny sends access_denied to the application. Either way the
// transaction is completed.
func (h *Handler) Consent(w http.ResponseWriter, r *http.Request) {
	tx, ok := h.beginPost(w, r)
	if !ok {
		return
	}
	action := r.PostForm.Get("action")
	if action != "accept" && action != "deny" {
		h.errorPage(w, r, http.StatusBadRequest, "The form could not be read",
			"Choose Accept or Deny on the consent page.", pageURL(authorize.ConsentPath, tx.Handle))
		return
	}
	sess, user, ok := h.consentSession(w, r, tx)
	if !ok || sess == nil {
		return
	}
	if action == "deny" {
		if err := h.d.Authorize.Complete(r.Context(), tx); err != nil {
			h.staleOrError(w, r, tx, err)
			return
		}
		h.d.Authorize.Fail(w, r, tx.Request, oauth.NewError(http.StatusForbidden, "access_denied", "User did not authorize the request"))
		return
	}
	if err := h.d.Authorize.SaveConsent(r.Context(), tx.Request, user.ID); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.finish(w, r, tx, sess)
}

// consentSession returns the SSO session the consent is given in. Without
// one that satisfies the request (logged in since the transaction began
// when prompt=login, within max_age, same connection), the browser goes to
// the login page of the same transaction and sess is nil. A blocked user
// gets Auth0's "user is blocked" error at the application.
func (h *Handler) consentSession(w http.ResponseWriter, r *http.Request, tx *authorize.Transaction) (*store.Session, *store.User, bool) {
	ctx := r.Context()
	now := h.d.Now()
	toLogin := func() (*store.Session, *store.User, bool) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, pageURL(authorize.LoginPath, tx.Handle), http.StatusSeeOther)
		return nil, nil, true
	}
	sess, err := session.Load(ctx, h.d.Store, r, now)
	if errors.Is(err, store.ErrNotFound) {
		return toLogin()
	}
	if err != nil {
		h.internalError(w, r, err)
		return nil, nil, false
	}
	req := tx.Request
	if sess.AuthTime.Before(tx.CreatedAt) {
		// Not a login of this transaction: the session must meet the
		// request's own freshness rules, as at /authorize.
		if req.HasPrompt("login") || req.MaxAge != nil &&
			(*req.MaxAge == 0 || int64(now.Sub(sess.AuthTime)/time.Second) > *req.MaxAge) {
			return toLogin()
		}
	}
	user, err := h.d.Store.GetUser(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) || err == nil && user.Connection != req.Connection {
		return toLogin()
	}
	if err != nil {
		h.internalError(w, r, err)
		return nil, nil, false
	}
	if user.Blocked {
		if err := h.d.Authorize.Complete(ctx, tx); err != nil {
			h.staleOrError(w, r, tx, err)
			return nil, nil, false
		}
		h.d.Authorize.Fail(w, r, req, authorize.ErrBlocked)
		return nil, nil, false
	}
	return sess, user, true
}
