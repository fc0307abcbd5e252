package password

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id cost parameters (RFC 9106 §3.1).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	KeyLen  uint32 // bytes of hash output
	SaltLen uint32 // bytes of random salt
}

// DefaultParams is the OWASP Password Storage Cheat Sheet's first argon2id
// configuration: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// Limits on parameters read from stored hashes. A stored hash (from an import
// or a tampered row) must not make one login allocate gigabytes or spin for
// minutes.
const (
	maxMemory     = 256 << 10 // KiB = 256 MiB
	maxTime       = 16
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 128
	maxBcryptCost = 15
)

// ErrBusy is returned when no hashing slot came free within MaxWait, or
// (wrapping ctx.Err()) when ctx ended first.
var ErrBusy = errors.New("password: too many password hashes in progress")

// MaxWait is how long a hash waits for a free slot before giving up with
// ErrBusy. A login flood then gets quick refusals (503) instead of a queue
// that grows without bound, holding requests and their memory.
const MaxWait = 2 * time.Second

// ErrUnknownFormat is returned by Verify for an encoded hash that is neither
// argon2id PHC nor bcrypt.
var ErrUnknownFormat = errors.New("password: unknown hash format")

// ErrMalformed is returned by Verify for an argon2id or bcrypt hash that
// cannot be parsed or whose parameters are out of range.
var ErrMalformed = errors.New("password: malformed hash")

// Hasher hashes and verifies passwords. At most maxConcurrent hashes run at
// once; each argon2id hash holds Params.Memory KiB, so the bound caps the
// memory a login flood can take, and a hash waits at most MaxWait for its
// turn. A Hasher is safe for concurrent use.
type Hasher struct {
	p     Params
	sem   chan struct{}
	dummy []byte // salt for VerifyDummy

	// track, when set (Observe, tests), sees +1 after a slot is taken and
	// -1 just before it is given back.
	track func(delta int32)
}

// Observe makes f see every hash: +1 once it has a slot, -1 when it gives
// the slot back, so f can count the hashes in flight (for tests and
// metrics). Call it before the Hasher is used; f must be safe for
// concurrent use.
func (h *Hasher) Observe(f func(delta int32)) { h.track = f }

// New returns a Hasher using p for new hashes; zero fields of p take the
// DefaultParams values. maxConcurrent <= 0 means runtime.NumCPU().
func New(p Params, maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	d := DefaultParams
	p.Memory = cmp.Or(p.Memory, d.Memory)
	p.Time = cmp.Or(p.Time, d.Time)
	p.Threads = cmp.Or(p.Threads, d.Threads)
	p.KeyLen = cmp.Or(p.KeyLen, d.KeyLen)
	p.SaltLen = cmp.Or(p.SaltLen, d.SaltLen)
	return &Hasher{p: p, sem: make(chan struct{}, maxConcurrent), dummy: make([]byte, p.SaltLen)}
}

// Params returns the parameters used for new hashes.
func (h *Hasher) Params() Params { return h.p }

// acquire takes a hashing slot, or gives up after MaxWait or when ctx ends.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	select {
	case h.sem <- struct{}{}: // a free slot: no timer needed
	default:
		t := time.NewTimer(MaxWait)
		defer t.Stop()
		select {
		case h.sem <- struct{}{}:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
		}
	}
	if h.track != nil {
		h.track(1)
	}
	return nil
}

func (h *Hasher) release() {
	if h.track != nil {
		h.track(-1)
	}
	<-h.sem
}

// Hash returns the argon2id PHC string of pw:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	h.release()
	return encodePHC(h.p, salt, key), nil
}

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether pw matches encoded, an argon2id PHC string (any
// parameters) or a bcrypt hash ($2a$, $2b$, $2y$) from an Auth0 import.
// needsRehash is true when pw matched but encoded should be replaced by
// Hash(pw): always for bcrypt, and for argon2id made with other parameters.
// A malformed or unknown hash is an error, never a panic.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := decodePHC(encoded)
		if err != nil {
			return false, false, err
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		h.release()
		if subtle.ConstantTimeCompare(got, key) != 1 {
			return false, false, nil
		}
		return true, p != h.p, nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		if err := checkBcrypt(encoded); err != nil {
			return false, false, err
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		// CompareHashAndPassword compares in constant time.
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
		h.release()
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: bcrypt: %w", ErrMalformed, err)
		}
	default:
		return false, false, ErrUnknownFormat
	}
}

// VerifyDummy spends the same time and memory as verifying a password against
// an argon2id hash made with the hasher's parameters, and discards the result.
// Call it when the user does not exist so that response timing does not reveal
// which accounts exist. Its only error is ErrBusy, which the caller must
// treat as Verify's: answering otherwise would reveal that the user does
// not exist.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	// The result is deliberately unused: only the cost matters.
	_ = argon2.IDKey([]byte(pw), h.dummy, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	h.release()
	return nil
}

// decodePHC parses $argon2id$v=19$m=M,t=T,p=P$salt$hash.
func decodePHC(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: argon2id: want 5 $-separated fields", ErrMalformed)
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: argon2id: unsupported version %q", ErrMalformed, parts[2])
	}
	var m, t, th uint64
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, fmt.Errorf("%w: argon2id: want m=,t=,p= parameters", ErrMalformed)
	}
	for i, dst := range []*uint64{&m, &t, &th} {
		name := "mtp"[i : i+1]
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return p, nil, nil, fmt.Errorf("%w: argon2id: want parameter %s", ErrMalformed, name)
		}
		n, err := parseUint(v)
		if err != nil {
			return p, nil, nil, fmt.Errorf("%w: argon2id: parameter %s: %w", ErrMalformed, name, err)
		}
		*dst = n
	}
	if m < 8*th || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > 255 {
		return p, nil, nil, fmt.Errorf("%w: argon2id: parameters m=%d,t=%d,p=%d out of range", ErrMalformed, m, t, th)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, fmt.Errorf("%w: argon2id: bad salt", ErrMalformed)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, fmt.Errorf("%w: argon2id: bad hash", ErrMalformed)
	}
	p = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th), KeyLen: uint32(len(key)), SaltLen: uint32(len(salt))}
	return p, salt, key, nil
}

// parseUint accepts 1 to 10 decimal digits without sign or leading zeros.
func parseUint(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("not a canonical decimal number")
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("not a canonical decimal number")
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

// checkBcrypt validates the shape of $2x$NN$<53 chars> and bounds the cost
// before the expensive key setup runs.
func checkBcrypt(s string) error {
	if len(s) != 60 || s[6] != '$' {
		return fmt.Errorf("%w: bcrypt: want 60 characters like $2b$10$<salt><hash>", ErrMalformed)
	}
	cost, err := parseUint(strings.TrimPrefix(s[4:6], "0"))
	if err != nil || cost < uint64(bcrypt.MinCost) || cost > maxBcryptCost {
		return fmt.Errorf("%w: bcrypt: cost %q out of range", ErrMalformed, s[4:6])
	}
	return nil
}
