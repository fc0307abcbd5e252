package users

import (
	"context"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// Block is one entry of a profile's blocked_for: an IP address from which
// brute-force protection blocks the user, in the shape of Auth0's
// GET /api/v2/user-blocks/{id}.
type Block struct {
	Identifier string `json:"identifier"`
	IP         string `json:"ip"`
	Connection string `json:"connection"`
}

// BlockedFor lists u's brute-force blocks: the IPs from which at least
// threshold consecutive logins failed (rate_limits.brute_force_threshold).
// The result is never nil, for ProfileOf.
func BlockedFor(ctx context.Context, st store.Store, u *store.User, threshold int, now time.Time) ([]any, error) {
	runs, err := st.ListLoginFailures(ctx, u.ID, now)
	if err != nil {
		return nil, fmt.Errorf("users: list blocks of %q: %w", u.ID, err)
	}
	ident := u.Email
	if ident == "" {
		ident = u.Username
	}
	out := []any{}
	for _, r := range runs {
		if r.Count >= threshold {
			out = append(out, Block{Identifier: ident, IP: r.IP, Connection: u.Connection})
		}
	}
	return out, nil
}

// ClearBlocks lifts every brute-force block of the user and forgets their
// failed logins (`latch users unblock`, a password change).
func ClearBlocks(ctx context.Context, st store.Store, userID string) error {
	if err := st.ClearLoginFailures(ctx, userID, ""); err != nil {
		return fmt.Errorf("users: clear blocks of %q: %w", userID, err)
	}
	return nil
}
