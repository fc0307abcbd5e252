package cli_test

// `latch login` against a live latch (server.New on httptest, a real SQLite
// file). The browser is a test HTTP client that reads the URL latch login
// prints, fills the hosted login form and follows the redirect to the
// loopback listener.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/cli"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/users"
)

const (
	loginEmail    = "cli@example.com"
	loginPassword = "correct horse battery"
)

// startLoginLatch runs latch with a native client "cli" whose callback is
// the loopback http://127.0.0.1/callback, and one user; it returns the URL.
func startLoginLatch(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	km := keys.NewManager(st, []byte("0123456789abcdef0123456789abcdef"), keys.Options{})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)
	var cfg *config.Config
	srv := httptest.NewUnstartedServer(server.New(server.Deps{
		Config: func() *config.Config { return cfg }, Store: st, Keys: km, Passwords: hasher,
	}))
	base := "http://" + srv.Listener.Addr().String()
	cfg = &config.Config{
		Issuer: base + "/",
		APIs:   []config.API{{Identifier: "https://api.test/", AllowOfflineAccess: true}},
		Clients: []config.Client{{ClientID: "cli", Type: config.TypeNative,
			Callbacks: []string{"http://127.0.0.1/callback"}}},
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Close(); _ = st.Close() })
	if _, err := users.Create(ctx, st, hasher, users.NewUser{Connection: config.DefaultConnection,
		Email: loginEmail, Password: loginPassword}, 8, time.Now()); err != nil {
		t.Fatal(err)
	}
	return base
}

var (
	loginFormRE = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	loginHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// userLogsIn is the person at the browser: open the URL, fill the form.
func userLogsIn(t *testing.T, authURL string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := loginFormRE.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no login form at %s: %d %s", res.Request.URL, res.StatusCode, page)
	}
	form := url.Values{"username": {loginEmail}, "password": {loginPassword}}
	for _, h := range loginHidden.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	action, _ := url.Parse(html.UnescapeString(m[1]))
	res, err = c.PostForm(res.Request.URL.ResolveReference(action).String(), form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "You are logged in") {
		t.Fatalf("after the login form: %d %s", res.StatusCode, body)
	}
}

// runLogin runs `latch login args...`; when browse is set, it plays the
// user at the browser with the URL latch prints.
func runLogin(t *testing.T, ctx context.Context, browse bool, args ...string) (string, string, int) {
	t.Helper()
	pr, pw := io.Pipe()
	var out bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"latch", "login"}, args...), cli.Env{
			Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: pw,
		})
		pw.Close()
	}()
	var errOut strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		errOut.WriteString(line + "\n")
		if u := strings.TrimSpace(line); browse && strings.HasPrefix(u, "http") && strings.Contains(u, "/authorize?") {
			userLogsIn(t, u)
		}
	}
	code := <-done
	return out.String(), errOut.String(), code
}

func TestLoginCommand(t *testing.T) {
	base := startLoginLatch(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "tokens.json")
	out, errOut, code := runLogin(t, ctx, true, "--domain", base, "--client-id", "cli",
		"--audience", "https://api.test/", "--out", file, "--no-browser")
	if code != 0 || !strings.Contains(out, "logged in: tokens written to "+file) {
		t.Fatalf("login: %d\n%s\n%s", code, out, errOut)
	}
	first := readTokens(t, file)
	if first["domain"] != base || first["client_id"] != "cli" || first["refresh_token"] == "" ||
		first["id_token"] == "" || first["token_type"] != "Bearer" || first["expires_at"] == "" {
		t.Fatalf("token file %v", first)
	}

	out, errOut, code = runLogin(t, ctx, false, "--refresh", "--out", file)
	if code != 0 || !strings.Contains(out, "tokens refreshed") {
		t.Fatalf("refresh: %d\n%s\n%s", code, out, errOut)
	}
	second := readTokens(t, file)
	if second["refresh_token"] == first["refresh_token"] || second["refresh_token"] == "" || second["domain"] != base {
		t.Fatalf("refresh did not rotate: %v", second)
	}

	// The rotated-out token is refused: a clear message, exit 1.
	if err := os.WriteFile(file, mustJSON(t, first), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runLogin(t, ctx, false, "--refresh", "--out", file)
	if code != 1 || !strings.Contains(errOut, "refresh failed: invalid_grant") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("reused refresh token: %d %q", code, errOut)
	}

	t.Run("print to stdout", func(t *testing.T) {
		out, errOut, code := runLogin(t, ctx, true, "--domain", base, "--client-id", "cli", "--scope", "openid", "--no-browser")
		var tf map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &tf) != nil || tf["access_token"] == "" || tf["refresh_token"] != nil {
			t.Fatalf("login: %d\n%s\n%s", code, out, errOut)
		}
	})
}

func readTokens(t *testing.T, path string) map[string]any {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoginCommandErrors(t *testing.T) {
	base := startLoginLatch(t)
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(notJSON, []byte("hello"), 0o600)
	noRefresh := filepath.Join(dir, "nort.json")
	_ = os.WriteFile(noRefresh, []byte(`{"domain":"`+base+`","client_id":"cli","access_token":"a"}`), 0o600)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		args []string
		code int
		want string
	}{
		{"no domain", nil, []string{"--client-id", "cli"}, 2, "missing --domain"},
		{"no client", nil, []string{"--domain", base}, 2, "missing --client-id"},
		{"bad port", nil, []string{"--domain", base, "--client-id", "cli", "--port", "-1"}, 2, "--port"},
		{"bad timeout", nil, []string{"--domain", base, "--client-id", "cli", "--timeout", "0s"}, 2, "--timeout"},
		{"bad scheme", nil, []string{"--domain", "ftp://x", "--client-id", "cli"}, 2, "--domain"},
		{"extra argument", nil, []string{"--domain", base, "--client-id", "cli", "now"}, 2, "unexpected argument"},
		{"refresh without file", nil, []string{"--refresh"}, 2, "--refresh needs --out"},
		{"refresh, missing file", nil, []string{"--refresh", "--out", filepath.Join(dir, "none")}, 1, "read tokens"},
		{"refresh, not a token file", nil, []string{"--refresh", "--out", notJSON}, 1, "not a token file"},
		{"refresh, no refresh token", nil, []string{"--refresh", "--out", noRefresh}, 1, "no refresh token"},
		{"cancelled", cancelled, []string{"--domain", base, "--client-id", "cli", "--no-browser"}, 1, "login cancelled"},
		{"timeout", nil, []string{"--domain", base, "--client-id", "cli", "--no-browser", "--timeout", "1ms"}, 1,
			"timed out after 1ms waiting for the browser login"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, errOut, code := runLogin(t, ctx, false, tc.args...)
			last := strings.TrimSpace(errOut)
			if i := strings.LastIndexByte(last, '\n'); i >= 0 {
				last = last[i+1:]
			}
			if code != tc.code || !strings.Contains(last, tc.want) {
				t.Fatalf("exit %d, last line %q; want %d and %q\n%s", code, last, tc.code, tc.want, errOut)
			}
		})
	}
}
