// Package pgtest gives tests a private PostgreSQL schema: every call creates
// a new schema with a random name, returns a DSN whose search_path selects
// it, and drops it when the test ends. Test runs (and concurrent CI jobs on
// one server) therefore never see each other's rows.
//
// The server is named by LATCH_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it cannot
// be reached the test is skipped with the reason, unless
// LATCH_REQUIRE_POSTGRES=1 (set by .ci/run), which makes it fail instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables the package reads.
const (
	// EnvDSN names the PostgreSQL server and database tests use.
	EnvDSN = "LATCH_TEST_POSTGRES"
	// EnvRequire, set to 1, turns "PostgreSQL unreachable" from a skip
	// into a failure.
	EnvRequire = "LATCH_REQUIRE_POSTGRES"
	// DefaultDSN is used when EnvDSN is unset.
	DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	// SchemaPrefix starts the name of every schema the package creates.
	SchemaPrefix = "latch_test_"
)

// probeTimeout bounds the first connection attempt, so an unreachable
// server costs one short wait per test binary.
const probeTimeout = 5 * time.Second

var (
	probeOnce sync.Once
	probeErr  error
)

// BaseDSN is the DSN of the test database, without a schema.
func BaseDSN() string {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Schema creates a fresh schema and returns a DSN that selects it. It skips
// (or, with LATCH_REQUIRE_POSTGRES=1, fails) the test when PostgreSQL is
// unreachable. The schema and everything in it are dropped at cleanup, after
// cleanups registered later (such as closing a store) have run.
func Schema(t testing.TB) string {
	t.Helper()
	Require(t)
	name := SchemaPrefix + randomHex(8)
	if err := exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec(`DROP SCHEMA IF EXISTS ` + name + ` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return fast(WithSearchPath(BaseDSN(), name))
}

// fast turns off synchronous_commit for the test's connections: a commit
// then returns before its WAL reaches the disk. Atomicity and locking are
// unchanged; only durability across a server crash, which tests do not
// need, is given up, and row-lock races no longer queue behind fsyncs.
func fast(dsn string) string {
	if strings.Contains(dsn, "://") {
		return dsn + "&synchronous_commit=off"
	}
	return dsn + " synchronous_commit=off"
}

// Require skips or fails the test, as the environment says, when the test
// server cannot be reached.
func Require(t testing.TB) {
	t.Helper()
	probeOnce.Do(func() { probeErr = exec(`SELECT 1`) })
	if probeErr == nil {
		return
	}
	msg := fmt.Sprintf("PostgreSQL at %s is unreachable (%v); set %s to a reachable server",
		redacted(BaseDSN()), probeErr, EnvDSN)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s (%s=1 makes this a failure)", msg, EnvRequire)
	}
	t.Skip(msg)
}

// WithSearchPath returns dsn with its search_path set to schema, for URL
// and keyword/value DSNs alike. PostgreSQL takes search_path as a startup
// parameter, so every pooled connection works in the schema.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

// exec runs one statement on a short-lived connection to the test database.
func exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, BaseDSN())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redacted hides a password in a URL DSN.
func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(the configured server)"
}
