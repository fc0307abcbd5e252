package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

const sessionCols = `id, cookie_hash, user_id, auth_time, created_at, last_seen_at,
	idle_expires_at, expires_at`

func scanSession(r rowScanner) (*store.Session, error) {
	var (
		s                                  store.Session
		auth, created, seen, idle, expires int64
	)
	if err := r.Scan(&s.ID, &s.CookieHash, &s.UserID, &auth, &created, &seen, &idle, &expires); err != nil {
		return nil, mapErr(err)
	}
	s.AuthTime, s.CreatedAt, s.LastSeenAt = fromMS(auth), fromMS(created), fromMS(seen)
	s.IdleExpiresAt, s.ExpiresAt = fromMS(idle), fromMS(expires)
	return &s, nil
}

// CreateSession inserts s. ErrConflict for a duplicate id or cookie hash.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		ss.ID, ss.CookieHash, ss.UserID, ms(ss.AuthTime), ms(ss.CreatedAt),
		ms(ss.LastSeenAt), ms(ss.IdleExpiresAt), ms(ss.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create session %q: %w", ss.ID, mapErr(err))
	}
	return nil
}

// GetSessionByCookie returns the live session (now before both expiries)
// whose cookie hash matches, or ErrNotFound.
func (s *Store) GetSessionByCookie(ctx context.Context, cookieHash string, now time.Time) (*store.Session, error) {
	ss, err := scanSession(s.read.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE cookie_hash = ?1 AND idle_expires_at > ?2 AND expires_at > ?2`,
		cookieHash, ms(now)))
	if err != nil {
		return nil, fmt.Errorf("store: get session by cookie: %w", err)
	}
	return ss, nil
}

// GetSession returns a session by its public id, expired or not.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	ss, err := scanSession(s.read.QueryRowContext(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("store: get session %q: %w", id, err)
	}
	return ss, nil
}

// TouchSession sets LastSeenAt to now and slides the idle expiry to
// idleExpiresAt, clamped to ExpiresAt. ErrNotFound for an unknown id.
func (s *Store) TouchSession(ctx context.Context, id string, now, idleExpiresAt time.Time) error {
	return s.updateSession(ctx, "touch", id, `UPDATE sessions
		SET last_seen_at = ?, idle_expires_at = min(?, expires_at) WHERE id = ?`,
		ms(now), ms(idleExpiresAt), id)
}

// UpdateSessionAuth records a fresh password login: AuthTime and LastSeenAt
// become authTime, and the idle expiry slides to idleExpiresAt (clamped to
// ExpiresAt). ErrNotFound for an unknown id.
func (s *Store) UpdateSessionAuth(ctx context.Context, id string, authTime, idleExpiresAt time.Time) error {
	return s.updateSession(ctx, "update auth of", id, `UPDATE sessions
		SET auth_time = ?1, last_seen_at = ?1, idle_expires_at = min(?2, expires_at) WHERE id = ?3`,
		ms(authTime), ms(idleExpiresAt), id)
}

// DeleteSession removes a session (logout). ErrNotFound if absent.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.updateSession(ctx, "delete", id, `DELETE FROM sessions WHERE id = ?`, id)
}

func (s *Store) updateSession(ctx context.Context, op, id, query string, args ...any) error {
	res, err := s.write.ExecContext(ctx, query, args...)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("store: %s session %q: %w", op, id, mapErr(err))
	}
	return nil
}

// CreateTransaction inserts a login transaction. ErrConflict for a
// duplicate id.
func (s *Store) CreateTransaction(ctx context.Context, t *store.LoginTransaction) error {
	params := []byte(t.Params)
	if params == nil {
		params = []byte{}
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO login_transactions
		(id, client_id, params, created_at, expires_at, completed_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.ClientID, params, ms(t.CreatedAt), ms(t.ExpiresAt), nullMS(t.CompletedAt))
	if err != nil {
		return fmt.Errorf("store: create login transaction: %w", mapErr(err))
	}
	return nil
}

// GetTransaction returns a transaction by id whether open, completed or
// expired, or ErrNotFound.
func (s *Store) GetTransaction(ctx context.Context, id string) (*store.LoginTransaction, error) {
	var (
		t                store.LoginTransaction
		params           []byte
		created, expires int64
		completed        sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, `SELECT id, client_id, params, created_at, expires_at,
		completed_at FROM login_transactions WHERE id = ?`, id).
		Scan(&t.ID, &t.ClientID, &params, &created, &expires, &completed)
	if err != nil {
		return nil, fmt.Errorf("store: get login transaction: %w", mapErr(err))
	}
	if len(params) > 0 {
		t.Params = params
	}
	t.CreatedAt, t.ExpiresAt, t.CompletedAt = fromMS(created), fromMS(expires), fromNullMS(completed)
	return &t, nil
}

// CompleteTransaction marks an open, unexpired transaction completed in one
// conditional UPDATE: of concurrent callers exactly one wins, the others get
// ErrNotFound, as do callers with an unknown or expired id.
func (s *Store) CompleteTransaction(ctx context.Context, id string, now time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE login_transactions SET completed_at = ?1
		WHERE id = ?2 AND completed_at IS NULL AND expires_at > ?1`, ms(now), id)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("store: complete login transaction: %w", mapErr(err))
	}
	return nil
}
