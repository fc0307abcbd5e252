package auth0api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Grant types ExchangeForToken checks the parameters of.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// ExchangeRequest is the body of POST /oauth/token (the seed's
// ExchangeForAuth0TokenRequest, plus refresh_token and scope). Empty fields
// are not sent.
type ExchangeRequest struct {
	// GrantType is "authorization_code" (the default when Code is set) or
	// "refresh_token" (the default when RefreshToken is set).
	GrantType string
	// ClientID defaults to Client.ClientID.
	ClientID string
	// Code, RedirectURI and CodeVerifier redeem an authorization code.
	// RedirectURI must equal the one sent to /authorize (omit it only if
	// it was omitted there).
	Code         string
	RedirectURI  string
	CodeVerifier string
	// Audience names the API the access token is for.
	Audience string
	// RefreshToken is the refresh token to rotate (grant refresh_token).
	RefreshToken string
	// Scope may narrow the scope of a refresh.
	Scope string
}

// OAuthToken is a successful token answer (RFC 6749 §5.1; the seed's
// OAuthToken).
type OAuthToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// ExchangeForToken calls POST /oauth/token, form-encoded, and returns the
// tokens. It redeems an authorization code (with its PKCE verifier) or
// rotates a refresh token; with Client.ClientSecret set the client
// authenticates with client_secret_post. A refused request is an *Error,
// e.g. Code "invalid_grant" for a used code or a wrong verifier.
func (c *Client) ExchangeForToken(ctx context.Context, req ExchangeRequest) (*OAuthToken, error) {
	if err := c.check("token"); err != nil {
		return nil, err
	}
	form, err := c.tokenForm(req)
	if err != nil {
		return nil, err
	}
	res, err := c.postForm(ctx, "/oauth/token", form, "token")
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		return nil, parseError(res.status, res.header, res.body)
	}
	var tok OAuthToken
	if err := json.Unmarshal(res.body, &tok); err != nil {
		return nil, fmt.Errorf("auth0api: token: the answer is not a token response: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("auth0api: token: the answer has no access_token")
	}
	return &tok, nil
}

// tokenForm checks req and encodes it. Missing parameters are reported
// here, before a request is made.
func (c *Client) tokenForm(req ExchangeRequest) (url.Values, error) {
	if req.ClientID == "" {
		req.ClientID = c.ClientID
	}
	if req.GrantType == "" {
		switch {
		case req.Code != "":
			req.GrantType = GrantAuthorizationCode
		case req.RefreshToken != "":
			req.GrantType = GrantRefreshToken
		default:
			return nil, errors.New("auth0api: token: set GrantType, or Code or RefreshToken")
		}
	}
	switch {
	case req.ClientID == "":
		return nil, errors.New("auth0api: token: no client_id (set Client.ClientID)")
	case req.GrantType == GrantAuthorizationCode && req.Code == "":
		return nil, errors.New("auth0api: token: authorization_code needs Code")
	case req.GrantType == GrantRefreshToken && req.RefreshToken == "":
		return nil, errors.New("auth0api: token: refresh_token needs RefreshToken")
	}
	form := url.Values{}
	set := func(k, v string) {
		if v != "" {
			form.Set(k, v)
		}
	}
	set("grant_type", req.GrantType)
	set("client_id", req.ClientID)
	set("client_secret", c.ClientSecret)
	set("code", req.Code)
	set("redirect_uri", req.RedirectURI)
	set("code_verifier", req.CodeVerifier)
	set("refresh_token", req.RefreshToken)
	set("audience", req.Audience)
	set("scope", req.Scope)
	return form, nil
}
