// Command latch is a self-hosted login server that speaks the Auth0
// Authentication API and OpenID Connect. Run `latch --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/latch-auth/latch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args, cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
