package cli_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/cli"
	"github.com/latch-auth/latch/internal/keys"
)

// lockedBuffer is a strings.Builder safe to read while serve writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestVersionNamesSigner(t *testing.T) {
	out, errOut, code := runCLI(t, "", nil, "version")
	want := regexp.MustCompile(`^latch \S+ \(go[^,]*, signer (go|boringcrypto|openssl)\)\n$`)
	if code != 0 || !want.MatchString(out) || !strings.Contains(out, "signer "+keys.Signer()+")") {
		t.Fatalf("version: %d %q %q; want signer %s", code, out, errOut, keys.Signer())
	}
}

// TestServeLogsSigner runs serve in-process (so the signer is this test
// binary's) and reads its start-up line.
func TestServeLogsSigner(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "latch.yaml")
	if err := os.WriteFile(cfg, []byte("listen: "+addr+"\ndatabase: sqlite:./s.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LATCH_SECRET": "0123456789abcdef0123456789abcdef", "GOMEMLIMIT": "off"}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"latch", "serve", "--config", cfg}, cli.Env{
			Getenv: func(k string) string { return env[k] }, Stdin: strings.NewReader(""),
			Stdout: &stderr, Stderr: &stderr,
		})
	}()
	var line string
	for line == "" {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "latch listening") {
				line = l
			}
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited with %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(line, " signer="+keys.Signer()) {
		t.Fatalf("start-up line %q does not name signer %s", line, keys.Signer())
	}
}
