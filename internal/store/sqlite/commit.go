package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// maxBatch bounds how many write transactions one commit carries.
const maxBatch = 64

// errClosed is returned for writes handed to a closed Store.
var errClosed = errors.New("store: sqlite: store is closed")

// committer runs the store's write transactions on the single write
// connection, and commits the ones that queued up while the previous
// commit was running together, in one SQLite transaction (group commit).
// A WAL commit appends every page the transaction changed and updates the
// WAL index under its locks; in the load benchmark that was a tenth of the
// refresh-token rotation's CPU, and concurrent rotations touch many of the
// same pages (the table's last leaf, the upper levels of each B-tree).
//
// Each transaction of a batch runs inside its own SAVEPOINT, so one that
// fails (a conflict, a lost race) is rolled back alone and the others
// commit. A caller is answered only after the commit (or the rollback) of
// its batch, so what it is told was written is written. A batch of one
// runs as a plain transaction, as before batching.
//
// Transactions run with the committer's context, not the caller's: a
// caller that goes away must not interrupt a statement, which in SQLite can
// roll back the whole transaction, and with it other callers' work.
// A caller whose context is done before its batch starts is skipped.
type committer struct {
	db   *pool
	jobs chan *txJob

	mu     sync.RWMutex // held for reading while sending to jobs
	closed bool
	quit   chan struct{}
	done   chan struct{}
}

// txJob is one write transaction waiting for its batch.
type txJob struct {
	ctx  context.Context // the caller's: checked before the job runs
	fn   func(ctx context.Context, q txQueries) error
	err  error
	done chan struct{}
}

func newCommitter(db *pool) *committer {
	c := &committer{
		db:   db,
		jobs: make(chan *txJob, 4*maxBatch),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go c.run()
	return c
}

// do runs fn in a write transaction (possibly shared, see committer) and
// commits it when fn returns nil or a *commitErr, whose error do then
// returns. fn must use the context and the queries it is given.
func (c *committer) do(ctx context.Context, fn func(ctx context.Context, q txQueries) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &txJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	c.jobs <- j
	c.mu.RUnlock()
	<-j.done
	return j.err
}

// close runs the jobs already accepted, refuses new ones, and waits for
// the committer to stop.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.quit)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	batch := make([]*txJob, 0, maxBatch)
	for {
		select {
		case j := <-c.jobs:
			batch = append(batch[:0], j)
		case <-c.quit:
			// No job can be sent any more (close holds the lock while it
			// marks the committer closed): run what is queued, then stop.
			for {
				batch = c.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				c.commit(batch)
			}
		}
		c.commit(c.fill(batch))
	}
}

// fill adds queued jobs to batch, without waiting, up to maxBatch.
func (c *committer) fill(batch []*txJob) []*txJob {
	for len(batch) < maxBatch {
		select {
		case j := <-c.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// commit runs batch in one transaction and answers every job.
func (c *committer) commit(batch []*txJob) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			close(j.done)
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	defer func() {
		for _, j := range live {
			close(j.done)
		}
	}()
	ctx := context.Background()
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		for _, j := range live {
			j.err = err
		}
		return
	}
	q := c.db.inTx(tx)
	if len(live) == 1 {
		j := live[0]
		j.err = runJob(ctx, q, j)
		if j.err != nil && !errors.As(j.err, new(*commitErr)) {
			_ = tx.Rollback()
			return
		}
	} else {
		for _, j := range live {
			if err := c.runSaved(ctx, tx, q, j); err != nil {
				// The transaction is lost (SQLite rolls a transaction back
				// on some errors): nothing of the batch was written.
				_ = tx.Rollback()
				for _, j := range live {
					j.err = fmt.Errorf("store: sqlite: batch rolled back: %w", err)
				}
				return
			}
		}
	}
	if err := tx.Commit(); err != nil {
		for _, j := range live {
			j.err = err
		}
		return
	}
	for _, j := range live {
		var ce *commitErr
		if errors.As(j.err, &ce) {
			j.err = ce.err
		}
	}
}

// runSaved runs j inside a savepoint, rolling back to it when j fails. Its
// error is the transaction's failure, not j's (which is in j.err).
func (c *committer) runSaved(ctx context.Context, tx *sql.Tx, q txQueries, j *txJob) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT job`); err != nil {
		return err
	}
	j.err = runJob(ctx, q, j)
	if j.err != nil && !errors.As(j.err, new(*commitErr)) {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO job`); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `RELEASE job`)
	return err
}

// runJob runs j's function, turning a panic into an error so that one bad
// job cannot stop the committer and leave every writer waiting.
func runJob(ctx context.Context, q txQueries, j *txJob) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: sqlite: panic in write transaction: %v", p)
		}
	}()
	return j.fn(ctx, q)
}
