package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/latch-auth/latch/internal/config"
	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/store"
	"github.com/latch-auth/latch/internal/users"
)

type usersCmd struct {
	name, usage string
	run         func(ctx context.Context, env Env, args []string) error
}

// usersEnv is what every users subcommand works with.
type usersEnv struct {
	cfg        *config.Config
	st         store.Store
	connection string
}

func usersCommands() []usersCmd {
	return []usersCmd{
		{"create", "create --email E --password-stdin [--name N] [--username U] [--connection C]", usersCreate},
		{"list", "list [--limit N]", usersList},
		{"get", "get EMAIL|USER_ID", usersGet},
		{"delete", "delete EMAIL|USER_ID", usersDelete},
		{"set-password", "set-password EMAIL|USER_ID --password-stdin", usersSetPassword},
		{"block", "block EMAIL|USER_ID", usersBlock(true)},
		{"unblock", "unblock EMAIL|USER_ID", usersBlock(false)},
		{"import", "import FILE|- (Auth0 export: JSON lines or a JSON array, bcrypt hashes kept)", usersImport},
	}
}

func runUsers(ctx context.Context, env Env, args []string) error {
	// Global flags (--config) may come before the subcommand name.
	var pre []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		pre = append(pre, args[0])
		args = args[1:]
		if !strings.Contains(pre[len(pre)-1], "=") && len(args) > 0 {
			pre = append(pre, args[0])
			args = args[1:]
		}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := env.Stdout
		if len(args) == 0 {
			w = env.Stderr
		}
		fmt.Fprintln(w, "Usage: latch users COMMAND [--config FILE] [flags]\n\nCommands:")
		for _, c := range usersCommands() {
			fmt.Fprintf(w, "  latch users %s\n", c.usage)
		}
		if len(args) == 0 {
			return usageError{"missing users command"}
		}
		return nil
	}
	for _, c := range usersCommands() {
		if c.name == args[0] {
			return c.run(ctx, env, append(pre, args[1:]...))
		}
	}
	return usageError{fmt.Sprintf("unknown users command %q", args[0])}
}

// openUsers loads the config and opens the store for a users subcommand.
func openUsers(ctx context.Context, env Env, cfgPath, connection string) (*usersEnv, error) {
	cfg, err := loadConfig(env, cfgPath, nil)
	if err != nil {
		return nil, err
	}
	if connection == "" {
		connection = cfg.Connections[0].Name
	}
	if cfg.Connection(connection) == nil {
		return nil, fmt.Errorf("unknown connection %q", connection)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &usersEnv{cfg: cfg, st: st, connection: connection}, nil
}

// oneArg parses flags and the single user reference they surround.
func oneArg(env Env, name string, args []string, extra func(*flag.FlagSet)) (string, string, error) {
	fs, cfgPath := newFlags(env, "users "+name, "users "+name+" EMAIL|USER_ID")
	if extra != nil {
		extra(fs)
	}
	ref, rest := splitFirstPositional(args)
	if err := parse(fs, rest); err != nil {
		return "", "", err
	}
	if ref == "" && fs.NArg() > 0 {
		ref = fs.Arg(0)
	}
	if ref == "" {
		return "", "", usageError{"missing EMAIL or USER_ID"}
	}
	return ref, *cfgPath, nil
}

// splitFirstPositional lets the user reference stand before or after flags.
func splitFirstPositional(args []string) (string, []string) {
	if len(args) > 0 && (args[0] == "-" || !strings.HasPrefix(args[0], "-")) {
		return args[0], args[1:]
	}
	return "", args
}

func usersCreate(ctx context.Context, env Env, args []string) error {
	fs, cfgPath := newFlags(env, "users create", "users create --email E --password-stdin [--name N] [--username U]")
	email := fs.String("email", "", "email address (required)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	name := fs.String("name", "", "full name")
	username := fs.String("username", "", "username (optional)")
	conn := fs.String("connection", "", "database connection (default: the first configured)")
	verified := fs.Bool("email-verified", false, "mark the email as verified")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"--email is required"}
	}
	pw, err := readPassword(env, *pwStdin)
	if err != nil {
		return err
	}
	u, err := openUsers(ctx, env, *cfgPath, *conn)
	if err != nil {
		return err
	}
	defer u.st.Close()
	user, err := users.Create(ctx, u.st, newHasher(), users.NewUser{
		Connection: u.connection, Email: *email, EmailVerified: *verified, Username: *username,
		Password: pw, Name: *name,
	}, u.cfg.Connection(u.connection).PasswordMinLength, time.Now())
	if err != nil {
		return describeUserError(err, *email)
	}
	fmt.Fprintln(env.Stdout, user.ID)
	return nil
}

// describeUserError turns users.Create errors into one clear line.
func describeUserError(err error, email string) error {
	var pe *users.PolicyError
	switch {
	case errors.Is(err, users.ErrUserExists):
		return fmt.Errorf("a user with email %q already exists in this connection", email)
	case errors.Is(err, users.ErrUsernameTaken):
		return errors.New("that username is already taken")
	case errors.Is(err, users.ErrInvalidEmail):
		return fmt.Errorf("%q is not a valid email address", email)
	case errors.As(err, &pe):
		return fmt.Errorf("password refused: %v", pe.Err)
	}
	return err
}

