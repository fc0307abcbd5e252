package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/session"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/users"
)

// Dev tenant names (SPEC §2); tests and the README rely on them.
const (
	DevClientID = "dev-spa"
	DevUser     = "dev@latch.local"
	DevAPI      = "https://api.latch.local/"
)

var devTemplate = template.Must(template.New("dev").Parse(`# latch dev tenant, written by 'latch dev'. Edit freely: it is read at every
# start and on SIGHUP. The issuer is derived from listen (http://<listen>/).
listen: {{.Listen}}
database: sqlite:./latch-dev.db
secret_file: ./latch-dev.secret
tenant: { name: latch dev, primary_color: "#635bff" }
allowed_logout_urls: [http://localhost:3000/]
connections:
  - { name: Username-Password-Authentication, type: database, signup: true, password_min_length: 8 }
apis:
  - identifier: ` + DevAPI + `
    name: Dev API
    scopes: [read:items, write:items]
    allow_offline_access: true
clients:
  - client_id: ` + DevClientID + `
    name: Dev SPA
    type: spa
    callbacks: [http://localhost:3000, http://localhost:3000/, http://localhost:3000/callback]
    allowed_logout_urls: [http://localhost:3000, http://localhost:3000/]
    web_origins: [http://localhost:3000]
    grant_types: [authorization_code, refresh_token]
`))

func runDev(ctx context.Context, env Env, args []string) error {
	fs, cfgPath := newFlags(env, "dev", "dev [--listen ADDR] [--dir DIR] [--config FILE]")
	listen := fs.String("listen", "", "address to listen on (default localhost:1000; the issuer becomes http://ADDR/)")
	dir := fs.String("dir", ".", "folder for latch.yaml, the database and the secret file")
	if err := parse(fs, args); err != nil {
		return err
	}
	path := filepath.Join(*dir, "latch.yaml")
	if flagSet(fs, "config") {
		path = *cfgPath
	}
	if err := writeDevConfig(path, *listen); err != nil {
		return err
	}
	override := func(c *config.Config) {
		if *listen != "" {
			c.Listen = *listen
			if env.Getenv("LATCH_ISSUER") == "" {
				c.Issuer = ""
			}
		}
	}
	cfg, err := loadConfig(env, path, override)
	if err != nil {
		return err
	}
	return serveWith(ctx, env, cfg, serveOptions{
		path: path, override: override, createSecret: true,
		ready: func(st store.Store, cfg *config.Config) error { return devReady(ctx, env, st, cfg) },
	})
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// writeDevConfig writes the dev tenant unless the file exists.
func writeDevConfig(path, listen string) error {
	if exists(path) {
		return nil
	}
	if listen == "" {
		listen = "localhost:1000"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := devTemplate.Execute(f, struct{ Listen string }{listen}); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// devReady creates the demo user on the first start and prints what a
// developer needs: issuer, client, user, password (first time only) and a
// login URL with a ready PKCE pair.
func devReady(ctx context.Context, env Env, st store.Store, cfg *config.Config) error {
	conn := config.DefaultConnection
	if len(cfg.Connections) > 0 {
		conn = cfg.Connections[0].Name
	}
	w := env.Stdout
	fmt.Fprintf(w, "latch dev is running\n  issuer:    %s\n  client id: %s\n", cfg.Issuer, DevClientID)
	_, err := st.GetUserByEmail(ctx, conn, DevUser)
	switch {
	case errors.Is(err, store.ErrNotFound):
		pw := strings.ReplaceAll(session.NewToken()[:20], "-", "x")
		if _, err := users.Create(ctx, st, newHasher(), users.NewUser{
			Connection: conn, Email: DevUser, EmailVerified: true, Password: pw, Name: "Dev User",
		}, 8, time.Now()); err != nil {
			return fmt.Errorf("create dev user: %w", err)
		}
		fmt.Fprintf(w, "  user:      %s\n  password:  %s   (shown once; reset with 'latch users set-password %s --password-stdin')\n", DevUser, pw, DevUser)
	case err != nil:
		return fmt.Errorf("look up dev user: %w", err)
	default:
		fmt.Fprintf(w, "  user:      %s (password as printed on the first start)\n", DevUser)
	}
	verifier := session.NewToken()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {DevClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:3000/callback"},
		"scope": {"openid profile email offline_access"}, "audience": {DevAPI},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	fmt.Fprintf(w, "  login URL: %sauthorize?%s\n  (its code_verifier: %s)\n", cfg.Issuer, strings.ReplaceAll(q.Encode(), "+", "%20"), verifier)
	return nil
}
