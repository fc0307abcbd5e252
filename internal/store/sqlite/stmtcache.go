package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
)

// maxCachedStmts bounds the statement cache of one pool. The store's
// queries are a fixed set of a few dozen; the bound only guards against a
// future caller that builds SQL text from data.
const maxCachedStmts = 256

// pool is a database/sql pool whose QueryRowContext, QueryContext and
// ExecContext run prepared statements, each prepared once per connection
// and then reused. Parsing and planning a statement costs more than running
// it for the store's single-row lookups: in the load benchmark
// sqlite3_prepare was a quarter of /userinfo's CPU. Statements that cannot
// be cached (several statements in one string, a full cache, a failed
// prepare) run unprepared, as database/sql would run them.
type pool struct {
	*sql.DB
	stmts sync.Map // SQL text -> *sql.Stmt
	n     atomic.Int32
}

func newPool(db *sql.DB) *pool { return &pool{DB: db} }

// stmt returns the cached prepared statement for query, preparing it on
// first use, or nil when query is not to be cached.
func (p *pool) stmt(ctx context.Context, query string) *sql.Stmt {
	if v, ok := p.stmts.Load(query); ok {
		return v.(*sql.Stmt)
	}
	if p.n.Load() >= maxCachedStmts || strings.Contains(query, ";") {
		return nil
	}
	st, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	if v, loaded := p.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return v.(*sql.Stmt)
	}
	p.n.Add(1)
	return st
}

// QueryRowContext is sql.DB.QueryRowContext with a cached statement.
func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// QueryContext is sql.DB.QueryContext with a cached statement.
func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

// ExecContext is sql.DB.ExecContext with a cached statement.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, query, args...)
}

// inTx returns the pool's cached statements bound to tx, which must be a
// transaction of this pool.
func (p *pool) inTx(tx *sql.Tx) txQueries { return txQueries{p: p, tx: tx} }

// txQueries runs cached statements inside a transaction: tx.StmtContext
// reuses the statement already prepared on the transaction's connection.
// It never prepares one itself: the transaction holds the write pool's only
// connection, so preparing through the pool would wait for it forever.
// Statements used only in transactions are prepared at Open (prepare).
type txQueries struct {
	p  *pool
	tx *sql.Tx
}

func (t txQueries) cached(query string) *sql.Stmt {
	if v, ok := t.p.stmts.Load(query); ok {
		return v.(*sql.Stmt)
	}
	return nil
}

// QueryRowContext is sql.Tx.QueryRowContext with a cached statement.
func (t txQueries) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// ExecContext is sql.Tx.ExecContext with a cached statement.
func (t txQueries) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// prepare caches queries on the pool ahead of use (statements that run only
// inside transactions). A failure is not an error: they then run unprepared.
func (p *pool) prepare(ctx context.Context, queries ...string) {
	for _, q := range queries {
		p.stmt(ctx, q)
	}
}

// Close closes the cached statements, then the pool.
func (p *pool) Close() error {
	p.stmts.Range(func(k, v any) bool {
		_ = v.(*sql.Stmt).Close()
		p.stmts.Delete(k)
		return true
	})
	return p.DB.Close()
}
