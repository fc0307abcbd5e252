package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

func testUsers(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		u := createUser(t, s)
		got, err := s.GetUser(ctx(t), u.ID)
		must(t, "GetUser", err)
		checkEqual(t, "user", got, u)
	})

	t.Run("NilMetadataIsEmptyObject", func(t *testing.T) {
		s := newStore(t)
		u := newUser()
		u.UserMetadata, u.AppMetadata = nil, nil
		must(t, "CreateUser", s.CreateUser(ctx(t), u))
		got, err := s.GetUser(ctx(t), u.ID)
		must(t, "GetUser", err)
		for name, m := range map[string]json.RawMessage{"user": got.UserMetadata, "app": got.AppMetadata} {
			var obj map[string]any
			if err := json.Unmarshal(m, &obj); err != nil || obj == nil || len(obj) != 0 {
				t.Errorf("%s_metadata = %q, want {}", name, m)
			}
		}
	})

	t.Run("Lookups", func(t *testing.T) {
		s := newStore(t)
		u := createUser(t, s)
		const other = "other-connection"
		tests := []struct {
			name string
			get  func() (*store.User, error)
			want error
		}{
			{"ByEmail", func() (*store.User, error) { return s.GetUserByEmail(ctx(t), u.Connection, u.Email) }, nil},
			{"ByEmailUpper", func() (*store.User, error) {
				return s.GetUserByEmail(ctx(t), u.Connection, strings.ToUpper(u.Email))
			}, nil},
			{"ByEmailLower", func() (*store.User, error) {
				return s.GetUserByEmail(ctx(t), u.Connection, strings.ToLower(u.Email))
			}, nil},
			{"ByEmailOtherConnection", func() (*store.User, error) { return s.GetUserByEmail(ctx(t), other, u.Email) }, store.ErrNotFound},
			{"ByEmailUnknown", func() (*store.User, error) {
				return s.GetUserByEmail(ctx(t), u.Connection, "nobody@example.com")
			}, store.ErrNotFound},
			{"ByUsername", func() (*store.User, error) { return s.GetUserByUsername(ctx(t), u.Connection, u.Username) }, nil},
			{"ByUsernameUpper", func() (*store.User, error) {
				return s.GetUserByUsername(ctx(t), u.Connection, strings.ToUpper(u.Username))
			}, nil},
			{"ByUsernameOtherConnection", func() (*store.User, error) {
				return s.GetUserByUsername(ctx(t), other, u.Username)
			}, store.ErrNotFound},
			{"ByUsernameUnknown", func() (*store.User, error) { return s.GetUserByUsername(ctx(t), u.Connection, "nobody") }, store.ErrNotFound},
			{"ByID", func() (*store.User, error) { return s.GetUser(ctx(t), u.ID) }, nil},
			{"ByIDUnknown", func() (*store.User, error) { return s.GetUser(ctx(t), newUserID()) }, store.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.get()
				wantErr(t, tc.name, err, tc.want)
				if tc.want == nil {
					checkEqual(t, "user", got, u)
				}
			})
		}
	})

	t.Run("EmptyUsernameNeverMatches", func(t *testing.T) {
		s := newStore(t)
		u := newUser()
		u.Username = ""
		must(t, "CreateUser", s.CreateUser(ctx(t), u))
		v := newUser()
		v.Username = ""
		must(t, "CreateUser second user without username", s.CreateUser(ctx(t), v))
		_, err := s.GetUserByUsername(ctx(t), u.Connection, "")
		wantErr(t, "GetUserByUsername empty", err, store.ErrNotFound)
	})

	t.Run("CreateConflicts", func(t *testing.T) {
		tests := []struct {
			name   string
			mutate func(first, second *store.User)
			want   error
		}{
			{"DuplicateID", func(a, b *store.User) { b.ID = a.ID }, store.ErrConflict},
			{"DuplicateEmailOtherCase", func(a, b *store.User) { b.Email = strings.ToUpper(a.Email) }, store.ErrConflict},
			{"DuplicateUsernameOtherCase", func(a, b *store.User) { b.Username = strings.ToLower(a.Username) }, store.ErrConflict},
			{"SameEmailOtherConnection", func(a, b *store.User) {
				b.Email, b.Username, b.Connection = a.Email, a.Username, "google-oauth2"
			}, nil},
			{"DistinctUsers", func(a, b *store.User) {}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				a, b := newUser(), newUser()
				must(t, "CreateUser first", s.CreateUser(ctx(t), a))
				tc.mutate(a, b)
				wantErr(t, "CreateUser second", s.CreateUser(ctx(t), b), tc.want)
				got, err := s.GetUser(ctx(t), a.ID)
				must(t, "GetUser first", err)
				checkEqual(t, "first user", got, a)
			})
		}
	})

	t.Run("UnknownUser", func(t *testing.T) {
		s := newStore(t)
		id := newUserID()
		ghost := newUser()
		ghost.ID = id
		ops := []struct {
			name string
			call func() error
		}{
			{"UpdateUser", func() error { return s.UpdateUser(ctx(t), ghost) }},
			{"SetPassword", func() error { return s.SetPassword(ctx(t), id, "x", base) }},
			{"SetBlocked", func() error { return s.SetBlocked(ctx(t), id, true, base) }},
			{"RecordLogin", func() error { return s.RecordLogin(ctx(t), id, "192.0.2.1", base) }},
			{"DeleteUser", func() error { return s.DeleteUser(ctx(t), id) }},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) { wantErr(t, op.name, op.call(), store.ErrNotFound) })
		}
	})

	t.Run("ListPages", testListUsers(newStore))
	t.Run("UpdateProfile", testUpdateUser(newStore))

	t.Run("SetPasswordAndBlocked", func(t *testing.T) {
		s := newStore(t)
		u := createUser(t, s)
		must(t, "SetPassword", s.SetPassword(ctx(t), u.ID, "$2b$10$newhash", at(time.Minute)))
		u.PasswordHash, u.UpdatedAt = "$2b$10$newhash", at(time.Minute)
		got, err := s.GetUser(ctx(t), u.ID)
		must(t, "GetUser", err)
		checkEqual(t, "after SetPassword", got, u)

		for i, blocked := range []bool{true, false} {
			now := at(time.Duration(i+2) * time.Minute)
			must(t, "SetBlocked", s.SetBlocked(ctx(t), u.ID, blocked, now))
			u.Blocked, u.UpdatedAt = blocked, now
			got, err := s.GetUser(ctx(t), u.ID)
			must(t, "GetUser", err)
			checkEqual(t, fmt.Sprintf("after SetBlocked(%v)", blocked), got, u)
		}
	})

	t.Run("RecordLogin", func(t *testing.T) {
		s := newStore(t)
		u := createUser(t, s)
		must(t, "RecordLogin", s.RecordLogin(ctx(t), u.ID, "192.0.2.1", at(time.Minute)))
		must(t, "RecordLogin", s.RecordLogin(ctx(t), u.ID, "2001:db8::1", at(2*time.Minute)))
		u.LoginsCount, u.LastLogin, u.LastIP = 2, at(2*time.Minute), "2001:db8::1"
		got, err := s.GetUser(ctx(t), u.ID)
		must(t, "GetUser", err)
		checkEqual(t, "after two logins", got, u)
	})

	t.Run("DeleteCascades", testDeleteUser(newStore))
}

