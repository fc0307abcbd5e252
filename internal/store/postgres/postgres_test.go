package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/postgres/pgtest"
	"github.com/latch-auth/latch/internal/store/storetest"
)

// openSchema opens a store on a fresh, private schema.
func openSchema(t *testing.T) *Store {
	t.Helper()
	return openDSN(t, pgtest.Schema(t))
}

func openDSN(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance gives every subtest its own schema, so each starts from
// an empty, freshly migrated store.
func TestConformance(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openSchema(t) })
}

// TestConcurrentOpen starts several instances on one fresh schema at the
// same moment: the advisory lock lets exactly one apply each migration and
// the others wait, then find nothing to do.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.Schema(t)
	const instances = 4
	stores := make([]*Store, instances)
	errs := make([]error, instances)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(t.Context(), dsn)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Open: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var rows, distinct int
	if err := stores[0].pool.QueryRow(t.Context(),
		`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if rows != len(ms) || distinct != len(ms) {
		t.Errorf("schema_migrations has %d rows (%d versions), want %d", rows, distinct, len(ms))
	}
	// Every instance works on the same tables.
	u := &store.User{ID: "auth0|000000000000000000000042", Connection: "db", Email: "a@example.com"}
	if err := stores[1].CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser on instance 1: %v", err)
	}
	if _, err := stores[instances-1].GetUser(t.Context(), u.ID); err != nil {
		t.Errorf("GetUser on instance %d: %v", instances-1, err)
	}
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := t.Context()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := &store.User{ID: "auth0|000000000000000000000001", Connection: "db", Email: "a@example.com",
		CreatedAt: time.UnixMilli(1_700_000_000_123).UTC()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	var appliedAt time.Time
	if err := s.pool.QueryRow(ctx,
		`SELECT max(applied_at) FROM schema_migrations`).Scan(&appliedAt); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openDSN(t, dsn)
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUser after reopen: %v", err)
	}
	if !got.CreatedAt.Equal(u.CreatedAt) || got.Email != u.Email {
		t.Errorf("user after reopen = %+v, want %+v", got, u)
	}
	n, err := s.migrate(ctx)
	if err != nil || n != 0 {
		t.Errorf("migrate after reopen applied %d migrations (err %v), want 0", n, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Errorf("Migrate after reopen: %v", err)
	}
	var count int
	var again time.Time
	if err := s.pool.QueryRow(ctx, `SELECT count(*), max(applied_at) FROM schema_migrations`).
		Scan(&count, &again); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if ms, _ := loadMigrations(); count != len(ms) || !again.Equal(appliedAt) {
		t.Errorf("schema_migrations has %d rows applied at %v, want %d applied at %v",
			count, again, len(ms), appliedAt)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := openDSN(t, dsn)
	if _, err := s.pool.Exec(t.Context(),
		`INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), dsn)
	if err == nil {
		_ = s2.Close()
		t.Fatal("Open succeeded on a database from a newer latch")
	}
	if !strings.Contains(err.Error(), "upgrade latch") {
		t.Errorf("error %q does not say to upgrade latch", err)
	}
}

