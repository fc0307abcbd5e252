package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
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
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return 0, err
	}
	var newest int
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
			return applied, fmt.Errorf("%s: %w", m.name, err)
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
func (s *Store) apply(ctx context.Context, m migration) (bool, error) {
	applied := false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, ms(time.Now())); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}
