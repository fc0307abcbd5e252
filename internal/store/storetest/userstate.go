package storetest

import (
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// testUserState covers GetAccessTokenUser, GetUserState and
// GetGrantUserState: the same rows as GetAccessToken and GetUser, grants
// refused once revoked, and a Blocks flag that agrees with
// ListLoginFailures.
func testUserState(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	u := newUser()
	must(t, "CreateUser", s.CreateUser(ctx(t), u))
	live := newAccess(u.ID, "grant-live")
	revoked := newAccess(u.ID, "grant-revoked")
	orphan := newAccess(newUserID(), "grant-orphan") // its user was never stored
	for _, tok := range []*store.AccessToken{live, revoked, orphan} {
		must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), tok))
	}
	must(t, "RevokeGrant", s.RevokeGrant(ctx(t), revoked.GrantID, base))

	t.Run("Tokens", func(t *testing.T) {
		tests := []struct {
			name string
			hash string
			now  time.Time
			want error
		}{
			{"Live", live.Hash, base, nil},
			{"JustBeforeExpiry", live.Hash, live.ExpiresAt.Add(-time.Millisecond), nil},
			{"AtExpiry", live.Hash, live.ExpiresAt, store.ErrNotFound},
			{"Revoked", revoked.Hash, base, store.ErrNotFound},
			{"Unknown", newHash(), base, store.ErrNotFound},
			{"UserGone", orphan.Hash, base, store.ErrNotFound},
			{"NotUTF8", "\xff\x00", base, store.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tok, st, err := s.GetAccessTokenUser(ctx(t), tc.hash, tc.now, 3)
				wantErr(t, "GetAccessTokenUser", err, tc.want)
				if tc.want != nil {
					return
				}
				checkEqual(t, "access token", tok, live)
				checkEqual(t, "user", st.User, u)
				if st.Blocks {
					t.Error("Blocks = true for a user without failed logins")
				}
			})
		}
	})

	t.Run("Users", func(t *testing.T) {
		st, err := s.GetUserState(ctx(t), u.ID, base, 3)
		must(t, "GetUserState", err)
		checkEqual(t, "user", st.User, u)
		for _, id := range []string{newUserID(), "", "\xff\x00"} {
			_, err := s.GetUserState(ctx(t), id, base, 3)
			wantErr(t, "GetUserState unknown", err, store.ErrNotFound)
		}
	})

	t.Run("Grants", func(t *testing.T) {
		// revoked.GrantID was revoked above; RevokeGrant also remembers
		// grants that have no stored token, as sealed tokens are not stored.
		must(t, "RevokeGrant", s.RevokeGrant(ctx(t), "grant-sealed-revoked", base))
		must(t, "RevokeGrant again", s.RevokeGrant(ctx(t), "grant-sealed-revoked", at(time.Minute)))
		tests := []struct {
			name, grant, user string
			want              error
		}{
			{"Live", "grant-sealed-live", u.ID, nil},
			{"NoGrant", "", u.ID, nil},
			{"StoredTokenGrantRevoked", revoked.GrantID, u.ID, store.ErrNotFound},
			{"SealedGrantRevoked", "grant-sealed-revoked", u.ID, store.ErrNotFound},
			{"UserGone", "grant-sealed-live", newUserID(), store.ErrNotFound},
			{"NoUser", "grant-sealed-live", "", store.ErrNotFound},
			{"NotUTF8Grant", "\xff\x00", u.ID, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st, err := s.GetGrantUserState(ctx(t), tc.grant, tc.user, base, 3)
				if tc.name == "NotUTF8Grant" {
					// PostgreSQL cannot store such an id, so no grant has it:
					// either answer is correct, an error other than
					// ErrNotFound is not.
					if err != nil {
						wantErr(t, "GetGrantUserState", err, store.ErrNotFound)
					}
					return
				}
				wantErr(t, "GetGrantUserState", err, tc.want)
				if tc.want != nil {
					return
				}
				checkEqual(t, "user", st.User, u)
				if st.Blocks {
					t.Error("Blocks = true for a user without failed logins")
				}
			})
		}
	})

	t.Run("Blocks", func(t *testing.T) { testUserStateBlocks(t, newStore) })
}

// testUserStateBlocks checks Blocks against failure runs of every shape,
// through both methods, and that it agrees with ListLoginFailures.
func testUserStateBlocks(t *testing.T, newStore func(t *testing.T) store.Store) {
	const ip1, ip2 = "192.0.2.10", "2001:db8::7"
	type run struct {
		key      string // "" is the user
		ip       string
		failures int
		expires  time.Duration // after base
	}
	tests := []struct {
		name string
		runs []run
		min  int
		now  time.Time
		want bool
	}{
		{"NoRuns", nil, 3, base, false},
		{"BelowThreshold", []run{{"", ip1, 2, time.Hour}}, 3, base, false},
		{"AtThreshold", []run{{"", ip1, 3, time.Hour}}, 3, base, true},
		{"SecondIP", []run{{"", ip1, 1, time.Hour}, {"", ip2, 4, time.Hour}}, 3, base, true},
		{"ThresholdOne", []run{{"", ip1, 1, time.Hour}}, 1, base, true},
		{"JustBeforeExpiry", []run{{"", ip1, 5, time.Hour}}, 3, at(time.Hour - time.Millisecond), true},
		{"AtExpiry", []run{{"", ip1, 5, time.Hour}}, 3, at(time.Hour), false},
		{"OtherUser", []run{{"other", ip1, 5, time.Hour}}, 3, base, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			u := newUser()
			must(t, "CreateUser", s.CreateUser(ctx(t), u))
			tok := newAccess(u.ID, "grant")
			tok.ExpiresAt = at(48 * time.Hour)
			must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), tok))
			for _, r := range tc.runs {
				key := u.ID
				if r.key != "" {
					key = r.key
				}
				for i := range r.failures {
					_, err := s.RecordLoginFailure(ctx(t), key, r.ip, at(time.Duration(i)*time.Millisecond-time.Minute), at(r.expires))
					must(t, "RecordLoginFailure", err)
				}
			}
			runs, err := s.ListLoginFailures(ctx(t), u.ID, tc.now)
			must(t, "ListLoginFailures", err)
			listed := false
			for _, r := range runs {
				listed = listed || r.Count >= tc.min
			}
			if listed != tc.want {
				t.Fatalf("ListLoginFailures lists a block: %v, want %v (test case is wrong)", listed, tc.want)
			}
			_, st, err := s.GetAccessTokenUser(ctx(t), tok.Hash, tc.now, tc.min)
			must(t, "GetAccessTokenUser", err)
			if st.Blocks != tc.want {
				t.Errorf("GetAccessTokenUser: Blocks = %v, want %v", st.Blocks, tc.want)
			}
			st, err = s.GetUserState(ctx(t), u.ID, tc.now, tc.min)
			must(t, "GetUserState", err)
			if st.Blocks != tc.want {
				t.Errorf("GetUserState: Blocks = %v, want %v", st.Blocks, tc.want)
			}
			st, err = s.GetGrantUserState(ctx(t), "grant", u.ID, tc.now, tc.min)
			must(t, "GetGrantUserState", err)
			if st.Blocks != tc.want {
				t.Errorf("GetGrantUserState: Blocks = %v, want %v", st.Blocks, tc.want)
			}
		})
	}
}
