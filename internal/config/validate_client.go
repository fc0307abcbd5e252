package config

import "strconv"

var knownGrants = map[string]bool{
	GrantAuthorizationCode: true,
	GrantRefreshToken:      true,
	GrantClientCredentials: true,
	GrantImplicit:          true,
}

func (c *Config) validateClient(p *problems, i int) {
	cl := &c.Clients[i]
	field := fieldf("clients[%d]", i)
	c.resolveSecret(p, i)
	switch {
	case cl.ClientID == "":
		p.add(field+".client_id", "required")
	case !printable(cl.ClientID):
		p.addf(field+".client_id", "%q must not contain spaces or control characters", cl.ClientID)
	default:
		for j := range i {
			if c.Clients[j].ClientID == cl.ClientID {
				p.addf(field+".client_id", "duplicate %q (also clients[%d])", cl.ClientID, j)
				break
			}
		}
	}
	switch cl.Type {
	case TypeSPA, TypeNative, TypeRegularWeb, TypeM2M:
		c.validateClientType(p, field, cl)
	default:
		p.addf(field+".type", "unknown client type %q (want spa, native, regular_web or m2m)", cl.Type)
	}
	c.validateClientURLs(p, field, cl)
	for k, name := range cl.Connections {
		if c.Connection(name) == nil {
			p.addf(fieldf("%s.connections[%d]", field, k), "unknown connection %q", name)
		}
	}
	for k, id := range cl.APIs {
		if c.API(id) == nil {
			p.addf(fieldf("%s.apis[%d]", field, k), "unknown API %q", id)
		}
	}
}

// validateClientType checks what depends on a known client type: grant
// types and whether the client must, or must not, have a secret.
func (c *Config) validateClientType(p *problems, field string, cl *Client) {
	if len(cl.GrantTypes) == 0 {
		p.add(field+".grant_types", "must not be empty")
	}
	for k, g := range cl.GrantTypes {
		gf := fieldf("%s.grant_types[%d]", field, k)
		switch {
		case !knownGrants[g]:
			p.addf(gf, "unknown grant type %q (want authorization_code, refresh_token, client_credentials or implicit)", g)
		case g == GrantClientCredentials && cl.Type != TypeM2M:
			p.add(gf, "client_credentials is only for m2m clients")
		case g != GrantClientCredentials && cl.Type == TypeM2M:
			p.addf(gf, "m2m clients may only use client_credentials, not %s", g)
		}
	}
	hasSecret := cl.ClientSecret != "" || len(cl.SecretHash) > 0
	switch cl.Type {
	case TypeSPA, TypeNative:
		if hasSecret {
			p.addf(field+".client_secret", "%s clients are public and must not have a secret", cl.Type)
		}
	case TypeRegularWeb:
		if !hasSecret {
			p.add(field+".client_secret", "required for regular_web clients")
		}
	case TypeM2M:
		if !hasSecret {
			p.add(field+".client_secret", "required for m2m clients")
		}
		if len(cl.APIs) == 0 {
			p.add(field+".apis", "m2m clients need at least one API")
		}
	}
}

func (c *Config) validateClientURLs(p *problems, field string, cl *Client) {
	native := cl.Type == TypeNative
	for k, s := range cl.Callbacks {
		if msg := checkCallback(s, native); msg != "" {
			p.add(field+".callbacks["+strconv.Itoa(k)+"]", msg)
		}
	}
	for k, s := range cl.AllowedLogoutURLs {
		if msg := checkLogoutURL(s); msg != "" {
			p.add(field+".allowed_logout_urls["+strconv.Itoa(k)+"]", msg)
		}
	}
	for k, s := range cl.WebOrigins {
		if msg := checkOrigin(s, native); msg != "" {
			p.add(field+".web_origins["+strconv.Itoa(k)+"]", msg)
		}
	}
}
