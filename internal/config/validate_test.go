package config

import (
	"strings"
	"testing"
)

// base declares what client cases refer to: one API, the default connection.
const base = `
apis:
  - { identifier: "https://api.example.com/", scopes: [read:items] }
`

func TestValidationRules(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		field string
		msg   string
	}{
		// server
		{"issuer not absolute", "issuer: localhost:1000\n", nil, "issuer", "is not an absolute URL"},
		{"issuer ftp", "issuer: ftp://x/\n", nil, "issuer", "is not an absolute URL"},
		{"issuer query", "issuer: https://x/?a=b\n", nil, "issuer", "query or fragment"},
		{"issuer fragment", "issuer: https://x/#a\n", nil, "issuer", "query or fragment"},
		{"issuer user info", "issuer: https://u:p@x/\n", nil, "issuer", "user info"},
		{"issuer wildcard", "issuer: https://*.x.com/\n", nil, "issuer", "wildcard"},
		{"listen no port", "listen: localhost\n", nil, "listen", "not host:port"},
		{"listen bad port", "listen: localhost:99999\n", nil, "listen", "invalid port"},
		{"listen named port", "listen: localhost:http\n", nil, "listen", "invalid port"},
		{"database mysql", "database: mysql://u:hunter2@h/db\n", nil, "database", "unsupported database"},
		{"database plain path", "database: ./latch\n", nil, "database", "unsupported database"},
		{"database empty sqlite", "database: \"sqlite:\"\n", nil, "database", "needs a file path"},
		{"postgres without secret", "database: postgres://h/db\n", nil, "secret_file", "LATCH_SECRET"},
		{"tls cert without key", "tls_cert: c.pem\n", nil, "tls_key", "required when tls_cert"},
		{"tls key without cert", "tls_key: k.pem\n", nil, "tls_cert", "required when tls_key"},
		{"trusted proxy", "trusted_proxies: [10.0.0.0/8, nope]\n", nil, "trusted_proxies[1]", `"nope" is not an IP`},
		{"log level", "log_level: loud\n", nil, "log_level", `unknown level "loud"`},
		{"tenant logout url", "allowed_logout_urls: [\"/relative\"]\n", nil, "allowed_logout_urls[0]", "not an absolute URL"},
		{"rate limit", "rate_limits: { token_per_minute: -1 }\n", nil, "rate_limits.token_per_minute", "positive"},
		{"client rate limit", "rate_limits: { token_per_client_per_minute: -5 }\n", nil, "rate_limits.token_per_client_per_minute", "positive"},
		{"request rate limit", "rate_limits: { requests_per_minute: -1 }\n", nil, "rate_limits.requests_per_minute", "positive"},
		{"suspicious ip failures", "rate_limits: { suspicious_ip_failures: -1 }\n", nil, "rate_limits.suspicious_ip_failures", "positive"},
		{"brute force threshold", "rate_limits: { brute_force_threshold: 101 }\n", nil, "rate_limits.brute_force_threshold", "between 1 and 100"},
		// tenant
		{"color name", "tenant: { primary_color: blue }\n", nil, "tenant.primary_color", "#rgb or #rrggbb"},
		{"color 4 digits", "tenant: { primary_color: \"#1234\" }\n", nil, "tenant.primary_color", "not a color"},
		{"logo relative", "tenant: { logo_url: /logo.png }\n", nil, "tenant.logo_url", "not an absolute URL"},
		{"logo javascript", "tenant: { logo_url: \"javascript:alert(1)\" }\n", nil, "tenant.logo_url", "not an absolute URL"},
		// lifetimes
		{"session idle > max", "lifetimes: { session_idle: 200h }\n", nil, "lifetimes.session_idle", "longer than session_max"},
		{"refresh idle > max", "lifetimes: { refresh_idle: 800h }\n", nil, "lifetimes.refresh_idle", "longer than refresh_max"},
		{"access token > 30 days", "lifetimes: { access_token: 721h }\n", nil, "lifetimes.access_token", "longer than the maximum"},
		// connections
		{"connection no name", "connections: [{ type: database }]\n", nil, "connections[0].name", "required"},
		{"connection duplicate", "connections: [{ name: a }, { name: a }]\n", nil, "connections[1].name", `duplicate "a" (also connections[0])`},
		{"connection type", "connections: [{ name: a, type: google-oauth2 }]\n", nil, "connections[0].type", `unknown connection type "google-oauth2"`},
		{"connection min length", "connections: [{ name: a, password_min_length: 500 }]\n", nil, "connections[0].password_min_length", "out of range"},
		// apis
		{"api no identifier", "apis: [{ name: x }]\n", nil, "apis[0].identifier", "required"},
		{"api duplicate", base + "  - { identifier: \"https://api.example.com/\" }\n", nil, "apis[1].identifier", `duplicate "https://api.example.com/" (also apis[0])`},
		{"api scope space", "apis: [{ identifier: a, scopes: [ok, \"read items\"] }]\n", nil, "apis[0].scopes[1]", "not a valid scope"},
		{"api scope empty", "apis: [{ identifier: a, scopes: [\"\"] }]\n", nil, "apis[0].scopes[0]", "empty scope"},
		{"api scope duplicate", "apis: [{ identifier: a, scopes: [x, x] }]\n", nil, "apis[0].scopes[1]", "duplicate scope"},
		// clients: identity and type
		{"client no id", "clients: [{ type: spa }]\n", nil, "clients[0].client_id", "required"},
		{"client id space", "clients: [{ client_id: a b, type: spa }]\n", nil, "clients[0].client_id", "spaces"},
		{"client duplicate", "clients: [{ client_id: x, type: spa }, { client_id: y, type: spa }, { client_id: x, type: spa }]\n", nil, "clients[2].client_id", `duplicate "x" (also clients[0])`},
		{"client type", "clients: [{ client_id: a, type: foo }]\n", nil, "clients[0].type", `unknown client type "foo" (want spa, native, regular_web or m2m)`},
		{"client no type", "clients: [{ client_id: a }]\n", nil, "clients[0].type", `unknown client type ""`},
		// clients: grants and secrets
		{"grant unknown", "clients: [{ client_id: a, type: spa, grant_types: [password] }]\n", nil, "clients[0].grant_types[0]", `unknown grant type "password"`},
		{"grant empty", "clients: [{ client_id: a, type: spa, grant_types: [] }]\n", nil, "clients[0].grant_types", "must not be empty"},
		{"client_credentials for spa", "clients: [{ client_id: a, type: spa, grant_types: [authorization_code, client_credentials] }]\n", nil, "clients[0].grant_types[1]", "only for m2m"},
		{"m2m with code", base + "clients: [{ client_id: a, type: m2m, client_secret: s, apis: [\"https://api.example.com/\"], grant_types: [authorization_code] }]\n", nil, "clients[0].grant_types[0]", "only use client_credentials"},
		{"m2m no secret", base + "clients: [{ client_id: a, type: m2m, apis: [\"https://api.example.com/\"] }]\n", nil, "clients[0].client_secret", "required for m2m"},
		{"m2m no api", "clients: [{ client_id: a, type: m2m, client_secret: s }]\n", nil, "clients[0].apis", "at least one API"},
		{"m2m unknown api", base + "clients: [{ client_id: a, type: m2m, client_secret: s, apis: [\"https://nope/\"] }]\n", nil, "clients[0].apis[0]", `unknown API "https://nope/"`},
		{"regular_web no secret", "clients: [{ client_id: a, type: regular_web }]\n", nil, "clients[0].client_secret", "required for regular_web"},
		{"spa with secret", "clients: [{ client_id: a, type: spa, client_secret: s }]\n", nil, "clients[0].client_secret", "must not have a secret"},
		{"native with secret", "clients: [{ client_id: a, type: native, client_secret: s }]\n", nil, "clients[0].client_secret", "must not have a secret"},
		{"env secret unset", "clients: [{ client_id: a, type: regular_web, client_secret: \"env:NOPE\" }]\n", nil, "clients[0].client_secret", "NOPE is empty or unset"},
		{"env secret no name", "clients: [{ client_id: a, type: regular_web, client_secret: \"env:\" }]\n", nil, "clients[0].client_secret", "variable name"},
		{"unknown connection", "clients: [{ client_id: a, type: spa, connections: [github] }]\n", nil, "clients[0].connections[0]", `unknown connection "github"`},
		// clients: callbacks
		{"callback typo", "clients: [{ client_id: a, type: spa, callbacks: [\"htp:/x\"] }]\n", nil, "clients[0].callbacks[0]", `"htp:/x" is not an absolute URL`},
		{"callback relative", "clients: [{ client_id: a, type: spa, callbacks: [/cb] }]\n", nil, "clients[0].callbacks[0]", "not an absolute URL"},
		{"callback no host", "clients: [{ client_id: a, type: spa, callbacks: [\"http:///cb\"] }]\n", nil, "clients[0].callbacks[0]", "not an absolute URL"},
		{"callback fragment", "clients: [{ client_id: a, type: spa, callbacks: [\"https://a.com/cb#x\"] }]\n", nil, "clients[0].callbacks[0]", "fragment"},
		{"callback space", "clients: [{ client_id: a, type: spa, callbacks: [\"https://a.com/c b\"] }]\n", nil, "clients[0].callbacks[0]", "spaces"},
		{"callback custom scheme spa", "clients: [{ client_id: a, type: spa, callbacks: [\"com.example.app://callback\"] }]\n", nil, "clients[0].callbacks[0]", "custom schemes are for native"},
		{"callback javascript native", "clients: [{ client_id: a, type: native, callbacks: [\"javascript://x/%0aalert(1)\"] }]\n", nil, "clients[0].callbacks[0]", "not allowed"},
		{"callback wildcard custom", "clients: [{ client_id: a, type: native, callbacks: [\"app://*.x.com/cb\"] }]\n", nil, "clients[0].callbacks[0]", "only in http and https"},
		{"callback wildcard tld", "clients: [{ client_id: a, type: spa, callbacks: [\"https://*.com/cb\"] }]\n", nil, "clients[0].callbacks[0]", "registrable domain"},
		{"callback wildcard co.uk", "clients: [{ client_id: a, type: spa, callbacks: [\"https://*.co.uk/cb\"] }]\n", nil, "clients[0].callbacks[0]", "registrable domain"},
		{"callback wildcard second label", "clients: [{ client_id: a, type: spa, callbacks: [\"https://a.*.example.com/cb\"] }]\n", nil, "clients[0].callbacks[0]", "left-most host label"},
		{"callback wildcard twice", "clients: [{ client_id: a, type: spa, callbacks: [\"https://*-*.example.com/cb\"] }]\n", nil, "clients[0].callbacks[0]", "only once"},
		{"callback wildcard path", "clients: [{ client_id: a, type: spa, callbacks: [\"https://example.com/*\"] }]\n", nil, "clients[0].callbacks[0]", "left-most host label"},
		{"callback wildcard ip", "clients: [{ client_id: a, type: spa, callbacks: [\"http://*.0.0.1/cb\"] }]\n", nil, "clients[0].callbacks[0]", "IP"},
		{"callback index", "clients: [{ client_id: a, type: spa }, { client_id: b, type: spa, callbacks: [\"https://ok/\", \"nope\"] }]\n", nil, "clients[1].callbacks[1]", `"nope" is not an absolute URL`},
		// clients: logout URLs and origins
		{"client logout relative", "clients: [{ client_id: a, type: spa, allowed_logout_urls: [/bye] }]\n", nil, "clients[0].allowed_logout_urls[0]", "not an absolute URL"},
		{"client logout custom", "clients: [{ client_id: a, type: native, allowed_logout_urls: [\"app://bye\"] }]\n", nil, "clients[0].allowed_logout_urls[0]", "not an absolute URL"},
		{"origin with path", "clients: [{ client_id: a, type: spa, web_origins: [\"http://localhost:3000/app\"] }]\n", nil, "clients[0].web_origins[0]", "not an origin"},
		{"origin with query", "clients: [{ client_id: a, type: spa, web_origins: [\"http://localhost:3000?x\"] }]\n", nil, "clients[0].web_origins[0]", "not an origin"},
		{"origin without scheme", "clients: [{ client_id: a, type: spa, web_origins: [localhost:3000] }]\n", nil, "clients[0].web_origins[0]", "not an origin"},
		{"origin wildcard tld", "clients: [{ client_id: a, type: spa, web_origins: [\"https://*.io\"] }]\n", nil, "clients[0].web_origins[0]", "registrable domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadFinal(t, tt.yaml, tt.env)
			ps := problemsOf(t, err)
			for _, p := range ps {
				if p.Field == tt.field {
					if !strings.Contains(p.Message, tt.msg) {
						t.Errorf("%s: message %q does not contain %q", p.Field, p.Message, tt.msg)
					}
					if strings.Contains(p.Message, "hunter2") {
						t.Errorf("%s: message leaks a password: %q", p.Field, p.Message)
					}
					return
				}
			}
			t.Errorf("no problem for %s; got:\n%v", tt.field, err)
		})
	}
}

