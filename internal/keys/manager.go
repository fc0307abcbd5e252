package keys

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latch-auth/latch/internal/store"
)

// Defaults for zero Options fields.
const (
	// DefaultRotationDelay gives relying parties time to fetch the JWKS that
	// already lists the next key before it signs anything.
	DefaultRotationDelay = time.Hour
	// DefaultRefreshInterval is how often Run re-reads the key set.
	DefaultRefreshInterval = time.Minute
	// DefaultRetireAfter covers the default access-token lifetime (86400 s).
	DefaultRetireAfter = 24 * time.Hour
)

// ErrNoSigningKey means there is no usable key: Init has not run, or every
// key has expired.
var ErrNoSigningKey = errors.New("keys: no signing key")

// Options tune key rotation. Zero durations take the Default* values.
type Options struct {
	// RotationDelay is how long after `latch keys rotate` the new key starts
	// signing. It is published at once. Keep it above RefreshInterval plus
	// the time clients cache the JWKS.
	RotationDelay time.Duration
	// RefreshInterval is how often Run re-reads the keys from the store.
	RefreshInterval time.Duration
	// RetireAfter is how long a replaced key stays in the JWKS after its
	// successor starts signing: the longest token lifetime.
	RetireAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives Run's errors; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.RotationDelay <= 0 {
		o.RotationDelay = DefaultRotationDelay
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.RetireAfter <= 0 {
		o.RetireAfter = DefaultRetireAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Manager holds the decrypted signing keys, signs and verifies JWTs and
// serves the JWKS. It is safe for concurrent use. The hot paths (Sign,
// Verify, JWKS) read an immutable key set through one atomic load; Refresh
// swaps in a new set.
type Manager struct {
	st   store.Store
	kek  []byte
	err  error // from deriving kek; reported by Init and Refresh
	opts Options
	set  atomic.Pointer[keySet]
	mu   sync.Mutex // serialises Refresh
	// verified caches the payloads of tokens Verify accepted (verifycache.go).
	verified verifiedCache
}

// material is the decrypted, immutable part of a key, shared between key sets
// so a Refresh that changes only expiries re-decrypts nothing.
type material struct {
	priv  *rsa.PrivateKey
	jwk   jose.JSONWebKey // public half with kid, alg, use
	jwt   jose.Signer     // typ "JWT"; go-jose signers are safe for concurrent use
	typed sync.Map        // other typ values: string -> jose.Signer
}

// entry is one key's schedule plus, once decrypted, its material.
type entry struct {
	id                              string
	createdAt, notBefore, expiresAt time.Time
	*material
}

// published reports whether the key is in the JWKS at now.
func (e *entry) published(now time.Time) bool {
	return e.expiresAt.IsZero() || e.expiresAt.After(now)
}

// keySet is an immutable snapshot of the keys, sorted by (NotBefore,
// CreatedAt, ID), with a lazily built JWKS document.
type keySet struct {
	entries []*entry
	byID    map[string]*entry
	jwks    atomic.Pointer[jwksDoc]
}

// jwksDoc is a serialised JWKS and the time range [from, until) over which
// it is correct: it changes only when a key's ExpiresAt passes.
type jwksDoc struct {
	body        []byte
	from, until time.Time // zero: unbounded
}

// NewManager returns a Manager over st whose keys are encrypted under a key
// derived from master. Call Init before using it.
func NewManager(st store.Store, master []byte, opts Options) *Manager {
	m := &Manager{st: st, opts: opts.withDefaults()}
	m.kek, m.err = deriveKEK(master)
	return m
}

// Init loads the keys, creating the first one when the store has none, and
// decrypts them all. A key that does not decrypt fails with an error wrapping
// ErrWrongSecret.
func (m *Manager) Init(ctx context.Context) error {
	if m.err != nil {
		return m.err
	}
	recs, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	if len(recs) == 0 {
		if err := m.createFirst(ctx); err != nil {
			return err
		}
	}
	return m.Refresh(ctx)
}

// createFirst creates the first key. Instances starting together on one
// empty database may each generate one. Generation takes a while, so each
// looks again just before inserting and drops its key if another appeared.
// Those that still insert re-read the keys and withdraw their own unless the
// current-key rule picks it. The rule is a total order, so the largest key is
// never withdrawn; any other survivor is retired by Refresh (see
// retireDuplicates), and every instance signs with the same key after
// Refresh.
func (m *Manager) createFirst(ctx context.Context) error {
	now := m.opts.Now()
	rec, _, err := generate(m.kek, now, now)
	if err != nil {
		return err
	}
	recs, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	if len(recs) > 0 {
		return nil // another instance won while we generated
	}
	if err := m.st.CreateSigningKey(ctx, rec); err != nil {
		return fmt.Errorf("keys: create signing key: %w", err)
	}
	m.opts.Logger.Info("created signing key", "kid", rec.ID)
	if recs, err = m.st.ListSigningKeys(ctx); err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	cur := current(newEntries(recs), m.opts.Now())
	if cur == nil || cur.id == rec.ID {
		return nil
	}
	m.opts.Logger.Info("another instance created the first signing key; withdrawing ours", "kid", rec.ID, "using", cur.id)
	if err := m.st.SetSigningKeyExpiry(ctx, rec.ID, rec.CreatedAt.Add(-time.Second)); err != nil {
		m.opts.Logger.Warn("withdraw duplicate signing key", "kid", rec.ID, "err", err)
		return nil
	}
	if _, err := m.st.DeleteExpiredSigningKeys(ctx, m.opts.Now()); err != nil {
		m.opts.Logger.Warn("delete duplicate signing key", "kid", rec.ID, "err", err)
	}
	return nil
}

// retireDuplicates gives an expiry to every key that has started, is not
// current and has none. Rotate keeps "one unexpired started key" true; only
// a first-start race (or a Rotate cut short) breaks it, and this repairs it
// so the extra key eventually leaves the JWKS. Instances that have not yet
// refreshed may still sign with it, hence RefreshInterval on top of
// RetireAfter. Failures are logged: the set is still correct to serve.
func (m *Manager) retireDuplicates(ctx context.Context, ks *keySet) {
	now := m.opts.Now()
	cur := current(ks.entries, now)
	for _, e := range ks.entries {
		if e == cur || !e.expiresAt.IsZero() || e.notBefore.After(now) {
			continue
		}
		at := now.Add(m.opts.RefreshInterval + m.opts.RetireAfter)
		if err := m.st.SetSigningKeyExpiry(ctx, e.id, at); err != nil {
			m.opts.Logger.Warn("retire superseded signing key", "kid", e.id, "err", err)
			continue
		}
		m.opts.Logger.Info("retiring superseded signing key", "kid", e.id, "expires_at", at)
	}
}

// Refresh re-reads the keys from the store (for other instances' rotations
// and `latch keys rotate`). On error the previous set stays in use. When
// nothing changed, the cached set (and its JWKS bytes) is kept. A superseded
// key left without an expiry is given one (see retireDuplicates).
func (m *Manager) Refresh(ctx context.Context) error {
	if m.err != nil {
		return m.err
	}
	// Listing under the lock keeps an older listing from replacing a newer one.
	m.mu.Lock()
	defer m.mu.Unlock()
	recs, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	if len(recs) == 0 {
		return fmt.Errorf("%w in the store", ErrNoSigningKey)
	}
	old := m.set.Load()
	if old.same(recs) {
		m.retireDuplicates(ctx, old)
		return nil
	}
	ks := &keySet{entries: newEntries(recs), byID: make(map[string]*entry, len(recs))}
	for i, e := range ks.entries {
		if old != nil && old.byID[e.id] != nil {
			e.material = old.byID[e.id].material
		} else if e.material, err = m.decrypt(&recs[i]); err != nil {
			return err
		}
		ks.byID[e.id] = e
	}
	m.set.Store(ks)
	m.retireDuplicates(ctx, ks)
	return nil
}

// decrypt builds a key's material.
func (m *Manager) decrypt(rec *store.SigningKey) (*material, error) {
	priv, err := decrypt(m.kek, rec)
	if err != nil {
		return nil, err
	}
	mat := &material{priv: priv, jwk: jose.JSONWebKey{Key: &priv.PublicKey, KeyID: rec.ID, Algorithm: Algorithm, Use: "sig"}}
	if mat.jwt, err = newSigner(priv, rec.ID, "JWT"); err != nil {
		return nil, err
	}
	return mat, nil
}

func newSigner(priv *rsa.PrivateKey, kid, typ string) (jose.Signer, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	key, err := rsaSigningKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %s: %w", kid, err)
	}
	// A JSONWebKey with a KeyID makes go-jose put "kid" in the header.
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %s: %w", kid, err)
	}
	return s, nil
}

