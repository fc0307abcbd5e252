package cluster

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store/postgres/pgtest"
)

// The test tenant.
const (
	clientID = "spa"
	callback = "http://app.test/callback"
	api      = "https://api.cluster.test/"
	email    = "ann@example.com"
	userPass = "correct horse battery staple"
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
)

// startTimeout bounds how long a process may take to answer /readyz, and
// keyTimeout how long a rotation may take to reach every instance (the
// config re-reads keys every second). Both are generous upper bounds for a
// loaded CI machine, not timing assertions.
const (
	startTimeout = 60 * time.Second
	keyTimeout   = 60 * time.Second
)

// apiClient sends the cookie-less API requests; its timeout only keeps a
// hung instance from stalling the run.
var apiClient = &http.Client{Timeout: 60 * time.Second}

var (
	buildOnce sync.Once
	binDir    string
	latchBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/latch once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "latch-cluster-"); buildErr != nil {
			return
		}
		latchBin = filepath.Join(binDir, "latch")
		out, err := exec.Command("go", "build", "-o", latchBin, "github.com/latch-auth/latch/cmd/latch").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return latchBin
}

// instance is one running `latch serve`.
type instance struct {
	name   string
	base   string // http://127.0.0.1:port
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
}

// cluster is two instances over one database and one config file.
type cluster struct {
	t      *testing.T
	bin    string
	config string
	env    []string // LATCH_SECRET
	issuer string
	a, b   *instance
	userID string
}

// newCluster writes the config, starts A and B at the same moment on a
// fresh schema (both run the migrations and may race to create the first
// signing key), and creates the test user with `latch users create`.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	dsn := pgtest.Schema(t) // skips or fails first when PostgreSQL is absent
	c := &cluster{t: t, bin: binary(t)}
	addrA, addrB := freeAddr(t), freeAddr(t)
	c.issuer = "http://" + addrA + "/"
	c.env = []string{"LATCH_SECRET=" + randomHex(32)}
	c.config = filepath.Join(t.TempDir(), "latch.yaml")
	cfg := fmt.Sprintf(`issuer: %s
database: %s
keys: { refresh_interval: 1s }
lifetimes: { refresh_reuse_leeway: 0s }
rate_limits: { login_per_minute: 100000, token_per_minute: 100000,
               token_per_client_per_minute: 100000, requests_per_minute: 100000 }
apis:
  - { identifier: %s, name: Cluster API, scopes: [read:items], allow_offline_access: true }
clients:
  - { client_id: %s, name: Cluster SPA, type: spa, callbacks: [%s] }
`, strconv.Quote(c.issuer), strconv.Quote(dsn), api, clientID, callback)
	if err := os.WriteFile(c.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.a = c.start("A", addrA) })
	wg.Go(func() { c.b = c.start("B", addrB) })
	wg.Wait()
	for _, in := range []*instance{c.a, c.b} {
		c.waitReady(in)
	}
	out := c.latch(userPass+"\n", "users", "create", "--config", c.config, "--email", email, "--password-stdin")
	c.userID = strings.TrimSpace(out)
	if !strings.HasPrefix(c.userID, "auth0|") {
		t.Fatalf("latch users create printed %q, want a user id", out)
	}
	return c
}

// start launches `latch serve` listening on addr.
func (c *cluster) start(name, addr string) *instance {
	cmd := exec.Command(c.bin, "serve", "--config", c.config)
	cmd.Env = append(append(os.Environ(), c.env...), "LATCH_LISTEN="+addr)
	in := &instance{name: name, base: "http://" + addr, cmd: cmd, stderr: new(syncBuffer),
		done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, in.stderr
	if err := cmd.Start(); err != nil {
		c.t.Errorf("start %s: %v", name, err)
		close(in.done)
		return in
	}
	go func() { _ = cmd.Wait(); close(in.done) }()
	c.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-in.done
		}
		if c.t.Failed() {
			c.t.Logf("instance %s stderr (tail):\n%s", name, tail(in.stderr.String(), 40))
		}
	})
	return in
}

// waitReady polls /readyz until it answers 200 or the process exits.
func (c *cluster) waitReady(in *instance) {
	c.t.Helper()
	if c.t.Failed() {
		c.t.FailNow()
	}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(in.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-in.done:
			c.t.Fatalf("instance %s exited:\n%s", in.name, in.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.t.Fatalf("instance %s not ready at %s after %v:\n%s", in.name, in.base, startTimeout, in.stderr)
}

// latch runs a CLI command to completion with the cluster's secret and
// returns its stdout; a non-zero exit fails the test.
func (c *cluster) latch(stdin string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("latch %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// browser is a user agent with one cookie jar for both instances: cookies
// ignore the port, so the host-only SSO cookie of 127.0.0.1 reaches A and
// B alike, as it would reach any instance behind one load balancer.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// resp is an answer with its body read.
type resp struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) *resp {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (b *browser) get(u string) *resp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *resp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// authorizeURL is the SPA's /authorize request on an instance.
func authorizeURL(in *instance, state string) string {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"scope": {"openid profile email offline_access"}, "audience": {api}, "state": {state},
		"nonce": {"n-" + state}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return in.base + "/authorize?" + q.Encode()
}

// callbackCode checks that r redirects to the callback with state and
// returns the code.
func callbackCode(t *testing.T, r *resp, state string) string {
	t.Helper()
	loc := r.header.Get("Location")
	if r.status != http.StatusFound || !strings.HasPrefix(loc, callback+"?") {
		t.Fatalf("status %d, Location %q; want 302 to %s\n%s", r.status, loc, callback, r.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback %q: want state %q and a code", loc, state)
	}
	return q.Get("code")
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hidden returns the hidden fields of a page's form.
func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// tokenResult is an /oauth/token answer.
type tokenResult struct {
	status       int
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// token posts a token request to an instance with a client that has no
// cookies. It is safe to call from several goroutines.
func token(t *testing.T, in *instance, form url.Values) tokenResult {
	res, err := apiClient.PostForm(in.base+"/oauth/token", form)
	if err != nil {
		t.Errorf("POST %s/oauth/token: %v", in.name, err)
		return tokenResult{}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := tokenResult{status: res.StatusCode}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Errorf("POST %s/oauth/token: %d, not JSON: %s", in.name, res.StatusCode, body)
	}
	return r
}

func codeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
		"code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
