package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

func testSessions(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		ss := newSession(newUserID())
		must(t, "CreateSession", s.CreateSession(ctx(t), ss))
		got, err := s.GetSession(ctx(t), ss.ID)
		must(t, "GetSession", err)
		checkEqual(t, "session", got, ss)
		_, err = s.GetSession(ctx(t), "unknown")
		wantErr(t, "GetSession unknown", err, store.ErrNotFound)
		dup := newSession(ss.UserID)
		dup.ID = ss.ID
		wantErr(t, "CreateSession duplicate id", s.CreateSession(ctx(t), dup), store.ErrConflict)
	})

	t.Run("ByCookie", func(t *testing.T) {
		s := newStore(t)
		ss := newSession(newUserID()) // idle expiry base+1h, absolute base+24h
		must(t, "CreateSession", s.CreateSession(ctx(t), ss))
		short := newSession(ss.UserID) // absolute expiry before its idle expiry
		short.IdleExpiresAt, short.ExpiresAt = at(2*time.Hour), at(30*time.Minute)
		must(t, "CreateSession", s.CreateSession(ctx(t), short))
		tests := []struct {
			name string
			hash string
			now  time.Time
			want error
		}{
			{"Live", ss.CookieHash, base, nil},
			{"JustBeforeIdleExpiry", ss.CookieHash, at(time.Hour - time.Millisecond), nil},
			{"AtIdleExpiry", ss.CookieHash, at(time.Hour), store.ErrNotFound},
			{"PastIdleExpiry", ss.CookieHash, at(2 * time.Hour), store.ErrNotFound},
			{"AbsoluteLive", short.CookieHash, at(29 * time.Minute), nil},
			{"PastAbsoluteExpiry", short.CookieHash, at(time.Hour), store.ErrNotFound},
			{"UnknownCookie", newHash(), base, store.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetSessionByCookie(ctx(t), tc.hash, tc.now)
				wantErr(t, "GetSessionByCookie", err, tc.want)
				if tc.want == nil && got.CookieHash != tc.hash {
					t.Errorf("CookieHash = %q, want %q", got.CookieHash, tc.hash)
				}
			})
		}
		// GetSession ignores expiry: logout must find expired sessions too.
		got, err := s.GetSession(ctx(t), short.ID)
		must(t, "GetSession expired", err)
		checkEqual(t, "expired session", got, short)
	})

	t.Run("Touch", func(t *testing.T) {
		s := newStore(t)
		ss := newSession(newUserID())
		must(t, "CreateSession", s.CreateSession(ctx(t), ss))
		tests := []struct {
			name     string
			now      time.Time
			idle     time.Time
			wantIdle time.Time
		}{
			{"Slides", at(time.Minute), at(2 * time.Hour), at(2 * time.Hour)},
			{"ClampedToAbsolute", at(2 * time.Minute), at(48 * time.Hour), ss.ExpiresAt},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				must(t, "TouchSession", s.TouchSession(ctx(t), ss.ID, tc.now, tc.idle))
				got, err := s.GetSession(ctx(t), ss.ID)
				must(t, "GetSession", err)
				want := *ss
				want.LastSeenAt, want.IdleExpiresAt = tc.now, tc.wantIdle
				checkEqual(t, "touched session", got, &want)
			})
		}
		_, err := s.GetSessionByCookie(ctx(t), ss.CookieHash, at(30*time.Hour))
		wantErr(t, "GetSessionByCookie past absolute expiry after touch", err, store.ErrNotFound)
		wantErr(t, "TouchSession unknown", s.TouchSession(ctx(t), "unknown", base, at(time.Hour)), store.ErrNotFound)
	})

	t.Run("UpdateAuth", func(t *testing.T) {
		s := newStore(t)
		ss := newSession(newUserID())
		must(t, "CreateSession", s.CreateSession(ctx(t), ss))
		must(t, "UpdateSessionAuth", s.UpdateSessionAuth(ctx(t), ss.ID, at(5*time.Minute), at(100*time.Hour)))
		got, err := s.GetSession(ctx(t), ss.ID)
		must(t, "GetSession", err)
		if !got.AuthTime.Equal(at(5 * time.Minute)) {
			t.Errorf("AuthTime = %v, want %v", got.AuthTime, at(5*time.Minute))
		}
		if !got.IdleExpiresAt.Equal(ss.ExpiresAt) {
			t.Errorf("IdleExpiresAt = %v, want it clamped to %v", got.IdleExpiresAt, ss.ExpiresAt)
		}
		if !got.ExpiresAt.Equal(ss.ExpiresAt) || !got.CreatedAt.Equal(ss.CreatedAt) {
			t.Errorf("ExpiresAt/CreatedAt changed: %v/%v", got.ExpiresAt, got.CreatedAt)
		}
		wantErr(t, "UpdateSessionAuth unknown", s.UpdateSessionAuth(ctx(t), "unknown", base, base), store.ErrNotFound)
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		ss, other := newSession(newUserID()), newSession(newUserID())
		must(t, "CreateSession", s.CreateSession(ctx(t), ss))
		must(t, "CreateSession", s.CreateSession(ctx(t), other))
		must(t, "DeleteSession", s.DeleteSession(ctx(t), ss.ID))
		_, err := s.GetSession(ctx(t), ss.ID)
		wantErr(t, "GetSession deleted", err, store.ErrNotFound)
		_, err = s.GetSessionByCookie(ctx(t), ss.CookieHash, base)
		wantErr(t, "GetSessionByCookie deleted", err, store.ErrNotFound)
		wantErr(t, "DeleteSession again", s.DeleteSession(ctx(t), ss.ID), store.ErrNotFound)
		_, err = s.GetSession(ctx(t), other.ID)
		must(t, "GetSession other", err)
	})
}

