package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// GetConsent returns what the user granted the client for the audience,
// or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID, clientID, audience string) (*store.Consent, error) {
	var (
		c       store.Consent
		scopes  string
		granted int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT user_id, client_id, audience, scopes, granted_at
		FROM consents WHERE user_id = ? AND client_id = ? AND audience = ?`,
		userID, clientID, audience).Scan(&c.UserID, &c.ClientID, &c.Audience, &scopes, &granted)
	if err != nil {
		return nil, fmt.Errorf("store: get consent of %q for %q: %w", userID, clientID, mapErr(err))
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return nil, fmt.Errorf("store: get consent of %q for %q: scopes: %w", userID, clientID, err)
	}
	c.GrantedAt = fromMS(granted)
	return &c, nil
}

// SaveConsent inserts or replaces a consent.
func (s *Store) SaveConsent(ctx context.Context, c *store.Consent) error {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	js, err := json.Marshal(scopes)
	if err != nil {
		return fmt.Errorf("store: save consent of %q for %q: %w", c.UserID, c.ClientID, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO consents (user_id, client_id, audience, scopes, granted_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, client_id, audience)
		DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
		c.UserID, c.ClientID, c.Audience, string(js), ms(c.GrantedAt))
	if err != nil {
		return fmt.Errorf("store: save consent of %q for %q: %w", c.UserID, c.ClientID, mapErr(err))
	}
	return nil
}

// CreateSigningKey inserts a key. ErrConflict for a duplicate id.
func (s *Store) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm,
		encrypted_private, public_jwk, created_at, not_before, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, nonNil(k.EncryptedPrivate), nonNil(k.PublicJWK),
		ms(k.CreatedAt), ms(k.NotBefore), nullMS(k.ExpiresAt))
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
	rows, err := s.read.QueryContext(ctx, `SELECT id, algorithm, encrypted_private, public_jwk,
		created_at, not_before, expires_at FROM signing_keys ORDER BY not_before, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list signing keys: %w", err)
	}
	defer rows.Close()
	var keys []store.SigningKey
	for rows.Next() {
		var (
			k                  store.SigningKey
			created, notBefore int64
			expires            sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.EncryptedPrivate, &k.PublicJWK,
			&created, &notBefore, &expires); err != nil {
			return nil, fmt.Errorf("store: list signing keys: %w", err)
		}
		k.CreatedAt, k.NotBefore, k.ExpiresAt = fromMS(created), fromMS(notBefore), fromNullMS(expires)
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
	res, err := s.write.ExecContext(ctx, `UPDATE signing_keys SET expires_at = ? WHERE id = ?`,
		nullMS(expiresAt), id)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("store: set expiry of signing key %q: %w", id, mapErr(err))
	}
	return nil
}

// DeleteExpiredSigningKeys removes keys whose ExpiresAt is set and before now.
func (s *Store) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at < ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired signing keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired signing keys: %w", err)
	}
	return int(n), nil
}

// expiredRows says, per table, which rows DeleteExpired removes; ?1 is now.
// A row is expired once now is no longer before its expiry, matching the
// lookups, which want now < expiry. Refresh tokens stay until the whole
// family is past both expiries (or revoked) so that replaying a rotated
// token is still recognised as reuse while the family lives. key is the
// column a batch is picked by: rowid, or the primary key of a WITHOUT ROWID
// table, which has none (migration 0003).
var expiredRows = []struct{ table, key, where string }{
	{"auth_codes", "rowid", "expires_at <= ?1"},
	{"login_transactions", "rowid", "expires_at <= ?1"},
	{"sessions", "rowid", "idle_expires_at <= ?1 OR expires_at <= ?1"},
	{"access_tokens", "hash", "expires_at <= ?1 OR revoked_at IS NOT NULL"},
	{"refresh_tokens", "rowid", "(idle_expires_at <= ?1 AND family_expires_at <= ?1) OR revoked_at IS NOT NULL"},
	{"revoked_grants", "grant_id", "expires_at <= ?1"},
}

// DeleteExpired removes up to batch (default 1000) expired rows of each
// kind, one short write statement per table so the writer is never held
// long, and returns how many rows went. Call it again while it returns
// more than zero.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, batch int) (int, error) {
	if batch < 1 {
		batch = 1000
	}
	total := 0
	for _, e := range expiredRows {
		res, err := s.write.ExecContext(ctx, `DELETE FROM `+e.table+` WHERE `+e.key+` IN
			(SELECT `+e.key+` FROM `+e.table+` WHERE `+e.where+` LIMIT ?2)`, ms(now), batch)
		if err != nil {
			return total, fmt.Errorf("store: delete expired %s: %w", e.table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: delete expired %s: %w", e.table, err)
		}
		total += int(n)
	}
	return total, nil
}
