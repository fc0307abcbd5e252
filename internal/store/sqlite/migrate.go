package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]store.Migration, error) {
	return store.LoadMigrations(migrationFiles, "migrations")
}

// Migrate applies the embedded migrations the database has not seen yet,
// each in its own transaction together with its schema_migrations row. Open
// calls it; `latch migrate` may call it explicitly. It is idempotent and
// fails if the database was migrated by a newer latch.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.migrate(ctx); err != nil {
		return fmt.Errorf("store: sqlite: migrate: %w", err)
	}
	return nil
}

// migrate returns how many migrations it applied.
func (s *Store) migrate(ctx context.Context) (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	// The usual start: already at the newest version, which one read says
	// without a write transaction per migration. Anything else (no table
	// yet, older, newer, an error) takes the full path, which decides.
	var newest int
	if err := s.write.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).
		Scan(&newest); err == nil && newest == len(ms) {
		return 0, nil
	}
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return 0, err
	}
	if err := s.write.QueryRowContext(ctx,
		`SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return 0, err
	}
	if newest > len(ms) {
		return 0, fmt.Errorf("database is at schema version %d but this latch knows only %d; upgrade latch", newest, len(ms))
	}
	applied := 0
	for _, m := range ms {
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

// apply runs one migration unless it is already recorded. The check is inside
// the (BEGIN IMMEDIATE) transaction, so two processes opening the same new
// file cannot both apply it.
func (s *Store) apply(ctx context.Context, m store.Migration) (bool, error) {
	applied := false
	err := s.directTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, ms(time.Now())); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}
