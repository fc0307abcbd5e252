package authorize

import (
	"net/http"
	"strings"
	"testing"

	"github.com/latch-auth/latch/internal/config"
)

// FuzzGrantScope: scope parsing at /authorize never panics; it fails only
// with 400 invalid_scope, and what it grants is a duplicate-free subset of
// the request made of OpenID scopes and the API's own, each a valid RFC
// 6749 §3.3 scope-token, that grants itself unchanged.
func FuzzGrantScope(f *testing.F) {
	api := &config.API{Identifier: "https://api.test/", Scopes: []string{"read:items", "write:items"}}
	for _, s := range []string{
		"openid profile email offline_access read:items",
		"openid openid  read:items\twrite:items admin",
		"", " ", "openid \"quoted\"", "openid back\\slash", "openid caf\u00e9", "openid\x00",
		strings.Repeat("a ", 101),
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, withAPI bool) {
		a := api
		if !withAPI {
			a = nil
		}
		got, oe := grantScope(raw, a)
		if oe != nil {
			if oe.Code != "invalid_scope" || oe.Status != http.StatusBadRequest {
				t.Fatalf("grantScope(%q): error %+v", raw, oe)
			}
			return
		}
		requested := map[string]bool{}
		for _, s := range strings.Fields(raw) {
			requested[s] = true
		}
		seen := map[string]bool{}
		for _, s := range strings.Split(got, " ") {
			if got == "" {
				break
			}
			switch {
			case !validScopeToken(s):
				t.Fatalf("grantScope(%q) = %q: invalid value %q", raw, got, s)
			case seen[s]:
				t.Fatalf("grantScope(%q) = %q repeats %q", raw, got, s)
			case !requested[s]:
				t.Fatalf("grantScope(%q) = %q adds %q", raw, got, s)
			case !oidcScopes[s] && (a == nil || !hasScope(strings.Join(a.Scopes, " "), s)):
				t.Fatalf("grantScope(%q) = %q grants unknown %q", raw, got, s)
			}
			seen[s] = true
		}
		if again, oe := grantScope(got, a); oe != nil || again != got {
			t.Fatalf("grantScope(%q) = %q, which grants %q, %v", raw, got, again, oe)
		}
	})
}
