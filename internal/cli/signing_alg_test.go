package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const algAPIs = `apis:
  - { identifier: "https://es.example.com/", signing_alg: ES256 }
clients:
  - { client_id: worker, type: m2m, client_secret: worker-secret, apis: ["https://es.example.com/"] }
`

func TestKeysPerAlgorithm(t *testing.T) {
	cfg, env := tenant(t)
	if err := os.WriteFile(cfg, []byte("database: sqlite:./t.db\n"+algAPIs), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // substrings of stdout (or stderr on failure)
		avoid    []string
	}{
		{"rotate every algorithm in use", []string{"keys", "rotate"}, 0,
			[]string{": RS256, published now", ": ES256, published now"}, []string{"EdDSA"}},
		{"rotate one algorithm", []string{"keys", "rotate", "--alg", "ES256"}, 0,
			[]string{": ES256, published now"}, []string{"RS256"}},
		{"rotate an algorithm without a key", []string{"keys", "rotate", "--alg", "EdDSA"}, 1,
			[]string{"no EdDSA key to rotate"}, nil},
		{"rotate HS256", []string{"keys", "rotate", "--alg", "HS256"}, 2,
			[]string{"--alg takes RS256, ES256 or EdDSA"}, nil},
		{"--alg with list", []string{"keys", "list", "--alg", "ES256"}, 2,
			[]string{"--alg takes"}, nil},
		{"list shows the algorithm", []string{"keys", "list"}, 0,
			[]string{"ALG", " RS256  current", " ES256  current", " ES256  next"}, []string{"EdDSA"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", env, append(s.args, "--config", cfg)...)
			if code != s.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, s.wantCode, out, errOut)
			}
			text := out + errOut
			for _, w := range s.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			for _, a := range s.avoid {
				if strings.Contains(text, a) {
					t.Errorf("output has %q:\n%s", a, text)
				}
			}
		})
	}
	// Two ES256 rotations: one current and two next keys; RS256 one next.
	out, _, _ := runCLI(t, "", env, "keys", "list", "--config", cfg)
	if n := strings.Count(out, " ES256  next"); n != 2 {
		t.Errorf("%d next ES256 keys, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, " RS256  next"); n != 1 {
		t.Errorf("%d next RS256 keys, want 1:\n%s", n, out)
	}
}

// TestServeReloadAddsSigningAlg: an API with a new signing_alg added by
// SIGHUP has its key in the JWKS as soon as the reload is done, before any
// token asked for it, and its tokens use it.
func TestServeReloadAddsSigningAlg(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "listen: " + addr + "\ndatabase: sqlite:./s.db\n"
	cfg := writeConfig(t, dir, base)
	p := startLatch(t, []string{"LATCH_SECRET=0123456789abcdef0123456789abcdef"}, "http://"+addr+"/readyz", "serve", "--config", cfg)

	jwks := func() map[string]string { // alg -> kid
		var set struct {
			Keys []struct{ Kid, Alg, Kty, Crv, Use string } `json:"keys"`
		}
		getJSON(t, "http://"+addr+"/.well-known/jwks.json", &set)
		out := map[string]string{}
		for i, k := range set.Keys {
			if k.Use != "sig" || (k.Alg == "ES256") != (k.Kty == "EC" && k.Crv == "P-256") || (i == 0) != (k.Alg == "RS256") {
				t.Fatalf("JWKS key %d: %+v", i, k)
			}
			out[k.Alg] = k.Kid
		}
		return out
	}
	if got := jwks(); len(got) != 1 || got["RS256"] == "" {
		t.Fatalf("JWKS before reload = %v, want one RS256 key", got)
	}

	writeConfig(t, dir, base+algAPIs)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "configuration reloaded") }, p)
	got := jwks()
	if len(got) != 2 || got["ES256"] == "" {
		t.Fatalf("JWKS right after reload = %v, want RS256 and ES256 keys", got)
	}

	res, err := http.PostForm("http://"+addr+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"worker"}, "client_secret": {"worker-secret"},
		"audience": {"https://es.example.com/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", res.StatusCode, body)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.AccessToken, ".")[0])
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(raw, &h); err != nil || h.Alg != "ES256" || h.Kid != got["ES256"] {
		t.Fatalf("token header %s, want ES256 with kid %s", raw, got["ES256"])
	}
	if _, err := os.Stat(filepath.Join(dir, "s.db")); err != nil {
		t.Fatal(err)
	}
}