func testListUsers(newStore func(t *testing.T) store.Store) func(t *testing.T) {
	return func(t *testing.T) {
		s := newStore(t)
		// Inserted out of order; listed by id.
		for _, n := range []int{3, 1, 5, 2, 4} {
			u := newUser()
			u.ID = fmt.Sprintf("auth0|%024x", n)
			must(t, "CreateUser", s.CreateUser(ctx(t), u))
		}
		id := func(n int) string { return fmt.Sprintf("auth0|%024x", n) }
		tests := []struct {
			name    string
			after   string
			limit   int
			want    []int
			wantEnd bool
		}{
			{"FirstPage", "", 2, []int{1, 2}, false},
			{"MiddlePage", id(2), 2, []int{3, 4}, false},
			{"LastPage", id(4), 2, []int{5}, true},
			{"ExactFit", "", 5, []int{1, 2, 3, 4, 5}, true},
			{"ExactFitAfter", id(3), 2, []int{4, 5}, true},
			{"PastTheEnd", id(5), 2, nil, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.ListUsers(ctx(t), tc.after, tc.limit)
				must(t, "ListUsers", err)
				var got []string
				for _, u := range page.Users {
					got = append(got, u.ID)
				}
				var want []string
				for _, n := range tc.want {
					want = append(want, id(n))
				}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Fatalf("ids = %v, want %v", got, want)
				}
				switch {
				case tc.wantEnd && page.Next != "":
					t.Errorf("Next = %q, want end of list", page.Next)
				case !tc.wantEnd && page.Next != want[len(want)-1]:
					t.Errorf("Next = %q, want %q", page.Next, want[len(want)-1])
				}
			})
		}
		t.Run("WalkAll", func(t *testing.T) {
			var seen []string
			after := ""
			for range 10 {
				page, err := s.ListUsers(ctx(t), after, 2)
				must(t, "ListUsers", err)
				for _, u := range page.Users {
					seen = append(seen, u.ID)
				}
				if after = page.Next; after == "" {
					break
				}
			}
			if len(seen) != 5 {
				t.Fatalf("walked %d users (%v), want 5", len(seen), seen)
			}
		})
	}
}

