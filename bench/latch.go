package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Fixed names of the benchmark tenant.
const (
	spaClient   = "bench-spa"
	m2mClient   = "bench-m2m"
	benchAPI    = "https://api.bench.latch/"
	es256API    = "https://es256.bench.latch/" // signing_alg: ES256
	eddsaAPI    = "https://eddsa.bench.latch/" // signing_alg: EdDSA
	callbackURL = "http://127.0.0.1:3000/callback"
	connection  = "Username-Password-Authentication"
)

// server is one latch deployment under test: its folder, config and
// (while running) process.
type server struct {
	bin       string // latch binary
	dir       string // config, SQLite file, logs
	addr      string // 127.0.0.1:port
	database  string // sqlite:... or postgres://...
	secret    string // LATCH_SECRET
	m2mSecret string
	// profileDir, when set, runs latch under the benchmark's profiling
	// wrapper (see profile.go).
	profileDir string
	cmd        *exec.Cmd
	exited     chan error // receives cmd.Wait's result
	logFile    *os.File
}

// buildLatch compiles ./cmd/latch of the module in root into dir, as the
// same build variant as this benchmark (its -tags, GOEXPERIMENT and
// CGO_ENABLED; see buildVariant), so that latch signs with the signer the
// in-process signing ceiling measures.
func buildLatch(root, dir string) (string, error) {
	bin := filepath.Join(dir, "latch")
	flags, env := buildVariant()
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, "./cmd/latch")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s ./cmd/latch (%s): %w", strings.Join(flags, " "), strings.Join(env, " "), err)
	}
	return bin, nil
}

// moduleRoot is the folder of the go.mod governing the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark from inside the latch module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freeAddr returns a 127.0.0.1 address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// newServer prepares the folder and config of a latch under test.
func newServer(bin, dir, database string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir, addr: addr, database: database,
		secret: randomHex(32), m2mSecret: randomHex(24)}
	if s.database == "" {
		s.database = "sqlite:" + filepath.Join(dir, "latch.db")
	}
	return s, os.WriteFile(s.configPath(), []byte(s.config()), 0o600)
}

func (s *server) configPath() string { return filepath.Join(s.dir, "latch.yaml") }

// issuer is the issuer latch derives from its listen address.
func (s *server) issuer() string { return "http://" + s.addr + "/" }

// config is the benchmark tenant. Rate limits are set far above what the
// benchmark sends so they do not shape the results; codes and login
// transactions live long enough to be minted before the timed window.
// Everything else is latch's default, the access log included.
func (s *server) config() string {
	return fmt.Sprintf(`# written by latch's benchmark (go run ./bench)
listen: %s
database: %q
lifetimes: { code: 900s, transaction: 900s }
rate_limits: { login_per_minute: 1000000000, token_per_minute: 1000000000 }
connections:
  - { name: %s, type: database, signup: true, password_min_length: 8 }
apis:
  - { identifier: %q, name: Bench API, scopes: [read:items, write:items],
      allow_offline_access: true }
  - { identifier: %q, name: Bench ES256 API, scopes: [read:items], signing_alg: ES256 }
  - { identifier: %q, name: Bench EdDSA API, scopes: [read:items], signing_alg: EdDSA }
clients:
  - client_id: %s
    name: Bench SPA
    type: spa
    callbacks: [%q]
    web_origins: ["http://127.0.0.1:3000"]
    allowed_logout_urls: ["http://127.0.0.1:3000/"]
    grant_types: [authorization_code, refresh_token]
  - { client_id: %s, type: m2m, client_secret: %q, grant_types: [client_credentials], apis: [%q, %q, %q] }
`, s.addr, s.database, connection, benchAPI, es256API, eddsaAPI, spaClient, callbackURL, m2mClient, s.m2mSecret, benchAPI, es256API, eddsaAPI)
}

