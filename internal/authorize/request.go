package authorize

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/oauth"
)

// Response modes (OAuth 2.0 Multiple Response Type Encoding Practices,
// Form Post Response Mode, and Auth0's web_message).
const (
	ModeQuery      = "query"
	ModeFragment   = "fragment"
	ModeFormPost   = "form_post"
	ModeWebMessage = "web_message"
)

// Response types latch serves.
const (
	TypeCode    = "code"
	TypeIDToken = "id_token"
)

// Request is a validated /authorize request: what a login transaction
// stores (as JSON) and what a code is issued for.
type Request struct {
	ClientID string `json:"client_id"`
	// RedirectURI is the redirect_uri as sent, "" when it was omitted; the
	// code is bound to it (RFC 6749 §4.1.3).
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Callback is where the response goes: RedirectURI, or the client's only
	// callback when it was omitted.
	Callback            string   `json:"callback"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode"`
	Scope               string   `json:"scope,omitempty"` // what will be granted, space separated
	Audience            string   `json:"audience,omitempty"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Connection          string   `json:"connection"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *int64   `json:"max_age,omitempty"` // seconds; nil when not sent
	LoginHint           string   `json:"login_hint,omitempty"`
	ScreenHint          string   `json:"screen_hint,omitempty"`
	UILocales           string   `json:"ui_locales,omitempty"`
	// CSRF is the token the transaction's forms must post back.
	CSRF string `json:"csrf,omitempty"`
}

// HasPrompt reports whether prompt included v.
func (r *Request) HasPrompt(v string) bool {
	for _, p := range r.Prompt {
		if p == v {
			return true
		}
	}
	return false
}

// trust resolves the client and where the response may go. Its errors are
// shown on the error page and never redirected: neither the client nor the
// redirect URI is trusted yet (RFC 6749 §4.1.2.1).
func trust(cfg *config.Config, p Params) (*config.Client, string, *oauth.Error) {
	if p.Duplicate == "client_id" || p.Duplicate == "redirect_uri" {
		return nil, "", oauth.Errorf(http.StatusBadRequest, "invalid_request", "Duplicate parameter: %s", p.Duplicate)
	}
	if p.ClientID == "" {
		return nil, "", oauth.NewError(http.StatusBadRequest, "invalid_request", "Missing required parameter: client_id")
	}
	client := cfg.Client(p.ClientID)
	if client == nil {
		return nil, "", oauth.Errorf(http.StatusBadRequest, "invalid_request", "Unknown client: %s", clip(p.ClientID))
	}
	if p.RedirectURI == "" {
		// RFC 6749 §3.1.2.3: optional only when exactly one is registered.
		if len(client.Callbacks) == 1 && !strings.Contains(client.Callbacks[0], "*") {
			return client, client.Callbacks[0], nil
		}
		return nil, "", oauth.NewError(http.StatusBadRequest, "invalid_request", "Missing required parameter: redirect_uri")
	}
	if !MatchRedirect(client.Callbacks, p.RedirectURI, client.Type == config.TypeNative) {
		return nil, "", oauth.Errorf(http.StatusBadRequest, "unauthorized_client",
			"Callback URL mismatch. %s is not in the list of allowed callback URLs", clip(p.RedirectURI))
	}
	return client, p.RedirectURI, nil
}

// newRequest starts the Request from the trusted part and the response
// mode, so that later errors can be delivered to the application. An
// unknown response_mode is reported with the response type's default mode.
func newRequest(p Params, client *config.Client, callback string) (*Request, *oauth.Error) {
	req := &Request{
		ClientID: client.ClientID, RedirectURI: p.RedirectURI, Callback: callback,
		ResponseType: p.ResponseType, State: p.State, Nonce: p.Nonce,
		LoginHint: clipTo(strings.TrimSpace(p.LoginHint), 256), ScreenHint: p.ScreenHint, UILocales: clipTo(p.UILocales, 64),
	}
	def := ModeQuery
	if p.ResponseType == TypeIDToken {
		def = ModeFragment
	}
	switch p.ResponseMode {
	case "":
		req.ResponseMode = def
	case ModeQuery, ModeFragment, ModeFormPost, ModeWebMessage:
		req.ResponseMode = p.ResponseMode
	default:
		req.ResponseMode = def
		return req, oauth.Errorf(http.StatusBadRequest, "invalid_request", "Unsupported response_mode: %s", clip(p.ResponseMode))
	}
	return req, nil
}

