package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// base is the suite's clock: a fixed instant with millisecond precision.
var base = time.Date(2031, time.March, 4, 5, 6, 7, 890_000_000, time.UTC)

// at returns base shifted by d.
func at(d time.Duration) time.Time { return base.Add(d) }

// Run runs the conformance suite. newStore must return an empty, migrated
// store that is not shared with other tests, and arrange to close it (for
// example with t.Cleanup). Subtests may call it many times.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) store.Store)
	}{
		{"Ping", testPing},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"Transactions", testTransactions},
		{"AuthCodes", testAuthCodes},
		{"RefreshTokens", testRefreshTokens},
		{"RevokeGrant", testRevokeGrant},
		{"AccessTokens", testAccessTokens},
		{"UserState", testUserState},
		{"Consents", testConsents},
		{"SigningKeys", testSigningKeys},
		{"DeleteExpired", testDeleteExpired},
		{"LoginFailures", testLoginFailures},
		{"IPThrottle", testIPThrottle},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, newStore) })
	}
}

func testPing(t *testing.T, newStore func(t *testing.T) store.Store) {
	if err := newStore(t).Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// ctx is the test's context.
func ctx(t *testing.T) context.Context { return t.Context() }

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newHash is a fresh stored form of a random secret.
func newHash() string { return store.HashToken(randHex(32)) }

// newUserID is an Auth0-style user id.
func newUserID() string { return "auth0|" + randHex(12) }

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks that err matches want (nil means success).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// checkEqual compares two structs (or pointers to them) field by field:
// times with Equal at millisecond precision and in UTC, JSON semantically
// (nil and empty equal {}), byte and string slices with nil equal to empty.
func checkEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	gv, wv := reflect.Indirect(reflect.ValueOf(got)), reflect.Indirect(reflect.ValueOf(want))
	if !gv.IsValid() {
		t.Fatalf("%s: got nil", what)
	}
	for i := range wv.NumField() {
		name := wv.Type().Field(i).Name
		if msg := diffField(gv.Field(i).Interface(), wv.Field(i).Interface()); msg != "" {
			t.Errorf("%s.%s: %s", what, name, msg)
		}
	}
}

func diffField(got, want any) string {
	switch w := want.(type) {
	case time.Time:
		return diffTime(got.(time.Time), w)
	case json.RawMessage:
		g, err1 := decodeJSON(got.(json.RawMessage))
		wd, err2 := decodeJSON(w)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(g, wd) {
			return fmt.Sprintf("got %s, want %s", got, w)
		}
	case []byte:
		if !bytes.Equal(got.([]byte), w) {
			return fmt.Sprintf("got %x, want %x", got, w)
		}
	case []string:
		g := got.([]string)
		if (len(g) != 0 || len(w) != 0) && !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("got %q, want %q", g, w)
		}
	default:
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("got %#v, want %#v", got, want)
		}
	}
	return ""
}

func diffTime(got, want time.Time) string {
	if want.IsZero() {
		if !got.IsZero() {
			return fmt.Sprintf("got %v, want zero", got)
		}
		return ""
	}
	if !got.Equal(want.Truncate(time.Millisecond)) {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	if got.Location() != time.UTC {
		return fmt.Sprintf("got location %v, want UTC", got.Location())
	}
	return ""
}

func decodeJSON(m json.RawMessage) (any, error) {
	if len(m) == 0 {
		m = json.RawMessage("{}")
	}
	var v any
	err := json.Unmarshal(m, &v)
	return v, err
}

// race runs fn from n goroutines released at the same moment and returns
// their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Fixtures. Each returns a valid, fully populated record that the caller may
// adjust before inserting it.

func newUser() *store.User {
	id := newUserID()
	return &store.User{
		ID:            id,
		Connection:    "Username-Password-Authentication",
		Email:         "User." + id[6:14] + "@Example.com",
		EmailVerified: true,
		Username:      "User_" + id[6:14],
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Name:          "Ada Lovelace",
		Nickname:      "ada",
		Picture:       "https://example.com/ada.png",
		GivenName:     "Ada",
		FamilyName:    "Lovelace",
		Locale:        "en-GB",
		UserMetadata:  json.RawMessage(`{"theme":"dark","langs":["en","fr"],"n":1.5}`),
		AppMetadata:   json.RawMessage(`{"plan":"pro","roles":["admin"]}`),
		CreatedAt:     at(-48 * time.Hour),
		UpdatedAt:     at(-47 * time.Hour),
		LastIP:        "",
	}
}

func createUser(t *testing.T, s store.Store) *store.User {
	t.Helper()
	u := newUser()
	must(t, "CreateUser", s.CreateUser(ctx(t), u))
	return u
}

func newSession(userID string) *store.Session {
	return &store.Session{
		ID:            randHex(16),
		CookieHash:    newHash(),
		UserID:        userID,
		AuthTime:      at(-time.Hour),
		CreatedAt:     at(-time.Hour),
		LastSeenAt:    at(-time.Minute),
		IdleExpiresAt: at(time.Hour),
		ExpiresAt:     at(24 * time.Hour),
	}
}

func newCode(userID string) *store.AuthCode {
	return &store.AuthCode{
		Hash:                newHash(),
		ClientID:            "client-" + randHex(4),
		RedirectURI:         "https://app.example.com/callback",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		UserID:              userID,
		SessionID:           randHex(16),
		Scope:               "openid profile email offline_access",
		Audience:            "https://api.example.com",
		Nonce:               "n-0S6_WzA2Mj",
		AuthTime:            at(-2 * time.Minute),
		CreatedAt:           at(-time.Minute),
		ExpiresAt:           at(time.Minute),
	}
}

func newRefresh(userID string) *store.RefreshToken {
	return &store.RefreshToken{
		Hash:            newHash(),
		FamilyID:        randHex(16),
		ClientID:        "client-" + randHex(4),
		UserID:          userID,
		SessionID:       randHex(16),
		Scope:           "openid offline_access",
		Audience:        "https://api.example.com",
		AuthTime:        at(-time.Hour),
		CreatedAt:       at(-time.Minute),
		IdleExpiresAt:   at(24 * time.Hour),
		FamilyExpiresAt: at(30 * 24 * time.Hour),
	}
}

// successor is the token a rotation at now inserts after old.
func successor(old *store.RefreshToken, now time.Time) *store.RefreshToken {
	next := *old
	next.Hash = newHash()
	next.CreatedAt = now
	next.IdleExpiresAt = now.Add(24 * time.Hour)
	next.RotatedAt, next.RevokedAt = time.Time{}, time.Time{}
	return &next
}

func newAccess(userID, grantID string) *store.AccessToken {
	return &store.AccessToken{
		Hash:      newHash(),
		GrantID:   grantID,
		ClientID:  "client-" + randHex(4),
		UserID:    userID,
		Scope:     "openid profile",
		CreatedAt: at(-time.Minute),
		ExpiresAt: at(time.Hour),
	}
}
