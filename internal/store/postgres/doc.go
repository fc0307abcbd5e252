// Package postgres is the PostgreSQL backend of store.Store, built on pgx
// (github.com/jackc/pgx/v5) and its connection pool. Several latch
// instances share one database, so every guarantee lives in the database,
// never in a Go lock:
//
//   - Single-use records (authorization codes, login transactions) are
//     consumed by one conditional UPDATE ... RETURNING; concurrent callers
//     queue on the row lock and exactly one matches.
//   - Refresh token rotation is one READ COMMITTED transaction whose first
//     statement is the conditional UPDATE, so a second rotation of the same
//     token waits for the first to commit and then sees it; a replay beyond
//     the leeway revokes the family and commits that before reporting
//     store.ErrTokenReused.
//   - DeleteExpired deletes bounded batches picked with FOR UPDATE SKIP
//     LOCKED, so instances cleaning at the same time split the work.
//
// The schema lives in embedded, numbered migrations (migrations/0001_init.sql,
// ...) recorded in schema_migrations. Open applies the missing ones, each in
// its own transaction under a transaction-scoped advisory lock keyed by the
// current schema, so instances starting together never race. Times are
// timestamptz, written in UTC with millisecond precision like the SQLite
// backend; driver errors map to store.ErrNotFound and store.ErrConflict.
//
// The DSN's search_path parameter selects the schema, which is how tests
// (see package pgtest) give every run its own tables.
package postgres
