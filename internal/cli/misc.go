package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/latch-auth/latch/internal/keys"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = ""

func runMigrate(ctx context.Context, env Env, args []string) error {
	fs, cfgPath := newFlags(env, "migrate", "migrate [--config FILE]")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, *cfgPath, nil)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg) // opening applies the embedded migrations
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(env.Stdout, "database is up to date")
	return nil
}

func runCheckConfig(_ context.Context, env Env, args []string) error {
	fs, cfgPath := newFlags(env, "check-config", "check-config [--config FILE]")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, *cfgPath, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: OK (issuer %s, %d client(s), %d API(s), %d connection(s))\n",
		*cfgPath, cfg.Issuer, len(cfg.Clients), len(cfg.APIs), len(cfg.Connections))
	return nil
}

func runVersion(_ context.Context, env Env, args []string) error {
	fs, _ := newFlags(env, "version", "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	v := Version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v += "+" + s.Value[:12]
				}
			}
		}
	}
	// The signer tells which build this is (README "Faster signing builds").
	fmt.Fprintf(env.Stdout, "latch %s (%s, signer %s)\n", v, runtime.Version(), keys.Signer())
	return nil
}
