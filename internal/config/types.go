package config

import (
	"net/netip"
	"time"
)

// Client types (SPEC §2).
const (
	TypeSPA        = "spa"
	TypeNative     = "native"
	TypeRegularWeb = "regular_web"
	TypeM2M        = "m2m"
)

// Grant types a client may list.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantImplicit          = "implicit"
)

// DefaultConnection is the database connection every tenant has unless the
// config lists its own.
const DefaultConnection = "Username-Password-Authentication"

// Config is the whole tenant and server configuration (SPEC §2). YAML key
// names are a stable interface.
type Config struct {
	Issuer            string       `yaml:"issuer"`
	Listen            string       `yaml:"listen"`
	Database          string       `yaml:"database"`
	SecretFile        string       `yaml:"secret_file"`
	TLSCert           string       `yaml:"tls_cert"`
	TLSKey            string       `yaml:"tls_key"`
	TrustedProxies    []string     `yaml:"trusted_proxies"`
	Tenant            Tenant       `yaml:"tenant"`
	OIDCStrict        bool         `yaml:"oidc_strict"`
	AllowedLogoutURLs []string     `yaml:"allowed_logout_urls"`
	Lifetimes         Lifetimes    `yaml:"lifetimes"`
	Keys              Keys         `yaml:"keys"`
	RateLimits        RateLimits   `yaml:"rate_limits"`
	LogLevel          string       `yaml:"log_level"` // debug | info | warn | error
	Connections       []Connection `yaml:"connections"`
	APIs              []API        `yaml:"apis"`
	Clients           []Client     `yaml:"clients"`

	// Secret is the master secret from LATCH_SECRET (never from YAML); empty
	// means read SecretFile.
	Secret string `yaml:"-"`
	// Path is the file the config was read from ("" when none).
	Path string `yaml:"-"`

	// getenv resolves "env:NAME" client secrets; captured by Load so tests
	// can inject an environment (nil means os.Getenv).
	getenv func(string) string

	clients     map[string]*Client
	apis        map[string]*API
	connections map[string]*Connection
	proxies     []netip.Prefix
}

// Tenant is the branding of the hosted pages.
type Tenant struct {
	Name         string `yaml:"name"`
	LogoURL      string `yaml:"logo_url"`
	PrimaryColor string `yaml:"primary_color"`
}

// Lifetimes of everything latch issues. Defaults are Auth0's.
type Lifetimes struct {
	IDToken            Duration `yaml:"id_token"`             // 36000s
	AccessToken        Duration `yaml:"access_token"`         // 86400s
	Code               Duration `yaml:"code"`                 // 60s
	Transaction        Duration `yaml:"transaction"`          // 10m
	SessionIdle        Duration `yaml:"session_idle"`         // 72h
	SessionMax         Duration `yaml:"session_max"`          // 168h
	RefreshIdle        Duration `yaml:"refresh_idle"`         // 720h
	RefreshMax         Duration `yaml:"refresh_max"`          // 720h
	RefreshReuseLeeway Duration `yaml:"refresh_reuse_leeway"` // 0s
}

// Keys tunes signing-key rotation.
type Keys struct {
	// RotationDelay: a key added by `latch keys rotate` is published at once
	// and used for signing only after this delay, so caches pick it up first.
	RotationDelay Duration `yaml:"rotation_delay"` // default 1h
	// RefreshInterval: how often a running instance re-reads the key set.
	RefreshInterval Duration `yaml:"refresh_interval"` // default 30s
}

// RateLimits are per-IP request budgets per minute (SPEC §5) and the
// brute-force thresholds. The defaults are generous enough for an office
// behind one NAT. Request budgets are kept per instance.
type RateLimits struct {
	LoginPerMinute          int `yaml:"login_per_minute"`            // POSTs to the login and signup pages and /dbconnections/signup; default 300
	TokenPerMinute          int `yaml:"token_per_minute"`            // requests to /oauth/token and /oauth/revoke; default 1200
	TokenPerClientPerMinute int `yaml:"token_per_client_per_minute"` // /oauth/token requests per client_id, all IPs together; default 5 × token_per_minute
	RequestsPerMinute       int `yaml:"requests_per_minute"`         // any other request, except health, discovery and JWKS; default 10 × login_per_minute
	BruteForceThreshold     int `yaml:"brute_force_threshold"`       // failed logins for one user from one IP that block the pair; default 10
	SuspiciousIPFailures    int `yaml:"suspicious_ip_failures"`      // failed logins from one IP in 24 h, any accounts, that throttle it; default 100
}

// Connection is a database connection users log in with.
type Connection struct {
	Name              string `yaml:"name"`
	Type              string `yaml:"type"` // "database"
	Signup            *bool  `yaml:"signup"`
	Disabled          bool   `yaml:"disabled"`
	PasswordMinLength int    `yaml:"password_min_length"` // default 8
}

// SignupEnabled reports whether the hosted signup page and
// /dbconnections/signup accept new users (default true).
func (c *Connection) SignupEnabled() bool { return c.Signup == nil || *c.Signup }

// API is a resource server that access tokens may be issued for.
type API struct {
	Identifier         string   `yaml:"identifier"`
	Name               string   `yaml:"name"`
	Scopes             []string `yaml:"scopes"`
	AllowOfflineAccess bool     `yaml:"allow_offline_access"`
	TokenLifetime      Duration `yaml:"token_lifetime"` // default lifetimes.access_token
	SkipConsent        *bool    `yaml:"skip_consent"`   // first-party clients skip consent (default true)
	// SigningAlg is the JWS algorithm of the API's access tokens (Auth0's
	// resource-server signing_alg): RS256 (default), ES256 or EdDSA. ID
	// tokens are always RS256.
	SigningAlg string `yaml:"signing_alg"`
}

// Client is an application.
type Client struct {
	ClientID          string   `yaml:"client_id"`
	Name              string   `yaml:"name"`
	Type              string   `yaml:"type"`
	FirstParty        *bool    `yaml:"first_party"`
	ClientSecret      string   `yaml:"client_secret"` // literal, or "env:NAME"
	Callbacks         []string `yaml:"callbacks"`
	AllowedLogoutURLs []string `yaml:"allowed_logout_urls"`
	WebOrigins        []string `yaml:"web_origins"`
	GrantTypes        []string `yaml:"grant_types"`
	Connections       []string `yaml:"connections"`
	APIs              []string `yaml:"apis"` // APIs an m2m client may get tokens for

	// SecretHash is SHA-256 of the resolved secret (nil for public clients);
	// the raw secret is not kept after Finalize.
	SecretHash []byte `yaml:"-"`
}

// IsFirstParty reports whether the client skips consent (default true).
func (c *Client) IsFirstParty() bool { return c.FirstParty == nil || *c.FirstParty }

// IsPublic reports whether the client cannot keep a secret (spa, native), so
// it authenticates with "none" and must use PKCE.
func (c *Client) IsPublic() bool { return c.Type == TypeSPA || c.Type == TypeNative }

// AllowsGrant reports whether gt is among the client's grant types.
func (c *Client) AllowsGrant(gt string) bool {
	for _, g := range c.GrantTypes {
		if g == gt {
			return true
		}
	}
	return false
}

// Duration is a time.Duration written in YAML as Go duration text ("36000s",
// "72h", "10m") or as a plain number of seconds.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
