package server_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestAccessLogLine: one line per request with the method, the path (never
// the query), the status, the size, the duration and the request id once,
// last; and the response carries the baseline headers once each.
func TestAccessLogLine(t *testing.T) {
	srv, _, logs := start(t)
	tests := []struct {
		name, method, target, path string
		status                     int
	}{
		{"Healthz", "GET", "/healthz?x=SECRET", "/healthz", 200},
		{"JWKS", "GET", "/.well-known/jwks.json", "/.well-known/jwks.json", 200},
		{"Unknown", "GET", "/no/such", "/no/such", 404},
		{"Userinfo", "POST", "/userinfo", "/userinfo", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			for _, h := range []string{"X-Request-Id", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy"} {
				if n := len(resp.Header.Values(h)); n != 1 {
					t.Errorf("%s sent %d times, want once", h, n)
				}
			}
			id := resp.Header.Get("X-Request-Id")
			line := ""
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, id) {
					line = l
				}
			}
			want := regexp.MustCompile(`level=INFO msg=request method=` + tc.method + ` path=` + regexp.QuoteMeta(tc.path) +
				` status=` + strconv.Itoa(tc.status) + ` bytes=\d+ duration_ms=[0-9.]+ request_id=` + id + `$`)
			if !want.MatchString(line) || strings.Count(line, "request_id=") != 1 || strings.Contains(line, "SECRET") {
				t.Errorf("access log line %q does not match %s", line, want)
			}
		})
	}
}
