package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/latch-auth/latch/internal/store"
)

const sessionCols = `id, cookie_hash, user_id, auth_time, created_at, last_seen_at,
	idle_expires_at, expires_at`

func scanSession(r pgx.Row) (*store.Session, error) {
	var s store.Session
	if err := r.Scan(&s.ID, &s.CookieHash, &s.UserID, &s.AuthTime, &s.CreatedAt,
		&s.LastSeenAt, &s.IdleExpiresAt, &s.ExpiresAt); err != nil {
		return nil, mapErr(err)
	}
	s.AuthTime, s.CreatedAt, s.LastSeenAt = utc(s.AuthTime), utc(s.CreatedAt), utc(s.LastSeenAt)
	s.IdleExpiresAt, s.ExpiresAt = utc(s.IdleExpiresAt), utc(s.ExpiresAt)
	return &s, nil
}

// CreateSession inserts s. ErrConflict for a duplicate id or cookie hash.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	if err := checkText("id", ss.ID, "cookie hash", ss.CookieHash, "user id", ss.UserID); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (`+sessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ss.ID, ss.CookieHash, ss.UserID, ts(ss.AuthTime), ts(ss.CreatedAt),
		ts(ss.LastSeenAt), ts(ss.IdleExpiresAt), ts(ss.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create session %q: %w", ss.ID, mapErr(err))
	}
	return nil
}

// GetSessionByCookie returns the live session (now before both expiries)
// whose cookie hash matches, or ErrNotFound.
func (s *Store) GetSessionByCookie(ctx context.Context, cookieHash string, now time.Time) (*store.Session, error) {
	if !storable(cookieHash) {
		return nil, fmt.Errorf("store: get session by cookie: %w", store.ErrNotFound)
	}
	ss, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE cookie_hash = $1 AND idle_expires_at > $2 AND expires_at > $2`,
		cookieHash, ts(now)))
	if err != nil {
		return nil, fmt.Errorf("store: get session by cookie: %w", err)
	}
	return ss, nil
}

// GetSession returns a session by its public id, expired or not.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	if !storable(id) {
		return nil, fmt.Errorf("store: get session: %w", store.ErrNotFound)
	}
	ss, err := scanSession(s.pool.QueryRow(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: get session %q: %w", id, err)
	}
	return ss, nil
}

// TouchSession sets LastSeenAt to now and slides the idle expiry to
// idleExpiresAt, clamped to ExpiresAt. ErrNotFound for an unknown id.
func (s *Store) TouchSession(ctx context.Context, id string, now, idleExpiresAt time.Time) error {
	return s.updateSession(ctx, "touch", id, `UPDATE sessions
		SET last_seen_at = $1, idle_expires_at = least($2, expires_at) WHERE id = $3`,
		ts(now), ts(idleExpiresAt), id)
}

// UpdateSessionAuth records a fresh password login: AuthTime and LastSeenAt
// become authTime, and the idle expiry slides to idleExpiresAt (clamped to
// ExpiresAt). ErrNotFound for an unknown id.
func (s *Store) UpdateSessionAuth(ctx context.Context, id string, authTime, idleExpiresAt time.Time) error {
	return s.updateSession(ctx, "update auth of", id, `UPDATE sessions
		SET auth_time = $1, last_seen_at = $1, idle_expires_at = least($2, expires_at) WHERE id = $3`,
		ts(authTime), ts(idleExpiresAt), id)
}

// DeleteSession removes a session (logout). ErrNotFound if absent.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.updateSession(ctx, "delete", id, `DELETE FROM sessions WHERE id = $1`, id)
}

func (s *Store) updateSession(ctx context.Context, op, id, query string, args ...any) error {
	if !storable(id) {
		return fmt.Errorf("store: %s session: %w", op, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("store: %s session %q: %w", op, id, mapErr(err))
	}
	return nil
}

// CreateTransaction inserts a login transaction. ErrConflict for a
// duplicate id.
func (s *Store) CreateTransaction(ctx context.Context, t *store.LoginTransaction) error {
	if err := checkText("id", t.ID, "client id", t.ClientID); err != nil {
		return fmt.Errorf("store: create login transaction: %w", err)
	}
	params := []byte(t.Params)
	if params == nil {
		params = []byte{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO login_transactions
		(id, client_id, params, created_at, expires_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.ClientID, params, ts(t.CreatedAt), ts(t.ExpiresAt), nullTS(t.CompletedAt))
	if err != nil {
		return fmt.Errorf("store: create login transaction: %w", mapErr(err))
	}
	return nil
}

// GetTransaction returns a transaction by id whether open, completed or
// expired, or ErrNotFound.
func (s *Store) GetTransaction(ctx context.Context, id string) (*store.LoginTransaction, error) {
	if !storable(id) {
		return nil, fmt.Errorf("store: get login transaction: %w", store.ErrNotFound)
	}
	var (
		t         store.LoginTransaction
		params    []byte
		completed pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT id, client_id, params, created_at, expires_at,
		completed_at FROM login_transactions WHERE id = $1`, id).
		Scan(&t.ID, &t.ClientID, &params, &t.CreatedAt, &t.ExpiresAt, &completed)
	if err != nil {
		return nil, fmt.Errorf("store: get login transaction: %w", mapErr(err))
	}
	if len(params) > 0 {
		t.Params = params
	}
	t.CreatedAt, t.ExpiresAt, t.CompletedAt = utc(t.CreatedAt), utc(t.ExpiresAt), fromNull(completed)
	return &t, nil
}

// CompleteTransaction marks an open, unexpired transaction completed in one
// conditional UPDATE: of concurrent callers exactly one wins (the others
// wait for its row lock, then find completed_at set), the others get
// ErrNotFound, as do callers with an unknown or expired id.
func (s *Store) CompleteTransaction(ctx context.Context, id string, now time.Time) error {
	if !storable(id) {
		return fmt.Errorf("store: complete login transaction: %w", store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE login_transactions SET completed_at = $1
		WHERE id = $2 AND completed_at IS NULL AND expires_at > $1`, ts(now), id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("store: complete login transaction: %w", mapErr(err))
	}
	return nil
}
