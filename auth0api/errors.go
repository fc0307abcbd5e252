package auth0api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Error is an error the server reported: a non-2xx answer of the token
// endpoint, /userinfo or /v2/logout, or an error delivered to the redirect
// URI by /authorize (then StatusCode is 0). Code is the OAuth error code
// ("invalid_grant", "login_required", "access_denied", ...) and may be empty
// when the server answered without one (an HTML page or plain text); then
// Description holds the answer's text.
type Error struct {
	StatusCode  int
	Code        string
	Description string
}

// Error formats the error as "auth0api: <code>: <description> (HTTP n)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("auth0api: ")
	switch {
	case e.Code != "" && e.Description != "":
		b.WriteString(e.Code + ": " + e.Description)
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Description != "":
		b.WriteString(e.Description)
	default:
		b.WriteString("request failed")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	return b.String()
}

// Is makes errors.Is(err, &Error{Code: "invalid_grant"}) match any error
// with that code (and, when set in target, that status).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) && (t.StatusCode == 0 || t.StatusCode == e.StatusCode)
}

// ErrStateMismatch is returned by Authorize when the state that came back
// to the redirect URI is not the one sent: the answer was not meant for
// this request (RFC 6749 §10.12), so its code is not used.
var ErrStateMismatch = errors.New("auth0api: the state returned to the redirect URI does not match the request")

// maxDescription bounds descriptions taken from non-JSON bodies.
const maxDescription = 300

// parseError reads an error answer. It understands RFC 6749's
// {"error","error_description"}, Auth0's {"code","description"} (where
// description may be an object, as for password-policy errors) and
// {"error","message"}; a 401 without a body code falls back to the
// WWW-Authenticate challenge (RFC 6750 §3); any other body becomes the
// Description, as text.
func parseError(status int, header http.Header, body []byte) *Error {
	e := &Error{StatusCode: status}
	var v struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription json.RawMessage `json:"error_description"`
		Code             json.RawMessage `json:"code"`
		Description      json.RawMessage `json:"description"`
		Message          json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Code = firstString(v.Error, v.Code)
		e.Description = firstString(v.ErrorDescription, v.Description, v.Message)
		if e.Code != "" || e.Description != "" {
			return e
		}
	}
	if header != nil {
		if code, desc := parseChallenge(header.Get("WWW-Authenticate")); code != "" {
			e.Code, e.Description = code, desc
			return e
		}
	}
	e.Description = plainText(body)
	if e.Description == "" {
		e.Description = http.StatusText(status)
	}
	return e
}

// firstString returns the first non-empty value: a JSON string as is, a
// number as its text, any other JSON (an object) compacted. Auth0's
// password-policy errors carry an object as description.
func firstString(raws ...json.RawMessage) string {
	for _, raw := range raws {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s = strings.TrimSpace(s); s != "" {
				return clip(s)
			}
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err == nil {
			return clip(buf.String())
		}
	}
	return ""
}

// challengeParam matches one auth-param of a WWW-Authenticate header.
var challengeParam = regexp.MustCompile(`([A-Za-z_]+)="((?:[^"\\]|\\.)*)"`)

// parseChallenge reads error and error_description from a Bearer challenge.
func parseChallenge(h string) (code, desc string) {
	// Header bytes are not guaranteed to be UTF-8; Error's fields are.
	h = strings.ToValidUTF8(h, "\uFFFD")
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ""
	}
	for _, m := range challengeParam.FindAllStringSubmatch(rest, -1) {
		val := strings.ReplaceAll(m[2], `\"`, `"`)
		switch m[1] {
		case "error":
			code = clip(val)
		case "error_description":
			desc = clip(val)
		}
	}
	return code, desc
}

var (
	hiddenElems = regexp.MustCompile(`(?is)<(style|script|head)\b.*?</(style|script|head)\s*>`)
	tags        = regexp.MustCompile(`(?s)<[^>]*>`)
)

// plainText turns an HTML or text body into one short line.
func plainText(body []byte) string {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = hiddenElems.ReplaceAllString(s, " ")
	s = tags.ReplaceAllString(s, " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#34;", `"`, "&#39;", "'").Replace(s)
	return clip(strings.Join(strings.Fields(s), " "))
}

// clip shortens s to maxDescription runes.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxDescription {
		return s
	}
	r := []rune(s)
	return string(r[:maxDescription]) + "…"
}
