// Package authorizetest runs a whole latch (server.New) on 127.0.0.1 over
// a real SQLite file, with a tenant made for browser-flow tests, and drives
// it like a browser: a cookie jar, no automatic redirects, and helpers that
// read the hosted pages' hidden fields. Tests of /authorize and the hosted
// pages share it; nothing in it is a mock.
package authorizetest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/users"
)

// Fixed values of the test tenant.
const (
	Issuer     = "http://latch.test/"
	Callback   = "http://app.test/callback"
	AppOrigin  = "http://app.test"
	API        = "https://api.test/"
	ConsentAPI = "https://consent.test/"                       // skip_consent: false
	Verifier   = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	Challenge  = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	Email      = "ann@example.com"
	Username   = "ann"
	Password   = "correct horse battery"
	ClosedConn = "closed"   // signup: false
	OffConn    = "disabled" // disabled: true
	masterKey  = "0123456789abcdef0123456789abcdef"
)

// Config is the test tenant: clients for every redirect-URI rule, a
// third-party client, APIs with and without consent, and connections that
// are open, closed to sign-up and disabled.
func Config() *config.Config {
	no, yes := false, true
	return &config.Config{
		Issuer: Issuer,
		Tenant: config.Tenant{Name: "Acme", PrimaryColor: "#0055aa"},
		Connections: []config.Connection{
			{Name: config.DefaultConnection, Type: "database", PasswordMinLength: 10},
			{Name: ClosedConn, Type: "database", Signup: &no},
			{Name: OffConn, Type: "database", Disabled: true},
		},
		APIs: []config.API{
			{Identifier: API, Name: "Items API", Scopes: []string{"read:items", "write:items"}, AllowOfflineAccess: true},
			{Identifier: ConsentAPI, Name: "Careful API", Scopes: []string{"read:x"}, SkipConsent: &no},
		},
		Clients: []config.Client{
			{ClientID: "spa", Name: "My SPA", Type: config.TypeSPA,
				Callbacks:   []string{Callback, "http://app.test/other", "http://localhost:3000"},
				WebOrigins:  []string{AppOrigin, "http://localhost:3000"},
				Connections: []string{config.DefaultConnection, ClosedConn, OffConn}},
			{ClientID: "single", Type: config.TypeSPA, Callbacks: []string{"http://single.test/cb"}},
			{ClientID: "nocallback", Type: config.TypeSPA},
			{ClientID: "web", Type: config.TypeRegularWeb, ClientSecret: "s3cret",
				Callbacks:  []string{"https://*.wild.test/cb", "https://web.test/cb?x=1"},
				GrantTypes: []string{config.GrantAuthorizationCode, config.GrantImplicit}},
			{ClientID: "native", Type: config.TypeNative,
				Callbacks: []string{"http://127.0.0.1/cb", "http://[::1]/cb", "com.example.app:/oauth"}},
			{ClientID: "third", Name: "Third Party", Type: config.TypeSPA, FirstParty: &no,
				Callbacks: []string{"http://third.test/cb"}, Connections: []string{config.DefaultConnection}},
			{ClientID: "firstparty", Type: config.TypeSPA, FirstParty: &yes,
				Callbacks: []string{"http://first.test/cb"}},
			{ClientID: "refreshonly", Type: config.TypeSPA, GrantTypes: []string{config.GrantRefreshToken},
				Callbacks: []string{"http://ro.test/cb"}},
			{ClientID: "worker", Type: config.TypeM2M, ClientSecret: "w", APIs: []string{API}},
		},
	}
}

// Clock is a settable clock shared by the server and the store calls.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock forward.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Env is one running latch.
type Env struct {
	T      *testing.T
	Cfg    *config.Config
	Store  store.Store
	Clock  *Clock
	Hasher *password.Hasher
	Server *httptest.Server
	User   *store.User
}

// New starts latch with Config() (changed by mod, when given) and one
// user, Email / Username with Password.
func New(t *testing.T, mod func(*config.Config)) *Env {
	t.Helper()
	ctx := context.Background()
	cfg := Config()
	if mod != nil {
		mod(cfg)
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	// The clock starts at the real time: the cookie jar, like a browser,
	// drops cookies whose Expires (set from this clock) is in its past.
	clk := &Clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	km := keys.NewManager(st, []byte(masterKey), keys.Options{Now: clk.Now})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Cfg: cfg, Store: st, Clock: clk,
		Hasher: password.New(password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)}
	h := server.New(server.Deps{
		Config: func() *config.Config { return cfg }, Store: st, Keys: km,
		Passwords: e.Hasher, Now: clk.Now,
	})
	e.Server = httptest.NewServer(h)
	t.Cleanup(func() {
		e.Server.Close()
		_ = st.Close()
	})
	e.User = e.CreateUser(Email, Username, Password)
	return e
}

