package auth0api

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		want    time.Time
		wantErr bool
	}{
		{name: "Auth0 string", raw: `"2024-05-01T10:00:00.000Z"`, want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{name: "offset string", raw: `"2024-05-01T12:00:00+02:00"`, want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{name: "seconds", raw: `1700000000`, want: time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)},
		{name: "fractional seconds", raw: `1700000000.5`, want: time.Date(2023, 11, 14, 22, 13, 20, 5e8, time.UTC)},
		{name: "exponent", raw: `1.7e9`, want: time.Unix(1.7e9, 0)},
		{name: "null", raw: `null`},
		{name: "absent", raw: ``},
		{name: "empty string", raw: `""`},
		{name: "not a date", raw: `"yesterday"`, wantErr: true},
		{name: "date only", raw: `"2024-05-01"`, wantErr: true},
		{name: "boolean", raw: `true`, wantErr: true},
		{name: "object", raw: `{}`, wantErr: true},
		{name: "too far", raw: `1e300`, wantErr: true},
		{name: "too early", raw: `-1e300`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDate(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAuth0UserJSON(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		check   func(u *Auth0User) bool
		wantErr bool
	}{
		{name: "Auth0 strings", body: `{"sub":"auth0|1","created_at":"2024-01-02T03:04:05.000Z","updated_at":"2024-02-02T00:00:00Z","last_login":"2024-03-03T00:00:00Z"}`,
			check: func(u *Auth0User) bool {
				return u.CreatedAt.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) && u.UpdatedAt.Month() == 2 && u.LastLogin.Month() == 3
			}},
		{name: "OIDC strict numeric updated_at", body: `{"sub":"x","updated_at":1700000000}`,
			check: func(u *Auth0User) bool { return u.UpdatedAt.Equal(time.Unix(1700000000, 0)) }},
		{name: "numeric identity user_id", body: `{"identities":[{"connection":"github","provider":"github","user_id":123456,"isSocial":true}]}`,
			check: func(u *Auth0User) bool {
				return len(u.Identities) == 1 && u.Identities[0].UserID == "123456" && u.Identities[0].IsSocial
			}},
		{name: "every other field", body: `{"name":"N","picture":"P","email":"e@x","email_verified":true,"family_name":"F","given_name":"G","nickname":"n","username":"u","user_metadata":{"a":1},"locale":"en","user_id":"auth0|1","last_ip":"::1","logins_count":7,"blocked_for":[{"identifier":"x","ip":"1.2.3.4"}],"guardian_authenticators":[]}`,
			check: func(u *Auth0User) bool {
				return u.Name == "N" && u.Picture == "P" && u.Email == "e@x" && u.EmailVerified && u.FamilyName == "F" &&
					u.GivenName == "G" && u.Nickname == "n" && u.Username == "u" && u.UserMetadata["a"] == 1.0 &&
					u.Locale == "en" && u.UserID == "auth0|1" && u.LastIP == "::1" && u.LoginsCount == 7 &&
					len(u.BlockedFor) == 1 && u.GuardianAuthenticators != nil
			}},
		{name: "bad date", body: `{"created_at":"soon"}`, wantErr: true},
		{name: "bad identity id", body: `{"identities":[{"user_id":true}]}`, wantErr: true},
		{name: "not an object", body: `[]`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var u Auth0User
			err := json.Unmarshal([]byte(tc.body), &u)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && !tc.check(&u) {
				t.Fatalf("decoded %+v", u)
			}
		})
	}
	t.Run("round trip", func(t *testing.T) {
		in := Auth0User{Sub: "s", CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out Auth0User
		if err := json.Unmarshal(b, &out); err != nil || !out.CreatedAt.Equal(in.CreatedAt) || out.Sub != "s" {
			t.Fatalf("round trip %s -> %+v, %v", b, out, err)
		}
		if string(b) != `{"sub":"s","created_at":"2024-01-02T03:04:05Z"}` {
			t.Fatalf("marshal = %s (zero dates must be left out)", b)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{`"2024-05-01T10:00:00.000Z"`, `1700000000`, `1.5e9`, `null`, `"x"`, `-0`, `1e400`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := parseDate(json.RawMessage(raw))
		if err == nil && got.Year() > 10000 {
			t.Fatalf("%q -> %v", raw, got)
		}
	})
}
