package server

import (
	"net/http"

	"github.com/latch-auth/latch/internal/oauth"
)

// routes lists every URL latch serves.
func routes(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", readyz(d))

	discovery := &oauth.DiscoveryHandler{Config: d.Config}
	mux.Handle("GET /.well-known/openid-configuration", discovery)
	mux.Handle("GET /.well-known/oauth-authorization-server", discovery)
	mux.HandleFunc("GET /.well-known/jwks.json", jwks(d))

	mux.HandleFunc("/", notFound)
}

// jwks serves the published signing keys (current, next and retiring).
func jwks(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(d.Keys.JWKS())
	}
}

// notFound answers unknown paths (and wrong methods on known ones, which
// ServeMux reports itself as 405) with a JSON 404.
func notFound(w http.ResponseWriter, _ *http.Request) {
	oauth.WriteJSON(w, http.StatusNotFound, map[string]string{
		"error": "not_found", "error_description": "Not found",
	})
}
