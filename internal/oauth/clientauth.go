package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/latch-auth/latch/internal/config"
)

// errClientAuth is the answer to failed client authentication: Auth0's
// 401 access_denied "Unauthorized", or RFC 6749 §5.2's 401 invalid_client.
func errClientAuth(strict bool) *Error {
	if strict {
		return NewError(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
	}
	return NewError(http.StatusUnauthorized, "access_denied", "Unauthorized")
}

// errMissing is Auth0's answer to a missing parameter.
func errMissing(name string) *Error {
	return Errorf(http.StatusBadRequest, "invalid_request", "Missing required parameter: %s", name)
}

// AuthenticateClient identifies and authenticates the client of a token or
// revocation request (RFC 6749 §2.3): client_secret_basic,
// client_secret_post, or none for public clients. A client with a secret
// must present it; a public client must not present one (an empty Basic
// password, which golang.org/x/oauth2 sends, counts as none). Only one
// method may be used (§2.3).
func AuthenticateClient(cfg *config.Config, req *TokenRequest) (*config.Client, error) {
	id := req.ClientID
	var secrets []string
	if req.ClientSecret != "" {
		secrets = append(secrets, req.ClientSecret)
	}
	if b := req.Basic; b != nil {
		if b.Secret != "" && req.ClientSecret != "" {
			return nil, NewError(http.StatusBadRequest, "invalid_request", "Use only one client authentication method")
		}
		basicID := b.ClientID
		if cfg.Client(basicID) == nil && cfg.Client(b.RawClientID) != nil {
			basicID = b.RawClientID
		}
		if id != "" && id != basicID {
			return nil, NewError(http.StatusBadRequest, "invalid_request", "client_id does not match the Authorization header")
		}
		id = basicID
		if b.Secret != "" {
			secrets = append(secrets, b.Secret)
		}
		if b.RawSecret != b.Secret && b.RawSecret != "" {
			secrets = append(secrets, b.RawSecret)
		}
	}
	if id == "" {
		return nil, errMissing("client_id")
	}
	strict := cfg.OIDCStrict
	c := cfg.Client(id)
	if c == nil {
		return nil, errClientAuth(strict)
	}
	if len(c.SecretHash) == 0 {
		// No secret configured: only a public client may authenticate with
		// "none", and presenting a secret is then a misconfigured client.
		if !c.IsPublic() || len(secrets) > 0 {
			return nil, errClientAuth(strict)
		}
		return c, nil
	}
	ok := 0
	for _, s := range secrets {
		sum := sha256.Sum256([]byte(s))
		ok |= subtle.ConstantTimeCompare(sum[:], c.SecretHash)
	}
	if ok != 1 {
		return nil, errClientAuth(strict)
	}
	return c, nil
}
