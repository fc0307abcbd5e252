package keys_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/postgres"
	"github.com/latch-auth/latch/internal/store/postgres/pgtest"
)

// These tests run the per-algorithm key schedule against both real stores.

// backends returns, per store, a function that makes a fresh database and
// returns an opener of handles on it (each handle plays one instance).
func backends() map[string]func(t *testing.T) func() store.Store {
	return map[string]func(t *testing.T) func() store.Store{
		"sqlite": func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "k.db")
			return func() store.Store { return openStore(t, path) }
		},
		"postgres": func(t *testing.T) func() store.Store {
			dsn := pgtest.Schema(t)
			return func() store.Store {
				st, err := postgres.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
		},
	}
}

// byAlg maps each algorithm to its keys' states, from List.
func byAlg(t *testing.T, st store.Store, now time.Time) map[string]map[string]string {
	t.Helper()
	infos, err := keys.List(context.Background(), st, now)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, k := range infos {
		if out[k.Algorithm] == nil {
			out[k.Algorithm] = map[string]string{}
		}
		out[k.Algorithm][k.ID] = k.State
	}
	return out
}

// jwksAlgs lists the JWKS's (kid, alg) pairs in order.
func jwksAlgs(t *testing.T, m *keys.Manager) [][2]string {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, Alg string } `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, k := range set.Keys {
		out = append(out, [2]string{k.Kid, k.Alg})
	}
	return out
}

func TestRotationPerAlgorithm(t *testing.T) {
	for name, newDB := range backends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			open := newDB(t)
			clk := &clock{t: t0}
			opts := keys.Options{RotationDelay: time.Hour, RetireAfter: 10 * time.Hour, Now: clk.Now}
			st := open()
			m := keys.NewManager(st, master, opts)
			if err := m.Init(ctx, keys.ES256, keys.EdDSA); err != nil {
				t.Fatal(err)
			}
			first := map[string]string{}
			for _, alg := range keys.Algorithms() {
				if first[alg] = m.CurrentKeyIDOf(alg); first[alg] == "" {
					t.Fatalf("no %s key after Init", alg)
				}
			}
			esTok, err := m.SignWithAlg(map[string]string{"sub": "es"}, "JWT", keys.ES256)
			if err != nil {
				t.Fatal(err)
			}

			// Rotating ES256 leaves the other schedules alone.
			clk.Advance(time.Minute)
			rotated, err := keys.RotateAlgs(ctx, open(), master, opts, keys.ES256)
			if err != nil || len(rotated) != 1 || rotated[0].Algorithm != keys.ES256 {
				t.Fatalf("RotateAlgs(ES256) = %+v, %v", rotated, err)
			}
			es2 := rotated[0].ID
			if err := m.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			got := byAlg(t, st, clk.Now())
			want := map[string]map[string]string{
				keys.RS256: {first[keys.RS256]: keys.StateCurrent},
				keys.ES256: {first[keys.ES256]: keys.StateCurrent, es2: keys.StateNext},
				keys.EdDSA: {first[keys.EdDSA]: keys.StateCurrent},
			}
			checkStates(t, "after rotating ES256", got, want)
			if j := jwksAlgs(t, m); len(j) != 4 || j[0][1] != keys.RS256 || j[1][1] != keys.ES256 || j[2][1] != keys.ES256 || j[3][1] != keys.EdDSA {
				t.Fatalf("JWKS after rotating ES256 = %v, want RS256, ES256 ×2, EdDSA", j)
			}

			// After the delay the new ES256 key signs; the old one still
			// verifies its tokens; RS256 and EdDSA keys did not move.
			clk.Advance(time.Hour)
			if m.CurrentKeyIDOf(keys.ES256) != es2 || m.CurrentKeyIDOf(keys.RS256) != first[keys.RS256] || m.CurrentKeyIDOf(keys.EdDSA) != first[keys.EdDSA] {
				t.Fatalf("current after delay: %s %s %s", m.CurrentKeyIDOf(keys.RS256), m.CurrentKeyIDOf(keys.ES256), m.CurrentKeyIDOf(keys.EdDSA))
			}
			if err := m.Verify(esTok, &map[string]any{}); err != nil {
				t.Fatalf("token of the retiring ES256 key: %v", err)
			}

			// Without --alg every algorithm in use rotates.
			all, err := keys.RotateAlgs(ctx, open(), master, opts)
			if err != nil || len(all) != 3 {
				t.Fatalf("RotateAlgs() = %d keys, %v; want 3", len(all), err)
			}
			for i, alg := range keys.Algorithms() {
				if all[i].Algorithm != alg {
					t.Fatalf("RotateAlgs()[%d] is %s, want %s", i, all[i].Algorithm, alg)
				}
			}
			got = byAlg(t, st, clk.Now())
			for _, alg := range keys.Algorithms() {
				if got[alg][all[algIndex(alg)].ID] != keys.StateNext {
					t.Errorf("%s: new key %s, want next: %v", alg, got[alg][all[algIndex(alg)].ID], got[alg])
				}
				var current int
				for _, s := range got[alg] {
					if s == keys.StateCurrent {
						current++
					}
				}
				if current != 1 {
					t.Errorf("%s has %d current keys: %v", alg, current, got[alg])
				}
			}

			// A restart without ES256 in the config still loads and
			// verifies its keys (they stay published until retired).
			m2 := keys.NewManager(open(), master, opts)
			if err := m2.Init(ctx); err != nil {
				t.Fatal(err)
			}
			if err := m2.Verify(esTok, &map[string]any{}); err != nil {
				t.Fatalf("ES256 token after restart: %v", err)
			}
		})
	}
}

func algIndex(alg string) int {
	for i, a := range keys.Algorithms() {
		if a == alg {
			return i
		}
	}
	return -1
}

func checkStates(t *testing.T, when string, got, want map[string]map[string]string) {
	t.Helper()
	for alg, w := range want {
		if len(got[alg]) != len(w) {
			t.Errorf("%s: %s keys %v, want %v", when, alg, got[alg], w)
			continue
		}
		for id, s := range w {
			if got[alg][id] != s {
				t.Errorf("%s: %s key %s is %q, want %q", when, alg, id, got[alg][id], s)
			}
		}
	}
}

func TestRotateAlgsRefuses(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "k.db"))
	if err := keys.NewManager(st, master, keys.Options{}).Init(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		algs []string
	}{
		{"algorithm without a key", []string{keys.EdDSA}},
		{"one of two without a key", []string{keys.RS256, keys.ES256}},
		{"HS256", []string{"HS256"}},
		{"PS256", []string{"PS256"}},
		{"lower case", []string{"es256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if recs, err := keys.RotateAlgs(ctx, st, master, keys.Options{}, tt.algs...); err == nil {
				t.Fatalf("RotateAlgs(%v) = %+v, want an error", tt.algs, recs)
			}
			if infos, _ := keys.List(ctx, st, time.Now()); len(infos) != 1 {
				t.Fatalf("%d keys after a refused rotation, want 1", len(infos))
			}
		})
	}
}

// TestConcurrentEnsure: instances reloading a config that names ES256 at
// the same time end with one ES256 key signing everywhere.
func TestConcurrentEnsure(t *testing.T) {
	for name, newDB := range backends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			open := newDB(t)
			const instances = 4
			ms := make([]*keys.Manager, instances)
			for i := range ms {
				ms[i] = keys.NewManager(open(), master, keys.Options{})
				if err := ms[i].Init(ctx); err != nil {
					t.Fatal(err)
				}
			}
			start := make(chan struct{})
			errs := make([]error, instances)
			var wg sync.WaitGroup
			for i, m := range ms {
				wg.Go(func() {
					<-start
					errs[i] = m.Ensure(ctx, keys.ES256)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d Ensure: %v", i, err)
				}
			}
			for _, m := range ms {
				if err := m.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
			}
			kid := ms[0].CurrentKeyIDOf(keys.ES256)
			for i, m := range ms {
				if m.CurrentKeyIDOf(keys.ES256) != kid || kid == "" {
					t.Fatalf("instance %d signs ES256 with %q, instance 0 with %q", i, m.CurrentKeyIDOf(keys.ES256), kid)
				}
				tok, err := m.SignWithAlg(map[string]string{"sub": "x"}, "JWT", keys.ES256)
				if err != nil {
					t.Fatal(err)
				}
				for j, other := range ms {
					if err := other.Verify(tok, &map[string]any{}); err != nil {
						t.Fatalf("ES256 token from instance %d rejected by %d: %v", i, j, err)
					}
				}
			}
			infos, err := keys.List(ctx, open(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			unexpired := map[string]int{}
			for _, k := range infos {
				if k.ExpiresAt.IsZero() {
					unexpired[k.Algorithm]++
				}
			}
			if unexpired[keys.RS256] != 1 || unexpired[keys.ES256] != 1 || len(unexpired) != 2 {
				t.Fatalf("keys without expiry per algorithm = %v, want one RS256 and one ES256", unexpired)
			}
		})
	}
}