// Run refreshes the key set every RefreshInterval and deletes keys past
// their ExpiresAt, until ctx is done. Errors are logged; the last good set
// stays in use.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.tick(ctx)
	}
}

// tick is one round of Run.
func (m *Manager) tick(ctx context.Context) {
	if n, err := m.st.DeleteExpiredSigningKeys(ctx, m.opts.Now()); err != nil {
		if ctx.Err() == nil {
			m.opts.Logger.Error("delete expired signing keys", "err", err)
		}
	} else if n > 0 {
		m.opts.Logger.Info("deleted expired signing keys", "count", n)
	}
	if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
		m.opts.Logger.Error("refresh signing keys", "err", err)
	}
}

// newEntries converts store rows to entries sorted by (NotBefore,
// CreatedAt, ID), without material.
func newEntries(recs []store.SigningKey) []*entry {
	es := make([]*entry, len(recs))
	for i, r := range recs {
		es[i] = &entry{id: r.ID, createdAt: r.CreatedAt, notBefore: r.NotBefore, expiresAt: r.ExpiresAt}
	}
	return sortEntries(es)
}

// sortEntries sorts es in place by (NotBefore, CreatedAt, ID) and returns it.
func sortEntries(es []*entry) []*entry {
	slices.SortFunc(es, func(a, b *entry) int {
		if c := a.notBefore.Compare(b.notBefore); c != 0 {
			return c
		}
		if c := a.createdAt.Compare(b.createdAt); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return es
}

// same reports whether recs describe exactly the keys and schedule of ks.
func (ks *keySet) same(recs []store.SigningKey) bool {
	if ks == nil || len(recs) != len(ks.entries) {
		return false
	}
	for _, r := range recs {
		e := ks.byID[r.ID]
		if e == nil || !e.createdAt.Equal(r.CreatedAt) || !e.notBefore.Equal(r.NotBefore) || !e.expiresAt.Equal(r.ExpiresAt) {
			return false
		}
	}
	return true
}

// current returns the signing key at now: the published key with the latest
// NotBefore <= now (ties: latest CreatedAt, then largest ID). If every
// published key starts in the future (clock skew), the earliest one, since
// it is already in the JWKS. Nil when nothing is published.
func current(es []*entry, now time.Time) *entry {
	var first *entry
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if !e.published(now) {
			continue
		}
		if !e.notBefore.After(now) {
			return e
		}
		first = e
	}
	return first
}
