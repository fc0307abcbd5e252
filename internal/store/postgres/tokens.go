package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/latch-auth/latch/internal/store"
)

const codeCols = `hash, client_id, redirect_uri, code_challenge, code_challenge_method,
	user_id, session_id, scope, audience, nonce, auth_time, created_at, expires_at,
	grant_id, used_at`

func scanCode(r pgx.Row) (*store.AuthCode, error) {
	var (
		c    store.AuthCode
		used pgtype.Timestamptz
	)
	err := r.Scan(&c.Hash, &c.ClientID, &c.RedirectURI, &c.CodeChallenge,
		&c.CodeChallengeMethod, &c.UserID, &c.SessionID, &c.Scope, &c.Audience,
		&c.Nonce, &c.AuthTime, &c.CreatedAt, &c.ExpiresAt, &c.GrantID, &used)
	if err != nil {
		return nil, mapErr(err)
	}
	c.AuthTime, c.CreatedAt, c.ExpiresAt = utc(c.AuthTime), utc(c.CreatedAt), utc(c.ExpiresAt)
	c.UsedAt = fromNull(used)
	return &c, nil
}

// CreateAuthCode inserts a code. ErrConflict for a duplicate hash.
func (s *Store) CreateAuthCode(ctx context.Context, c *store.AuthCode) error {
	if err := checkText("hash", c.Hash, "client id", c.ClientID, "redirect_uri", c.RedirectURI,
		"code_challenge", c.CodeChallenge, "code_challenge_method", c.CodeChallengeMethod,
		"user id", c.UserID, "session id", c.SessionID, "scope", c.Scope,
		"audience", c.Audience, "nonce", c.Nonce, "grant id", c.GrantID); err != nil {
		return fmt.Errorf("store: create auth code: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO auth_codes (`+codeCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.Hash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod,
		c.UserID, c.SessionID, c.Scope, c.Audience, c.Nonce, ts(c.AuthTime),
		ts(c.CreatedAt), ts(c.ExpiresAt), c.GrantID, nullTS(c.UsedAt))
	if err != nil {
		return fmt.Errorf("store: create auth code: %w", mapErr(err))
	}
	return nil
}

// ConsumeAuthCode marks the code used and stamps grantID on it with one
// conditional UPDATE ... RETURNING. Concurrent callers queue on the row
// lock; once the winner commits, PostgreSQL re-checks the others' WHERE
// against the new row version and it no longer matches. A caller that
// matched nothing reads the row to tell a replay (the stored code, carrying
// the first use's GrantID, and ErrCodeReused) from an unknown or expired
// code (ErrNotFound); the winner has committed by then.
func (s *Store) ConsumeAuthCode(ctx context.Context, hash, grantID string, now time.Time) (*store.AuthCode, error) {
	if !storable(hash) {
		return nil, fmt.Errorf("store: consume auth code: %w", store.ErrNotFound)
	}
	if err := checkText("grant id", grantID); err != nil {
		return nil, fmt.Errorf("store: consume auth code: %w", err)
	}
	c, err := scanCode(s.pool.QueryRow(ctx, `UPDATE auth_codes SET used_at = $1, grant_id = $2
		WHERE hash = $3 AND used_at IS NULL AND expires_at > $1
		RETURNING `+codeCols, ts(now), grantID, hash))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("store: consume auth code: %w", err)
	}
	c, err = scanCode(s.pool.QueryRow(ctx, `SELECT `+codeCols+` FROM auth_codes WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("store: consume auth code: %w", err)
	}
	if !c.UsedAt.IsZero() {
		return c, fmt.Errorf("store: consume auth code: %w", store.ErrCodeReused)
	}
	return nil, fmt.Errorf("store: consume auth code: expired: %w", store.ErrNotFound)
}

const refreshCols = `hash, family_id, client_id, user_id, session_id, scope, audience,
	auth_time, created_at, idle_expires_at, family_expires_at, rotated_at, revoked_at`

func scanRefresh(r pgx.Row) (*store.RefreshToken, error) {
	var (
		t                store.RefreshToken
		rotated, revoked pgtype.Timestamptz
	)
	err := r.Scan(&t.Hash, &t.FamilyID, &t.ClientID, &t.UserID, &t.SessionID, &t.Scope,
		&t.Audience, &t.AuthTime, &t.CreatedAt, &t.IdleExpiresAt, &t.FamilyExpiresAt,
		&rotated, &revoked)
	if err != nil {
		return nil, mapErr(err)
	}
	t.AuthTime, t.CreatedAt = utc(t.AuthTime), utc(t.CreatedAt)
	t.IdleExpiresAt, t.FamilyExpiresAt = utc(t.IdleExpiresAt), utc(t.FamilyExpiresAt)
	t.RotatedAt, t.RevokedAt = fromNull(rotated), fromNull(revoked)
	return &t, nil
}

// insertRefresh is shared by CreateRefreshToken and RotateRefreshToken.
func insertRefresh(ctx context.Context, q querier, t *store.RefreshToken) error {
	if err := checkText("hash", t.Hash, "family id", t.FamilyID, "client id", t.ClientID,
		"user id", t.UserID, "session id", t.SessionID, "scope", t.Scope,
		"audience", t.Audience); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO refresh_tokens (`+refreshCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		t.Hash, t.FamilyID, t.ClientID, t.UserID, t.SessionID, t.Scope, t.Audience,
		ts(t.AuthTime), ts(t.CreatedAt), ts(t.IdleExpiresAt), ts(t.FamilyExpiresAt),
		nullTS(t.RotatedAt), nullTS(t.RevokedAt))
	return mapErr(err)
}

// CreateRefreshToken inserts the first token of a family. ErrConflict for
// a duplicate hash.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	if err := insertRefresh(ctx, s.pool, t); err != nil {
		return fmt.Errorf("store: create refresh token: %w", err)
	}
	return nil
}