func testUpdateUser(newStore func(t *testing.T) store.Store) func(t *testing.T) {
	return func(t *testing.T) {
		s := newStore(t)
		u := createUser(t, s)
		must(t, "RecordLogin", s.RecordLogin(ctx(t), u.ID, "192.0.2.1", at(time.Minute)))
		other := createUser(t, s)

		oldEmail := u.Email
		edit := *u
		edit.Email = "New.Address@Example.org"
		edit.EmailVerified = false
		edit.Username = "Renamed"
		edit.Name, edit.Nickname, edit.Picture = "Ada King", "countess", "https://example.com/k.png"
		edit.GivenName, edit.FamilyName, edit.Locale = "Augusta", "King", "fr"
		edit.UserMetadata = json.RawMessage(`{"theme":"light","nested":{"a":[1,{"b":null}]},"unicode":"é✓"}`)
		edit.AppMetadata = json.RawMessage(`{}`)
		edit.UpdatedAt = at(2 * time.Minute)
		// Fields UpdateUser must leave alone.
		edit.PasswordHash, edit.LoginsCount, edit.CreatedAt = "tampered", 99, at(time.Hour)
		edit.LastLogin, edit.LastIP, edit.Connection = at(time.Hour), "198.51.100.9", "tampered"
		must(t, "UpdateUser", s.UpdateUser(ctx(t), &edit))

		want := edit
		want.PasswordHash, want.LoginsCount, want.CreatedAt = u.PasswordHash, 1, u.CreatedAt
		want.LastLogin, want.LastIP, want.Connection = at(time.Minute), "192.0.2.1", u.Connection
		got, err := s.GetUser(ctx(t), u.ID)
		must(t, "GetUser", err)
		checkEqual(t, "updated user", got, &want)

		got, err = s.GetUserByEmail(ctx(t), u.Connection, "new.address@example.ORG")
		must(t, "GetUserByEmail new", err)
		if got.ID != u.ID {
			t.Errorf("new email finds %q, want %q", got.ID, u.ID)
		}
		_, err = s.GetUserByEmail(ctx(t), u.Connection, oldEmail)
		wantErr(t, "GetUserByEmail old", err, store.ErrNotFound)
		_, err = s.GetUserByUsername(ctx(t), u.Connection, "RENAMED")
		must(t, "GetUserByUsername new", err)

		t.Run("TakenEmail", func(t *testing.T) {
			clash := want
			clash.Email = strings.ToLower(other.Email)
			wantErr(t, "UpdateUser", s.UpdateUser(ctx(t), &clash), store.ErrConflict)
		})
		t.Run("TakenUsername", func(t *testing.T) {
			clash := want
			clash.Username = strings.ToUpper(other.Username)
			wantErr(t, "UpdateUser", s.UpdateUser(ctx(t), &clash), store.ErrConflict)
		})
		got, err = s.GetUser(ctx(t), u.ID)
		must(t, "GetUser after conflicts", err)
		checkEqual(t, "user after failed updates", got, &want)
	}
}

func testDeleteUser(newStore func(t *testing.T) store.Store) func(t *testing.T) {
	return func(t *testing.T) {
		s := newStore(t)
		type owned struct {
			user    *store.User
			session *store.Session
			refresh *store.RefreshToken
			access  *store.AccessToken
			consent *store.Consent
		}
		create := func() owned {
			o := owned{user: createUser(t, s)}
			o.session = newSession(o.user.ID)
			must(t, "CreateSession", s.CreateSession(ctx(t), o.session))
			o.refresh = newRefresh(o.user.ID)
			must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx(t), o.refresh))
			o.access = newAccess(o.user.ID, o.refresh.FamilyID)
			must(t, "CreateAccessToken", s.CreateAccessToken(ctx(t), o.access))
			o.consent = &store.Consent{UserID: o.user.ID, ClientID: "c", Audience: "a", Scopes: []string{"openid"}, GrantedAt: base}
			must(t, "SaveConsent", s.SaveConsent(ctx(t), o.consent))
			return o
		}
		gone, kept := create(), create()
		must(t, "DeleteUser", s.DeleteUser(ctx(t), gone.user.ID))

		check := func(o owned, want error) {
			t.Helper()
			_, err := s.GetUser(ctx(t), o.user.ID)
			wantErr(t, "GetUser", err, want)
			_, err = s.GetSession(ctx(t), o.session.ID)
			wantErr(t, "GetSession", err, want)
			_, err = s.GetRefreshToken(ctx(t), o.refresh.Hash)
			wantErr(t, "GetRefreshToken", err, want)
			_, err = s.GetAccessToken(ctx(t), o.access.Hash, base)
			wantErr(t, "GetAccessToken", err, want)
			_, err = s.GetConsent(ctx(t), o.user.ID, "c", "a")
			wantErr(t, "GetConsent", err, want)
		}
		check(gone, store.ErrNotFound)
		check(kept, nil)
		wantErr(t, "DeleteUser again", s.DeleteUser(ctx(t), gone.user.ID), store.ErrNotFound)
	}
}
