// Package flowtest holds the end-to-end test of the whole OAuth flow:
// golang.org/x/oauth2 with PKCE against a real latch (server.New over a
// SQLite file on 127.0.0.1), through /authorize and the hosted login page,
// with the ID token verified by github.com/coreos/go-oidc/v3 via discovery
// and JWKS. It is kept out of package oauth so that oauth's own tests do not
// depend on every other package of the server.
package flowtest