// GetRefreshToken returns a token by hash, whatever its state, or ErrNotFound.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*store.RefreshToken, error) {
	if !storable(hash) {
		return nil, fmt.Errorf("store: get refresh token: %w", store.ErrNotFound)
	}
	t, err := scanRefresh(s.pool.QueryRow(ctx,
		`SELECT `+refreshCols+` FROM refresh_tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("store: get refresh token: %w", err)
	}
	return t, nil
}

// RotateRefreshToken implements store.Store. The grant is the family's, not
// the caller's: next.FamilyID and next.FamilyExpiresAt are overwritten with
// the old token's values (and written back to next) so no rotation can
// extend or move a family. On reuse the returned token is the stored old one
// and, besides the family, the grant's opaque access tokens are revoked; the
// revocation is committed before ErrTokenReused is returned.
//
// The rotation is one transaction whose first statement is the conditional
// UPDATE, which takes the row lock: a concurrent rotation of the same token
// waits for this transaction to commit (successor included) and then finds
// the token rotated. A caller whose UPDATE matched nothing rolls back first
// (in READ COMMITTED the failed re-check may still have locked the row) and
// only then looks at the token and, on reuse, revokes the family in a
// transaction of its own: a revoker never holds one of the family's rows
// while waiting for another, so replays racing from several instances
// cannot deadlock.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time, leeway time.Duration) (*store.RefreshToken, error) {
	if next == nil {
		return nil, errors.New("store: rotate refresh token: no successor token")
	}
	if !storable(oldHash) {
		return nil, fmt.Errorf("store: rotate refresh token: %w", store.ErrNotFound)
	}
	var old *store.RefreshToken
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		// A token rotated within the leeway keeps its first rotated_at, so
		// the leeway is measured from the first rotation, not the latest.
		// Without a leeway a rotated token never rotates again, even for a
		// caller whose now is before rotated_at: requests racing on several
		// instances (or goroutines) read their clocks before the winner
		// commits, so "rotated_at > now" says nothing about a retry.
		var err error
		old, err = scanRefresh(tx.QueryRow(ctx, `UPDATE refresh_tokens
			SET rotated_at = coalesce(rotated_at, $1)
			WHERE hash = $2 AND revoked_at IS NULL
				AND idle_expires_at > $1 AND family_expires_at > $1
				AND (rotated_at IS NULL OR ($4 AND rotated_at > $3))
			RETURNING `+refreshCols, ts(now), oldHash, leewayCutoff(now, leeway), leeway.Milliseconds() > 0))
		if err != nil {
			return err // ErrNotFound rolls back, releasing any row lock
		}
		next.FamilyID, next.FamilyExpiresAt = old.FamilyID, old.FamilyExpiresAt
		return insertRefresh(ctx, tx, next)
	})
	switch {
	case err == nil:
		return old, nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("store: rotate refresh token: %w", mapErr(err))
	}
	if old, err = s.GetRefreshToken(ctx, oldHash); err != nil {
		return nil, fmt.Errorf("store: rotate refresh token: %w", err)
	}
	if old.RotatedAt.IsZero() || !old.RevokedAt.IsZero() {
		return nil, fmt.Errorf("store: rotate refresh token: expired or revoked: %w", store.ErrNotFound)
	}
	// Rotated out beyond the leeway: someone replays an old token.
	if err := s.RevokeGrant(ctx, old.FamilyID, now); err != nil {
		return nil, fmt.Errorf("store: rotate refresh token: %w", err)
	}
	return old, fmt.Errorf("store: rotate refresh token: %w", store.ErrTokenReused)
}

// RevokeGrant revokes every refresh token of the family and every opaque
// access token with that grant id, keeping earlier revocation times.
func (s *Store) RevokeGrant(ctx context.Context, grantID string, now time.Time) error {
	if !storable(grantID) {
		return nil // no grant can have that id
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error { return revokeGrant(ctx, tx, grantID, now) })
	if err != nil {
		return fmt.Errorf("store: revoke grant %q: %w", grantID, err)
	}
	return nil
}

// revokeGrant first takes a transaction-scoped advisory lock on the grant,
// so concurrent revocations of one family (several replays at once, from
// any instance) run one after the other. It then repeats the UPDATE until
// it finds nothing left: a rotation that held its token's row lock when the
// UPDATE started commits a successor the UPDATE's snapshot cannot see, and
// the next statement, with a fresh snapshot, revokes it too. Once an UPDATE
// finds no live token, no rotation can succeed any more, since each needs
// a live token. A hash collision between two grants only makes them queue.
func revokeGrant(ctx context.Context, tx pgx.Tx, grantID string, now time.Time) error {
	if _, err := tx.Exec(ctx, lockGrant, grantID); err != nil {
		return err
	}
	for {
		tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1
			WHERE family_id = $2 AND revoked_at IS NULL`, ts(now), grantID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			break
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE access_tokens SET revoked_at = $1
		WHERE grant_id = $2 AND revoked_at IS NULL`, ts(now), grantID); err != nil {
		return err
	}
	if grantID == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO revoked_grants (grant_id, revoked_at, expires_at)
		VALUES ($1, $2, $3) ON CONFLICT (grant_id) DO NOTHING`,
		grantID, ts(now), ts(now.Add(store.RevokedGrantRetention)))
	return err
}

