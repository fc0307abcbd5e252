package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// report is the JSON the benchmark writes (--json FILE).
type report struct {
	Date        string     `json:"date"`
	Machine     machine    `json:"machine"`
	Database    string     `json:"database"` // sqlite | postgres
	Signer      string     `json:"signer"`   // latch's RS256 signer: go | boringcrypto | openssl
	Conns       int        `json:"conns"`
	DurationS   float64    `json:"duration_s"`
	Ceilings    ceilings   `json:"ceilings"`     // the best of CeilingRuns; ratios use these
	CeilingRuns []ceilings `json:"ceiling_runs"` // before and after the scenarios
	IdleRSSMB   float64    `json:"idle_rss_mb"`
	PeakRSSMB   float64    `json:"peak_rss_mb"`
	ColdStartMS float64    `json:"cold_start_ms"`
	ColdStarts  []float64  `json:"cold_starts_ms"`
	Scenarios   []result   `json:"scenarios"`
	Growth      *growth    `json:"growth,omitempty"`
	Notes       []string   `json:"notes,omitempty"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// result is one scenario's measurement.
type result struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Conns       int     `json:"conns"`
	Requests    int     `json:"requests"`
	DurationS   float64 `json:"duration_s"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Sigs        int     `json:"signatures_per_request"`
	Ceiling     string  `json:"ceiling"`
	// CeilingValue is the ceiling as measured just before this scenario,
	// per second on all cores, and CeilingPerCPU per CPU-second.
	CeilingValue  float64 `json:"ceiling_value"`
	CeilingPerCPU float64 `json:"ceiling_per_cpu_sec"`
	Ratio         float64 `json:"ratio_to_ceiling"`
	// RatioPerCPU is the ratio per CPU-second: throughput per core latch
	// and the load generator used, over the ceiling per core its own
	// measurement used. It discounts other work on a shared machine and
	// idle cores (diagnosis).
	RatioPerCPU float64 `json:"ratio_per_cpu"`
	// RatioToOpenSSL is, for the token scenarios, rps ×
	// signatures_per_request over openssl_speed_rs256_per_sec (OpenSSL on
	// the same cores, by the clock), and RatioToOpenSSLPerCPU the same per
	// CPU-second latch and the load generator used, over one OpenSSL
	// process's signatures per CPU-second. Absent when OpenSSL was not
	// measured. The faster-signing builds aim at ≥ 0.8 (issue 7).
	RatioToOpenSSL       float64 `json:"ratio_to_openssl,omitempty"`
	RatioToOpenSSLPerCPU float64 `json:"ratio_to_openssl_per_cpu,omitempty"`
	PeakRSSMB            float64 `json:"peak_rss_mb"` // highest VmRSS sampled during the window
	CPU                  cpuUse  `json:"cpu_cores"`   // where the machine's cores went during the window
	Note                 string  `json:"note,omitempty"`
}

