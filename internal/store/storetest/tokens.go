package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// rotate is RotateRefreshToken with a successor built from old.
func rotate(t *testing.T, s store.Store, old *store.RefreshToken, now time.Time, leeway time.Duration) (*store.RefreshToken, *store.RefreshToken, error) {
	t.Helper()
	next := successor(old, now)
	got, err := s.RotateRefreshToken(ctx(t), old.Hash, next, now, leeway)
	return got, next, err
}

// getRefresh reads a token that must exist.
func getRefresh(t *testing.T, s store.Store, hash string) *store.RefreshToken {
	t.Helper()
	rt, err := s.GetRefreshToken(ctx(t), hash)
	must(t, "GetRefreshToken", err)
	return rt
}

func testRefreshTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		rt := newRefresh(newUserID())
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), rt))
		checkEqual(t, "refresh token", getRefresh(t, s, rt.Hash), rt)
		_, err := s.GetRefreshToken(ctx(t), newHash())
		wantErr(t, "GetRefreshToken unknown", err, store.ErrNotFound)
		wantErr(t, "CreateRefreshToken duplicate", s.CreateRefreshToken(ctx(t), rt), store.ErrConflict)
	})

	// A loser of a rotation race may have read its clock before the winner
	// rotated: its now is earlier than rotated_at. Without a leeway that is
	// still a reuse, never a second successful rotation.
	t.Run("EarlierClockIsReuseWithoutLeeway", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			leeway time.Duration
			want   error
		}{
			{"NoLeeway", 0, store.ErrTokenReused},
			{"SubMillisecondLeeway", time.Microsecond, store.ErrTokenReused},
			{"WithinLeeway", 10 * time.Second, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				first := newRefresh(newUserID())
				must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), first))
				_, _, err := rotate(t, s, first, at(50*time.Millisecond), tc.leeway)
				must(t, "RotateRefreshToken winner", err)
				_, _, err = rotate(t, s, first, base, tc.leeway)
				if tc.want == nil {
					must(t, "RotateRefreshToken within leeway", err)
					return
				}
				wantErr(t, "RotateRefreshToken with an earlier clock", err, tc.want)
			})
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		s := newStore(t)
		first := newRefresh(newUserID())
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), first))
		got, second, err := rotate(t, s, first, base, 0)
		must(t, "RotateRefreshToken", err)
		want := *first
		want.RotatedAt = base
		checkEqual(t, "returned old token", got, &want)
		checkEqual(t, "stored old token", getRefresh(t, s, first.Hash), &want)
		checkEqual(t, "successor", getRefresh(t, s, second.Hash), second)

		// The family and its absolute expiry belong to the grant, whatever
		// the caller puts in the successor.
		third := successor(second, at(time.Minute))
		third.FamilyID, third.FamilyExpiresAt = "", time.Time{}
		_, err = s.RotateRefreshToken(ctx(t), second.Hash, third, at(time.Minute), 0)
		must(t, "RotateRefreshToken second", err)
		stored := getRefresh(t, s, third.Hash)

		// A successor whose hash is taken fails the whole rotation.
		clash := successor(third, at(2*time.Minute))
		clash.Hash = first.Hash
		_, err = s.RotateRefreshToken(ctx(t), third.Hash, clash, at(2*time.Minute), 0)
		wantErr(t, "RotateRefreshToken onto a taken hash", err, store.ErrConflict)
		if rt := getRefresh(t, s, third.Hash); !rt.RotatedAt.IsZero() {
			t.Errorf("failed rotation left the token rotated at %v", rt.RotatedAt)
		}
		if stored.FamilyID != first.FamilyID || !stored.FamilyExpiresAt.Equal(first.FamilyExpiresAt) {
			t.Errorf("successor family = %q until %v, want %q until %v",
				stored.FamilyID, stored.FamilyExpiresAt, first.FamilyID, first.FamilyExpiresAt)
		}
	})

	t.Run("ReuseRevokesFamily", func(t *testing.T) {
		s := newStore(t)
		first := newRefresh(newUserID())
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), first))
		access := newAccess(first.UserID, first.FamilyID)
		must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), access))
		_, second, err := rotate(t, s, first, base, 10*time.Second)
		must(t, "RotateRefreshToken", err)

		_, replayNext, err := rotate(t, s, first, at(time.Minute), 10*time.Second)
		wantErr(t, "RotateRefreshToken replay", err, store.ErrTokenReused)
		_, err = s.GetRefreshToken(ctx(t), replayNext.Hash)
		wantErr(t, "successor of a replay", err, store.ErrNotFound)
		for name, hash := range map[string]string{"replayed": first.Hash, "current": second.Hash} {
			if rt := getRefresh(t, s, hash); !rt.RevokedAt.Equal(at(time.Minute)) {
				t.Errorf("%s token RevokedAt = %v, want %v", name, rt.RevokedAt, at(time.Minute))
			}
		}
		_, _, err = rotate(t, s, second, at(2*time.Minute), 10*time.Second)
		wantErr(t, "RotateRefreshToken current after reuse", err, store.ErrNotFound)
		_, err = s.GetAccessToken(ctx(t), access.Hash, at(2*time.Minute))
		wantErr(t, "GetAccessToken of the reused grant", err, store.ErrNotFound)
	})

	t.Run("Leeway", func(t *testing.T) {
		s := newStore(t)
		first := newRefresh(newUserID())
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), first))
		const leeway = 10 * time.Second
		_, second, err := rotate(t, s, first, base, leeway)
		must(t, "RotateRefreshToken", err)
		// A client retrying within the leeway (lost response) rotates again.
		got, third, err := rotate(t, s, first, at(5*time.Second), leeway)
		must(t, "RotateRefreshToken within leeway", err)
		if !got.RotatedAt.Equal(base) {
			t.Errorf("RotatedAt = %v, want the first rotation %v", got.RotatedAt, base)
		}
		for _, rt := range []*store.RefreshToken{second, third} {
			checkEqual(t, "successor", getRefresh(t, s, rt.Hash), rt)
		}
		// The leeway runs from the first rotation: base+12s is past it.
		_, _, err = rotate(t, s, first, at(12*time.Second), leeway)
		wantErr(t, "RotateRefreshToken after leeway", err, store.ErrTokenReused)
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		rt := newRefresh(newUserID())
		rt.IdleExpiresAt, rt.FamilyExpiresAt = at(time.Hour), at(2*time.Hour)
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), rt))
		short := newRefresh(rt.UserID) // absolute expiry before idle expiry
		short.IdleExpiresAt, short.FamilyExpiresAt = at(2*time.Hour), at(time.Hour)
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), short))
		revoked := newRefresh(rt.UserID)
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), revoked))
		must(t, "RevokeGrant", s.RevokeGrant(ctx(t), revoked.FamilyID, base))
		tests := []struct {
			name string
			old  *store.RefreshToken
			now  time.Time
		}{
			{"Unknown", &store.RefreshToken{Hash: newHash()}, base},
			{"AtIdleExpiry", rt, at(time.Hour)},
			{"PastIdleExpiry", rt, at(90 * time.Minute)},
			{"AtAbsoluteExpiry", short, at(time.Hour)},
			{"PastAbsoluteExpiry", short, at(90 * time.Minute)},
			{"Revoked", revoked, at(time.Minute)},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, next, err := rotate(t, s, tc.old, tc.now, time.Minute)
				wantErr(t, "RotateRefreshToken", err, store.ErrNotFound)
				_, err = s.GetRefreshToken(ctx(t), next.Hash)
				wantErr(t, "successor of a failed rotation", err, store.ErrNotFound)
			})
		}
		// None of the failures touched the live tokens.
		_, _, err := rotate(t, s, rt, at(time.Minute), 0)
		must(t, "RotateRefreshToken live", err)
	})

	t.Run("Race", func(t *testing.T) {
		s := newStore(t)
		const rounds, callers = 50, 10
		for round := range rounds {
			rt := newRefresh(newUserID())
			must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), rt))
			nexts := make([]*store.RefreshToken, callers)
			for i := range nexts {
				nexts[i] = successor(rt, base)
			}
			errs := race(callers, func(i int) error {
				_, err := s.RotateRefreshToken(ctx(t), rt.Hash, nexts[i], base, 0)
				return err
			})
			wins := 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, store.ErrTokenReused) && !errors.Is(err, store.ErrNotFound):
					t.Fatalf("round %d: caller %d: got %v, want ErrTokenReused or ErrNotFound", round, i, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d callers rotated the token, want exactly 1", round, wins)
			}
		}
	})
}

