package auth0api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Auth0User is the /userinfo answer: every field of the seed's Auth0User
// model plus "sub". Which fields are filled depends on the scopes the
// access token carries (profile, email). Dates are read from RFC 3339
// strings or numbers of seconds; a date the server leaves out is zero.
type Auth0User struct {
	Sub                    string          `json:"sub,omitempty"`
	Name                   string          `json:"name,omitempty"`
	Picture                string          `json:"picture,omitempty"`
	Email                  string          `json:"email,omitempty"`
	CreatedAt              time.Time       `json:"created_at,omitzero"`
	EmailVerified          bool            `json:"email_verified,omitempty"`
	FamilyName             string          `json:"family_name,omitempty"`
	GivenName              string          `json:"given_name,omitempty"`
	Identities             []Auth0Identity `json:"identities,omitempty"`
	Nickname               string          `json:"nickname,omitempty"`
	UpdatedAt              time.Time       `json:"updated_at,omitzero"`
	Username               string          `json:"username,omitempty"`
	UserMetadata           map[string]any  `json:"user_metadata,omitempty"`
	Locale                 string          `json:"locale,omitempty"`
	UserID                 string          `json:"user_id,omitempty"`
	LastIP                 string          `json:"last_ip,omitempty"`
	LastLogin              time.Time       `json:"last_login,omitzero"`
	LoginsCount            int64           `json:"logins_count,omitempty"`
	BlockedFor             []any           `json:"blocked_for,omitempty"`
	GuardianAuthenticators []any           `json:"guardian_authenticators,omitempty"`
}

// UnmarshalJSON reads the dates from strings or numbers.
func (u *Auth0User) UnmarshalJSON(b []byte) error {
	type plain Auth0User
	aux := struct {
		*plain
		CreatedAt json.RawMessage `json:"created_at"`
		UpdatedAt json.RawMessage `json:"updated_at"`
		LastLogin json.RawMessage `json:"last_login"`
	}{plain: (*plain)(u)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		raw  json.RawMessage
		dst  *time.Time
	}{{"created_at", aux.CreatedAt, &u.CreatedAt}, {"updated_at", aux.UpdatedAt, &u.UpdatedAt}, {"last_login", aux.LastLogin, &u.LastLogin}} {
		t, err := parseDate(d.raw)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		*d.dst = t
	}
	return nil
}

// Auth0Identity is one entry of Auth0User.Identities. Auth0 writes some
// providers' user_id as a number; it is read as its decimal text.
type Auth0Identity struct {
	Connection  string `json:"connection"`
	IsSocial    bool   `json:"isSocial"`
	Provider    string `json:"provider"`
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token,omitempty"`
	ExpiresIn   int64  `json:"expires_in,omitempty"`
}

// UnmarshalJSON accepts user_id as a string or a number.
func (id *Auth0Identity) UnmarshalJSON(b []byte) error {
	type plain Auth0Identity
	aux := struct {
		*plain
		UserID json.RawMessage `json:"user_id"`
	}{plain: (*plain)(id)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	id.UserID = ""
	raw := strings.TrimSpace(string(aux.UserID))
	switch {
	case raw == "" || raw == "null":
	case raw[0] == '"':
		return json.Unmarshal(aux.UserID, &id.UserID)
	default:
		var n json.Number
		if err := json.Unmarshal(aux.UserID, &n); err != nil {
			return fmt.Errorf("identities.user_id: %w", err)
		}
		id.UserID = n.String()
	}
	return nil
}

// UserInfo calls GET /userinfo with the access token as a Bearer token
// (RFC 6750 §2.1) and returns the user. A refused token is an *Error with
// StatusCode 401 and Code "invalid_token".
func (c *Client) UserInfo(ctx context.Context, accessToken string) (*Auth0User, error) {
	if err := c.check("userinfo"); err != nil {
		return nil, err
	}
	if accessToken == "" {
		return nil, fmt.Errorf("auth0api: userinfo: no access token")
	}
	res, err := c.get(ctx, "/userinfo", http.Header{
		"Authorization": {"Bearer " + accessToken},
		"Accept":        {"application/json"},
	}, "userinfo")
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		return nil, parseError(res.status, res.header, res.body)
	}
	var u Auth0User
	if err := json.Unmarshal(res.body, &u); err != nil {
		return nil, fmt.Errorf("auth0api: userinfo: the answer is not a user profile: %w", err)
	}
	if u.Sub == "" { // OIDC Core §5.3.2: sub is always returned
		return nil, errors.New("auth0api: userinfo: the answer has no sub")
	}
	return &u, nil
}
