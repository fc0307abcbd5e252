package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// hasBlocksSQL is the UserState.Blocks test for the user aliased u: a
// probe of login_failures' primary key (account_key, ip), with the same
// liveness condition as ListLoginFailures.
const hasBlocksSQL = `EXISTS (SELECT 1 FROM login_failures f
	WHERE f.account_key = u.id AND f.expires_at > $2 AND f.failures >= $3)`

var (
	getAccessTokenUserSQL = `SELECT t.hash, t.grant_id, t.client_id, t.user_id, t.scope,
		t.created_at, t.expires_at, ` + store.QualifiedColumns("u", userCols) + `, ` + hasBlocksSQL + `
		FROM access_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2`
	getUserStateSQL = `SELECT ` + store.QualifiedColumns("u", userCols) + `, ` + hasBlocksSQL + `
		FROM users u WHERE u.id = $1`
	getGrantUserStateSQL = getUserStateSQL + `
		AND NOT EXISTS (SELECT 1 FROM revoked_grants g WHERE g.grant_id = $4)`
)

// GetAccessTokenUser implements store.Store: one round trip instead of
// three.
func (s *Store) GetAccessTokenUser(ctx context.Context, hash string, now time.Time, minFailures int) (*store.AccessToken, *store.UserState, error) {
	if !storable(hash) {
		return nil, nil, fmt.Errorf("store: get access token and user: %w", store.ErrNotFound)
	}
	var (
		t      store.AccessToken
		ur     userRow
		blocks bool
	)
	dest := append([]any{&t.Hash, &t.GrantID, &t.ClientID, &t.UserID, &t.Scope, &t.CreatedAt, &t.ExpiresAt},
		ur.dest()...)
	dest = append(dest, &blocks)
	err := s.pool.QueryRow(ctx, getAccessTokenUserSQL, hash, ts(now), minFailures).Scan(dest...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: get access token and user: %w", mapErr(err))
	}
	t.CreatedAt, t.ExpiresAt = utc(t.CreatedAt), utc(t.ExpiresAt)
	return &t, &store.UserState{User: ur.user(), Blocks: blocks}, nil
}

// GetUserState implements store.Store.
func (s *Store) GetUserState(ctx context.Context, id string, now time.Time, minFailures int) (*store.UserState, error) {
	if !storable(id) {
		return nil, fmt.Errorf("store: get user: %w", store.ErrNotFound)
	}
	return s.userState(ctx, "", getUserStateSQL, id, ts(now), minFailures)
}

// GetGrantUserState implements store.Store.
func (s *Store) GetGrantUserState(ctx context.Context, grantID, userID string, now time.Time, minFailures int) (*store.UserState, error) {
	if !storable(grantID, userID) {
		return nil, fmt.Errorf("store: get user of grant: %w", store.ErrNotFound)
	}
	return s.userState(ctx, " of grant", getGrantUserStateSQL, userID, ts(now), minFailures, grantID)
}

// userState runs a user-state query (the user's columns, then the Blocks
// probe) whose first argument is the user id; what names the lookup in
// errors.
func (s *Store) userState(ctx context.Context, what, query string, args ...any) (*store.UserState, error) {
	var (
		ur     userRow
		blocks bool
	)
	if err := s.pool.QueryRow(ctx, query, args...).Scan(append(ur.dest(), &blocks)...); err != nil {
		return nil, fmt.Errorf("store: get user %q%s: %w", args[0], what, mapErr(err))
	}
	return &store.UserState{User: ur.user(), Blocks: blocks}, nil
}
