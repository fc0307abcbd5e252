package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/latch-auth/latch/auth0api"
)

// loginOpts are the flags of `latch login`.
type loginOpts struct {
	domain, clientID, audience, scope, out string
	port                                   int
	refresh, noBrowser                     bool
	timeout                                time.Duration
}

// tokenFile is what `latch login` prints or stores: the token answer plus
// what `latch login --refresh` needs to rotate it.
type tokenFile struct {
	Domain   string `json:"domain"`
	ClientID string `json:"client_id"`
	Audience string `json:"audience,omitempty"`
	auth0api.OAuthToken
	ExpiresAt time.Time `json:"expires_at"`
}

// maxTokenFile bounds the file --refresh reads.
const maxTokenFile = 1 << 20

// runLogin is `latch login`: the terminal login of a desktop or CLI tool
// against latch or Auth0 (authorization code + PKCE on a loopback redirect
// URI, RFC 8252), or with --refresh the rotation of the stored tokens.
func runLogin(ctx context.Context, env Env, args []string) error {
	o, err := parseLogin(env, args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.refresh {
		return refreshLogin(ctx, env, o)
	}
	c := &auth0api.Client{Domain: o.domain, ClientID: o.clientID}
	tf, err := browserLogin(ctx, env, c, o)
	if err != nil {
		return err
	}
	return emitTokens(env, o.out, tf, "logged in")
}

func parseLogin(env Env, args []string) (loginOpts, error) {
	var o loginOpts
	fs, _ := newFlags(env, "login", "login --domain URL --client-id ID [--audience A] [--scope S] [--port N] [--out FILE] [--refresh] [--timeout 5m] [--no-browser]")
	fs.StringVar(&o.domain, "domain", "", "the server's `URL`, e.g. http://localhost:1000 or https://tenant.auth0.com")
	fs.StringVar(&o.clientID, "client-id", "", "the application's client `id` (a native client with http://127.0.0.1/callback among its callbacks)")
	fs.StringVar(&o.audience, "audience", "", "the `API` identifier the access token is for")
	fs.StringVar(&o.scope, "scope", "openid profile email offline_access", "the `scopes` to ask for, space separated (offline_access: a refresh token)")
	fs.IntVar(&o.port, "port", 0, "loopback `port` of the redirect URI http://127.0.0.1:PORT/callback (default: a free port)")
	fs.StringVar(&o.out, "out", "", "write the tokens to `file` (mode 0600) instead of printing them")
	fs.BoolVar(&o.refresh, "refresh", false, "rotate the refresh token stored in --out and write the new tokens back")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this `duration`")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "print the login URL without opening a browser")
	if err := parse(fs, args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case o.refresh && o.out == "":
		return o, usageError{"--refresh needs --out FILE, the file a previous 'latch login --out FILE' wrote"}
	case !o.refresh && o.domain == "":
		return o, usageError{"missing --domain URL"}
	case !o.refresh && o.clientID == "":
		return o, usageError{"missing --client-id ID"}
	case o.port < 0 || o.port > 65535:
		return o, usageError{fmt.Sprintf("--port %d: want 0 to 65535", o.port)}
	case o.timeout <= 0:
		return o, usageError{"--timeout must be positive"}
	}
	if o.domain != "" && !strings.HasPrefix(o.domain, "http://") && !strings.HasPrefix(o.domain, "https://") && strings.Contains(o.domain, "://") {
		return o, usageError{fmt.Sprintf("--domain %q: want an http:// or https:// URL", o.domain)}
	}
	return o, nil
}

// browserLogin runs the browser step and the code exchange.
func browserLogin(ctx context.Context, env Env, c *auth0api.Client, o loginOpts) (*tokenFile, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", o.port))
	if err != nil {
		return nil, fmt.Errorf("cannot listen on 127.0.0.1:%d for the browser's answer: %v (choose another --port)", o.port, err)
	}
	redirect := fmt.Sprintf("http://%s/callback", ln.Addr())
	nonce := auth0api.NewNonce()
	res, err := c.Authorize(ctx, auth0api.AuthorizeRequest{
		Audience: o.audience, Scope: strings.Fields(o.scope), RedirectURI: redirect, Nonce: nonce,
	}, auth0api.AuthorizeOptions{Listener: ln, OpenBrowser: opener(env, redirect, o.noBrowser)})
	if err != nil {
		return nil, loginError(err, o.timeout)
	}
	tok, err := c.ExchangeForToken(ctx, auth0api.ExchangeRequest{
		Code: res.Code, RedirectURI: res.RedirectURI, CodeVerifier: res.CodeVerifier, Audience: o.audience,
	})
	if err != nil {
		return nil, fmt.Errorf("token exchange failed: %s", describe(err, o.timeout))
	}
	if tok.IDToken != "" {
		if _, err := c.VerifyIDToken(ctx, tok.IDToken, nonce); err != nil {
			return nil, fmt.Errorf("the server's ID token is not valid: %s", describe(err, o.timeout))
		}
	}
	return &tokenFile{Domain: o.domain, ClientID: o.clientID, Audience: o.audience, OAuthToken: *tok,
		ExpiresAt: expiry(tok)}, nil
}

// opener shows the URL on stderr (stdout is kept for the tokens) and opens
// the system browser unless told not to. Failing to open one is not fatal:
// the user can copy the URL.
func opener(env Env, redirect string, noBrowser bool) func(string) error {
	return func(u string) error {
		fmt.Fprintf(env.Stderr, "Log in at:\n\n  %s\n\nWaiting for the browser to come back to %s (Ctrl-C to cancel)...\n", u, redirect)
		if noBrowser {
			return nil
		}
		if err := auth0api.OpenSystemBrowser(u); err != nil {
			fmt.Fprintf(env.Stderr, "Could not open a browser (%v); open the URL above yourself.\n", err)
		}
		return nil
	}
}

// loginError turns a failed browser step into one clear line.
func loginError(err error, timeout time.Duration) error {
	var e *auth0api.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timed out after %s waiting for the browser login (use --timeout to wait longer)", timeout)
	case errors.Is(err, context.Canceled):
		return errors.New("login cancelled")
	case errors.Is(err, auth0api.ErrStateMismatch):
		return errors.New("the answer that reached the callback does not belong to this login (state mismatch); run 'latch login' again")
	case errors.As(err, &e) && e.Code == "access_denied":
		return fmt.Errorf("login denied: %s", orCode(e))
	default:
		return fmt.Errorf("login failed: %s", describe(err, timeout))
	}
}

