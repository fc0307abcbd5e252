// Package web holds latch's browser pages: html/template files and the
// stylesheet embedded in the binary and parsed once at startup, the data
// each page takes, tenant branding, and the Content-Security-Policy each
// kind of page needs. Pages work without JavaScript; only the form_post and
// web_message response pages carry a (nonce-allowed) script.
package web
