package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

func testAuthCodes(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("ConsumeOnce", func(t *testing.T) {
		s := newStore(t)
		c := newCode(newUserID())
		must(t, "CreateAuthCode", s.CreateAuthCode(ctx(t), c))
		wantErr(t, "CreateAuthCode duplicate", s.CreateAuthCode(ctx(t), c), store.ErrConflict)

		got, err := s.ConsumeAuthCode(ctx(t), c.Hash, "grant-1", base)
		must(t, "ConsumeAuthCode", err)
		want := *c
		want.GrantID, want.UsedAt = "grant-1", base
		checkEqual(t, "consumed code", got, &want)

		got, err = s.ConsumeAuthCode(ctx(t), c.Hash, "grant-2", at(time.Second))
		wantErr(t, "ConsumeAuthCode replay", err, store.ErrCodeReused)
		if got == nil {
			t.Fatal("ConsumeAuthCode replay returned no code")
		}
		// The replay reports the first use, so the caller can revoke grant-1.
		checkEqual(t, "replayed code", got, &want)
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		c := newCode(newUserID()) // expires at base+1m
		must(t, "CreateAuthCode", s.CreateAuthCode(ctx(t), c))
		tests := []struct {
			name string
			hash string
			now  time.Time
		}{
			{"Unknown", newHash(), base},
			{"AtExpiry", c.Hash, c.ExpiresAt},
			{"PastExpiry", c.Hash, at(time.Hour)},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ConsumeAuthCode(ctx(t), tc.hash, "grant", tc.now)
				wantErr(t, "ConsumeAuthCode", err, store.ErrNotFound)
				if got != nil {
					t.Errorf("returned a code with ErrNotFound: %+v", got)
				}
			})
		}
		// Failed attempts do not use the code up.
		_, err := s.ConsumeAuthCode(ctx(t), c.Hash, "grant", base)
		must(t, "ConsumeAuthCode before expiry", err)
	})

	t.Run("Race", func(t *testing.T) {
		s := newStore(t)
		const rounds, callers = 50, 20
		grants := make([]string, callers)
		for i := range grants {
			grants[i] = "grant-" + randHex(8)
		}
		for round := range rounds {
			c := newCode(newUserID())
			must(t, "CreateAuthCode", s.CreateAuthCode(ctx(t), c))
			codes := make([]*store.AuthCode, callers)
			errs := race(callers, func(i int) error {
				var err error
				codes[i], err = s.ConsumeAuthCode(ctx(t), c.Hash, grants[i], base)
				return err
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("round %d: callers %d and %d both consumed the code", round, winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, store.ErrCodeReused):
					t.Fatalf("round %d: loser %d: got %v, want ErrCodeReused", round, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: nobody consumed the code", round)
			}
			for i, code := range codes {
				if code == nil || code.GrantID != grants[winner] {
					t.Fatalf("round %d: caller %d sees grant %v, want the winner's %q", round, i, code, grants[winner])
				}
			}
		}
	})
}
