package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Source returns the CSP source expression (CSP3 §2.3.1) that covers the
// origin of uri: scheme://host[:port] for http(s), "scheme:" for a native
// app's private-use scheme. ok is false when uri cannot be expressed as a
// source (IPv6 literals, characters outside the grammar), in which case the
// caller must leave the directive out rather than write a broken one.
func Source(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if !sourceSafe(scheme, false) {
		return "", false
	}
	if scheme != "http" && scheme != "https" {
		return scheme + ":", true
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.Contains(host, ":") || !sourceSafe(host, true) {
		return "", false
	}
	if p := u.Port(); p != "" {
		if !sourceSafe(p, false) {
			return "", false
		}
		return scheme + "://" + host + ":" + p, true
	}
	return scheme + "://" + host, true
}

// sourceSafe allows letters, digits, '-', '.', '+' and (for hosts) a
// leading "*." wildcard: nothing that could end a directive or add one.
func sourceSafe(s string, host bool) bool {
	if host {
		s = strings.TrimPrefix(s, "*.")
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '+') {
			return false
		}
	}
	return true
}

func isHTTPURL(s string) bool {
	ls := strings.ToLower(s)
	return strings.HasPrefix(ls, "https://") || strings.HasPrefix(ls, "http://")
}

// PageCSP is the policy of a hosted page (login, signup, consent, error):
// no scripts, styles and images from latch itself (plus the logo's origin),
// forms posted to latch only, and never framed. formTargets are URLs a form
// submission may end up at through a redirect (browsers apply form-action
// to redirects): the application's callback. When one of them cannot be
// written as a source, form-action is left out rather than made to block
// the login.
func PageCSP(b Branding, formTargets ...string) string {
	img := "img-src 'self'"
	if src, ok := Source(b.LogoURL); ok && b.LogoURL != "" {
		img += " " + src
	}
	directives := []string{"default-src 'none'", "style-src 'self'", img}
	if fa, ok := formAction(formTargets); ok {
		directives = append(directives, fa)
	}
	directives = append(directives, "frame-ancestors 'none'", "base-uri 'none'")
	return strings.Join(directives, "; ")
}

func formAction(targets []string) (string, bool) {
	srcs := []string{"'self'"}
	for _, t := range targets {
		if t == "" {
			continue
		}
		src, ok := Source(t)
		if !ok {
			return "", false
		}
		srcs = append(srcs, src)
	}
	return "form-action " + strings.Join(srcs, " "), true
}

// FormPostCSP is the policy of a form_post response page: only its own
// nonce-bearing script runs, and its form may go only to the callback.
func FormPostCSP(nonce, action string) string {
	d := []string{"default-src 'none'", "script-src 'nonce-" + nonce + "'"}
	if fa, ok := formAction([]string{action}); ok {
		d = append(d, fa)
	}
	return strings.Join(append(d, "frame-ancestors 'none'", "base-uri 'none'"), "; ")
}

// WebMessageCSP is the policy of a web_message response page: its own
// script only, and framing allowed for the client's web origins and no one
// else (the page is loaded in a hidden iframe for silent authentication).
func WebMessageCSP(nonce string, webOrigins []string) string {
	var anc []string
	for _, o := range webOrigins {
		if src, ok := Source(strings.TrimSuffix(o, "/")); ok && isHTTPURL(o) {
			anc = append(anc, src)
		}
	}
	fa := "frame-ancestors 'none'"
	if len(anc) > 0 {
		fa = "frame-ancestors " + strings.Join(anc, " ")
	}
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; " + fa + "; base-uri 'none'"
}

// SetCSP sets the page's policy; for a page that may be framed it also
// removes the X-Frame-Options: DENY the middleware set, which would
// otherwise win over frame-ancestors in older browsers.
func SetCSP(w http.ResponseWriter, csp string, framable bool) {
	w.Header().Set("Content-Security-Policy", csp)
	if framable {
		w.Header().Del("X-Frame-Options")
	}
}

// Nonce returns a fresh CSP nonce (128 random bits).
func Nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
