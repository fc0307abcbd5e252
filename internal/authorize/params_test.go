package authorize

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latch-auth/latch/internal/config"
)

func fuzzConfig(t testing.TB) *config.Config {
	cfg := &config.Config{
		Issuer: "http://latch.test/",
		APIs:   []config.API{{Identifier: "https://api.test/", Scopes: []string{"read:items"}}},
		Clients: []config.Client{
			{ClientID: "spa", Type: config.TypeSPA, Callbacks: []string{"http://app.test/cb"}, WebOrigins: []string{"http://app.test"}},
			{ClientID: "web", Type: config.TypeRegularWeb, ClientSecret: "x", Callbacks: []string{"https://*.w.test/cb", "https://w.test/cb"},
				GrantTypes: []string{config.GrantAuthorizationCode, config.GrantImplicit}},
			{ClientID: "native", Type: config.TypeNative, Callbacks: []string{"http://127.0.0.1/cb"}},
		},
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestParse(t *testing.T) {
	v, _ := url.ParseQuery("client_id=spa&client_id=&state=a&state=b&scope=openid&nonce=" + strings.Repeat("n", maxValueLen+1) + "&unknown=1")
	p := Parse(v)
	if p.ClientID != "spa" {
		t.Errorf("ClientID = %q (an empty duplicate counts as absent)", p.ClientID)
	}
	if p.Duplicate != "state" {
		t.Errorf("Duplicate = %q, want state", p.Duplicate)
	}
	if p.TooLong != "nonce" {
		t.Errorf("TooLong = %q, want nonce", p.TooLong)
	}
}

func TestGrantScope(t *testing.T) {
	api := &config.API{Identifier: "https://api.test/", Scopes: []string{"read:items", "write:items"}}
	tests := []struct {
		name, raw string
		api       *config.API
		want      string
		wantErr   string
	}{
		{"oidc", "openid profile email offline_access", nil, "openid profile email offline_access", ""},
		{"unknown dropped", "openid read:items address phone custom", nil, "openid", ""},
		{"api scopes kept", "openid read:items bogus write:items", api, "openid read:items write:items", ""},
		{"duplicates", "openid openid  profile", nil, "openid profile", ""},
		{"empty", "", nil, "", ""},
		{"quote", `openid "x"`, nil, "", "invalid_scope"},
		{"backslash", `openid a\b`, nil, "", "invalid_scope"},
		{"non-ascii", "openid é", nil, "", "invalid_scope"},
		{"too many", strings.Repeat("a ", maxScopes+1), nil, "", "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, oe := grantScope(tt.raw, tt.api)
			if tt.wantErr != "" {
				if oe == nil || oe.Code != tt.wantErr {
					t.Fatalf("grantScope(%q) error = %v, want %s", tt.raw, oe, tt.wantErr)
				}
				return
			}
			if oe != nil || got != tt.want {
				t.Fatalf("grantScope(%q) = %q, %v; want %q", tt.raw, got, oe, tt.want)
			}
		})
	}
}

// FuzzParse runs any query string through the whole validation path and
// checks its invariants: no panic; an untrusted request yields a 4xx page
// error; a trusted one has a registered callback; a valid one is bound to
// an S256 challenge when the client is public, and carries only granted
// scopes.
func FuzzParse(f *testing.F) {
	cfg := fuzzConfig(f)
	for _, s := range []string{
		"client_id=spa&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&scope=openid+read:items&audience=https://api.test/",
		"client_id=web&redirect_uri=https://a.w.test/cb&response_type=id_token&nonce=n&response_mode=form_post&scope=openid",
		"client_id=native&redirect_uri=http://127.0.0.1:9999/cb&response_type=code&prompt=none+login&max_age=-1",
		"client_id=spa&response_mode=web_message&response_type=code&state=a&state=b",
		"client_id=x", "", "%zz", "client_id=spa&redirect_uri=http://app.test/cb%23x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p := Parse(v)
		client, callback, oe := trust(cfg, p)
		if oe != nil {
			if oe.Status < 400 || oe.Status > 499 {
				t.Fatalf("untrusted error status %d", oe.Status)
			}
			return
		}
		if !MatchRedirect(client.Callbacks, callback, client.Type == config.TypeNative) && p.RedirectURI != "" {
			t.Fatalf("trusted unregistered callback %q", callback)
		}
		req, oe := newRequest(p, client, callback)
		if oe == nil {
			oe = validate(cfg, client, p, req, true)
		}
		if oe != nil {
			if oe.Code == "" || oe.Status != http.StatusBadRequest && oe.Status != http.StatusForbidden {
				t.Fatalf("error %+v", oe)
			}
			return
		}
		if req.ResponseType == TypeCode && client.IsPublic() && (req.CodeChallengeMethod != "S256" || len(req.CodeChallenge) != 43) {
			t.Fatalf("public client without S256: %+v", req)
		}
		if _, oe := grantScope(req.Scope, cfg.API(req.Audience)); oe != nil {
			t.Fatalf("granted scope %q does not parse", req.Scope)
		}
	})
}