// readPassword reads a password from stdin (--password-stdin) or from a
// prompt without echo; never from argv (it would show in ps and history).
func readPassword(env Env, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(env.Stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", errors.New("password refused: the password is empty")
		}
		return line, nil
	}
	f, ok := env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageError{"no terminal to prompt for the password: pass --password-stdin and pipe it in"}
	}
	fmt.Fprint(env.Stderr, "Password: ")
	a, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprint(env.Stderr, "\nRepeat password: ")
	b, err2 := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(env.Stderr)
	if err != nil || err2 != nil {
		return "", errors.New("could not read the password")
	}
	if string(a) != string(b) {
		return "", errors.New("the passwords do not match")
	}
	return string(a), nil
}

func usersList(ctx context.Context, env Env, args []string) error {
	fs, cfgPath := newFlags(env, "users list", "users list [--limit N]")
	limit := fs.Int("limit", 0, "list at most N users (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	u, err := openUsers(ctx, env, *cfgPath, "")
	if err != nil {
		return err
	}
	defer u.st.Close()
	after, n := "", 0
	for {
		page, err := u.st.ListUsers(ctx, after, 200)
		if err != nil {
			return err
		}
		for _, usr := range page.Users {
			if *limit > 0 && n >= *limit {
				return nil
			}
			blocked := ""
			if usr.Blocked {
				blocked = "\tblocked"
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s%s\n", usr.ID, usr.Email, usr.Connection, blocked)
			n++
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// findUser resolves a reference or says clearly that there is no such user.
func findUser(ctx context.Context, u *usersEnv, ref string) (*store.User, error) {
	user, err := users.Find(ctx, u.st, u.connection, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no user %q", ref)
	}
	return user, err
}

// withUser opens the store, resolves ref and runs fn on the user.
func withUser(ctx context.Context, env Env, cfgPath, ref string, fn func(u *usersEnv, user *store.User) error) error {
	u, err := openUsers(ctx, env, cfgPath, "")
	if err != nil {
		return err
	}
	defer u.st.Close()
	user, err := findUser(ctx, u, ref)
	if err != nil {
		return err
	}
	return fn(u, user)
}

func usersGet(ctx context.Context, env Env, args []string) error {
	ref, cfgPath, err := oneArg(env, "get", args, nil)
	if err != nil {
		return err
	}
	return withUser(ctx, env, cfgPath, ref, func(u *usersEnv, user *store.User) error {
		blockedFor, err := users.BlockedFor(ctx, u.st, user, u.cfg.RateLimits.BruteForceThreshold, time.Now())
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(users.ProfileOf(user, blockedFor))
	})
}

func usersDelete(ctx context.Context, env Env, args []string) error {
	ref, cfgPath, err := oneArg(env, "delete", args, nil)
	if err != nil {
		return err
	}
	return withUser(ctx, env, cfgPath, ref, func(u *usersEnv, user *store.User) error {
		if err := u.st.DeleteUser(ctx, user.ID); err != nil {
			return err
		}
		// Imported ids can come back; their failed logins must not.
		if err := users.ClearBlocks(ctx, u.st, user.ID); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted %s\n", user.ID)
		return nil
	})
}

func usersSetPassword(ctx context.Context, env Env, args []string) error {
	var pwStdin *bool
	ref, cfgPath, err := oneArg(env, "set-password", args, func(fs *flag.FlagSet) {
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	})
	if err != nil {
		return err
	}
	pw, err := readPassword(env, *pwStdin)
	if err != nil {
		return err
	}
	return withUser(ctx, env, cfgPath, ref, func(u *usersEnv, user *store.User) error {
		if err := password.CheckPolicy(pw, u.cfg.Connection(user.Connection).PasswordMinLength); err != nil {
			return fmt.Errorf("password refused: %v", err)
		}
		hash, err := newHasher().Hash(ctx, pw)
		if err != nil {
			return err
		}
		if err := u.st.SetPassword(ctx, user.ID, hash, time.Now()); err != nil {
			return err
		}
		// A completed password change lifts brute-force blocks (Auth0's rule).
		if err := users.ClearBlocks(ctx, u.st, user.ID); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "password changed for %s\n", user.ID)
		return nil
	})
}

func usersBlock(blocked bool) func(context.Context, Env, []string) error {
	verb := map[bool]string{true: "block", false: "unblock"}[blocked]
	return func(ctx context.Context, env Env, args []string) error {
		ref, cfgPath, err := oneArg(env, verb, args, nil)
		if err != nil {
			return err
		}
		return withUser(ctx, env, cfgPath, ref, func(u *usersEnv, user *store.User) error {
			if err := u.st.SetBlocked(ctx, user.ID, blocked, time.Now()); err != nil {
				return err
			}
			if !blocked {
				// unblock also lifts brute-force blocks, as Auth0's user-blocks API does.
				if err := users.ClearBlocks(ctx, u.st, user.ID); err != nil {
					return err
				}
			}
			fmt.Fprintf(env.Stdout, "%sed %s\n", verb, user.ID)
			return nil
		})
	}
}
