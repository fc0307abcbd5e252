package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
)

// TokenResponse is a successful /oauth/token answer, fields in the order
// Auth0 writes them (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
}

// Auth0's words for token errors; SDKs match on them.
const (
	descInvalidCode    = "Invalid authorization code"
	descBadVerifier    = "Failed to verify code verifier"
	descInvalidRefresh = "Unknown or invalid refresh token."
	descUserBlocked    = "user is blocked"
)

func errInvalidGrant(desc string) *Error {
	return NewError(http.StatusForbidden, "invalid_grant", desc)
}

// errBlocked is Auth0's answer for a blocked user; spa-js logs the user out
// when the description contains "user is blocked".
func errBlocked() *Error { return NewError(http.StatusUnauthorized, "unauthorized", descUserBlocked) }

// Token serves POST /oauth/token. The body is parsed once, the client is
// authenticated centrally, and only then does grant-specific code run.
func (h *Handler) Token(w http.ResponseWriter, r *http.Request) {
	cfg := h.Config()
	resp, err := h.token(r, cfg)
	if err != nil {
		h.fail(w, r, cfg, err)
		return
	}
	WriteJSON(w, http.StatusOK, resp)
}

func (h *Handler) token(r *http.Request, cfg *config.Config) (*TokenResponse, error) {
	req, err := ParseTokenRequest(r)
	if err != nil {
		return nil, err
	}
	if req.GrantType == "" {
		return nil, errMissing("grant_type")
	}
	client, err := AuthenticateClient(cfg, req)
	if err != nil {
		return nil, err
	}
	switch req.GrantType {
	case config.GrantAuthorizationCode, config.GrantRefreshToken, config.GrantClientCredentials:
	default:
		return nil, Errorf(http.StatusForbidden, "unsupported_grant_type", "Unsupported grant type: %s", req.GrantType)
	}
	if !client.AllowsGrant(req.GrantType) {
		return nil, Errorf(http.StatusForbidden, "unauthorized_client", "Grant type '%s' not allowed for the client.", req.GrantType)
	}
	ctx := r.Context()
	switch req.GrantType {
	case config.GrantAuthorizationCode:
		return h.authorizationCode(ctx, cfg, client, req)
	case config.GrantRefreshToken:
		return h.refreshToken(ctx, cfg, client, req)
	default:
		return h.clientCredentials(ctx, cfg, client, req)
	}
}

// grant is what a user grant (code or refresh) issues tokens from.
type grant struct {
	user      *store.User
	client    *config.Client
	grantType string
	grantID   string
	sessionID string
	scope     string // scope of this answer's tokens
	audience  string
	nonce     string
	authTime  time.Time
}

// loadUser returns the grant's user, refusing blocked ones. A deleted user
// yields invalid_grant with missingDesc.
func (h *Handler) loadUser(ctx context.Context, id, missingDesc string) (*store.User, error) {
	u, err := h.Store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidGrant(missingDesc)
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load user: %w", err)
	}
	if u.Blocked {
		return nil, errBlocked()
	}
	return u, nil
}

// issue mints the access token and, when openid was granted, the ID token.
func (h *Handler) issue(ctx context.Context, g grant) (*TokenResponse, error) {
	at, err := h.Tokens.AccessToken(ctx, tokens.AccessTokenRequest{
		UserID: g.user.ID, ClientID: g.client.ClientID, Audience: g.audience,
		Scope: g.scope, GrantType: g.grantType, GrantID: g.grantID,
	})
	if errors.Is(err, tokens.ErrUnknownAudience) {
		// The API was removed from the config after the grant was made.
		return nil, Errorf(http.StatusForbidden, "access_denied", "Service not enabled within domain: %s", g.audience)
	}
	if err != nil {
		return nil, err
	}
	resp := &TokenResponse{
		AccessToken: at.Value, ExpiresIn: int64(at.ExpiresIn / time.Second),
		TokenType: "Bearer", Scope: g.scope,
	}
	if tokens.HasScope(g.scope, tokens.ScopeOpenID) {
		resp.IDToken, err = h.Tokens.IDToken(ctx, tokens.IDTokenRequest{
			User: g.user, ClientID: g.client.ClientID, Nonce: g.nonce,
			SessionID: g.sessionID, Scope: g.scope, AuthTime: g.authTime,
		})
		if err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// offlineAllowed reports whether a grant may carry a refresh token:
// offline_access granted, the client allowed the refresh_token grant, and
// the audience (if any) an API that allows offline access. Without an
// audience SPAs get refresh tokens too, as Auth0's quickstarts rely on.
func offlineAllowed(cfg *config.Config, client *config.Client, scope, audience string) bool {
	if !tokens.HasScope(scope, tokens.ScopeOfflineAccess) || !client.AllowsGrant(config.GrantRefreshToken) {
		return false
	}
	if audience == "" {
		return true
	}
	api := cfg.API(audience)
	return api != nil && api.AllowOfflineAccess
}

// newRefreshToken creates the first token of the family g.grantID.
func (h *Handler) newRefreshToken(ctx context.Context, cfg *config.Config, g grant) (string, error) {
	now := h.now()
	value := session.NewToken()
	familyExp := now.Add(cfg.Lifetimes.RefreshMax.D())
	err := h.Store.CreateRefreshToken(ctx, &store.RefreshToken{
		Hash: store.HashToken(value), FamilyID: g.grantID, ClientID: g.client.ClientID,
		UserID: g.user.ID, SessionID: g.sessionID, Scope: g.scope, Audience: g.audience,
		AuthTime: g.authTime, CreatedAt: now,
		IdleExpiresAt:   earliest(now.Add(cfg.Lifetimes.RefreshIdle.D()), familyExp),
		FamilyExpiresAt: familyExp,
	})
	if err != nil {
		return "", fmt.Errorf("oauth: store refresh token: %w", err)
	}
	return value, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
