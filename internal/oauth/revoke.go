package oauth

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/store"
)

// Revoke serves POST /oauth/revoke (RFC 7009) for refresh tokens: the
// client authenticates as at /oauth/token, and revoking a token revokes its
// whole family (and the family's opaque access tokens). An unknown token —
// or an access token, whose revocation latch does not offer — is answered
// 200 with an empty body, as §2.2 requires; so is a token already revoked.
// A token of another client is refused (§2.1).
func (h *Handler) Revoke(w http.ResponseWriter, r *http.Request) {
	cfg := h.Config()
	if err := h.revoke(r, cfg); err != nil {
		h.fail(w, r, cfg, err)
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) revoke(r *http.Request, cfg *config.Config) error {
	req, err := ParseTokenRequest(r)
	if err != nil {
		return err
	}
	client, err := AuthenticateClient(cfg, req)
	if err != nil {
		return err
	}
	if req.Token == "" {
		return errMissing("token")
	}
	ctx := r.Context()
	rt, err := h.Store.GetRefreshToken(ctx, store.HashToken(req.Token))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("oauth: revoke: get refresh token: %w", err)
	}
	if rt.ClientID != client.ClientID {
		return NewError(http.StatusForbidden, "invalid_grant", "The token was not issued to this client")
	}
	if err := h.Store.RevokeGrant(ctx, rt.FamilyID, h.now()); err != nil {
		return fmt.Errorf("oauth: revoke grant: %w", err)
	}
	return nil
}
