// Command bench is latch's load benchmark. It builds and starts a real
// `latch serve` (SQLite in a temporary folder by default, or the PostgreSQL
// database given with --database), prepares users, sessions, codes and
// tokens through latch's own endpoints, then drives each scenario with a
// fixed number of keep-alive connections for a fixed time. Every scenario is
// compared with a ceiling measured in the same run on the same cores: RS256
// signatures per second with latch's signer, a bare net/http handler driven
// by the same load generator, and argon2id hashes per second with latch's
// parameters.
//
//	go run ./bench [--duration 10s] [--conns 32] [--scenarios a,b] [--json FILE]
//	               [--database postgres://...] [--seed-users N --seed-tokens M]
//
// It is not part of the served binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/latch-auth/latch/internal/keys"
)

// options are the command-line flags.
type options struct {
	duration    time.Duration
	warmup      time.Duration
	ceilingDur  time.Duration
	conns       int
	scenarios   string
	jsonPath    string
	database    string
	latchBin    string
	coldStarts  int
	openssl     bool
	keep        bool
	seedUsers   int
	seedTokens  int
	growthNames string
	profileDir  string
	genProfile  string
	slice       time.Duration
	serve       bool
	serveCodes  int
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "bare-server" {
		if err := serveBare(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bare-server:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "profiled-latch" {
		os.Exit(profiledLatch(os.Args[2], os.Args[3:]))
	}
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "timed window of each scenario")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each timed window")
	flag.DurationVar(&o.ceilingDur, "ceiling-duration", 3*time.Second, "how long each scenario's ceiling is measured, in slices alternating with the scenario's")
	flag.DurationVar(&o.slice, "slice", 2*time.Second, "length of the load slices that alternate with slices of the ceiling")
	flag.IntVar(&o.conns, "conns", 32, "keep-alive connections per scenario (wrk -c)")
	flag.StringVar(&o.scenarios, "scenarios", "", "comma-separated scenario names (default: all); see --list")
	flag.StringVar(&o.jsonPath, "json", "", "write the results as JSON to `FILE`")
	flag.StringVar(&o.database, "database", "", "postgres://... to benchmark on PostgreSQL (a fresh schema is created and dropped); default: SQLite in a temporary folder")
	flag.StringVar(&o.latchBin, "latch", "", "use this latch binary instead of building ./cmd/latch")
	flag.IntVar(&o.coldStarts, "cold-starts", 5, "cold starts to time (median is reported)")
	flag.BoolVar(&o.openssl, "openssl", true, "measure `openssl speed rsa2048` (when the openssl command exists) for the token scenarios' ratio_to_openssl")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (config, database, latch.log)")
	flag.IntVar(&o.seedUsers, "seed-users", 0, "growth check: bulk-load this many users, then re-run the growth scenarios")
	flag.IntVar(&o.seedTokens, "seed-tokens", 0, "growth check: bulk-load this many refresh tokens")
	flag.StringVar(&o.growthNames, "growth-scenarios", "refresh,userinfo_opaque,password_login", "scenarios re-run after seeding")
	flag.StringVar(&o.profileDir, "cpuprofile", "", "write a CPU profile of latch per scenario into `DIR` (diagnosis; runs latch under the benchmark binary)")
	flag.StringVar(&o.genProfile, "loadgen-cpuprofile", "", "write a CPU profile of the benchmark process itself to `FILE` (diagnosis)")
	flag.BoolVar(&o.serve, "serve", false, "prepare the tenant and tokens, print wrk commands and keep latch running (see bench/wrk/)")
	flag.IntVar(&o.serveCodes, "serve-codes", 40000, "codes --serve mints for bench/wrk/code.lua")
	list := flag.Bool("list", false, "list the scenarios and exit")
	flag.Parse()
	if *list {
		for _, s := range scenarios() {
			fmt.Printf("%-20s %s\n", s.name, s.desc)
		}
		return
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if o.genProfile != "" {
		f, err := os.Create(o.genProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// selectScenarios returns the scenarios named in a comma-separated list
// (all for "").
func selectScenarios(names string) ([]scenario, error) {
	all := scenarios()
	if names == "" || names == "all" {
		return all, nil
	}
	var out []scenario
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(all, func(s scenario) bool { return s.name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown scenario %q (see --list)", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(ctx context.Context, o options) (err error) {
	selected, err := selectScenarios(o.scenarios)
	if err != nil {
		return err
	}
	var growthSel []scenario
	if o.seedUsers > 0 || o.seedTokens > 0 {
		if growthSel, err = selectScenarios(o.growthNames); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "latch-bench-")
	if err != nil {
		return err
	}
	if o.keep || o.serve {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	rep := &report{
		Date: time.Now().UTC().Format(time.RFC3339), Machine: newMachine(), Database: "sqlite",
		Conns: o.conns, DurationS: o.duration.Seconds(),
	}
	database := ""
	if o.database != "" {
		if !strings.HasPrefix(o.database, "postgres://") && !strings.HasPrefix(o.database, "postgresql://") {
			return errors.New("--database takes a postgres:// URL (SQLite is the default)")
		}
		rep.Database = "postgres"
		schema := "latch_bench_" + randomHex(6)
		if database, err = createSchema(ctx, o.database, schema); err != nil {
			return err
		}
		defer func() {
			if derr := dropSchema(context.Background(), o.database, schema); derr != nil && err == nil {
				err = derr
			}
		}()
	}

	bin := o.latchBin
	if bin == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		logf("building latch")
		if bin, err = buildLatch(root, dir); err != nil {
			return err
		}
	}
	// latch and the signing ceiling (this process) must sign alike.
	if rep.Signer, err = latchSigner(bin); err != nil {
		return err
	}
	if rep.Signer != keys.Signer() {
		msg := fmt.Sprintf("latch signs with %q but the signing ceiling with %q: build the benchmark as the same variant (go run -tags openssl ./bench, GOEXPERIMENT=boringcrypto go run ./bench)", rep.Signer, keys.Signer())
		if o.latchBin == "" {
			return errors.New(msg)
		}
		rep.Notes = append(rep.Notes, msg)
	}
	logf("signer: %s", rep.Signer)

	m, err := newMeter(ctx, dir)
	if err != nil {
		return err
	}
	defer m.close()
	logf("quick signing measurement (sizes the codes minted for the code scenarios)")
	quick, err := m.quickSignRate(ctx, time.Second)
	if err != nil {
		return err
	}
	if o.openssl {
		logf("reference: openssl speed rsa2048 (%d processes, then one)", runtime.GOMAXPROCS(0))
		if rep.Ceilings.OpenSSL, rep.Ceilings.OpenSSLPerCPUSec, err = opensslCeiling(o.ceilingDur); err != nil {
			return err
		}
	}
	srv, err := newServer(bin, dir, database)
	if err != nil {
		return err
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
		srv.profileDir = o.profileDir
	}
	defer func() { _ = srv.stop() }()
	if err := coldStarts(ctx, srv, o.coldStarts, rep); err != nil {
		return err
	}
	time.Sleep(time.Second)
	if rep.IdleRSSMB, _, err = memory(srv.pid()); err != nil {
		return err
	}
	rep.IdleRSSMB = round(rep.IdleRSSMB, 1)

	e := &env{addr: srv.addr, conns: o.conns, warmup: o.warmup, dur: o.duration,
		signRate: quick, m2mSecret: srv.m2mSecret, ceilingDur: o.ceilingDur, slice: o.slice}
	logf("preparing %d users (signup + password login each)", o.conns)
	runID := randomHex(4)
	if e.users, err = prepareUsers(srv.addr, o.conns, runID); err != nil {
		return fmt.Errorf("prepare users: %w", err)
	}

	if o.serve {
		return serveForWrk(ctx, srv, e, dir, o.serveCodes)
	}
	for _, s := range selected {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r, err := runScenario(ctx, srv, e, m, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rep.Scenarios = append(rep.Scenarios, r)
	}
	if _, hwm, err := memory(srv.pid()); err == nil {
		rep.PeakRSSMB = round(hwm, 1)
	}

	if len(growthSel) > 0 {
		if rep.Growth, err = runGrowth(ctx, o, srv, e, m, growthSel, rep); err != nil {
			return fmt.Errorf("growth: %w", err)
		}
		if _, hwm, err := memory(srv.pid()); err == nil {
			rep.PeakRSSMB = max(rep.PeakRSSMB, round(hwm, 1))
		}
	}
	if err := srv.stop(); err != nil {
		rep.Notes = append(rep.Notes, "latch stop: "+err.Error())
	}
	ossl, osslCPU := rep.Ceilings.OpenSSL, rep.Ceilings.OpenSSLPerCPUSec
	rep.Ceilings = m.best
	rep.Ceilings.OpenSSL, rep.Ceilings.OpenSSLPerCPUSec = ossl, osslCPU
	for i := range rep.Scenarios {
		rep.Scenarios[i].compareOpenSSL(rep.Ceilings)
	}
	if rep.Growth != nil {
		for i := range rep.Growth.Scenarios {
			rep.Growth.Scenarios[i].compareOpenSSL(rep.Ceilings)
		}
	}
	for _, r := range rep.Scenarios {
		if r.Errors > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s had %d errors; first: %s", r.Name, r.Errors, r.FirstError))
		}
	}
	fmt.Printf("\nlatch on %s, signer %s, %d connections, %s per scenario (%s, %d cores)\n",
		rep.Database, rep.Signer, rep.Conns, o.duration, rep.Machine.CPUModel, rep.Machine.CPUs)
	printHeader(os.Stdout)
	for _, r := range rep.Scenarios {
		printRow(os.Stdout, r)
	}
	printSummary(os.Stdout, rep)
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, rep); err != nil {
			return err
		}
		logf("wrote %s", o.jsonPath)
	}
	return nil
}

// coldStarts starts latch once to create the database and the first
// signing key, then times n starts on the existing database (exec to
// /readyz 200) and reports the median. The last start stays running.
func coldStarts(ctx context.Context, srv *server, n int, rep *report) error {
	logf("first start (creates the database and the signing key)")
	if _, err := srv.start(ctx); err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return err
	}
	n = max(n, 1)
	for i := range n {
		d, err := srv.start(ctx)
		if err != nil {
			return err
		}
		rep.ColdStarts = append(rep.ColdStarts, round(ms(d), 2))
		if i < n-1 {
			if err := srv.stop(); err != nil {
				return err
			}
		}
	}
	sorted := slices.Clone(rep.ColdStarts)
	slices.Sort(sorted)
	rep.ColdStartMS = sorted[len(sorted)/2]
	logf("cold start: median %.1f ms of %v", rep.ColdStartMS, rep.ColdStarts)
	return nil
}

// runScenario prepares s and runs it in slices that alternate with slices
// of its ceiling's measurement, so that both see the same machine; it
// samples latch's RSS meanwhile.
func runScenario(ctx context.Context, srv *server, e *env, m *meter, s scenario) (result, error) {
	logf("%s: preparing", s.name)
	init, fn, err := s.prep(e)
	if err != nil {
		return result{}, fmt.Errorf("prepare: %w", err)
	}
	conns := e.conns
	if s.maxConns != nil {
		conns = min(conns, s.maxConns())
	}
	load, err := newHTTPGang(e.addr, srv.pid(), conns, init, fn)
	if err != nil {
		return result{}, fmt.Errorf("connect: %w", err)
	}
	defer load.close()
	ceil, err := m.gang(ctx, s.ceiling, conns)
	if err != nil {
		return result{}, err
	}
	defer ceil.close()
	slices := max(1, int((e.dur+e.slice/2)/e.slice))
	logf("%s: %s of load on %d connections in %d slices alternating with %s of %s, after %s of warm-up",
		s.name, e.dur, conns, slices, e.ceilingDur, s.ceiling, e.warmup)
	if err := srv.nextProfile(s.name); err != nil {
		return result{}, err
	}
	peak := sampleRSS(ctx, srv.pid())
	load.window(e.warmup, false)
	ceil.window(e.warmup/4, false)
	for i := 0; i < slices && !load.exhausted.Load() && ctx.Err() == nil; i++ {
		load.window(e.dur/time.Duration(slices), true)
		ceil.window(e.ceilingDur/time.Duration(slices), true)
	}
	peakMB := peak()
	if err := srv.nextProfile("after-" + s.name); err != nil {
		return result{}, err
	}
	c, x, err := ceil.result()
	if err != nil {
		return result{}, err
	}
	m.record(s.ceiling, c, x)
	if s.ceiling == ceilSign {
		e.signRate = c.PerSec
	}
	lr := load.result()
	r := result{
		Name: s.name, Description: s.desc, Conns: conns, Requests: lr.Requests,
		DurationS: round(lr.Elapsed.Seconds(), 3), RPS: round(lr.rps(), 1),
		P50ms: ms(percentile(lr.Latencies, 50)), P99ms: ms(percentile(lr.Latencies, 99)),
		Errors: lr.Errors, Sigs: s.sigs, Ceiling: s.ceiling,
		CeilingValue: round(c.PerSec, 1), CeilingPerCPU: round(c.PerCPUSec, 1),
		PeakRSSMB: round(peakMB, 1), CPU: lr.CPU,
	}
	if lr.FirstErr != nil {
		r.FirstError = lr.FirstErr.Error()
	}
	if lr.Exhausted {
		r.Note = "prepared codes ran out; window shortened"
	}
	r.finish()
	logf("%s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors; ratio %.3f (ceiling %.1f/s); cores latch %.2f, load generator %.2f, other %.2f",
		s.name, r.RPS, r.P50ms, r.P99ms, r.Errors, r.Ratio, r.CeilingValue, r.CPU.Latch, r.CPU.LoadGen, r.CPU.Other)
	return r, nil
}

// sampleRSS polls latch's VmRSS every 50 ms until the returned function is
// called, which returns the highest value seen (MiB).
func sampleRSS(ctx context.Context, pid int) func() float64 {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan float64, 1)
	go func() {
		peak := 0.0
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := memory(pid); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-ctx.Done():
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { cancel(); return <-done }
}