// CreateUser adds a user to the default connection.
func (e *Env) CreateUser(email, username, pw string) *store.User {
	e.T.Helper()
	u, err := users.Create(context.Background(), e.Store, e.Hasher, users.NewUser{
		Connection: config.DefaultConnection, Email: email, Username: username, Password: pw,
	}, 8, e.Clock.Now())
	if err != nil {
		e.T.Fatal(err)
	}
	return u
}

// Browser is an HTTP client with its own cookie jar that does not follow
// redirects, so every hop can be inspected.
type Browser struct {
	e *Env
	C *http.Client
}

// Browser returns a new browser (no cookies).
func (e *Env) Browser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{e: e, C: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Resp is an answer with its body read.
type Resp struct {
	Status int
	Header http.Header
	Body   string
}

// Location is the Location header.
func (r *Resp) Location() string { return r.Header.Get("Location") }

// Do sends req and reads the answer.
func (b *Browser) Do(req *http.Request) *Resp {
	b.e.T.Helper()
	res, err := b.C.Do(req)
	if err != nil {
		b.e.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &Resp{Status: res.StatusCode, Header: res.Header, Body: string(body)}
}

// Get fetches a path (or absolute URL) of the server.
func (b *Browser) Get(path string) *Resp {
	b.e.T.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.abs(path), nil)
	if err != nil {
		b.e.T.Fatal(err)
	}
	return b.Do(req)
}

// Post sends a form to a path of the server.
func (b *Browser) Post(path string, form url.Values) *Resp {
	b.e.T.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.e.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

func (e *Env) abs(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return e.Server.URL + path
}

// AuthorizeParams are the spa client's parameters as spa-js sends them.
func AuthorizeParams() url.Values {
	return url.Values{
		"client_id": {"spa"}, "redirect_uri": {Callback}, "response_type": {"code"},
		"scope": {"openid profile email offline_access"}, "state": {"st ate/+="},
		"nonce": {"n-0S6_WzA2Mj"}, "code_challenge": {Challenge}, "code_challenge_method": {"S256"},
		"audience": {API}, "auth0Client": {"eyJuYW1lIjoidGVzdCJ9"},
	}
}

// AuthorizeURL is /authorize with AuthorizeParams changed by mod.
func AuthorizeURL(mod func(url.Values)) string {
	v := AuthorizeParams()
	if mod != nil {
		mod(v)
	}
	return "/authorize?" + v.Encode()
}

var inputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// Hidden returns the hidden form fields of a page.
func Hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// Login starts at an /authorize URL, expects the login page, and posts the
// credentials on it; it returns the answer to that POST.
func (b *Browser) Login(authorizeURL, ident, pw string) *Resp {
	b.e.T.Helper()
	r := b.Get(authorizeURL)
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location(), "/u/login?state=") {
		b.e.T.Fatalf("GET %s = %d, Location %q; want 302 to /u/login", authorizeURL, r.Status, r.Location())
	}
	page := b.Get(r.Location())
	if page.Status != http.StatusOK {
		b.e.T.Fatalf("login page = %d\n%s", page.Status, page.Body)
	}
	form := Hidden(page.Body)
	form.Set("username", ident)
	form.Set("password", pw)
	return b.Post("/u/login", form)
}

// Result parses the query (or fragment) of a redirect to the application.
func Result(t *testing.T, r *Resp, fragment bool) url.Values {
	t.Helper()
	if r.Status != http.StatusFound {
		t.Fatalf("status = %d, want 302; body:\n%s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Location())
	if err != nil {
		t.Fatal(err)
	}
	raw := u.RawQuery
	if fragment {
		raw = u.EscapedFragment()
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("Location %q: %v", r.Location(), err)
	}
	return v
}

// ChallengeOf is the S256 code challenge of a verifier.
func ChallengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Code returns the stored authorization code for a code value.
func (e *Env) Code(value string) *store.AuthCode {
	e.T.Helper()
	// ConsumeAuthCode is the only read the store offers for codes; tests
	// that inspect a code consume it, which is fine: they never reuse it.
	c, err := e.Store.ConsumeAuthCode(context.Background(), store.HashToken(value), "test-grant", e.Clock.Now())
	if err != nil {
		e.T.Fatalf("code %q: %v", value, err)
	}
	return c
}
