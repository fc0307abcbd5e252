// Package cli is latch's command line: dev, serve, users, keys, migrate,
// check-config and version, one file per command. Run is the whole program
// with its environment passed in, so tests drive it without a process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"dev", "start latch for local development (SQLite, dev tenant, demo user)", runDev},
		{"serve", "start latch in production from latch.yaml", runServe},
		{"users", "manage users: create, list, get, delete, set-password, block, unblock, import", runUsers},
		{"keys", "manage signing keys: list, rotate", runKeys},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"check-config", "validate the configuration and print every problem", runCheckConfig},
		{"login", "log in from the terminal (browser + PKCE) and print or store the tokens", runLogin},
		{"version", "print the version", runVersion},
	}
}

// usageError is bad command-line input: the message is printed with a hint
// to use --help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Run executes latch with args (args[0] is the program name) and returns
// the process exit status: 0 on success, 1 on failure, 2 on bad usage.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 {
		args = args[1:]
	}
	// A global --config may stand before the subcommand.
	var global []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		if a == "-h" || a == "--help" || a == "-help" {
			printUsage(env.Stdout)
			return 0
		}
		global = append(global, a)
		args = args[1:]
		if !strings.Contains(a, "=") && len(args) > 0 && (a == "--config" || a == "-config") {
			global = append(global, args[0])
			args = args[1:]
		}
	}
	if len(args) == 0 {
		printUsage(env.Stderr)
		return 2
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, append(global, args[1:]...))
		return report(env, c.name, err)
	}
	if args[0] == "help" {
		printUsage(env.Stdout)
		return 0
	}
	fmt.Fprintf(env.Stderr, "latch: unknown command %q (run 'latch --help')\n", args[0])
	return 2
}

func report(env Env, name string, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(env.Stderr, "latch %s: %v (run 'latch %s --help')\n", name, err, name)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "latch %s: %v\n", name, oneLine(err.Error()))
		return 1
	}
}

// oneLine keeps an error to a single line; multi-line problems (config
// validation) are printed by their command before returning.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (…)"
	}
	return s
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "latch: a self-hosted login server that speaks the Auth0 Authentication API and OpenID Connect.")
	fmt.Fprintln(w, "\nUsage: latch [--config FILE] COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --help. --config defaults to ./latch.yaml.")
}

// newFlags returns a FlagSet for a command with the global --config flag.
func newFlags(env Env, name, usage string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("latch "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg := fs.String("config", "latch.yaml", "configuration `file`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: latch %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs, cfg
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(fs.Output())
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
