package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// latchBin is the real binary, built once for the process tests.
var latchBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "latch-bin-")
	if err != nil {
		panic(err)
	}
	latchBin = filepath.Join(dir, "latch")
	out, err := exec.Command("go", "build", "-o", latchBin, "github.com/latch-auth/latch/cmd/latch").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build latch: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
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

// proc is a running latch process.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
}

// startLatch runs latch with args and waits until url answers 200.
func startLatch(t *testing.T, env []string, readyURL string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(latchBin, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, stdout: new(syncBuffer), stderr: new(syncBuffer)}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("latch did not become ready at %s\nstdout:\n%s\nstderr:\n%s", readyURL, p.stdout, p.stderr)
	return nil
}

func getJSON(t *testing.T, url string, dst any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}

type jwks struct {
	Keys []struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Kty string `json:"kty"`
		Use string `json:"use"`
	} `json:"keys"`
}

// run executes latch to completion and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(latchBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestDevFromEmptyFolderSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	issuer := "http://" + addr + "/"
	p := startLatch(t, nil, issuer+".well-known/openid-configuration", "dev", "--dir", dir, "--listen", addr)

	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, issuer+".well-known/openid-configuration", &disc)
	if disc.Issuer != issuer {
		t.Fatalf("issuer = %q, want %q", disc.Issuer, issuer)
	}
	var ks jwks
	getJSON(t, disc.JWKSURI, &ks)
	if len(ks.Keys) != 1 || ks.Keys[0].Alg != "RS256" || ks.Keys[0].Kty != "RSA" || ks.Keys[0].Kid == "" {
		t.Fatalf("jwks = %+v, want one RS256 key", ks)
	}
	kid := ks.Keys[0].Kid
	for _, f := range []string{"latch.yaml", "latch-dev.db", "latch-dev.secret"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("latch dev did not write %s: %v", f, err)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "latch-dev.secret")); st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode = %v, want 0600", st.Mode().Perm())
	}
	first := p.stdout.String()
	if !strings.Contains(first, "dev@latch.local") || !strings.Contains(first, "password:") || !strings.Contains(first, "dev-spa") {
		t.Fatalf("first start output lacks the dev user, password or client:\n%s", first)
	}
	password := ""
	sc := bufio.NewScanner(strings.NewReader(first))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "password:" {
			password = f[1]
		}
	}
	if len(password) < 12 {
		t.Fatalf("dev password %q too short", password)
	}

	// kill -9, then start again: same key, same user, no new password.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = p.cmd.Process.Wait()
	p2 := startLatch(t, nil, issuer+".well-known/jwks.json", "dev", "--dir", dir, "--listen", addr)
	var ks2 jwks
	getJSON(t, issuer+".well-known/jwks.json", &ks2)
	if len(ks2.Keys) != 1 || ks2.Keys[0].Kid != kid {
		t.Fatalf("after restart jwks = %+v, want kid %s", ks2, kid)
	}
	if strings.Contains(p2.stdout.String(), password) || strings.Contains(p2.stdout.String(), "password:  ") {
		t.Fatalf("second start printed a password again:\n%s", p2.stdout)
	}
	out, errOut, code := run(t, "", nil, "users", "get", "dev@latch.local", "--config", filepath.Join(dir, "latch.yaml"))
	if code != 0 || !strings.Contains(out, `"user_id": "auth0|`) {
		t.Fatalf("users get after restart: code %d\n%s%s", code, out, errOut)
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, "listen: "+addr+"\ndatabase: sqlite:./s.db\n")
	p := startLatch(t, []string{"LATCH_SECRET=0123456789abcdef0123456789abcdef"}, "http://"+addr+"/readyz", "serve", "--config", cfg)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly on SIGTERM: %v\n%s", err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "latch stopped") {
		t.Fatalf("no shutdown log:\n%s", p.stderr)
	}
	// The readiness probes' access-log lines, written straight to the log
	// buffer (server.Deps.AccessLog), in slog's text format.
	line := regexp.MustCompile(`(?m)^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) level=INFO msg=request method=GET path=/readyz status=200 bytes=6 duration_ms=[0-9.e+-]+ request_id=[0-9a-f]{16}$`)
	if !line.MatchString(p.stderr.String()) {
		t.Fatalf("no access-log line for /readyz:\n%s", p.stderr)
	}
}

func TestServeWrongSecretIsAClearError(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, "listen: "+addr+"\ndatabase: sqlite:./s.db\n")
	first := startLatch(t, []string{"LATCH_SECRET=0123456789abcdef0123456789abcdef"}, "http://"+addr+"/readyz", "serve", "--config", cfg)
	_ = first.cmd.Process.Signal(syscall.SIGTERM)
	_ = first.cmd.Wait()
	for _, tc := range []struct{ name, env, want string }{
		{"wrong", "LATCH_SECRET=ffffffffffffffffffffffffffffffff", "cannot be decrypted"},
		{"missing", "LATCH_SECRET=", "secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, "", []string{tc.env, "LATCH_LISTEN=" + freeAddr(t)}, "serve", "--config", cfg)
			if code == 0 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "goroutine ") {
				t.Fatalf("code %d, stderr:\n%s\nwant a one-line error containing %q", code, errOut, tc.want)
			}
		})
	}
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "latch.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServeReloadsConfigOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "listen: " + addr + "\ndatabase: sqlite:./s.db\n"
	cfg := writeConfig(t, dir, base)
	p := startLatch(t, []string{"LATCH_SECRET=0123456789abcdef0123456789abcdef"}, "http://"+addr+"/readyz", "serve", "--config", cfg)

	authorize := "http://" + addr + "/authorize?client_id=late&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb" +
		"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&scope=openid"
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status := func() int {
		resp, err := client.Get(authorize)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != http.StatusBadRequest {
		t.Fatalf("unknown client before reload: status %d, want 400", got)
	}

	// A broken file is refused and the running config kept.
	writeConfig(t, dir, base+"clients:\n  - { client_id: late, type: bogus }\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "config reload failed") }, p)

	writeConfig(t, dir, base+"clients:\n  - { client_id: late, type: spa, callbacks: [\"http://localhost:3000/cb\"] }\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "configuration reloaded") }, p)
	if got := status(); got != http.StatusFound {
		t.Fatalf("client added by SIGHUP: status %d, want 302 to the login page", got)
	}
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, cond func() bool, p *proc) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("condition not met; stderr:\n%s", p.stderr)
}
