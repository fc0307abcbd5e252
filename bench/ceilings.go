package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/store/sqlite"
	"github.com/latch-auth/latch/internal/tokens"
)

// ceilings summarises the limits the scenarios were compared with: for
// each kind, the highest of its measurements in the run (each scenario's
// own measurement, taken just before it, is in its result).
type ceilings struct {
	Sign   float64 `json:"rs256_signatures_per_sec"`
	HTTP   float64 `json:"bare_http_rps"`
	Argon2 float64 `json:"argon2id_hashes_per_sec"`
	// OpenSSL is `openssl speed -multi GOMAXPROCS rsa2048`: RSA-2048
	// signatures per second of wall time on the cores latch uses (OpenSSL
	// times each worker by the clock in -multi mode). OpenSSLPerCPUSec is
	// one `openssl speed rsa2048` process: signatures per second of its
	// user CPU time, what one core does whatever else the machine runs.
	// Both are 0 when not measured (no openssl command, --openssl=false).
	OpenSSL          float64 `json:"openssl_speed_rs256_per_sec,omitempty"`
	OpenSSLPerCPUSec float64 `json:"openssl_speed_rs256_per_cpu_sec,omitempty"`
	// HTTPp50ms and HTTPp99ms are the bare handler's latencies.
	HTTPp50ms float64 `json:"bare_http_p50_ms"`
	HTTPp99ms float64 `json:"bare_http_p99_ms"`
	// Per CPU-second of what the measurement used: what the ceilings are
	// per core, whatever else the machine was doing.
	SignPerCPUSec   float64 `json:"rs256_signatures_per_cpu_sec"`
	Argon2PerCPUSec float64 `json:"argon2id_hashes_per_cpu_sec"`
	HTTPPerCPUSec   float64 `json:"bare_http_requests_per_cpu_sec"`
}

// rate is a ceiling measurement: calls per second of wall time, and per
// second of CPU time the measuring process (or, for the bare handler, it
// and the load generator) used meanwhile, which does not depend on what
// else the machine was doing.
type rate struct {
	PerSec    float64
	PerCPUSec float64
}

// meter holds what the ceilings are measured with: a signing key made the
// way latch makes its keys, latch's password hasher, and the bare
// handler's process, which waits idle between its measurements.
type meter struct {
	km       *keys.Manager
	st       *sqlite.Store
	hasher   *password.Hasher
	bareAddr string
	bare     *exec.Cmd
	best     ceilings
}

func newMeter(ctx context.Context, dir string) (*meter, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dir, "ceiling-keys.db"))
	if err != nil {
		return nil, err
	}
	m := &meter{st: st, hasher: password.New(password.DefaultParams, runtime.GOMAXPROCS(0))}
	m.km = keys.NewManager(st, []byte(randomHex(32)), keys.Options{})
	if err := m.km.Init(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	if m.bareAddr, err = freeAddr(); err != nil {
		_ = st.Close()
		return nil, err
	}
	m.bare = exec.Command(self, "bare-server", m.bareAddr)
	m.bare.Stderr = os.Stderr
	if err := m.bare.Start(); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("start bare server: %w", err)
	}
	for i := 0; !probeReady(m.bareAddr); i++ {
		if i > 5000 {
			m.close()
			return nil, fmt.Errorf("bare server did not start")
		}
		time.Sleep(time.Millisecond)
	}
	return m, nil
}

func (m *meter) close() {
	_ = m.bare.Process.Kill()
	_ = m.bare.Wait()
	_ = m.st.Close()
}

// signClaims are an access token's claims, as latch signs them.
func signClaims() tokens.AccessClaims {
	now := time.Now()
	return tokens.AccessClaims{
		Issuer: "http://127.0.0.1:1000/", Subject: "auth0|0123456789abcdef01234567",
		Audience: tokens.Audience{benchAPI, "http://127.0.0.1:1000/userinfo"},
		IssuedAt: now.Unix(), Expiry: now.Add(24 * time.Hour).Unix(),
		Scope: "openid profile email", AuthorizedParty: spaClient,
	}
}

// ceilingGang is a running ceiling measurement whose windows alternate
// with its scenario's.
type ceilingGang interface {
	window(d time.Duration, measured bool)
	result() (rate, measurement, error)
	close()
}

// measurement has the bare handler's latencies (zero for the others).
type measurement struct {
	p50ms, p99ms float64
}

