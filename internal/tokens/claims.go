package tokens

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
)

// Audience is the JWT "aud" claim (RFC 7519 §4.1.3): one value is written as
// a string, several as an array; both forms are read.
type Audience []string

// MarshalJSON writes one audience as a string, as Auth0 does for ID tokens
// and for access tokens without openid.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("tokens: aud is neither a string nor an array of strings")
	}
	*a = list
	return nil
}

// Contains reports whether s is one of the audiences.
func (a Audience) Contains(s string) bool { return slices.Contains(a, s) }

// IDClaims are the claims of an ID token (OIDC Core §2, §5.1) as latch
// writes them. Profile and email claims appear only when their scope was
// granted; updated_at is an RFC 3339 string as Auth0 sends it, or a number
// of seconds under oidc_strict.
type IDClaims struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        Audience `json:"aud"`
	IssuedAt        int64    `json:"iat"`
	Expiry          int64    `json:"exp"`
	AuthTime        int64    `json:"auth_time,omitempty"`
	SessionID       string   `json:"sid,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	AuthorizedParty string   `json:"azp,omitempty"`

	Name       string `json:"name,omitempty"`
	Nickname   string `json:"nickname,omitempty"`
	Picture    string `json:"picture,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Locale     string `json:"locale,omitempty"`
	UpdatedAt  any    `json:"updated_at,omitempty"`

	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// AccessClaims are the claims of a JWT access token, in the order of
// Auth0's access-token profile. Gty is set only for the client_credentials
// ("client-credentials") and refresh_token grants, as Auth0 does.
type AccessClaims struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        Audience `json:"aud"`
	IssuedAt        int64    `json:"iat"`
	Expiry          int64    `json:"exp"`
	Scope           string   `json:"scope,omitempty"`
	AuthorizedParty string   `json:"azp"`
	GrantType       string   `json:"gty,omitempty"`
}
