package auth0api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// LogoutURL returns Auth0's logout URL, GET /v2/logout with client_id (when
// the Client has one) and returnTo (when not empty). Open it in the browser
// that holds the SSO session to end that session.
func (c *Client) LogoutURL(returnTo string) string {
	q := url.Values{}
	if c.ClientID != "" {
		q.Set("client_id", c.ClientID)
	}
	if returnTo != "" {
		q.Set("returnTo", returnTo)
	}
	u := c.base() + "/v2/logout"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Logout calls GET /v2/logout as the seed's auth0Logout does, without
// following redirects: it returns the redirect's Location (returnTo, or the
// application's first allowed logout URL) or, when there is nowhere to go,
// the body ("OK"). A returnTo the server does not allow is an *Error with
// StatusCode 400. The call ends the session of the cookies the HTTPClient
// carries; a program that logged the user in through the system browser
// opens LogoutURL there instead.
func (c *Client) Logout(ctx context.Context, returnTo string) (string, error) {
	if err := c.check("logout"); err != nil {
		return "", err
	}
	req, err := http.NewRequest(http.MethodGet, c.LogoutURL(returnTo), nil)
	if err != nil {
		return "", fmt.Errorf("auth0api: logout: %w", err)
	}
	req.Header.Set("Accept", "text/html")
	hc := *c.httpClient() // a copy, so the caller's redirect policy stays
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.do(ctx, &hc, req, "logout")
	if err != nil {
		return "", err
	}
	switch {
	case res.status >= 300 && res.status < 400:
		loc := res.header.Get("Location")
		if loc == "" {
			return "", errors.New("auth0api: logout: a redirect without Location")
		}
		return loc, nil
	case res.status >= 200 && res.status < 300:
		return string(res.body), nil
	default:
		return "", parseError(res.status, res.header, res.body)
	}
}
