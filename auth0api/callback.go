package auth0api

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"sync"
)

// callbackResult is one answer that reached the redirect URI.
type callbackResult struct {
	code, state string
	err         error
}

// callback serves the loopback redirect URI. The first answer carrying a
// code or an error ends the wait; later requests only get a page.
type callback struct {
	path    string
	state   string
	results chan callbackResult
	once    sync.Once
}

func newCallback(redirect, state string) *callback {
	u, _ := url.Parse(redirect) // built by loopbackListener
	return &callback{path: u.Path, state: state, results: make(chan callbackResult, 1)}
}

// maxCallbackBody bounds a form_post body.
const maxCallbackBody = 64 << 10

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != cb.path {
		http.NotFound(w, r) // e.g. /favicon.ico
		return
	}
	var params url.Values
	switch r.Method {
	case http.MethodGet:
		params = r.URL.Query()
	case http.MethodPost: // response_mode=form_post
		r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBody)
		if err := r.ParseForm(); err != nil {
			writePage(w, http.StatusBadRequest, "Login failed", "The login answer could not be read.")
			return
		}
		params = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		writePage(w, http.StatusMethodNotAllowed, "Login failed", "This address only receives login answers.")
		return
	}
	code, state, oerr := params.Get("code"), params.Get("state"), params.Get("error")
	if code == "" && oerr == "" {
		writePage(w, http.StatusBadRequest, "Nothing to do", "This address receives the answer of a login; this request carried none.")
		return
	}
	var res callbackResult
	status, title, msg := http.StatusOK, "You are logged in", "You can close this window and return to the application."
	switch {
	case subtle.ConstantTimeCompare([]byte(state), []byte(cb.state)) != 1:
		res.err = ErrStateMismatch
		status, title, msg = http.StatusBadRequest, "Login failed", "This answer does not belong to the login in progress. Start again from the application."
	case oerr != "":
		e := &Error{Code: clip(oerr), Description: clip(params.Get("error_description"))}
		res.err = e
		status, title, msg = http.StatusBadRequest, "Login failed", errorMessage(e)
	default:
		res.code, res.state = code, state
	}
	delivered := false
	cb.once.Do(func() { cb.results <- res; delivered = true })
	if !delivered {
		status, title, msg = http.StatusConflict, "Already done", "This login is already over. You can close this window."
	}
	writePage(w, status, title, msg)
}

// errorMessage is what the browser is told about a server error.
func errorMessage(e *Error) string {
	if e.Description != "" {
		return e.Description + " (" + e.Code + "). Close this window and try again from the application."
	}
	return "The server answered " + e.Code + ". Close this window and try again from the application."
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p></main></body>
</html>
`))

// writePage answers the browser with a small page. It has no script and
// no links, and sends no referrer: the URL holds the code.
func writePage(w http.ResponseWriter, status int, title, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; form-action 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = page.Execute(w, struct{ Title, Message string }{title, msg})
}

// OpenSystemBrowser opens an http(s) URL in the user's browser:
// xdg-open on Linux and the BSDs, open on macOS, rundll32 on Windows. The
// URL is passed as one argument, never through a shell.
func OpenSystemBrowser(rawURL string) error {
	if !strings.HasPrefix(rawURL, "https://") && !strings.HasPrefix(rawURL, "http://") {
		return errors.New("auth0api: open browser: not an http(s) URL")
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", rawURL)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", rawURL)
	default:
		cmd = exec.Command("xdg-open", rawURL)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