func newTransaction() *store.LoginTransaction {
	return &store.LoginTransaction{
		ID:        newHash(),
		ClientID:  "client-" + randHex(4),
		Params:    json.RawMessage(`{"response_type":"code","scope":"openid profile","state":"xyz","max_age":300}`),
		CreatedAt: at(-time.Minute),
		ExpiresAt: at(10 * time.Minute),
	}
}

func testTransactions(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		tx := newTransaction()
		must(t, "CreateTransaction", s.CreateTransaction(ctx(t), tx))
		got, err := s.GetTransaction(ctx(t), tx.ID)
		must(t, "GetTransaction", err)
		checkEqual(t, "transaction", got, tx)
		_, err = s.GetTransaction(ctx(t), newHash())
		wantErr(t, "GetTransaction unknown", err, store.ErrNotFound)
		wantErr(t, "CreateTransaction duplicate", s.CreateTransaction(ctx(t), tx), store.ErrConflict)
	})

	t.Run("Complete", func(t *testing.T) {
		s := newStore(t)
		open, expired := newTransaction(), newTransaction()
		must(t, "CreateTransaction", s.CreateTransaction(ctx(t), open))
		must(t, "CreateTransaction", s.CreateTransaction(ctx(t), expired))
		tests := []struct {
			name string
			id   string
			now  time.Time
			want error
		}{
			{"AtExpiry", expired.ID, expired.ExpiresAt, store.ErrNotFound},
			{"PastExpiry", expired.ID, at(time.Hour), store.ErrNotFound},
			{"Unknown", newHash(), base, store.ErrNotFound},
			{"Open", open.ID, at(time.Minute), nil},
			{"AlreadyCompleted", open.ID, at(2 * time.Minute), store.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "CompleteTransaction", s.CompleteTransaction(ctx(t), tc.id, tc.now), tc.want)
			})
		}
		got, err := s.GetTransaction(ctx(t), open.ID)
		must(t, "GetTransaction completed", err)
		want := *open
		want.CompletedAt = at(time.Minute)
		checkEqual(t, "completed transaction", got, &want)
		got, err = s.GetTransaction(ctx(t), expired.ID)
		must(t, "GetTransaction expired", err)
		checkEqual(t, "expired transaction", got, expired)
	})

	t.Run("CompleteRace", func(t *testing.T) {
		s := newStore(t)
		for round := range 10 {
			tx := newTransaction()
			must(t, "CreateTransaction", s.CreateTransaction(ctx(t), tx))
			errs := race(20, func(int) error { return s.CompleteTransaction(ctx(t), tx.ID, base) })
			wins := 0
			for _, err := range errs {
				if err == nil {
					wins++
				} else {
					wantErr(t, "CompleteTransaction loser", err, store.ErrNotFound)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d callers completed the transaction, want 1", round, wins)
			}
		}
	})
}
