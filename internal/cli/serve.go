package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/keys"
	"github.com/latch-auth/latch/internal/server"
	"github.com/latch-auth/latch/internal/store"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs, cfgPath := newFlags(env, "serve", "serve [--config FILE] [--listen ADDR] [--tls-cert FILE --tls-key FILE]")
	listen := fs.String("listen", "", "address to listen on, e.g. localhost:1000 (overrides listen:)")
	issuer := fs.String("issuer", "", "issuer URL (overrides issuer:)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate `file` (PEM)")
	tlsKey := fs.String("tls-key", "", "TLS private key `file` (PEM)")
	if err := parse(fs, args); err != nil {
		return err
	}
	override := func(c *config.Config) {
		setIf(&c.Listen, *listen)
		setIf(&c.Issuer, *issuer)
		setIf(&c.TLSCert, *tlsCert)
		setIf(&c.TLSKey, *tlsKey)
		if *listen != "" && *issuer == "" && env.Getenv("LATCH_ISSUER") == "" {
			c.Issuer = "" // derived from the new listen address
		}
	}
	cfg, err := loadConfig(env, *cfgPath, override)
	if err != nil {
		return err
	}
	return serveWith(ctx, env, cfg, serveOptions{path: *cfgPath, override: override})
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// serveOptions are what dev and serve do differently.
type serveOptions struct {
	path         string
	override     func(*config.Config)
	createSecret bool                                           // dev: make the secret file when missing
	ready        func(st store.Store, cfg *config.Config) error // dev: demo user, banner
}

// serveWith runs latch until ctx ends: store, keys, HTTP server, SIGHUP
// reload, key refresh and cleanup of expired rows.
func serveWith(ctx context.Context, env Env, cfg *config.Config, o serveOptions) error {
	logs := newLogBuffer(env.Stderr, logFlushDelay) // see logbuffer.go
	defer func() { _ = logs.Flush() }()
	env.Stderr = logs
	log := newLogger(env, cfg.LogLevel)
	setMemoryLimit(env.Getenv, log) // see memlimit.go
	ln, err := server.Listener(cfg.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	secret, err := masterSecret(cfg, o.createSecret)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close() // last: after the server and background jobs stopped

	km := keys.NewManager(st, secret, keyOptions(cfg, log))
	if err := km.Init(ctx, cfg.AccessTokenAlgs()...); err != nil {
		return err
	}
	var current atomic.Pointer[config.Config]
	current.Store(cfg)

	if o.ready != nil {
		if err := o.ready(st, cfg); err != nil {
			return err
		}
	}
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	go km.Run(bg)
	go cleanup(bg, st, log)
	go reloadOnHUP(bg, env, o, &current, km, log)

	h := server.New(server.Deps{
		Config: current.Load, Store: st, Keys: km, Passwords: newHasher(), Logger: log,
		AccessLog: logs, // newLogger's TextHandler writes to env.Stderr, which is logs
	})
	log.Info("latch listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer, "signer", keys.Signer())
	err = server.Serve(ctx, ln, h, cfg.TLSCert, cfg.TLSKey, log)
	stopBG()
	if err != nil {
		return err
	}
	log.Info("latch stopped")
	return nil
}

// reloadOnHUP re-reads the config file on SIGHUP. A config that fails
// validation is logged and the running one kept. Listen, database and TLS
// changes need a restart; everything tenant-level applies at once. An API
// signing_alg new to the key set gets its first key before the config is
// used, so its first token is signed with it and its kid is in the JWKS.
func reloadOnHUP(ctx context.Context, env Env, o serveOptions, current *atomic.Pointer[config.Config], km *keys.Manager, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		quiet := env
		quiet.Stderr = logWriter{log}
		cfg, err := loadConfig(quiet, o.path, o.override)
		if err != nil {
			log.Error("config reload failed; keeping the running configuration", "error", err)
			continue
		}
		if err := km.Ensure(ctx, cfg.AccessTokenAlgs()...); err != nil {
			log.Error("config reload failed: no signing key for an API's signing_alg; keeping the running configuration", "error", err)
			continue
		}
		old := current.Load()
		if cfg.Listen != old.Listen || cfg.Database != old.Database || cfg.TLSCert != old.TLSCert {
			log.Warn("listen, database and TLS changes take effect on restart")
		}
		current.Store(cfg)
		log.Info("configuration reloaded", "clients", len(cfg.Clients), "apis", len(cfg.APIs))
	}
}

// logWriter turns validation lines printed during a reload into log records.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Error("config problem", "detail", string(p))
	return len(p), nil
}

// cleanup removes expired codes, transactions, sessions, tokens and
// brute-force counters every minute, in bounded batches so no statement holds the database for long.
func cleanup(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, del := range []func(context.Context, time.Time, int) (int, error){
			st.DeleteExpired, st.DeleteExpiredLoginFailures,
		} {
			for range 100 { // at most 100 batches a minute
				n, err := del(ctx, time.Now(), 500)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						log.Warn("cleanup failed", "error", err)
					}
					break
				}
				if n == 0 {
					break
				}
			}
		}
	}
}
