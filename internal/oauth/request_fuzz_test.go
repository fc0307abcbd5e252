package oauth

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenRequest feeds arbitrary bodies, as form and as JSON, to the
// token-request parser: it must never panic, and every failure must be an
// *Error with a 4xx status.
func FuzzTokenRequest(f *testing.F) {
	seeds := []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "grant_type=authorization_code&client_id=spa&code=abc&redirect_uri=http%3A%2F%2Fa&code_verifier=v"},
		{"application/x-www-form-urlencoded;charset=UTF-8", "schema=%5Bobject+Blob%5D&grant_type=refresh_token&client_id=spa"},
		{"application/x-www-form-urlencoded", "code=a&code=b"},
		{"application/x-www-form-urlencoded", "a=%zz;b"},
		{"application/json", `{"grant_type":"refresh_token","refresh_token":"x","extra":{"a":[1,2]}}`},
		{"application/json", `{"code":12}`},
		{"application/json", `[]`},
		{"application/json", `null`},
		{"application/json; charset=utf-8", ``},
		{"", "grant_type=x"},
		{"text/plain", "x"},
		{"application/json; =", "{}"},
	}
	for _, s := range seeds {
		f.Add(s.ct, []byte(s.body), "")
	}
	f.Add("application/x-www-form-urlencoded", []byte("grant_type=x"), "Basic c3BhOg==")
	f.Add("application/x-www-form-urlencoded", []byte(""), "basic !!")
	f.Fuzz(func(t *testing.T, ct string, body []byte, auth string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		req, err := ParseTokenRequest(r)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) || oe.Status < 400 || oe.Status > 499 || oe.Code != "invalid_request" {
				t.Fatalf("ParseTokenRequest error %v: want a 4xx invalid_request *Error", err)
			}
			return
		}
		if req == nil {
			t.Fatal("nil request without error")
		}
		// Parsing the same JSON body again gives the same result.
		if mt := strings.ToLower(ct); strings.HasPrefix(mt, "application/json") {
			again, err := parseTokenBody(ct, body)
			if err != nil || again.GrantType != req.GrantType || again.Code != req.Code {
				t.Fatalf("second parse differs: %+v %v", again, err)
			}
		}
	})
}

// FuzzBasicAuth: the Basic header parser never panics, fails only with an
// invalid_request *Error, and never yields an empty client id.
func FuzzBasicAuth(f *testing.F) {
	for _, s := range []string{
		"Basic c3BhOg==", "Basic c3BhOnNlY3JldA==", "basic c3BhOnNlY3JldA", "Basic ", "Basic Og==",
		"Basic JTJCJTNBOiUyNQ==", "Bearer x", "Basic !!!", "Basic\tc3BhOg==", "Basic " + strings.Repeat("QUFB", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := ParseBasicAuth(header)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != "invalid_request" {
				t.Fatalf("ParseBasicAuth(%q) error %v", header, err)
			}
			return
		}
		if c.ClientID == "" || c.RawClientID == "" {
			t.Fatalf("ParseBasicAuth(%q) = empty client id", header)
		}
	})
}

// FuzzMatchURL: the allow-list matcher never panics and never allows a URL
// whose scheme or host differs from the pattern's (ignoring case).
func FuzzMatchURL(f *testing.F) {
	for _, s := range [][2]string{
		{"http://app.test/bye", "http://app.test/bye?x=1#y"},
		{"https://*.app.test/bye", "https://eu.app.test/bye"},
		{"https://*.app.test/bye", "https://a.b.app.test/bye"},
		{"http://app.test/bye", "javascript:alert(1)//http://app.test/bye"},
		{"http://app.test/bye", "http://app.test@evil.test/bye"},
		{"http://app.test", "http://app.test/"},
	} {
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, pattern, candidate string, ignoreQuery bool) {
		if !matchURL(pattern, candidate, ignoreQuery) {
			return
		}
		if !strings.Contains(pattern, "*") {
			lp, lc := strings.ToLower(pattern), strings.ToLower(candidate)
			scheme, _, _ := strings.Cut(lp, ":")
			if !strings.HasPrefix(lc, scheme+":") {
				t.Fatalf("matchURL(%q, %q): scheme differs", pattern, candidate)
			}
		}
	})
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"abc", "abc", true}, // the Pieces SDK's bare token
		{"", "", false},
		{"Bearer", "Bearer", true}, // a bare token that happens to read "Bearer" is then just invalid
		{"Bearer ", "Bearer", true},
		{"Basic abc", "", false},
		{"Bearer a b", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
