package attacktest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/server"
)

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// loggedEnv is newEnv served by a second handler that logs at debug level
// into the returned buffer.
func loggedEnv(t *testing.T) (*at.Env, *syncBuffer) {
	t.Helper()
	e := newEnv(t)
	km := keys.NewManager(e.Store, []byte("0123456789abcdef0123456789abcdef"), keys.Options{Now: e.Clock.Now})
	if err := km.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	logs := new(syncBuffer)
	log := slog.New(server.LogHandler(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h := server.New(server.Deps{Config: func() *config.Config { return e.Cfg }, Store: e.Store, Keys: km,
		Passwords: e.Hasher, Logger: log, AccessLog: logs, Now: e.Clock.Now})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	logged := *e
	logged.Server = srv
	return &logged, logs
}

// TestNoTokenLeaks runs every flow and checks that no secret (code, token,
// password, cookie, transaction handle, CSRF token, client secret, PKCE
// verifier) reaches the log, and that the only URL latch builds with a
// credential in it is the callback with its code.
func TestNoTokenLeaks(t *testing.T) {
	e, logs := loggedEnv(t)
	var secrets []string
	var locations []string
	keep := func(r *at.Resp) *at.Resp {
		if l := r.Location(); l != "" {
			locations = append(locations, l)
		}
		return r
	}
	b := e.Browser()
	r := keep(b.Get(at.AuthorizeURL(nil)))
	page := b.Get(r.Location())
	form := at.Hidden(page.Body)
	secrets = append(secrets, form.Get("state"), form.Get("csrf"), at.Password, at.Verifier, "s3cret")
	wrong := url.Values{"state": {form.Get("state")}, "csrf": {form.Get("csrf")}, "username": {at.Email}, "password": {"hunter2-wrong-password"}}
	keep(b.Post("/u/login", wrong))
	secrets = append(secrets, "hunter2-wrong-password")
	form.Set("username", at.Email)
	form.Set("password", at.Password)
	r = keep(b.Post("/u/login", form))
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		secrets = append(secrets, c.Value)
	}
	code := at.Result(t, r, false).Get("code")
	secrets = append(secrets, code)
	status, tok, _ := token(t, b, exchangeForm(code))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d", status)
	}
	secrets = append(secrets, tok.Access, tok.ID, tok.Refresh)
	userinfoStatus(t, e, tok.Access)
	_, tok2, _ := token(t, b, url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tok.Refresh}})
	secrets = append(secrets, tok2.Access, tok2.ID, tok2.Refresh)
	token(t, b, url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tok.Refresh}}) // reuse
	token(t, b, url.Values{"grant_type": {"client_credentials"}, "client_id": {"worker"}, "client_secret": {"w-wrong-secret"}, "audience": {at.API}})
	secrets = append(secrets, "w-wrong-secret")
	b.Post("/oauth/revoke", url.Values{"client_id": {"spa"}, "token": {tok2.Refresh}})
	body, _ := json.Marshal(map[string]string{"client_id": "spa", "email": "new@example.com", "password": "signup secret 123",
		"connection": "Username-Password-Authentication"})
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/dbconnections/signup", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	b.Do(req)
	secrets = append(secrets, "signup secret 123")
	keep(b.Get("/oidc/logout?" + url.Values{"id_token_hint": {tok.ID}, "post_logout_redirect_uri": {clientBye}}.Encode()))

	out := logs.String()
	if !strings.Contains(out, "request_id=") {
		t.Fatalf("nothing was logged:\n%s", out)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the log contains a secret %.12q…", s)
		}
	}
	for _, l := range locations {
		low := strings.ToLower(l)
		for _, bad := range []string{"access_token", "id_token", "refresh_token", tok.Access, tok.Refresh, tok.ID} {
			if strings.Contains(low, strings.ToLower(bad)) {
				t.Errorf("Location %q carries %q", l, bad)
			}
		}
		if strings.Contains(l, "code=") && !strings.HasPrefix(l, at.Callback+"?") {
			t.Errorf("a code went elsewhere than the callback: %q", l)
		}
	}
}
