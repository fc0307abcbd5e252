package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latch-auth/latch/internal/cli"
)

// runCLI runs latch in-process.
func runCLI(t *testing.T, stdin string, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := cli.Run(context.Background(), append([]string{"latch"}, args...), cli.Env{
		Getenv: getenv, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
	})
	return out.String(), errb.String(), code
}

func tenant(t *testing.T) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "latch.yaml")
	if err := os.WriteFile(cfg, []byte("database: sqlite:./t.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, map[string]string{"LATCH_SECRET": "0123456789abcdef0123456789abcdef"}
}

func TestUsersCreateThenGet(t *testing.T) {
	cfg, env := tenant(t)
	out, errOut, code := runCLI(t, "correct horse battery\n", env,
		"users", "create", "--config", cfg, "--email", "Ann@Example.com", "--password-stdin", "--name", "Ann Smith", "--username", "ann")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if !strings.HasPrefix(id, "auth0|") || len(id) != len("auth0|")+24 {
		t.Fatalf("create printed %q, want auth0|<24 hex>", id)
	}
	for _, ref := range []string{"ann@example.com", id} {
		out, errOut, code = runCLI(t, "", env, "--config", cfg, "users", "get", ref)
		if code != 0 {
			t.Fatalf("get %s: %d %s", ref, code, errOut)
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("get printed non-JSON: %v\n%s", err, out)
		}
		if p["user_id"] != id || p["email"] != "Ann@Example.com" || p["name"] != "Ann Smith" || p["username"] != "ann" {
			t.Fatalf("get %s = %v", ref, p)
		}
		if _, ok := p["password_hash"]; ok || strings.Contains(out, "argon2") {
			t.Fatalf("get leaks the password hash: %s", out)
		}
	}
	out, _, code = runCLI(t, "", env, "users", "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, id) {
		t.Fatalf("list: %d %s", code, out)
	}
	_, errOut, code = runCLI(t, "another good password\n", env, "users", "set-password", id, "--config", cfg, "--password-stdin")
	if code != 0 {
		t.Fatalf("set-password: %d %s", code, errOut)
	}
	for _, verb := range []string{"block", "unblock", "delete"} {
		if _, errOut, code = runCLI(t, "", env, "users", verb, id, "--config", cfg); code != 0 {
			t.Fatalf("%s: %d %s", verb, code, errOut)
		}
	}
	if _, errOut, code = runCLI(t, "", env, "users", "get", id, "--config", cfg); code == 0 || !strings.Contains(errOut, "no user") {
		t.Fatalf("get after delete: %d %s", code, errOut)
	}
}

func TestUsersBadInput(t *testing.T) {
	cfg, env := tenant(t)
	if _, errOut, code := runCLI(t, "first password ok\n", env, "users", "create", "--config", cfg, "--email", "a@b.example", "--password-stdin"); code != 0 {
		t.Fatalf("setup: %s", errOut)
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate email", "some password 1\n", []string{"users", "create", "--email", "A@B.example", "--password-stdin"}, "already exists"},
		{"empty password", "\n", []string{"users", "create", "--email", "c@b.example", "--password-stdin"}, "password"},
		{"weak password", "short\n", []string{"users", "create", "--email", "c@b.example", "--password-stdin"}, "password refused"},
		{"bad email", "some password 1\n", []string{"users", "create", "--email", "not-an-email", "--password-stdin"}, "not a valid email"},
		{"no email", "x\n", []string{"users", "create", "--password-stdin"}, "--email is required"},
		{"password in argv refused", "", []string{"users", "create", "--email", "d@b.example", "--password", "x"}, "flag provided but not defined"},
		{"no password source", "", []string{"users", "create", "--email", "d@b.example"}, "--password-stdin"},
		{"unknown user get", "", []string{"users", "get", "nobody@b.example"}, "no user"},
		{"unknown user delete", "", []string{"users", "delete", "auth0|000000000000000000000000"}, "no user"},
		{"unknown user set-password", "good password 1\n", []string{"users", "set-password", "nobody@b.example", "--password-stdin"}, "no user"},
		{"missing ref", "", []string{"users", "get"}, "missing EMAIL"},
		{"unknown subcommand", "", []string{"users", "frobnicate"}, "unknown users command"},
		{"unknown command", "", []string{"frobnicate"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--config", cfg)
			if tc.args[0] == "frobnicate" {
				args = tc.args
			}
			_, errOut, code := runCLI(t, tc.stdin, env, args...)
			if code == 0 {
				t.Fatalf("exit 0, want failure")
			}
			if !strings.Contains(errOut, tc.want) {
				t.Fatalf("stderr %q, want it to contain %q", errOut, tc.want)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Fatalf("stack trace in output: %s", errOut)
			}
		})
	}
}

func TestCheckConfigNamesEveryBadField(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "latch.yaml")
	bad := `issuer: "htp:/x"
clients:
  - { client_id: a, type: spa, callbacks: ["htp:/x"] }
  - { client_id: a, type: spa }
  - { client_id: b, type: frobnicator }
`
	if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "", nil, "check-config", "--config", cfg)
	if code == 0 {
		t.Fatal("check-config accepted a broken file")
	}
	for _, want := range []string{"issuer", "clients[0].callbacks[0]", "clients[1].client_id", "clients[2].type"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output does not name %s:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "goroutine ") {
		t.Fatalf("stack trace: %s", errOut)
	}

	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("listen: localhost:1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "", nil, "check-config", "--config", good)
	if code != 0 || !strings.Contains(out, "http://localhost:1000/") {
		t.Fatalf("good config: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "", nil, "check-config", "--config", filepath.Join(dir, "missing.yaml")); code == 0 || !strings.Contains(errOut, "not found") {
		t.Fatalf("missing config: %d %s", code, errOut)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range []string{"dev", "serve", "users", "keys", "migrate", "check-config", "version"} {
		t.Run(c, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", nil, c, "--help")
			if code != 0 || !strings.Contains(out+errOut, "Usage: latch "+c) {
				t.Fatalf("%s --help: %d\n%s%s", c, code, out, errOut)
			}
		})
	}
	out, _, code := runCLI(t, "", nil, "version")
	if code != 0 || !strings.HasPrefix(out, "latch ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestKeysRotateAndList(t *testing.T) {
	cfg, env := tenant(t)
	out, errOut, code := runCLI(t, "", env, "keys", "rotate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "new key") {
		t.Fatalf("rotate: %d %s %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "", env, "keys", "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, "current") || !strings.Contains(out, "next") {
		t.Fatalf("list: %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = runCLI(t, "", map[string]string{"LATCH_SECRET": "ffffffffffffffffffffffffffffffff"}, "keys", "rotate", "--config", cfg); code == 0 || !strings.Contains(errOut, "decrypt") {
		t.Fatalf("rotate with wrong secret: %d %s", code, errOut)
	}
}

func TestUsersImportKeepsIDsAndBcrypt(t *testing.T) {
	cfg, env := tenant(t)
	// Two importable bcrypt records (cost 10) and one with a hash latch cannot verify.
	lines := `{"_id":{"$oid":"5f1a2b3c4d5e6f7a8b9c0d1e"},"email":"imp@example.com","email_verified":true,"passwordHash":"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy","connection":"Username-Password-Authentication"}
{"user_id":"auth0|abcdefabcdefabcdefabcdef","email":"two@example.com","password_hash":"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}
{"email":"bad@example.com","passwordHash":"md5:xyz"}
`
	out, errOut, code := runCLI(t, lines, env, "users", "import", "-", "--config", cfg)
	if code == 0 || !strings.Contains(out, "imported 2 user(s), 1 failed") || !strings.Contains(errOut, "record 3") {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	for _, id := range []string{"auth0|5f1a2b3c4d5e6f7a8b9c0d1e", "auth0|abcdefabcdefabcdefabcdef"} {
		if out, errOut, code := runCLI(t, "", env, "users", "get", id, "--config", cfg); code != 0 {
			t.Fatalf("get %s: %s %s", id, out, errOut)
		}
	}
}