// gang starts the measurement of ceiling kind: RS256 signing with latch's
// signer (keys.Manager.Sign, the call every token goes through) or
// argon2id hashing with latch's parameters (password.DefaultParams) on
// every core of this process, or the bare net/http handler driven by the
// scenarios' load generator with conns connections.
func (m *meter) gang(ctx context.Context, kind string, conns int) (ceilingGang, error) {
	switch kind {
	case ceilSign:
		claims := signClaims()
		return cpuCeiling{newCPUGang(func() error {
			_, err := m.km.Sign(claims)
			return err
		})}, nil
	case ceilArgon2:
		return cpuCeiling{newCPUGang(func() error {
			_, err := m.hasher.Hash(ctx, "correct horse battery staple")
			return err
		})}, nil
	case ceilHTTP:
		req := &request{Method: "GET", Path: "/bare"}
		h, err := newHTTPGang(m.bareAddr, m.bare.Process.Pid, conns, nil, func(w *worker) error {
			r, err := w.c.do(req)
			if err != nil {
				return err
			}
			if r.Status != 200 {
				return fmt.Errorf("bare: %d", r.Status)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return httpCeiling{h}, nil
	}
	return nil, fmt.Errorf("unknown ceiling %q", kind)
}

type cpuCeiling struct{ *cpuGang }

func (c cpuCeiling) result() (rate, measurement, error) {
	r, err := c.rate()
	return r, measurement{}, err
}

func (c cpuCeiling) close() { c.stop() }

type httpCeiling struct{ *httpGang }

func (h httpCeiling) result() (rate, measurement, error) {
	lr := h.httpGang.result()
	if lr.Errors > 0 {
		return rate{}, measurement{}, fmt.Errorf("bare handler: %d errors, first: %v", lr.Errors, lr.FirstErr)
	}
	return rate{PerSec: lr.rps(), PerCPUSec: div(lr.rps(), lr.CPU.Latch+lr.CPU.LoadGen)},
		measurement{p50ms: ms(percentile(lr.Latencies, 50)), p99ms: ms(percentile(lr.Latencies, 99))}, nil
}

// record keeps the best measurement of each kind for the summary.
func (m *meter) record(kind string, r rate, x measurement) {
	b := &m.best
	switch kind {
	case ceilSign:
		b.Sign, b.SignPerCPUSec = max(b.Sign, round(r.PerSec, 1)), max(b.SignPerCPUSec, round(r.PerCPUSec, 1))
	case ceilArgon2:
		b.Argon2, b.Argon2PerCPUSec = max(b.Argon2, round(r.PerSec, 2)), max(b.Argon2PerCPUSec, round(r.PerCPUSec, 2))
	case ceilHTTP:
		if r.PerSec > b.HTTP {
			b.HTTP, b.HTTPp50ms, b.HTTPp99ms = round(r.PerSec, 1), x.p50ms, x.p99ms
		}
		b.HTTPPerCPUSec = max(b.HTTPPerCPUSec, round(r.PerCPUSec, 1))
	}
}

// quickSignRate measures signing alone for d; it sizes how many codes the
// code-exchange scenarios mint.
func (m *meter) quickSignRate(ctx context.Context, d time.Duration) (float64, error) {
	g, err := m.gang(ctx, ceilSign, 0)
	if err != nil {
		return 0, err
	}
	defer g.close()
	g.window(d, true)
	r, _, err := g.result()
	return r.PerSec, err
}

// bareBody is what the bare handler answers: a small JSON object, about
// the size of a /userinfo answer's first fields.
var bareBody = []byte(`{"sub":"auth0|0123456789abcdef01234567","name":"bench@example.com","nickname":"bench","email":"bench@example.com","email_verified":true}`)

// serveBare is the `bench bare-server ADDR` child: a bare net/http handler
// with the same server timeouts latch uses, and nothing else.
func serveBare(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bare", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bareBody)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ready\n")) })
	srv := &http.Server{
		Addr: addr, Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
	}
	return srv.ListenAndServe()
}

// opensslSignRE finds the sign/s column of `openssl speed`'s RSA table:
// "rsa 2048 bits 0.000702s 0.000024s   1424.5  42098.5".
var opensslSignRE = regexp.MustCompile(`(?m)^rsa\s+2048 bits\s+[0-9.]+s\s+[0-9.]+s\s+([0-9.]+)\s`)

// opensslSpeed runs `openssl speed -seconds S [-multi N] rsa2048` and
// returns its RSA-2048 signatures per second.
func opensslSpeed(d time.Duration, procs int) (float64, error) {
	args := []string{"speed", "-seconds", strconv.Itoa(max(1, int(d.Seconds())))}
	if procs > 1 {
		args = append(args, "-multi", strconv.Itoa(procs))
	}
	out, err := exec.Command("openssl", append(args, "rsa2048")...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("openssl %s: %w", strings.Join(args, " "), err)
	}
	return parseOpenSSLSpeed(out)
}

// parseOpenSSLSpeed reads the RSA-2048 sign/s figure of `openssl speed`'s
// output.
func parseOpenSSLSpeed(out []byte) (float64, error) {
	m := opensslSignRE.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("openssl speed: no rsa 2048 line in its output")
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("openssl speed: sign/s %q", m[1])
	}
	return v, nil
}

// opensslCeiling measures OpenSSL's RS256 rate, the reference of the
// faster-signing builds (README "Faster signing builds"): on GOMAXPROCS
// processes by the clock, and in one process per CPU-second. It returns
// zeros when there is no openssl command.
func opensslCeiling(d time.Duration) (perSec, perCPUSec float64, err error) {
	if _, err := exec.LookPath("openssl"); err != nil {
		return 0, 0, nil
	}
	if perSec, err = opensslSpeed(d, runtime.GOMAXPROCS(0)); err != nil {
		return 0, 0, err
	}
	if perCPUSec, err = opensslSpeed(d, 1); err != nil {
		return 0, 0, err
	}
	return round(perSec, 1), round(perCPUSec, 1), nil
}

// versionSignerRE reads the signer from `latch version`: "latch devel
// (go1.26.8, signer openssl)".
var versionSignerRE = regexp.MustCompile(`signer ([a-z0-9]+)\)`)

// latchSigner asks the latch binary which RS256 signer it was built with
// ("unknown" for a latch that does not say).
func latchSigner(bin string) (string, error) {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w", bin, err)
	}
	if m := versionSignerRE.FindSubmatch(out); m != nil {
		return string(m[1]), nil
	}
	return "unknown", nil
}

// buildVariant is how this binary was built, as go build flags and
// environment for building latch the same way: -tags (e.g. openssl),
// GOEXPERIMENT (e.g. boringcrypto; empty clears one inherited from the
// environment) and CGO_ENABLED.
func buildVariant() (flags, env []string) {
	env = []string{"GOEXPERIMENT="}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, env
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "-tags":
			flags = append(flags, "-tags", s.Value)
		case "GOEXPERIMENT":
			env[0] = "GOEXPERIMENT=" + s.Value
		case "CGO_ENABLED":
			env = append(env, "CGO_ENABLED="+s.Value)
		}
	}
	return flags, env
}
