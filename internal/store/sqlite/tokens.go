package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

const codeCols = `hash, client_id, redirect_uri, code_challenge, code_challenge_method,
	user_id, session_id, scope, audience, nonce, auth_time, created_at, expires_at,
	grant_id, used_at`

func scanCode(r rowScanner) (*store.AuthCode, error) {
	var (
		c                      store.AuthCode
		auth, created, expires int64
		used                   sql.NullInt64
	)
	err := r.Scan(&c.Hash, &c.ClientID, &c.RedirectURI, &c.CodeChallenge,
		&c.CodeChallengeMethod, &c.UserID, &c.SessionID, &c.Scope, &c.Audience,
		&c.Nonce, &auth, &created, &expires, &c.GrantID, &used)
	if err != nil {
		return nil, mapErr(err)
	}
	c.AuthTime, c.CreatedAt, c.ExpiresAt = fromMS(auth), fromMS(created), fromMS(expires)
	c.UsedAt = fromNullMS(used)
	return &c, nil
}

// SQL of the code statements, run in the committer's transactions; Open
// prepares them.
const (
	insertCodeSQL = `INSERT INTO auth_codes (` + codeCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	consumeCodeSQL = `UPDATE auth_codes SET used_at = ?1, grant_id = ?2
		WHERE hash = ?3 AND used_at IS NULL AND expires_at > ?1
		RETURNING ` + codeCols
	getCodeSQL = `SELECT ` + codeCols + ` FROM auth_codes WHERE hash = ?`
)

