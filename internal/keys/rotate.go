package keys

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// Rotate rotates the RS256 key; RotateAlgs rotates others.
func Rotate(ctx context.Context, st store.Store, master []byte, opts Options) (*store.SigningKey, error) {
	recs, err := RotateAlgs(ctx, st, master, opts, RS256)
	if err != nil {
		return nil, err
	}
	return recs[0], nil
}

// RotateAlgs rotates the key of each of algs, or, with none given, of every
// algorithm that has a published key (RS256 always): for each it creates a
// new key that is published at once and signs from now+RotationDelay, and
// gives every older key of that algorithm without an expiry one: the new
// key's NotBefore plus RetireAfter, when the last token it signed has
// expired. It first checks that master decrypts the existing keys, so a
// wrong secret cannot leave a key no server can use. An algorithm without
// a key is refused: its first key is made by a server whose configuration
// names it (Manager.Ensure), so the JWKS lists no key no API uses. Running
// servers pick the new keys up on their next Refresh. It returns the new
// keys in algorithm order.
func RotateAlgs(ctx context.Context, st store.Store, master []byte, opts Options, algs ...string) ([]*store.SigningKey, error) {
	opts = opts.withDefaults()
	for _, alg := range algs {
		if !Supported(alg) {
			return nil, fmt.Errorf("keys: unsupported algorithm %q (want one of %s)", alg, strings.Join(Algorithms(), ", "))
		}
	}
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
	var todo []string
	for _, alg := range Algorithms() {
		switch {
		case len(algs) == 0 && (alg == RS256 || hasPublished(recs, alg, now)):
			todo = append(todo, alg)
		case slices.Contains(algs, alg):
			if alg != RS256 && !hasPublished(recs, alg, now) {
				return nil, fmt.Errorf("keys: no %s key to rotate (its first key is made once an API has signing_alg: %s)", alg, alg)
			}
			todo = append(todo, alg)
		}
	}
	notBefore := now.Add(opts.RotationDelay)
	retire := notBefore.Add(opts.RetireAfter)
	var out []*store.SigningKey
	for _, alg := range todo {
		rec, _, err := generate(kek, alg, now, notBefore)
		if err != nil {
			return nil, err
		}
		if err := st.CreateSigningKey(ctx, rec); err != nil {
			return nil, fmt.Errorf("keys: create signing key: %w", err)
		}
		for _, r := range recs {
			if r.Algorithm != alg || !r.ExpiresAt.IsZero() {
				continue
			}
			if err := st.SetSigningKeyExpiry(ctx, r.ID, retire); err != nil {
				return nil, fmt.Errorf("keys: set expiry of %s: %w", r.ID, err)
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// List describes every stored key at now, by algorithm (RS256 first) and
// then in NotBefore order; each algorithm has its own current key. It needs
// no master secret.
func List(ctx context.Context, st store.Store, now time.Time) ([]KeyInfo, error) {
	recs, err := st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	out := make([]KeyInfo, 0, len(recs))
	for _, es := range byAlgorithm(newEntries(recs)) {
		cur := current(es, now)
		for _, e := range es {
			state := StateRetiring
			switch {
			case e == cur:
				state = StateCurrent
			case !e.published(now):
				state = StatePrevious
			case e.notBefore.After(now):
				state = StateNext
			}
			out = append(out, KeyInfo{ID: e.id, Algorithm: e.alg, CreatedAt: e.createdAt, NotBefore: e.notBefore, ExpiresAt: e.expiresAt, State: state})
		}
	}
	return out, nil
}
