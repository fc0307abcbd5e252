package auth0api

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxBody bounds every response body the client reads, so a broken or
// hostile server cannot make it allocate without limit.
const maxBody = 1 << 20

// defaultHTTPClient is used when Client.HTTPClient is nil. Its timeout is a
// backstop; callers bound calls with their context.
var defaultHTTPClient = &http.Client{Timeout: 60 * time.Second}

// Client calls one Auth0 tenant or latch server on behalf of one
// application. The zero value is not usable: Domain and ClientID are
// required. A Client is safe for concurrent use; it caches the tenant's
// signing keys, so it must not be copied after first use.
type Client struct {
	// Domain is the server's base URL, e.g. "http://127.0.0.1:1000" or
	// "https://tenant.auth0.com". A bare host name gets "https://", as
	// Auth0's SDKs do; a trailing slash is ignored. The expected ID token
	// issuer is Domain + "/".
	Domain string
	// ClientID is the application's client_id.
	ClientID string
	// ClientSecret, when set, is sent as client_secret in token requests
	// (client_secret_post). Public clients (native, SPA) leave it empty and
	// rely on PKCE.
	ClientSecret string
	// HTTPClient sends every request; nil means a client with a 60 s
	// timeout. Its redirect policy is not used by Logout, which never
	// follows redirects.
	HTTPClient *http.Client

	jwks jwksCache
}

// base returns the Domain as a URL without trailing slash.
func (c *Client) base() string {
	d := strings.TrimSpace(c.Domain)
	if !strings.HasPrefix(d, "http://") && !strings.HasPrefix(d, "https://") {
		d = "https://" + d
	}
	return strings.TrimRight(d, "/")
}

// Issuer is the "iss" ID tokens of this tenant carry: Domain with one
// trailing slash, as Auth0 writes it.
func (c *Client) Issuer() string { return c.base() + "/" }

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient
}

// check reports a Client that cannot make requests.
func (c *Client) check(op string) error {
	if strings.TrimSpace(c.Domain) == "" {
		return fmt.Errorf("auth0api: %s: Client.Domain is empty", op)
	}
	if _, err := url.Parse(c.base()); err != nil {
		return fmt.Errorf("auth0api: %s: Client.Domain: %w", op, err)
	}
	return nil
}

// response is a read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends req with ctx and reads at most maxBody bytes of the answer.
func (c *Client) do(ctx context.Context, hc *http.Client, req *http.Request, op string) (*response, error) {
	req = req.WithContext(ctx)
	req.Header.Set("User-Agent", "latch-auth0api-go")
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth0api: %s: %w", op, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("auth0api: %s: read answer: %w", op, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("auth0api: %s: answer larger than %d bytes", op, maxBody)
	}
	return &response{status: res.StatusCode, header: res.Header, body: body}, nil
}

// get sends a GET to path (relative to Domain) with optional headers.
func (c *Client) get(ctx context.Context, path string, header http.Header, op string) (*response, error) {
	req, err := http.NewRequest(http.MethodGet, c.base()+path, nil)
	if err != nil {
		return nil, fmt.Errorf("auth0api: %s: %w", op, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.do(ctx, c.httpClient(), req, op)
}

// postForm sends an application/x-www-form-urlencoded POST to path.
func (c *Client) postForm(ctx context.Context, path string, form url.Values, op string) (*response, error) {
	req, err := http.NewRequest(http.MethodPost, c.base()+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("auth0api: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return c.do(ctx, c.httpClient(), req, op)
}

// jwksCache holds the tenant's signing keys by kid.
type jwksCache struct {
	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey // by kid
	anon      []*rsa.PublicKey          // keys published without kid
	fetchedAt time.Time
}
