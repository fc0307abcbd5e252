package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

func testConsents(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	userID := newUserID()
	_, err := s.GetConsent(ctx(t), userID, "app", "https://api.example.com")
	wantErr(t, "GetConsent before save", err, store.ErrNotFound)

	c := &store.Consent{UserID: userID, ClientID: "app", Audience: "https://api.example.com",
		Scopes: []string{"openid", "profile", "read:messages"}, GrantedAt: base}
	must(t, "SaveConsent", s.SaveConsent(ctx(t), c))
	other := &store.Consent{UserID: userID, ClientID: "app", Audience: "https://other.example.com",
		Scopes: []string{"openid"}, GrantedAt: base}
	must(t, "SaveConsent other audience", s.SaveConsent(ctx(t), other))
	replaced := &store.Consent{UserID: userID, ClientID: "app", Audience: c.Audience,
		Scopes: []string{"openid", "email"}, GrantedAt: at(time.Hour)}
	must(t, "SaveConsent replace", s.SaveConsent(ctx(t), replaced))

	tests := []struct {
		name     string
		clientID string
		audience string
		want     *store.Consent
	}{
		{"Replaced", "app", c.Audience, replaced},
		{"OtherAudienceUntouched", "app", other.Audience, other},
		{"OtherClient", "other-app", c.Audience, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetConsent(ctx(t), userID, tc.clientID, tc.audience)
			if tc.want == nil {
				wantErr(t, "GetConsent", err, store.ErrNotFound)
				return
			}
			must(t, "GetConsent", err)
			checkEqual(t, "consent", got, tc.want)
		})
	}
}

func testSigningKeys(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	keys, err := s.ListSigningKeys(ctx(t))
	must(t, "ListSigningKeys empty", err)
	if len(keys) != 0 {
		t.Fatalf("ListSigningKeys on an empty store = %d keys", len(keys))
	}
	key := func(id string, created, notBefore time.Time) *store.SigningKey {
		return &store.SigningKey{ID: id, Algorithm: "RS256",
			EncryptedPrivate: []byte{0x00, 0xff, 0x10, 0x80, byte(len(id))},
			PublicJWK:        []byte(`{"kty":"RSA","kid":"` + id + `","n":"AQAB","e":"AQAB"}`),
			CreatedAt:        created, NotBefore: notBefore}
	}
	// Inserted out of order: listed by NotBefore, then CreatedAt.
	next := key("k-next", at(-time.Hour), at(24*time.Hour))
	old := key("k-old", at(-48*time.Hour), at(-48*time.Hour))
	currentB := key("k-current-b", at(-2*time.Hour), at(-24*time.Hour))
	currentA := key("k-current-a", at(-3*time.Hour), at(-24*time.Hour))
	for _, k := range []*store.SigningKey{next, old, currentB, currentA} {
		must(t, "CreateSigningKey", s.CreateSigningKey(ctx(t), k))
	}
	wantErr(t, "CreateSigningKey duplicate", s.CreateSigningKey(ctx(t), key("k-old", base, base)), store.ErrConflict)

	list := func(want ...*store.SigningKey) {
		t.Helper()
		got, err := s.ListSigningKeys(ctx(t))
		must(t, "ListSigningKeys", err)
		if len(got) != len(want) {
			t.Fatalf("ListSigningKeys = %d keys, want %d", len(got), len(want))
		}
		for i := range want {
			checkEqual(t, "key "+want[i].ID, &got[i], want[i])
		}
	}
	list(old, currentA, currentB, next)

	must(t, "SetSigningKeyExpiry", s.SetSigningKeyExpiry(ctx(t), old.ID, at(time.Hour)))
	old.ExpiresAt = at(time.Hour)
	must(t, "SetSigningKeyExpiry", s.SetSigningKeyExpiry(ctx(t), currentA.ID, at(3*time.Hour)))
	currentA.ExpiresAt = at(3 * time.Hour)
	err = s.SetSigningKeyExpiry(ctx(t), "no-such-key", base)
	wantErr(t, "SetSigningKeyExpiry unknown", err, store.ErrNotFound)
	list(old, currentA, currentB, next)

	tests := []struct {
		name string
		now  time.Time
		want int
		left []*store.SigningKey
	}{
		{"NoneExpired", at(time.Hour), 0, []*store.SigningKey{old, currentA, currentB, next}},
		{"OneExpired", at(2 * time.Hour), 1, []*store.SigningKey{currentA, currentB, next}},
		{"UnsetExpiryStays", at(1000 * time.Hour), 1, []*store.SigningKey{currentB, next}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := s.DeleteExpiredSigningKeys(ctx(t), tc.now)
			must(t, "DeleteExpiredSigningKeys", err)
			if n != tc.want {
				t.Errorf("deleted %d keys, want %d", n, tc.want)
			}
			list(tc.left...)
		})
	}
}

