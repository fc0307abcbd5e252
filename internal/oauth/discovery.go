package oauth

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/latch-auth/latch/internal/config"
)

// Discovery is the OpenID Provider metadata (OpenID Connect Discovery 1.0
// §3). It lists only what latch really serves: each endpoint appears here in
// the same change that adds it.
type Discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                     string   `json:"token_endpoint,omitempty"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                           string   `json:"jwks_uri"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	EndSessionEndpoint                string   `json:"end_session_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	ClaimsSupported                   []string `json:"claims_supported,omitempty"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
}

// NewDiscovery builds the document for cfg's issuer.
func NewDiscovery(cfg *config.Config) Discovery {
	base := strings.TrimSuffix(cfg.Issuer, "/")
	return Discovery{
		Issuer:                            cfg.Issuer,
		JWKSURI:                           base + "/.well-known/jwks.json",
		AuthorizationEndpoint:             base + "/authorize",
		ResponseModesSupported:            []string{"query", "fragment", "form_post", "web_message"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		TokenEndpoint:                     base + "/oauth/token",
		UserinfoEndpoint:                  base + "/userinfo",
		RevocationEndpoint:                base + "/oauth/revoke",
		EndSessionEndpoint:                base + "/oidc/logout",
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		GrantTypesSupported:               []string{"authorization_code", "implicit", "refresh_token", "client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		ClaimsSupported: []string{"aud", "auth_time", "azp", "created_at", "email", "email_verified", "exp",
			"family_name", "given_name", "iat", "identities", "iss", "locale", "name", "nickname", "nonce",
			"picture", "sid", "sub", "updated_at", "user_id", "username"},
		ResponseTypesSupported:           []string{"code", "id_token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{"RS256"},
	}
}

// DiscoveryHandler serves /.well-known/openid-configuration (and the
// RFC 8414 alias). The JSON is rebuilt only when the config changes.
type DiscoveryHandler struct {
	Config func() *config.Config
	cache  atomic.Pointer[discoveryCache]
}

type discoveryCache struct {
	cfg  *config.Config
	body []byte
}

// ServeHTTP implements http.Handler.
func (h *DiscoveryHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	cfg := h.Config()
	c := h.cache.Load()
	if c == nil || c.cfg != cfg {
		body, _ := json.Marshal(NewDiscovery(cfg)) // plain strings and bools: cannot fail
		c = &discoveryCache{cfg: cfg, body: body}
		h.cache.Store(c)
	}
	SetCacheableJSON(w.Header())
	_, _ = w.Write(c.body)
}
