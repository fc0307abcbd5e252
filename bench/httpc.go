package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection, written for the load
// generator: like wrk it writes a request, reads the whole answer and reuses
// its buffers, so the generator takes as little of the shared cores as
// possible. It is not safe for concurrent use; every worker owns one.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	req  []byte // request buffer, reused
	resp response
}

// response is the last answer read. Body and the header strings are valid
// until the next request on the same conn (Body's bytes are reused).
type response struct {
	Status    int
	Location  string
	SetCookie []string
	Body      []byte
	close     bool
}

// request is what a scenario sends. Header lines are "Name: value".
type request struct {
	Method string
	Path   string
	Header []string
	Body   []byte
}

func dial(addr string) (*conn, error) {
	c := &conn{addr: addr}
	return c, c.connect()
}

func (c *conn) connect() error {
	if c.c != nil {
		_ = c.c.Close()
	}
	nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		c.c = nil
		return err
	}
	c.c = nc
	if c.r == nil {
		c.r = bufio.NewReaderSize(nc, 16<<10)
	} else {
		c.r.Reset(nc)
	}
	return nil
}

// Close closes the connection.
func (c *conn) Close() error {
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c = nil
	return err
}

// do sends req and reads the answer into c.resp. A transport error closes
// the connection; the next call dials again.
func (c *conn) do(req *request) (*response, error) {
	if c.c == nil {
		if err := c.connect(); err != nil {
			return nil, err
		}
	}
	c.req = appendRequest(c.req[:0], c.addr, req)
	_ = c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.c.Write(c.req); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s %s: write: %w", req.Method, req.Path, err)
	}
	if err := readResponse(c.r, &c.resp, req.Method == "HEAD"); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s %s: read: %w", req.Method, req.Path, err)
	}
	if c.resp.close {
		_ = c.Close()
	}
	return &c.resp, nil
}

// appendRequest renders req as HTTP/1.1 bytes.
func appendRequest(b []byte, host string, req *request) []byte {
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.Path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUser-Agent: latch-bench\r\n"...)
	for _, h := range req.Header {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	if req.Body != nil || req.Method == "POST" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(req.Body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, req.Body...)
}

var errMalformed = errors.New("malformed HTTP response")

// readResponse reads one response (status line, headers, body by
// Content-Length or chunked encoding) into resp, reusing resp.Body.
func readResponse(r *bufio.Reader, resp *response, head bool) error {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	resp.Status = status
	resp.Location = ""
	resp.SetCookie = resp.SetCookie[:0]
	resp.close = line[7] == '0' // HTTP/1.0
	length := int64(-1)
	chunked := false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("%w: header %q", errMalformed, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case asciiEqualFold(name, "Location"):
			resp.Location = string(value)
		case asciiEqualFold(name, "Set-Cookie"):
			resp.SetCookie = append(resp.SetCookie, string(value))
		case asciiEqualFold(name, "Connection"):
			if bytes.EqualFold(value, []byte("close")) {
				resp.close = true
			}
		}
	}
	resp.Body = resp.Body[:0]
	switch {
	case head || status == 204 || status == 304 || status/100 == 1:
		return nil
	case chunked:
		return readChunked(r, resp)
	case length >= 0:
		if length > 16<<20 {
			return fmt.Errorf("%w: body of %d bytes", errMalformed, length)
		}
		resp.Body = grow(resp.Body, int(length))
		_, err := io.ReadFull(r, resp.Body)
		return err
	default:
		// No length: the body runs to the end of the connection.
		resp.close = true
		b, err := io.ReadAll(r)
		resp.Body = append(resp.Body, b...)
		return err
	}
}

func readChunked(r *bufio.Reader, resp *response) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 || n > 16<<20 {
			return fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			// Trailers, then the empty line.
			for {
				t, err := r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return nil
				}
			}
		}
		start := len(resp.Body)
		resp.Body = grow(resp.Body, start+int(n))
		if _, err := io.ReadFull(r, resp.Body[start:]); err != nil {
			return err
		}
		if crlf, err := r.ReadSlice('\n'); err != nil || len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return fmt.Errorf("%w: chunk not followed by CRLF", errMalformed)
		}
	}
}

// grow returns b resized to n bytes, keeping its contents.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

func asciiEqualFold(b []byte, s string) bool {
	return len(b) == len(s) && strings.EqualFold(string(b), s)
}

// cookieValue returns the value of the cookie name among Set-Cookie lines.
func cookieValue(setCookie []string, name string) string {
	for _, sc := range setCookie {
		pair, _, _ := strings.Cut(sc, ";")
		k, v, ok := strings.Cut(pair, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
