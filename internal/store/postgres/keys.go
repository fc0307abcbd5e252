package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/latch-auth/latch/internal/store"
)

// GetConsent returns what the user granted the client for the audience,
// or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID, clientID, audience string) (*store.Consent, error) {
	if !storable(userID, clientID, audience) {
		return nil, fmt.Errorf("store: get consent: %w", store.ErrNotFound)
	}
	var c store.Consent
	err := s.pool.QueryRow(ctx, `SELECT user_id, client_id, audience, scopes, granted_at
		FROM consents WHERE user_id = $1 AND client_id = $2 AND audience = $3`,
		userID, clientID, audience).Scan(&c.UserID, &c.ClientID, &c.Audience, &c.Scopes, &c.GrantedAt)
	if err != nil {
		return nil, fmt.Errorf("store: get consent of %q for %q: %w", userID, clientID, mapErr(err))
	}
	c.GrantedAt = utc(c.GrantedAt)
	return &c, nil
}

// SaveConsent inserts or replaces a consent.
func (s *Store) SaveConsent(ctx context.Context, c *store.Consent) error {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	fields := []string{"user id", c.UserID, "client id", c.ClientID, "audience", c.Audience}
	for _, sc := range scopes {
		fields = append(fields, "scope", sc)
	}
	if err := checkText(fields...); err != nil {
		return fmt.Errorf("store: save consent: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO consents (user_id, client_id, audience, scopes, granted_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, client_id, audience)
		DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
		c.UserID, c.ClientID, c.Audience, scopes, ts(c.GrantedAt))
	if err != nil {
		return fmt.Errorf("store: save consent of %q for %q: %w", c.UserID, c.ClientID, mapErr(err))
	}
	return nil
}

// CreateSigningKey inserts a key. ErrConflict for a duplicate id.
func (s *Store) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	if err := checkText("id", k.ID, "algorithm", k.Algorithm); err != nil {
		return fmt.Errorf("store: create signing key: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO signing_keys (id, algorithm,
		encrypted_private, public_jwk, created_at, not_before, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Algorithm, nonNil(k.EncryptedPrivate), nonNil(k.PublicJWK),
		ts(k.CreatedAt), ts(k.NotBefore), nullTS(k.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create signing key %q: %w", k.ID, mapErr(err))
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ListSigningKeys returns every key, ordered by NotBefore, then CreatedAt,
// then ID.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, algorithm, encrypted_private, public_jwk,
		created_at, not_before, expires_at FROM signing_keys ORDER BY not_before, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list signing keys: %w", err)
	}
	defer rows.Close()
	var keys []store.SigningKey
	for rows.Next() {
		var (
			k       store.SigningKey
			expires pgtype.Timestamptz
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.EncryptedPrivate, &k.PublicJWK,
			&k.CreatedAt, &k.NotBefore, &expires); err != nil {
			return nil, fmt.Errorf("store: list signing keys: %w", err)
		}
		k.CreatedAt, k.NotBefore, k.ExpiresAt = utc(k.CreatedAt), utc(k.NotBefore), fromNull(expires)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list signing keys: %w", err)
	}
	return keys, nil
}

// SetSigningKeyExpiry sets when a key leaves the JWKS; a zero expiresAt
// publishes it indefinitely again. ErrNotFound for an unknown id.
func (s *Store) SetSigningKeyExpiry(ctx context.Context, id string, expiresAt time.Time) error {
	if !storable(id) {
		return fmt.Errorf("store: set expiry of signing key: %w", store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE signing_keys SET expires_at = $1 WHERE id = $2`,
		nullTS(expiresAt), id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("store: set expiry of signing key %q: %w", id, mapErr(err))
	}
	return nil
}

// DeleteExpiredSigningKeys removes keys whose ExpiresAt is set and before now.
func (s *Store) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at < $1`, ts(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired signing keys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// expiredRows says, per table, which rows DeleteExpired removes, by primary
// key; $1 is now. A row is expired once now is no longer before its expiry,
// matching the lookups, which want now < expiry. Refresh tokens stay until
// the whole family is past both expiries (or revoked) so that replaying a
// rotated token is still recognised as reuse while the family lives.
var expiredRows = []struct{ table, key, where string }{
	{"auth_codes", "hash", "expires_at <= $1"},
	{"login_transactions", "id", "expires_at <= $1"},
	{"sessions", "id", "idle_expires_at <= $1 OR expires_at <= $1"},
	{"access_tokens", "hash", "expires_at <= $1 OR revoked_at IS NOT NULL"},
	{"refresh_tokens", "hash", "(idle_expires_at <= $1 AND family_expires_at <= $1) OR revoked_at IS NOT NULL"},
	{"revoked_grants", "grant_id", "expires_at <= $1"},
}

// DeleteExpired removes up to batch (default 1000) expired rows of each
// kind, one short statement per table, and returns how many rows went. Call
// it again while it returns more than zero.
//
// Several instances may run it at once: each statement locks the rows it
// picks with FOR UPDATE SKIP LOCKED, so concurrent cleaners take disjoint
// batches instead of waiting for each other, and rows being consumed or
// rotated at that moment are left for the next round.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, batch int) (int, error) {
	if batch < 1 {
		batch = 1000
	}
	total := 0
	for _, e := range expiredRows {
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+e.table+` WHERE `+e.key+` IN
			(SELECT `+e.key+` FROM `+e.table+` WHERE `+e.where+`
				LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(now), batch)
		if err != nil {
			return total, fmt.Errorf("store: delete expired %s: %w", e.table, err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}
