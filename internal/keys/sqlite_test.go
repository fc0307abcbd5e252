package keys_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/store/sqlite"
)

// These tests run the keys package against the real SQLite store.

var (
	master = []byte("integration-master-secret-0123456789")
	t0     = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func jwksKids(t *testing.T, m *keys.Manager) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func states(t *testing.T, st *sqlite.Store, now time.Time) map[string]string {
	t.Helper()
	infos, err := keys.List(context.Background(), st, now)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range infos {
		if k.Algorithm != "RS256" {
			t.Errorf("key %s algorithm %q", k.ID, k.Algorithm)
		}
		out[k.ID] = k.State
	}
	return out
}

func TestInitCreatesOnceAndReloads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	st := openStore(t, path)
	m1 := keys.NewManager(st, master, keys.Options{})
	if err := m1.Init(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := m1.Sign(map[string]any{"sub": "auth0|1"})
	if err != nil {
		t.Fatal(err)
	}

	// A restart (new handle, new manager) reuses the stored key.
	m2 := keys.NewManager(openStore(t, path), master, keys.Options{})
	if err := m2.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if m1.CurrentKeyID() == "" || m2.CurrentKeyID() != m1.CurrentKeyID() {
		t.Fatalf("kid after restart = %q, want %q", m2.CurrentKeyID(), m1.CurrentKeyID())
	}
	var claims struct{ Sub string }
	if err := m2.Verify(tok, &claims); err != nil || claims.Sub != "auth0|1" {
		t.Fatalf("Verify after restart: %v, sub %q", err, claims.Sub)
	}
	infos, err := keys.List(ctx, st, time.Now())
	if err != nil || len(infos) != 1 || infos[0].State != keys.StateCurrent {
		t.Fatalf("List = %+v, %v; want one current key", infos, err)
	}
}

func TestWrongSecret(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "k.db"))
	if err := keys.NewManager(st, master, keys.Options{}).Init(ctx); err != nil {
		t.Fatal(err)
	}
	wrong := []byte("not-the-master-secret-0123456789")
	err := keys.NewManager(st, wrong, keys.Options{}).Init(ctx)
	if !errors.Is(err, keys.ErrWrongSecret) || !strings.Contains(err.Error(), "cannot be decrypted: wrong LATCH_SECRET or secret file?") {
		t.Fatalf("Init with wrong secret: %v, want ErrWrongSecret", err)
	}
	if _, err := keys.Rotate(ctx, st, wrong, keys.Options{}); !errors.Is(err, keys.ErrWrongSecret) {
		t.Fatalf("Rotate with wrong secret: %v, want ErrWrongSecret", err)
	}
	if infos, _ := keys.List(ctx, st, time.Now()); len(infos) != 1 {
		t.Fatalf("%d keys after refused rotation, want 1", len(infos))
	}
}

