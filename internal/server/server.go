package server

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/web"
)

// Deps is what the handler needs. Config is a function so that a SIGHUP
// reload takes effect on the next request without restarting anything.
type Deps struct {
	Config    func() *config.Config
	Store     store.Store
	Keys      *keys.Manager
	Passwords *password.Hasher
	Logger    *slog.Logger
	// AccessLog, when set, is the writer Logger's handler writes to, and
	// that handler is LogHandler(slog.NewTextHandler(AccessLog, opts)) with
	// opts nil or setting the Level only. The access-log lines then go
	// straight to it, formatted here byte for byte as that handler would,
	// one Write each, so it must be safe for concurrent use (latch serve's
	// log buffer is). Leave it nil for any other Logger.
	AccessLog io.Writer
	Now       func() time.Time
	// Pages are the parsed page templates; nil parses them (once, for
	// every handler that renders a page).
	Pages *web.Pages
}

// New returns latch's whole HTTP handler.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Pages == nil {
		d.Pages = web.MustParse()
	}
	mux := http.NewServeMux()
	m := newMetrics()
	mux.Handle("GET /metrics", m.handler())
	routes(mux, d)
	return middleware(rateLimit(mux, d), accessLogger{log: d.Logger, sink: d.AccessLog}, m)
}
