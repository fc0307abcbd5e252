package login

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/authorize"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/web"
)

// Messages of the login form. Wrong password and unknown user share one
// (Auth0's words) so the page does not tell which accounts exist.
const (
	msgWrongCredentials = "Wrong email or password."
	msgBlocked          = "Your account is blocked (user is blocked). Contact the application's support."
	msgBusy             = "Too many sign-ins are in progress. Please try again in a moment."
	// busyRetryAfter is Retry-After (seconds) when every password-hashing
	// slot stayed busy for password.MaxWait.
	busyRetryAfter = "5"
)

var (
	errWrongCredentials = errors.New("login: wrong credentials")
	errBlocked          = errors.New("login: user is blocked")
)

// LoginPage serves GET /u/login?state=...: the login form, pre-filled with
// login_hint.
func (h *Handler) LoginPage(w http.ResponseWriter, r *http.Request) {
	tx, ok := h.load(w, r, r.URL.Query().Get("state"))
	if !ok {
		return
	}
	h.showLogin(w, r, http.StatusOK, tx, web.LoginData{Username: web.Field{Value: tx.Request.LoginHint}})
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, status int, tx *authorize.Transaction, d web.LoginData) {
	cfg := h.d.Config()
	d.Base = h.base(cfg, "Log in")
	d.ClientName = clientName(cfg, tx.Request.ClientID)
	d.Action = authorize.LoginPath
	d.State, d.CSRF = tx.Handle, tx.Request.CSRF
	if cn := cfg.Connection(tx.Request.Connection); cn != nil && cn.SignupEnabled() {
		d.SignupURL = pageURL(authorize.SignupPath, tx.Handle)
	}
	h.render(w, r, status, web.PageLogin, d.Base, d, tx.Request.Callback)
}

// Login serves POST /u/login: checks the credentials, starts or refreshes
// the SSO session and continues the transaction.
func (h *Handler) Login(w http.ResponseWriter, r *http.Request) {
	tx, ok := h.beginPost(w, r)
	if !ok {
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	pw := r.PostForm.Get("password")
	d := web.LoginData{Username: web.Field{Value: username}}
	if username == "" {
		d.Username.Error = "Enter your email address or username."
	}
	if pw == "" {
		d.Password.Error = "Enter your password."
	}
	if d.Username.Error != "" || d.Password.Error != "" {
		h.showLogin(w, r, http.StatusBadRequest, tx, d)
		return
	}
	cfg := h.d.Config()
	at := attempt{cfg: cfg, ip: canonicalIP(clientIP(cfg, r)), now: h.d.Now()}
	if wait, err := h.ipThrottled(r.Context(), cfg, at.ip, at.now); err != nil {
		h.internalError(w, r, err)
		return
	} else if wait > 0 {
		d.FormError = suspiciousIPMessage(w, wait)
		h.showLogin(w, r, http.StatusTooManyRequests, tx, d)
		return
	}
	user, err := h.authenticate(r.Context(), tx.Request.Connection, username, pw, at)
	switch {
	case errors.Is(err, errWrongCredentials):
		d.FormError = msgWrongCredentials
		h.showLogin(w, r, http.StatusBadRequest, tx, d)
		return
	case errors.Is(err, errTooManyAttempts):
		d.FormError = tooManyAttemptsMessage(at.ip)
		h.showLogin(w, r, http.StatusTooManyRequests, tx, d)
		return
	case errors.Is(err, errBlocked):
		d.FormError = msgBlocked
		h.showLogin(w, r, http.StatusForbidden, tx, d)
		return
	case errors.Is(err, password.ErrBusy):
		d.FormError = msgBusy
		w.Header().Set("Retry-After", busyRetryAfter)
		h.showLogin(w, r, http.StatusServiceUnavailable, tx, d)
		return
	case err != nil:
		h.internalError(w, r, err)
		return
	}
	h.loggedIn(w, r, tx, user)
}

// authenticate finds the user by email (when the identifier has an @) or
// username in the transaction's connection and verifies the password. An
// unknown user costs the same hashing work as a wrong password
// (VerifyDummy), so timing does not reveal which accounts exist. A
// password stored with old parameters or bcrypt is rehashed on success.
// An attempt from a blocked account and IP pair is errTooManyAttempts,
// checked before the password, whether the account exists or not; a
// failure is counted (failed) and a success clears the count (succeeded).
func (h *Handler) authenticate(ctx context.Context, connection, ident, pw string, at attempt) (*store.User, error) {
	st := h.d.Store
	var u *store.User
	err := store.ErrNotFound
	if strings.Contains(ident, "@") {
		u, err = st.GetUserByEmail(ctx, connection, ident)
	}
	if errors.Is(err, store.ErrNotFound) {
		u, err = st.GetUserByUsername(ctx, connection, ident)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("login: find user: %w", err)
	}
	key := unknownKey(connection, ident)
	if err == nil {
		key = u.ID
	} else {
		u = nil
	}
	if blocked, _, err := h.blocked(ctx, at, key); err != nil || blocked {
		return nil, cmp.Or(err, errTooManyAttempts)
	}
	if u == nil || u.PasswordHash == "" {
		if err := h.d.Passwords.VerifyDummy(ctx, pw); err != nil {
			return nil, err // ErrBusy, as for an existing user
		}
		return nil, h.failed(ctx, at, key)
	}
	ok, rehash, err := h.d.Passwords.Verify(ctx, u.PasswordHash, pw)
	switch {
	case errors.Is(err, password.ErrBusy):
		return nil, err
	case err != nil:
		// A stored hash latch cannot read: the user cannot log in with a
		// password; say so in the log (the id only), not on the page.
		h.d.Logger.WarnContext(ctx, "unusable password hash", "user_id", u.ID, "error", err)
		return nil, h.failed(ctx, at, key)
	case !ok:
		return nil, h.failed(ctx, at, key)
	}
	if err := h.succeeded(ctx, at, key); err != nil {
		return nil, err
	}
	if u.Blocked {
		return nil, errBlocked
	}
	if rehash {
		if hash, err := h.d.Passwords.Hash(ctx, pw); err != nil {
			h.d.Logger.WarnContext(ctx, "rehash password", "user_id", u.ID, "error", err)
		} else if err := st.SetPassword(ctx, u.ID, hash, h.d.Now()); err != nil {
			h.d.Logger.WarnContext(ctx, "store rehashed password", "user_id", u.ID, "error", err)
		}
	}
	return u, nil
}

// loggedIn is what follows a successful login or signup: the SSO session,
// the login record, then consent or the authorization response.
func (h *Handler) loggedIn(w http.ResponseWriter, r *http.Request, tx *authorize.Transaction, user *store.User) {
	ctx := r.Context()
	cfg := h.d.Config()
	now := h.d.Now()
	sess, err := h.establishSession(w, r, cfg, user, now)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if err := h.d.Store.RecordLogin(ctx, user.ID, clientIP(cfg, r), now); err != nil {
		h.d.Logger.WarnContext(ctx, "record login", "user_id", user.ID, "error", err)
	}
	need, err := h.d.Authorize.ConsentNeeded(ctx, tx.Request, user.ID)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if need {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, pageURL(authorize.ConsentPath, tx.Handle), http.StatusSeeOther)
		return
	}
	h.finish(w, r, tx, sess)
}

