package config

import (
	"time"

	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// validate appends every problem with the finalized config to p. Field
// names are YAML paths; messages quote the offending value.
func (c *Config) validate(p *problems) {
	c.validateServer(p)
	c.validateTenant(p)
	c.validateLifetimes(p)
	c.validateConnections(p)
	c.validateAPIs(p)
	for i := range c.Clients {
		c.validateClient(p, i)
	}
}

var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

func (c *Config) validateServer(p *problems) {
	if msg := checkIssuer(c.Issuer); msg != "" {
		p.add("issuer", msg)
	}
	if msg := checkListen(c.Listen); msg != "" {
		p.add("listen", msg)
	}
	c.validateDatabase(p)
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		p.add("tls_key", "required when tls_cert is set")
	case c.TLSKey != "" && c.TLSCert == "":
		p.add("tls_cert", "required when tls_key is set")
	}
	for i, s := range c.TrustedProxies {
		if _, err := parseProxy(s); err != nil {
			p.addf(fieldf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR prefix", s)
		}
	}
	if !logLevels[c.LogLevel] {
		p.addf("log_level", "unknown level %q (want debug, info, warn or error)", c.LogLevel)
	}
	for i, s := range c.AllowedLogoutURLs {
		if msg := checkLogoutURL(s); msg != "" {
			p.add(fieldf("allowed_logout_urls[%d]", i), msg)
		}
	}
	if c.RateLimits.LoginPerMinute < 0 {
		p.add("rate_limits.login_per_minute", "must be positive")
	}
	if c.RateLimits.TokenPerMinute < 0 {
		p.add("rate_limits.token_per_minute", "must be positive")
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"token_per_client_per_minute", c.RateLimits.TokenPerClientPerMinute},
		{"requests_per_minute", c.RateLimits.RequestsPerMinute},
		{"suspicious_ip_failures", c.RateLimits.SuspiciousIPFailures},
	} {
		if f.v < 0 {
			p.add("rate_limits."+f.name, "must be positive")
		}
	}
	if n := c.RateLimits.BruteForceThreshold; n < 0 || n > 100 {
		p.add("rate_limits.brute_force_threshold", "must be between 1 and 100 (as in Auth0)")
	}
}

func checkListen(listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return strconv.Quote(listen) + " is not host:port (e.g. localhost:1000 or :8080)"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return strconv.Quote(listen) + " has an invalid port"
	}
	return ""
}

func (c *Config) validateDatabase(p *problems) {
	db := c.Database
	switch {
	case strings.HasPrefix(db, "sqlite:"):
		if path, _ := c.SQLitePath(); path == "" {
			p.add("database", `"sqlite:" needs a file path (sqlite:./latch.db)`)
		}
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := url.Parse(db); err != nil {
			p.add("database", "invalid PostgreSQL URL") // never echo it: it may hold a password
		}
		if c.Secret == "" && c.SecretFile == "" {
			p.add("secret_file", "required with PostgreSQL unless LATCH_SECRET is set")
		}
	default:
		p.addf("database", "unsupported database %q (want sqlite:PATH, a PATH ending in .db, or postgres://...)", redactDSN(db))
	}
}

// redactDSN hides a password that a mistyped database URL may carry.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	if strings.Contains(dsn, "@") {
		return "(redacted)"
	}
	return dsn
}

var colorRE = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

func (c *Config) validateTenant(p *problems) {
	if !colorRE.MatchString(c.Tenant.PrimaryColor) {
		p.addf("tenant.primary_color", "%q is not a color (want #rgb or #rrggbb)", c.Tenant.PrimaryColor)
	}
	if c.Tenant.LogoURL != "" {
		if msg := checkHTTPURL(c.Tenant.LogoURL); msg != "" {
			p.add("tenant.logo_url", msg)
		}
	}
}

// MaxAccessTokenLifetime is the longest lifetimes.access_token accepted.
const MaxAccessTokenLifetime = 30 * 24 * time.Hour

