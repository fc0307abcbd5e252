// Package auth0api is a Go client for the Auth0 Authentication API as the
// Pieces SDK's Auth0Api class uses it: the four calls of the seed
// (authorizeAuth0, exchangeForAuth0Token, getAuth0UserInfo, auth0Logout),
// with PKCE done right and ID tokens verified. It talks to latch and to
// Auth0 tenants alike ("http://127.0.0.1:1000" or "https://tenant.auth0.com").
//
// A desktop or command-line program logs a user in like this:
//
//	c := &auth0api.Client{Domain: "http://localhost:1000", ClientID: "my-cli"}
//	res, err := c.Authorize(ctx, auth0api.AuthorizeRequest{
//		Scope: []string{"openid", "profile", "email", "offline_access"},
//		Nonce: nonce,
//	}, auth0api.AuthorizeOptions{})
//	// ... handle err ...
//	tok, err := c.ExchangeForToken(ctx, auth0api.ExchangeRequest{
//		Code: res.Code, RedirectURI: res.RedirectURI, CodeVerifier: res.CodeVerifier,
//	})
//	claims, err := c.VerifyIDToken(ctx, tok.IDToken, nonce)
//	user, err := c.UserInfo(ctx, tok.AccessToken)
//
// Authorize runs the browser step of RFC 8252 (OAuth 2.0 for native apps):
// it listens on a loopback redirect URI, opens the system browser at
// /authorize, and waits for the code to come back by the "query" or
// "form_post" response mode. AuthorizeURL only builds the URL.
//
// Errors the server reports — at the token endpoint, at /userinfo, or
// delivered to the redirect URI — are *Error values carrying the OAuth
// error code ("invalid_grant", "login_required", ...) and its description.
// Auth0's two error shapes, {"error","error_description"} and
// {"code","description"}, are both understood.
//
// Dates of a user profile are time.Time values, read from RFC 3339 strings
// (what Auth0 sends) or from numbers of seconds (OpenID Connect's
// updated_at, which latch sends with oidc_strict).
//
// The package depends on the standard library and go-jose only; every call
// takes a context.Context, and an *http.Client may be supplied.
package auth0api
