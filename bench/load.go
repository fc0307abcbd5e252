package main

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// errExhausted ends a worker's run early: the scenario has used every item
// (authorization code) prepared for it before the timed window.
var errExhausted = errors.New("prepared items exhausted")

// step is one iteration of a scenario on one worker: usually one request,
// for the password login four. It returns an error for any unexpected
// answer; the error is counted, never retried.
type step func(w *worker) error

// worker is one keep-alive connection and its scenario state.
type worker struct {
	id       int
	c        *conn
	lat      []time.Duration
	errs     int
	firstErr error // first error seen, for the report
	// state is the scenario's per-worker value (a refresh token, a cookie).
	state any
}

// loadResult is what the measured windows of a gang saw.
type loadResult struct {
	Requests  int
	Errors    int
	Elapsed   time.Duration   // sum of the measured windows
	Latencies []time.Duration // sorted
	FirstErr  error
	Exhausted bool
	CPU       cpuUse // average over the measured windows
}

// rps is completed requests per second over the windows.
func (r loadResult) rps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// percentile returns the p-th percentile (0..100) of the sorted latencies
// by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.5) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// gang is a set of goroutines that each loop over one piece of work, in
// windows: window lets them run for a while, then stops them starting new
// work and waits until every one is idle. A scenario and its ceiling are
// two gangs whose windows alternate, so both see the same machine even
// when other work on it comes and goes. Between windows the gang takes no
// CPU.
type gang struct {
	run       atomic.Bool // members may start work
	measuring atomic.Bool // completed work counts
	exhausted atomic.Bool
	mu        sync.Mutex
	cond      *sync.Cond
	stopped   bool
	members   int // goroutines not yet exited
	parked    int
	wg        sync.WaitGroup
	ended     chan struct{} // closed when work ran out
	endOnce   sync.Once

	pid     int // the process counted as the server (0: none)
	elapsed time.Duration
	cpu0    cpuSample
	cpuSum  cpuUse // core-seconds over the windows
	count   atomic.Int64
}

func newGang(pid int) *gang {
	g := &gang{pid: pid, ended: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// spawn starts a member that calls body until the gang stops or body
// reports that the work ran out.
func (g *gang) spawn(body func() (exhausted bool)) {
	g.mu.Lock()
	g.members++
	g.mu.Unlock()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			if !g.run.Load() && !g.park() {
				return
			}
			if body() {
				g.exhausted.Store(true)
				g.endOnce.Do(func() { close(g.ended) })
				g.mu.Lock()
				g.members--
				g.cond.Broadcast()
				g.mu.Unlock()
				return
			}
		}
	}()
}

// park waits while the gang is paused; false means it stopped.
func (g *gang) park() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.parked++
	g.cond.Broadcast()
	for !g.run.Load() && !g.stopped {
		g.cond.Wait()
	}
	g.parked--
	if g.stopped {
		g.members--
		g.cond.Broadcast()
		return false
	}
	return true
}

// window runs the gang for about d (less when the work runs out) and
// returns once every member is idle again. A measured window adds to the
// gang's elapsed time, CPU use and counts.
func (g *gang) window(d time.Duration, measured bool) {
	g.measuring.Store(measured)
	var a cpuSample
	if measured {
		a = sampleCPU(g.pid)
	}
	t0 := time.Now()
	g.mu.Lock()
	g.run.Store(true)
	g.cond.Broadcast()
	g.mu.Unlock()
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-g.ended:
		t.Stop()
	}
	g.mu.Lock()
	g.run.Store(false)
	for g.parked < g.members {
		g.cond.Wait()
	}
	g.mu.Unlock()
	if measured {
		g.elapsed += time.Since(t0)
		g.cpuSum.add(cpuBetween(a, sampleCPU(g.pid), runtime.NumCPU()), time.Since(t0).Seconds())
	}
	g.measuring.Store(false)
}

// stop ends the members and waits for them.
func (g *gang) stop() {
	g.mu.Lock()
	g.stopped = true
	g.cond.Broadcast()
	g.mu.Unlock()
	g.wg.Wait()
}

