package crashtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// password is every test user's password.
const password = "crash test password"

// codeState is what the client knows about one authorization code.
type codeState int

const (
	codePending  codeState = iota // issued, exchange not (yet) sent
	codeRedeemed                  // exchanged: a 200 came back
	codeLost                      // the exchange was in flight when latch died
)

type codeRec struct {
	code, verifier string
	issued         time.Time
	state          codeState
	owner          int
}

// family is one refresh-token family as the client saw it: every token
// answer in order (the code exchange, then each refresh).
type family struct {
	owner     int
	sets      []tokenSet
	uncertain bool // a refresh was lost: latch may have rotated without telling
}

func (f *family) current() string { return f.sets[len(f.sets)-1].Refresh }

// ledger is everything the load was told by latch.
type ledger struct {
	mu       sync.Mutex
	users    []string // acknowledged: created by the CLI or a 200 sign-up
	codes    []*codeRec
	families []*family
	failures []string // answers latch must never give
	signups  atomic.Int64
	logins   atomic.Int64
	acked    atomic.Int64 // answers latch gave that changed something
	lost     atomic.Int64
	nextUser atomic.Int64
}

func (l *ledger) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf(format, args...))
}

func (l *ledger) user(rnd *rand.Rand) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.users[rnd.IntN(len(l.users))]
}

// ownFamily picks one of worker w's families that the client still trusts.
func (l *ledger) ownFamily(w int, rnd *rand.Rand) *family {
	l.mu.Lock()
	defer l.mu.Unlock()
	var mine []*family
	for _, f := range l.families {
		if f.owner == w && !f.uncertain {
			mine = append(mine, f)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return mine[rnd.IntN(len(mine))]
}

// worker runs flows until stop is closed or latch goes away. Each worker
// refreshes only its own families, so no two requests race on one family
// (which would be a legitimate reuse).
func (l *ledger) worker(w int, b *browser, stop <-chan struct{}) {
	rnd := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	email := l.user(rnd)
	for {
		select {
		case <-stop:
			return
		default:
		}
		var err error
		switch op := rnd.IntN(10); {
		case op < 4:
			err = l.flow(w, b, email)
		case op < 8:
			if f := l.ownFamily(w, rnd); f != nil {
				err = l.refresh(b, f)
			} else {
				err = l.flow(w, b, email)
			}
		case op < 9:
			err = l.signup(b)
		default: // a new browser: the next flow logs in with a password
			b = newBrowser(b.base, b.killing)
			email = l.user(rnd)
		}
		if errors.Is(err, errNotSent) || errors.Is(err, errLost) {
			if errors.Is(err, errLost) {
				l.lost.Add(1)
			}
			return
		}
		if err != nil {
			l.fail("worker %d: %v", w, err)
			return
		}
	}
}

// flow gets a code and exchanges it.
func (l *ledger) flow(w int, b *browser, email string) error {
	verifier, challenge := pkce()
	code, err := b.authorize(email, password, challenge)
	if err != nil {
		return err
	}
	l.logins.Add(1)
	rec := &codeRec{code: code, verifier: verifier, issued: time.Now(), owner: w}
	l.mu.Lock()
	l.codes = append(l.codes, rec)
	l.mu.Unlock()
	return l.redeem(b, rec)
}

// redeem exchanges a pending code, which must work: latch answered the
// redirect that carried it.
func (l *ledger) redeem(b *browser, rec *codeRec) error {
	r, ts, err := b.exchange(rec.code, rec.verifier)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(err, errNotSent):
		return err // still pending
	case errors.Is(err, errLost):
		rec.state = codeLost
		return err
	case err != nil:
		return err
	case ts == nil:
		return fmt.Errorf("exchange of an issued code: %s", r)
	}
	rec.state = codeRedeemed
	l.acked.Add(1)
	l.families = append(l.families, &family{owner: rec.owner, sets: []tokenSet{*ts}})
	return nil
}

// refresh rotates f; a refresh token latch handed out must work.
func (l *ledger) refresh(b *browser, f *family) error {
	r, ts, err := b.refresh(f.current())
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(err, errNotSent):
		return err
	case errors.Is(err, errLost):
		f.uncertain = true
		return err
	case err != nil:
		return err
	case ts == nil:
		return fmt.Errorf("refresh with the current token of a family (%d rotations): %s", len(f.sets)-1, r)
	}
	f.sets = append(f.sets, *ts)
	l.acked.Add(1)
	return nil
}

// signup creates a user over HTTP; a 200 means it must survive.
func (l *ledger) signup(b *browser) error {
	email := fmt.Sprintf("signup%d-%d@example.com", l.nextUser.Add(1), time.Now().UnixNano())
	r, err := b.signup(email, password)
	if err != nil {
		return err
	}
	if r.status != 200 {
		return fmt.Errorf("signup: %s", r)
	}
	l.signups.Add(1)
	l.acked.Add(1)
	l.mu.Lock()
	l.users = append(l.users, email)
	l.mu.Unlock()
	return nil
}
