package config

import (
	"crypto/sha256"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults (SPEC §2). Lifetimes follow Auth0's.
const (
	DefaultListen       = "localhost:1000"
	DefaultDatabase     = "sqlite:./latch.db"
	DefaultTenantName   = "latch"
	DefaultPrimaryColor = "#635bff"
	DefaultLogLevel     = "info"
	DefaultPasswordMin  = 8
	DefaultLoginPerMin  = 300
	DefaultTokenPerMin  = 1200
	DefaultSigningAlg   = "RS256" // apis[].signing_alg; ID tokens always use it
	secretFileName      = "latch.secret"
	envSecretPrefix     = "env:"
)

// SigningAlgs returns the values apis[].signing_alg accepts (RFC 7518
// §3.1; EdDSA is Ed25519, RFC 8037), as internal/keys names them.
func SigningAlgs() []string { return []string{"RS256", "ES256", "EdDSA"} }

// The other rate_limits defaults (the brute-force thresholds are Auth0's).
// The per-client and general request budgets scale with the token and
// login budgets, so a tenant that raises those need not find the others.
const (
	DefaultTokenPerClientFactor = 5  // token_per_client_per_minute = 5 × token_per_minute
	DefaultRequestsFactor       = 10 // requests_per_minute = 10 × login_per_minute
	DefaultBruteForceThreshold  = 10
	DefaultSuspiciousIPFailures = 100
)

// Finalize fills in defaults, resolves client secrets, builds the lookup
// tables and validates the result. It returns nil or a *ValidationError
// naming every problem. Call it once flags have been applied; it is
// idempotent, and the Config must not be modified afterwards (a reload
// builds a new one).
//
// A zero duration or count means "use the default", so a value cannot be
// set to zero (except refresh_reuse_leeway, whose default is 0).
//
// Raw client secrets are dropped: only Client.SecretHash remains.
func (c *Config) Finalize() error {
	var p problems
	c.applyDefaults()
	c.index()
	c.validate(&p) // also resolves client secrets, so problems stay in file order
	return p.err()
}

// scaled is n × factor, saturating instead of overflowing.
func scaled(n, factor int) int {
	if n > math.MaxInt/factor {
		return math.MaxInt
	}
	return n * factor
}

func (c *Config) applyDefaults() {
	c.applyServerDefaults()
	c.applyLifetimeDefaults()
	if c.Tenant.Name == "" {
		c.Tenant.Name = DefaultTenantName
	}
	if c.Tenant.PrimaryColor == "" {
		c.Tenant.PrimaryColor = DefaultPrimaryColor
	}
	if c.RateLimits.LoginPerMinute == 0 {
		c.RateLimits.LoginPerMinute = DefaultLoginPerMin
	}
	if c.RateLimits.TokenPerMinute == 0 {
		c.RateLimits.TokenPerMinute = DefaultTokenPerMin
	}
	if c.RateLimits.TokenPerClientPerMinute == 0 && c.RateLimits.TokenPerMinute > 0 {
		c.RateLimits.TokenPerClientPerMinute = scaled(c.RateLimits.TokenPerMinute, DefaultTokenPerClientFactor)
	}
	if c.RateLimits.RequestsPerMinute == 0 && c.RateLimits.LoginPerMinute > 0 {
		c.RateLimits.RequestsPerMinute = scaled(c.RateLimits.LoginPerMinute, DefaultRequestsFactor)
	}
	if c.RateLimits.BruteForceThreshold == 0 {
		c.RateLimits.BruteForceThreshold = DefaultBruteForceThreshold
	}
	if c.RateLimits.SuspiciousIPFailures == 0 {
		c.RateLimits.SuspiciousIPFailures = DefaultSuspiciousIPFailures
	}
	if len(c.Connections) == 0 {
		signup := true
		c.Connections = []Connection{{Name: DefaultConnection, Type: "database", Signup: &signup}}
	}
	for i := range c.Connections {
		cn := &c.Connections[i]
		if cn.Type == "" {
			cn.Type = "database"
		}
		if cn.PasswordMinLength == 0 {
			cn.PasswordMinLength = DefaultPasswordMin
		}
	}
	for i := range c.APIs {
		a := &c.APIs[i]
		if a.Name == "" {
			a.Name = a.Identifier
		}
		if a.TokenLifetime == 0 {
			a.TokenLifetime = c.Lifetimes.AccessToken
		}
		if a.SigningAlg == "" {
			a.SigningAlg = DefaultSigningAlg
		}
	}
	c.applyClientDefaults()
}

func (c *Config) applyServerDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Issuer == "" {
		scheme := "http"
		if c.TLS() {
			scheme = "https"
		}
		c.Issuer = scheme + "://" + issuerHost(c.Listen) + "/"
	}
	if !strings.HasSuffix(c.Issuer, "/") {
		c.Issuer += "/" // Auth0 writes iss with a trailing slash; SDKs compare bytes
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if !strings.Contains(c.Database, "://") && !strings.HasPrefix(c.Database, "sqlite:") &&
		strings.HasSuffix(c.Database, ".db") {
		c.Database = "sqlite:" + c.Database // a bare file name means SQLite
	}
	if c.SecretFile == "" {
		if path, ok := c.SQLitePath(); ok {
			c.SecretFile = filepath.Join(filepath.Dir(path), secretFileName)
		}
	}
	c.LogLevel = strings.ToLower(strings.TrimSpace(c.LogLevel))
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
}

// issuerHost turns a listen address into the host of the default issuer. A
// wildcard bind address (":1000", "0.0.0.0:1000", "[::]:1000") is not a
// name a browser can use, so it becomes localhost.
func issuerHost(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen // reported by validation
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func (c *Config) applyLifetimeDefaults() {
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	l := &c.Lifetimes
	def(&l.IDToken, 36000*time.Second)
	def(&l.AccessToken, 86400*time.Second)
	def(&l.Code, 60*time.Second)
	def(&l.Transaction, 10*time.Minute)
	def(&l.SessionIdle, 72*time.Hour)
	def(&l.SessionMax, 168*time.Hour)
	def(&l.RefreshIdle, 720*time.Hour)
	def(&l.RefreshMax, 720*time.Hour)
	// RefreshReuseLeeway defaults to 0: a rotated-out token is never accepted.
	def(&c.Keys.RotationDelay, time.Hour)
	def(&c.Keys.RefreshInterval, 30*time.Second)
}

func (c *Config) applyClientDefaults() {
	var enabled []string
	for _, cn := range c.Connections {
		if !cn.Disabled {
			enabled = append(enabled, cn.Name)
		}
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		if cl.Name == "" {
			cl.Name = cl.ClientID
		}
		if cl.GrantTypes == nil {
			switch cl.Type {
			case TypeSPA, TypeNative, TypeRegularWeb:
				cl.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
			case TypeM2M:
				cl.GrantTypes = []string{GrantClientCredentials}
			}
		}
		if cl.Connections == nil {
			cl.Connections = append([]string(nil), enabled...)
		}
	}
}

// resolveSecret replaces client i's secret ("literal" or "env:NAME") by its
// SHA-256, so the raw value is not kept in memory.
func (c *Config) resolveSecret(p *problems, i int) {
	cl := &c.Clients[i]
	secret := cl.ClientSecret
	if secret == "" {
		return
	}
	field := fieldf("clients[%d].client_secret", i)
	// An unresolved "env:NAME" reference stays in ClientSecret: it is not
	// itself secret, and a second Finalize reports the same problem.
	if name, ok := strings.CutPrefix(secret, envSecretPrefix); ok {
		if name == "" {
			p.add(field, `"env:" needs a variable name (env:NAME)`)
			return
		}
		getenv := c.getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		if secret = getenv(name); secret == "" {
			p.addf(field, "environment variable %s is empty or unset", name)
			return
		}
	}
	sum := sha256.Sum256([]byte(secret))
	cl.SecretHash = sum[:]
	cl.ClientSecret = ""
}

// index builds the lookup tables. The first of duplicate names wins;
// validation reports the others.
func (c *Config) index() {
	c.clients = make(map[string]*Client, len(c.Clients))
	for i := range c.Clients {
		if _, dup := c.clients[c.Clients[i].ClientID]; !dup {
			c.clients[c.Clients[i].ClientID] = &c.Clients[i]
		}
	}
	c.apis = make(map[string]*API, len(c.APIs))
	for i := range c.APIs {
		if _, dup := c.apis[c.APIs[i].Identifier]; !dup {
			c.apis[c.APIs[i].Identifier] = &c.APIs[i]
		}
	}
	c.connections = make(map[string]*Connection, len(c.Connections))
	for i := range c.Connections {
		if _, dup := c.connections[c.Connections[i].Name]; !dup {
			c.connections[c.Connections[i].Name] = &c.Connections[i]
		}
	}
	c.proxies = c.proxies[:0]
	for _, s := range c.TrustedProxies {
		if pfx, err := parseProxy(s); err == nil {
			c.proxies = append(c.proxies, pfx)
		}
	}
}

// parseProxy accepts an IP address or a CIDR prefix.
func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		return pfx.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}
