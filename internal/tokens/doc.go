// Package tokens mints and checks what /oauth/token and /authorize hand out:
// RS256 ID tokens (OIDC Core §2, with Auth0's claim shapes), JWT access tokens
// for an API audience (Auth0's access-token profile) and opaque access tokens
// that are good only at /userinfo (stored as hashes).
//
// Signing and signature checks are the keys package's; this package decides
// which claims go in and which claims a presented token must carry.
package tokens
