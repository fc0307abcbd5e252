package login

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/config"
)

// Brute-force protection (SPEC §5, Auth0's model). Two counters live in the
// database, so every instance of a cluster sees the same state:
//
//   - per account and IP: BruteForceThreshold (10) consecutive failures
//     block that pair until a successful password change, `latch users
//     unblock`, or blockLifetime after the last failure. The right password
//     does not get through a block; other IPs are not affected.
//   - per IP, any accounts: a generic cell rate algorithm allowing
//     SuspiciousIPFailures (100) failures per ipWindow (24 h), after which
//     the IP may try once every ipWindow/SuspiciousIPFailures (14.4 min).
const (
	blockLifetime = 30 * 24 * time.Hour
	ipWindow      = 24 * time.Hour
)

// Messages of the two blocks.
const (
	msgTooManyAttempts = "Your account has been blocked after too many failed login attempts from this IP address (%s) (too_many_attempts). " +
		"Sign-ins from other networks are not affected. To unblock it, ask the administrator of this application to unblock your account " +
		"or to set a new password for it."
	msgSuspiciousIP = "We have detected suspicious login behavior and further attempts will be blocked (too_many_attempts). " +
		"Please try again in %s or contact the administrator."
)

var errTooManyAttempts = errors.New("login: too many attempts for this account from this IP")

// unknownKey is the failure counter's key for an identifier that names no
// user: a hash, so the database never holds what was typed (it may be a
// password entered in the wrong field), yet repeated attempts with one
// identifier are blocked exactly as for a real account and the block does
// not reveal whether the account exists.
func unknownKey(connection, ident string) string {
	sum := sha256.Sum256([]byte(connection + "\x00" + strings.ToLower(ident)))
	return "unknown|" + hex.EncodeToString(sum[:16])
}

// canonicalIP writes an address one way: IPv4-mapped IPv6 addresses as
// IPv4, IPv6 compressed and without zone. Anything else is kept as is.
func canonicalIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	return a.Unmap().WithZone("").String()
}

// throttleKey is the address the per-IP throttle counts: the IP itself, or
// for IPv6 its /64, the smallest block one subscriber usually holds.
func throttleKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// ipCost is how much one failure charges an IP's throttle.
func ipCost(cfg *config.Config) time.Duration {
	return ipWindow / time.Duration(max(cfg.RateLimits.SuspiciousIPFailures, 1))
}

// ipThrottled reports how long ip must wait before its next attempt (0: it
// may try now).
func (h *Handler) ipThrottled(ctx context.Context, cfg *config.Config, ip string, now time.Time) (time.Duration, error) {
	tat, err := h.d.Store.IPThrottle(ctx, throttleKey(ip))
	if err != nil || !tat.After(now) {
		return 0, err
	}
	// Room for one more failure is left while the load is at most one
	// cost below the window.
	if wait := tat.Sub(now) - (ipWindow - ipCost(cfg)); wait > 0 {
		return wait, nil
	}
	return 0, nil
}

// attempt is one login POST as brute-force protection sees it.
type attempt struct {
	cfg *config.Config
	ip  string
	now time.Time
}

// blocked reports whether the account and IP pair has reached the
// threshold, and the pair's count.
func (h *Handler) blocked(ctx context.Context, at attempt, key string) (bool, int, error) {
	n, err := h.d.Store.CountLoginFailures(ctx, key, at.ip, at.now)
	if err != nil {
		return false, 0, fmt.Errorf("login: count failures: %w", err)
	}
	return n >= at.cfg.RateLimits.BruteForceThreshold, n, nil
}

// failed records a failed attempt for the pair and the IP's throttle, and
// answers errTooManyAttempts when this failure reached the threshold. Only
// failures below the threshold are told apart from a block, so however
// many guesses run at once, at most threshold-1 are answered "wrong". The
// writes do not follow the request's cancellation: a client that hangs up
// once its password is being checked is still counted.
func (h *Handler) failed(ctx context.Context, at attempt, key string) error {
	wctx := context.WithoutCancel(ctx)
	n, err := h.d.Store.RecordLoginFailure(wctx, key, at.ip, at.now, at.now.Add(blockLifetime))
	if err != nil {
		h.d.Logger.WarnContext(ctx, "record login failure", "error", err)
	}
	if _, err := h.d.Store.ThrottleIP(wctx, throttleKey(at.ip), at.now, ipCost(at.cfg)); err != nil {
		h.d.Logger.WarnContext(ctx, "throttle ip", "error", err)
	}
	if n >= at.cfg.RateLimits.BruteForceThreshold {
		h.d.Logger.WarnContext(ctx, "brute-force block", "account", logKey(key), "ip", at.ip, "failures", n)
		return errTooManyAttempts
	}
	return errWrongCredentials
}

// succeeded is called after the right password: it refuses the login when
// concurrent failures blocked the pair while the password was being
// checked (a guess that raced the block learns nothing), and otherwise
// forgets the pair's failures (consecutive failures, as Auth0 counts them).
func (h *Handler) succeeded(ctx context.Context, at attempt, key string) error {
	blocked, n, err := h.blocked(ctx, at, key)
	switch {
	case err != nil:
		return err
	case blocked:
		return errTooManyAttempts
	case n > 0:
		if err := h.d.Store.ClearLoginFailures(context.WithoutCancel(ctx), key, at.ip); err != nil {
			h.d.Logger.WarnContext(ctx, "clear login failures", "error", err)
		}
	}
	return nil
}

// logKey shows a user id as is and an unknown identifier's key shortened.
func logKey(key string) string {
	if strings.HasPrefix(key, "unknown|") {
		return "unknown"
	}
	return key
}

// tooManyAttemptsMessage is the login form's error for a blocked pair.
func tooManyAttemptsMessage(ip string) string { return fmt.Sprintf(msgTooManyAttempts, ip) }

// suspiciousIPMessage is the login form's error for a throttled IP; it
// sets Retry-After.
func suspiciousIPMessage(w http.ResponseWriter, wait time.Duration) string {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return fmt.Sprintf(msgSuspiciousIP, roughly(wait))
}

// roughly renders a wait for people: "3 minutes", "1 minute", "45 seconds".
func roughly(d time.Duration) string {
	switch m := int((d + time.Minute - 1) / time.Minute); {
	case d < time.Minute:
		return strconv.Itoa(int((d+time.Second-1)/time.Second)) + " seconds"
	case m == 1:
		return "1 minute"
	default:
		return strconv.Itoa(m) + " minutes"
	}
}
