// Package session carries latch's SSO session between the browser and the
// store: a random cookie value in the browser, only its hash in the database.
package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// CookieName is the SSO session cookie, named as Auth0 names its own.
const CookieName = "latch_session"

// NewToken returns 256 bits of randomness, base64url without padding: the
// form of every bearer secret latch hands out (cookies, codes, tokens).
func NewToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// inside Read itself); keep the signature simple.
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Load returns the live session the request's cookie names, or
// store.ErrNotFound when there is no cookie or no live session for it.
// Sessions past their idle or absolute expiry are absent.
func Load(ctx context.Context, st store.Store, r *http.Request, now time.Time) (*store.Session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, store.ErrNotFound
	}
	s, err := st.GetSessionByCookie(ctx, store.HashToken(c.Value), now)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Set writes the session cookie. secure is true when the issuer is https:
// the cookie is then SameSite=None so silent authentication works from an
// app on another site inside an iframe; on plain http browsers refuse
// SameSite=None without Secure, so it is Lax (same-site apps such as
// localhost:3000 → localhost:1000 still work).
func Set(w http.ResponseWriter, value string, expires time.Time, secure bool) {
	c := &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	if secure {
		c.SameSite = http.SameSiteNoneMode
	}
	http.SetCookie(w, c)
}

// Clear removes the session cookie from the browser.
func Clear(w http.ResponseWriter, secure bool) {
	Set(w, "", time.Unix(1, 0), secure)
}

// End deletes the request's session (if any) and clears its cookie. It is
// what every logout does; a missing session is not an error.
func End(ctx context.Context, st store.Store, w http.ResponseWriter, r *http.Request, now time.Time, secure bool) error {
	defer Clear(w, secure)
	s, err := Load(ctx, st, r, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := st.DeleteSession(ctx, s.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
