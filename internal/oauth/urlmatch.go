package oauth

import (
	"net/url"
	"strings"
)

// matchURL reports whether candidate is allowed by the allow-list entry
// pattern: scheme and host compare case-insensitively, port and path
// exactly (an empty path is "/"), and a * in the pattern's left-most host
// label stands for one label (Auth0's sub-domain wildcard). With
// ignoreQuery the candidate's query and fragment are dropped first, as
// /v2/logout does for returnTo; otherwise the query must match too and a
// fragment is never allowed.
func matchURL(pattern, candidate string, ignoreQuery bool) bool {
	c, err := url.Parse(candidate)
	// A scheme-relative candidate ("//host/path") is never allowed: the
	// browser would resolve it against whatever page follows the redirect.
	if err != nil || c.Scheme == "" || c.Opaque != "" || c.User != nil || c.Host == "" {
		return false
	}
	p, err := url.Parse(pattern)
	if err != nil {
		return false
	}
	if ignoreQuery {
		c.RawQuery, c.Fragment, c.RawFragment, c.ForceQuery = "", "", "", false
	} else if c.Fragment != "" || strings.Contains(candidate, "#") || c.RawQuery != p.RawQuery {
		return false
	}
	if !strings.EqualFold(p.Scheme, c.Scheme) || p.Port() != c.Port() || !matchHost(p.Hostname(), c.Hostname()) {
		return false
	}
	return pathOf(p) == pathOf(c)
}

func pathOf(u *url.URL) string {
	if u.EscapedPath() == "" {
		return "/"
	}
	return u.EscapedPath()
}

// matchHost compares host names case-insensitively; a pattern whose first
// label contains one * matches a candidate with the same number of labels
// whose first label has the *'s prefix and suffix around at least one
// character.
func matchHost(pattern, host string) bool {
	pattern, host = strings.ToLower(pattern), strings.ToLower(host)
	if !strings.Contains(pattern, "*") {
		return pattern == host
	}
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := 1; i < len(pl); i++ {
		if pl[i] != hl[i] {
			return false
		}
	}
	prefix, suffix, _ := strings.Cut(pl[0], "*")
	label := hl[0]
	return len(label) > len(prefix)+len(suffix) && strings.HasPrefix(label, prefix) && strings.HasSuffix(label, suffix)
}

// allowedURL reports whether candidate matches any entry of list.
func allowedURL(list []string, candidate string, ignoreQuery bool) bool {
	for _, p := range list {
		if matchURL(p, candidate, ignoreQuery) {
			return true
		}
	}
	return false
}