// TestOpenErrors checks that a bad or unreachable database fails Open with
// a message that never repeats the password.
func TestOpenErrors(t *testing.T) {
	const secret = "s3cret-Pa55"
	tests := []struct {
		name, dsn, want string
	}{
		{"InvalidURL", "postgres://latch:" + secret + "@[::1/db", "invalid database URL"},
		{"BadPort", "postgres://latch:" + secret + "@127.0.0.1:notaport/db", "invalid database URL"},
		{"Unreachable", "postgres://latch:" + secret + "@127.0.0.1:1/db?connect_timeout=2", "127.0.0.1:1/db"},
		{"UnreachableKeywords", "host=127.0.0.1 port=1 dbname=db user=latch password=" + secret + " connect_timeout=2", "127.0.0.1:1/db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.dsn)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals the password: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestPoolSize(t *testing.T) {
	dsn := pgtest.Schema(t)
	tests := []struct {
		name string
		dsn  string
		want int32
	}{
		{"Default", dsn, defaultMaxConns},
		{"FromDSN", withParam(dsn, "pool_max_conns=5"), 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openDSN(t, tc.dsn)
			if got := s.pool.Config().MaxConns; got != tc.want {
				t.Errorf("MaxConns = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestUnstorableText feeds keys PostgreSQL cannot hold in text (NUL bytes,
// invalid UTF-8), as a hostile login form or cookie might: lookups answer
// ErrNotFound like SQLite, writes fail with a clear error, and nothing
// reaches the database as a driver error.
func TestUnstorableText(t *testing.T) {
	s := openSchema(t)
	ctx := t.Context()
	base := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, bad := range []struct{ name, value string }{
		{"NUL", "a\x00b@example.com"},
		{"InvalidUTF8", "a\xffb@example.com"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			v := bad.value
			lookups := []struct {
				name string
				call func() error
			}{
				{"GetUser", func() error { _, err := s.GetUser(ctx, v); return err }},
				{"GetUserByEmail", func() error { _, err := s.GetUserByEmail(ctx, "db", v); return err }},
				{"GetUserByUsername", func() error { _, err := s.GetUserByUsername(ctx, v, "x"); return err }},
				{"GetSession", func() error { _, err := s.GetSession(ctx, v); return err }},
				{"GetSessionByCookie", func() error { _, err := s.GetSessionByCookie(ctx, v, base); return err }},
				{"GetTransaction", func() error { _, err := s.GetTransaction(ctx, v); return err }},
				{"CompleteTransaction", func() error { return s.CompleteTransaction(ctx, v, base) }},
				{"ConsumeAuthCode", func() error { _, err := s.ConsumeAuthCode(ctx, v, "g", base); return err }},
				{"GetRefreshToken", func() error { _, err := s.GetRefreshToken(ctx, v); return err }},
				{"RotateRefreshToken", func() error {
					_, err := s.RotateRefreshToken(ctx, v, &store.RefreshToken{Hash: "n"}, base, 0)
					return err
				}},
				{"GetAccessToken", func() error { _, err := s.GetAccessToken(ctx, v, base); return err }},
				{"GetConsent", func() error { _, err := s.GetConsent(ctx, "u", v, "a"); return err }},
				{"SetPassword", func() error { return s.SetPassword(ctx, v, "h", base) }},
				{"DeleteUser", func() error { return s.DeleteUser(ctx, v) }},
				{"DeleteSession", func() error { return s.DeleteSession(ctx, v) }},
				{"SetSigningKeyExpiry", func() error { return s.SetSigningKeyExpiry(ctx, v, base) }},
			}
			for _, l := range lookups {
				t.Run(l.name, func(t *testing.T) {
					if err := l.call(); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("got %v, want ErrNotFound", err)
					}
				})
			}
			if err := s.RevokeGrant(ctx, v, base); err != nil {
				t.Errorf("RevokeGrant: %v, want nil (no such grant)", err)
			}
			u := &store.User{ID: "auth0|1", Connection: "db", Email: v}
			err := s.CreateUser(ctx, u)
			if err == nil || !strings.Contains(err.Error(), "email contains a NUL byte or invalid UTF-8") {
				t.Errorf("CreateUser: got %v, want a clear error naming email", err)
			}
			if _, err := s.GetUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetUser after a failed CreateUser: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestRotateRaceRevokesFamily is the cluster's refresh race seen from the
// store: of concurrent rotations with leeway 0 exactly one wins, and the
// losers' replay revokes the whole family, the winner's successor included.
func TestRotateRaceRevokesFamily(t *testing.T) {
	s := openSchema(t)
	ctx := t.Context()
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	for round := range 20 {
		rt := &store.RefreshToken{Hash: store.HashToken(randHex()), FamilyID: randHex(),
			ClientID: "c", UserID: "u", CreatedAt: now, IdleExpiresAt: now.Add(time.Hour),
			FamilyExpiresAt: now.Add(2 * time.Hour)}
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
		const callers = 8
		nexts := make([]*store.RefreshToken, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range callers {
			next := *rt
			next.Hash = store.HashToken(randHex())
			nexts[i] = &next
			wg.Go(func() {
				<-start
				_, errs[i] = s.RotateRefreshToken(ctx, rt.Hash, nexts[i], now, 0)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: callers %d and %d both rotated", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, store.ErrTokenReused) && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("round %d: caller %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody rotated", round)
		}
		got, err := s.GetRefreshToken(ctx, nexts[winner].Hash)
		if err != nil || got.RevokedAt.IsZero() {
			t.Fatalf("round %d: winner's successor = %+v (err %v), want revoked", round, got, err)
		}
	}
}

// TestRotateClockSkew: callers racing on several instances read their
// clocks before the winner commits, so a loser's now may lie before the
// winner's rotated_at. Without a leeway that is still a replay; with one,
// it is a retry within the leeway.
func TestRotateClockSkew(t *testing.T) {
	s := openSchema(t)
	ctx := t.Context()
	base := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name   string
		leeway time.Duration
		want   error
	}{
		{"NoLeeway", 0, store.ErrTokenReused},
		{"SubMillisecondLeeway", time.Microsecond, store.ErrTokenReused},
		{"WithinLeeway", 10 * time.Second, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := &store.RefreshToken{Hash: store.HashToken(randHex()), FamilyID: randHex(),
				ClientID: "c", UserID: "u", CreatedAt: base, IdleExpiresAt: base.Add(time.Hour),
				FamilyExpiresAt: base.Add(2 * time.Hour)}
			if err := s.CreateRefreshToken(ctx, rt); err != nil {
				t.Fatal(err)
			}
			winner := *rt
			winner.Hash = store.HashToken(randHex())
			if _, err := s.RotateRefreshToken(ctx, rt.Hash, &winner, base.Add(50*time.Millisecond), tc.leeway); err != nil {
				t.Fatalf("first rotation: %v", err)
			}
			loser := *rt
			loser.Hash = store.HashToken(randHex())
			_, err := s.RotateRefreshToken(ctx, rt.Hash, &loser, base, tc.leeway)
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("rotation with an earlier clock: got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDeleteExpiredConcurrent runs cleanups from several "instances" at
// once: together they remove every expired row exactly once, without
// errors, and leave live rows alone.
func TestDeleteExpiredConcurrent(t *testing.T) {
	s := openSchema(t)
	ctx := t.Context()
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	const expired, live = 300, 20
	for i := range expired + live {
		c := &store.AuthCode{Hash: store.HashToken(randHex()), ClientID: "c", UserID: "u",
			CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}
		if i >= expired {
			c.ExpiresAt = now.Add(time.Minute)
		}
		if err := s.CreateAuthCode(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	const cleaners = 6
	counts := make([]int, cleaners)
	errs := make([]error, cleaners)
	var wg sync.WaitGroup
	for i := range cleaners {
		wg.Go(func() {
			for {
				n, err := s.DeleteExpired(ctx, now, 25)
				if err != nil {
					errs[i] = err
					return
				}
				counts[i] += n
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range cleaners {
		if errs[i] != nil {
			t.Fatalf("cleaner %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	// A cleaner may stop while another still holds rows it skipped; one
	// last pass picks up anything left.
	n, err := s.DeleteExpired(ctx, now, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if total+n != expired {
		t.Errorf("cleaners removed %d rows, want %d", total+n, expired)
	}
	var left int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM auth_codes`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != live {
		t.Errorf("%d codes left, want the %d live ones", left, live)
	}
}

// FuzzLookups: whatever a client sends as an email, username, id or token,
// lookups answer a row or ErrNotFound, never a driver error.
func FuzzLookups(f *testing.F) {
	for _, seed := range []string{"", "a@example.com", "A@EXAMPLE.COM", "a\x00b", "\xff\xfe",
		"'; DROP TABLE users; --", "ü@例え.jp", strings.Repeat("x", 5000), "%_\\"} {
		f.Add(seed)
	}
	dsn := pgtest.Schema(f)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		f.Fatalf("Open: %v", err)
	}
	f.Cleanup(func() { _ = s.Close() })
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		ctx := t.Context()
		for name, err := range map[string]error{
			"GetUser":            second(s.GetUser(ctx, v)),
			"GetUserByEmail":     second(s.GetUserByEmail(ctx, "db", v)),
			"GetUserByUsername":  second(s.GetUserByUsername(ctx, "db", v)),
			"GetSessionByCookie": second(s.GetSessionByCookie(ctx, v, now)),
			"GetTransaction":     second(s.GetTransaction(ctx, v)),
			"ConsumeAuthCode":    second(s.ConsumeAuthCode(ctx, v, "g", now)),
			"GetAccessToken":     second(s.GetAccessToken(ctx, v, now)),
			"GetConsent":         second(s.GetConsent(ctx, v, v, v)),
		} {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s(%q): %v", name, v, err)
			}
		}
	})
}

// withParam adds one key=value parameter to a URL or keyword/value DSN.
func withParam(dsn, kv string) string {
	if strings.Contains(dsn, "://") {
		return dsn + "&" + kv
	}
	return dsn + " " + kv
}

func second[T any](_ T, err error) error { return err }

// randHex is 16 random bytes in hex.
func randHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
