package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
)

// refreshToken runs the refresh_token grant with rotation (RFC 6749 §6,
// RFC 9700 §4.14.2): every use returns a new refresh token of the same
// family; a rotated-out token presented again (beyond the leeway) revokes
// the family. The new ID token keeps sub, aud, auth_time and sid and has no
// nonce.
func (h *Handler) refreshToken(ctx context.Context, cfg *config.Config, client *config.Client, req *TokenRequest) (*TokenResponse, error) {
	if req.RefreshToken == "" {
		// The Pieces SDK's refresh call lands here: it sends code,
		// redirect_uri and code_verifier but never refresh_token.
		return nil, errMissing("refresh_token")
	}
	hash := store.HashToken(req.RefreshToken)
	old, err := h.Store.GetRefreshToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidGrant(descInvalidRefresh)
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: get refresh token: %w", err)
	}
	if old.ClientID != client.ClientID {
		return nil, errInvalidGrant(descInvalidRefresh)
	}
	scope := old.Scope
	if req.Scope != "" {
		narrowed, ok := tokens.SubsetScope(req.Scope, old.Scope)
		if !ok {
			return nil, NewError(http.StatusForbidden, "invalid_scope", "The requested scope exceeds the scope granted by the resource owner")
		}
		scope = narrowed
	}
	user, err := h.loadUser(ctx, old.UserID, "The refresh_token was generated for a user who doesn't exist anymore.")
	if err != nil {
		return nil, err
	}
	now := h.now()
	value := session.NewToken()
	// The successor keeps the family's grant (scope, audience, session)
	// and absolute expiry; only the idle expiry moves (RFC 6749 §6: the new
	// refresh token's scope is the old one's even when this answer narrows).
	next := &store.RefreshToken{
		Hash: store.HashToken(value), FamilyID: old.FamilyID, ClientID: old.ClientID,
		UserID: old.UserID, SessionID: old.SessionID, Scope: old.Scope, Audience: old.Audience,
		AuthTime: old.AuthTime, CreatedAt: now,
		IdleExpiresAt:   earliest(now.Add(cfg.Lifetimes.RefreshIdle.D()), old.FamilyExpiresAt),
		FamilyExpiresAt: old.FamilyExpiresAt,
	}
	_, err = h.Store.RotateRefreshToken(ctx, hash, next, now, cfg.Lifetimes.RefreshReuseLeeway.D())
	switch {
	case errors.Is(err, store.ErrTokenReused):
		// The store revoked the family's refresh tokens; revoke the
		// family's opaque access tokens as well.
		if rerr := h.Store.RevokeGrant(ctx, old.FamilyID, now); rerr != nil {
			return nil, fmt.Errorf("oauth: revoke reused refresh family: %w", rerr)
		}
		return nil, &Error{Code: "invalid_grant", Description: descInvalidRefresh, Status: http.StatusForbidden, Err: err}
	case errors.Is(err, store.ErrNotFound):
		return nil, errInvalidGrant(descInvalidRefresh)
	case err != nil:
		return nil, fmt.Errorf("oauth: rotate refresh token: %w", err)
	}
	resp, err := h.issue(ctx, grant{
		user: user, client: client, grantType: tokens.GrantRefreshToken, grantID: old.FamilyID,
		sessionID: old.SessionID, scope: scope, audience: old.Audience, authTime: old.AuthTime,
	})
	if err != nil {
		return nil, err
	}
	resp.RefreshToken = value
	return resp, nil
}
