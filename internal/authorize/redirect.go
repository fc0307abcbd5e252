package authorize

import (
	"net/netip"
	"net/url"
	"strings"
)

// MatchRedirect reports whether uri may receive the authorization response
// of a client whose registered callbacks are registered.
//
// The match is an exact string comparison (scheme, host, port, path, query
// and trailing slash all count, as Auth0 compares them; the case of the
// host too), with two
// exceptions:
//   - a registered http(s) URL may carry one * in its left-most host label
//     (https://*.example.com/cb, https://pr-*.example.com/cb); it stands for
//     one or more letters, digits or hyphens of that one label only, so it
//     never spans a dot;
//   - for native clients, a registered loopback IP literal (http://127.0.0.1
//     or http://[::1]) matches any port, as RFC 8252 §7.3 asks: the app
//     learns its port only at run time.
//
// A uri with a fragment, white space, control characters or user info
// never matches (RFC 6749 §3.1.2).
func MatchRedirect(registered []string, uri string, native bool) bool {
	if !plausibleURI(uri) {
		return false
	}
	for _, reg := range registered {
		switch {
		case reg == "":
			continue
		case strings.Contains(reg, "*"):
			if matchWildcardURL(reg, uri) {
				return true
			}
		case reg == uri:
			return true
		case native:
			if matchLoopback(reg, uri) {
				return true
			}
		}
	}
	return false
}

// MatchOrigin reports whether origin (scheme://host[:port], as a browser
// sends it or as OriginOf derives it) is among allowed, a client's
// web_origins. Scheme and host compare case-insensitively, a default port
// equals its absence, a trailing slash on an allowed entry is ignored, and an
// entry may use the same one-label * wildcard as callbacks. Paths, queries
// and fragments never match.
func MatchOrigin(allowed []string, origin string) bool {
	o, ok := normalizeOrigin(origin)
	if !ok {
		return false
	}
	for _, a := range allowed {
		na, ok := normalizeOrigin(strings.TrimSuffix(a, "/"))
		if !ok {
			continue
		}
		if na == o {
			return true
		}
		if strings.Contains(na, "*") && matchWildcardURL(na, o) {
			return true
		}
	}
	return false
}

// OriginOf returns the origin (RFC 6454) of an absolute URL:
// lower-case scheme and host, the port only when it is not the scheme's
// default. ok is false for URLs without a host (custom schemes such as
// com.example.app:/cb have no web origin).
func OriginOf(uri string) (origin string, ok bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || u.Scheme == "" || u.User != nil {
		return "", false
	}
	return normalizeOrigin(u.Scheme + "://" + u.Host)
}

// normalizeOrigin parses scheme://host[:port] (nothing else) and returns it
// with a lower-case scheme and host and without a default port.
func normalizeOrigin(s string) (string, bool) {
	scheme, hostport, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || hostport == "" || strings.ContainsAny(hostport, "/?#@\\ \t\r\n") {
		return "", false
	}
	if !validScheme(scheme) {
		return "", false
	}
	scheme = strings.ToLower(scheme)
	host, port := splitHostPort(hostport)
	if host == "" {
		return "", false
	}
	host = strings.ToLower(host)
	if port != "" {
		if !allDigits(port) || len(port) > 5 {
			return "", false
		}
		if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
			port = ""
		}
	}
	if port == "" {
		return scheme + "://" + host, true
	}
	return scheme + "://" + host + ":" + port, true
}

// splitHostPort splits host[:port], keeping the brackets of an IPv6
// literal so that the result can be joined again.
func splitHostPort(hp string) (host, port string) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", ""
		}
		host, rest := hp[:end+1], hp[end+1:]
		if rest == "" {
			return host, ""
		}
		if rest[0] != ':' {
			return "", ""
		}
		return host, rest[1:]
	}
	if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		return hp[:i], hp[i+1:]
	}
	return hp, ""
}

// plausibleURI rejects what can never be a redirect target: fragments,
// white space and control characters, user info, unparsable URLs.
func plausibleURI(uri string) bool {
	if uri == "" || len(uri) > maxURILen || strings.ContainsAny(uri, "#\\") {
		return false
	}
	for i := 0; i < len(uri); i++ {
		if uri[i] <= ' ' || uri[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(uri)
	return err == nil && u.Scheme != "" && u.User == nil
}

// matchWildcardURL matches uri against pattern, an http(s) URL with one *
// in its left-most host label. Everything but that label compares exactly.
func matchWildcardURL(pattern, uri string) bool {
	ps, prest, ok1 := strings.Cut(pattern, "://")
	us, urest, ok2 := strings.Cut(uri, "://")
	if !ok1 || !ok2 || ps != us || (ps != "http" && ps != "https") {
		return false
	}
	pauth, ptail := splitAuthority(prest)
	uauth, utail := splitAuthority(urest)
	if ptail != utail || strings.Contains(uauth, "@") || strings.Contains(uauth, "*") {
		return false
	}
	phost, pport := splitHostPort(pauth)
	uhost, uport := splitHostPort(uauth)
	if pport != uport || strings.HasPrefix(uhost, "[") {
		return false
	}
	pl := strings.Split(phost, ".")
	ul := strings.Split(uhost, ".")
	if len(pl) != len(ul) || len(pl) < 3 || strings.Count(phost, "*") != 1 {
		return false
	}
	for i := 1; i < len(pl); i++ {
		if pl[i] != ul[i] || pl[i] == "" {
			return false
		}
	}
	pre, suf, ok := strings.Cut(pl[0], "*")
	label := ul[0]
	if !ok || len(label) <= len(pre)+len(suf) ||
		!strings.HasPrefix(label, pre) || !strings.HasSuffix(label, suf) {
		return false
	}
	return isLabelChars(label[len(pre) : len(label)-len(suf)])
}

// splitAuthority splits what follows "scheme://" into the authority and
// the rest (path, query), at the first '/' or '?'.
func splitAuthority(s string) (auth, tail string) {
	if i := strings.IndexAny(s, "/?"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// matchLoopback implements RFC 8252 §7.3: a registered http URL on a
// loopback IP literal matches the same URL on any port.
func matchLoopback(reg, uri string) bool {
	r, err1 := url.Parse(reg)
	u, err2 := url.Parse(uri)
	if err1 != nil || err2 != nil || r.Scheme != "http" || u.Scheme != "http" {
		return false
	}
	if !isLoopbackLiteral(r.Hostname()) || r.Hostname() != u.Hostname() || u.User != nil {
		return false
	}
	if p := u.Port(); p != "" && (!allDigits(p) || len(p) > 5) {
		return false
	}
	_, rtail := splitAuthority(strings.TrimPrefix(reg, "http://"))
	_, utail := splitAuthority(strings.TrimPrefix(uri, "http://"))
	return rtail == utail
}

// isLoopbackLiteral: 127.0.0.1 or ::1 written as an IP literal. "localhost"
// is not one: RFC 8252 §8.3 advises against it (it may resolve elsewhere).
func isLoopbackLiteral(host string) bool {
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return ip == netip.MustParseAddr("127.0.0.1") || ip == netip.IPv6Loopback()
}

func isLabelChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validScheme: RFC 3986 §3.1 ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !alpha || !alpha && !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return s != ""
}
