package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
)

// PKCE values shared by every code the benchmark mints (RFC 7636 §4.1:
// 43 to 128 unreserved characters).
var (
	verifier  = "bench-" + strings.Repeat("v", 40) + "-latch-pkce-verifier"
	challenge = func() string {
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}()
)

// grantSpec is what an /authorize request asks for.
type grantSpec struct {
	scope    string
	audience string
}

var (
	specAPI     = grantSpec{scope: "openid profile email", audience: benchAPI}
	specOpenID  = grantSpec{scope: "openid profile email"}
	specRefresh = grantSpec{scope: "openid profile email offline_access", audience: benchAPI}
)

// authorizePath is the /authorize request an SPA sends (spa-js's parameters).
func authorizePath(g grantSpec, prompt string) string {
	v := url.Values{
		"client_id": {spaClient}, "redirect_uri": {callbackURL}, "response_type": {"code"},
		"response_mode": {"query"}, "scope": {g.scope}, "state": {"bench-state"},
		"nonce": {"bench-nonce"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	if g.audience != "" {
		v.Set("audience", g.audience)
	}
	if prompt != "" {
		v.Set("prompt", prompt)
	}
	return "/authorize?" + v.Encode()
}

// callbackCode checks that r redirects to the callback with a code and the
// state, and returns the code.
func callbackCode(r *response) (string, error) {
	if r.Status != 302 {
		return "", fmt.Errorf("want 302 to the callback, got %d: %.200s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Location)
	if err != nil {
		return "", fmt.Errorf("bad Location %q: %w", r.Location, err)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("callback got error %s: %s", e, q.Get("error_description"))
	}
	code := q.Get("code")
	if !strings.HasPrefix(r.Location, callbackURL+"?") || code == "" || q.Get("state") != "bench-state" {
		return "", fmt.Errorf("unexpected Location %q", r.Location)
	}
	return code, nil
}

// signup creates a user through POST /dbconnections/signup.
func signup(c *conn, email, password string) error {
	body, _ := json.Marshal(map[string]string{
		"client_id": spaClient, "email": email, "password": password, "connection": connection,
	})
	r, err := c.do(&request{Method: "POST", Path: "/dbconnections/signup",
		Header: []string{"Content-Type: application/json"}, Body: body})
	if err != nil {
		return err
	}
	if r.Status != 200 {
		return fmt.Errorf("signup %s: %d %s", email, r.Status, r.Body)
	}
	return nil
}

var errorRE = regexp.MustCompile(`(?s)role="alert"[^>]*>(.*?)<`)

// pageError is the message a hosted page shows (its role="alert" element).
func pageError(body []byte) string {
	if m := errorRE.FindSubmatch(body); m != nil {
		return strings.TrimSpace(html.UnescapeString(string(m[1])))
	}
	return fmt.Sprintf("%.300s", body)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// loginFlow is a browser's password login: /authorize without a session,
// the hosted login page, the form POST, then the redirect to the callback.
// It returns the code and the SSO session cookie ("name=value").
func loginFlow(c *conn, g grantSpec, email, password string) (code, cookie string, err error) {
	r, err := c.do(&request{Method: "GET", Path: authorizePath(g, "")})
	if err != nil {
		return "", "", err
	}
	if r.Status != 302 || !strings.HasPrefix(r.Location, "/u/login?state=") {
		return "", "", fmt.Errorf("authorize: want 302 to /u/login, got %d %q", r.Status, r.Location)
	}
	r, err = c.do(&request{Method: "GET", Path: r.Location})
	if err != nil {
		return "", "", err
	}
	if r.Status != 200 {
		return "", "", fmt.Errorf("login page: %d", r.Status)
	}
	form := url.Values{}
	for _, m := range hiddenRE.FindAllSubmatch(r.Body, -1) {
		form.Set(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
	}
	if form.Get("state") == "" || form.Get("csrf") == "" {
		return "", "", fmt.Errorf("login page has no state/csrf fields")
	}
	form.Set("username", email)
	form.Set("password", password)
	r, err = c.do(&request{Method: "POST", Path: "/u/login", Header: []string{
		"Content-Type: application/x-www-form-urlencoded",
		"Origin: http://" + c.addr, "Sec-Fetch-Site: same-origin",
	}, Body: []byte(form.Encode())})
	if err != nil {
		return "", "", err
	}
	if r.Status != 302 {
		return "", "", fmt.Errorf("login POST: want 302 to the callback, got %d: %s", r.Status, pageError(r.Body))
	}
	if code, err = callbackCode(r); err != nil {
		return "", "", fmt.Errorf("login POST: %w", err)
	}
	v := cookieValue(r.SetCookie, "latch_session")
	if v == "" {
		return "", "", fmt.Errorf("login POST set no latch_session cookie")
	}
	return code, "latch_session=" + v, nil
}

// silentCode is /authorize with prompt=none and the SSO cookie: a code at
// once, as spa-js's getTokenSilently gets one.
func silentCode(c *conn, path, cookie string) (string, error) {
	r, err := c.do(&request{Method: "GET", Path: path, Header: []string{"Cookie: " + cookie}})
	if err != nil {
		return "", err
	}
	return callbackCode(r)
}

// codeForm is the body of an authorization_code token request.
func codeForm(code string) []byte {
	return []byte("grant_type=authorization_code&client_id=" + spaClient +
		"&code=" + url.QueryEscape(code) + "&redirect_uri=" + url.QueryEscape(callbackURL) +
		"&code_verifier=" + verifier)
}

var formHeader = []string{"Content-Type: application/x-www-form-urlencoded"}

// tokenResponse is the part of /oauth/token's answer the benchmark reads.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// exchange redeems a code at /oauth/token.
func exchange(c *conn, code string) (*tokenResponse, error) {
	r, err := c.do(&request{Method: "POST", Path: "/oauth/token", Header: formHeader, Body: codeForm(code)})
	if err != nil {
		return nil, err
	}
	if r.Status != 200 {
		return nil, fmt.Errorf("code exchange: %d %s", r.Status, r.Body)
	}
	var t tokenResponse
	if err := json.Unmarshal(r.Body, &t); err != nil {
		return nil, fmt.Errorf("code exchange: %w", err)
	}
	return &t, nil
}

// jsonString returns the value of the string member name in a flat JSON
// object without decoding the whole body (the hot loop only needs one
// field). Token values never contain escapes.
func jsonString(body []byte, name string) string {
	key := `"` + name + `":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
