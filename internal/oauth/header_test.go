package oauth_test

import (
	"net/http"
	"testing"

	"github.com/latch-auth/latch/internal/oauth"
)

// TestHeaderValueIsNotWrittenThrough: a shared header value survives what
// handlers do to the headers it was assigned to.
func TestHeaderValueIsNotWrittenThrough(t *testing.T) {
	tests := []struct {
		name string
		edit func(h http.Header)
	}{
		{"Add", func(h http.Header) { h.Add("Vary", "Accept") }},
		{"Set", func(h http.Header) { h.Set("Vary", "Accept") }},
		{"Del", func(h http.Header) { h.Del("Vary") }},
		{"Append", func(h http.Header) { h["Vary"] = append(h["Vary"], "Accept") }},
	}
	shared := oauth.HeaderValue("Origin")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h["Vary"] = shared
			tc.edit(h)
			other := http.Header{"Vary": shared}
			if len(shared) != 1 || shared[0] != "Origin" || cap(shared) != 1 || other.Get("Vary") != "Origin" {
				t.Fatalf("shared value became %q (cap %d)", shared, cap(shared))
			}
		})
	}
}
