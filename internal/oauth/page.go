package oauth

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/latch-auth/latch/internal/config"
)

//go:embed templates/*.html
var templateFS embed.FS

var errorPage = template.Must(template.ParseFS(templateFS, "templates/error.html"))

// pageCSS is the error page's only style; the page's CSP allows exactly this
// stylesheet by hash and nothing else (no script, no remote resources).
const pageCSS = `body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1f2328;margin:0}` +
	`main{max-width:32rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}` +
	`h1{font-size:1.4rem;margin-top:0}.code{font-family:monospace;color:#b42318}.hint{color:#57606a;font-size:.9rem}`

var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
}()

// writeErrorPage renders a readable HTML error for browser endpoints
// (logout), where a JSON body would help no one.
func writeErrorPage(w http.ResponseWriter, cfg *config.Config, status int, code, desc string) {
	var buf bytes.Buffer
	data := struct {
		Tenant, Code, Description string
		CSS                       template.CSS
	}{cfg.Tenant.Name, code, desc, template.CSS(pageCSS)}
	if err := errorPage.Execute(&buf, data); err != nil {
		http.Error(w, desc, status) // cannot happen with the embedded template
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeOK is the 200 text/html "OK" answer of a logout with nowhere to go
// (the Pieces SDK returns this body as a string).
func writeOK(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("OK"))
}