// testDeleteExpired fills every kind with expired and live rows and checks
// that batches remove exactly the expired ones, batch rows per kind at most.
func testDeleteExpired(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	user := newUserID()
	now := at(time.Hour)
	past := at(30 * time.Minute) // expired by now

	var gone, kept []func() error // lookups that must fail / succeed after cleanup
	// 3 expired codes, transactions and access tokens.
	for range 3 {
		c := newCode(user)
		c.ExpiresAt = past
		must(t, "CreateAuthCode", s.CreateAuthCode(ctx(t), c))
		tx := newTransaction()
		tx.ExpiresAt = past
		must(t, "CreateTransaction", s.CreateTransaction(ctx(t), tx))
		gone = append(gone, func() error { _, err := s.GetTransaction(ctx(t), tx.ID); return err })
		a := newAccess(user, "g")
		a.ExpiresAt = past
		must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), a))
	}
	idle, absolute := newSession(user), newSession(user)
	idle.IdleExpiresAt = past
	absolute.IdleExpiresAt, absolute.ExpiresAt = at(2*time.Hour), now
	liveSession := newSession(user)
	liveSession.IdleExpiresAt = at(2 * time.Hour)
	for _, ss := range []*store.Session{idle, absolute, liveSession} {
		must(t, "CreateSession", s.CreateSession(ctx(t), ss))
	}
	gone = append(gone,
		func() error { _, err := s.GetSession(ctx(t), idle.ID); return err },
		func() error { _, err := s.GetSession(ctx(t), absolute.ID); return err })
	kept = append(kept, func() error { _, err := s.GetSession(ctx(t), liveSession.ID); return err })

	// Access tokens: one revoked (unexpired) goes, one live stays.
	revokedAccess, liveAccess := newAccess(user, "revoked-grant"), newAccess(user, "live-grant")
	liveAccess.ExpiresAt = at(2 * time.Hour)
	must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), revokedAccess))
	must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), liveAccess))
	kept = append(kept, func() error { _, err := s.GetAccessToken(ctx(t), liveAccess.Hash, now); return err })

	// Refresh tokens: a dead family and a revoked one go; live families stay
	// whole, including a rotated member and an idle-expired one: the contract
	// wants both expiries past, and replaying them must still reveal reuse.
	dead, revoked, live, idleOnly := newRefresh(user), newRefresh(user), newRefresh(user), newRefresh(user)
	dead.IdleExpiresAt, dead.FamilyExpiresAt = past, past
	revoked.FamilyID = "revoked-grant"
	idleOnly.IdleExpiresAt = past
	for _, rt := range []*store.RefreshToken{dead, revoked, live, idleOnly} {
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), rt))
	}
	must(t, "RevokeGrant", s.RevokeGrant(ctx(t), "revoked-grant", base))
	_, liveNext, err := rotate(t, s, live, base, 0)
	must(t, "RotateRefreshToken", err)
	for _, rt := range []*store.RefreshToken{dead, revoked} {
		gone = append(gone, func() error { _, err := s.GetRefreshToken(ctx(t), rt.Hash); return err })
	}
	for _, rt := range []*store.RefreshToken{live, liveNext, idleOnly} {
		kept = append(kept, func() error { _, err := s.GetRefreshToken(ctx(t), rt.Hash); return err })
	}

	liveCode, usedCode := newCode(user), newCode(user)
	liveCode.ExpiresAt, usedCode.ExpiresAt = at(2*time.Hour), at(2*time.Hour)
	must(t, "CreateAuthCode", s.CreateAuthCode(ctx(t), liveCode))
	must(t, "CreateAuthCode", s.CreateAuthCode(ctx(t), usedCode))
	_, err = s.ConsumeAuthCode(ctx(t), usedCode.Hash, "g", base)
	must(t, "ConsumeAuthCode", err)

	// Expired per kind: codes 3, transactions 3, sessions 2, access 4,
	// refresh 2. With batch 2: 2+2+2+2+2, then 1+1+0+2+0, then 0+0+0+0+0.
	for i, want := range []int{10, 4, 0} {
		n, err := s.DeleteExpired(ctx(t), now, 2)
		must(t, "DeleteExpired", err)
		if n != want {
			t.Fatalf("DeleteExpired call %d removed %d rows, want %d", i+1, n, want)
		}
	}
	for i, get := range gone {
		if err := get(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired row %d: got %v, want ErrNotFound", i, err)
		}
	}
	for i, get := range kept {
		if err := get(); err != nil {
			t.Errorf("live row %d: %v", i, err)
		}
	}
	_, err = s.ConsumeAuthCode(ctx(t), liveCode.Hash, "g", now)
	must(t, "ConsumeAuthCode live code after cleanup", err)
	_, err = s.ConsumeAuthCode(ctx(t), usedCode.Hash, "g2", now)
	wantErr(t, "ConsumeAuthCode used code after cleanup", err, store.ErrCodeReused)

	// The revoked grant is remembered for RevokedGrantRetention after its
	// revocation (base), then forgotten.
	u := newUser()
	must(t, "CreateUser", s.CreateUser(ctx(t), u))
	forgotten := base.Add(store.RevokedGrantRetention)
	for _, step := range []struct {
		now     time.Time
		revoked bool
	}{{now, true}, {forgotten.Add(-time.Millisecond), true}, {forgotten, false}} {
		_, err := s.DeleteExpired(ctx(t), step.now, 100)
		must(t, "DeleteExpired", err)
		_, err = s.GetGrantUserState(ctx(t), "revoked-grant", u.ID, step.now, 3)
		if step.revoked {
			wantErr(t, "GetGrantUserState of a remembered revoked grant", err, store.ErrNotFound)
		} else {
			must(t, "GetGrantUserState of a forgotten grant", err)
		}
	}
}