// validator checks one aspect of the request and fills in req.
type validator func(cfg *config.Config, client *config.Client, p Params, req *Request) *oauth.Error

// validate runs the checks after the client and redirect URI are trusted,
// in the order the issue lists them; the first failure is reported.
func validate(cfg *config.Config, client *config.Client, p Params, req *Request, idToken bool) *oauth.Error {
	steps := []validator{
		checkShape,
		func(cfg *config.Config, c *config.Client, p Params, req *Request) *oauth.Error {
			return checkResponseType(c, p, req, idToken)
		},
		checkPKCE, checkScopeAndAudience, checkGrant, checkConnection, checkPrompt, checkUnsupported,
	}
	for _, step := range steps {
		if oe := step(cfg, client, p, req); oe != nil {
			return oe
		}
	}
	return nil
}

func checkShape(_ *config.Config, _ *config.Client, p Params, _ *Request) *oauth.Error {
	if p.Duplicate != "" {
		return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Duplicate parameter: %s", p.Duplicate)
	}
	if p.TooLong != "" {
		return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Parameter too long: %s", p.TooLong)
	}
	return nil
}

func checkResponseType(_ *config.Client, p Params, req *Request, idToken bool) *oauth.Error {
	switch {
	case p.ResponseType == "":
		return oauth.NewError(http.StatusBadRequest, "invalid_request", "Missing required parameter: response_type")
	case p.ResponseType == TypeCode:
	case p.ResponseType == TypeIDToken && idToken:
		// OAuth 2.0 Multiple Response Type Encoding Practices §5: tokens
		// never go in a query string. web_message is Auth0's code-flow mode.
		if req.ResponseMode != ModeFragment && req.ResponseMode != ModeFormPost {
			return oauth.Errorf(http.StatusBadRequest, "invalid_request",
				"response_mode %s is not allowed with response_type id_token (use fragment or form_post)", req.ResponseMode)
		}
		if p.Nonce == "" {
			return oauth.NewError(http.StatusBadRequest, "invalid_request", "Missing required parameter: nonce")
		}
	default:
		return oauth.Errorf(http.StatusBadRequest, "unsupported_response_type", "Unsupported response type: %s", clip(p.ResponseType))
	}
	return nil
}

// checkPKCE applies RFC 7636 with Auth0's rule: S256 only. Public clients
// (spa, native) must use it; confidential clients may.
func checkPKCE(_ *config.Config, client *config.Client, p Params, req *Request) *oauth.Error {
	if req.ResponseType != TypeCode {
		return nil // no code, nothing to bind a verifier to
	}
	if p.CodeChallenge == "" {
		if p.CodeChallengeMethod != "" || client.IsPublic() {
			return oauth.NewError(http.StatusBadRequest, "invalid_request", "Missing required parameter: code_challenge")
		}
		return nil
	}
	switch p.CodeChallengeMethod {
	case "S256":
	case "", "plain":
		// RFC 7636 §4.3: an absent method means plain, which latch refuses.
		return oauth.NewError(http.StatusBadRequest, "invalid_request",
			"code_challenge_method plain is not supported; use S256")
	default:
		return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Unsupported code_challenge_method: %s", clip(p.CodeChallengeMethod))
	}
	if !validChallenge(p.CodeChallenge) {
		return oauth.NewError(http.StatusBadRequest, "invalid_request",
			"Invalid code_challenge: an S256 challenge is 43 base64url characters (RFC 7636 §4.2)")
	}
	req.CodeChallenge, req.CodeChallengeMethod = p.CodeChallenge, "S256"
	return nil
}

