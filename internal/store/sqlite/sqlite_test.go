package sqlite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/storetest"
)

func openTemp(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance gives every subtest its own database file. Running the
// migrations is the slow part of Open under -race, so each file is a copy of
// one freshly migrated template (Open then finds nothing to migrate).
func TestConformance(t *testing.T) {
	template := filepath.Join(t.TempDir(), "template.db")
	s, err := Open(t.Context(), template)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil { // checkpoints the WAL into the file
		t.Fatalf("Close: %v", err)
	}
	body, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "latch.db")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		return openTemp(t, path)
	})
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	ctx := t.Context()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := &store.User{ID: "auth0|000000000000000000000001", Connection: "db", Email: "a@example.com",
		CreatedAt: time.UnixMilli(1_700_000_000_123).UTC()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	var appliedAt int64
	if err := s.read.QueryRowContext(ctx,
		`SELECT max(applied_at) FROM schema_migrations`).Scan(&appliedAt); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openTemp(t, "sqlite:"+path)
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
	var count int
	var again int64
	if err := s.read.QueryRowContext(ctx, `SELECT count(*), max(applied_at) FROM schema_migrations`).
		Scan(&count, &again); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if ms, _ := loadMigrations(); count != len(ms) || again != appliedAt {
		t.Errorf("schema_migrations has %d rows applied at %d, want %d applied at %d",
			count, again, len(ms), appliedAt)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "does-not-exist")
	for _, dsn := range []string{
		filepath.Join(dir, "latch.db"),
		"sqlite:" + filepath.Join(dir, "latch.db"),
		"file:" + filepath.Join(dir, "latch.db") + "?cache=private",
	} {
		t.Run(dsn, func(t *testing.T) {
			s, err := Open(t.Context(), dsn)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("error %q does not name the missing directory %q", err, dir)
			}
			if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
				t.Errorf("Open created %s", dir)
			}
		})
	}
}

func TestOpenDSNForms(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, dsn string }{
		{"Path", filepath.Join(dir, "a.db")},
		{"SqlitePrefix", "sqlite:" + filepath.Join(dir, "b.db")},
		{"SqliteURL", "sqlite://" + filepath.Join(dir, "c.db")},
		{"FileURI", "file:" + filepath.Join(dir, "d.db") + "?cache=private"},
		{"FileURIWithHost", "file://" + filepath.Join(dir, "e.db")},
		{"Memory", ":memory:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t, tc.dsn)
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			var mode string
			if err := s.write.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if tc.name != "Memory" && !strings.EqualFold(mode, "wal") {
				t.Errorf("journal_mode = %q, want wal", mode)
			}
			var fk int
			if err := s.read.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
				t.Errorf("foreign_keys = %d (err %v), want 1", fk, err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "d.db")); err != nil {
		t.Errorf("file: URI did not create its file: %v", err)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "latch.db"))
	if _, err := s.read.ExecContext(t.Context(), `DELETE FROM users`); err == nil {
		t.Fatal("read pool accepted a write")
	}
}