// lockGrant is the advisory lock of one grant; the first key is "grnt".
const lockGrant = `SELECT pg_advisory_xact_lock(1735552628, hashtext($1))`

// CreateAccessToken inserts an opaque access token. ErrConflict for a
// duplicate hash.
func (s *Store) CreateAccessToken(ctx context.Context, t *store.AccessToken) error {
	if err := checkText("hash", t.Hash, "grant id", t.GrantID, "client id", t.ClientID,
		"user id", t.UserID, "scope", t.Scope); err != nil {
		return fmt.Errorf("store: create access token: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO access_tokens (hash, grant_id, client_id,
		user_id, scope, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.Hash, t.GrantID, t.ClientID, t.UserID, t.Scope, ts(t.CreatedAt), ts(t.ExpiresAt),
		nullTS(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("store: create access token: %w", mapErr(err))
	}
	return nil
}

// GetAccessToken returns an unrevoked, unexpired opaque token, or ErrNotFound.
func (s *Store) GetAccessToken(ctx context.Context, hash string, now time.Time) (*store.AccessToken, error) {
	if !storable(hash) {
		return nil, fmt.Errorf("store: get access token: %w", store.ErrNotFound)
	}
	var (
		t       store.AccessToken
		revoked pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT hash, grant_id, client_id, user_id, scope,
		created_at, expires_at, revoked_at FROM access_tokens
		WHERE hash = $1 AND revoked_at IS NULL AND expires_at > $2`, hash, ts(now)).
		Scan(&t.Hash, &t.GrantID, &t.ClientID, &t.UserID, &t.Scope, &t.CreatedAt, &t.ExpiresAt, &revoked)
	if err != nil {
		return nil, fmt.Errorf("store: get access token: %w", mapErr(err))
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = utc(t.CreatedAt), utc(t.ExpiresAt), fromNull(revoked)
	return &t, nil
}
