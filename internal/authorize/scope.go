package authorize

import (
	"net/http"
	"strings"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/oauth"
)

// oidcScopes are the scopes latch grants without an API: OpenID Connect's
// (Core §5.4) that it has claims for, and offline_access for refresh tokens.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// maxScopes bounds how many scope values one request may carry.
const maxScopes = 100

// grantScope turns the requested scope into the one latch will grant: the
// OpenID scopes and, with an API, that API's scopes, in request order and
// without duplicates. Other well-formed values are dropped, as Auth0 drops
// scopes it does not know (documented in docs/compatibility.md). A value
// outside RFC 6749 §3.3's character set is invalid_scope.
func grantScope(raw string, api *config.API) (string, *oauth.Error) {
	fields := strings.Fields(raw)
	if len(fields) > maxScopes {
		return "", oauth.Errorf(http.StatusBadRequest, "invalid_scope", "Too many scopes (at most %d)", maxScopes)
	}
	known := map[string]bool{}
	if api != nil {
		for _, s := range api.Scopes {
			known[s] = true
		}
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(fields))
	for _, s := range fields {
		if !validScopeToken(s) {
			return "", oauth.Errorf(http.StatusBadRequest, "invalid_scope", "Invalid scope value: %s", clip(sanitize(s)))
		}
		if seen[s] || !(oidcScopes[s] || known[s]) {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return strings.Join(out, " "), nil
}

// validScopeToken: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3).
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// hasScope reports whether the space-separated scope contains s.
func hasScope(scope, s string) bool {
	for _, f := range strings.Fields(scope) {
		if f == s {
			return true
		}
	}
	return false
}

// sanitize keeps only the characters RFC 6749 §4.1.2.1 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E), replacing others by '?'.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e && r != '"' && r != '\\' {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}
