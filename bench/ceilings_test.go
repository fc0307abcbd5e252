package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/latch-auth/latch/internal/keys"
)

func TestParseOpenSSLSpeed(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    float64
		wantErr bool
	}{
		{name: "one process", out: "version: 3.0.19\n                  sign    verify    sign/s verify/s\nrsa 2048 bits 0.000702s 0.000024s   1424.5  42098.5\n", want: 1424.5},
		{name: "-multi", out: "Forked child 0\nForked child 1\nGot: +F2:2:2048:1300.1:41000.0 from 0\nGot: +F2:2:2048:1299.9:41000.0 from 1\n" +
			"                  sign    verify    sign/s verify/s\nrsa 2048 bits 0.000385s 0.000012s   2600.0  82000.0\n", want: 2600},
		{name: "other key sizes around", out: "rsa 1024 bits 0.000100s 0.000010s  10000.0 100000.0\nrsa 2048 bits 0.000800s 0.000025s   1250.0  40000.0\n", want: 1250},
		{name: "no table", out: "speed: Unknown algorithm rsa2048\n", wantErr: true},
		{name: "zero", out: "rsa 2048 bits 0.000000s 0.000000s      0.0      0.0\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOpenSSLSpeed([]byte(tc.out))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestCompareOpenSSL(t *testing.T) {
	c := ceilings{OpenSSL: 2600, OpenSSLPerCPUSec: 1300}
	tests := []struct {
		name            string
		r               result
		ratio, ratioCPU float64
	}{
		{"two signatures", result{Ceiling: ceilSign, Sigs: 2, RPS: 1000, CPU: cpuUse{Latch: 1.6, LoadGen: 0.4}}, 0.769, 0.769},
		{"one signature, idle core", result{Ceiling: ceilSign, Sigs: 1, RPS: 1040, CPU: cpuUse{Latch: 0.8, LoadGen: 0.2}}, 0.4, 0.8},
		{"no signature", result{Ceiling: ceilHTTP, RPS: 9000, CPU: cpuUse{Latch: 1.5, LoadGen: 0.5}}, 0, 0},
		{"no CPU sampled", result{Ceiling: ceilSign, Sigs: 1, RPS: 1300}, 0.5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.compareOpenSSL(c)
			if tc.r.RatioToOpenSSL != tc.ratio || tc.r.RatioToOpenSSLPerCPU != tc.ratioCPU {
				t.Fatalf("got %v / %v, want %v / %v", tc.r.RatioToOpenSSL, tc.r.RatioToOpenSSLPerCPU, tc.ratio, tc.ratioCPU)
			}
		})
	}
	r := result{Ceiling: ceilSign, Sigs: 1, RPS: 1000}
	r.compareOpenSSL(ceilings{})
	if r.RatioToOpenSSL != 0 || r.RatioToOpenSSLPerCPU != 0 {
		t.Fatalf("ratios without an OpenSSL measurement: %+v", r)
	}
}

func TestVersionSigner(t *testing.T) {
	tests := []struct{ out, want string }{
		{"latch devel (go1.26.8, signer openssl)\n", "openssl"},
		{"latch v1.2.3+abcdef012345 (go1.26.8-X:boringcrypto, signer boringcrypto)\n", "boringcrypto"},
		{"latch devel\n", ""},
	}
	for _, tc := range tests {
		got := ""
		if m := versionSignerRE.FindStringSubmatch(tc.out); m != nil {
			got = m[1]
		}
		if got != tc.want {
			t.Errorf("%q: signer %q, want %q", tc.out, got, tc.want)
		}
	}
}

// TestBuildVariant checks that the test binary's own variant is passed on:
// GOEXPERIMENT is always set (cleared when the binary has none), and -tags
// only when it was built with tags.
func TestBuildVariant(t *testing.T) {
	flags, env := buildVariant()
	if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "GOEXPERIMENT=") }) {
		t.Fatalf("env %q has no GOEXPERIMENT", env)
	}
	if len(flags) != 0 && (len(flags) != 2 || flags[0] != "-tags" || flags[1] == "") {
		t.Fatalf("flags %q", flags)
	}
	if keys.Signer() == "openssl" && (len(flags) != 2 || !strings.Contains(flags[1], "openssl")) {
		t.Fatalf("openssl build, flags %q", flags)
	}
	if keys.Signer() == "boringcrypto" && !slices.Contains(env, "GOEXPERIMENT=boringcrypto") {
		t.Fatalf("boringcrypto build, env %q", env)
	}
}
