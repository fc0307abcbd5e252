package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// RecordLoginFailure implements store.Store with one upsert: a live run is
// incremented, an expired one restarts at 1.
func (s *Store) RecordLoginFailure(ctx context.Context, key, ip string, now, expiresAt time.Time) (int, error) {
	var n int
	err := s.write.QueryRowContext(ctx, `INSERT INTO login_failures
		(account_key, ip, failures, first_failure_at, last_failure_at, expires_at) VALUES (?1, ?2, 1, ?3, ?3, ?4)
		ON CONFLICT (account_key, ip) DO UPDATE SET
			failures = CASE WHEN expires_at <= ?3 THEN 1 ELSE failures + 1 END,
			first_failure_at = CASE WHEN expires_at <= ?3 THEN ?3 ELSE first_failure_at END,
			last_failure_at = ?3, expires_at = ?4
		RETURNING failures`, key, ip, ms(now), ms(expiresAt)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: record login failure: %w", mapErr(err))
	}
	return n, nil
}

// CountLoginFailures implements store.Store.
func (s *Store) CountLoginFailures(ctx context.Context, key, ip string, now time.Time) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(failures), 0) FROM login_failures
		WHERE account_key = ? AND ip = ? AND expires_at > ?`, key, ip, ms(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count login failures: %w", mapErr(err))
	}
	return n, nil
}

// ListLoginFailures implements store.Store.
func (s *Store) ListLoginFailures(ctx context.Context, key string, now time.Time) ([]store.LoginFailure, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT account_key, ip, failures, first_failure_at,
		last_failure_at, expires_at FROM login_failures
		WHERE account_key = ? AND expires_at > ? ORDER BY ip`, key, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: list login failures: %w", err)
	}
	defer rows.Close()
	var out []store.LoginFailure
	for rows.Next() {
		var (
			f                   store.LoginFailure
			first, last, expire int64
		)
		if err := rows.Scan(&f.Key, &f.IP, &f.Count, &first, &last, &expire); err != nil {
			return nil, fmt.Errorf("store: list login failures: %w", err)
		}
		f.FirstFailureAt, f.LastFailureAt, f.ExpiresAt = fromMS(first), fromMS(last), fromMS(expire)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list login failures: %w", err)
	}
	return out, nil
}

// ClearLoginFailures implements store.Store.
func (s *Store) ClearLoginFailures(ctx context.Context, key, ip string) error {
	_, err := s.write.ExecContext(ctx,
		`DELETE FROM login_failures WHERE account_key = ?1 AND (?2 = '' OR ip = ?2)`, key, ip)
	if err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}

// ThrottleIP implements store.Store with one upsert.
func (s *Store) ThrottleIP(ctx context.Context, ip string, now time.Time, cost time.Duration) (time.Time, error) {
	var tat int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO ip_throttles (ip, tat) VALUES (?1, ?2 + ?3)
		ON CONFLICT (ip) DO UPDATE SET tat = max(tat, ?2) + ?3
		RETURNING tat`, ip, ms(now), cost.Milliseconds()).Scan(&tat)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: throttle ip: %w", mapErr(err))
	}
	return fromMS(tat), nil
}

// IPThrottle implements store.Store.
func (s *Store) IPThrottle(ctx context.Context, ip string) (time.Time, error) {
	var tat int64
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(tat), 0) FROM ip_throttles WHERE ip = ?`, ip).Scan(&tat)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: read ip throttle: %w", err)
	}
	if tat == 0 {
		return time.Time{}, nil
	}
	return fromMS(tat), nil
}

// DeleteExpiredLoginFailures implements store.Store, in bounded batches
// like DeleteExpired.
func (s *Store) DeleteExpiredLoginFailures(ctx context.Context, now time.Time, batch int) (int, error) {
	if batch < 1 {
		batch = 1000
	}
	total := 0
	for _, e := range []struct{ table, where string }{
		{"login_failures", "expires_at <= ?1"},
		{"ip_throttles", "tat <= ?1"},
	} {
		res, err := s.write.ExecContext(ctx, `DELETE FROM `+e.table+` WHERE rowid IN
			(SELECT rowid FROM `+e.table+` WHERE `+e.where+` LIMIT ?2)`, ms(now), batch)
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
