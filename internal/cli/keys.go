package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/keys"
)

func runKeys(ctx context.Context, env Env, args []string) error {
	sub, rest := splitFirstPositional(args)
	if sub == "" {
		// --config may stand first: find the subcommand after the flags.
		for i, a := range args {
			if a == "list" || a == "rotate" {
				sub, rest = a, append(append([]string{}, args[:i]...), args[i+1:]...)
				break
			}
		}
	}
	fs, cfgPath := newFlags(env, "keys", "keys list|rotate [--alg RS256|ES256|EdDSA] [--config FILE]")
	alg := fs.String("alg", "", "rotate only this algorithm's key (default: every algorithm that has a key)")
	if err := parse(fs, rest); err != nil {
		return err
	}
	if sub != "list" && sub != "rotate" {
		return usageError{"want 'latch keys list' or 'latch keys rotate'"}
	}
	if *alg != "" && (sub != "rotate" || !keys.Supported(*alg)) {
		return usageError{"--alg takes RS256, ES256 or EdDSA, with 'latch keys rotate'"}
	}
	cfg, err := loadConfig(env, *cfgPath, nil)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, err := masterSecret(cfg, false)
	if err != nil {
		return err
	}
	opts := keyOptions(cfg, newLogger(env, "warn"))
	if sub == "rotate" {
		// Start the manager first: it refuses a wrong secret, so a rotation
		// never mixes keys sealed under two secrets. It also makes the first
		// key of each algorithm the config's APIs use, as serve would, so
		// those rotate too.
		if err := keys.NewManager(st, secret, opts).Init(ctx, cfg.AccessTokenAlgs()...); err != nil {
			return err
		}
		var algs []string
		if *alg != "" {
			algs = []string{*alg}
		}
		ks, err := keys.RotateAlgs(ctx, st, secret, opts, algs...)
		if err != nil {
			return err
		}
		for _, k := range ks {
			fmt.Fprintf(env.Stdout, "new key %s: %s, published now, signs from %s\n", k.ID, k.Algorithm, k.NotBefore.UTC().Format(time.RFC3339))
		}
		return nil
	}
	list, err := keys.List(ctx, st, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%-44s %-6s %-9s %-20s %-20s %s\n", "KID", "ALG", "STATE", "CREATED", "SIGNS FROM", "UNPUBLISHED AT")
	for _, k := range list {
		exp := "-"
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(env.Stdout, "%-44s %-6s %-9s %-20s %-20s %s\n", k.ID, k.Algorithm, k.State,
			k.CreatedAt.UTC().Format(time.RFC3339), k.NotBefore.UTC().Format(time.RFC3339), exp)
	}
	return nil
}
