package oauth

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/tokens"
)

// clientCredentials runs the client_credentials grant (RFC 6749 §4.4) for a
// confidential client: an access token for one of the client's APIs, with
// sub "<client_id>@clients", and neither ID nor refresh token.
func (h *Handler) clientCredentials(ctx context.Context, cfg *config.Config, client *config.Client, req *TokenRequest) (*TokenResponse, error) {
	if client.IsPublic() || len(client.SecretHash) == 0 {
		return nil, Errorf(http.StatusForbidden, "unauthorized_client", "Grant type '%s' not allowed for the client.", req.GrantType)
	}
	if req.Audience == "" {
		return nil, errMissing("audience")
	}
	api := cfg.API(req.Audience)
	if api == nil {
		return nil, Errorf(http.StatusForbidden, "access_denied", "Service not enabled within domain: %s", req.Audience)
	}
	if !slices.Contains(client.APIs, api.Identifier) {
		return nil, Errorf(http.StatusForbidden, "access_denied",
			"Client is not authorized to access %q. You need to create a \"client-grant\" associated to this API.", api.Identifier)
	}
	// The client may have every scope its API defines; asking for none
	// grants them all, as an Auth0 client grant does.
	scope := strings.Join(api.Scopes, " ")
	if req.Scope != "" {
		var missing []string
		for _, s := range strings.Fields(req.Scope) {
			if !slices.Contains(api.Scopes, s) && !slices.Contains(missing, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			return nil, Errorf(http.StatusForbidden, "access_denied", "Client has not been granted scopes: %s", strings.Join(missing, " "))
		}
		scope = tokens.NormalizeScope(req.Scope)
	}
	at, err := h.Tokens.AccessToken(ctx, tokens.AccessTokenRequest{
		ClientID: client.ClientID, Audience: api.Identifier, Scope: scope,
		GrantType: tokens.GrantClientCredentials,
	})
	if err != nil {
		return nil, err
	}
	return &TokenResponse{
		AccessToken: at.Value, ExpiresIn: int64(at.ExpiresIn / time.Second),
		TokenType: "Bearer", Scope: scope,
	}, nil
}
