package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latch-auth/latch/internal/store"
)

// busyTimeout is how long a connection waits for a lock held by another
// process (or a WAL checkpoint) before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is the SQLite implementation of store.Store. It is safe for
// concurrent use.
type Store struct {
	// write has exactly one connection: SQLite allows one writer at a time,
	// and queuing writers in database/sql is cheaper and more predictable
	// than letting them spin on SQLITE_BUSY.
	write *pool
	// read is a pool of query_only connections; under WAL, readers never
	// block the writer nor each other. For an in-memory database it is the
	// write pool, since every connection would otherwise see its own database.
	read *pool
	// commit runs write transactions on write, committing concurrent ones
	// together (commit.go).
	commit *committer
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the SQLite database named by dsn and
// applies any missing migrations. dsn is a file path ("./latch.db"),
// optionally prefixed with "sqlite:", or a "file:" URI whose query
// parameters are passed to SQLite. ":memory:" gives a private in-memory
// database served by a single connection (for tests). The directory holding
// the file must already exist.
func Open(ctx context.Context, dsn string) (*Store, error) {
	loc, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: open %q: %w", dsn, err)
	}
	if !loc.memory {
		if err := checkDir(loc.dir); err != nil {
			return nil, fmt.Errorf("store: sqlite: open %q: %w", dsn, err)
		}
	}

	write, err := openPool(ctx, loc.dsn(true), 1)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: open %q: %w", dsn, err)
	}
	s := &Store{write: write, read: write}
	if !loc.memory {
		// The write pool has switched the file to WAL before any reader opens it.
		n := max(4, runtime.NumCPU())
		if s.read, err = openPool(ctx, loc.dsn(false), n); err != nil {
			_ = write.Close()
			return nil, fmt.Errorf("store: sqlite: open %q: %w", dsn, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.write.prepare(ctx, rotateRefreshSQL, getRefreshSQL, insertRefreshSQL,
		consumeCodeSQL, getCodeSQL, insertCodeSQL)
	s.commit = newCommitter(s.write)
	return s, nil
}

// openPool opens a database/sql pool of at most n connections that never
// expire, and checks that one connection can be made.
func openPool(ctx context.Context, dsn string, n int) (*pool, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return newPool(db), nil
}

// Ping reports whether both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("store: sqlite: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("store: sqlite: ping: %w", err)
	}
	return nil
}

// Close finishes the writes already accepted, then closes both pools.
// Calling it more than once is harmless.
func (s *Store) Close() error {
	if s.commit != nil {
		s.commit.close()
	}
	var errRead error
	if s.read != s.write {
		errRead = s.read.Close()
	}
	return errors.Join(errRead, s.write.Close())
}

// location is a parsed dsn.
type location struct {
	name   string     // plain path, or file: URI without its query
	query  url.Values // the caller's URI parameters (file: URIs only)
	dir    string     // directory that must exist
	memory bool
}

// parseDSN accepts "path", "sqlite:path", "sqlite://path" and "file:" URIs.
func parseDSN(dsn string) (location, error) {
	s := dsn
	if rest, ok := strings.CutPrefix(s, "sqlite:"); ok {
		s = strings.TrimPrefix(rest, "//")
	}
	if s == "" {
		return location{}, errors.New("empty database path")
	}
	if s == ":memory:" {
		return location{name: s, memory: true}, nil
	}
	if !strings.HasPrefix(s, "file:") {
		if strings.Contains(s, "?") {
			return location{}, errors.New(`a path may not contain "?"; use a file: URI to pass parameters`)
		}
		return location{name: s, dir: filepath.Dir(s)}, nil
	}
	base, rawQuery, _ := strings.Cut(s, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return location{}, fmt.Errorf("bad URI parameters: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return location{}, fmt.Errorf("bad file URI: %w", err)
	}
	p := u.Path
	if u.Opaque != "" {
		if p, err = url.PathUnescape(u.Opaque); err != nil {
			return location{}, fmt.Errorf("bad file URI: %w", err)
		}
	}
	if p == "" {
		return location{}, errors.New("file URI names no path")
	}
	loc := location{name: base, query: q, dir: filepath.Dir(p)}
	loc.memory = p == ":memory:" || q.Get("mode") == "memory"
	return loc, nil
}

// dsn renders the driver DSN for the write pool or a read pool. The driver
// applies the _pragma parameters on every new connection; busy_timeout goes
// first so the others can wait for locks.
func (l location) dsn(write bool) string {
	q := url.Values{}
	for k, v := range l.query {
		q[k] = v
	}
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"foreign_keys(1)",
		"synchronous(NORMAL)",
	}
	if write {
		// journal_mode is persistent, so setting it once, from the writer, is
		// enough. BEGIN IMMEDIATE takes the write lock up front: a
		// transaction that reads then writes cannot fail midway with BUSY.
		pragmas = append(pragmas, "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	} else {
		pragmas = append(pragmas, "query_only(1)")
	}
	q["_pragma"] = append(q["_pragma"], pragmas...)
	return l.name + "?" + q.Encode()
}

// checkDir turns SQLite's terse "unable to open database file" into an
// error that names the missing directory.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %q does not exist (create it first)", dir)
	case err != nil:
		return fmt.Errorf("directory %q: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%q is not a directory", dir)
	}
	return nil
}

// mapErr translates driver errors into the store's sentinel errors, keeping
// the driver's message for the log.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w (%s)", store.ErrConflict, se.Error())
		}
	}
	return err
}

// affected returns ErrNotFound when res changed no row.
func affected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// ms is the stored form of a time: unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// nullMS stores a zero time as NULL.
func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms, in UTC.
func fromMS(v int64) time.Time {
	if v == (time.Time{}).UnixMilli() {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// fromNullMS maps NULL to the zero time.
func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// withTx runs fn in a write transaction and commits when fn returns nil.
// When fn returns a *commitErr, the transaction is committed and its error
// returned: some failures (refresh token reuse) must persist what they did.
// The transaction may be shared with other callers' (group commit, see
// committer): fn must use only the context and queries it is given, and
// never s.write or withTx, which would wait for the connection it holds.
func (s *Store) withTx(ctx context.Context, fn func(ctx context.Context, q txQueries) error) error {
	return s.commit.do(ctx, fn)
}

// directTx is withTx on a transaction of its own, for migrations, which
// run at Open before the committer starts.
func (s *Store) directTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	err = fn(tx)
	var ce *commitErr
	if err != nil && !errors.As(err, &ce) {
		return err
	}
	if cerr := tx.Commit(); cerr != nil {
		return cerr
	}
	if ce != nil {
		return ce.err
	}
	return nil
}

// commitErr asks withTx to commit and then return err.
type commitErr struct{ err error }

func (e *commitErr) Error() string { return e.err.Error() }
func (e *commitErr) Unwrap() error { return e.err }
