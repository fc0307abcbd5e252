package postgres

import (
	"context"
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order. Names are
// "NNNN_description.sql"; versions must run 1, 2, 3, ... without gaps.
func loadMigrations() ([]migration, error) {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive number and '_'", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
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
	var newest int
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
			return applied, fmt.Errorf("%s: %w", m.name, err)
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
func (s *Store) apply(ctx context.Context, m migration) (bool, error) {
	applied := false
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockMigrations); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// Without arguments pgx sends the file with the simple protocol,
		// which runs several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
			m.version, m.name); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}
