package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the driver latch's SQLite store uses

	"github.com/latch-auth/latch/internal/password"
)

// The growth check bulk-loads rows straight into latch's tables with one
// INSERT ... SELECT per batch. This is data, not a back door: it is what a
// long-running tenant's database holds, written far faster than the
// endpoints could. The columns are those of migration 0001 of each backend.

const seedBatch = 2_000_000

// seedIDExpr and friends name the seeded rows: user ids auth0|ffff + 20 hex
// digits never collide with latch's random ones in practice, and their
// emails are in a reserved domain.
const (
	sqliteUserID = `printf('auth0|ffff%%020x', %s)`
	pgUserID     = `'auth0|ffff' || lpad(to_hex(%s), 20, '0')`
)

// seedSQLite loads users, refresh tokens and opaque access tokens into the
// SQLite file at path (latch must be stopped).
func seedSQLite(ctx context.Context, path string, users, refresh, access int, pwHash string) error {
	// Bulk loading with the journal off, a large page cache and rows in key
	// order: seconds per million rows instead of minutes. journal_mode goes
	// back to WAL at the end (latch sets it too when it opens the file).
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(OFF)"+
		"&_pragma=synchronous(OFF)&_pragma=cache_size(-524288)&_pragma=temp_store(FILE)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	defer func() { _, _ = db.ExecContext(context.Background(), `PRAGMA journal_mode=WAL`) }()
	now := time.Now().UnixMilli()
	month := int64(30 * 24 * time.Hour / time.Millisecond)
	gen := func(from, to int) string {
		return fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT %d UNION ALL SELECT x + 1 FROM c WHERE x < %d) `, from, to)
	}
	uid := func(x string) string { return fmt.Sprintf(sqliteUserID, x) }
	for from := 1; from <= users; from += seedBatch {
		to := min(users, from+seedBatch-1)
		q := gen(from, to) + `INSERT INTO users (id, connection, email, email_norm, email_verified,
			password_hash, name, nickname, created_at, updated_at)
			SELECT ` + uid("x") + `, ?1, 'seed' || x || '@seed.invalid', 'seed' || x || '@seed.invalid', 1,
				?2, 'Seed User ' || x, 'seed' || x, ?3, ?3 FROM c`
		if _, err := db.ExecContext(ctx, q, connection, pwHash, now); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
	}
	n := max(users, 1)
	for from := 1; from <= refresh; from += seedBatch {
		to := min(refresh, from+seedBatch-1)
		// Families of 10 tokens, all rotated out but the last of each.
		q := gen(from, to) + fmt.Sprintf(`INSERT INTO refresh_tokens (hash, family_id, client_id, user_id,
			session_id, scope, audience, auth_time, created_at, idle_expires_at, family_expires_at,
			rotated_at, revoked_at)
			SELECT * FROM (SELECT lower(hex(randomblob(32))) AS h, 'seedfam' || (x / 10), ?1, %s, 'seedsess' || (x / 10),
				'openid profile email offline_access', ?2, ?3, ?3, ?4, ?4,
				CASE WHEN x %% 10 = 9 THEN NULL ELSE ?3 END, NULL FROM c) ORDER BY h`, uid(fmt.Sprintf("1 + x %% %d", n)))
		if _, err := db.ExecContext(ctx, q, spaClient, benchAPI, now, now+month); err != nil {
			return fmt.Errorf("seed refresh tokens: %w", err)
		}
	}
	for from := 1; from <= access; from += seedBatch {
		to := min(access, from+seedBatch-1)
		q := gen(from, to) + fmt.Sprintf(`INSERT INTO access_tokens (hash, grant_id, client_id, user_id,
			scope, created_at, expires_at, revoked_at)
			SELECT * FROM (SELECT lower(hex(randomblob(32))) AS h, 'seedfam' || (x / 10), ?1, %s,
				'openid profile email', ?2, ?3, NULL FROM c) ORDER BY h`,
			uid(fmt.Sprintf("1 + x %% %d", n)))
		if _, err := db.ExecContext(ctx, q, spaClient, now, now+month); err != nil {
			return fmt.Errorf("seed access tokens: %w", err)
		}
	}
	return nil
}

// seedPostgres is seedSQLite for PostgreSQL.
func seedPostgres(ctx context.Context, dsn string, users, refresh, access int, pwHash string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(context.Background()) }()
	uid := func(x string) string { return fmt.Sprintf(pgUserID, x) }
	salt := randomHex(8)
	for from := 1; from <= users; from += seedBatch {
		to := min(users, from+seedBatch-1)
		if _, err := c.Exec(ctx, `INSERT INTO users (id, connection, email, email_norm, email_verified,
			password_hash, name, nickname, created_at, updated_at)
			SELECT `+uid("x")+`, $1, 'seed' || x || '@seed.invalid', 'seed' || x || '@seed.invalid', true,
				$2, 'Seed User ' || x, 'seed' || x, now(), now() FROM generate_series($3::bigint, $4::bigint) x`,
			connection, pwHash, from, to); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
	}
	n := max(users, 1)
	for from := 1; from <= refresh; from += seedBatch {
		to := min(refresh, from+seedBatch-1)
		if _, err := c.Exec(ctx, `INSERT INTO refresh_tokens (hash, family_id, client_id, user_id,
			session_id, scope, audience, auth_time, created_at, idle_expires_at, family_expires_at,
			rotated_at, revoked_at)
			SELECT encode(sha256(('rt' || x || $5)::bytea), 'hex'), 'seedfam' || (x / 10), $1,
				`+uid(fmt.Sprintf("1 + x %% %d", n))+`, 'seedsess' || (x / 10),
				'openid profile email offline_access', $2, now(), now(),
				now() + interval '30 days', now() + interval '30 days',
				CASE WHEN x % 10 = 9 THEN NULL ELSE now() END, NULL
			FROM generate_series($3::bigint, $4::bigint) x`,
			spaClient, benchAPI, from, to, salt); err != nil {
			return fmt.Errorf("seed refresh tokens: %w", err)
		}
	}
	for from := 1; from <= access; from += seedBatch {
		to := min(access, from+seedBatch-1)
		if _, err := c.Exec(ctx, `INSERT INTO access_tokens (hash, grant_id, client_id, user_id,
			scope, created_at, expires_at, revoked_at)
			SELECT encode(sha256(('at' || x || $4)::bytea), 'hex'), 'seedfam' || (x / 10), $1,
				`+uid(fmt.Sprintf("1 + x %% %d", n))+`, 'openid profile email', now(),
				now() + interval '30 days', NULL
			FROM generate_series($2::bigint, $3::bigint) x`,
			spaClient, from, to, salt); err != nil {
			return fmt.Errorf("seed access tokens: %w", err)
		}
	}
	_, err = c.Exec(ctx, `ANALYZE`) // autovacuum would do it soon; do it now
	return err
}

// withSearchPath returns a postgres:// URL that selects schema.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("--database: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// createSchema makes a fresh schema for one run and returns the DSN that
// selects it, so runs never see each other's rows.
func createSchema(ctx context.Context, dsn, schema string) (string, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	if _, err := c.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", fmt.Errorf("create schema %s: %w", schema, err)
	}
	return withSearchPath(dsn, schema)
}

func dropSchema(ctx context.Context, dsn, schema string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(context.Background()) }()
	_, err = c.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
	return err
}

// runGrowth stops latch, bulk-loads the rows, starts it again and re-runs
// sel, comparing each p50 and rps with the run on the (nearly) empty
// database. Scenarios not run before seeding are run first.
func runGrowth(ctx context.Context, o options, srv *server, e *env, m *meter, sel []scenario, rep *report) (*growth, error) {
	empty := map[string]result{}
	for _, r := range rep.Scenarios {
		empty[r.Name] = r
	}
	for _, s := range sel {
		if _, ok := empty[s.name]; ok {
			continue
		}
		r, err := runScenario(ctx, srv, e, m, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		empty[s.name] = r
		rep.Scenarios = append(rep.Scenarios, r)
	}
	if err := srv.stop(); err != nil {
		return nil, err
	}
	access := o.seedTokens / 10
	logf("seeding %d users, %d refresh tokens, %d opaque access tokens", o.seedUsers, o.seedTokens, access)
	pw, err := password.New(password.DefaultParams, 1).Hash(ctx, "seeded-user-password")
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if path, ok := strings.CutPrefix(srv.database, "sqlite:"); ok {
		err = seedSQLite(ctx, path, o.seedUsers, o.seedTokens, access, pw)
	} else {
		err = seedPostgres(ctx, srv.database, o.seedUsers, o.seedTokens, access, pw)
	}
	if err != nil {
		return nil, err
	}
	g := &growth{SeededUsers: o.seedUsers, SeededTokens: o.seedTokens,
		SeedSeconds: round(time.Since(t0).Seconds(), 1),
		P50Ratio:    map[string]float64{}, RPSRatio: map[string]float64{}}
	logf("seeded in %.1f s; restarting latch", g.SeedSeconds)
	d, err := srv.start(ctx)
	if err != nil {
		return nil, err
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("cold start with the seeded database: %.1f ms", ms(d)))
	for _, s := range sel {
		r, err := runScenario(ctx, srv, e, m, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		g.Scenarios = append(g.Scenarios, r)
		if b := empty[s.name]; b.P50ms > 0 && b.RPS > 0 {
			g.P50Ratio[s.name] = round(r.P50ms/b.P50ms, 3)
			g.RPSRatio[s.name] = round(r.RPS/b.RPS, 3)
		}
	}
	return g, nil
}
