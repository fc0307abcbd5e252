package users

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// Identity is one entry of a profile's identities (never upstream tokens).
type Identity struct {
	Connection string `json:"connection"`
	Provider   string `json:"provider"`
	UserID     string `json:"user_id"`
	IsSocial   bool   `json:"isSocial"`
}

// Profile is a user as Auth0's Management API and /userinfo show it: every
// field of the Pieces SDK's Auth0User, dates as RFC 3339 strings.
type Profile struct {
	UserID                 string          `json:"user_id"`
	Email                  string          `json:"email"`
	EmailVerified          bool            `json:"email_verified"`
	Username               string          `json:"username,omitempty"`
	Name                   string          `json:"name"`
	Nickname               string          `json:"nickname"`
	Picture                string          `json:"picture"`
	GivenName              string          `json:"given_name,omitempty"`
	FamilyName             string          `json:"family_name,omitempty"`
	Locale                 string          `json:"locale,omitempty"`
	CreatedAt              string          `json:"created_at"`
	UpdatedAt              string          `json:"updated_at"`
	Identities             []Identity      `json:"identities"`
	UserMetadata           json.RawMessage `json:"user_metadata"`
	AppMetadata            json.RawMessage `json:"app_metadata"`
	LastIP                 string          `json:"last_ip,omitempty"`
	LastLogin              string          `json:"last_login,omitempty"`
	LoginsCount            int64           `json:"logins_count"`
	Blocked                bool            `json:"blocked"`
	BlockedFor             []any           `json:"blocked_for"`
	GuardianAuthenticators []any           `json:"guardian_authenticators"`
}

// Time formats t as Auth0 does: RFC 3339 in UTC with milliseconds.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// ProfileOf renders u. blockedFor lists brute-force blocks (may be nil).
func ProfileOf(u *store.User, blockedFor []any) Profile {
	provider := "auth0"
	_, rest, ok := strings.Cut(u.ID, "|")
	if !ok {
		rest = u.ID
	}
	if blockedFor == nil {
		blockedFor = []any{}
	}
	return Profile{
		UserID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Username: u.Username,
		Name: u.Name, Nickname: u.Nickname, Picture: u.Picture,
		GivenName: u.GivenName, FamilyName: u.FamilyName, Locale: u.Locale,
		CreatedAt: Time(u.CreatedAt), UpdatedAt: Time(u.UpdatedAt),
		Identities:   []Identity{{Connection: u.Connection, Provider: provider, UserID: rest, IsSocial: false}},
		UserMetadata: object(u.UserMetadata), AppMetadata: object(u.AppMetadata),
		LastIP: u.LastIP, LastLogin: Time(u.LastLogin), LoginsCount: u.LoginsCount,
		Blocked: u.Blocked, BlockedFor: blockedFor, GuardianAuthenticators: []any{},
	}
}

func object(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}")
	}
	return raw
}