// validChallenge: BASE64URL(SHA-256(verifier)) without padding is exactly
// 43 characters of [A-Za-z0-9_-].
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkScopeAndAudience reports a malformed scope (invalid_scope) before an
// unknown audience, then keeps the scopes the audience's API defines.
func checkScopeAndAudience(cfg *config.Config, _ *config.Client, p Params, req *Request) *oauth.Error {
	if _, oe := grantScope(p.Scope, nil); oe != nil {
		return oe
	}
	var api *config.API
	if p.Audience != "" {
		if api = cfg.API(p.Audience); api == nil {
			// Auth0's exact words (AUTH0-BEHAVIOUR §1.2).
			return oauth.Errorf(http.StatusForbidden, "access_denied", "Service not found: %s", clip(p.Audience))
		}
		req.Audience = api.Identifier
	}
	scope, oe := grantScope(p.Scope, api)
	if oe != nil {
		return oe
	}
	req.Scope = scope
	if req.ResponseType == TypeIDToken && !hasScope(scope, "openid") {
		return oauth.NewError(http.StatusBadRequest, "invalid_scope", "response_type id_token requires the openid scope")
	}
	return nil
}

func checkGrant(_ *config.Config, client *config.Client, _ Params, req *Request) *oauth.Error {
	gt := config.GrantAuthorizationCode
	if req.ResponseType == TypeIDToken {
		gt = config.GrantImplicit
	}
	if !client.AllowsGrant(gt) {
		return oauth.Errorf(http.StatusForbidden, "unauthorized_client", "Grant type '%s' not allowed for the client.", gt)
	}
	return nil
}

// checkConnection resolves the database connection users log in with: the
// one named, which must exist, be enabled and be enabled for the client, or
// else the client's first enabled one.
func checkConnection(cfg *config.Config, client *config.Client, p Params, req *Request) *oauth.Error {
	enabled := func(name string) bool {
		for _, c := range client.Connections {
			if c == name {
				return true
			}
		}
		return false
	}
	if p.Connection != "" {
		cn := cfg.Connection(p.Connection)
		switch {
		case cn == nil:
			return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Connection not found: %s", clip(p.Connection))
		case cn.Disabled:
			return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Connection is disabled: %s", cn.Name)
		case !enabled(cn.Name):
			return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Connection %s is not enabled for the client", cn.Name)
		}
		req.Connection = cn.Name
		return nil
	}
	for _, name := range client.Connections {
		if cn := cfg.Connection(name); cn != nil && !cn.Disabled {
			req.Connection = cn.Name
			return nil
		}
	}
	return oauth.NewError(http.StatusBadRequest, "invalid_request", "No connection is enabled for the client")
}

func checkPrompt(_ *config.Config, _ *config.Client, p Params, req *Request) *oauth.Error {
	set, bad := parsePrompt(p.Prompt)
	if set == nil {
		return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Unsupported prompt: %s", clip(bad))
	}
	for _, v := range []string{"none", "login", "consent", "select_account"} {
		if set[v] {
			req.Prompt = append(req.Prompt, v)
		}
	}
	if p.MaxAge != "" {
		n, err := strconv.ParseInt(p.MaxAge, 10, 64)
		if err != nil || n < 0 || !allDigits(p.MaxAge) {
			return oauth.Errorf(http.StatusBadRequest, "invalid_request", "Invalid max_age: %s (want a non-negative number of seconds)", clip(p.MaxAge))
		}
		req.MaxAge = &n
	}
	return nil
}

func checkUnsupported(_ *config.Config, _ *config.Client, p Params, _ *Request) *oauth.Error {
	switch {
	case p.Organization != "":
		return oauth.NewError(http.StatusBadRequest, "invalid_request", "The organization parameter is not supported: organizations are not enabled")
	case p.Invitation != "":
		return oauth.NewError(http.StatusBadRequest, "invalid_request", "The invitation parameter is not supported: organizations are not enabled")
	case p.Request != "":
		return oauth.NewError(http.StatusBadRequest, "request_not_supported", "Request objects are not supported")
	case p.RequestURI != "":
		return oauth.NewError(http.StatusBadRequest, "request_uri_not_supported", "The request_uri parameter is not supported")
	}
	return nil
}

// clip shortens user input quoted in an error description.
func clip(s string) string { return clipTo(s, 200) }

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
