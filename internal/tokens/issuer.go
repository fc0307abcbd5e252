package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/users"
)

// Issuer mints ID and access tokens for the current configuration. It is
// safe for concurrent use.
type Issuer struct {
	cfg  func() *config.Config
	keys *keys.Manager
	st   store.Store
	now  func() time.Time
}

// NewIssuer returns an Issuer. cfg is read on every call so a reload takes
// effect at once; now is the clock (time.Now when nil).
func NewIssuer(cfg func() *config.Config, k *keys.Manager, st store.Store, now func() time.Time) *Issuer {
	if now == nil {
		now = time.Now
	}
	return &Issuer{cfg: cfg, keys: k, st: st, now: now}
}

// IDTokenRequest is what an ID token is made from. Nonce is empty for
// refreshed ID tokens (Auth0's node SDK refuses a nonce it did not send).
type IDTokenRequest struct {
	User      *store.User
	ClientID  string
	Nonce     string
	SessionID string
	Scope     string // granted scope: selects the profile and email claims
	AuthTime  time.Time
}

// IDToken returns a signed RS256 ID token: iss, sub, aud (the client),
// iat, exp (lifetimes.id_token), auth_time, sid, nonce, azp, and the
// profile/email claims the scope grants (OIDC Core §5.4).
func (i *Issuer) IDToken(ctx context.Context, req IDTokenRequest) (string, error) {
	if req.User == nil || req.ClientID == "" {
		return "", errors.New("tokens: ID token needs a user and a client")
	}
	cfg := i.cfg()
	now := i.now()
	c := IDClaims{
		Issuer:          cfg.Issuer,
		Subject:         req.User.ID,
		Audience:        Audience{req.ClientID},
		IssuedAt:        now.Unix(),
		Expiry:          now.Add(cfg.Lifetimes.IDToken.D()).Unix(),
		SessionID:       req.SessionID,
		Nonce:           req.Nonce,
		AuthorizedParty: req.ClientID,
	}
	if !req.AuthTime.IsZero() {
		c.AuthTime = req.AuthTime.Unix()
	}
	u := req.User
	if HasScope(req.Scope, ScopeProfile) {
		c.Name, c.Nickname, c.Picture = u.Name, u.Nickname, u.Picture
		c.GivenName, c.FamilyName, c.Locale = u.GivenName, u.FamilyName, u.Locale
		c.UpdatedAt = UpdatedAt(u.UpdatedAt, cfg.OIDCStrict)
	}
	if HasScope(req.Scope, ScopeEmail) {
		verified := u.EmailVerified
		c.Email, c.EmailVerified = u.Email, &verified
	}
	tok, err := i.keys.Sign(c)
	if err != nil {
		return "", fmt.Errorf("tokens: sign ID token: %w", err)
	}
	return tok, nil
}

// UpdatedAt is the updated_at claim: Auth0 sends an RFC 3339 string (the
// Pieces SDK parses it with new Date and turns a number into a 1970 date);
// oidc_strict sends the number of seconds OIDC Core §5.1 specifies.
func UpdatedAt(t time.Time, strict bool) any {
	if t.IsZero() {
		return nil
	}
	if strict {
		return t.Unix()
	}
	return users.Time(t)
}
