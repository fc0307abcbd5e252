package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// accessLines logs one request both ways, through the fast sink and
// through slog alone, and returns the two outputs and whether the fast
// formatter took the line.
func accessLines(t testing.TB, now time.Time, method, path string, status, size int, took time.Duration, id string) (fast, slow string, direct bool) {
	t.Helper()
	var fb, sb bytes.Buffer
	withSink := accessLogger{log: slog.New(LogHandler(slog.NewTextHandler(&fb, nil))), sink: &fb}
	slogOnly := accessLogger{log: slog.New(LogHandler(slog.NewTextHandler(&sb, nil)))}
	r := httptest.NewRequest("GET", "/", nil)
	r.Method, r.URL.Path = method, path
	sw := &statusWriter{status: status, bytes: size}
	withSink.write(context.Background(), now, r, sw, took, id)
	slogOnly.write(context.Background(), now, r, sw, took, id)
	_, direct = appendAccessLine(nil, now, method, path, status, size, float64(took.Microseconds())/1000, id)
	return fb.String(), sb.String(), direct
}

// TestAccessLogLineFast: the line written straight to the sink is the one
// slog.TextHandler writes, and lines that need quoting are left to slog.
func TestAccessLogLineFast(t *testing.T) {
	fixed := time.Date(2026, 3, 4, 5, 6, 7, 89_999_999, time.UTC)
	tests := []struct {
		name         string
		now          time.Time
		method, path string
		status, size int
		took         time.Duration
		id           string
		direct       bool
	}{
		{"plain", fixed, "GET", "/.well-known/jwks.json", 200, 1234, 123456 * time.Nanosecond, "0123456789abcdef", true},
		{"now", time.Now(), "POST", "/oauth/token", 400, 88, 2 * time.Millisecond, "00000000000000ff", true},
		{"local zone", fixed.In(time.FixedZone("X", -(5*3600 + 30*60))), "GET", "/x", 404, 0, 0, "ffffffffffffffff", true},
		{"whole second", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "GET", "/", 200, 1, time.Microsecond, "a", true},
		{"status never set", fixed, "GET", "/x", 0, 0, 999 * time.Nanosecond, "b", true},
		{"long duration", fixed, "GET", "/x", 200, 5, 1234567 * time.Second, "c", true},
		{"backslash", fixed, "GET", `/a\b`, 200, 5, time.Millisecond, "c", true},
		{"space in path", fixed, "GET", "/a b", 200, 5, time.Millisecond, "c", false},
		{"equals in path", fixed, "GET", "/a=b", 200, 5, time.Millisecond, "c", false},
		{"quote in path", fixed, "GET", `/a"b`, 200, 5, time.Millisecond, "c", false},
		{"unicode path", fixed, "GET", "/é", 200, 5, time.Millisecond, "c", false},
		{"control byte", fixed, "GET", "/a\x01", 200, 5, time.Millisecond, "c", false},
		{"empty method", fixed, "", "/", 200, 5, time.Millisecond, "c", false},
		{"five-digit year", time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC), "GET", "/", 200, 5, 0, "c", false},
		{"negative year", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), "GET", "/", 200, 5, 0, "c", false},
		{"zero time", time.Time{}.In(time.FixedZone("Y", 3600)), "GET", "/", 200, 5, 0, "c", false},
		{"year 99", time.Date(99, 1, 1, 0, 0, 0, 5e6, time.UTC), "GET", "/", 200, 5, 0, "c", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast, slow, direct := accessLines(t, tc.now, tc.method, tc.path, tc.status, tc.size, tc.took, tc.id)
			if fast != slow {
				t.Errorf("with the sink:\n%q\nslog alone:\n%q", fast, slow)
			}
			if direct != tc.direct {
				t.Errorf("written directly: %v, want %v", direct, tc.direct)
			}
			if strings.Count(fast, "\n") != 1 || !strings.Contains(fast, "level=INFO msg=request method=") {
				t.Errorf("not one line: %q", fast)
			}
		})
	}
}

// TestAccessLogLevel: with INFO disabled nothing is written to the sink.
func TestAccessLogLevel(t *testing.T) {
	var b bytes.Buffer
	al := accessLogger{sink: &b, log: slog.New(LogHandler(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})))}
	al.write(context.Background(), time.Now(), httptest.NewRequest("GET", "/x", nil), &statusWriter{status: 200}, time.Millisecond, "abc")
	if b.Len() != 0 {
		t.Fatalf("INFO line written at level WARN: %q", b.String())
	}
}

// FuzzAccessLogLine: for any request and time, the line written with the
// sink is the line slog.TextHandler writes for the same record.
func FuzzAccessLogLine(f *testing.F) {
	f.Add(int64(1772600767), int64(89_999_999), 0, "GET", "/.well-known/jwks.json", 200, 1234, int64(123456), "0123456789abcdef")
	f.Add(int64(-62135596800), int64(0), -19800, "POST", "/a b", 0, 0, int64(0), "")
	f.Add(int64(253402300799), int64(999_999_999), 3600, "GET", "/é=\"", 404, -1, int64(-5000), "x")
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int, method, path string, status, size int, took int64, id string) {
		now := time.Unix(sec, nsec).In(time.FixedZone("Z", offset%(24*3600)))
		fast, slow, _ := accessLines(t, now, method, path, status, size, time.Duration(took), id)
		if fast != slow {
			t.Fatalf("with the sink:\n%q\nslog alone:\n%q", fast, slow)
		}
	})
}
