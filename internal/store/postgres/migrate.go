package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/latch-auth/latch/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]store.Migration, error) {
	return store.LoadMigrations(migrationFiles, "migrations")
}

// lockMigrations serialises migrations for the schema the connection
// works in: a transaction-scoped advisory lock, released by COMMIT or
// ROLLBACK, so a crashed instance never leaves it held. The first key is
// "latc"; the second is the schema, so test runs in different schemas of
// one database never wait for each other.
const lockMigrations = `SELECT pg_advisory_xact_lock(1818326115, hashtext(coalesce(current_schema(), '')))`

// Migrate applies the embedded migrations the database has not seen yet,
// each in its own transaction together with its schema_migrations row and
// under an advisory lock, so several instances starting at once apply each
// migration exactly once. Open calls it; `latch migrate` may call it
// explicitly. It is idempotent and fails if the database was migrated by a
// newer latch.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.migrate(ctx); err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	return nil
}

// migrate returns how many migrations it applied.
func (s *Store) migrate(ctx context.Context) (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	// The usual start: the schema is already at this latch's newest
	// version. One read says so, without the transaction, the advisory
	// lock (which would queue behind an instance that is migrating) and the
	// DDL of the full check; that was about a fifth of a start on
	// PostgreSQL. Anything else (no table yet, older, newer, an error)
	// takes the locked path, which decides and reports.
	var newest int
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).
		Scan(&newest); err == nil && newest == len(ms) {
		return 0, nil
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockMigrations); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest)
	})
	if err != nil {
		return 0, err
	}
	if newest > len(ms) {
		return 0, fmt.Errorf("database is at schema version %d but this latch knows only %d; upgrade latch", newest, len(ms))
	}
	applied := 0
	for _, m := range ms[newest:] {
		done, err := s.apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("%s: %w", m.Name, err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// apply runs one migration unless it is already recorded. The check runs
// after the lock is taken, so an instance that waited for another one's
// migration sees it and skips it.
func (s *Store) apply(ctx context.Context, m store.Migration) (bool, error) {
	applied := false
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockMigrations); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// Without arguments pgx sends the file with the simple protocol,
		// which runs several statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
			m.Version, m.Name); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}
