package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// accessLogger writes the one access-log line of each request: straight to
// sink when it is set and the line needs no quoting, through log's handler
// otherwise. sink must be the writer of log's handler, a slog.TextHandler
// without options (see Deps.AccessLog), so both ways give the same bytes.
type accessLogger struct {
	log  *slog.Logger
	sink io.Writer
}

// write logs one answered request at time now: the same record
// log.InfoContext(ctx, "request", ...) gives through LogHandler (request id
// last), without the caller's program counter, which slog.Logger looks up
// (runtime.Callers) for every record and the line never shows. outer is
// the request's context without the request id, which is added here.
func (al accessLogger) write(outer context.Context, now time.Time, r *http.Request, sw *statusWriter, took time.Duration, id string) {
	hd := al.log.Handler()
	if !hd.Enabled(outer, slog.LevelInfo) {
		return
	}
	durMS := float64(took.Microseconds()) / 1000
	if al.sink != nil {
		bp := lineBufs.Get().(*[]byte)
		line, ok := appendAccessLine((*bp)[:0], now, r.Method, r.URL.Path, sw.status, sw.bytes, durMS, id)
		if ok {
			_, _ = al.sink.Write(line) // one write per line: lines never interleave
		}
		if cap(line) <= 4<<10 { // a long path's buffer is left to the GC
			*bp = line
			lineBufs.Put(bp)
		}
		if ok {
			return
		}
	}
	rec := slog.NewRecord(now, slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
		slog.Float64("duration_ms", durMS),
		slog.String("request_id", id))
	_ = hd.Handle(outer, rec)
}

// lineBufs recycles the buffers of access-log lines.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendAccessLine appends the access-log line slog.TextHandler (without
// options) writes for the record write makes, newline included. It reports
// false, leaving the line to slog, when a string would need quoting, the
// year has other than four digits or the time is zero (slog leaves it out).
func appendAccessLine(b []byte, now time.Time, method, path string, status, bytes int, durMS float64, id string) ([]byte, bool) {
	if !plain(method) || !plain(path) || !plain(id) || now.IsZero() {
		return b, false
	}
	b = append(b, "time="...)
	b, ok := appendTimeMillis(b, now)
	if !ok {
		return b, false
	}
	b = append(b, " level=INFO msg=request method="...)
	b = append(b, method...)
	b = append(b, " path="...)
	b = append(b, path...)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, int64(bytes), 10)
	b = append(b, " duration_ms="...)
	b = strconv.AppendFloat(b, durMS, 'g', -1, 64)
	b = append(b, " request_id="...)
	b = append(b, id...)
	return append(b, '\n'), true
}

// plain reports whether slog's text format writes s as it is: not empty,
// and printable ASCII other than space, '=' and '"'. It is stricter than
// slog (which also leaves most printable non-ASCII unquoted); what it
// refuses is left to slog.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '=' || c == '"' {
			return false
		}
	}
	return true
}

// appendTimeMillis appends t as slog's text format does: RFC 3339 with
// the fraction truncated to milliseconds, always three digits
// ("2006-01-02T15:04:05.000Z07:00"). It reports false for years of other
// than four digits.
func appendTimeMillis(b []byte, t time.Time) ([]byte, bool) {
	n := len(b)
	b = t.AppendFormat(b, time.RFC3339) // "2006-01-02T15:04:05Z07:00": the fast layout
	const frac = len("2006-01-02T15:04:05")
	if len(b) < n+frac+1 || b[n+4] != '-' || b[n+frac-3] != ':' {
		return b[:n], false
	}
	ms := t.Nanosecond() / 1e6
	b = append(b, "...."...) // room for ".000" before the zone
	copy(b[n+frac+4:], b[n+frac:len(b)-4])
	b[n+frac] = '.'
	b[n+frac+1] = byte('0' + ms/100)
	b[n+frac+2] = byte('0' + ms/10%10)
	b[n+frac+3] = byte('0' + ms%10)
	return b, true
}
