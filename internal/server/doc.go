// Package server assembles latch's HTTP handler (routes.go lists every URL),
// its middleware (request ids, logs without secrets, panics caught, bodies
// capped, security headers) and the http.Server lifecycle (timeouts, TLS,
// graceful shutdown).
package server
