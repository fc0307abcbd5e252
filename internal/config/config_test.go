package config

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a getenv backed by a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeYAML writes body to a temporary latch.yaml and returns its path.
func writeYAML(t testing.TB, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "latch.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadFinal loads body with environment m and finalizes it.
func loadFinal(t *testing.T, body string, m map[string]string) (*Config, error) {
	t.Helper()
	cfg, err := Load(writeYAML(t, body), env(m))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg, cfg.Finalize()
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error is %T, want *ValidationError: %v", err, err)
	}
	return ve.Problems
}

func TestDefaults(t *testing.T) {
	cfg := Default()
	if err := cfg.Finalize(); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", cfg.Listen, "localhost:1000"},
		{"issuer", cfg.Issuer, "http://localhost:1000/"},
		{"database", cfg.Database, "sqlite:./latch.db"},
		{"secret_file", cfg.SecretFile, "latch.secret"},
		{"log_level", cfg.LogLevel, "info"},
		{"tenant.name", cfg.Tenant.Name, "latch"},
		{"tenant.primary_color", cfg.Tenant.PrimaryColor, "#635bff"},
		{"id_token", cfg.Lifetimes.IDToken.D(), 36000 * time.Second},
		{"access_token", cfg.Lifetimes.AccessToken.D(), 86400 * time.Second},
		{"code", cfg.Lifetimes.Code.D(), 60 * time.Second},
		{"transaction", cfg.Lifetimes.Transaction.D(), 10 * time.Minute},
		{"session_idle", cfg.Lifetimes.SessionIdle.D(), 72 * time.Hour},
		{"session_max", cfg.Lifetimes.SessionMax.D(), 168 * time.Hour},
		{"refresh_idle", cfg.Lifetimes.RefreshIdle.D(), 720 * time.Hour},
		{"refresh_max", cfg.Lifetimes.RefreshMax.D(), 720 * time.Hour},
		{"refresh_reuse_leeway", cfg.Lifetimes.RefreshReuseLeeway.D(), time.Duration(0)},
		{"rotation_delay", cfg.Keys.RotationDelay.D(), time.Hour},
		{"refresh_interval", cfg.Keys.RefreshInterval.D(), 30 * time.Second},
		{"login_per_minute", cfg.RateLimits.LoginPerMinute, 300},
		{"token_per_minute", cfg.RateLimits.TokenPerMinute, 1200},
		{"token_per_client_per_minute", cfg.RateLimits.TokenPerClientPerMinute, 6000},
		{"requests_per_minute", cfg.RateLimits.RequestsPerMinute, 3000},
		{"brute_force_threshold", cfg.RateLimits.BruteForceThreshold, 10},
		{"suspicious_ip_failures", cfg.RateLimits.SuspiciousIPFailures, 100},
		{"connections", len(cfg.Connections), 1},
		{"connection name", cfg.Connections[0].Name, DefaultConnection},
		{"connection type", cfg.Connections[0].Type, "database"},
		{"connection signup", cfg.Connections[0].SignupEnabled(), true},
		{"password_min_length", cfg.Connections[0].PasswordMinLength, 8},
		{"tls", cfg.TLS(), false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if cfg.Connection(DefaultConnection) == nil {
		t.Error("default connection not indexed")
	}
}

func TestSpecExample(t *testing.T) {
	cfg, err := Load("testdata/spec.yaml", env(map[string]string{"WORKER_SECRET": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	if cfg.Path != "testdata/spec.yaml" {
		t.Errorf("Path = %q", cfg.Path)
	}
	spa := cfg.Client("my-spa")
	if spa == nil || spa.Name != "My SPA" || !spa.IsPublic() || spa.SecretHash != nil {
		t.Fatalf("my-spa = %+v", spa)
	}
	w := cfg.Client("my-api-worker")
	sum := sha256.Sum256([]byte("s3cret"))
	if w == nil || w.ClientSecret != "" || !reflect.DeepEqual(w.SecretHash, sum[:]) {
		t.Fatalf("my-api-worker = %+v", w)
	}
	if w.Name != "my-api-worker" {
		t.Errorf("m2m name = %q, want client_id", w.Name)
	}
	api := cfg.API("https://api.example.com/")
	if api == nil || !api.AllowOfflineAccess || api.TokenLifetime.D() != 24*time.Hour {
		t.Fatalf("api = %+v", api)
	}
	if cfg.Tenant.Name != "Acme" {
		t.Errorf("tenant.name = %q", cfg.Tenant.Name)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), env(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadNoFile(t *testing.T) {
	cfg, err := Load("", env(map[string]string{"LATCH_LISTEN": "127.0.0.1:9000"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	if cfg.Path != "" || cfg.Issuer != "http://127.0.0.1:9000/" {
		t.Errorf("Path %q, Issuer %q", cfg.Path, cfg.Issuer)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       []string
	}{
		{"unknown top-level key", "listen: :1\nfoo: 1\n", nil, []string{"line 2", `unknown key "foo"`}},
		{"unknown nested key", "clients:\n  - client_id: a\n    secret: x\n", nil, []string{"line 3", `unknown key "secret"`}},
		{"secret is never read from YAML", "secret: abc\n", nil, []string{`unknown key "secret"`}},
		{"negative duration", "lifetimes:\n  code: -5s\n", nil, []string{"line 2", "negative"}},
		{"negative seconds", "lifetimes:\n  code: -5\n", nil, []string{"line 2", "negative"}},
		{"bad duration", "lifetimes:\n  code: soon\n", nil, []string{"line 2", `"soon"`}},
		{"float duration", "lifetimes:\n  code: 1.5\n", nil, []string{"line 2", "invalid duration"}},
		{"list as duration", "lifetimes:\n  code: [1]\n", nil, []string{"line 2"}},
		{"wrong type", "listen: [a]\n", nil, []string{"line 1"}},
		{"two documents", "listen: :1\n---\nlisten: :2\n", nil, []string{"more than one YAML document"}},
		{"bad yaml", "listen: [\n", nil, []string{"yaml"}},
		{"bad LATCH_OIDC_STRICT", "", map[string]string{"LATCH_OIDC_STRICT": "maybe"}, []string{"LATCH_OIDC_STRICT", `"maybe"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeYAML(t, tt.yaml), env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadEmptyFile(t *testing.T) {
	for _, body := range []string{"", "# only a comment\n", "---\n", "~\n"} {
		cfg, err := Load(writeYAML(t, body), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if err := cfg.Finalize(); err != nil {
			t.Fatalf("%q: Finalize: %v", body, err)
		}
	}
}

func TestEnvOverridesFile(t *testing.T) {
	file := `
issuer: https://file.example.com/
listen: file:1
database: sqlite:file.db
secret_file: file.secret
tls_cert: file.crt
tls_key: file.key
oidc_strict: true
log_level: debug
`
	tests := []struct {
		name  string
		env   map[string]string
		field func(*Config) any
		want  any
	}{
		{"issuer", map[string]string{"LATCH_ISSUER": "https://env.example.com/"}, func(c *Config) any { return c.Issuer }, "https://env.example.com/"},
		{"listen", map[string]string{"LATCH_LISTEN": "env:2"}, func(c *Config) any { return c.Listen }, "env:2"},
		{"database", map[string]string{"LATCH_DATABASE": "sqlite:env.db"}, func(c *Config) any { return c.Database }, "sqlite:env.db"},
		{"database url wins", map[string]string{"LATCH_DATABASE": "sqlite:env.db", "LATCH_DATABASE_URL": "postgres://h/db"}, func(c *Config) any { return c.Database }, "postgres://h/db"},
		{"secret", map[string]string{"LATCH_SECRET": "k"}, func(c *Config) any { return c.Secret }, "k"},
		{"secret file", map[string]string{"LATCH_SECRET_FILE": "env.secret"}, func(c *Config) any { return c.SecretFile }, "env.secret"},
		{"tls cert", map[string]string{"LATCH_TLS_CERT": "env.crt"}, func(c *Config) any { return c.TLSCert }, "env.crt"},
		{"tls key", map[string]string{"LATCH_TLS_KEY": "env.key"}, func(c *Config) any { return c.TLSKey }, "env.key"},
		{"oidc strict false", map[string]string{"LATCH_OIDC_STRICT": "false"}, func(c *Config) any { return c.OIDCStrict }, false},
		{"oidc strict 0", map[string]string{"LATCH_OIDC_STRICT": "0"}, func(c *Config) any { return c.OIDCStrict }, false},
		{"log level", map[string]string{"LATCH_LOG_LEVEL": "warn"}, func(c *Config) any { return c.LogLevel }, "warn"},
		{"empty env is unset", map[string]string{"LATCH_LISTEN": ""}, func(c *Config) any { return c.Listen }, "file:1"},
		{"file kept without env", nil, func(c *Config) any { return c.OIDCStrict }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(writeYAML(t, file), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.field(cfg); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("oidc strict 1 over file false", func(t *testing.T) {
		cfg, err := Load(writeYAML(t, "oidc_strict: false\n"), env(map[string]string{"LATCH_OIDC_STRICT": "1"}))
		if err != nil || !cfg.OIDCStrict {
			t.Fatalf("OIDCStrict = %v, err %v", cfg != nil && cfg.OIDCStrict, err)
		}
	})
}

func TestServerDefaults(t *testing.T) {
	tests := []struct {
		name                         string
		cfg                          Config
		issuer, database, secretFile string
	}{
		{"issuer from listen", Config{Listen: "127.0.0.1:8080"}, "http://127.0.0.1:8080/", "sqlite:./latch.db", "latch.secret"},
		{"wildcard listen", Config{Listen: ":8080"}, "http://localhost:8080/", "sqlite:./latch.db", "latch.secret"},
		{"unspecified listen", Config{Listen: "0.0.0.0:8080"}, "http://localhost:8080/", "sqlite:./latch.db", "latch.secret"},
		{"ipv6 listen", Config{Listen: "[::1]:8080"}, "http://[::1]:8080/", "sqlite:./latch.db", "latch.secret"},
		{"https with tls", Config{TLSCert: "c", TLSKey: "k"}, "https://localhost:1000/", "sqlite:./latch.db", "latch.secret"},
		{"trailing slash added", Config{Issuer: "https://id.example.com/auth"}, "https://id.example.com/auth/", "sqlite:./latch.db", "latch.secret"},
		{"bare .db path", Config{Database: "data/dev.db"}, "http://localhost:1000/", "sqlite:data/dev.db", "data/latch.secret"},
		{"sqlite abs path", Config{Database: "sqlite:///var/lib/latch/latch.db"}, "http://localhost:1000/", "sqlite:///var/lib/latch/latch.db", "/var/lib/latch/latch.secret"},
		{"explicit secret file", Config{Database: "sqlite:x/y.db", SecretFile: "k.secret"}, "http://localhost:1000/", "sqlite:x/y.db", "k.secret"},
		{"postgres has no default secret file", Config{Database: "postgres://h/db", Secret: "s"}, "http://localhost:1000/", "postgres://h/db", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if err := cfg.Finalize(); err != nil {
				t.Fatal(err)
			}
			if cfg.Issuer != tt.issuer || cfg.Database != tt.database || cfg.SecretFile != tt.secretFile {
				t.Errorf("issuer %q database %q secret_file %q; want %q %q %q",
					cfg.Issuer, cfg.Database, cfg.SecretFile, tt.issuer, tt.database, tt.secretFile)
			}
		})
	}
}

func TestClientDefaults(t *testing.T) {
	cfg, err := loadFinal(t, `
connections:
  - { name: a }
  - { name: b, disabled: true }
  - { name: c, signup: false, password_min_length: 12 }
apis:
  - { identifier: https://api/ }
clients:
  - { client_id: s, type: spa }
  - { client_id: n, type: native }
  - { client_id: w, type: regular_web, client_secret: x }
  - { client_id: m, type: m2m, client_secret: y, apis: [https://api/] }
  - { client_id: s2, type: spa, grant_types: [implicit], connections: [b] }
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	code := []string{GrantAuthorizationCode, GrantRefreshToken}
	tests := []struct {
		id     string
		grants []string
		conns  []string
	}{
		{"s", code, []string{"a", "c"}},
		{"n", code, []string{"a", "c"}},
		{"w", code, []string{"a", "c"}},
		{"m", []string{GrantClientCredentials}, []string{"a", "c"}},
		{"s2", []string{GrantImplicit}, []string{"b"}},
	}
	for _, tt := range tests {
		cl := cfg.Client(tt.id)
		if cl == nil {
			t.Fatalf("client %q missing", tt.id)
		}
		if !reflect.DeepEqual(cl.GrantTypes, tt.grants) || !reflect.DeepEqual(cl.Connections, tt.conns) {
			t.Errorf("%s: grants %v conns %v; want %v %v", tt.id, cl.GrantTypes, cl.Connections, tt.grants, tt.conns)
		}
		if cl.Name != tt.id {
			t.Errorf("%s: name %q", tt.id, cl.Name)
		}
	}
	if c := cfg.Connection("c"); c.Type != "database" || c.PasswordMinLength != 12 || c.SignupEnabled() {
		t.Errorf("connection c = %+v", c)
	}
	if a := cfg.API("https://api/"); a.Name != "https://api/" || a.TokenLifetime != cfg.Lifetimes.AccessToken {
		t.Errorf("api = %+v", a)
	}
	if !cfg.Client("m").AllowsGrant(GrantClientCredentials) || cfg.Client("m").AllowsGrant(GrantRefreshToken) {
		t.Error("AllowsGrant")
	}
}

func TestClientSecrets(t *testing.T) {
	body := `
apis: [{ identifier: https://api/ }]
clients:
  - { client_id: lit, type: regular_web, client_secret: literal }
  - { client_id: env, type: m2m, client_secret: "env:M2M", apis: [https://api/] }
`
	cfg, err := loadFinal(t, body, map[string]string{"M2M": "from-env"})
	if err != nil {
		t.Fatal(err)
	}
	for id, secret := range map[string]string{"lit": "literal", "env": "from-env"} {
		cl := cfg.Client(id)
		sum := sha256.Sum256([]byte(secret))
		if cl.ClientSecret != "" {
			t.Errorf("%s: raw secret kept: %q", id, cl.ClientSecret)
		}
		if !reflect.DeepEqual(cl.SecretHash, sum[:]) {
			t.Errorf("%s: SecretHash is not sha256(%q)", id, secret)
		}
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatalf("second Finalize: %v", err)
	}
	if sum := sha256.Sum256([]byte("literal")); !reflect.DeepEqual(cfg.Client("lit").SecretHash, sum[:]) {
		t.Error("second Finalize changed the hash")
	}

	t.Run("unset variable", func(t *testing.T) {
		_, err := loadFinal(t, body, nil)
		ps := problemsOf(t, err)
		if len(ps) != 1 || ps[0].Field != "clients[1].client_secret" || !strings.Contains(ps[0].Message, "M2M") {
			t.Fatalf("problems = %v", ps)
		}
	})
	t.Run("os.Getenv for hand-built config", func(t *testing.T) {
		t.Setenv("LATCH_TEST_CONFIG_SECRET", "abc")
		cfg := &Config{
			APIs:    []API{{Identifier: "https://api/"}},
			Clients: []Client{{ClientID: "m", Type: TypeM2M, ClientSecret: "env:LATCH_TEST_CONFIG_SECRET", APIs: []string{"https://api/"}}},
		}
		if err := cfg.Finalize(); err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256([]byte("abc")); !reflect.DeepEqual(cfg.Clients[0].SecretHash, sum[:]) {
			t.Error("secret not resolved with os.Getenv")
		}
	})
}

func TestLookupAbsent(t *testing.T) {
	cfg := Default()
	if cfg.Client("x") != nil || cfg.API("x") != nil || cfg.Connection("x") != nil {
		t.Fatal("lookup before Finalize found something")
	}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	if cfg.Client("x") != nil || cfg.API("x") != nil || cfg.Connection("x") != nil {
		t.Fatal("lookup after Finalize found something")
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg := &Config{TrustedProxies: []string{"10.0.0.0/8", "192.168.1.7", "::1", "10.1.2.3/8"}}
	if err := cfg.Finalize(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "::1/128", "10.0.0.0/8"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("prefixes = %v, want %v", got, want)
	}
}

func TestValidationErrorFormat(t *testing.T) {
	err := &ValidationError{Problems: []Problem{{"listen", "bad"}, {"clients[0].type", "worse"}}}
	if got, want := err.Error(), "listen: bad\nclients[0].type: worse"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestValidationCollectsEveryProblem(t *testing.T) {
	_, err := loadFinal(t, `
listen: nope
tenant: { primary_color: red }
clients:
  - { client_id: a, type: foo }
  - { client_id: a, type: spa, callbacks: ["htp:/x"] }
`, nil)
	ps := problemsOf(t, err)
	want := map[string]string{
		"listen":                  `"nope" is not host:port`,
		"tenant.primary_color":    `"red" is not a color`,
		"clients[0].type":         `unknown client type "foo" (want spa, native, regular_web or m2m)`,
		"clients[1].client_id":    `duplicate "a" (also clients[0])`,
		"clients[1].callbacks[0]": `"htp:/x" is not an absolute URL`,
	}
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for _, p := range ps {
		if w, ok := want[p.Field]; !ok || !strings.Contains(p.Message, w) {
			t.Errorf("unexpected %q: %q", p.Field, p.Message)
		}
	}
}
