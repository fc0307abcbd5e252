package oauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/oauth"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/tokens"
	"github.com/latch-auth/latch/internal/users"
)

const (
	issuer      = "http://latch.test/"
	apiID       = "https://api.test/"
	noOffline   = "https://nooffline.test/"
	callback    = "http://app.test/callback"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	challenge   = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	webSecret   = "web secret+/=&:" // characters that Basic auth must form-encode
	workerSec   = "worker-secret"
	fullScope   = "openid profile email offline_access"
	testSID     = "sid-1"
	testNonce   = "nonce-1"
	userPasswd  = "correct horse battery"
	masterKey   = "0123456789abcdef0123456789abcdef"
	maxBodySize = 64 << 10
)

// clock is a settable test clock shared by the store calls, the keys and
// the handlers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a latch instance: a real SQLite file, real keys and a real HTTP
// server on 127.0.0.1 serving the oauth handlers as routes.go mounts them.
type env struct {
	t      *testing.T
	cfg    *config.Config
	st     store.Store
	keys   *keys.Manager
	clock  *clock
	hasher *password.Hasher
	srv    *httptest.Server
	user   *store.User
}

func testConfig(strict bool) *config.Config {
	signupOff := false
	return &config.Config{
		Issuer:            issuer,
		OIDCStrict:        strict,
		AllowedLogoutURLs: []string{"http://app.test/tenant-bye"},
		Connections: []config.Connection{
			{Name: config.DefaultConnection, Type: "database", PasswordMinLength: 8},
			{Name: "closed", Type: "database", Signup: &signupOff},
		},
		APIs: []config.API{
			{Identifier: apiID, Scopes: []string{"read:items", "write:items"}, AllowOfflineAccess: true},
			{Identifier: noOffline, Scopes: []string{"read:x"}},
		},
		Clients: []config.Client{
			{
				ClientID: "spa", Type: config.TypeSPA,
				Callbacks:         []string{callback, "http://app.test/other"},
				AllowedLogoutURLs: []string{"http://app.test/bye", "https://*.app.test/bye"},
				WebOrigins:        []string{"http://app.test", "https://*.example.test"},
				Connections:       []string{config.DefaultConnection, "closed"},
			},
			{ClientID: "spa2", Type: config.TypeSPA, Callbacks: []string{"http://two.test/cb"}, Connections: []string{config.DefaultConnection}},
			{ClientID: "spa-noref", Type: config.TypeSPA, GrantTypes: []string{config.GrantAuthorizationCode}, Callbacks: []string{callback}},
			{ClientID: "web", Type: config.TypeRegularWeb, ClientSecret: webSecret, Callbacks: []string{"https://web.test/cb"}},
			{ClientID: "worker", Type: config.TypeM2M, ClientSecret: workerSec, APIs: []string{apiID}},
		},
	}
}

func newEnv(t *testing.T, strict bool) *env {
	t.Helper()
	return newEnvWith(t, testConfig(strict))
}

func newEnvWith(t *testing.T, cfg *config.Config) *env {
	t.Helper()
	ctx := context.Background()
	if err := cfg.Finalize(); err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	km := keys.NewManager(st, []byte(masterKey), keys.Options{Now: clk.Now})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cfg: cfg, st: st, keys: km, clock: clk,
		hasher: password.New(password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)}
	getCfg := func() *config.Config { return cfg }
	h := &oauth.Handler{
		Config: getCfg, Store: st, Passwords: e.hasher, Now: clk.Now,
		Tokens: tokens.NewIssuer(getCfg, km, st, clk.Now),
	}
	cors := &oauth.CORS{Config: getCfg}
	mux := http.NewServeMux()
	discovery := &oauth.DiscoveryHandler{Config: getCfg}
	mux.Handle("GET /.well-known/openid-configuration", cors.Wrap("GET", discovery))
	mux.Handle("POST /oauth/token", cors.Wrap("POST", http.HandlerFunc(h.Token)))
	mux.Handle("POST /oauth/revoke", cors.Wrap("POST", http.HandlerFunc(h.Revoke)))
	mux.Handle("GET /userinfo", cors.Wrap("GET, POST", http.HandlerFunc(h.Userinfo)))
	mux.Handle("POST /userinfo", cors.Wrap("GET, POST", http.HandlerFunc(h.Userinfo)))
	for path, methods := range map[string]string{"/oauth/token": "POST", "/oauth/revoke": "POST", "/userinfo": "GET, POST", "/.well-known/openid-configuration": "GET"} {
		mux.Handle("OPTIONS "+path, cors.Preflight(methods))
	}
	mux.HandleFunc("GET /v2/logout", h.Logout)
	mux.HandleFunc("GET /oidc/logout", h.OIDCLogout)
	mux.HandleFunc("POST /oidc/logout", h.OIDCLogout)
	mux.HandleFunc("POST /dbconnections/signup", h.Signup)
	// The server middleware caps bodies; do the same here.
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodySize)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		e.srv.Close()
		_ = st.Close()
	})
	e.user = e.createUser("ann@example.com")
	return e
}

