package crashtest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	at "github.com/latch-auth/latch/internal/authorize/authorizetest"
)

// callback is the SPA's redirect URI; nothing listens there: the client
// reads the code from the Location header.
const callback = "http://127.0.0.1:9/cb"

// errNotSent: the request never reached latch (connection refused), so it
// cannot have changed anything.
var errNotSent = errors.New("not sent: latch is down")

// errLost: latch went away while the request was in flight; whether it took
// effect is unknown.
var errLost = errors.New("lost: latch was killed mid-request")

// reply is a complete HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r *reply) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// jsonField reads one string field of a JSON body.
func (r *reply) jsonField(name string) string {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	s, _ := m[name].(string)
	return s
}

// browser is a client with a cookie jar (the SSO session) that does not
// follow redirects.
type browser struct {
	base    string
	c       *http.Client
	killing *atomic.Bool // set just before latch is killed
}

func newBrowser(base string, killing *atomic.Bool) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, killing: killing, c: &http.Client{
		Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends req and reads the whole answer. Transport errors are errNotSent
// or errLost once latch is being killed, and real failures before that.
func (b *browser) do(req *http.Request) (*reply, error) {
	res, err := b.c.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
	}
	switch {
	case err == nil:
		return &reply{status: res.StatusCode, header: res.Header, body: body}, nil
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, errNotSent
	case b.killing.Load():
		return nil, errLost
	}
	return nil, fmt.Errorf("%s %s while latch was up: %w", req.Method, req.URL.Path, err)
}

func (b *browser) get(path string) (*reply, error) {
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		return nil, err
	}
	return b.do(req)
}

func (b *browser) post(path, contentType string, body []byte) (*reply, error) {
	req, err := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return b.do(req)
}

func (b *browser) postForm(path string, v url.Values) (*reply, error) {
	return b.post(path, "application/x-www-form-urlencoded", []byte(v.Encode()))
}

// pkce is a fresh verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	verifier = base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize returns a code for challenge, logging in with email and pw
// when the browser has no SSO session.
func (b *browser) authorize(email, pw, challenge string) (string, error) {
	q := url.Values{"client_id": {"spa"}, "redirect_uri": {callback}, "response_type": {"code"},
		"scope": {"openid profile email offline_access"}, "state": {"s"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	r, err := b.get("/authorize?" + q.Encode())
	if err != nil {
		return "", err
	}
	loc := r.header.Get("Location")
	if r.status == http.StatusFound && strings.HasPrefix(loc, "/u/login?") {
		page, err := b.get(loc)
		if err != nil {
			return "", err
		}
		if page.status != http.StatusOK {
			return "", fmt.Errorf("login page: %s", page)
		}
		form := at.Hidden(string(page.body))
		form.Set("username", email)
		form.Set("password", pw)
		if r, err = b.postForm("/u/login", form); err != nil {
			return "", err
		}
		loc = r.header.Get("Location")
	}
	if r.status != http.StatusFound || !strings.HasPrefix(loc, callback+"?") {
		return "", fmt.Errorf("authorize for %s: %s (Location %q)", email, r, loc)
	}
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("code") == "" {
		return "", fmt.Errorf("callback without a code: %q", loc)
	}
	return u.Query().Get("code"), nil
}

// tokenSet is one 200 answer of /oauth/token.
type tokenSet struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	ID      string `json:"id_token"`
}

// token posts a token request; a 200 is decoded into a tokenSet.
func (b *browser) token(v url.Values) (*reply, *tokenSet, error) {
	r, err := b.postForm("/oauth/token", v)
	if err != nil || r.status != http.StatusOK {
		return r, nil, err
	}
	var ts tokenSet
	if err := json.Unmarshal(r.body, &ts); err != nil || ts.Access == "" || ts.Refresh == "" || ts.ID == "" {
		return r, nil, fmt.Errorf("token answer without all three tokens: %s", r)
	}
	return r, &ts, nil
}

func (b *browser) exchange(code, verifier string) (*reply, *tokenSet, error) {
	return b.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"},
		"code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}})
}

func (b *browser) refresh(rt string) (*reply, *tokenSet, error) {
	return b.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {rt}})
}

func (b *browser) signup(email, pw string) (*reply, error) {
	body, _ := json.Marshal(map[string]string{"client_id": "spa", "email": email, "password": pw,
		"connection": "Username-Password-Authentication"})
	return b.post("/dbconnections/signup", "application/json", body)
}

func (b *browser) userinfo(access string) (*reply, error) {
	req, err := http.NewRequest(http.MethodGet, b.base+"/userinfo", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	return b.do(req)
}
