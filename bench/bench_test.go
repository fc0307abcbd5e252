package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary play the bare handler's child process,
// which the benchmark starts from its own executable.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "bare-server" {
		if err := serveBare(os.Args[2]); err != nil {
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		head      bool
		wantErr   bool
		status    int
		body      string
		location  string
		cookies   []string
		wantClose bool
	}{
		{name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
			status: 200, body: "hello"},
		{name: "chunked with extension and trailer",
			raw:    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
			status: 200, body: "hello world"},
		{name: "redirect with cookies", raw: "HTTP/1.1 302 Found\r\nLocation: /u/login?state=abc\r\nSet-Cookie: a=1; Path=/\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n",
			status: 302, location: "/u/login?state=abc", cookies: []string{"a=1; Path=/", "b=2"}},
		{name: "no content", raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204},
		{name: "head has no body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", head: true, status: 200},
		{name: "connection close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", wantClose: true},
		{name: "HTTP/1.0 closes", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", wantClose: true},
		{name: "body until close", raw: "HTTP/1.1 200 OK\r\n\r\nall of it", status: 200, body: "all of it", wantClose: true},
		{name: "not HTTP", raw: "SSH-2.0-OpenSSH\r\n\r\n", wantErr: true},
		{name: "bad status", raw: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: true},
		{name: "bad length", raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: true},
		{name: "header without colon", raw: "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", wantErr: true},
		{name: "bad chunk size", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantErr: true},
		{name: "truncated body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			err := readResponse(bufio.NewReader(strings.NewReader(tc.raw)), &r, tc.head)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error; response %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.status || string(r.Body) != tc.body || r.Location != tc.location || r.close != tc.wantClose {
				t.Fatalf("got status %d body %q location %q close %v", r.Status, r.Body, r.Location, r.close)
			}
			if strings.Join(r.SetCookie, "|") != strings.Join(tc.cookies, "|") {
				t.Fatalf("cookies %q, want %q", r.SetCookie, tc.cookies)
			}
		})
	}
}

func TestAppendRequest(t *testing.T) {
	got := string(appendRequest(nil, "127.0.0.1:1000", &request{Method: "POST", Path: "/oauth/token",
		Header: []string{"Content-Type: application/x-www-form-urlencoded"}, Body: []byte("a=b")}))
	want := "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:1000\r\nUser-Agent: latch-bench\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{"p99 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p0", ms(1, 2, 3), 0, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}

func TestJSONStringAndCookie(t *testing.T) {
	body := []byte(`{"access_token":"a.b.c","refresh_token":"r-1","expires_in":86400}`)
	for name, want := range map[string]string{"access_token": "a.b.c", "refresh_token": "r-1", "id_token": ""} {
		if got := jsonString(body, name); got != want {
			t.Errorf("jsonString(%s) = %q, want %q", name, got, want)
		}
	}
	sc := []string{"other=1; Path=/", "latch_session=abc; Path=/; HttpOnly"}
	if got := cookieValue(sc, "latch_session"); got != "abc" {
		t.Errorf("cookieValue = %q", got)
	}
	if got := cookieValue(sc, "missing"); got != "" {
		t.Errorf("cookieValue(missing) = %q", got)
	}
}

// TestGangWindows: only measured windows count, a paused gang does no
// work, and running out of work ends the gang early.
func TestGangWindows(t *testing.T) {
	var calls atomic.Int64
	g := newCPUGang(func() error { calls.Add(1); return nil })
	defer g.stop()
	g.window(20*time.Millisecond, false)
	if g.count.Load() != 0 || calls.Load() == 0 {
		t.Fatalf("unmeasured window: counted %d of %d calls", g.count.Load(), calls.Load())
	}
	paused := calls.Load()
	time.Sleep(10 * time.Millisecond)
	if calls.Load() != paused {
		t.Fatalf("a paused gang made %d calls", calls.Load()-paused)
	}
	g.window(20*time.Millisecond, true)
	if g.count.Load() == 0 || g.count.Load() != calls.Load()-paused {
		t.Fatalf("measured window counted %d of %d calls", g.count.Load(), calls.Load()-paused)
	}
	if r, err := g.rate(); err != nil || r.PerSec <= 0 {
		t.Fatalf("rate = %+v, %v", r, err)
	}

	boom := errors.New("boom")
	bad := newCPUGang(func() error { return boom })
	defer bad.stop()
	bad.window(time.Hour, true) // returns as soon as every member failed
	if _, err := bad.rate(); !errors.Is(err, boom) {
		t.Fatalf("rate error = %v, want %v", err, boom)
	}
}

func TestQueue(t *testing.T) {
	q := &queue{items: []string{"a", "b"}}
	for _, want := range []string{"a", "b"} {
		if got, err := q.take(); got != want || err != nil {
			t.Fatalf("take = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := q.take(); !errors.Is(err, errExhausted) {
		t.Fatalf("take on empty = %v", err)
	}
}

// TestBenchmarkRuns runs the whole benchmark briefly against a freshly
// built latch and checks the JSON it writes: every scenario asked for is
// there, with requests and no errors.
func TestBenchmarkRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds latch and runs it (-short)")
	}
	out := filepath.Join(t.TempDir(), "out.json")
	o := options{duration: 400 * time.Millisecond, warmup: 100 * time.Millisecond, ceilingDur: 200 * time.Millisecond,
		slice: 200 * time.Millisecond, conns: 2, coldStarts: 1, jsonPath: out,
		scenarios: "code_openid,refresh,userinfo_jwt,discovery,authorize_sso"}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 5 || rep.ColdStartMS <= 0 || rep.IdleRSSMB <= 0 || rep.PeakRSSMB < rep.IdleRSSMB {
		t.Fatalf("report: %d scenarios, cold start %v ms, RSS idle %v peak %v", len(rep.Scenarios), rep.ColdStartMS, rep.IdleRSSMB, rep.PeakRSSMB)
	}
	for _, r := range rep.Scenarios {
		if r.Requests == 0 || r.Errors != 0 || r.RPS <= 0 || r.Ratio <= 0 || r.CeilingValue <= 0 {
			t.Errorf("%s: %d requests, %d errors (%s), %v rps, ratio %v", r.Name, r.Requests, r.Errors, r.FirstError, r.RPS, r.Ratio)
		}
	}
}