// describe is an error without the package prefix, timeouts and
// cancellation in plain words.
func describe(err error, timeout time.Duration) string {
	var e *auth0api.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s (use --timeout to wait longer)", timeout)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &e):
		s := orCode(e)
		if e.Code != "" && e.Description != "" {
			s = e.Code + ": " + e.Description
		}
		if e.StatusCode != 0 {
			s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
		}
		return s
	}
	return strings.TrimPrefix(err.Error(), "auth0api: ")
}

func orCode(e *auth0api.Error) string {
	if e.Description != "" {
		return e.Description
	}
	return e.Code
}

// expiry is when the access token expires, from expires_in.
func expiry(tok *auth0api.OAuthToken) time.Time {
	return time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second).UTC().Truncate(time.Second)
}

// refreshLogin rotates the refresh token stored in o.out and writes the
// new tokens back. --domain and --client-id override the file's.
func refreshLogin(ctx context.Context, env Env, o loginOpts) error {
	tf, err := readTokenFile(o.out)
	if err != nil {
		return err
	}
	if o.domain != "" {
		tf.Domain = o.domain
	}
	if o.clientID != "" {
		tf.ClientID = o.clientID
	}
	switch {
	case tf.Domain == "" || tf.ClientID == "":
		return fmt.Errorf("%s names no domain or client_id; pass --domain and --client-id", o.out)
	case tf.RefreshToken == "":
		return fmt.Errorf("%s holds no refresh token; log in again with the offline_access scope", o.out)
	}
	c := &auth0api.Client{Domain: tf.Domain, ClientID: tf.ClientID}
	tok, err := c.ExchangeForToken(ctx, auth0api.ExchangeRequest{RefreshToken: tf.RefreshToken})
	if err != nil {
		return fmt.Errorf("refresh failed: %s; run 'latch login' again", describe(err, o.timeout))
	}
	if tok.IDToken != "" {
		if _, err := c.VerifyIDToken(ctx, tok.IDToken, ""); err != nil {
			return fmt.Errorf("the server's ID token is not valid: %s", describe(err, o.timeout))
		}
	}
	if tok.RefreshToken == "" { // a server without rotation: the old one stays valid
		tok.RefreshToken = tf.RefreshToken
	}
	tf.OAuthToken, tf.ExpiresAt = *tok, expiry(tok)
	return emitTokens(env, o.out, tf, "tokens refreshed")
}

func readTokenFile(path string) (*tokenFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	if len(b) > maxTokenFile {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a token file", path, maxTokenFile)
	}
	var tf tokenFile
	if err := json.Unmarshal(b, &tf); err != nil {
		return nil, fmt.Errorf("%s is not a token file written by 'latch login': %v", path, err)
	}
	return &tf, nil
}

// emitTokens prints the tokens as JSON, or writes them to path (mode 0600,
// replaced atomically) and says so.
func emitTokens(env Env, path string, tf *tokenFile, done string) error {
	b, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err := env.Stdout.Write(b)
		return err
	}
	if err := writePrivate(path, b); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	fmt.Fprintf(env.Stdout, "%s: tokens written to %s (access token expires at %s)\n", done, path, tf.ExpiresAt.Format(time.RFC3339))
	return nil
}

// writePrivate replaces path with b, readable by the owner only: a
// temporary file (created 0600) renamed over it, so a crash never leaves a
// half-written token file.
func writePrivate(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".latch-tokens-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
