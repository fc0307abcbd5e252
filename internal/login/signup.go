package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/latch-auth/latch/internal/authorize"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/users"
	"github.com/latch-auth/latch/internal/web"
)

// SignupPage serves GET /u/signup?state=...: the sign-up form of the
// transaction's connection (screen_hint=signup, or the login page's link).
func (h *Handler) SignupPage(w http.ResponseWriter, r *http.Request) {
	tx, ok := h.load(w, r, r.URL.Query().Get("state"))
	if !ok {
		return
	}
	cn, ok := h.signupConnection(w, r, tx)
	if !ok {
		return
	}
	d := web.SignupData{}
	if strings.Contains(tx.Request.LoginHint, "@") {
		d.Email.Value = tx.Request.LoginHint
	}
	h.showSignup(w, r, http.StatusOK, tx, cn, d)
}

// signupConnection returns the transaction's connection when it accepts
// sign-ups, and otherwise shows a page that says so.
func (h *Handler) signupConnection(w http.ResponseWriter, r *http.Request, tx *authorize.Transaction) (*config.Connection, bool) {
	cn := h.d.Config().Connection(tx.Request.Connection)
	if cn == nil || cn.Disabled || !cn.SignupEnabled() {
		h.errorPage(w, r, http.StatusForbidden, "Sign-up is not available",
			"New accounts cannot be created for this application. Log in with an existing account instead.",
			pageURL(authorize.LoginPath, tx.Handle))
		return nil, false
	}
	return cn, true
}

func (h *Handler) showSignup(w http.ResponseWriter, r *http.Request, status int, tx *authorize.Transaction, cn *config.Connection, d web.SignupData) {
	cfg := h.d.Config()
	d.Base = h.base(cfg, "Sign up")
	d.ClientName = clientName(cfg, tx.Request.ClientID)
	d.Action = authorize.SignupPath
	d.State, d.CSRF = tx.Handle, tx.Request.CSRF
	d.MinLength = cn.PasswordMinLength
	d.LoginURL = pageURL(authorize.LoginPath, tx.Handle)
	h.render(w, r, status, web.PageSignup, d.Base, d, tx.Request.Callback)
}

// Signup serves POST /u/signup: creates the user under the connection's
// password policy, then logs them in like a password login.
func (h *Handler) Signup(w http.ResponseWriter, r *http.Request) {
	tx, ok := h.beginPost(w, r)
	if !ok {
		return
	}
	cn, ok := h.signupConnection(w, r, tx)
	if !ok {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	pw := r.PostForm.Get("password")
	d := web.SignupData{Email: web.Field{Value: email}}
	if email == "" {
		d.Email.Error = "Enter your email address."
	}
	if pw == "" {
		d.Password.Error = "Choose a password."
	}
	if d.Email.Error != "" || d.Password.Error != "" {
		h.showSignup(w, r, http.StatusBadRequest, tx, cn, d)
		return
	}
	u, err := users.Create(r.Context(), h.d.Store, h.d.Passwords,
		users.NewUser{Connection: cn.Name, Email: email, Password: pw}, cn.PasswordMinLength, h.d.Now())
	var pe *users.PolicyError
	switch {
	case errors.Is(err, users.ErrInvalidEmail):
		d.Email.Error = "Enter a valid email address, like name@example.com."
	case errors.Is(err, users.ErrUserExists), errors.Is(err, users.ErrUsernameTaken):
		d.Email.Error = "The user already exists. Log in instead."
	case errors.As(err, &pe):
		d.Password.Error = pe.Error()
	case errors.Is(err, password.ErrBusy):
		d.FormError = msgBusy
		w.Header().Set("Retry-After", busyRetryAfter)
		h.showSignup(w, r, http.StatusServiceUnavailable, tx, cn, d)
		return
	case err != nil:
		h.internalError(w, r, err)
		return
	}
	if err != nil {
		h.showSignup(w, r, http.StatusBadRequest, tx, cn, d)
		return
	}
	h.loggedIn(w, r, tx, u)
}
