package auth0api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseError(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		header   http.Header
		body     string
		code     string
		desc     string
		contains string // instead of desc
	}{
		{name: "RFC 6749", status: 403, body: `{"error":"invalid_grant","error_description":"Invalid authorization code"}`,
			code: "invalid_grant", desc: "Invalid authorization code"},
		{name: "Auth0 code and description", status: 400, body: `{"code":"user_exists","description":"The user already exists."}`,
			code: "user_exists", desc: "The user already exists."},
		{name: "description object", status: 400,
			body: `{"name":"PasswordStrengthError","code":"invalid_password","description":{"rules":[{"msg":"At least 8"}]}}`,
			code: "invalid_password", desc: `{"rules":[{"msg":"At least 8"}]}`},
		{name: "error and message", status: 429, body: `{"statusCode":429,"error":"too_many_attempts","message":"Slow down"}`,
			code: "too_many_attempts", desc: "Slow down"},
		{name: "code only", status: 401, body: `{"error":"access_denied"}`, code: "access_denied"},
		{name: "number code", status: 400, body: `{"error":42,"error_description":"odd"}`, code: "42", desc: "odd"},
		{name: "Bearer challenge", status: 401, body: "Unauthorized",
			header: http.Header{"Www-Authenticate": {`Bearer realm="x", error="invalid_token", error_description="The \"token\" expired"`}},
			code:   "invalid_token", desc: `The "token" expired`},
		{name: "Basic challenge ignored", status: 401, body: "Unauthorized",
			header: http.Header{"Www-Authenticate": {`Basic realm="x", error="nope"`}}, desc: "Unauthorized"},
		{name: "HTML page", status: 400,
			body: `<!DOCTYPE html><html><head><title>Error</title><style>body{color:red}</style></head><body><h1>Oops</h1><p class="code">invalid_request</p><p>The &quot;returnTo&quot; is not allowed.</p></body></html>`,
			desc: `Oops invalid_request The "returnTo" is not allowed.`},
		{name: "empty body", status: 502, desc: "Bad Gateway"},
		{name: "JSON without error fields", status: 500, body: `{"ok":false}`, desc: `{"ok":false}`},
		{name: "long text is clipped", status: 500, body: strings.Repeat("x", 5000), contains: "…"},
		{name: "invalid UTF-8", status: 500, body: "bad \xff byte", desc: "bad \uFFFD byte"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := parseError(tc.status, tc.header, []byte(tc.body))
			if e.StatusCode != tc.status || e.Code != tc.code {
				t.Fatalf("got %+v, want status %d code %q", e, tc.status, tc.code)
			}
			if tc.contains != "" {
				if !strings.Contains(e.Description, tc.contains) || utf8.RuneCountInString(e.Description) > maxDescription+1 {
					t.Fatalf("description %q", e.Description)
				}
			} else if e.Description != tc.desc {
				t.Fatalf("description = %q, want %q", e.Description, tc.desc)
			}
		})
	}
}

func TestErrorFormatAndIs(t *testing.T) {
	e := &Error{StatusCode: 403, Code: "invalid_grant", Description: "Failed to verify code verifier"}
	if got := e.Error(); got != "auth0api: invalid_grant: Failed to verify code verifier (HTTP 403)" {
		t.Fatalf("Error() = %q", got)
	}
	front := &Error{Code: "login_required", Description: "Login required"}
	if got := front.Error(); got != "auth0api: login_required: Login required" {
		t.Fatalf("Error() = %q", got)
	}
	wrapped := errors.Join(errors.New("context"), e)
	for _, tc := range []struct {
		name   string
		target *Error
		want   bool
	}{
		{"same code", &Error{Code: "invalid_grant"}, true},
		{"same code and status", &Error{Code: "invalid_grant", StatusCode: 403}, true},
		{"other status", &Error{Code: "invalid_grant", StatusCode: 400}, false},
		{"other code", &Error{Code: "access_denied"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(wrapped, tc.target); got != tc.want {
				t.Fatalf("errors.Is = %v, want %v", got, tc.want)
			}
		})
	}
	if (&Error{}).Error() != "auth0api: request failed" {
		t.Fatal("empty Error text")
	}
}

func FuzzParseError(f *testing.F) {
	f.Add(403, `{"error":"invalid_grant","error_description":"x"}`, "")
	f.Add(400, `{"code":"c","description":{"a":1}}`, "")
	f.Add(401, "Unauthorized", `Bearer error="invalid_token", error_description="e\"x"`)
	f.Add(400, "<html><style>x</style><p>hi &amp; bye</p>", "")
	f.Add(500, "\xff\xfe", "Bearer")
	f.Fuzz(func(t *testing.T, status int, body, challenge string) {
		e := parseError(status, http.Header{"Www-Authenticate": {challenge}}, []byte(body))
		if e == nil || e.StatusCode != status {
			t.Fatalf("parseError = %+v", e)
		}
		for _, s := range []string{e.Code, e.Description} {
			if utf8.RuneCountInString(s) > maxDescription+1 {
				t.Fatalf("%d runes not clipped", utf8.RuneCountInString(s))
			}
		}
		if !utf8.ValidString(e.Description) {
			t.Fatalf("description is not UTF-8: %q", e.Description)
		}
		_ = e.Error()
	})
}
