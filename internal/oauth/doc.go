// Package oauth serves the OAuth 2.0 / OpenID Connect endpoints that are not
// browser pages: /oauth/token, /userinfo, /v2/logout, /oidc/logout,
// /oauth/revoke, /dbconnections/signup and the /.well-known documents. Its
// errors speak Auth0's dialect (statuses and words SDKs match on), or
// RFC 6749 §5.2 when the tenant sets oidc_strict.
package oauth