func (c *Config) validateLifetimes(p *problems) {
	l := c.Lifetimes
	positive := []struct {
		field string
		d     Duration
	}{
		{"lifetimes.id_token", l.IDToken},
		{"lifetimes.access_token", l.AccessToken},
		{"lifetimes.code", l.Code},
		{"lifetimes.transaction", l.Transaction},
		{"lifetimes.session_idle", l.SessionIdle},
		{"lifetimes.session_max", l.SessionMax},
		{"lifetimes.refresh_idle", l.RefreshIdle},
		{"lifetimes.refresh_max", l.RefreshMax},
		{"keys.refresh_interval", c.Keys.RefreshInterval},
	}
	for _, f := range positive {
		if f.d <= 0 {
			p.addf(f.field, "must be positive, not %s", f.d)
		}
	}
	// Opaque access tokens are sealed, not stored; a revoked grant is
	// remembered for store.RevokedGrantRetention (31 days), so no opaque
	// token may outlive that. Auth0 caps access tokens at 30 days too.
	if l.AccessToken.D() > MaxAccessTokenLifetime {
		p.addf("lifetimes.access_token", "%s is longer than the maximum, %s (30 days)", l.AccessToken, MaxAccessTokenLifetime)
	}
	if l.RefreshReuseLeeway < 0 {
		p.add("lifetimes.refresh_reuse_leeway", "must not be negative")
	}
	if c.Keys.RotationDelay < 0 {
		p.add("keys.rotation_delay", "must not be negative")
	}
	if l.SessionIdle > l.SessionMax {
		p.addf("lifetimes.session_idle", "%s is longer than session_max (%s)", l.SessionIdle, l.SessionMax)
	}
	if l.RefreshIdle > l.RefreshMax {
		p.addf("lifetimes.refresh_idle", "%s is longer than refresh_max (%s)", l.RefreshIdle, l.RefreshMax)
	}
}

func (c *Config) validateConnections(p *problems) {
	seen := map[string]int{}
	for i, cn := range c.Connections {
		field := fieldf("connections[%d]", i)
		switch j, dup := seen[cn.Name]; {
		case cn.Name == "":
			p.add(field+".name", "required")
		case dup:
			p.addf(field+".name", "duplicate %q (also connections[%d])", cn.Name, j)
		default:
			seen[cn.Name] = i
		}
		if cn.Type != "database" {
			p.addf(field+".type", "unknown connection type %q (only database is supported)", cn.Type)
		}
		if cn.PasswordMinLength < 1 || cn.PasswordMinLength > 128 {
			p.addf(field+".password_min_length", "%d is out of range (1 to 128)", cn.PasswordMinLength)
		}
	}
}

func (c *Config) validateAPIs(p *problems) {
	seen := map[string]int{}
	for i, a := range c.APIs {
		field := fieldf("apis[%d]", i)
		switch j, dup := seen[a.Identifier]; {
		case a.Identifier == "":
			p.add(field+".identifier", "required")
		case dup:
			p.addf(field+".identifier", "duplicate %q (also apis[%d])", a.Identifier, j)
		case checkChars(a.Identifier) != "":
			p.add(field+".identifier", checkChars(a.Identifier))
		default:
			seen[a.Identifier] = i
		}
		scopes := map[string]bool{}
		for k, s := range a.Scopes {
			sf := fieldf("%s.scopes[%d]", field, k)
			if msg := checkScope(s); msg != "" {
				p.add(sf, msg)
			} else if scopes[s] {
				p.addf(sf, "duplicate scope %q", s)
			}
			scopes[s] = true
		}
		if a.TokenLifetime <= 0 {
			p.addf(field+".token_lifetime", "must be positive, not %s", a.TokenLifetime)
		}
		if msg := checkSigningAlg(a.SigningAlg); msg != "" {
			p.add(field+".signing_alg", msg)
		}
	}
}

// checkSigningAlg accepts the algorithms latch has keys for. Auth0 offers
// HS256, RS256 and PS256 for APIs; the refusals say why latch does not.
func checkSigningAlg(alg string) string {
	algs := SigningAlgs()
	if slices.Contains(algs, alg) {
		return ""
	}
	want := "want " + strings.Join(algs[:len(algs)-1], ", ") + " or " + algs[len(algs)-1]
	switch strings.ToUpper(alg) {
	case "HS256", "HS384", "HS512":
		return strconv.Quote(alg) + " is not offered: with a shared secret every resource server that checks a token could also mint one (" + want + ")"
	case "PS256", "PS384", "PS512":
		return strconv.Quote(alg) + " is not offered: it costs the same RSA signature as RS256, which more resource servers accept (" + want + ")"
	case "NONE":
		return "unsigned tokens are never issued (" + want + ")"
	}
	for _, a := range algs {
		if strings.EqualFold(a, alg) {
			return strconv.Quote(alg) + " is spelled " + a + " (JOSE algorithm names are case-sensitive)"
		}
	}
	return strconv.Quote(alg) + " is not a supported signing algorithm (" + want + ")"
}

// checkScope enforces RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func checkScope(s string) string {
	if s == "" {
		return "empty scope"
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x21 || b == '"' || b == '\\' || b > 0x7e {
			return strconv.Quote(s) + " is not a valid scope (no spaces, quotes or backslashes; RFC 6749 §3.3)"
		}
	}
	return ""
}

// printable reports whether s has no spaces or control characters.
func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) < 0
}
