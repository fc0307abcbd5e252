package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/latch-auth/latch/internal/oauth"
)

// MaxBodyBytes caps every request body (SPEC §5).
const MaxBodyBytes = 64 << 10

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the id middleware gave the request ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// LogHandler wraps h so that every record logged with a request's context
// carries its request_id.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Baseline response headers, assigned as shared values (oauth.HeaderValue).
var baselineHeaders = [...]struct {
	key string
	val []string
}{
	{"X-Content-Type-Options", oauth.HeaderValue("nosniff")},
	{"Referrer-Policy", oauth.HeaderValue("no-referrer")},
	{"X-Frame-Options", oauth.HeaderValue("DENY")},
	{"Content-Security-Policy", oauth.HeaderValue("default-src 'none'; frame-ancestors 'none'")},
}

// middleware wraps every route: request id, body cap, baseline security
// headers (handlers that must be framed, like the web_message page, override
// them), panic recovery and one access-log line. The log has the path only,
// never the query or body: codes, tokens and state travel there.
func middleware(next http.Handler, log *slog.Logger, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		outer := r.Context()
		ctx := context.WithValue(outer, requestIDKey, id)
		r = r.WithContext(ctx)

		h := w.Header()
		h["X-Request-Id"] = []string{id}
		for _, bh := range baselineHeaders {
			h[bh.key] = bh.val
		}

		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "panic serving request", "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					http.Error(sw, `{"error":"server_error","error_description":"Internal error"}`, http.StatusInternalServerError)
				}
			}
			took := time.Since(start)
			if m != nil {
				m.observe(r, sw.status, took)
			}
			accessLog(outer, log, r, sw, took, id)
		}()
		if r.ContentLength > MaxBodyBytes {
			// A declared length over the cap is refused at once, without
			// waiting (up to the read timeout) for a body never read.
			sw.Header().Set("Content-Type", "application/json; charset=utf-8")
			sw.Header().Set("Connection", "close")
			sw.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = io.WriteString(sw, `{"error":"invalid_request","error_description":"Request body too large"}`+"\n")
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// accessLog writes the request's access-log line: the same record
// log.InfoContext(ctx, "request", ...) gives through LogHandler (request id
// last), without the caller's program counter, which slog.Logger looks up
// (runtime.Callers) for every record and the line never shows. outer is
// the request's context without the request id, which is added here.
func accessLog(outer context.Context, log *slog.Logger, r *http.Request, sw *statusWriter, took time.Duration, id string) {
	hd := log.Handler()
	if !hd.Enabled(outer, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("request_id", id))
	_ = hd.Handle(outer, rec)
}
