package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store/sqlite"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// start runs the whole handler on a real SQLite file and a real listener.
func start(t *testing.T) (*httptest.Server, *sqlite.Store, *lockedBuf) {
	t.Helper()
	ctx := context.Background()
	cfg := &config.Config{Issuer: "http://latch.test/", Clients: []config.Client{
		{ClientID: "spa", Type: config.TypeSPA, Callbacks: []string{"http://app.test/cb"}},
	}}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	km := keys.NewManager(st, []byte("0123456789abcdef0123456789abcdef"), keys.Options{})
	if err := km.Init(ctx); err != nil {
		t.Fatal(err)
	}
	logs := new(lockedBuf)
	h := server.New(server.Deps{
		Config: func() *config.Config { return cfg }, Store: st, Keys: km,
		Passwords: password.New(password.Params{Memory: 64, Time: 1, Threads: 1}, 2),
		Logger:    slog.New(server.LogHandler(slog.NewTextHandler(logs, nil))),
		AccessLog: logs, // as latch serve sets it
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = st.Close() })
	return srv, st, logs
}

func TestHealthReadyAndBaseline(t *testing.T) {
	srv, st, _ := start(t)
	cases := []struct {
		name, method, path string
		status             int
		ctype              string
	}{
		{"healthz", "GET", "/healthz", 200, "text/plain"},
		{"readyz", "GET", "/readyz", 200, "text/plain"},
		{"jwks", "GET", "/.well-known/jwks.json", 200, "application/json"},
		{"discovery", "GET", "/.well-known/openid-configuration", 200, "application/json"},
		{"rfc8414 alias", "GET", "/.well-known/oauth-authorization-server", 200, "application/json"},
		{"unknown path", "GET", "/nope", 404, "application/json"},
		{"wrong method", "DELETE", "/healthz", 404, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.ctype != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
				t.Fatalf("content type %q, want %s", resp.Header.Get("Content-Type"), tc.ctype)
			}
			for _, h := range []string{"X-Request-Id", "X-Content-Type-Options", "Referrer-Policy"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("missing %s", h)
				}
			}
			if tc.status == 404 {
				var e struct{ Error string }
				if json.Unmarshal(body, &e) != nil || e.Error != "not_found" {
					t.Fatalf("404 body %s", body)
				}
			}
		})
	}

	t.Run("readyz fails without a database", func(t *testing.T) {
		_ = st.Close()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("readyz with a closed database: %d, want 503", resp.StatusCode)
		}
	})
}

func TestLogsCarryRequestIDButNoQuery(t *testing.T) {
	srv, _, logs := start(t)
	// Never follow the redirect: its host is not on this machine.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(srv.URL + "/authorize?client_id=spa&code_challenge=SECRETCHALLENGE&state=SECRETSTATE")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := logs.String()
	if !strings.Contains(out, "request_id="+resp.Header.Get("X-Request-Id")) {
		t.Fatalf("access log lacks the request id:\n%s", out)
	}
	if strings.Contains(out, "SECRET") {
		t.Fatalf("access log contains the query:\n%s", out)
	}
}

func TestOversizedBodyIsRefused(t *testing.T) {
	srv, _, _ := start(t)
	body := strings.NewReader("grant_type=authorization_code&code=" + strings.Repeat("a", server.MaxBodyBytes+10))
	resp, err := http.Post(srv.URL+"/oauth/token", "application/x-www-form-urlencoded", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("oversized token request: status %d, want 4xx", resp.StatusCode)
	}
}

func TestMetricsCountRoutesNotRawPaths(t *testing.T) {
	srv, _, _ := start(t)
	for _, p := range []string{"/healthz", "/healthz", "/no/such/path/abc123"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`latch_http_requests_total{code="200",method="GET",route="GET /healthz"} 2`,
		`latch_http_requests_total{code="404",method="GET",route="other"} 1`,
		"latch_http_request_duration_seconds_bucket",
		"go_goroutines",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(out, "abc123") {
		t.Fatal("a raw path became a label value")
	}
}
