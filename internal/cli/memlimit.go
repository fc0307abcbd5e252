package cli

import (
	"log/slog"
	"runtime"
	"runtime/debug"

	"github.com/latch-auth/latch/internal/password"
)

// baseMemory is what latch's Go heap needs apart from password hashing:
// config, keys, templates, connections and requests in flight.
const baseMemory = 64 << 20

// memoryLimit is serve's soft limit for the Go runtime: the base plus a
// quarter more than the argon2id memory of every hashing slot. Each login
// allocates Params.Memory (19 MiB by default) and drops it; with the
// default GOGC the heap is then allowed to grow to twice that before a
// collection, and a login flood on a 2-core machine peaked near 150 MB of
// RSS in the load benchmark. Under the limit the collector runs earlier
// and the scavenger returns freed pages sooner.
func memoryLimit(slots int, p password.Params) int64 {
	return baseMemory + int64(slots)*int64(p.Memory)<<10*5/4
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
