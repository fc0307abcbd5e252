package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/store/postgres"
	"github.com/latch-auth/latch/internal/store/sqlite"
)

// loadConfig reads the file at path, applies LATCH_* variables, lets the
// command apply its flags (override), then defaults and validates. Relative
// SQLite and file paths in the file are taken relative to the file's folder,
// so `latch serve --config /etc/latch/latch.yaml` works from anywhere.
func loadConfig(env Env, path string, override func(*config.Config)) (*config.Config, error) {
	cfg, err := config.Load(path, env.Getenv)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config file %s not found (create one, or run 'latch dev' to write a starter file)", path)
		}
		return nil, err
	}
	if override != nil {
		override(cfg)
	}
	anchorPaths(cfg, filepath.Dir(path))
	if err := cfg.Finalize(); err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				fmt.Fprintf(env.Stderr, "%s: %s\n", p.Field, p.Message)
			}
			return nil, fmt.Errorf("%s: %d problem(s) in the configuration", path, len(ve.Problems))
		}
		return nil, err
	}
	return cfg, nil
}

// anchorPaths makes relative file paths relative to dir.
func anchorPaths(cfg *config.Config, dir string) {
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if path, ok := cfg.SQLitePath(); ok {
		cfg.Database = "sqlite:" + rel(path)
	}
	cfg.SecretFile = rel(cfg.SecretFile)
	cfg.TLSCert = rel(cfg.TLSCert)
	cfg.TLSKey = rel(cfg.TLSKey)
}

// openStore opens (and migrates) the configured database.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if path, ok := cfg.SQLitePath(); ok {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
		return st, nil
	}
	if strings.HasPrefix(cfg.Database, "postgres://") || strings.HasPrefix(cfg.Database, "postgresql://") {
		st, err := postgres.Open(ctx, cfg.Database) // its errors never repeat the URL's password
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return st, nil
	}
	return nil, errors.New("database: unsupported (want sqlite:PATH or postgres://...)")
}

// masterSecret returns LATCH_SECRET or the secret file's contents; create
// makes the file in dev.
func masterSecret(cfg *config.Config, create bool) ([]byte, error) {
	return keys.MasterSecret(cfg.Secret, cfg.SecretFile, create)
}

// keyOptions derives rotation timing from the config: a replaced key stays
// published as long as the longest-lived token it may have signed.
func keyOptions(cfg *config.Config, log *slog.Logger) keys.Options {
	retire := cfg.Lifetimes.IDToken.D()
	if at := cfg.Lifetimes.AccessToken.D(); at > retire {
		retire = at
	}
	for _, api := range cfg.APIs {
		if api.TokenLifetime.D() > retire {
			retire = api.TokenLifetime.D()
		}
	}
	return keys.Options{
		RotationDelay:   cfg.Keys.RotationDelay.D(),
		RefreshInterval: cfg.Keys.RefreshInterval.D(),
		RetireAfter:     retire,
		Logger:          log,
	}
}

// newHasher is the password hasher every command uses, so hashes made by
// the CLI and by the server have the same parameters.
func newHasher() *password.Hasher { return password.New(password.DefaultParams, 0) }

// newLogger writes text logs to stderr at the configured level; every record
// logged with a request's context carries its request id.
func newLogger(env Env, level string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	return slog.New(server.LogHandler(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: lv})))
}

// exists reports whether a file exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
