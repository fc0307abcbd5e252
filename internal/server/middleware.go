package server

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
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
	if c, ok := ctx.Value(requestIDKey).(*requestCtx); ok {
		return c.id[0]
	}
	return ""
}

// requestCtx is a request's context: its parent with the request id. It
// is one allocation where context.WithValue makes two (the context and the
// id boxed in an interface), and it holds the X-Request-Id header's value.
type requestCtx struct {
	context.Context
	id [1]string
}

// Value answers requestIDKey with c itself (a pointer boxes without
// allocating) and every other key from the parent.
func (c *requestCtx) Value(key any) any {
	if key == requestIDKey {
		return c
	}
	return c.Context.Value(key)
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
func middleware(next http.Handler, al accessLogger, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		outer := r.Context()
		ctx := &requestCtx{Context: outer, id: [1]string{newRequestID()}}
		id := ctx.id[0]
		r = r.WithContext(ctx)

		h := w.Header()
		h["X-Request-Id"] = ctx.id[:] // capacity 1: Header.Add copies it
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
				al.log.ErrorContext(ctx, "panic serving request", "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					http.Error(sw, `{"error":"server_error","error_description":"Internal error"}`, http.StatusInternalServerError)
				}
			}
			// One clock read for both: time.Since reads only the
			// monotonic clock, and the log's time is start plus took.
			took := time.Since(start)
			end := start.Add(took)
			if m != nil {
				m.observe(r, sw.status, took)
			}
			al.write(outer, end, r, sw, took, id)
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

// newRequestID returns 16 random lowercase hex digits. Request ids are not
// secrets: the runtime's generator (math/rand/v2, no system call) will do.
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [16]byte
	v := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