func TestValidConfigs(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"postgres with LATCH_SECRET-free secret file", "database: postgresql://u:p@h:5432/db?sslmode=disable\nsecret_file: /etc/latch/secret\n"},
		{"explicit TLS", "tls_cert: c.pem\ntls_key: k.pem\n"},
		{"short color", "tenant: { primary_color: \"#fff\", logo_url: \"https://cdn.example.com/logo.png\" }\n"},
		{"leeway", "lifetimes: { refresh_reuse_leeway: 30s, session_idle: 1h, session_max: 1h }\n"},
		{"integer seconds", "lifetimes: { id_token: 3600, code: 30 }\n"},
		{"uppercase log level", "log_level: DEBUG\n"},
		{"ipv6 listen", "listen: \"[::1]:1000\"\n"},
		{"callbacks", `clients:
  - client_id: a
    type: spa
    callbacks:
      - http://localhost:3000/callback
      - https://*.example.com/cb
      - https://pr-*-preview.example.com/cb
      - https://*.example.co.uk/cb
      - http://127.0.0.1:8080/cb?x=1
    allowed_logout_urls: [http://localhost:3000/, "https://*.example.com/"]
    web_origins: [http://localhost:3000, "https://app.example.com/", "https://*.example.com"]
  - client_id: n
    type: native
    callbacks: [com.example.app://callback, "com.example.app:/oauth2redirect", "http://127.0.0.1/cb", myapp://cb]
    web_origins: [capacitor://localhost]
  - client_id: w
    type: regular_web
    client_secret: xyz
    grant_types: [authorization_code, implicit, refresh_token]
    callbacks: [https://app.example.com/callback]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadFinal(t, tt.yaml, nil); err != nil {
				t.Fatalf("Finalize: %v", err)
			}
		})
	}
}
