package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// batchEnv is a store with a scratch table, and a way to hold the
// committer inside a job so that the next jobs queue up into one batch.
type batchEnv struct {
	s       *Store
	release chan struct{}
	started chan struct{}
}

func newBatchEnv(t *testing.T) *batchEnv {
	t.Helper()
	s := openTemp(t, filepath.Join(t.TempDir(), "latch.db"))
	if _, err := s.write.ExecContext(t.Context(), `CREATE TABLE scratch (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return &batchEnv{s: s, release: make(chan struct{}), started: make(chan struct{})}
}

// hold occupies the committer until release is closed.
func (e *batchEnv) hold(t *testing.T) <-chan error {
	errc := make(chan error, 1)
	go func() {
		errc <- e.s.withTx(context.Background(), func(ctx context.Context, q txQueries) error {
			close(e.started)
			<-e.release
			_, err := q.ExecContext(ctx, `INSERT INTO scratch (k) VALUES ('holder')`)
			return err
		})
	}()
	<-e.started
	return errc
}

// queued waits until n jobs wait in the committer's queue.
func (e *batchEnv) queued(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.s.commit.jobs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs queued, want %d", len(e.s.commit.jobs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *batchEnv) has(t *testing.T, k string) bool {
	t.Helper()
	var n int
	if err := e.s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM scratch WHERE k = ?`, k).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

var errJob = errors.New("job failed")

// TestBatchIsolatesJobs: in one batch, each job's outcome is its own: a
// job that fails leaves nothing (its savepoint is rolled back), a job that
// asks to commit and fail keeps its write, a panicking job fails alone,
// a conflict fails alone, and the rest commit.
func TestBatchIsolatesJobs(t *testing.T) {
	e := newBatchEnv(t)
	holder := e.hold(t)
	type outcome struct {
		key    string
		kind   string
		err    error
		stored bool
	}
	jobs := []outcome{
		{key: "ok-1", kind: "ok", stored: true},
		{key: "fail-1", kind: "fail", err: errJob},
		{key: "commit-err", kind: "commitErr", err: errJob, stored: true},
		{key: "panic", kind: "panic"},
		{key: "ok-1", kind: "ok"}, // a duplicate of the first: a conflict
		{key: "ok-2", kind: "ok", stored: true},
		{key: "fail-2", kind: "fail", err: errJob},
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			errs[i] = e.s.withTx(context.Background(), func(ctx context.Context, q txQueries) error {
				if _, err := q.ExecContext(ctx, `INSERT INTO scratch (k) VALUES (?)`, j.key); err != nil {
					return err
				}
				switch j.kind {
				case "fail":
					return errJob
				case "commitErr":
					return &commitErr{errJob}
				case "panic":
					panic("boom")
				}
				return nil
			})
		})
		e.queued(t, i+1) // in order, all in the queue behind the holder
	}
	close(e.release)
	wg.Wait()
	if err := <-holder; err != nil {
		t.Fatalf("holder: %v", err)
	}
	for i, j := range jobs {
		switch {
		case j.kind == "panic":
			if errs[i] == nil {
				t.Errorf("job %d (panic): no error", i)
			}
		case i == 4:
			if errs[i] == nil {
				t.Errorf("job %d (duplicate key): no error", i)
			}
		case !errors.Is(errs[i], j.err) || (j.err == nil && errs[i] != nil):
			t.Errorf("job %d (%s): err = %v, want %v", i, j.kind, errs[i], j.err)
		}
		if i == 4 {
			continue // its key is the first job's, stored by that job
		}
		if got := e.has(t, j.key); got != j.stored {
			t.Errorf("job %d (%s): stored = %v, want %v", i, j.kind, got, j.stored)
		}
	}
	if !e.has(t, "holder") {
		t.Error("the holder's write is missing")
	}
}

// TestBatchLostTransaction: when the shared transaction itself is lost,
// every job of the batch is told so and none of their writes remain.
func TestBatchLostTransaction(t *testing.T) {
	e := newBatchEnv(t)
	holder := e.hold(t)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			errs[i] = e.s.withTx(context.Background(), func(ctx context.Context, q txQueries) error {
				if _, err := q.ExecContext(ctx, `INSERT INTO scratch (k) VALUES (?)`, fmt.Sprint("k", i)); err != nil {
					return err
				}
				if i == 1 {
					// Ends the transaction behind the committer's back, as
					// SQLite does on some errors (SQLITE_FULL, SQLITE_IOERR).
					if _, err := q.tx.ExecContext(ctx, `ROLLBACK`); err != nil {
						return err
					}
				}
				return nil
			})
		})
		e.queued(t, i+1)
	}
	close(e.release)
	wg.Wait()
	if err := <-holder; err != nil {
		t.Fatalf("holder: %v", err)
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("job %d: no error from a lost batch", i)
		}
		if e.has(t, fmt.Sprint("k", i)) {
			t.Errorf("job %d: its write remained", i)
		}
	}
	// The committer goes on.
	if err := e.s.withTx(t.Context(), func(ctx context.Context, q txQueries) error {
		_, err := q.ExecContext(ctx, `INSERT INTO scratch (k) VALUES ('after')`)
		return err
	}); err != nil || !e.has(t, "after") {
		t.Fatalf("write after a lost batch: %v", err)
	}
}

// TestBatchSkipsCancelled: a job whose caller has gone before its batch
// starts is not run.
func TestBatchSkipsCancelled(t *testing.T) {
	e := newBatchEnv(t)
	holder := e.hold(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- e.s.withTx(ctx, func(ctx context.Context, q txQueries) error {
			_, err := q.ExecContext(ctx, `INSERT INTO scratch (k) VALUES ('cancelled')`)
			return err
		})
	}()
	e.queued(t, 1)
	cancel()
	close(e.release)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if e.has(t, "cancelled") {
		t.Fatal("the cancelled job ran")
	}
}

// TestCloseFinishesAcceptedWrites: Close runs the jobs already queued and
// refuses later ones.
func TestCloseFinishesAcceptedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	e := &batchEnv{s: s, release: make(chan struct{}), started: make(chan struct{})}
	if _, err := s.write.ExecContext(t.Context(), `CREATE TABLE scratch (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	holder := e.hold(t)
	errc := make(chan error, 1)
	go func() {
		errc <- s.withTx(context.Background(), func(ctx context.Context, q txQueries) error {
			_, err := q.ExecContext(ctx, `INSERT INTO scratch (k) VALUES ('queued')`)
			return err
		})
	}()
	e.queued(t, 1)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(10 * time.Millisecond) // let Close mark the committer closed
	close(e.release)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("queued job: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := s.withTx(t.Context(), func(context.Context, txQueries) error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("write after Close: %v, want errClosed", err)
	}
	s2 := openTemp(t, path)
	var n int
	if err := s2.read.QueryRowContext(t.Context(), `SELECT count(*) FROM scratch`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows after reopening: %d, %v; want 2", n, err)
	}
}
