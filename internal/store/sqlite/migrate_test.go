package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// TestMigration0003KeepsRows builds a database at schema version 2 with
// users and access tokens in it, opens it (which applies 0003, rebuilding
// both tables WITHOUT ROWID) and checks that every row, index and
// constraint came through.
func TestMigration0003KeepsRows(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v2.db")
	loc, err := parseDSN(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", loc.dsn(true))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	steps := []string{`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY,
		name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`}
	for _, m := range ms[:2] {
		steps = append(steps, m.SQL)
	}
	steps = append(steps,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0), (2, '0002_bruteforce.sql', 0)`,
		`INSERT INTO users (id, connection, email, email_norm, email_verified, username, username_norm,
			password_hash, name, nickname, picture, given_name, family_name, locale, user_metadata,
			app_metadata, blocked, created_at, updated_at, logins_count, last_login, last_ip) VALUES
			('auth0|a', 'db', 'Ann@Example.com', 'ann@example.com', 1, 'Ann', 'ann', '$argon2id$x', 'Ann A',
			 'ann', 'https://p/a.png', 'Ann', 'A', 'en', '{"k":[1,2]}', '{"plan":"pro"}', 0, 1000, 2000, 7, 3000, '192.0.2.1'),
			('auth0|b', 'db', 'bob@example.com', 'bob@example.com', 0, '', '', '', '', '', '', '', '', '',
			 '{}', '{}', 1, 1000, 1000, 0, NULL, '')`,
		`INSERT INTO access_tokens VALUES
			('h-live', 'g1', 'spa', 'auth0|a', 'openid profile', 1000, `+itoa(base.Add(time.Hour).UnixMilli())+`, NULL),
			('h-revoked', 'g2', 'spa', 'auth0|a', 'openid', 1000, `+itoa(base.Add(time.Hour).UnixMilli())+`, 1500),
			('h-expired', 'g3', 'spa', 'auth0|b', 'openid', 1000, `+itoa(base.Add(-time.Hour).UnixMilli())+`, NULL)`)
	for _, q := range steps {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTemp(t, path)
	for _, table := range []string{"users", "access_tokens"} {
		var ddl string
		if err := s.read.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&ddl); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if !strings.Contains(ddl, "WITHOUT ROWID") {
			t.Errorf("%s is not WITHOUT ROWID after 0003:\n%s", table, ddl)
		}
	}
	a, err := s.GetUser(ctx, "auth0|a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Email != "Ann@Example.com" || a.Username != "Ann" || a.LoginsCount != 7 || a.LastIP != "192.0.2.1" ||
		!a.LastLogin.Equal(time.UnixMilli(3000)) || string(a.UserMetadata) != `{"k":[1,2]}` || !a.EmailVerified {
		t.Errorf("user a after 0003 = %+v", a)
	}
	if b, err := s.GetUserByEmail(ctx, "db", "BOB@example.com"); err != nil || !b.Blocked || !b.LastLogin.IsZero() {
		t.Errorf("user b after 0003 = %+v, %v", b, err)
	}
	dup := &store.User{ID: "auth0|c", Connection: "db", Email: "ANN@example.com"}
	if err := s.CreateUser(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate email after 0003: %v, want ErrConflict", err)
	}
	tests := []struct {
		hash string
		want error
	}{
		{"h-live", nil},
		{"h-revoked", store.ErrNotFound},
		{"h-expired", store.ErrNotFound},
	}
	for _, tc := range tests {
		_, us, err := s.GetAccessTokenUser(ctx, tc.hash, base, 10)
		if !errors.Is(err, tc.want) || (err == nil && us.User.ID != "auth0|a") {
			t.Errorf("GetAccessTokenUser(%s) = %v, %v; want %v", tc.hash, us, err, tc.want)
		}
	}
	// DeleteExpired picks access tokens by hash now that they have no rowid.
	n, err := s.DeleteExpired(ctx, base, 100)
	if err != nil || n != 2 {
		t.Errorf("DeleteExpired = %d, %v; want the revoked and the expired token", n, err)
	}
	if _, err := s.GetAccessToken(ctx, "h-live", base); err != nil {
		t.Errorf("live token after DeleteExpired: %v", err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