// CreateAuthCode inserts a code. ErrConflict for a duplicate hash.
func (s *Store) CreateAuthCode(ctx context.Context, c *store.AuthCode) error {
	err := s.withTx(ctx, func(ctx context.Context, q txQueries) error {
		_, err := q.ExecContext(ctx, insertCodeSQL,
			c.Hash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod,
			c.UserID, c.SessionID, c.Scope, c.Audience, c.Nonce, ms(c.AuthTime),
			ms(c.CreatedAt), ms(c.ExpiresAt), c.GrantID, nullMS(c.UsedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create auth code: %w", mapErr(err))
	}
	return nil
}

// ConsumeAuthCode marks the code used and stamps grantID on it with one
// conditional UPDATE ... RETURNING, so exactly one concurrent caller wins.
// When nothing matched, the row is read to tell a replay (the stored code,
// carrying the first use's GrantID, and ErrCodeReused) from an unknown or
// expired code (ErrNotFound).
func (s *Store) ConsumeAuthCode(ctx context.Context, hash, grantID string, now time.Time) (*store.AuthCode, error) {
	var c *store.AuthCode
	err := s.withTx(ctx, func(ctx context.Context, q txQueries) error {
		var err error
		c, err = scanCode(q.QueryRowContext(ctx, consumeCodeSQL, ms(now), grantID, hash))
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// The transaction sees every committed use, including the winner's.
		c, err = scanCode(q.QueryRowContext(ctx, getCodeSQL, hash))
		if err != nil {
			return err
		}
		if !c.UsedAt.IsZero() {
			return store.ErrCodeReused
		}
		c = nil
		return fmt.Errorf("expired: %w", store.ErrNotFound)
	})
	switch {
	case errors.Is(err, store.ErrCodeReused):
		return c, fmt.Errorf("store: consume auth code: %w", err)
	case err != nil:
		return nil, fmt.Errorf("store: consume auth code: %w", err)
	}
	return c, nil
}

const refreshCols = `hash, family_id, client_id, user_id, session_id, scope, audience,
	auth_time, created_at, idle_expires_at, family_expires_at, rotated_at, revoked_at`

func scanRefresh(r rowScanner) (*store.RefreshToken, error) {
	var (
		t                                  store.RefreshToken
		auth, created, idle, familyExpires int64
		rotated, revoked                   sql.NullInt64
	)
	err := r.Scan(&t.Hash, &t.FamilyID, &t.ClientID, &t.UserID, &t.SessionID, &t.Scope,
		&t.Audience, &auth, &created, &idle, &familyExpires, &rotated, &revoked)
	if err != nil {
		return nil, mapErr(err)
	}
	t.AuthTime, t.CreatedAt = fromMS(auth), fromMS(created)
	t.IdleExpiresAt, t.FamilyExpiresAt = fromMS(idle), fromMS(familyExpires)
	t.RotatedAt, t.RevokedAt = fromNullMS(rotated), fromNullMS(revoked)
	return &t, nil
}

// SQL of the refresh-token statements RotateRefreshToken runs in its
// transaction; Open prepares them (see txQueries).
const (
	insertRefreshSQL = `INSERT INTO refresh_tokens (` + refreshCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	getRefreshSQL    = `SELECT ` + refreshCols + ` FROM refresh_tokens WHERE hash = ?`
	rotateRefreshSQL = `UPDATE refresh_tokens
		SET rotated_at = coalesce(rotated_at, ?1)
		WHERE hash = ?2 AND revoked_at IS NULL
			AND idle_expires_at > ?1 AND family_expires_at > ?1
			AND (rotated_at IS NULL OR (?4 AND rotated_at > ?3))
		RETURNING ` + refreshCols
)

// insertRefresh is shared by CreateRefreshToken and RotateRefreshToken.
func insertRefresh(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, t *store.RefreshToken) error {
	_, err := db.ExecContext(ctx, insertRefreshSQL,
		t.Hash, t.FamilyID, t.ClientID, t.UserID, t.SessionID, t.Scope, t.Audience,
		ms(t.AuthTime), ms(t.CreatedAt), ms(t.IdleExpiresAt), ms(t.FamilyExpiresAt),
		nullMS(t.RotatedAt), nullMS(t.RevokedAt))
	return mapErr(err)
}

// CreateRefreshToken inserts the first token of a family. ErrConflict for
// a duplicate hash.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	err := s.withTx(ctx, func(ctx context.Context, q txQueries) error { return insertRefresh(ctx, q, t) })
	if err != nil {
		return fmt.Errorf("store: create refresh token: %w", err)
	}
	return nil
}

// GetRefreshToken returns a token by hash, whatever its state, or ErrNotFound.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*store.RefreshToken, error) {
	t, err := scanRefresh(s.read.QueryRowContext(ctx, getRefreshSQL, hash))
	if err != nil {
		return nil, fmt.Errorf("store: get refresh token: %w", err)
	}
	return t, nil
}

// RotateRefreshToken implements store.Store. The grant is the family's, not
// the caller's: next.FamilyID and next.FamilyExpiresAt are overwritten with
// the old token's values (and written back to next) so no rotation can
// extend or move a family. On reuse the returned token is the stored old one
// and, besides the family, the grant's opaque access tokens are revoked.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time, leeway time.Duration) (*store.RefreshToken, error) {
	if next == nil {
		return nil, errors.New("store: rotate refresh token: no successor token")
	}
	var old *store.RefreshToken
	err := s.withTx(ctx, func(ctx context.Context, q txQueries) error {
		// A token rotated within the leeway keeps its first rotated_at, so
		// the leeway is measured from the first rotation, not the latest.
		var err error
		old, err = scanRefresh(q.QueryRowContext(ctx, rotateRefreshSQL, ms(now), oldHash, ms(now)-leeway.Milliseconds(), leeway.Milliseconds() > 0))
		if err == nil {
			next.FamilyID, next.FamilyExpiresAt = old.FamilyID, old.FamilyExpiresAt
			return insertRefresh(ctx, q, next)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		old, err = scanRefresh(q.QueryRowContext(ctx, getRefreshSQL, oldHash))
		if err != nil {
			return err
		}
		if old.RotatedAt.IsZero() || !old.RevokedAt.IsZero() {
			return store.ErrNotFound // expired or revoked
		}
		// Rotated out beyond the leeway: someone replays an old token.
		// Revoke the grant and commit that even though the call fails.
		if err := revokeGrant(ctx, q, old.FamilyID, now); err != nil {
			return err
		}
		return &commitErr{store.ErrTokenReused}
	})
	switch {
	case errors.Is(err, store.ErrTokenReused):
		return old, fmt.Errorf("store: rotate refresh token: %w", err)
	case err != nil:
		return nil, fmt.Errorf("store: rotate refresh token: %w", mapErr(err))
	}
	return old, nil
}

// RevokeGrant revokes every refresh token of the family and every stored
// opaque access token with that grant id, and records the grant in
// revoked_grants, keeping earlier revocation times.
func (s *Store) RevokeGrant(ctx context.Context, grantID string, now time.Time) error {
	err := s.withTx(ctx, func(ctx context.Context, q txQueries) error { return revokeGrant(ctx, q, grantID, now) })
	if err != nil {
		return fmt.Errorf("store: revoke grant %q: %w", grantID, err)
	}
	return nil
}

func revokeGrant(ctx context.Context, tx txQueries, grantID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
		WHERE family_id = ? AND revoked_at IS NULL`, ms(now), grantID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = ?
		WHERE grant_id = ? AND revoked_at IS NULL`, ms(now), grantID); err != nil {
		return err
	}
	if grantID == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO revoked_grants (grant_id, revoked_at, expires_at)
		VALUES (?, ?, ?) ON CONFLICT (grant_id) DO NOTHING`,
		grantID, ms(now), ms(now.Add(store.RevokedGrantRetention)))
	return err
}

// CreateAccessToken inserts an opaque access token. ErrConflict for a
// duplicate hash.
func (s *Store) CreateAccessToken(ctx context.Context, t *store.AccessToken) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO access_tokens (hash, grant_id, client_id,
		user_id, scope, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.GrantID, t.ClientID, t.UserID, t.Scope, ms(t.CreatedAt), ms(t.ExpiresAt),
		nullMS(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("store: create access token: %w", mapErr(err))
	}
	return nil
}

// GetAccessToken returns an unrevoked, unexpired opaque token, or ErrNotFound.
func (s *Store) GetAccessToken(ctx context.Context, hash string, now time.Time) (*store.AccessToken, error) {
	var (
		t                store.AccessToken
		created, expires int64
		revoked          sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, `SELECT hash, grant_id, client_id, user_id, scope,
		created_at, expires_at, revoked_at FROM access_tokens
		WHERE hash = ? AND revoked_at IS NULL AND expires_at > ?`, hash, ms(now)).
		Scan(&t.Hash, &t.GrantID, &t.ClientID, &t.UserID, &t.Scope, &created, &expires, &revoked)
	if err != nil {
		return nil, fmt.Errorf("store: get access token: %w", mapErr(err))
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMS(created), fromMS(expires), fromNullMS(revoked)
	return &t, nil
}
