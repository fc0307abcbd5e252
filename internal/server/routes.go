package server

import (
	"net/http"

	"github.com/latch-auth/latch/internal/authorize"
	"github.com/latch-auth/latch/internal/login"
	"github.com/latch-auth/latch/internal/oauth"
	"github.com/latch-auth/latch/internal/tokens"
	"github.com/latch-auth/latch/internal/web"
)

// routes lists every URL latch serves.
func routes(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", readyz(d))

	cors := &oauth.CORS{Config: d.Config}
	discovery := &oauth.DiscoveryHandler{Config: d.Config}
	mux.Handle("GET /.well-known/openid-configuration", cors.Wrap("GET", discovery))
	mux.Handle("GET /.well-known/oauth-authorization-server", cors.Wrap("GET", discovery))
	mux.Handle("GET /.well-known/jwks.json", cors.Wrap("GET", jwks(d)))
	oauthRoutes(mux, d, cors)
	browserRoutes(mux, d)

	mux.HandleFunc("/", notFound)
}

// oauthRoutes adds /oauth/token, /oauth/revoke, /userinfo, the logout
// endpoints and /dbconnections/signup, with CORS (and preflights) where
// browsers call them.
func oauthRoutes(mux *http.ServeMux, d Deps, cors *oauth.CORS) {
	h := &oauth.Handler{
		Config: d.Config, Store: d.Store, Passwords: d.Passwords, Logger: d.Logger, Now: d.Now,
		Tokens: tokens.NewIssuer(d.Config, d.Keys, d.Store, d.Now),
	}
	mux.Handle("POST /oauth/token", cors.Wrap("POST", http.HandlerFunc(h.Token)))
	mux.Handle("POST /oauth/revoke", cors.Wrap("POST", http.HandlerFunc(h.Revoke)))
	mux.Handle("GET /userinfo", cors.Wrap("GET, POST", http.HandlerFunc(h.Userinfo)))
	mux.Handle("POST /userinfo", cors.Wrap("GET, POST", http.HandlerFunc(h.Userinfo)))
	for path, methods := range map[string]string{
		"/oauth/token": "POST", "/oauth/revoke": "POST", "/userinfo": "GET, POST",
		"/.well-known/openid-configuration": "GET", "/.well-known/oauth-authorization-server": "GET",
		"/.well-known/jwks.json": "GET",
	} {
		mux.Handle("OPTIONS "+path, cors.Preflight(methods))
	}
	mux.HandleFunc("GET /v2/logout", h.Logout)
	mux.HandleFunc("GET /oidc/logout", h.OIDCLogout)
	mux.HandleFunc("POST /oidc/logout", h.OIDCLogout)
	mux.HandleFunc("POST /dbconnections/signup", h.Signup)
}

// browserRoutes adds /authorize and the hosted pages under /u/ (login,
// sign-up, consent, their stylesheet). Templates are parsed here, at start.
func browserRoutes(mux *http.ServeMux, d Deps) {
	pages := d.Pages
	authz := authorize.New(authorize.Deps{
		Config: d.Config, Store: d.Store, Pages: pages, Logger: d.Logger, Now: d.Now,
		Tokens: tokens.NewIssuer(d.Config, d.Keys, d.Store, d.Now),
	})
	mux.Handle("GET /authorize", authz)
	mux.Handle("POST /authorize", authz)
	lg := login.New(login.Deps{
		Config: d.Config, Store: d.Store, Passwords: d.Passwords, Authorize: authz,
		Pages: pages, Logger: d.Logger, Now: d.Now,
	})
	mux.HandleFunc("GET "+authorize.LoginPath, lg.LoginPage)
	mux.HandleFunc("POST "+authorize.LoginPath, lg.Login)
	mux.HandleFunc("GET "+authorize.SignupPath, lg.SignupPage)
	mux.HandleFunc("POST "+authorize.SignupPath, lg.Signup)
	mux.HandleFunc("GET "+authorize.ConsentPath, lg.ConsentPage)
	mux.HandleFunc("POST "+authorize.ConsentPath, lg.Consent)
	mux.HandleFunc("GET "+web.StylesheetPath, lg.Stylesheet)
}

// jwks serves the published signing keys (current, next and retiring).
func jwks(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		oauth.SetCacheableJSON(w.Header())
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
