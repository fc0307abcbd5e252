package auth0api

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AuthorizeRequest is the query of GET /authorize, with the fields of the
// seed's AuthorizeAuth0Request plus the OpenID Connect ones Auth0 accepts.
// Empty fields are not sent.
type AuthorizeRequest struct {
	// Audience is the API the access token is for (an API identifier).
	Audience string
	// Scope lists the scopes, e.g. openid, profile, email, offline_access
	// (offline_access asks for a refresh token). Sent space-separated.
	Scope []string
	// ResponseType is "code" (the default) for the authorization code flow.
	ResponseType string
	// ClientID defaults to Client.ClientID.
	ClientID string
	// CodeChallengeMethod is "S256" (the default when CodeChallenge is set);
	// Auth0 and latch refuse "plain".
	CodeChallengeMethod string
	// CodeChallenge is ChallengeS256(verifier). Authorize makes a verifier
	// and challenge itself when this is empty.
	CodeChallenge string
	// ResponseMode is "query", "form_post", "fragment" or "web_message".
	// Authorize supports "query" (its default) and "form_post".
	ResponseMode string
	// State is echoed back with the code; Authorize makes one when empty
	// and checks it.
	State string
	// RedirectURI is where the browser brings the answer; it must be one
	// of the application's callback URLs.
	RedirectURI string
	// Connection names the connection to log in with.
	Connection string
	// Prompt is "none" (silent: no page shown; login_required without an
	// SSO session), "login" (always ask for credentials) or "consent".
	Prompt string
	// Nonce is copied into the ID token; check it with VerifyIDToken.
	Nonce string
	// MaxAge, when positive, is sent as max_age in whole seconds (rounded up): an older
	// login must be repeated. Use Prompt "login" to always log in again.
	MaxAge time.Duration
	// LoginHint pre-fills the login form's username.
	LoginHint string
	// ScreenHint "signup" shows the sign-up page first.
	ScreenHint string
	// Extra holds further parameters (ui_locales, organization, ...); they
	// do not replace the fields above.
	Extra url.Values
}

// AuthorizeURL returns the /authorize URL for req, to open in a browser.
// It fills ClientID and ResponseType ("code") and, when a code challenge
// is given without method, CodeChallengeMethod ("S256").
func (c *Client) AuthorizeURL(req AuthorizeRequest) (string, error) {
	if err := c.check("authorize URL"); err != nil {
		return "", err
	}
	q, err := c.authorizeQuery(req)
	if err != nil {
		return "", err
	}
	return c.base() + "/authorize?" + q.Encode(), nil
}

func (c *Client) authorizeQuery(req AuthorizeRequest) (url.Values, error) {
	if req.ClientID == "" {
		req.ClientID = c.ClientID
	}
	if req.ClientID == "" {
		return nil, errors.New("auth0api: authorize: no client_id (set Client.ClientID)")
	}
	if req.ResponseType == "" {
		req.ResponseType = "code"
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod == "" {
		req.CodeChallengeMethod = "S256"
	}
	q := url.Values{}
	for k, v := range req.Extra {
		q[k] = append([]string(nil), v...)
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("audience", req.Audience)
	set("scope", strings.Join(req.Scope, " "))
	set("response_type", req.ResponseType)
	set("client_id", req.ClientID)
	set("code_challenge_method", req.CodeChallengeMethod)
	set("code_challenge", req.CodeChallenge)
	set("response_mode", req.ResponseMode)
	set("state", req.State)
	set("redirect_uri", req.RedirectURI)
	set("connection", req.Connection)
	set("prompt", req.Prompt)
	set("nonce", req.Nonce)
	if req.MaxAge > 0 {
		q.Set("max_age", strconv.FormatInt(int64((req.MaxAge+time.Second-1)/time.Second), 10))
	}
	set("login_hint", req.LoginHint)
	set("screen_hint", req.ScreenHint)
	return q, nil
}
