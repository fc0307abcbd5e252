package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// latchBin is the real binary, built once.
var latchBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "latch-crash-")
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
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// logBuffer keeps the tail of what latch prints, for failure messages.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Next(b.buf.Len() / 2)
	}
	return b.buf.Write(p)
}

func (b *logBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return s
}

// server is one tenant directory and the latch process serving it.
type server struct {
	t    *testing.T
	dir  string
	cfg  string
	env  []string
	base string // http://127.0.0.1:PORT
	log  *logBuffer
	cmd  *exec.Cmd

	exited chan struct{} // closed when cmd has exited
}

// newServer writes a config for database (a DSN) and picks a port that
// every restart reuses, so the issuer never changes.
func newServer(t *testing.T, database string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	dir := t.TempDir()
	s := &server{t: t, dir: dir, cfg: filepath.Join(dir, "latch.yaml"), base: "http://" + addr,
		env: []string{"LATCH_SECRET=0123456789abcdef0123456789abcdef"}, log: new(logBuffer)}
	yaml := fmt.Sprintf(`issuer: http://%[1]s/
listen: %[1]s
database: %[2]q
log_level: warn
rate_limits: { login_per_minute: 100000000, token_per_minute: 100000000 }
connections:
  - { name: Username-Password-Authentication, type: database, signup: true, password_min_length: 8 }
clients:
  - client_id: spa
    type: spa
    callbacks: [%[3]s]
    grant_types: [authorization_code, refresh_token]
`, addr, database, callback)
	if err := os.WriteFile(s.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	return s
}

// cli runs a latch command to completion.
func (s *server) cli(stdin string, args ...string) (string, error) {
	cmd := exec.Command(latchBin, append(args, "--config", s.cfg)...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start runs latch serve and waits until /healthz answers.
func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(latchBin, "serve", "--config", s.cfg)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/healthz", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			s.t.Fatalf("latch exited during start\n%s", s.log.tail())
		case <-ctx.Done():
			s.t.Fatalf("latch did not become healthy\n%s", s.log.tail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	if s.exited != nil {
		<-s.exited
	}
	s.cmd, s.exited = nil, nil
}
