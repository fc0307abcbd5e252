package attacktest

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/server"
)

// serve runs the test tenant's handler with latch's own http.Server
// settings (server.Serve: header and read timeouts, header size cap) on
// 127.0.0.1 and returns its address.
func serve(t *testing.T) string {
	t.Helper()
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, e.Server.Config.Handler, "", "", slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// raw sends bytes on a new connection and returns the status line of the
// answer ("" when the server closed the connection without one).
func raw(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

// TestJunkRequests: malformed request lines, headers and paths get a 4xx
// (or, for an unclean path, a redirect to its clean form), never a 5xx.
func TestJunkRequests(t *testing.T) {
	t.Parallel()
	addr := serve(t)
	tests := []struct{ name, req, want string }{
		{"garbage", "GARBAGE\r\n\r\n", "HTTP/1.1 400"},
		{"no version", "GET /\r\n\r\n", "HTTP/1.1 400"},
		{"bad version", "GET / HTTP/9.9\r\nHost: x\r\n\r\n", "HTTP/1.1 505"},
		{"no host", "GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 400"},
		{"header without colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n", "HTTP/1.1 400"},
		{"control character in header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", "HTTP/1.1 400"},
		{"huge header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", "HTTP/1.1 431"},
		{"many headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 8000) + "\r\n", "HTTP/1.1 431"},
		{"dot segments", "GET /u/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 3"}, // to the clean path
		{"bad escape", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400"},
		{"NUL in path", "GET /authorize%00 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404"},
		{"long path", "GET /" + strings.Repeat("a", 20<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404"},
		{"unknown method", "BREW /oauth/token HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 4"},
		{"TRACE", "TRACE /authorize HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 4"},
		{"body length lies", "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{}", ""},
		{"huge content length", "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\nContent-Type: application/json\r\n\r\n{}", "HTTP/1.1 413"},
		{"negative content length", "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 400"},
		{"smuggling: both lengths", "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the lying body waits for the read timeout
			got := raw(t, addr, tt.req)
			if tt.want == "" {
				// The body never arrives: the read timeout ends the
				// request; any 4xx or a closed connection is fine.
				if got != "" && !strings.HasPrefix(got, "HTTP/1.1 4") {
					t.Errorf("got %q", got)
				}
				return
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want %s", got, tt.want)
			}
		})
	}
}

// TestSlowloris: a client that trickles its headers is cut off by the
// header timeout, and many of them do not keep others from being served.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	addr := serve(t)
	const slow = 50
	conns := make([]net.Conn, 0, slow)
	for range slow {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// A normal client is served meanwhile.
	res, err := (&http.Client{Timeout: 30 * time.Second}).Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("a normal request behind %d slow clients: %v", slow, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	// The slow clients keep trickling; the server hangs up on them all
	// (ReadHeaderTimeout), well before this deadline.
	deadline := time.Now().Add(60 * time.Second)
	for _, c := range conns {
		_ = c.SetDeadline(deadline)
	}
	closed := make(chan error, slow)
	for _, c := range conns {
		go func() {
			buf := make([]byte, 512)
			for {
				if _, err := io.WriteString(c, "X-A: b\r\n"); err != nil {
					closed <- nil
					return
				}
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if _, err := c.Read(buf); err != nil && !isTimeout(err) {
					closed <- nil // EOF or reset: the server hung up
					return
				}
				if time.Now().After(deadline) {
					closed <- io.ErrNoProgress
					return
				}
			}
		}()
	}
	for range slow {
		if err := <-closed; err != nil {
			t.Fatal("a slow client was never cut off")
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
