package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	"github.com/latch-auth/latch/internal/cli"
)

// Profiling (--cpuprofile DIR): the benchmark then starts latch as
// `bench profiled-latch DIR serve ...`, which is latch's own main (cli.Run)
// with a CPU profile around it. Before each scenario's timed window the
// benchmark writes the scenario's name to DIR/next and sends SIGUSR1; the
// profile so far is closed and a new one, named for the scenario, begins.
// The served code is the same; only the process also holds the benchmark's
// code, which it never runs.

// profiledLatch is the `profiled-latch` child.
func profiledLatch(dir string, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cur, tr *os.File
	withTrace := os.Getenv("BENCH_TRACE") != ""
	begin := func(name string) {
		if cur != nil {
			pprof.StopCPUProfile()
			_ = cur.Close()
		}
		if tr != nil {
			trace.Stop()
			_ = tr.Close()
			tr = nil
		}
		if withTrace {
			if f, err := os.Create(filepath.Join(dir, "trace-"+name+".out")); err == nil && trace.Start(f) == nil {
				tr = f
			}
		}
		f, err := os.Create(filepath.Join(dir, "cpu-"+name+".pprof"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			cur = nil
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
		}
		cur = f
	}
	begin("startup")
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			b, _ := os.ReadFile(filepath.Join(dir, "next"))
			begin(strings.TrimSpace(string(b)))
		}
	}()
	code := cli.Run(ctx, append([]string{"latch"}, args...),
		cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	signal.Stop(usr1)
	if tr != nil {
		trace.Stop()
	}
	pprof.StopCPUProfile()
	if cur != nil {
		_ = cur.Close()
	}
	return code
}

// nextProfile asks a profiled latch to start the profile named name.
func (s *server) nextProfile(name string) error {
	if s.profileDir == "" || s.pid() == 0 {
		return nil
	}
	if err := os.WriteFile(filepath.Join(s.profileDir, "next"), []byte(name), 0o644); err != nil {
		return err
	}
	return syscall.Kill(s.pid(), syscall.SIGUSR1)
}