func testRevokeGrant(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	first := newRefresh(newUserID())
	must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), first))
	_, second, err := rotate(t, s, first, base, 0)
	must(t, "RotateRefreshToken", err)
	grant := first.FamilyID
	access := newAccess(first.UserID, grant)
	must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), access))
	otherRefresh := newRefresh(first.UserID)
	must(t, "CreateRefreshToken other", s.CreateRefreshToken(ctx(t), otherRefresh))
	otherAccess := newAccess(first.UserID, otherRefresh.FamilyID)
	must(t, "CreateAccessToken other", s.CreateAccessToken(ctx(t), otherAccess))

	must(t, "RevokeGrant", s.RevokeGrant(ctx(t), grant, at(time.Minute)))
	must(t, "RevokeGrant again", s.RevokeGrant(ctx(t), grant, at(2*time.Minute)))
	must(t, "RevokeGrant unknown", s.RevokeGrant(ctx(t), "no-such-grant", base))

	for _, hash := range []string{first.Hash, second.Hash} {
		if rt := getRefresh(t, s, hash); !rt.RevokedAt.Equal(at(time.Minute)) {
			t.Errorf("RevokedAt = %v, want the first revocation %v", rt.RevokedAt, at(time.Minute))
		}
	}
	_, _, err = rotate(t, s, second, at(3*time.Minute), 0)
	wantErr(t, "RotateRefreshToken revoked", err, store.ErrNotFound)
	_, err = s.GetAccessToken(ctx(t), access.Hash, at(3*time.Minute))
	wantErr(t, "GetAccessToken revoked", err, store.ErrNotFound)

	if rt := getRefresh(t, s, otherRefresh.Hash); !rt.RevokedAt.IsZero() {
		t.Errorf("other grant's refresh token revoked at %v", rt.RevokedAt)
	}
	_, err = s.GetAccessToken(ctx(t), otherAccess.Hash, at(3*time.Minute))
	must(t, "GetAccessToken other grant", err)
}

func testAccessTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	live := newAccess(newUserID(), "grant-live")
	revoked := newAccess(live.UserID, "grant-revoked")
	for _, tok := range []*store.AccessToken{live, revoked} {
		must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), tok))
	}
	wantErr(t, "CreateAccessToken duplicate", s.CreateAccessToken(ctx(t), live), store.ErrConflict)
	must(t, "RevokeGrant", s.RevokeGrant(ctx(t), revoked.GrantID, base))

	tests := []struct {
		name string
		hash string
		now  time.Time
		want error
	}{
		{"Live", live.Hash, base, nil},
		{"JustBeforeExpiry", live.Hash, live.ExpiresAt.Add(-time.Millisecond), nil},
		{"AtExpiry", live.Hash, live.ExpiresAt, store.ErrNotFound},
		{"PastExpiry", live.Hash, at(2 * time.Hour), store.ErrNotFound},
		{"Revoked", revoked.Hash, base, store.ErrNotFound},
		{"Unknown", newHash(), base, store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetAccessToken(ctx(t), tc.hash, tc.now)
			wantErr(t, "GetAccessToken", err, tc.want)
			if tc.want == nil {
				checkEqual(t, "access token", got, live)
			}
		})
	}
}
