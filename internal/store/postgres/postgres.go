package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latch-auth/latch/internal/store"
)

const (
	// defaultMaxConns is the pool size unless the DSN sets pool_max_conns:
	// enough for bursts of token requests racing on one row, small enough
	// that several instances fit in PostgreSQL's default 100 connections.
	defaultMaxConns = 20
	// defaultConnectTimeout bounds a connection attempt to an unreachable
	// server unless the DSN sets connect_timeout.
	defaultConnectTimeout = 10 * time.Second
	// txAttempts is how often withTx runs a transaction that PostgreSQL
	// aborted as a deadlock victim or serialization failure.
	txAttempts = 3
)

// Store is the PostgreSQL implementation of store.Store. It is safe for
// concurrent use, and several processes may share one database.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database named by dsn (a postgres:// or
// postgresql:// URL, or a keyword/value string, as libpq and pgx accept) and
// applies any missing migrations. pool_max_conns, connect_timeout and the
// other pgx parameters may be set in the DSN; search_path selects the schema
// (the default is the database's, normally "public"). Errors never repeat
// the DSN, which may hold a password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message would quote the DSN; say only what kind of problem it is.
		return nil, errors.New("store: postgres: open: invalid database URL (expected postgres://user:password@host:5432/database)")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: open %s: %w", where, err)
	}
	s := &Store{pool: pool}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres: open %s: %w", where, err)
	}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
// Calling it more than once is harmless.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// SQLSTATE codes the store reacts to.
const (
	uniqueViolation      = "23505"
	deadlockDetected     = "40P01"
	serializationFailure = "40001"
)

// mapErr translates driver errors into the store's sentinel errors, keeping
// the driver's message for the log.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == uniqueViolation {
		return fmt.Errorf("%w (%s)", store.ErrConflict, pe.ConstraintName)
	}
	return err
}

// retryable reports whether PostgreSQL aborted a transaction that may simply
// be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == deadlockDetected || pe.Code == serializationFailure)
}

// storable reports whether PostgreSQL can hold s in a text column: valid
// UTF-8 without NUL bytes. A lookup by a key that is not storable cannot
// match any row, so it answers ErrNotFound, as SQLite would, instead of a
// driver error that would surface as a server error.
func storable(keys ...string) bool {
	for _, k := range keys {
		if !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
			return false
		}
	}
	return true
}

// checkText returns an error naming the first field whose value PostgreSQL
// cannot store in a text column.
func checkText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if !storable(fields[i+1]) {
			return fmt.Errorf("%s contains a NUL byte or invalid UTF-8", fields[i])
		}
	}
	return nil
}

// ts is the stored form of a time: UTC, truncated to the millisecond (the
// precision both backends keep).
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// nullTS stores a zero time as NULL.
func nullTS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

// utc is the inverse of ts for a scanned value: pgx returns local time.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// fromNull maps NULL to the zero time.
func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return utc(t.Time)
}

// leewayCutoff is now minus leeway, both at millisecond precision as SQLite
// computes it.
func leewayCutoff(now time.Time, leeway time.Duration) time.Time {
	return ts(now).Add(-time.Duration(leeway.Milliseconds()) * time.Millisecond)
}

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// affected returns ErrNotFound when tag reports no row changed.
func affected(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// withTx runs fn in a READ COMMITTED transaction and commits when fn returns
// nil; a deadlock or serialization failure reruns it (the aborted attempt
// left nothing behind).
func (s *Store) withTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for range txAttempts {
		if err = s.tryTx(ctx, fn); !retryable(err) {
			return err
		}
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
