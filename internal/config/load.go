package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Default returns an empty configuration. Finalize fills in every default,
// so Default().Finalize() yields a working development setup: localhost:1000,
// sqlite:./latch.db and the Username-Password-Authentication connection.
// Client secrets written as "env:NAME" are resolved with os.Getenv.
func Default() *Config { return &Config{} }

// Load reads the YAML file at path (skipped when path is "") and then applies
// the LATCH_* environment overrides read through getenv (nil means
// os.Getenv), which is also kept to resolve "env:NAME" client secrets in
// Finalize. A missing file yields an error that satisfies
// errors.Is(err, fs.ErrNotExist). Keys latch does not know are an error
// naming the key and its line. Load does not apply defaults or validate:
// the caller sets flag values on the result and then calls Finalize.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := &Config{Path: path, getenv: getenv}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decode(data, cfg); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := cfg.applyEnv(getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decode parses one YAML document into cfg, refusing unknown keys and any
// further documents in the same file.
func decode(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	if errors.Is(err, io.EOF) {
		return nil // empty file or only comments
	}
	if err != nil {
		return friendlyYAMLError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return friendlyYAMLError(err)
		}
		return fmt.Errorf("line %d: more than one YAML document", extra.Line)
	}
	return nil
}

var unknownFieldRE = regexp.MustCompile(`^(line \d+): field (.+) not found in type \S+$`)

// friendlyYAMLError rewrites yaml.v3's "field x not found in type
// config.Client" (which names a Go type) as `unknown key "x"`.
func friendlyYAMLError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = unknownFieldRE.ReplaceAllString(m, `$1: unknown key "$2"`)
	}
	return &yaml.TypeError{Errors: msgs}
}

// applyEnv overrides file values with LATCH_* variables (SPEC §2: flags >
// env > file > defaults). An empty variable counts as unset.
func (c *Config) applyEnv(getenv func(string) string) error {
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.Issuer, "LATCH_ISSUER")
	set(&c.Listen, "LATCH_LISTEN")
	set(&c.Database, "LATCH_DATABASE")
	set(&c.Database, "LATCH_DATABASE_URL") // the conventional name wins
	set(&c.Secret, "LATCH_SECRET")
	set(&c.SecretFile, "LATCH_SECRET_FILE")
	set(&c.TLSCert, "LATCH_TLS_CERT")
	set(&c.TLSKey, "LATCH_TLS_KEY")
	set(&c.LogLevel, "LATCH_LOG_LEVEL")
	if v := strings.TrimSpace(getenv("LATCH_OIDC_STRICT")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("config: LATCH_OIDC_STRICT: invalid boolean %q (want true or false)", v)
		}
		c.OIDCStrict = b
	}
	return nil
}
