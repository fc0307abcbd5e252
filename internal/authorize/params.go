package authorize

import (
	"net/url"
	"strings"
)

// Limits on what a request may carry. A browser URL is bounded by the
// server's header limit anyway; these keep a transaction row small and make
// the error for an absurd value clear.
const (
	maxURILen   = 2048
	maxValueLen = 4096
)

// Params is an /authorize request as sent, one field per parameter
// (SPEC §1 and AUTH0-BEHAVIOUR §1.1), before any validation. Parameters
// latch does not know (ext-*, auth0Client, display, acr_values, upstream
// IdP parameters, the Pieces SDK's extras) are ignored, as Auth0 ignores
// them.
type Params struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	ResponseMode        string
	Scope               string
	Audience            string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Connection          string
	Prompt              string
	MaxAge              string
	LoginHint           string
	ScreenHint          string
	UILocales           string
	Organization        string
	Invitation          string
	Request             string // OIDC request objects are not supported
	RequestURI          string

	// Duplicate names the first known parameter sent more than once
	// (RFC 6749 §3.1: parameters must not repeat), "" when none did.
	Duplicate string
	// TooLong names the first known parameter longer than latch accepts.
	TooLong string
}

// Parse reads the known parameters from v (the query of a GET, the form of
// a POST). Empty values count as absent (RFC 6749 §3.1). Parse never fails:
// what is wrong is reported by validation, in Auth0's order.
func Parse(v url.Values) Params {
	var p Params
	fields := []struct {
		name string
		dst  *string
	}{
		{"client_id", &p.ClientID},
		{"redirect_uri", &p.RedirectURI},
		{"response_type", &p.ResponseType},
		{"response_mode", &p.ResponseMode},
		{"scope", &p.Scope},
		{"audience", &p.Audience},
		{"state", &p.State},
		{"nonce", &p.Nonce},
		{"code_challenge", &p.CodeChallenge},
		{"code_challenge_method", &p.CodeChallengeMethod},
		{"connection", &p.Connection},
		{"prompt", &p.Prompt},
		{"max_age", &p.MaxAge},
		{"login_hint", &p.LoginHint},
		{"screen_hint", &p.ScreenHint},
		{"ui_locales", &p.UILocales},
		{"organization", &p.Organization},
		{"invitation", &p.Invitation},
		{"request", &p.Request},
		{"request_uri", &p.RequestURI},
	}
	for _, f := range fields {
		vals := nonEmpty(v[f.name])
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 && p.Duplicate == "" {
			p.Duplicate = f.name
		}
		*f.dst = vals[0]
		if len(vals[0]) > maxValueLen && p.TooLong == "" {
			p.TooLong = f.name
		}
	}
	return p
}

func nonEmpty(vals []string) []string {
	out := vals[:0:0]
	for _, s := range vals {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parsePrompt splits prompt (space separated, OIDC Core §3.1.2.1) into a
// set. ok is false for an unknown value or for none combined with another.
func parsePrompt(s string) (set map[string]bool, bad string) {
	set = map[string]bool{}
	for _, v := range strings.Fields(s) {
		switch v {
		case "none", "login", "consent", "select_account":
			set[v] = true
		default:
			return nil, v
		}
	}
	if set["none"] && len(set) > 1 {
		return nil, s
	}
	return set, ""
}