func (e *env) createUser(email string) *store.User {
	e.t.Helper()
	u, err := users.Create(context.Background(), e.st, e.hasher, users.NewUser{
		Connection: config.DefaultConnection, Email: email, Password: userPasswd,
		Name: "Ann Example", GivenName: "Ann", FamilyName: "Example", Username: strings.Split(email, "@")[0],
		UserMetadata: json.RawMessage(`{"vanityname":"ann"}`),
	}, 8, e.clock.Now().Add(-time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.RecordLogin(context.Background(), u.ID, "203.0.113.7", e.clock.Now().Add(-time.Minute)); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// seedCode stores an authorization code as /authorize would and returns
// its value. mod adjusts the defaults (the spa client, PKCE, full scope).
func (e *env) seedCode(mod func(*store.AuthCode)) string {
	e.t.Helper()
	now := e.clock.Now()
	value := session.NewToken()
	c := &store.AuthCode{
		Hash: store.HashToken(value), ClientID: "spa", RedirectURI: callback,
		CodeChallenge: challenge, CodeChallengeMethod: "S256",
		UserID: e.user.ID, SessionID: testSID, Scope: fullScope, Nonce: testNonce,
		AuthTime: now.Add(-time.Minute), CreatedAt: now, ExpiresAt: now.Add(60 * time.Second),
	}
	if mod != nil {
		mod(c)
	}
	if err := e.st.CreateAuthCode(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return value
}

// codeForm is the token request for a code seeded with the defaults.
func codeForm(code string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier},
	}
}

// response is an HTTP answer with its body decoded when it is JSON.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r *response) str(key string) string { s, _ := r.json[key].(string); return s }

func (e *env) do(req *http.Request) *response {
	e.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &response{status: res.StatusCode, header: res.Header, body: body}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &r.json); err != nil {
			e.t.Fatalf("bad JSON %q: %v", body, err)
		}
	}
	return r
}

func (e *env) request(method, path, contentType, body string, hdr map[string]string) *response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return e.do(req)
}

func (e *env) postForm(path string, form url.Values, hdr map[string]string) *response {
	e.t.Helper()
	return e.request(http.MethodPost, path, "application/x-www-form-urlencoded", form.Encode(), hdr)
}

func (e *env) postJSON(path string, v any, hdr map[string]string) *response {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.request(http.MethodPost, path, "application/json", string(b), hdr)
}

func (e *env) get(path string, hdr map[string]string) *response {
	e.t.Helper()
	return e.request(http.MethodGet, path, "", "", hdr)
}

// claims verifies a JWT with latch's keys and returns its claims.
func (e *env) claims(tok string) map[string]any {
	e.t.Helper()
	var c map[string]any
	if err := e.keys.Verify(tok, &c); err != nil {
		e.t.Fatalf("verify %q: %v", tok, err)
	}
	return c
}

// wantError asserts an OAuth JSON error answer.
func wantError(t *testing.T, r *response, status int, code, desc string) {
	t.Helper()
	if r.status != status || r.str("error") != code || (desc != "" && r.str("error_description") != desc) {
		t.Fatalf("got %d %s, want %d error=%q error_description=%q", r.status, r.body, status, code, desc)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

// basic builds an Authorization: Basic header as RFC 6749 §2.3.1 says.
func basic(id, secret string) map[string]string {
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return map[string]string{"Authorization": req.Header.Get("Authorization")}
}

// raceTokenRequests sends n copies of form to /oauth/token at the same moment
// and returns their statuses.
func raceTokenRequests(t *testing.T, e *env, form url.Values, n int) []int {
	t.Helper()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	return statuses
}