// start execs `latch serve` and waits until /readyz answers 200. It returns
// the time from exec to that answer (the cold start).
func (s *server) start(ctx context.Context) (time.Duration, error) {
	if s.logFile == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, "latch.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return 0, err
		}
		s.logFile = f
	}
	cmd := exec.Command(s.bin, "serve", "--config", s.configPath())
	if s.profileDir != "" {
		self, err := os.Executable()
		if err != nil {
			return 0, err
		}
		cmd = exec.Command(self, "profiled-latch", s.profileDir, "serve", "--config", s.configPath())
	}
	cmd.Env = append(os.Environ(), "LATCH_SECRET="+s.secret)
	cmd.Stdout, cmd.Stderr = s.logFile, s.logFile
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start latch: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if probeReady(s.addr) {
			return time.Since(t0), nil
		}
		select {
		case err := <-s.exited:
			s.cmd = nil
			return 0, fmt.Errorf("latch exited during start (%v); last log lines:\n%s", err, s.logTail(15))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return 0, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return 0, fmt.Errorf("latch did not become ready within 60 s; last log lines:\n%s", s.logTail(15))
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// probeReady sends one GET /readyz. Until latch binds its port the dial is
// refused at once; afterwards the request waits in the listen queue until
// latch serves it, so the answer marks the first moment latch can serve.
func probeReady(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET /readyz HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")); err != nil {
		return false
	}
	var resp response
	if err := readResponse(bufio.NewReader(c), &resp, false); err != nil {
		return false
	}
	return resp.Status == 200
}

// stop sends SIGTERM and waits for latch to exit (SIGKILL after 20 s).
func (s *server) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	p := s.cmd.Process
	s.cmd = nil
	_ = p.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return err
		}
		if err != nil {
			return fmt.Errorf("latch exited with %v; last log lines:\n%s", err, s.logTail(10))
		}
		return nil
	case <-time.After(20 * time.Second):
		_ = p.Kill()
		<-s.exited
		return errors.New("latch did not stop within 20 s of SIGTERM; killed")
	}
}

// pid is the running latch's process id (0 when stopped).
func (s *server) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// memory reads VmRSS and VmHWM (peak RSS) of pid from /proc, in MiB.
func memory(pid int) (rss, hwm float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb / 1024
		} else {
			hwm = kb / 1024
		}
	}
	return rss, hwm, nil
}

// logTail returns the last n lines of latch's log.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(filepath.Join(s.dir, "latch.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cpuSample is a reading of the machine's and two processes' CPU time.
type cpuSample struct {
	at         time.Time
	busy       float64 // seconds all cores spent not idle since boot
	latch, gen float64 // seconds of CPU used by latch and by this process
}

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTick = 100.0

// sampleCPU reads /proc/stat and the two processes' /proc/PID/stat.
func sampleCPU(latchPID int) cpuSample {
	s := cpuSample{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n") // "cpu  user nice system idle iowait irq softirq steal ..."
		f := strings.Fields(line)
		for i := 1; i < len(f) && i <= 8; i++ {
			v, _ := strconv.ParseFloat(f[i], 64)
			if i != 4 && i != 5 { // idle, iowait
				s.busy += v / clockTick
			}
		}
	}
	s.latch = procCPU(latchPID)
	s.gen = procCPU(os.Getpid())
	return s
}

// procCPU is utime+stime of pid in seconds (0 when unreadable).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields count from after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64) // utime is field 14 of the file
	k, _ := strconv.ParseFloat(f[12], 64) // stime is field 15
	return (u + k) / clockTick
}

// cpuUse is the average number of cores used between two samples.
type cpuUse struct {
	Latch   float64 `json:"latch"`   // cores latch used
	LoadGen float64 `json:"loadgen"` // cores the benchmark (load generator) used
	Other   float64 `json:"other"`   // cores anything else on the machine used
	Idle    float64 `json:"idle"`    // cores left idle
}

func cpuBetween(a, b cpuSample, cores int) cpuUse {
	d := b.at.Sub(a.at).Seconds()
	if d <= 0 {
		return cpuUse{}
	}
	busy := (b.busy - a.busy) / d
	u := cpuUse{Latch: (b.latch - a.latch) / d, LoadGen: (b.gen - a.gen) / d}
	u.Other = max(0, busy-u.Latch-u.LoadGen)
	u.Idle = max(0, float64(cores)-busy)
	for _, p := range []*float64{&u.Latch, &u.LoadGen, &u.Other, &u.Idle} {
		*p = round(*p, 2)
	}
	return u
}
