package keys

import (
	"cmp"
	"context"
	"crypto"
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
	// ensureMu serialises Ensure, so concurrent callers that find the same
	// algorithm without a key create one key, not one each.
	ensureMu sync.Mutex
	// verified caches the payloads of tokens Verify accepted (verifycache.go).
	verified verifiedCache
	// opened caches the payloads of sealed tokens Open accepted.
	opened verifiedCache
	// sealer seals opaque access tokens (sealed.go); nil when the master
	// secret is unusable (err says why).
	sealer *sealer
}

// material is the decrypted, immutable part of a key, shared between key sets
// so a Refresh that changes only expiries re-decrypts nothing.
type material struct {
	alg   string // RS256, ES256 or EdDSA
	priv  crypto.Signer
	pub   crypto.PublicKey // what Verify checks signatures with
	jwk   jose.JSONWebKey  // public half with kid, alg, use
	jwt   jose.Signer      // typ "JWT"; go-jose signers are safe for concurrent use
	typed sync.Map         // other typ values: string -> jose.Signer
}

// entry is one key's schedule plus, once decrypted, its material.
type entry struct {
	id, alg                         string
	createdAt, notBefore, expiresAt time.Time
	*material
}

// published reports whether the key is in the JWKS at now.
func (e *entry) published(now time.Time) bool {
	return e.expiresAt.IsZero() || e.expiresAt.After(now)
}

// keySet is an immutable snapshot of the keys, sorted by (algorithm,
// NotBefore, CreatedAt, ID), with a lazily built JWKS document. Each
// algorithm has its own schedule: byAlg[algIndex(alg)] is its run of
// entries, on which current() picks its signing key.
type keySet struct {
	entries []*entry
	byAlg   [len(algs)][]*entry
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
	if m.err == nil {
		m.sealer, m.err = newSealer(master)
	}
	return m
}

// Init loads the keys, creating the first RS256 key when the store has
// none (and the first key of each of algs, see Ensure), and decrypts them
// all. A key that does not decrypt fails with an error wrapping
// ErrWrongSecret.
func (m *Manager) Init(ctx context.Context, algs ...string) error {
	return m.Ensure(ctx, append([]string{RS256}, algs...)...)
}

// Ensure makes sure each of algs has a published key, creating the first
// key of an algorithm that has none (it signs at once: no token of that
// algorithm exists yet, and clients look unknown kids up again), then
// refreshes the key set. Call it before a configuration that names a new
// algorithm is used (start, SIGHUP); it is cheap when nothing is missing.
func (m *Manager) Ensure(ctx context.Context, algs ...string) error {
	if m.err != nil {
		return m.err
	}
	for _, alg := range algs {
		if !Supported(alg) {
			return fmt.Errorf("keys: unsupported algorithm %q", alg)
		}
	}
	m.ensureMu.Lock()
	defer m.ensureMu.Unlock()
	recs, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	now := m.opts.Now()
	done := map[string]bool{}
	for _, alg := range algs {
		if done[alg] || hasPublished(recs, alg, now) {
			continue
		}
		done[alg] = true
		if err := m.createFirst(ctx, alg); err != nil {
			return err
		}
	}
	return m.Refresh(ctx)
}

// hasPublished reports whether recs hold a key of alg published at now.
func hasPublished(recs []store.SigningKey, alg string, now time.Time) bool {
	for _, r := range recs {
		if r.Algorithm == alg && (r.ExpiresAt.IsZero() || r.ExpiresAt.After(now)) {
			return true
		}
	}
	return false
}

