package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store/postgres/pgtest"
)

// TestOpenUpToDateSkipsLock: opening a schema that is already at the newest
// version reads its version and takes no migration lock, so it does not
// queue behind a session holding the lock (another instance migrating, or
// here a test). A schema that is behind still waits for the lock.
func TestOpenUpToDateSkipsLock(t *testing.T) {
	tests := []struct {
		name     string
		behind   bool // delete the newest schema_migrations row first
		wantWait bool
	}{
		{"UpToDate", false, false},
		{"Behind", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.Schema(t)
			first := openDSN(t, dsn)
			ctx := t.Context()
			if tc.behind {
				// Pretend the newest migration is missing: the open
				// must take the locked path, and so wait.
				if _, err := first.pool.Exec(ctx, `DELETE FROM schema_migrations
					WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
					t.Fatal(err)
				}
			}
			tx, err := first.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(context.Background()) }()
			if _, err := tx.Exec(ctx, lockMigrations); err != nil {
				t.Fatal(err)
			}
			// The deadline only bounds the wait of the case that must
			// wait; the other never comes near it.
			octx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			s, err := Open(octx, dsn)
			waited := errors.Is(err, context.DeadlineExceeded) || octx.Err() != nil
			if err == nil {
				_ = s.Close()
			} else if !waited {
				t.Fatalf("Open: %v", err)
			}
			if waited != tc.wantWait {
				t.Fatalf("Open waited for the migration lock: %v, want %v (err %v)", waited, tc.wantWait, err)
			}
		})
	}
}
