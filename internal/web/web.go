package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed templates/*.html static/latch.css
var files embed.FS

// Page names for Render.
const (
	PageLogin      = "login"
	PageSignup     = "signup"
	PageConsent    = "consent"
	PageError      = "error"
	PageFormPost   = "form_post"
	PageWebMessage = "web_message"
)

// pageFiles lists, per page, the template files it is built from; the
// first defines the "page" template that Render executes.
var pageFiles = map[string][]string{
	PageLogin:      {"templates/base.html", "templates/login.html"},
	PageSignup:     {"templates/base.html", "templates/signup.html"},
	PageConsent:    {"templates/base.html", "templates/consent.html"},
	PageError:      {"templates/base.html", "templates/error.html"},
	PageFormPost:   {"templates/form_post.html"},
	PageWebMessage: {"templates/web_message.html"},
}

// Pages is the parsed set of templates. It is safe for concurrent use.
type Pages struct {
	t map[string]*template.Template
}

// Parse parses every embedded page. It fails only if a template is broken,
// which the package's tests rule out; callers may treat an error as fatal
// at startup.
func Parse() (*Pages, error) {
	p := &Pages{t: make(map[string]*template.Template, len(pageFiles))}
	for name, fs := range pageFiles {
		t, err := template.New(name).ParseFS(files, fs...)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		p.t[name] = t
	}
	return p, nil
}

// MustParse is Parse for program start-up: the templates are compiled into
// the binary, so an error is a bug, not a runtime condition.
func MustParse() *Pages {
	p, err := Parse()
	if err != nil {
		panic(err)
	}
	return p
}

// Render executes page name with data and writes it with status. The page
// is rendered into a buffer first, so a template error never leaves half a
// page on the wire: it is returned and nothing is written. Render sets
// Content-Type and Cache-Control: no-store (pages carry CSRF tokens, codes
// and personal data); the caller sets the Content-Security-Policy.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := p.t[name]
	if !ok {
		return fmt.Errorf("web: unknown page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "page", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// Base is what every hosted page shows: the tenant's branding and a title.
type Base struct {
	Brand Branding
	Title string
	Lang  string // html lang attribute; "en" when empty
}

// Field is one form input: its value to show again and the error next to
// it ("" when none).
type Field struct {
	Value string
	Error string
}

// LoginData is the /u/login page.
type LoginData struct {
	Base
	ClientName string
	Action     string // form action (same origin)
	State      string // transaction handle, posted back
	CSRF       string
	Username   Field
	Password   Field // Value is never filled in
	FormError  string
	SignupURL  string // "" hides the sign-up link
	Notice     string // informational text (e.g. "Your account was created")
}

// SignupData is the /u/signup page.
type SignupData struct {
	Base
	ClientName string
	Action     string
	State      string
	CSRF       string
	Email      Field
	Password   Field
	FormError  string
	MinLength  int
	LoginURL   string
}

// Scope is one line of the consent page.
type Scope struct {
	Name        string
	Description string
}

// ConsentData is the /u/consent page.
type ConsentData struct {
	Base
	ClientName string
	UserName   string
	Action     string
	State      string
	CSRF       string
	Scopes     []Scope
}

// ErrorData is the error page. Code and Description are the OAuth error,
// shown so a developer can act on it.
type ErrorData struct {
	Base
	Message     string
	Code        string
	Description string
	LinkURL     template.URL // optional "back to the application" link
	LinkText    string
	RequestID   string
}

// Param is a name/value pair of a response.
type Param struct {
	Name  string
	Value string
}

// FormPostData is the OAuth 2.0 Form Post Response Mode page: a form that
// posts Params to Action and submits itself with the script allowed by
// Nonce; with scripts off its Continue button is shown instead.
type FormPostData struct {
	Action template.URL // a registered callback, so trusted as a URL
	Params []Param
	Nonce  string
}

// WebMessageData is the web_message response page (AUTH0-BEHAVIOUR §1.3):
// its script posts {type: "authorization_response", response: Response} to
// window.opener || window.parent with TargetOrigin.
type WebMessageData struct {
	TargetOrigin string
	Response     WebMessageResponse
	Nonce        string
}

// WebMessageResponse is the response member of the posted message: code
// and state on success, error, error_description and state on failure.
type WebMessageResponse struct {
	Code             string `json:"code,omitempty"`
	IDToken          string `json:"id_token,omitempty"`
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	State            string `json:"state,omitempty"`
}
