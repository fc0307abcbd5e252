package cli

import (
	"log/slog"
	"runtime"
	"runtime/debug"

	"github.com/latch-auth/latch/internal/password"
)

// baseMemory is what latch's Go heap needs apart from password hashing:
// config, keys, templates, connections and requests in flight.
const baseMemory = 32 << 20

// memoryLimit is serve's soft limit for the Go runtime: the base plus half
// as much again as the argon2id memory of every hashing slot. Each login
// allocates Params.Memory (19 MiB by default) and drops it; with the
// default GOGC alone the heap grows to twice its live size before a
// collection, and a login flood on a 2-core machine peaked near 150 MB of
// RSS in the load benchmark. Under the limit the collector runs earlier
// and freed pages go back to the system sooner. A tighter limit was
// measured to cost more than it saves: the scavenger then returns the
// hashing memory to the system between logins, and every hash page-faults
// its 19 MiB back in (a third of a login's CPU on PostgreSQL). Measured on
// the 2-core machine (go run ./bench --scenarios password_login): the RSS
// peak sits 13-25 MB above the limit (the binary's text, SQLite's and
// pgx's buffers, thread stacks); a 48 MiB base peaked at 122-134 MB, 32 MiB
// at 107 MB with the login rate unchanged within the noise, and a 75 MiB
// limit in all cut the login rate by a quarter.
func memoryLimit(slots int, p password.Params) int64 {
	return baseMemory + int64(slots)*int64(p.Memory)<<10*3/2
}

// setMemoryLimit applies memoryLimit for the hasher newHasher builds,
// unless GOMEMLIMIT is set, which the runtime has already applied.
func setMemoryLimit(getenv func(string) string, log *slog.Logger) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := memoryLimit(runtime.NumCPU(), password.DefaultParams)
	debug.SetMemoryLimit(limit)
	log.Debug("memory limit", "bytes", limit)
}