// finish completes the transaction (exactly once) and sends the response.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, tx *authorize.Transaction, sess *store.Session) {
	if err := h.d.Authorize.Complete(r.Context(), tx); err != nil {
		h.staleOrError(w, r, tx, err)
		return
	}
	h.d.Authorize.Finish(w, r, tx.Request, sess)
}

func (h *Handler) staleOrError(w http.ResponseWriter, r *http.Request, tx *authorize.Transaction, err error) {
	if errors.Is(err, authorize.ErrTransactionDone) || errors.Is(err, authorize.ErrTransactionExpired) {
		// Re-run load to show the page that matches the state now.
		if _, ok := h.load(w, r, tx.Handle); ok {
			h.internalError(w, r, err)
		}
		return
	}
	h.internalError(w, r, err)
}

// establishSession records a password login in the SSO session. The same
// user's live session is refreshed in place (same sid, new auth_time);
// otherwise a new session with a new cookie replaces any other, so a
// cookie planted before login never becomes a logged-in session.
func (h *Handler) establishSession(w http.ResponseWriter, r *http.Request, cfg *config.Config, u *store.User, now time.Time) (*store.Session, error) {
	ctx := r.Context()
	st := h.d.Store
	idle := now.Add(cfg.Lifetimes.SessionIdle.D())
	old, err := session.Load(ctx, st, r, now)
	switch {
	case err == nil && old.UserID == u.ID:
		if idle.After(old.ExpiresAt) {
			idle = old.ExpiresAt
		}
		if err := st.UpdateSessionAuth(ctx, old.ID, now, idle); err != nil {
			return nil, fmt.Errorf("login: refresh session: %w", err)
		}
		old.AuthTime, old.IdleExpiresAt, old.LastSeenAt = now, idle, now
		return old, nil
	case err == nil:
		if err := st.DeleteSession(ctx, old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("login: replace session: %w", err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("login: load session: %w", err)
	}
	cookie := session.NewToken()
	s := &store.Session{
		ID: session.NewToken(), CookieHash: store.HashToken(cookie), UserID: u.ID,
		AuthTime: now, CreatedAt: now, LastSeenAt: now,
		IdleExpiresAt: idle, ExpiresAt: now.Add(cfg.Lifetimes.SessionMax.D()),
	}
	if s.IdleExpiresAt.After(s.ExpiresAt) {
		s.IdleExpiresAt = s.ExpiresAt
	}
	if err := st.CreateSession(ctx, s); err != nil {
		return nil, fmt.Errorf("login: create session: %w", err)
	}
	session.Set(w, cookie, s.ExpiresAt, strings.HasPrefix(cfg.Issuer, "https://"))
	return s, nil
}
