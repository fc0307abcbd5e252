package auth0api

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuthorizeURL(t *testing.T) {
	c := &Client{Domain: "https://tenant.auth0.com/", ClientID: "abc"}
	cases := []struct {
		name    string
		client  *Client
		req     AuthorizeRequest
		want    url.Values
		prefix  string
		wantErr bool
	}{
		{name: "seed fields", client: c, req: AuthorizeRequest{
			Audience: "https://api/", Scope: []string{"openid", "email", "profile", "offline_access"},
			CodeChallenge: "ch", ResponseMode: "form_post", State: "st", RedirectURI: "http://localhost:3000/cb",
			Connection: "Username-Password-Authentication", Prompt: "login",
		}, want: url.Values{
			"audience": {"https://api/"}, "scope": {"openid email profile offline_access"}, "response_type": {"code"},
			"client_id": {"abc"}, "code_challenge_method": {"S256"}, "code_challenge": {"ch"}, "response_mode": {"form_post"},
			"state": {"st"}, "redirect_uri": {"http://localhost:3000/cb"}, "connection": {"Username-Password-Authentication"},
			"prompt": {"login"},
		}, prefix: "https://tenant.auth0.com/authorize?"},
		{name: "OIDC extras", client: c, req: AuthorizeRequest{
			ClientID: "other", Nonce: "n", MaxAge: 1500 * time.Millisecond, LoginHint: "ann@example.com", ScreenHint: "signup",
			Extra: url.Values{"ui_locales": {"fr"}, "client_id": {"ignored"}},
		}, want: url.Values{
			"response_type": {"code"}, "client_id": {"other"}, "nonce": {"n"}, "max_age": {"2"},
			"login_hint": {"ann@example.com"}, "screen_hint": {"signup"}, "ui_locales": {"fr"},
		}},
		{name: "bare host gets https", client: &Client{Domain: "tenant.eu.auth0.com", ClientID: "x"},
			want: url.Values{"response_type": {"code"}, "client_id": {"x"}}, prefix: "https://tenant.eu.auth0.com/authorize?"},
		{name: "no client id", client: &Client{Domain: "http://127.0.0.1:1000"}, wantErr: true},
		{name: "no domain", client: &Client{ClientID: "x"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.client.AuthorizeURL(tc.req)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if tc.prefix != "" && !strings.HasPrefix(got, tc.prefix) {
				t.Fatalf("URL %s, want prefix %s", got, tc.prefix)
			}
			u, _ := url.Parse(got)
			if u.Query().Encode() != tc.want.Encode() {
				t.Fatalf("query\n got %s\nwant %s", u.Query().Encode(), tc.want.Encode())
			}
		})
	}
}

func TestLoopbackListener(t *testing.T) {
	cases := []struct {
		name    string
		uri     string
		prefix  string
		path    string
		wantErr bool
	}{
		{name: "default", uri: "", prefix: "http://127.0.0.1:", path: "/callback"},
		{name: "no port", uri: "http://127.0.0.1/cb", prefix: "http://127.0.0.1:", path: "/cb"},
		{name: "port 0", uri: "http://127.0.0.1:0/cb?x=1", prefix: "http://127.0.0.1:", path: "/cb"},
		{name: "localhost", uri: "http://localhost/", prefix: "http://localhost:", path: "/"},
		{name: "no path", uri: "http://127.0.0.1", prefix: "http://127.0.0.1:", path: "/"},
		{name: "https", uri: "https://127.0.0.1/cb", wantErr: true},
		{name: "not loopback", uri: "http://example.com/cb", wantErr: true},
		{name: "private-use scheme", uri: "com.example.app:/oauth", wantErr: true},
		{name: "fragment", uri: "http://127.0.0.1/cb#x", wantErr: true},
		{name: "user info", uri: "http://u:p@127.0.0.1/cb", wantErr: true},
		{name: "unparsable", uri: "http://[::1/cb", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln, redirect, err := loopbackListener(tc.uri, nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			defer ln.Close()
			u, _ := url.Parse(redirect)
			if !strings.HasPrefix(redirect, tc.prefix) || u.Path != tc.path || u.Port() == "0" || u.Port() == "" {
				t.Fatalf("redirect %s (listening on %s)", redirect, ln.Addr())
			}
		})
	}
	t.Run("given listener, port mismatch", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := loopbackListener("http://127.0.0.1:1/cb", ln); err == nil {
			t.Fatal("want an error")
		}
		if _, err := ln.Accept(); err == nil {
			t.Fatal("the listener was not closed")
		}
	})
}

