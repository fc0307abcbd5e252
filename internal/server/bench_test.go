package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store/sqlite"
)

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmarks below measure latch's handler rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchJWKS serves GET /.well-known/jwks.json through the whole handler
// (server.New: middleware, metrics, rate limiter, mux, CORS) with the
// logger latch serve builds, its output discarded.
func benchJWKS(b *testing.B, sink io.Writer) {
	ctx := context.Background()
	cfg := &config.Config{Issuer: "http://latch.test/"}
	if err := cfg.Finalize(); err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	km := keys.NewManager(st, []byte("0123456789abcdef0123456789abcdef"), keys.Options{})
	if err := km.Init(ctx); err != nil {
		b.Fatal(err)
	}
	h := server.New(server.Deps{
		Config: func() *config.Config { return cfg }, Store: st, Keys: km,
		Passwords: password.New(password.Params{Memory: 64, Time: 1, Threads: 1}, 2),
		Logger:    slog.New(server.LogHandler(slog.NewTextHandler(io.Discard, nil))),
		AccessLog: sink,
	})
	req := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	// CPU per request, the garbage collector's included: steadier than
	// ns/op on a machine that runs other work.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServerJWKS: as latch serve runs, the access log written
// straight to the log writer.
func BenchmarkServerJWKS(b *testing.B) { benchJWKS(b, io.Discard) }

// BenchmarkServerJWKSSlogOnly: the access log formatted by slog.
func BenchmarkServerJWKSSlogOnly(b *testing.B) { benchJWKS(b, nil) }
