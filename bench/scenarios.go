package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Ceiling names, as in the JSON report.
const (
	ceilSign   = "rs256_signatures_per_sec"
	ceilHTTP   = "bare_http_rps"
	ceilArgon2 = "argon2id_hashes_per_sec"
)

// scenario is one thing the benchmark measures.
type scenario struct {
	name    string
	desc    string
	sigs    int    // RS256 signatures latch makes per request
	ceiling string // which ceiling the ratio is taken against
	// prep runs before the timed window and returns the per-worker
	// initialiser (may be nil) and the step the workers loop on.
	prep func(e *env) (init func(*worker) error, fn step, err error)
	// maxConns, when set, caps the connections of this scenario.
	maxConns func() int
}

// loginConns caps the password-login scenario's connections at four per
// core: latch hashes at most one password per core at a time, so more
// connections only lengthen the queue in front of the hashing slots, and
// latch answers 503 to a login that waits there longer than
// password.MaxWait (load shedding, by design).
func loginConns() int { return 4 * runtime.NumCPU() }

// user is a benchmark user with a live SSO session.
type user struct {
	email, password string
	cookie          string // "latch_session=..."
}

// env is what scenarios are prepared from.
type env struct {
	addr      string
	conns     int
	warmup    time.Duration
	dur       time.Duration
	users     []user  // one per connection
	signRate  float64 // latest signing ceiling: sizes the codes to mint
	m2mSecret string
	// ceilingDur and slice shape the alternation of load and ceiling.
	ceilingDur time.Duration
	slice      time.Duration
}

func scenarios() []scenario {
	return []scenario{
		{"code_api", "code exchange, openid + API audience", 2, ceilSign, prepCode(specAPI, true), nil},
		{"code_openid", "code exchange, openid only (opaque AT)", 1, ceilSign, prepCode(specOpenID, false), nil},
		{"refresh", "refresh rotation (openid + API)", 2, ceilSign, prepRefresh, nil},
		{"client_credentials", "client_credentials (JWT AT)", 1, ceilSign, prepClientCredentials(benchAPI, "RS256"), nil},
		// No RS256 signature: an ES256 or Ed25519 signature costs tens of
		// microseconds, so these are measured against the bare handler.
		{"client_credentials_es256", "client_credentials, ES256 API (JWT AT)", 0, ceilHTTP, prepClientCredentials(es256API, "ES256"), nil},
		{"client_credentials_eddsa", "client_credentials, EdDSA API (JWT AT)", 0, ceilHTTP, prepClientCredentials(eddsaAPI, "EdDSA"), nil},
		{"userinfo_opaque", "/userinfo, opaque token", 0, ceilHTTP, prepUserinfo(specOpenID), nil},
		{"userinfo_jwt", "/userinfo, JWT access token", 0, ceilHTTP, prepUserinfo(specAPI), nil},
		{"jwks", "/.well-known/jwks.json", 0, ceilHTTP, prepGet("/.well-known/jwks.json", `"keys"`), nil},
		{"discovery", "/.well-known/openid-configuration", 0, ceilHTTP, prepGet("/.well-known/openid-configuration", `"issuer"`), nil},
		{"authorize_sso", "/authorize, SSO session + prompt=none", 0, ceilHTTP, prepAuthorize, nil},
		{"password_login", "password login: authorize, page, POST, token", 1, ceilArgon2, prepLogin, loginConns},
	}
}

// prepareUsers signs up one user per connection through
// /dbconnections/signup and logs each in through the hosted login page, so
// every worker has its own SSO session.
func prepareUsers(addr string, n int, runID string) ([]user, error) {
	users := make([]user, n)
	// Few at a time: each costs two argon2id hashes, and latch answers 503
	// when a hash waits too long for one of its hashing slots.
	err := parallel(addr, n, 2, func(c *conn, i int) error {
		u := user{email: fmt.Sprintf("bench-%s-%d@example.com", runID, i), password: "bench-pass-" + runID}
		if err := signup(c, u.email, u.password); err != nil {
			return err
		}
		_, cookie, err := loginFlow(c, specOpenID, u.email, u.password)
		if err != nil {
			return fmt.Errorf("log in %s: %w", u.email, err)
		}
		u.cookie = cookie
		users[i] = u
		return nil
	})
	return users, err
}

// parallel runs fn(i) for i in [0, n) on min(n, width) connections.
func parallel(addr string, n, width int, fn func(c *conn, i int) error) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range min(n, width) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(addr)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			defer c.Close()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(c, i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d failures, first: %w", len(errs), errs[0])
	}
	return nil
}

// mintCodes gets n codes through /authorize with prompt=none and the
// users' SSO cookies, before the timed window.
func mintCodes(e *env, g grantSpec, n int) ([]string, error) {
	codes := make([]string, n)
	path := authorizePath(g, "none")
	err := parallel(e.addr, n, 32, func(c *conn, i int) error {
		code, err := silentCode(c, path, e.users[i%len(e.users)].cookie)
		codes[i] = code
		return err
	})
	return codes, err
}

// codesNeeded bounds how many codes a code-exchange scenario can use: the
// signing ceiling allows at most signRate/sigs exchanges a second. The
// margin (twice that) covers a ceiling measured low on a noisy machine; if
// the codes still run out, the window ends early and the report says so.
func codesNeeded(e *env, sigs int) int {
	perSec := e.signRate / float64(max(sigs, 1))
	return int(math.Ceil(perSec*(e.warmup+e.dur).Seconds()*2)) + e.conns
}

