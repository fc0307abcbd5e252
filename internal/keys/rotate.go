package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// Key states reported by List.
const (
	StateCurrent  = "current"  // signs now
	StateNext     = "next"     // published; signs from NotBefore
	StateRetiring = "retiring" // replaced; still published so issued tokens verify
	StatePrevious = "previous" // past ExpiresAt; unpublished, deleted by Run
)

// KeyInfo describes a stored key for `latch keys list`.
type KeyInfo struct {
	ID        string
	Algorithm string
	CreatedAt time.Time
	NotBefore time.Time
	ExpiresAt time.Time // zero: published until a rotation replaces it
	State     string    // one of the State* constants
}

// Rotate creates a new key that is published at once and signs from
// now+RotationDelay. Every older key without an expiry gets one: the new
// key's NotBefore plus RetireAfter, when the last token it signed has
// expired. It first checks that master decrypts the existing keys, so a
// wrong secret cannot leave a key no server can use. Running servers pick
// the new key up on their next Refresh.
func Rotate(ctx context.Context, st store.Store, master []byte, opts Options) (*store.SigningKey, error) {
	opts = opts.withDefaults()
	kek, err := deriveKEK(master)
	if err != nil {
		return nil, err
	}
	recs, err := st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	for i := range recs {
		if _, err := decrypt(kek, &recs[i]); err != nil {
			return nil, err
		}
	}
	now := opts.Now()
	notBefore := now.Add(opts.RotationDelay)
	rec, _, err := generate(kek, now, notBefore)
	if err != nil {
		return nil, err
	}
	if err := st.CreateSigningKey(ctx, rec); err != nil {
		return nil, fmt.Errorf("keys: create signing key: %w", err)
	}
	retire := notBefore.Add(opts.RetireAfter)
	for _, r := range recs {
		if !r.ExpiresAt.IsZero() {
			continue
		}
		if err := st.SetSigningKeyExpiry(ctx, r.ID, retire); err != nil {
			return nil, fmt.Errorf("keys: set expiry of %s: %w", r.ID, err)
		}
	}
	return rec, nil
}

// List describes every stored key at now, in NotBefore order. It needs no
// master secret.
func List(ctx context.Context, st store.Store, now time.Time) ([]KeyInfo, error) {
	recs, err := st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	alg := make(map[string]string, len(recs))
	for _, r := range recs {
		alg[r.ID] = r.Algorithm
	}
	es := newEntries(recs)
	cur := current(es, now)
	out := make([]KeyInfo, len(es))
	for i, e := range es {
		state := StateRetiring
		switch {
		case e == cur:
			state = StateCurrent
		case !e.published(now):
			state = StatePrevious
		case e.notBefore.After(now):
			state = StateNext
		}
		out[i] = KeyInfo{ID: e.id, Algorithm: alg[e.id], CreatedAt: e.createdAt, NotBefore: e.notBefore, ExpiresAt: e.expiresAt, State: state}
	}
	return out, nil
}
