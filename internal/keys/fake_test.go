package keys

import (
	"context"
	"sync"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// memKeys is a minimal in-memory stand-in for the four signing-key methods,
// for unit tests of pure logic (signing, verifying, caching). Behaviour
// against a real database is covered in sqlite_test.go. Calling any other
// store method panics on the nil embedded interface.
type memKeys struct {
	store.Store
	mu    sync.Mutex
	keys  []store.SigningKey
	lists int // ListSigningKeys calls
	// beforeCreate, when set, runs (without the lock) at the start of
	// CreateSigningKey, to simulate another instance inserting first.
	beforeCreate func()
}

func (s *memKeys) CreateSigningKey(_ context.Context, k *store.SigningKey) error {
	if f := s.beforeCreate; f != nil {
		s.beforeCreate = nil
		f()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.keys {
		if o.ID == k.ID {
			return store.ErrConflict
		}
	}
	s.keys = append(s.keys, *k)
	return nil
}

func (s *memKeys) ListSigningKeys(context.Context) ([]store.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	return append([]store.SigningKey(nil), s.keys...), nil
}

func (s *memKeys) SetSigningKeyExpiry(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		if s.keys[i].ID == id {
			s.keys[i].ExpiresAt = at
			return nil
		}
	}
	return store.ErrNotFound
}

func (s *memKeys) DeleteExpiredSigningKeys(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.keys[:0]
	for _, k := range s.keys {
		if k.ExpiresAt.IsZero() || !k.ExpiresAt.Before(now) {
			kept = append(kept, k)
		}
	}
	n := len(s.keys) - len(kept)
	s.keys = kept
	return n, nil
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