// growth compares p50 latencies on an empty database with those after
// bulk-loading users and refresh tokens.
type growth struct {
	SeededUsers  int                `json:"seeded_users"`
	SeededTokens int                `json:"seeded_refresh_tokens"`
	SeedSeconds  float64            `json:"seed_seconds"`
	Scenarios    []result           `json:"scenarios"`
	P50Ratio     map[string]float64 `json:"p50_ratio_to_empty"`
	RPSRatio     map[string]float64 `json:"rps_ratio_to_empty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func newMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// finish computes r's ratios against its own ceiling measurement:
// signatures/s over the signing rate, requests/s over the bare handler's,
// or logins/s over the argon2id hash rate; and the same per CPU-second.
func (r *result) finish() {
	work := 1.0 // units of the ceiling per request
	if r.Ceiling == ceilSign {
		work = float64(r.Sigs)
	}
	r.Ratio = round(div(r.RPS*work, r.CeilingValue), 3)
	r.RatioPerCPU = round(div(div(r.RPS*work, r.CPU.Latch+r.CPU.LoadGen), r.CeilingPerCPU), 3)
}

// compareOpenSSL sets r's ratios to OpenSSL's RS256 rate, for the
// scenarios that sign.
func (r *result) compareOpenSSL(c ceilings) {
	if r.Ceiling != ceilSign || r.Sigs == 0 {
		return
	}
	sigs := r.RPS * float64(r.Sigs)
	r.RatioToOpenSSL = round(div(sigs, c.OpenSSL), 3)
	r.RatioToOpenSSLPerCPU = round(div(div(sigs, r.CPU.Latch+r.CPU.LoadGen), c.OpenSSLPerCPUSec), 3)
}

// div is a/b, or 0 when b is not positive.
func div(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v >= 0 {
		return float64(int64(v*p+0.5)) / p
	}
	return -float64(int64(-v*p+0.5)) / p
}

func printHeader(w io.Writer) {
	fmt.Fprintf(w, "%-20s %9s %8s %8s %6s %4s %7s %7s %8s %8s %17s  %s\n",
		"scenario", "rps", "p50 ms", "p99 ms", "errors", "sig", "ratio", "per-cpu", "ossl/cpu", "rss MB", "cpu latch/gen/oth", "ceiling")
}

func printRow(w io.Writer, r result) {
	note := ""
	if r.Note != "" {
		note = "  (" + r.Note + ")"
	}
	cpu := fmt.Sprintf("%.2f/%.2f/%.2f", r.CPU.Latch, r.CPU.LoadGen, r.CPU.Other)
	ossl := "-" // per-CPU ratio to openssl speed, token scenarios only
	if r.RatioToOpenSSLPerCPU > 0 {
		ossl = fmt.Sprintf("%.3f", r.RatioToOpenSSLPerCPU)
	}
	fmt.Fprintf(w, "%-20s %9.0f %8.2f %8.2f %6d %4d %7.3f %7.3f %8s %8.1f %17s  %s%s\n",
		r.Name, r.RPS, r.P50ms, r.P99ms, r.Errors, r.Sigs, r.Ratio, r.RatioPerCPU, ossl, r.PeakRSSMB, cpu, r.Ceiling, note)
}

func printSummary(w io.Writer, rep *report) {
	c := rep.Ceilings
	var parts []string
	if c.Sign > 0 {
		parts = append(parts, fmt.Sprintf("%.0f RS256 signatures/s (keys.Manager.Sign, signer %s, %d cores; %.0f per CPU-second)",
			c.Sign, rep.Signer, rep.Machine.CPUs, c.SignPerCPUSec))
	}
	if c.HTTP > 0 {
		parts = append(parts, fmt.Sprintf("%.0f req/s bare net/http (p50 %.2f ms)", c.HTTP, c.HTTPp50ms))
	}
	if c.Argon2 > 0 {
		parts = append(parts, fmt.Sprintf("%.1f argon2id hashes/s", c.Argon2))
	}
	fmt.Fprintf(w, "\nbest ceilings: %s", strings.Join(parts, ", "))
	if c.OpenSSL > 0 {
		fmt.Fprintf(w, "; openssl speed rsa2048 %.0f signs/s (%d processes), %.0f per CPU-second",
			c.OpenSSL, runtime.GOMAXPROCS(0), c.OpenSSLPerCPUSec)
	}
	fmt.Fprintf(w, "\nmemory: idle RSS %.1f MB, peak RSS %.1f MB; cold start %.1f ms (exec to /readyz 200, existing database)\n",
		rep.IdleRSSMB, rep.PeakRSSMB, rep.ColdStartMS)
	if g := rep.Growth; g != nil {
		fmt.Fprintf(w, "\ngrowth: %d users and %d refresh tokens seeded in %.1f s; after seeding:\n", g.SeededUsers, g.SeededTokens, g.SeedSeconds)
		printHeader(w)
		for _, r := range g.Scenarios {
			printRow(w, r)
		}
		for _, r := range g.Scenarios {
			fmt.Fprintf(w, "  %-18s p50 %6.2f ms = %.2f × empty; rps %.0f = %.2f × empty\n",
				r.Name, r.P50ms, g.P50Ratio[r.Name], r.RPS, g.RPSRatio[r.Name])
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
