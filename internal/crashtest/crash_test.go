package crashtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/postgres"
	"github.com/latch-auth/latch/internal/store/postgres/pgtest"
	"github.com/latch-auth/latch/internal/store/sqlite"
)

// Shape of the run: 20 SIGKILLs, each at a random moment up to maxLoad
// after the cycle's first acknowledged write, under load from a few
// concurrent clients.
const (
	cycles   = 20
	workers  = 4
	maxLoad  = 400 * time.Millisecond
	codeLife = 50 * time.Second // codes live 60 s; older pending ones are not checked
)

// backend is a database latch can run on.
type backend struct {
	name string
	// dsn prepares a fresh database and returns latch's `database:` value.
	dsn  func(t *testing.T, dir string) string
	open func(ctx context.Context, dsn string) (store.Store, error)
	// check inspects the database after a kill (nil: nothing to check).
	check func(t *testing.T, dsn string)
}

var backends = []backend{
	{
		name: "sqlite",
		dsn:  func(_ *testing.T, dir string) string { return "sqlite:" + filepath.Join(dir, "latch.db") },
		open: func(ctx context.Context, dsn string) (store.Store, error) { return sqlite.Open(ctx, dsn) },
		check: func(t *testing.T, dsn string) {
			t.Helper()
			db, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var res string
			if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
				t.Fatalf("PRAGMA integrity_check = %q, %v", res, err)
			}
		},
	},
	{
		name: "postgres",
		dsn:  func(t *testing.T, _ string) string { return pgtest.Schema(t) },
		open: func(ctx context.Context, dsn string) (store.Store, error) { return postgres.Open(ctx, dsn) },
	},
}

// TestCrashSafety kills latch with SIGKILL at random moments under load and
// checks after every restart that what latch acknowledged survived, and at
// the end that no code and no refresh token works twice.
func TestCrashSafety(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			dir := t.TempDir()
			dsn := be.dsn(t, dir)
			srv := newServer(t, dsn)
			l := &ledger{}
			for _, email := range []string{"before1@example.com", "before2@example.com"} {
				if out, err := srv.cli(password+"\n", "users", "create", "--email", email, "--password-stdin"); err != nil {
					t.Fatalf("users create: %v\n%s", err, out)
				}
				l.users = append(l.users, email)
			}
			var killing atomic.Bool
			rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
			for c := range cycles {
				srv.start()
				killing.Store(false)
				l.redeemPending(t, newBrowser(srv.base, &killing))
				acked := l.acked.Load()
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for w := range workers {
					b := newBrowser(srv.base, &killing)
					wg.Go(func() { l.worker(w, b, stop) })
				}
				l.awaitProgress(t, acked)
				time.Sleep(time.Duration(rnd.Int64N(int64(maxLoad))))
				killing.Store(true)
				srv.kill()
				close(stop)
				wg.Wait()
				if len(l.failures) > 0 { // the workers have stopped
					t.Fatalf("cycle %d:\n%s\nlatch log:\n%s", c, strings.Join(l.failures, "\n"), srv.log.tail())
				}
				if be.check != nil {
					be.check(t, dsn)
				}
				l.checkUsers(t, be, dsn)
			}
			srv.start()
			killing.Store(false)
			b := newBrowser(srv.base, &killing)
			l.redeemPending(t, b)
			l.finalChecks(t, b)
			srv.kill()
			if be.check != nil {
				be.check(t, dsn)
			}
			t.Logf("%d cycles: %d logins, %d code exchanges, %d families, %d refreshes, %d sign-ups, %d requests cut by a kill",
				cycles, l.logins.Load(), l.redeemed(), len(l.families), l.refreshes(), l.signups.Load(), l.lost.Load())
			// Every cycle waited for an acknowledged write before the kill;
			// on a slow machine most may be refreshes, but some flows ran.
			if len(l.families) == 0 || l.acked.Load() < cycles {
				t.Fatalf("%d token families and %d acknowledged writes in %d cycles: the load did not run",
					len(l.families), l.acked.Load(), cycles)
			}
		})
	}
}

