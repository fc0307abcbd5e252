package oauth_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		origin  string
		allowed bool
	}{
		{"http://app.test", true},           // web_origins
		{"http://two.test", true},           // a callback's origin
		{"https://web.test", true},          // a confidential client's callback origin
		{"https://eu.example.test", true},   // wildcard web origin
		{"https://a.b.example.test", false}, // the wildcard is one label
		{"http://example.test", false},      // not the wildcard's parent
		{"https://app.test", false},         // other scheme
		{"http://app.test:8080", false},     // other port
		{"http://evil.test", false},
		{"null", false},
	}
	for _, path := range []string{"/oauth/token", "/oauth/revoke", "/userinfo", "/.well-known/openid-configuration"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.origin, func(t *testing.T) {
				pre := e.request(http.MethodOptions, path, "", "", map[string]string{
					"Origin": tt.origin, "Access-Control-Request-Method": "POST",
					"Access-Control-Request-Headers": "auth0-client, content-type",
				})
				acao := pre.header.Get("Access-Control-Allow-Origin")
				if tt.allowed {
					if pre.status != http.StatusNoContent || acao != tt.origin {
						t.Fatalf("preflight %d ACAO %q", pre.status, acao)
					}
					allow := pre.header.Get("Access-Control-Allow-Headers")
					for _, h := range []string{"Authorization", "Content-Type", "Auth0-Client"} {
						if !strings.Contains(allow, h) {
							t.Errorf("Allow-Headers %q lacks %s", allow, h)
						}
					}
					if pre.header.Get("Access-Control-Allow-Credentials") != "" {
						t.Error("credentials allowed")
					}
				} else if pre.status != http.StatusForbidden || acao != "" {
					t.Fatalf("preflight from %s: %d ACAO %q", tt.origin, pre.status, acao)
				}
				if !slices.Contains(pre.header.Values("Vary"), "Origin") {
					t.Errorf("Vary = %v", pre.header.Values("Vary"))
				}
			})
		}
	}
	r := e.postForm("/oauth/token", url.Values{}, map[string]string{"Origin": "http://app.test"})
	if r.header.Get("Access-Control-Allow-Origin") != "http://app.test" {
		t.Errorf("error answer lacks CORS header: %v", r.header)
	}
	r = e.postForm("/oauth/token", url.Values{}, map[string]string{"Origin": "http://evil.test"})
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS header for a foreign origin")
	}
}

func TestDiscoveryListsTokenEndpoints(t *testing.T) {
	e := newEnv(t, false)
	r := e.get("/.well-known/openid-configuration", nil)
	want := map[string]string{
		"issuer": issuer, "token_endpoint": "http://latch.test/oauth/token", "userinfo_endpoint": "http://latch.test/userinfo",
		"revocation_endpoint": "http://latch.test/oauth/revoke", "end_session_endpoint": "http://latch.test/oidc/logout",
	}
	for k, v := range want {
		if r.str(k) != v {
			t.Errorf("%s = %q, want %q", k, r.str(k), v)
		}
	}
	methods, _ := r.json["token_endpoint_auth_methods_supported"].([]any)
	if len(methods) != 3 {
		t.Errorf("token_endpoint_auth_methods_supported = %v", methods)
	}
	grants, _ := r.json["grant_types_supported"].([]any)
	if !slices.Contains(grants, any("refresh_token")) || !slices.Contains(grants, any("client_credentials")) {
		t.Errorf("grant_types_supported = %v", grants)
	}
}
