package authorize

import (
	"net/url"
	"strings"
	"testing"
)

func TestMatchRedirect(t *testing.T) {
	web := []string{"https://app.example.com/cb", "https://*.example.org/cb", "https://pr-*-x.example.net/cb?a=1", "http://localhost:3000"}
	native := []string{"http://127.0.0.1/cb", "http://[::1]:8080/cb", "com.example.app:/oauth", "http://localhost/cb"}
	tests := []struct {
		name   string
		reg    []string
		uri    string
		native bool
		want   bool
	}{
		{"exact", web, "https://app.example.com/cb", false, true},
		{"exact origin only", web, "http://localhost:3000", false, true},
		{"trailing slash differs", web, "https://app.example.com/cb/", false, false},
		{"path case differs", web, "https://app.example.com/CB", false, false},
		{"host case differs", web, "https://APP.example.com/cb", false, false},
		{"scheme differs", web, "http://app.example.com/cb", false, false},
		{"extra query", web, "https://app.example.com/cb?x=1", false, false},
		{"fragment", web, "https://app.example.com/cb#x", false, false},
		{"port added", web, "https://app.example.com:443/cb", false, false},
		{"user info", web, "https://evil@app.example.com/cb", false, false},
		{"prefix of registered", web, "https://app.example.com/c", false, false},
		{"wildcard one label", web, "https://tenant-1.example.org/cb", false, true},
		{"wildcard two labels", web, "https://a.b.example.org/cb", false, false},
		{"wildcard empty label", web, "https://.example.org/cb", false, false},
		{"wildcard bare domain", web, "https://example.org/cb", false, false},
		{"wildcard other path", web, "https://a.example.org/cb2", false, false},
		{"wildcard odd chars", web, "https://a_b.example.org/cb", false, false},
		{"wildcard encoded dot", web, "https://a%2eb.example.org/cb", false, false},
		{"wildcard other domain", web, "https://a.example.org.evil.com/cb", false, false},
		{"wildcard user info", web, "https://x@a.example.org/cb", false, false},
		{"wildcard port", web, "https://a.example.org:8443/cb", false, false},
		{"wildcard prefix suffix", web, "https://pr-42-x.example.net/cb?a=1", false, true},
		{"wildcard prefix suffix wrong", web, "https://pr-42.example.net/cb?a=1", false, false},
		{"wildcard literal star", web, "https://*.example.org/cb", false, false},
		{"loopback any port", native, "http://127.0.0.1:51234/cb", true, true},
		{"loopback no port", native, "http://127.0.0.1/cb", true, true},
		{"loopback v6 any port", native, "http://[::1]:9/cb", true, true},
		{"loopback other path", native, "http://127.0.0.1:5000/other", true, false},
		{"loopback https", native, "https://127.0.0.1:5000/cb", true, false},
		{"loopback not native", native, "http://127.0.0.1:5000/cb", false, false},
		{"localhost port is not loopback literal", native, "http://localhost:5000/cb", true, false},
		{"loopback bad port", native, "http://127.0.0.1:99999999/cb", true, false},
		{"custom scheme", native, "com.example.app:/oauth", true, true},
		{"custom scheme other path", native, "com.example.app:/other", true, false},
		{"empty", web, "", false, false},
		{"space", web, "https://app.example.com/cb ", false, false},
		{"nothing registered", nil, "https://app.example.com/cb", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchRedirect(tt.reg, tt.uri, tt.native); got != tt.want {
				t.Errorf("MatchRedirect(%q, native=%v) = %v, want %v", tt.uri, tt.native, got, tt.want)
			}
		})
	}
}

func TestMatchOrigin(t *testing.T) {
	allowed := []string{"http://localhost:3000", "https://app.example.com/", "https://*.example.org", "capacitor://localhost"}
	tests := []struct {
		origin string
		want   bool
	}{
		{"http://localhost:3000", true},
		{"HTTP://LOCALHOST:3000", true},
		{"https://app.example.com", true},
		{"https://app.example.com:443", true},
		{"https://app.example.com:8443", false},
		{"https://a.example.org", true},
		{"https://a.b.example.org", false},
		{"http://a.example.org", false},
		{"capacitor://localhost", true},
		{"http://localhost:3001", false},
		{"http://localhost:3000/path", false},
		{"null", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			if got := MatchOrigin(allowed, tt.origin); got != tt.want {
				t.Errorf("MatchOrigin(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}

func TestOriginOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://app.test/callback?x=1", "http://app.test"},
		{"https://App.Test:443/cb", "https://app.test"},
		{"http://127.0.0.1:5000/cb", "http://127.0.0.1:5000"},
		{"http://[::1]:5000/cb", "http://[::1]:5000"},
		{"com.example.app:/oauth", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, _ := OriginOf(tt.in); got != tt.want {
				t.Errorf("OriginOf(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzMatchRedirect checks that the matcher never panics and never accepts
// a URI that is not registered exactly, on a loopback port, or in the
// wildcard label — in particular nothing with a fragment, user info or a
// different host suffix.
func FuzzMatchRedirect(f *testing.F) {
	reg := []string{"https://app.example.com/cb", "https://*.example.org/cb", "http://127.0.0.1/cb", "com.example.app:/oauth"}
	for _, s := range []string{"https://app.example.com/cb", "https://a.example.org/cb", "http://127.0.0.1:1/cb",
		"https://a.b.example.org/cb", "https://x@a.example.org/cb", "http://[::1]/cb", "com.example.app:/oauth", "%", "https://*.example.org/cb"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, uri string, native bool) {
		if !MatchRedirect(reg, uri, native) {
			return
		}
		if strings.ContainsAny(uri, "#@ \\") {
			t.Fatalf("accepted %q", uri)
		}
		for _, r := range reg {
			if r == uri {
				return
			}
		}
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatalf("accepted unparsable %q", uri)
		}
		switch {
		case u.Scheme == "https" && strings.HasSuffix(u.Host, ".example.org") && strings.Count(u.Host, ".") == 2 && u.Path == "/cb" && u.RawQuery == "":
		case native && u.Scheme == "http" && u.Hostname() == "127.0.0.1" && u.Path == "/cb" && u.RawQuery == "":
		default:
			t.Fatalf("accepted %q", uri)
		}
		if !MatchRedirect(reg, uri, native) {
			t.Fatal("not deterministic")
		}
	})
}