// awaitProgress waits until latch has acknowledged a write since the
// cycle began (so every cycle kills a server that did work), or fails.
func (l *ledger) awaitProgress(t *testing.T, since int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for l.acked.Load() == since {
		l.mu.Lock()
		failed := len(l.failures) > 0
		l.mu.Unlock()
		if failed {
			return // reported after the kill
		}
		select {
		case <-ctx.Done():
			t.Fatal("latch acknowledged nothing for a minute")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// redeemPending exchanges the codes whose exchange never reached latch:
// latch issued them before it died, so they must still work.
func (l *ledger) redeemPending(t *testing.T, b *browser) {
	t.Helper()
	for _, rec := range l.codes {
		if rec.state != codePending || time.Since(rec.issued) > codeLife {
			continue
		}
		if err := l.redeem(b, rec); err != nil {
			t.Fatalf("code issued before a kill: %v", err)
		}
	}
}

// checkUsers: every user latch acknowledged is in the database.
func (l *ledger) checkUsers(t *testing.T, be backend, dsn string) {
	t.Helper()
	st, err := be.open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open the database after a kill: %v", err)
	}
	defer st.Close()
	for _, email := range l.users {
		if _, err := st.GetUserByEmail(t.Context(), "Username-Password-Authentication", email); err != nil {
			t.Fatalf("user %s, created before the kill: %v", email, err)
		}
	}
}

func (l *ledger) redeemed() int {
	n := 0
	for _, c := range l.codes {
		if c.state == codeRedeemed {
			n++
		}
	}
	return n
}

func (l *ledger) refreshes() int {
	n := 0
	for _, f := range l.families {
		n += len(f.sets) - 1
	}
	return n
}

// finalChecks runs once latch is up again after the last kill. The order
// matters: replaying tokens and codes revokes what they issued, so what must
// work is checked first.
func (l *ledger) finalChecks(t *testing.T, b *browser) {
	t.Helper()
	keys := fetchJWKS(t, b)
	// Every token answer still works, unless its family may have been
	// revoked: a lost refresh followed by a retry is reuse.
	for i, f := range l.families {
		for j, ts := range f.sets {
			r, err := b.userinfo(ts.Access)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusOK && !f.uncertain {
				t.Errorf("family %d answer %d: access token refused after restarts: %s", i, j, r)
			}
			verifyIDToken(t, keys, b.base+"/", ts.ID)
		}
	}
	// No refresh token works twice: the current one once, then never;
	// every older one never.
	for i, f := range l.families {
		r, ts, err := b.refresh(f.current())
		if err != nil {
			t.Fatal(err)
		}
		if ts == nil && !f.uncertain {
			t.Errorf("family %d: current refresh token refused: %s", i, r)
		}
		if ts != nil {
			if r, again, _ := b.refresh(f.current()); again != nil || r.status != http.StatusForbidden {
				t.Errorf("family %d: the current refresh token worked twice: %s", i, r)
			}
			if r, next, _ := b.refresh(ts.Refresh); next != nil {
				t.Errorf("family %d: its successor survived the reuse: %s", i, r)
			}
		}
		for j, old := range f.sets[:len(f.sets)-1] {
			if r, again, _ := b.refresh(old.Refresh); again != nil {
				t.Errorf("family %d: rotated-out refresh token %d works: %s", i, j, r)
			}
		}
	}
	// No code works twice.
	for i, c := range l.codes {
		if c.state != codeRedeemed {
			continue
		}
		r, ts, err := b.exchange(c.code, c.verifier)
		if err != nil {
			t.Fatal(err)
		}
		if ts != nil || r.status != http.StatusForbidden || r.jsonField("error") != "invalid_grant" {
			t.Errorf("code %d redeemed twice: %s", i, r)
		}
	}
}

func fetchJWKS(t *testing.T, b *browser) *jose.JSONWebKeySet {
	t.Helper()
	r, err := b.get("/.well-known/jwks.json")
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("JWKS: %v %v", r, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatal(err)
	}
	return &set
}

// verifyIDToken: an ID token issued before any kill still verifies against
// the published keys and names this issuer.
func verifyIDToken(t *testing.T, set *jose.JSONWebKeySet, issuer, tok string) {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("ID token: %v", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("ID token key %q is no longer published", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Iss != issuer {
		t.Fatalf("ID token iss %q, want %q", c.Iss, issuer)
	}
}
