package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/tokens"
)

// authorizationCode runs the authorization_code grant (RFC 6749 §4.1.3,
// RFC 7636 §4.6). The code is consumed first, in one conditional update that
// stamps a new grant id on it; a second use revokes what the first issued.
func (h *Handler) authorizationCode(ctx context.Context, cfg *config.Config, client *config.Client, req *TokenRequest) (*TokenResponse, error) {
	if req.Code == "" {
		return nil, errMissing("code")
	}
	now := h.now()
	grantID := session.NewToken()
	code, err := h.Store.ConsumeAuthCode(ctx, store.HashToken(req.Code), grantID, now)
	switch {
	case errors.Is(err, store.ErrCodeReused):
		// RFC 6749 §4.1.2 / §10.5: a replayed code means it leaked; revoke
		// the refresh tokens and opaque access tokens of the first use.
		if rerr := h.Store.RevokeGrant(ctx, code.GrantID, now); rerr != nil {
			return nil, fmt.Errorf("oauth: revoke grant of reused code: %w", rerr)
		}
		return nil, &Error{Code: "invalid_grant", Description: descInvalidCode, Status: http.StatusForbidden, Err: err}
	case errors.Is(err, store.ErrNotFound):
		return nil, errInvalidGrant(descInvalidCode)
	case err != nil:
		return nil, fmt.Errorf("oauth: consume code: %w", err)
	}
	if code.ClientID != client.ClientID {
		return nil, errInvalidGrant(descInvalidCode)
	}
	// A redirect_uri sent to /authorize must be repeated exactly; one
	// omitted there must be omitted here (RFC 6749 §4.1.3).
	if code.RedirectURI != "" && req.RedirectURI == "" {
		return nil, errMissing("redirect_uri")
	}
	if req.RedirectURI != code.RedirectURI {
		return nil, errInvalidGrant(descInvalidCode)
	}
	if err := checkPKCE(client, code, req.CodeVerifier); err != nil {
		return nil, err
	}
	user, err := h.loadUser(ctx, code.UserID, descInvalidCode)
	if err != nil {
		return nil, err
	}
	g := grant{
		user: user, client: client, grantType: tokens.GrantAuthorizationCode, grantID: grantID,
		sessionID: code.SessionID, scope: code.Scope, audience: code.Audience,
		nonce: code.Nonce, authTime: code.AuthTime,
	}
	resp, err := h.issue(ctx, g)
	if err != nil {
		return nil, err
	}
	if offlineAllowed(cfg, client, code.Scope, code.Audience) {
		if resp.RefreshToken, err = h.newRefreshToken(ctx, cfg, g); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// checkPKCE verifies code_verifier against the stored S256 challenge in
// constant time (RFC 7636 §4.6). A public client's code always has a
// challenge; a verifier for a code issued without one is refused too, so
// PKCE cannot be downgraded.
func checkPKCE(client *config.Client, code *store.AuthCode, verifier string) error {
	if code.CodeChallenge == "" {
		if verifier != "" || client.IsPublic() {
			return errInvalidGrant(descBadVerifier)
		}
		return nil
	}
	if verifier == "" {
		return errMissing("code_verifier")
	}
	if code.CodeChallengeMethod != "S256" || !validVerifier(verifier) {
		return errInvalidGrant(descBadVerifier)
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(code.CodeChallenge)) != 1 {
		return errInvalidGrant(descBadVerifier)
	}
	return nil
}

// validVerifier: 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