func TestConcurrentFirstStart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	const instances = 4
	ms := make([]*keys.Manager, instances)
	st := openStore(t, path)
	for i := range ms {
		ms[i] = keys.NewManager(openStore(t, path), master, keys.Options{})
	}
	start := make(chan struct{})
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() {
			<-start
			errs[i] = m.Init(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d Init: %v", i, err)
		}
	}
	for _, m := range ms {
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	kid := ms[0].CurrentKeyID()
	for i, m := range ms {
		if m.CurrentKeyID() != kid {
			t.Fatalf("instance %d signs with %s, instance 0 with %s", i, m.CurrentKeyID(), kid)
		}
		if string(m.JWKS()) != string(ms[0].JWKS()) {
			t.Fatalf("instance %d publishes a different JWKS", i)
		}
		tok, err := m.Sign(map[string]string{"sub": "x"})
		if err != nil {
			t.Fatal(err)
		}
		for j, other := range ms {
			if err := other.Verify(tok, &map[string]any{}); err != nil {
				t.Fatalf("token from instance %d rejected by %d: %v", i, j, err)
			}
		}
	}
	infos, err := keys.List(ctx, st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var unexpired int
	for _, k := range infos {
		if k.ExpiresAt.IsZero() {
			unexpired++
		}
		if k.State != keys.StateCurrent && k.State != keys.StateRetiring {
			t.Errorf("key %s is %s after first start", k.ID, k.State)
		}
	}
	if unexpired != 1 {
		t.Fatalf("%d keys without expiry after first start, want 1: %+v", unexpired, infos)
	}
	t.Logf("%d instances ended with %d key(s)", instances, len(infos))
}

func TestRotationSchedule(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	opts := keys.Options{RotationDelay: time.Hour, RetireAfter: 10 * time.Hour, RefreshInterval: 5 * time.Millisecond, Now: clk.Now}
	path := filepath.Join(t.TempDir(), "k.db")
	st := openStore(t, path)
	m := keys.NewManager(st, master, opts)
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	k1 := m.CurrentKeyID()
	tok1, err := m.Sign(map[string]string{"sub": "old"})
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute)
	next, err := keys.Rotate(ctx, openStore(t, path), master, opts) // as `latch keys rotate` would
	if err != nil {
		t.Fatal(err)
	}
	k2 := next.ID
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// The next key is published at once but does not sign yet.
	if got := jwksKids(t, m); len(got) != 2 || got[0] != k1 || got[1] != k2 {
		t.Fatalf("JWKS after rotate = %v, want [%s %s]", got, k1, k2)
	}
	if m.CurrentKeyID() != k1 {
		t.Fatalf("signing with %s right after rotate, want old key %s", m.CurrentKeyID(), k1)
	}
	if s := states(t, st, clk.Now()); s[k1] != keys.StateCurrent || s[k2] != keys.StateNext {
		t.Fatalf("states after rotate = %v", s)
	}

	// After RotationDelay the next key signs, with no store round trip.
	clk.Advance(time.Hour)
	if m.CurrentKeyID() != k2 {
		t.Fatalf("signing with %s after the delay, want %s", m.CurrentKeyID(), k2)
	}
	tok2, err := m.Sign(map[string]string{"sub": "new"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tok1, tok2} {
		if err := m.Verify(tok, &map[string]any{}); err != nil {
			t.Fatalf("Verify during overlap: %v", err)
		}
	}
	if s := states(t, st, clk.Now()); s[k1] != keys.StateRetiring || s[k2] != keys.StateCurrent {
		t.Fatalf("states after delay = %v", s)
	}

	// RetireAfter after the switch, the old key leaves the JWKS.
	clk.Advance(10*time.Hour - time.Second)
	if got := jwksKids(t, m); len(got) != 2 {
		t.Fatalf("JWKS one second before retirement = %v, want both keys", got)
	}
	clk.Advance(time.Second)
	if got := jwksKids(t, m); len(got) != 1 || got[0] != k2 {
		t.Fatalf("JWKS at retirement = %v, want [%s]", got, k2)
	}
	if err := m.Verify(tok1, &map[string]any{}); !errors.Is(err, keys.ErrInvalidToken) {
		t.Fatalf("Verify with retired key: %v, want ErrInvalidToken", err)
	}
	if s := states(t, st, clk.Now()); s[k1] != keys.StatePrevious || s[k2] != keys.StateCurrent {
		t.Fatalf("states after retirement = %v", s)
	}

	// Run deletes the expired key from the store.
	clk.Advance(time.Second)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { m.Run(runCtx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(states(t, st, clk.Now())) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not delete the expired key")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if got := jwksKids(t, m); len(got) != 1 || got[0] != k2 || m.CurrentKeyID() != k2 {
		t.Fatalf("after Run: JWKS %v, current %s", got, m.CurrentKeyID())
	}
}

func TestRotateTwice(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	opts := keys.Options{RotationDelay: time.Hour, RetireAfter: 2 * time.Hour, Now: clk.Now}
	st := openStore(t, filepath.Join(t.TempDir(), "k.db"))
	m := keys.NewManager(st, master, opts)
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	k1 := m.CurrentKeyID()
	k2, err := keys.Rotate(ctx, st, master, opts)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	k3, err := keys.Rotate(ctx, st, master, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	infos, err := keys.List(ctx, st, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		state   string
		expires time.Time
	}{
		k1:    {keys.StateCurrent, t0.Add(time.Hour + 2*time.Hour)},
		k2.ID: {keys.StateNext, t0.Add(90*time.Minute + 2*time.Hour)},
		k3.ID: {keys.StateNext, time.Time{}},
	}
	for _, k := range infos {
		w := want[k.ID]
		if k.State != w.state || !k.ExpiresAt.Equal(w.expires) {
			t.Errorf("key %s: state %s expires %v, want %s %v", k.ID, k.State, k.ExpiresAt, w.state, w.expires)
		}
	}
	if got := jwksKids(t, m); len(got) != 3 {
		t.Fatalf("JWKS = %v, want 3 keys", got)
	}
	// k2 signs from t0+1h; k3, rotated in before k2 started, from t0+90m.
	clk.Advance(30 * time.Minute)
	if m.CurrentKeyID() != k2.ID {
		t.Fatalf("current at t0+1h = %s, want k2 %s", m.CurrentKeyID(), k2.ID)
	}
	clk.Advance(30 * time.Minute)
	if m.CurrentKeyID() != k3.ID {
		t.Fatalf("current at t0+90m = %s, want k3 %s", m.CurrentKeyID(), k3.ID)
	}
}
