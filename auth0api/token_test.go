package auth0api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestTokenForm(t *testing.T) {
	pub := &Client{Domain: "http://127.0.0.1:1", ClientID: "cli"}
	conf := &Client{Domain: "http://127.0.0.1:1", ClientID: "web", ClientSecret: "s3cret"}
	cases := []struct {
		name    string
		c       *Client
		req     ExchangeRequest
		want    url.Values
		wantErr bool
	}{
		{name: "code with PKCE", c: pub, req: ExchangeRequest{Code: "c", RedirectURI: "http://127.0.0.1:5/cb", CodeVerifier: "v", Audience: "https://api/"},
			want: url.Values{"grant_type": {"authorization_code"}, "client_id": {"cli"}, "code": {"c"},
				"redirect_uri": {"http://127.0.0.1:5/cb"}, "code_verifier": {"v"}, "audience": {"https://api/"}}},
		{name: "refresh", c: pub, req: ExchangeRequest{RefreshToken: "r", Scope: "openid"},
			want: url.Values{"grant_type": {"refresh_token"}, "client_id": {"cli"}, "refresh_token": {"r"}, "scope": {"openid"}}},
		{name: "client_secret_post", c: conf, req: ExchangeRequest{GrantType: "authorization_code", Code: "c"},
			want: url.Values{"grant_type": {"authorization_code"}, "client_id": {"web"}, "client_secret": {"s3cret"}, "code": {"c"}}},
		{name: "other grant passes through", c: conf, req: ExchangeRequest{GrantType: "client_credentials", Audience: "a"},
			want: url.Values{"grant_type": {"client_credentials"}, "client_id": {"web"}, "client_secret": {"s3cret"}, "audience": {"a"}}},
		{name: "nothing to exchange", c: pub, req: ExchangeRequest{}, wantErr: true},
		{name: "code grant without code", c: pub, req: ExchangeRequest{GrantType: "authorization_code"}, wantErr: true},
		{name: "refresh grant without token", c: pub, req: ExchangeRequest{GrantType: "refresh_token", Code: "c"}, wantErr: true},
		{name: "no client id", c: &Client{Domain: "http://x"}, req: ExchangeRequest{Code: "c"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.tokenForm(tc.req)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && got.Encode() != tc.want.Encode() {
				t.Fatalf("form\n got %s\nwant %s", got.Encode(), tc.want.Encode())
			}
		})
	}
}

// TestBrokenServers: whatever a server (or a proxy in front of it) answers,
// the client returns an error, never a half-filled result or a panic.
func TestBrokenServers(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		ctype   string
		body    string
		errCode string // an *Error with this code; "-" an *Error without code; "" another error
	}{
		{name: "proxy error page", status: 502, ctype: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>", errCode: "-"},
		{name: "HTML with 200", status: 200, ctype: "text/html", body: "<html>login</html>"},
		{name: "JSON without token", status: 200, ctype: "application/json", body: `{"token_type":"Bearer"}`},
		{name: "JSON error", status: 429, ctype: "application/json", body: `{"error":"too_many_attempts","error_description":"Slow down"}`, errCode: "too_many_attempts"},
		{name: "huge body", status: 200, ctype: "application/json", body: `{"access_token":"` + strings.Repeat("a", maxBody) + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := &Client{Domain: srv.URL, ClientID: "cli"}
			ctx := context.Background()
			_, tokErr := c.ExchangeForToken(ctx, ExchangeRequest{Code: "c"})
			_, infoErr := c.UserInfo(ctx, "at")
			for _, err := range []error{tokErr, infoErr} {
				var e *Error
				switch {
				case err == nil:
					t.Fatalf("no error")
				case tc.errCode == "":
					if errors.As(err, &e) {
						t.Fatalf("err = %v, want a decoding error", err)
					}
				case !errors.As(err, &e) || (tc.errCode == "-" && e.Code != "") || (tc.errCode != "-" && e.Code != tc.errCode):
					t.Fatalf("err = %v, want *Error %q", err, tc.errCode)
				}
			}
		})
	}
	t.Run("server gone", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := &Client{Domain: srv.URL, ClientID: "cli"}
		if _, err := c.UserInfo(context.Background(), "at"); err == nil {
			t.Fatal("no error")
		}
		if _, err := c.Logout(context.Background(), ""); err == nil {
			t.Fatal("no error")
		}
	})
}
