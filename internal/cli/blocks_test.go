package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store/sqlite"
)

// TestUsersBruteForceBlocks: `users get` shows brute-force blocks in
// blocked_for; `users unblock` and `users set-password` lift them.
func TestUsersBruteForceBlocks(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		flags []string
	}{
		{"unblock", "", nil},
		{"set-password", "a fresh password 42\n", []string{"--password-stdin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, env := tenant(t)
			out, errOut, code := runCLI(t, "correct horse battery\n", env,
				"users", "create", "--config", cfg, "--email", "bf@example.com", "--password-stdin")
			if code != 0 {
				t.Fatalf("create: %d %s", code, errOut)
			}
			id := strings.TrimSpace(out)
			block(t, filepath.Join(filepath.Dir(cfg), "t.db"), id, "192.0.2.1", 10)
			block(t, filepath.Join(filepath.Dir(cfg), "t.db"), id, "192.0.2.2", 9) // not yet blocked

			want := `[{"identifier":"bf@example.com","ip":"192.0.2.1","connection":"Username-Password-Authentication"}]`
			if got := blockedFor(t, cfg, env, id); got != want {
				t.Fatalf("blocked_for = %s, want %s", got, want)
			}
			args := append([]string{"users", tt.name, id, "--config", cfg}, tt.flags...)
			if _, errOut, code := runCLI(t, tt.stdin, env, args...); code != 0 {
				t.Fatalf("%s: %d %s", tt.name, code, errOut)
			}
			if got := blockedFor(t, cfg, env, id); got != "[]" {
				t.Fatalf("blocked_for after %s = %s, want []", tt.name, got)
			}
		})
	}
}

// block records n failed logins for userID from ip, as the login page does.
func block(t *testing.T, dbPath, userID, ip string, n int) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for range n {
		if _, err := st.RecordLoginFailure(context.Background(), userID, ip, now, now.Add(30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}

func blockedFor(t *testing.T, cfg string, env map[string]string, id string) string {
	t.Helper()
	out, errOut, code := runCLI(t, "", env, "users", "get", id, "--config", cfg)
	if code != 0 {
		t.Fatalf("get: %d %s", code, errOut)
	}
	var p struct {
		BlockedFor json.RawMessage `json:"blocked_for"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("get printed non-JSON: %v\n%s", err, out)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, p.BlockedFor); err != nil {
		t.Fatalf("blocked_for %q: %v", p.BlockedFor, err)
	}
	return compact.String()
}