func prepCode(g grantSpec, jwt bool) func(e *env) (func(*worker) error, step, error) {
	return func(e *env) (func(*worker) error, step, error) {
		sigs := 1
		if jwt {
			sigs = 2
		}
		codes, err := mintCodes(e, g, codesNeeded(e, sigs))
		if err != nil {
			return nil, nil, err
		}
		q := &queue{items: codes}
		fn := func(w *worker) error {
			code, err := q.take()
			if err != nil {
				return err
			}
			r, err := w.c.do(&request{Method: "POST", Path: "/oauth/token", Header: formHeader, Body: codeForm(code)})
			if err != nil {
				return err
			}
			if r.Status != 200 || jsonString(r.Body, "id_token") == "" {
				return fmt.Errorf("code exchange: %d %.200s", r.Status, r.Body)
			}
			if at := jsonString(r.Body, "access_token"); (strings.Count(at, ".") == 2) != jwt {
				return fmt.Errorf("code exchange: access token %.40s… is not the expected kind", at)
			}
			return nil
		}
		return nil, fn, nil
	}
}

func prepRefresh(e *env) (func(*worker) error, step, error) {
	path := authorizePath(specRefresh, "none")
	init := func(w *worker) error {
		code, err := silentCode(w.c, path, e.users[w.id].cookie)
		if err != nil {
			return err
		}
		t, err := exchange(w.c, code)
		if err != nil {
			return err
		}
		if t.RefreshToken == "" {
			return fmt.Errorf("code exchange with offline_access gave no refresh token")
		}
		w.state = t.RefreshToken
		return nil
	}
	fn := func(w *worker) error {
		body := []byte("grant_type=refresh_token&client_id=" + spaClient + "&refresh_token=" + w.state.(string))
		r, err := w.c.do(&request{Method: "POST", Path: "/oauth/token", Header: formHeader, Body: body})
		if err != nil {
			return err
		}
		next := jsonString(r.Body, "refresh_token")
		if r.Status != 200 || next == "" || jsonString(r.Body, "id_token") == "" {
			return fmt.Errorf("refresh: %d %.200s", r.Status, r.Body)
		}
		w.state = next
		return nil
	}
	return init, fn, nil
}

// prepClientCredentials asks for JWT access tokens for audience, whose
// API signs with alg. Each worker checks the header of its first token;
// the timed steps only check that a JWT came back.
func prepClientCredentials(audience, alg string) func(e *env) (func(*worker) error, step, error) {
	return func(e *env) (func(*worker) error, step, error) {
		auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(m2mClient+":"+e.m2mSecret))
		req := &request{Method: "POST", Path: "/oauth/token", Header: []string{formHeader[0], auth},
			Body: []byte("grant_type=client_credentials&audience=" + audience)}
		get := func(w *worker) (string, error) {
			r, err := w.c.do(req)
			if err != nil {
				return "", err
			}
			at := jsonString(r.Body, "access_token")
			if r.Status != 200 || strings.Count(at, ".") != 2 {
				return "", fmt.Errorf("client_credentials: %d %.200s", r.Status, r.Body)
			}
			return at, nil
		}
		init := func(w *worker) error {
			at, err := get(w)
			if err != nil {
				return err
			}
			if got := jwtAlg(at); got != alg {
				return fmt.Errorf("client_credentials for %s: token signed %q, want %s", audience, got, alg)
			}
			return nil
		}
		fn := func(w *worker) error {
			_, err := get(w)
			return err
		}
		return init, fn, nil
	}
}

// jwtAlg is the "alg" of a compact JWS's header, or "".
func jwtAlg(tok string) string {
	head, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Alg
}

// prepUserinfo gives every worker an access token of the kind g yields
// (opaque without an audience, a JWT with one).
func prepUserinfo(g grantSpec) func(e *env) (func(*worker) error, step, error) {
	return func(e *env) (func(*worker) error, step, error) {
		path := authorizePath(g, "none")
		init := func(w *worker) error {
			code, err := silentCode(w.c, path, e.users[w.id].cookie)
			if err != nil {
				return err
			}
			t, err := exchange(w.c, code)
			if err != nil {
				return err
			}
			w.state = &request{Method: "GET", Path: "/userinfo", Header: []string{"Authorization: Bearer " + t.AccessToken}}
			return nil
		}
		fn := func(w *worker) error {
			r, err := w.c.do(w.state.(*request))
			if err != nil {
				return err
			}
			if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"sub"`)) {
				return fmt.Errorf("userinfo: %d %.200s", r.Status, r.Body)
			}
			return nil
		}
		return init, fn, nil
	}
}

func prepGet(path, want string) func(e *env) (func(*worker) error, step, error) {
	return func(*env) (func(*worker) error, step, error) {
		req := &request{Method: "GET", Path: path}
		fn := func(w *worker) error {
			r, err := w.c.do(req)
			if err != nil {
				return err
			}
			if r.Status != 200 || !bytes.Contains(r.Body, []byte(want)) {
				return fmt.Errorf("GET %s: %d %.200s", path, r.Status, r.Body)
			}
			return nil
		}
		return nil, fn, nil
	}
}

func prepAuthorize(e *env) (func(*worker) error, step, error) {
	path := authorizePath(specAPI, "none")
	fn := func(w *worker) error {
		_, err := silentCode(w.c, path, e.users[w.id].cookie)
		return err
	}
	return nil, fn, nil
}

// prepLogin: every iteration is a new browser (no cookie) logging in with
// its password, then the application redeeming the code.
func prepLogin(e *env) (func(*worker) error, step, error) {
	fn := func(w *worker) error {
		u := e.users[w.id]
		code, _, err := loginFlow(w.c, specOpenID, u.email, u.password)
		if err != nil {
			return err
		}
		_, err = exchange(w.c, code)
		return err
	}
	return nil, fn, nil
}
