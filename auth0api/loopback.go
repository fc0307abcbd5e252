package auth0api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ResultedPKCE is what the browser step yields (the seed's ResultedPKCE):
// the authorization code and the state it came with. Authorize also
// returns the redirect URI it listened on and, when it made the PKCE pair
// itself, the code verifier: both go into ExchangeForToken.
type ResultedPKCE struct {
	Code         string `json:"code"`
	State        string `json:"state"`
	RedirectURI  string `json:"redirect_uri,omitempty"`
	CodeVerifier string `json:"code_verifier,omitempty"`
}

// AuthorizeOptions tune Authorize.
type AuthorizeOptions struct {
	// OpenBrowser shows the /authorize URL to the user; nil means
	// OpenSystemBrowser. It runs on its own goroutine and may block until
	// the browser step is over (tests drive the hosted login page from
	// it); an error it returns ends Authorize. Authorize does not wait for
	// it to return.
	OpenBrowser func(authorizeURL string) error
	// Listener, when set, is the loopback listener to receive the answer
	// on (Authorize closes it). Without it Authorize listens on the
	// redirect URI's host and port — a random free port when the URI has
	// none or port 0, or when there is no redirect URI at all (then it is
	// http://127.0.0.1:PORT/callback).
	Listener net.Listener
}

// Authorize runs the browser step of the authorization code flow with
// PKCE for native apps (RFC 8252): it listens on the loopback redirect URI,
// opens the browser at /authorize, and waits until the answer reaches the
// redirect URI by the "query" (default) or "form_post" response mode. It
// makes a state and a PKCE verifier when req has none, checks the state
// (ErrStateMismatch), and returns an *Error with StatusCode 0 when the
// server answers with an error (login_required, access_denied, ...). The
// browser is shown a short page saying how it went. Authorize returns when
// ctx ends (its error wraps ctx.Err()).
func (c *Client) Authorize(ctx context.Context, req AuthorizeRequest, opts AuthorizeOptions) (*ResultedPKCE, error) {
	if err := c.checkAuthorize(ctx, &req); err != nil {
		closeListener(opts.Listener)
		return nil, err
	}
	ln, redirect, err := loopbackListener(req.RedirectURI, opts.Listener)
	if err != nil {
		return nil, err
	}
	req.RedirectURI = redirect
	res := &ResultedPKCE{RedirectURI: redirect}
	if req.CodeChallenge == "" {
		res.CodeVerifier = NewVerifier()
		req.CodeChallenge, req.CodeChallengeMethod = ChallengeS256(res.CodeVerifier), "S256"
	}
	if req.State == "" {
		req.State = NewState()
	}
	authURL, err := c.AuthorizeURL(req)
	if err != nil {
		ln.Close()
		return nil, err
	}
	cb := newCallback(redirect, req.State)
	srv := &http.Server{
		Handler:           cb,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 30 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }() // Serve closes ln when it returns
	defer shutdown(srv)
	return cb.wait(ctx, authURL, opts.OpenBrowser, res)
}

// checkAuthorize refuses what cannot come back to a loopback listener and
// sets the default response mode.
func (c *Client) checkAuthorize(ctx context.Context, req *AuthorizeRequest) error {
	if err := c.check("authorize"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil { // nothing to wait for: do not open a browser
		return fmt.Errorf("auth0api: authorize: %w", err)
	}
	if req.ResponseType != "" && req.ResponseType != "code" {
		return fmt.Errorf("auth0api: authorize: response_type %q: only \"code\" can come back to a loopback listener", req.ResponseType)
	}
	switch req.ResponseMode {
	case "":
		req.ResponseMode = "query"
	case "query", "form_post":
	default:
		return fmt.Errorf("auth0api: authorize: response_mode %q: use \"query\" or \"form_post\" (the others need a script in a web page)", req.ResponseMode)
	}
	return nil
}

// wait opens the browser and waits for the answer, the browser's failure
// or the end of ctx.
func (cb *callback) wait(ctx context.Context, authURL string, open func(string) error, res *ResultedPKCE) (*ResultedPKCE, error) {
	if open == nil {
		open = OpenSystemBrowser
	}
	browserErr := make(chan error, 1)
	go func() {
		if err := open(authURL); err != nil {
			browserErr <- err
		}
	}()
	select {
	case r := <-cb.results:
		return r.finish(res)
	case err := <-browserErr:
		select { // an answer that arrived first wins
		case r := <-cb.results:
			return r.finish(res)
		default:
		}
		return nil, fmt.Errorf("auth0api: authorize: open the browser: %w", err)
	case <-ctx.Done():
		return nil, fmt.Errorf("auth0api: authorize: waiting for the browser login: %w", ctx.Err())
	}
}

// finish merges the callback's answer into res.
func (r callbackResult) finish(res *ResultedPKCE) (*ResultedPKCE, error) {
	if r.err != nil {
		return nil, r.err
	}
	res.Code, res.State = r.code, r.state
	return res, nil
}

// shutdown stops the loopback server, letting the page in flight finish.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		_ = srv.Close()
	}
}

func closeListener(ln net.Listener) {
	if ln != nil {
		_ = ln.Close()
	}
}

// loopbackListener returns the listener to receive the answer on and the
// redirect URI that reaches it. Only http URLs on 127.0.0.1, [::1] or
// localhost qualify (RFC 8252 §7.3, §8.3).
func loopbackListener(redirectURI string, ln net.Listener) (net.Listener, string, error) {
	fail := func(err error) (net.Listener, string, error) {
		closeListener(ln)
		return nil, "", err
	}
	if redirectURI == "" {
		redirectURI = "http://127.0.0.1/callback"
	}
	u, err := url.Parse(redirectURI)
	if err != nil {
		return fail(fmt.Errorf("auth0api: authorize: redirect_uri: %w", err))
	}
	host, port := u.Hostname(), u.Port()
	if u.Scheme != "http" || u.Fragment != "" || u.User != nil || !isLoopbackHost(host) {
		return fail(fmt.Errorf("auth0api: authorize: redirect_uri %q: want an http URL on 127.0.0.1, [::1] or localhost (RFC 8252 §7.3)", redirectURI))
	}
	if port == "0" {
		port = ""
	}
	if ln == nil {
		listenHost := host
		if strings.EqualFold(host, "localhost") {
			listenHost = "127.0.0.1"
		}
		if ln, err = net.Listen("tcp", net.JoinHostPort(listenHost, port)); err != nil {
			return nil, "", fmt.Errorf("auth0api: authorize: listen on the redirect_uri's port: %w", err)
		}
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return fail(errors.New("auth0api: authorize: the listener is not a TCP listener"))
	}
	got := fmt.Sprint(addr.Port)
	if port != "" && port != got {
		return fail(fmt.Errorf("auth0api: authorize: redirect_uri port %s but the listener is on port %s", port, got))
	}
	u.Host = net.JoinHostPort(host, got)
	if u.Path == "" {
		u.Path = "/"
	}
	return ln, u.String(), nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
