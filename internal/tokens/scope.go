package tokens

import "strings"

// Scope values with a meaning of their own (OIDC Core §5.4, §11).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// HasScope reports whether the space-separated scope contains s.
func HasScope(scope, s string) bool {
	for _, v := range strings.Fields(scope) {
		if v == s {
			return true
		}
	}
	return false
}

// NormalizeScope splits scope on white space and joins its distinct values
// with one space, in their first order (RFC 6749 §3.3).
func NormalizeScope(scope string) string {
	fields := strings.Fields(scope)
	seen := make(map[string]bool, len(fields))
	out := fields[:0]
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}

// SubsetScope reports whether every value of want is in have, and returns
// want normalised. A refresh request may narrow the granted scope, never
// widen it (RFC 6749 §6).
func SubsetScope(want, have string) (string, bool) {
	granted := make(map[string]bool)
	for _, v := range strings.Fields(have) {
		granted[v] = true
	}
	for _, v := range strings.Fields(want) {
		if !granted[v] {
			return "", false
		}
	}
	return NormalizeScope(want), true
}
