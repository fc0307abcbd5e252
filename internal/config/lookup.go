package config

import (
	"net/netip"
	"slices"
	"strings"
)

// Client returns the client with the given client_id, or nil.
func (c *Config) Client(id string) *Client {
	if c.clients != nil {
		return c.clients[id]
	}
	for i := range c.Clients { // not finalized yet
		if c.Clients[i].ClientID == id {
			return &c.Clients[i]
		}
	}
	return nil
}

// API returns the API whose identifier (the audience) is given, or nil.
func (c *Config) API(identifier string) *API {
	if c.apis != nil {
		return c.apis[identifier]
	}
	for i := range c.APIs {
		if c.APIs[i].Identifier == identifier {
			return &c.APIs[i]
		}
	}
	return nil
}

// AccessTokenAlgs returns the distinct signing_alg values of the APIs other
// than DefaultSigningAlg, in file order: the algorithms that need a key
// besides RS256.
func (c *Config) AccessTokenAlgs() []string {
	var out []string
	for _, a := range c.APIs {
		if a.SigningAlg != "" && a.SigningAlg != DefaultSigningAlg && !slices.Contains(out, a.SigningAlg) {
			out = append(out, a.SigningAlg)
		}
	}
	return out
}

// Connection returns the connection with the given name, or nil. Disabled
// connections are returned too; check Connection.Disabled.
func (c *Config) Connection(name string) *Connection {
	if c.connections != nil {
		return c.connections[name]
	}
	for i := range c.Connections {
		if c.Connections[i].Name == name {
			return &c.Connections[i]
		}
	}
	return nil
}

// TrustedProxyPrefixes returns trusted_proxies parsed as prefixes (a bare
// address becomes a /32 or /128). It is empty before Finalize.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix { return c.proxies }

// SQLitePath returns the database file of a "sqlite:" database (without any
// "?query" options) and true, or "" and false for PostgreSQL. Both
// "sqlite:./latch.db" and "sqlite:///var/lib/latch.db" are understood.
func (c *Config) SQLitePath() (string, bool) {
	rest, ok := strings.CutPrefix(c.Database, "sqlite:")
	if !ok {
		return "", false
	}
	rest = strings.TrimPrefix(rest, "//")
	rest, _, _ = strings.Cut(rest, "?")
	return rest, true
}

// TLS reports whether latch serves HTTPS itself (tls_cert and tls_key set).
func (c *Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }
