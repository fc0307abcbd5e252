package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Each check returns "" when raw is acceptable, else the problem message.

// checkIssuer: an absolute http(s) URL without query or fragment, since it
// is copied byte for byte into iss and the discovery document.
func checkIssuer(raw string) string {
	u, msg := parseHTTP(raw)
	if msg != "" {
		return msg
	}
	if strings.ContainsAny(raw, "?#") {
		return fmt.Sprintf("%q must not have a query or fragment", raw)
	}
	if strings.Contains(u.Host, "*") {
		return fmt.Sprintf("%q must not contain a wildcard", raw)
	}
	return ""
}

// checkCallback: an absolute URL without fragment (RFC 6749 §3.1.2). Native
// clients may use private-use schemes (RFC 8252 §7.1); http(s) URLs may
// carry one * in the left-most host label, as Auth0 allows.
func checkCallback(raw string, native bool) string {
	if msg := checkChars(raw); msg != "" {
		return msg
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Sprintf("%q is not an absolute URL", raw)
	}
	if strings.Contains(raw, "#") {
		return fmt.Sprintf("%q must not have a fragment (RFC 6749 §3.1.2)", raw)
	}
	if !isHTTP(u.Scheme) {
		return checkCustomScheme(raw, u, native)
	}
	if _, msg := parseHTTP(raw); msg != "" {
		return msg
	}
	return checkWildcard(raw, u)
}

// checkLogoutURL: an absolute http(s) URL, optionally with a sub-domain
// wildcard; /v2/logout ignores returnTo's query and fragment when matching,
// so a fragment here could never match.
func checkLogoutURL(raw string) string {
	u, msg := parseHTTP(raw)
	if msg != "" {
		return msg
	}
	if strings.Contains(raw, "#") {
		return fmt.Sprintf("%q must not have a fragment", raw)
	}
	return checkWildcard(raw, u)
}

// checkOrigin: scheme://host[:port] as a browser sends it in Origin (RFC 6454),
// with an optional sub-domain wildcard. Native clients may list private-use
// scheme origins (capacitor://localhost).
func checkOrigin(raw string, native bool) string {
	if msg := checkChars(raw); msg != "" {
		return msg
	}
	bad := fmt.Sprintf("%q is not an origin (want scheme://host[:port])", raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || strings.ContainsAny(raw, "?#") {
		return bad
	}
	if !isHTTP(u.Scheme) {
		return checkCustomScheme(raw, u, native)
	}
	if _, msg := parseHTTP(raw); msg != "" {
		return msg
	}
	return checkWildcard(raw, u)
}

// checkHTTPURL: an absolute http(s) URL (tenant.logo_url).
func checkHTTPURL(raw string) string {
	_, msg := parseHTTP(raw)
	return msg
}

func isHTTP(scheme string) bool {
	s := strings.ToLower(scheme)
	return s == "http" || s == "https"
}

// parseHTTP parses an absolute http(s) URL with a host and no user info.
func parseHTTP(raw string) (*url.URL, string) {
	if msg := checkChars(raw); msg != "" {
		return nil, msg
	}
	u, err := url.Parse(raw)
	if err != nil || !isHTTP(u.Scheme) || u.Hostname() == "" {
		return nil, fmt.Sprintf("%q is not an absolute URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Sprintf("%q must not contain user info", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Sprintf("%q has an invalid port", raw)
		}
	}
	return u, ""
}

func checkChars(raw string) string {
	if raw == "" {
		return "must not be empty"
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Sprintf("%q must not contain spaces or control characters", raw)
	}
	return ""
}

// checkCustomScheme allows a private-use URI scheme for native clients only,
// never one a browser would execute or read locally.
func checkCustomScheme(raw string, u *url.URL, native bool) string {
	if !native {
		if u.Host == "" {
			return fmt.Sprintf("%q is not an absolute URL", raw)
		}
		return fmt.Sprintf("%q: scheme %q is not allowed (want http or https; custom schemes are for native clients)", raw, u.Scheme)
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file", "blob", "about", "filesystem":
		return fmt.Sprintf("%q: scheme %q is not allowed", raw, u.Scheme)
	}
	if strings.Contains(raw, "*") {
		return fmt.Sprintf("%q: wildcards are allowed only in http and https URLs", raw)
	}
	if u.Host == "" && u.Path == "" && u.Opaque == "" {
		return fmt.Sprintf("%q is not an absolute URL", raw)
	}
	return ""
}

// secondLevelLabels are registry labels under a country-code TLD (co.uk,
// com.au, ...). Without a public suffix list, *.co.uk is caught by this
// heuristic and *.com by the label count.
var secondLevelLabels = map[string]bool{
	"ac": true, "co": true, "com": true, "edu": true, "go": true, "gob": true, "gov": true,
	"ltd": true, "mil": true, "ne": true, "net": true, "or": true, "org": true, "plc": true, "sch": true,
}

// checkWildcard enforces Auth0's sub-domain wildcard rule: at most one *,
// only in the left-most host label, at least two labels under it, and not
// directly under a registry suffix such as co.uk.
func checkWildcard(raw string, u *url.URL) string {
	n := strings.Count(raw, "*")
	if n == 0 {
		return ""
	}
	host := u.Hostname()
	labels := strings.Split(host, ".")
	if n > 1 || strings.Count(host, "*") != 1 || !strings.Contains(labels[0], "*") {
		return fmt.Sprintf("%q: a * wildcard is allowed only once, in the left-most host label", raw)
	}
	rest := labels[1:]
	for _, l := range rest {
		if l == "" {
			return fmt.Sprintf("%q is not an absolute URL", raw)
		}
	}
	if len(rest) < 2 || (len(rest) == 2 && len(rest[1]) == 2 && secondLevelLabels[strings.ToLower(rest[0])]) {
		return fmt.Sprintf("%q: a wildcard may not stand for a registrable domain (use https://*.example.com)", raw)
	}
	if isDigits(rest[len(rest)-1]) { // no TLD is numeric: this is an IPv4 address
		return fmt.Sprintf("%q: wildcards are not allowed in IP addresses", raw)
	}
	return ""
}