// cores is the average CPU use over the measured windows.
func (g *gang) cores() cpuUse {
	s := g.elapsed.Seconds()
	if s <= 0 {
		return cpuUse{}
	}
	c := g.cpuSum
	return cpuUse{Latch: round(c.Latch/s, 2), LoadGen: round(c.LoadGen/s, 2), Other: round(c.Other/s, 2), Idle: round(c.Idle/s, 2)}
}

// add accumulates u, averaged over secs seconds, as core-seconds.
func (c *cpuUse) add(u cpuUse, secs float64) {
	c.Latch += u.Latch * secs
	c.LoadGen += u.LoadGen * secs
	c.Other += u.Other * secs
	c.Idle += u.Idle * secs
}

// httpGang is a gang of keep-alive connections, each looping over a step.
type httpGang struct {
	*gang
	ws []*worker
}

// newHTTPGang dials conns connections to addr and runs init on each.
// serverPID is the process whose CPU is reported as the server's.
func newHTTPGang(addr string, serverPID, conns int, init func(w *worker) error, fn step) (*httpGang, error) {
	h := &httpGang{gang: newGang(serverPID)}
	for i := range conns {
		c, err := dial(addr)
		if err != nil {
			h.close()
			return nil, err
		}
		w := &worker{id: i, c: c, lat: make([]time.Duration, 0, 4096)}
		h.ws = append(h.ws, w)
		if init != nil {
			if err := init(w); err != nil {
				h.close()
				return nil, err
			}
		}
	}
	for _, w := range h.ws {
		h.spawn(func() bool {
			t0 := time.Now()
			err := fn(w)
			d := time.Since(t0)
			if errors.Is(err, errExhausted) {
				return true
			}
			if !h.measuring.Load() {
				return false
			}
			if err != nil {
				w.errs++
				if w.firstErr == nil {
					w.firstErr = err
				}
				return false
			}
			w.lat = append(w.lat, d)
			return false
		})
	}
	return h, nil
}

// close stops the members and closes the connections.
func (h *httpGang) close() {
	h.stop()
	for _, w := range h.ws {
		_ = w.c.Close()
	}
}

// result collects what the measured windows saw.
func (h *httpGang) result() loadResult {
	res := loadResult{Elapsed: h.elapsed, Exhausted: h.exhausted.Load(), CPU: h.cores()}
	for _, w := range h.ws {
		res.Requests += len(w.lat)
		res.Errors += w.errs
		res.Latencies = append(res.Latencies, w.lat...)
		if res.FirstErr == nil && w.firstErr != nil {
			res.FirstErr = w.firstErr
		}
	}
	slices.Sort(res.Latencies)
	return res
}

// cpuGang runs fn on every core of this process; it counts the calls of
// its measured windows. The first error stops the gang and is kept.
type cpuGang struct {
	*gang
	errMu sync.Mutex
	err   error
}

func newCPUGang(fn func() error) *cpuGang {
	c := &cpuGang{gang: newGang(0)}
	for range runtime.GOMAXPROCS(0) {
		c.spawn(func() bool {
			if err := fn(); err != nil {
				c.errMu.Lock()
				if c.err == nil {
					c.err = err
				}
				c.errMu.Unlock()
				return true
			}
			if c.measuring.Load() {
				c.count.Add(1)
			}
			return false
		})
	}
	return c
}

// rate is calls per second of the measured windows, and per CPU-second
// this process used in them.
func (c *cpuGang) rate() (rate, error) {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.err != nil {
		return rate{}, c.err
	}
	r := rate{PerSec: div(float64(c.count.Load()), c.elapsed.Seconds())}
	r.PerCPUSec = div(float64(c.count.Load()), c.cpuSum.LoadGen)
	return r, nil
}

// queue hands out prepared items (authorization codes) once each, across
// workers.
type queue struct {
	items []string
	next  atomic.Int64
}

// take returns the next item, or errExhausted.
func (q *queue) take() (string, error) {
	i := q.next.Add(1) - 1
	if i >= int64(len(q.items)) {
		return "", errExhausted
	}
	return q.items[i], nil
}