// answer is an OpenBrowser that plays the server: it sends the browser to
// the redirect URI with the given parameters, as /authorize would.
// The status of the page the browser got is sent on status: Authorize
// returns as soon as the answer arrives, before the browser is done.
func answer(method string, params func(state string) url.Values, status chan<- int) func(string) error {
	return func(authURL string) error {
		u, _ := url.Parse(authURL)
		q := u.Query()
		p := params(q.Get("state"))
		var res *http.Response
		var err error
		if method == http.MethodPost {
			res, err = http.PostForm(q.Get("redirect_uri"), p)
		} else {
			res, err = http.Get(q.Get("redirect_uri") + "?" + p.Encode())
		}
		if err != nil {
			status <- 0
			return err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		status <- res.StatusCode
		return nil
	}
}

func TestAuthorizeCallback(t *testing.T) {
	c := &Client{Domain: "http://127.0.0.1:1", ClientID: "cli"}
	code := func(state string) url.Values { return url.Values{"code": {"the-code"}, "state": {state}} }
	cases := []struct {
		name     string
		req      AuthorizeRequest
		open     func(chan<- int) func(string) error
		wantCode string
		errCode  string
		is       error
		status   int
	}{
		{name: "query", open: func(s chan<- int) func(string) error { return answer(http.MethodGet, code, s) },
			wantCode: "the-code", status: 200},
		{name: "form_post", req: AuthorizeRequest{ResponseMode: "form_post"},
			open: func(s chan<- int) func(string) error { return answer(http.MethodPost, code, s) }, wantCode: "the-code", status: 200},
		{name: "server error", open: func(s chan<- int) func(string) error {
			return answer(http.MethodGet, func(st string) url.Values {
				return url.Values{"error": {"access_denied"}, "error_description": {"User cancelled"}, "state": {st}}
			}, s)
		}, errCode: "access_denied", status: 400},
		{name: "state mismatch", open: func(s chan<- int) func(string) error {
			return answer(http.MethodGet, func(string) url.Values { return code("forged") }, s)
		}, is: ErrStateMismatch, status: 400},
		{name: "error without state", open: func(s chan<- int) func(string) error {
			return answer(http.MethodGet, func(string) url.Values { return url.Values{"error": {"login_required"}} }, s)
		}, is: ErrStateMismatch, status: 400},
		{name: "browser fails", open: func(chan<- int) func(string) error {
			return func(string) error { return errors.New("no display") }
		}, is: nil, errCode: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status := make(chan int, 1)
			res, err := c.Authorize(context.Background(), tc.req, AuthorizeOptions{OpenBrowser: tc.open(status)})
			switch {
			case tc.wantCode != "":
				if err != nil || res.Code != tc.wantCode || res.CodeVerifier == "" || res.State == "" {
					t.Fatalf("Authorize = %+v, %v", res, err)
				}
			case tc.is != nil:
				if !errors.Is(err, tc.is) {
					t.Fatalf("err = %v, want %v", err, tc.is)
				}
			case tc.errCode != "":
				var e *Error
				if !errors.As(err, &e) || e.Code != tc.errCode || e.StatusCode != 0 {
					t.Fatalf("err = %v, want *Error %s", err, tc.errCode)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), "no display") {
					t.Fatalf("err = %v, want the browser's error", err)
				}
			}
			if tc.status != 0 {
				if got := <-status; got != tc.status {
					t.Fatalf("the browser got HTTP %d, want %d", got, tc.status)
				}
			}
		})
	}
}

func TestAuthorizeRefusesUnusableRequests(t *testing.T) {
	c := &Client{Domain: "http://127.0.0.1:1", ClientID: "cli"}
	never := AuthorizeOptions{OpenBrowser: func(string) error { t.Error("browser opened"); return nil }}
	for _, tc := range []struct {
		name string
		req  AuthorizeRequest
	}{
		{"fragment mode", AuthorizeRequest{ResponseMode: "fragment"}},
		{"web_message mode", AuthorizeRequest{ResponseMode: "web_message"}},
		{"id_token response", AuthorizeRequest{ResponseType: "id_token"}},
		{"remote redirect", AuthorizeRequest{RedirectURI: "https://app.example.com/cb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Authorize(context.Background(), tc.req, never); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// TestCallbackPages: stray requests get a page and do not end the wait; a
// second answer is refused.
func TestCallbackPages(t *testing.T) {
	cb := newCallback("http://127.0.0.1:9/callback", "st")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: cb}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"favicon", "GET", "/favicon.ico", "", 404},
		{"no parameters", "GET", "/callback", "", 400},
		{"wrong method", "PUT", "/callback?code=x&state=st", "", 405},
		{"bad form", "POST", "/callback", "%zz", 400},
		{"huge form", "POST", "/callback", "code=" + strings.Repeat("x", maxCallbackBody+10), 400},
		{"answer", "GET", "/callback?code=x&state=st", "", 200},
		{"second answer", "GET", "/callback?code=y&state=st", "", 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if tc.status != 404 && (!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") ||
				!strings.Contains(string(body), "<h1>")) {
				t.Fatalf("page without CSP or heading: %v %s", res.Header, body)
			}
		})
	}
	r := <-cb.results
	if r.code != "x" || r.err != nil {
		t.Fatalf("result %+v", r)
	}
}
