package keys

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMasterSecretCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.secret")
	got, err := MasterSecret("", path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("secret file mode = %04o, want 0600", perm)
	}
	if raw, err := hex.DecodeString(string(got)); err != nil || len(raw) != 32 {
		t.Fatalf("created secret %q: want 32 hex-encoded bytes", got)
	}
	again, err := MasterSecret("", path, true)
	if err != nil || string(again) != string(got) {
		t.Fatalf("second call = %q, %v; want the same secret", again, err)
	}
	// Without create, an existing file is read as well.
	if s, err := MasterSecret("", path, false); err != nil || string(s) != string(got) {
		t.Fatalf("read existing = %q, %v", s, err)
	}
}

func TestMasterSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // beat the umask
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "  0123456789abcdef0123\n", 0o600)
	short := write("short", "tooshort\n", 0o600)
	open := write("open", "0123456789abcdef0123", 0o644)
	group := write("group", "0123456789abcdef0123", 0o640)
	empty := write("empty", "\n", 0o600)

	tests := []struct {
		name, secret, path string
		create             bool
		want, wantErr      string
	}{
		{name: "env wins over file", secret: "env-secret-0123456789", path: good, want: "env-secret-0123456789"},
		{name: "env trimmed", secret: " env-secret-0123456789\n", want: "env-secret-0123456789"},
		{name: "env too short", secret: "short", path: good, wantErr: "too short"},
		{name: "file trimmed", path: good, want: "0123456789abcdef0123"},
		{name: "file too short", path: short, wantErr: "too short"},
		{name: "file empty", path: empty, wantErr: "too short"},
		{name: "world readable", path: open, wantErr: "chmod 600"},
		{name: "group readable", path: group, wantErr: "chmod 600"},
		{name: "missing no create", path: filepath.Join(dir, "nope"), wantErr: "no master secret: set LATCH_SECRET or secret_file ("},
		{name: "no path no env", wantErr: "no master secret"},
		{name: "missing directory", path: filepath.Join(dir, "no", "such", "dir", "s"), create: true, wantErr: "does not exist"},
		{name: "path is a directory", path: dir, wantErr: "directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MasterSecret(tt.secret, tt.path, tt.create)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("MasterSecret = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !os.IsNotExist(err) {
		t.Fatal("create=false created the file")
	}
}