// createFirst creates the first key of alg. Instances starting together on
// one empty database may each generate one. Generation takes a while, so
// each looks again just before inserting and drops its key if another
// appeared. Those that still insert re-read the keys and withdraw their own
// unless the current-key rule picks it. The rule is a total order, so the
// largest key is never withdrawn; any other survivor is retired by Refresh
// (see retireDuplicates), and every instance signs with the same key after
// Refresh.
func (m *Manager) createFirst(ctx context.Context, alg string) error {
	now := m.opts.Now()
	rec, _, err := generate(m.kek, alg, now, now)
	if err != nil {
		return err
	}
	recs, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	if hasPublished(recs, alg, m.opts.Now()) {
		return nil // another instance won while we generated
	}
	if err := m.st.CreateSigningKey(ctx, rec); err != nil {
		return fmt.Errorf("keys: create signing key: %w", err)
	}
	m.opts.Logger.Info("created signing key", "kid", rec.ID, "alg", alg)
	if recs, err = m.st.ListSigningKeys(ctx); err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	cur := current(ofAlg(newEntries(recs), alg), m.opts.Now())
	if cur == nil || cur.id == rec.ID {
		return nil
	}
	m.opts.Logger.Info("another instance created the first signing key; withdrawing ours", "kid", rec.ID, "alg", alg, "using", cur.id)
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
// current for its algorithm and has none. Rotate keeps "one unexpired
// started key per algorithm" true; only
// a first-start race (or a Rotate cut short) breaks it, and this repairs it
// so the extra key eventually leaves the JWKS. Instances that have not yet
// refreshed may still sign with it, hence RefreshInterval on top of
// RetireAfter. Failures are logged: the set is still correct to serve.
func (m *Manager) retireDuplicates(ctx context.Context, ks *keySet) {
	now := m.opts.Now()
	for _, es := range ks.byAlg {
		cur := current(es, now)
		for _, e := range es {
			if e == cur || !e.expiresAt.IsZero() || e.notBefore.After(now) {
				continue
			}
			at := now.Add(m.opts.RefreshInterval + m.opts.RetireAfter)
			if err := m.st.SetSigningKeyExpiry(ctx, e.id, at); err != nil {
				m.opts.Logger.Warn("retire superseded signing key", "kid", e.id, "err", err)
				continue
			}
			m.opts.Logger.Info("retiring superseded signing key", "kid", e.id, "alg", e.alg, "expires_at", at)
		}
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
	rec := make(map[string]*store.SigningKey, len(recs))
	for i := range recs {
		rec[recs[i].ID] = &recs[i]
	}
	for _, e := range ks.entries {
		if old != nil && old.byID[e.id] != nil {
			e.material = old.byID[e.id].material
		} else if e.material, err = m.decrypt(rec[e.id]); err != nil {
			return err
		}
		ks.byID[e.id] = e
	}
	for _, run := range byAlgorithm(ks.entries) {
		// decrypt refused any algorithm outside algs.
		ks.byAlg[algIndex(run[0].alg)] = run
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
	pub := priv.Public()
	mat := &material{alg: rec.Algorithm, priv: priv, pub: pub,
		jwk: jose.JSONWebKey{Key: pub, KeyID: rec.ID, Algorithm: rec.Algorithm, Use: "sig"}}
	if mat.jwt, err = newSigner(mat.alg, priv, rec.ID, "JWT"); err != nil {
		return nil, err
	}
	return mat, nil
}

func newSigner(alg string, priv crypto.Signer, kid, typ string) (jose.Signer, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	key, err := signingKeyFor(alg, priv)
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %s: %w", kid, err)
	}
	// A JSONWebKey with a KeyID makes go-jose put "kid" in the header.
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: joseAlg(alg), Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
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

// newEntries converts store rows to entries sorted by (algorithm,
// NotBefore, CreatedAt, ID), without material.
func newEntries(recs []store.SigningKey) []*entry {
	es := make([]*entry, len(recs))
	for i, r := range recs {
		es[i] = &entry{id: r.ID, alg: r.Algorithm, createdAt: r.CreatedAt, notBefore: r.NotBefore, expiresAt: r.ExpiresAt}
	}
	return sortEntries(es)
}

// sortEntries sorts es in place by (algorithm, NotBefore, CreatedAt, ID)
// and returns it. Algorithms go in algs order (RS256 first); an unknown
// one, which only List meets, goes last.
func sortEntries(es []*entry) []*entry {
	rank := func(alg string) int {
		if i := algIndex(alg); i >= 0 {
			return i
		}
		return len(algs)
	}
	slices.SortFunc(es, func(a, b *entry) int {
		if c := cmp.Compare(rank(a.alg), rank(b.alg)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.alg, b.alg); c != 0 {
			return c
		}
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

// byAlgorithm splits es, sorted by sortEntries, into one run per algorithm.
func byAlgorithm(es []*entry) [][]*entry {
	var runs [][]*entry
	for start := 0; start < len(es); {
		end := start + 1
		for end < len(es) && es[end].alg == es[start].alg {
			end++
		}
		runs = append(runs, es[start:end:end])
		start = end
	}
	return runs
}

// ofAlg returns the run of alg's entries in es (sorted by sortEntries).
func ofAlg(es []*entry, alg string) []*entry {
	for _, run := range byAlgorithm(es) {
		if run[0].alg == alg {
			return run
		}
	}
	return nil
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

// current returns the signing key at now among es, the keys of one
// algorithm: the published key with the latest
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
