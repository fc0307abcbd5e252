package oauth_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/tokens"
	"github.com/latch-auth/latch/internal/users"
)

// Handler benchmarks: the whole of latch's handler (server.New: routes,
// middleware with its access log, CORS) over a real SQLite file and real
// keys, called in process so the numbers are latch's own CPU cost per
// request without the network. `go run ./bench` measures the same paths
// over HTTP against their ceilings.

type benchEnv struct {
	h    http.Handler
	st   store.Store
	iss  *tokens.Issuer
	user *store.User
	now  time.Time
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	ctx := context.Background()
	cfg := testConfig(false)
	cfg.RateLimits = config.RateLimits{LoginPerMinute: 1 << 30, TokenPerMinute: 1 << 30,
		TokenPerClientPerMinute: 1 << 30, RequestsPerMinute: 1 << 30}
	if err := cfg.Finalize(); err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "latch.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	km := keys.NewManager(st, []byte(masterKey), keys.Options{})
	if err := km.Init(ctx); err != nil {
		b.Fatal(err)
	}
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)
	now := time.Now()
	u, err := users.Create(ctx, st, hasher, users.NewUser{
		Connection: config.DefaultConnection, Email: "ann@example.com", Password: userPasswd, Name: "Ann",
	}, 8, now.Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	// The access log is formatted as in production, then discarded.
	log := slog.New(server.LogHandler(slog.NewTextHandler(io.Discard, nil)))
	h := server.New(server.Deps{
		Config: func() *config.Config { return cfg }, Store: st, Keys: km, Passwords: hasher, Logger: log,
		AccessLog: io.Discard,
	})
	iss := tokens.NewIssuer(func() *config.Config { return cfg }, km, st, nil)
	return &benchEnv{h: h, st: st, iss: iss, user: u, now: now}
}

// serve runs one request through the handler and checks the status.
func (e *benchEnv) serve(b *testing.B, req *http.Request, want int) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("%s %s = %d, want %d: %s", req.Method, req.URL.Path, w.Code, want, w.Body)
	}
	return w
}

func newReq(method, target, body string, header ...string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func BenchmarkHandlerJWKS(b *testing.B) {
	e := newBenchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, newReq("GET", "/.well-known/jwks.json", ""), 200)
	}
}

func BenchmarkHandlerDiscovery(b *testing.B) {
	e := newBenchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, newReq("GET", "/.well-known/openid-configuration", ""), 200)
	}
}

// accessToken mints a (sealed) opaque access token for the benchmark user.
func (e *benchEnv) accessToken(b *testing.B) string {
	at, err := e.iss.AccessToken(context.Background(), tokens.AccessTokenRequest{
		UserID: e.user.ID, ClientID: "spa", Scope: "openid profile email",
		GrantType: tokens.GrantAuthorizationCode, GrantID: "g",
	})
	if err != nil {
		b.Fatal(err)
	}
	return at.Value
}

// storedAccessToken stores an opaque access token as earlier versions did.
func (e *benchEnv) storedAccessToken(b *testing.B) string {
	v := session.NewToken()
	if err := e.st.CreateAccessToken(context.Background(), &store.AccessToken{
		Hash: store.HashToken(v), GrantID: "g", ClientID: "spa", UserID: e.user.ID,
		Scope: "openid profile email", CreatedAt: e.now, ExpiresAt: e.now.Add(time.Hour),
	}); err != nil {
		b.Fatal(err)
	}
	return v
}

func BenchmarkHandlerUserinfoOpaque(b *testing.B) {
	e := newBenchEnv(b)
	auth := "Bearer " + e.accessToken(b)
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, newReq("GET", "/userinfo", "", "Authorization", auth), 200)
	}
}

func BenchmarkHandlerUserinfoStored(b *testing.B) {
	e := newBenchEnv(b)
	auth := "Bearer " + e.storedAccessToken(b)
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, newReq("GET", "/userinfo", "", "Authorization", auth), 200)
	}
}

// code stores an authorization code as /authorize would.
func (e *benchEnv) code(b *testing.B, scope, audience string) string {
	v := session.NewToken()
	if err := e.st.CreateAuthCode(context.Background(), &store.AuthCode{
		Hash: store.HashToken(v), ClientID: "spa", RedirectURI: callback,
		CodeChallenge: challenge, CodeChallengeMethod: "S256", UserID: e.user.ID, SessionID: "sid",
		Scope: scope, Audience: audience, Nonce: "n", AuthTime: e.now, CreatedAt: e.now,
		ExpiresAt: e.now.Add(time.Hour),
	}); err != nil {
		b.Fatal(err)
	}
	return v
}

func BenchmarkHandlerUserinfoJWT(b *testing.B) {
	e := newBenchEnv(b)
	w := e.serve(b, newReq("POST", "/oauth/token", codeForm(e.code(b, "openid profile email", apiID)).Encode(),
		"Content-Type", "application/x-www-form-urlencoded"), 200)
	at := jsonField(b, w.Body.String(), "access_token")
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, newReq("GET", "/userinfo", "", "Authorization", "Bearer "+at), 200)
	}
}

func BenchmarkHandlerTokenCode(b *testing.B) {
	e := newBenchEnv(b)
	forms := make([]string, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if len(forms) == 0 {
			b.StopTimer()
			for range cap(forms) {
				forms = append(forms, codeForm(e.code(b, "openid profile email", "")).Encode())
			}
			b.StartTimer()
		}
		body := forms[len(forms)-1]
		forms = forms[:len(forms)-1]
		e.serve(b, newReq("POST", "/oauth/token", body, "Content-Type", "application/x-www-form-urlencoded"), 200)
	}
}

func BenchmarkHandlerClientCredentials(b *testing.B) {
	e := newBenchEnv(b)
	body := "grant_type=client_credentials&client_id=worker&client_secret=" + workerSec + "&audience=" + apiID
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, newReq("POST", "/oauth/token", body, "Content-Type", "application/x-www-form-urlencoded"), 200)
	}
}

// jsonField extracts a string member of a flat JSON object.
func jsonField(b *testing.B, body, name string) string {
	b.Helper()
	_, rest, ok := strings.Cut(body, `"`+name+`":"`)
	if !ok {
		b.Fatalf("no %s in %s", name, body)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}
