package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/latch-auth/latch/internal/store"
)

// RecordLoginFailure implements store.Store with one upsert: a live run is
// incremented, an expired one restarts at 1. The row lock of ON CONFLICT
// serialises concurrent failures, so each is counted.
func (s *Store) RecordLoginFailure(ctx context.Context, key, ip string, now, expiresAt time.Time) (int, error) {
	if err := checkText("key", key, "ip", ip); err != nil {
		return 0, fmt.Errorf("store: record login failure: %w", err)
	}
	var n int
	err := s.pool.QueryRow(ctx, `INSERT INTO login_failures AS f
		(account_key, ip, failures, first_failure_at, last_failure_at, expires_at) VALUES ($1, $2, 1, $3, $3, $4)
		ON CONFLICT (account_key, ip) DO UPDATE SET
			failures = CASE WHEN f.expires_at <= $3 THEN 1 ELSE f.failures + 1 END,
			first_failure_at = CASE WHEN f.expires_at <= $3 THEN $3 ELSE f.first_failure_at END,
			last_failure_at = $3, expires_at = $4
		RETURNING failures`, key, ip, ts(now), ts(expiresAt)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: record login failure: %w", mapErr(err))
	}
	return n, nil
}

// CountLoginFailures implements store.Store.
func (s *Store) CountLoginFailures(ctx context.Context, key, ip string, now time.Time) (int, error) {
	if !storable(key, ip) {
		return 0, nil
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(failures), 0) FROM login_failures
		WHERE account_key = $1 AND ip = $2 AND expires_at > $3`, key, ip, ts(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count login failures: %w", mapErr(err))
	}
	return n, nil
}

// ListLoginFailures implements store.Store.
func (s *Store) ListLoginFailures(ctx context.Context, key string, now time.Time) ([]store.LoginFailure, error) {
	if !storable(key) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT account_key, ip, failures, first_failure_at,
		last_failure_at, expires_at FROM login_failures
		WHERE account_key = $1 AND expires_at > $2 ORDER BY ip COLLATE "C"`, key, ts(now))
	if err != nil {
		return nil, fmt.Errorf("store: list login failures: %w", err)
	}
	defer rows.Close()
	var out []store.LoginFailure
	for rows.Next() {
		var f store.LoginFailure
		if err := rows.Scan(&f.Key, &f.IP, &f.Count, &f.FirstFailureAt, &f.LastFailureAt, &f.ExpiresAt); err != nil {
			return nil, fmt.Errorf("store: list login failures: %w", err)
		}
		f.FirstFailureAt, f.LastFailureAt, f.ExpiresAt = utc(f.FirstFailureAt), utc(f.LastFailureAt), utc(f.ExpiresAt)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list login failures: %w", err)
	}
	return out, nil
}

// ClearLoginFailures implements store.Store.
func (s *Store) ClearLoginFailures(ctx context.Context, key, ip string) error {
	if !storable(key, ip) {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`DELETE FROM login_failures WHERE account_key = $1 AND ($2 = '' OR ip = $2)`, key, ip)
	if err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}

// ThrottleIP implements store.Store with one upsert.
func (s *Store) ThrottleIP(ctx context.Context, ip string, now time.Time, cost time.Duration) (time.Time, error) {
	if err := checkText("ip", ip); err != nil {
		return time.Time{}, fmt.Errorf("store: throttle ip: %w", err)
	}
	var tat time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO ip_throttles AS t (ip, tat)
		VALUES ($1, $2::timestamptz + $3::bigint * interval '1 millisecond')
		ON CONFLICT (ip) DO UPDATE SET
			tat = greatest(t.tat, $2::timestamptz) + $3::bigint * interval '1 millisecond'
		RETURNING tat`, ip, ts(now), cost.Milliseconds()).Scan(&tat)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: throttle ip: %w", mapErr(err))
	}
	return utc(tat), nil
}

// IPThrottle implements store.Store.
func (s *Store) IPThrottle(ctx context.Context, ip string) (time.Time, error) {
	if !storable(ip) {
		return time.Time{}, nil
	}
	var tat pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT max(tat) FROM ip_throttles WHERE ip = $1`, ip).Scan(&tat)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: read ip throttle: %w", err)
	}
	return fromNull(tat), nil
}

// DeleteExpiredLoginFailures implements store.Store, in bounded batches
// like DeleteExpired (and, like it, skipping rows another instance holds).
func (s *Store) DeleteExpiredLoginFailures(ctx context.Context, now time.Time, batch int) (int, error) {
	if batch < 1 {
		batch = 1000
	}
	total := 0
	for _, e := range []struct{ table, key, where string }{
		{"login_failures", "account_key, ip", "expires_at <= $1"},
		{"ip_throttles", "ip", "tat <= $1"},
	} {
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+e.table+` WHERE (`+e.key+`) IN
			(SELECT `+e.key+` FROM `+e.table+` WHERE `+e.where+`
				LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(now), batch)
		if err != nil {
			return total, fmt.Errorf("store: delete expired %s: %w", e.table, err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}
