// Package login serves latch's hosted pages under /u/: login, sign-up and
// consent, plus their stylesheet. Each page belongs to a login transaction
// started by /authorize (?state=<opaque handle>); every form carries the
// transaction's CSRF token and is refused when posted cross-site. A
// successful login creates or refreshes the SSO session (server-side record,
// HttpOnly cookie) and completes the transaction exactly once, after which
// package authorize issues the code and delivers it.
package login
