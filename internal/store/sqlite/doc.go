// Package sqlite is the embedded SQLite backend of store.Store, built on the
// pure-Go driver modernc.org/sqlite (no cgo).
//
// The database runs in WAL mode with busy_timeout, foreign_keys=ON and
// synchronous=NORMAL. Like pocketbase, the Store keeps two pools: a write
// pool of exactly one connection, so writers queue in Go instead of failing
// with SQLITE_BUSY, and a read pool of several query_only connections, which
// WAL lets run alongside the writer. The hot write transactions (codes,
// refresh tokens, grant revocation, user deletion) go through a committer
// that commits the ones queued while the previous commit ran together, one
// SAVEPOINT each, answering every caller only after the commit (commit.go).
//
// Single-use records (authorization codes, login transactions, refresh
// token rotation) are consumed by one conditional UPDATE in the database,
// never by a Go lock, so the guarantees would hold even if several processes
// shared the file.
//
// The schema lives in embedded, numbered migrations (migrations/0001_init.sql,
// ...) recorded in schema_migrations; Open applies the missing ones, each in
// its own transaction. Times are stored as INTEGER unix milliseconds, UTC.
package sqlite
