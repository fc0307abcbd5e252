package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through Load and Finalize: neither may
// panic, a finalized config must keep its invariants, and Finalize must be
// idempotent.
func FuzzLoad(f *testing.F) {
	if spec, err := os.ReadFile("testdata/spec.yaml"); err == nil {
		f.Add(spec)
	}
	for _, seed := range []string{
		"",
		"listen: :1\n",
		"issuer: https://*.com/?x#y\nlisten: '[::]:0'\ndatabase: x.db\n",
		"lifetimes: { code: 0x10, session_idle: 9999999h, session_max: -1 }\n",
		"clients: [{client_id: a, type: native, client_secret: \"env:S\", callbacks: [\"app:/cb\", \"https://*.*.x/\"]}]\n",
		"clients: [{client_id: a, type: m2m, grant_types: [], apis: [b]}, {client_id: a}]\napis: [{identifier: b, scopes: [\"a b\", \"\"]}]\n",
		"connections: [{name: ''}, {name: x, type: y, password_min_length: -1}]\n",
		"a: &a [*a, *a]\n",
		"trusted_proxies: [1.2.3.4/99, '::1']\nweb_origins: x\n",
	} {
		f.Add([]byte(seed))
	}
	getenv := func(k string) string {
		if k == "S" {
			return "secret"
		}
		return ""
	}
	// One file per process: inputs run one at a time, and a fresh TempDir
	// per input would make file-system work dominate the exec rate.
	path := filepath.Join(f.TempDir(), "latch.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, getenv)
		if err != nil {
			return
		}
		err1 := cfg.Finalize()
		if !strings.HasSuffix(cfg.Issuer, "/") {
			t.Errorf("issuer %q lacks trailing slash", cfg.Issuer)
		}
		for i, cl := range cfg.Clients {
			if cl.ClientSecret != "" && !strings.HasPrefix(cl.ClientSecret, envSecretPrefix) {
				t.Errorf("clients[%d]: raw secret kept after Finalize", i)
			}
			if cfg.Client(cl.ClientID) == nil {
				t.Errorf("clients[%d]: %q not indexed", i, cl.ClientID)
			}
		}
		err2 := cfg.Finalize()
		if errString(err1) != errString(err2) {
			t.Errorf("Finalize not idempotent:\nfirst:  %v\nsecond: %v", err1, err2)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
