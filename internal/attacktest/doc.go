// Package attacktest attacks a live latch the way real attackers do
// (issue 8): redirect-URI and returnTo tricks, code injection and replay,
// PKCE downgrades, refresh tokens moved between clients, login CSRF and
// session fixation, clickjacking, token leakage into URLs and logs,
// oversized, malformed and hostile input, and slow clients. Every test
// runs the whole server (server.New) on 127.0.0.1 over a real SQLite file
// and talks HTTP to it; each attack must end in a clean 4xx or a safe
// page, with nothing stored that should not be. The package has no
// non-test code.
package attacktest
