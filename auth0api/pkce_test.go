package auth0api

import (
	"regexp"
	"testing"
)

var unreserved = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

func TestPKCEHelpers(t *testing.T) {
	t.Run("RFC 7636 appendix B", func(t *testing.T) {
		got := ChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
		if got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
			t.Fatalf("ChallengeS256 = %s", got)
		}
	})
	for name, gen := range map[string]func() string{"verifier": NewVerifier, "state": NewState, "nonce": NewNonce} {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			for range 100 {
				v := gen()
				if !unreserved.MatchString(v) || len(v) != 43 {
					t.Fatalf("%q is not 43 unreserved characters", v)
				}
				if seen[v] {
					t.Fatalf("%q repeated", v)
				}
				seen[v] = true
			}
		})
	}
	t.Run("challenge of a verifier", func(t *testing.T) {
		if c := ChallengeS256(NewVerifier()); len(c) != 43 || !unreserved.MatchString(c) {
			t.Fatalf("challenge %q", c)
		}
	})
}
