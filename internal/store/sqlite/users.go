package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// maxPage caps ListUsers so one call cannot load the whole table.
const maxPage = 1000

const userCols = `id, connection, email, email_verified, username, password_hash,
	name, nickname, picture, given_name, family_name, locale, user_metadata,
	app_metadata, blocked, created_at, updated_at, logins_count, last_login, last_ip`

func scanUser(r rowScanner) (*store.User, error) {
	var ur userRow
	if err := r.Scan(ur.dest()...); err != nil {
		return nil, mapErr(err)
	}
	return ur.user(), nil
}

// userRow receives the userCols of one row; scanUser and the statements
// that read a user together with other rows share it.
type userRow struct {
	u                store.User
	um, am           string
	created, updated int64
	last             sql.NullInt64
}

// dest lists the scan destinations of userCols, in order.
func (r *userRow) dest() []any {
	u := &r.u
	return []any{&u.ID, &u.Connection, &u.Email, &u.EmailVerified, &u.Username,
		&u.PasswordHash, &u.Name, &u.Nickname, &u.Picture, &u.GivenName,
		&u.FamilyName, &u.Locale, &r.um, &r.am, &u.Blocked, &r.created, &r.updated,
		&u.LoginsCount, &r.last, &u.LastIP}
}

// user finishes the scanned row.
func (r *userRow) user() *store.User {
	u := &r.u
	u.UserMetadata = json.RawMessage(r.um)
	u.AppMetadata = json.RawMessage(r.am)
	u.CreatedAt, u.UpdatedAt, u.LastLogin = fromMS(r.created), fromMS(r.updated), fromNullMS(r.last)
	return u
}

// metadata validates a metadata document; nil or empty means {}.
func metadata(field string, m json.RawMessage) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	if !json.Valid(m) || !strings.HasPrefix(strings.TrimSpace(string(m)), "{") {
		return "", fmt.Errorf("%s is not a JSON object", field)
	}
	return string(m), nil
}

// norm is the case-insensitive key of emails and usernames. It is computed
// in Go, not SQL, so every backend agrees on it.
func norm(s string) string { return strings.ToLower(s) }

// CreateUser inserts u. A zero CreatedAt becomes the current time and a zero
// UpdatedAt becomes CreatedAt; both are written back to u.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	um, err := metadata("user_metadata", u.UserMetadata)
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.ID, err)
	}
	am, err := metadata("app_metadata", u.AppMetadata)
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.ID, err)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO users (`+userCols+`, email_norm, username_norm)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Connection, u.Email, u.EmailVerified, u.Username, u.PasswordHash,
		u.Name, u.Nickname, u.Picture, u.GivenName, u.FamilyName, u.Locale, um, am,
		u.Blocked, ms(u.CreatedAt), ms(u.UpdatedAt), u.LoginsCount, nullMS(u.LastLogin),
		u.LastIP, norm(u.Email), norm(u.Username))
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// GetUser returns the user with that id, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx,
		`SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("store: get user %q: %w", id, err)
	}
	return u, nil
}

// GetUserByEmail looks up case-insensitively within one connection.
func (s *Store) GetUserByEmail(ctx context.Context, connection, email string) (*store.User, error) {
	if email == "" {
		return nil, fmt.Errorf("store: get user by email: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.read.QueryRowContext(ctx,
		`SELECT `+userCols+` FROM users WHERE connection = ? AND email_norm = ?`,
		connection, norm(email)))
	if err != nil {
		return nil, fmt.Errorf("store: get user by email in %q: %w", connection, err)
	}
	return u, nil
}

// GetUserByUsername looks up case-insensitively within one connection.
func (s *Store) GetUserByUsername(ctx context.Context, connection, username string) (*store.User, error) {
	if username == "" {
		return nil, fmt.Errorf("store: get user by username: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.read.QueryRowContext(ctx,
		`SELECT `+userCols+` FROM users WHERE connection = ? AND username_norm = ?`,
		connection, norm(username)))
	if err != nil {
		return nil, fmt.Errorf("store: get user by username in %q: %w", connection, err)
	}
	return u, nil
}

// ListUsers returns up to limit users with ID > after, ordered by ID. A
// limit below 1 means 50, and limit is capped at 1000.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) (store.UserPage, error) {
	if limit < 1 {
		limit = 50
	}
	limit = min(limit, maxPage)
	// One extra row tells whether another page exists.
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+userCols+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
	if err != nil {
		return store.UserPage{}, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var page store.UserPage
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return store.UserPage{}, fmt.Errorf("store: list users: %w", err)
		}
		page.Users = append(page.Users, *u)
	}
	if err := rows.Err(); err != nil {
		return store.UserPage{}, fmt.Errorf("store: list users: %w", err)
	}
	if len(page.Users) > limit {
		page.Users = page.Users[:limit]
		page.Next = page.Users[limit-1].ID
	}
	return page, nil
}

// UpdateUser rewrites the profile fields of u: email, email_verified,
// username, the name fields, picture, locale, both metadata documents and
// blocked. The connection, password, counters and CreatedAt stay. UpdatedAt
// is taken from u (the caller's clock); when zero, the current time is used
// and written back.
func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	um, err := metadata("user_metadata", u.UserMetadata)
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", u.ID, err)
	}
	am, err := metadata("app_metadata", u.AppMetadata)
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", u.ID, err)
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE users SET email = ?, email_norm = ?,
		email_verified = ?, username = ?, username_norm = ?, name = ?, nickname = ?,
		picture = ?, given_name = ?, family_name = ?, locale = ?, user_metadata = ?,
		app_metadata = ?, blocked = ?, updated_at = ?
		WHERE id = ?`,
		u.Email, norm(u.Email), u.EmailVerified, u.Username, norm(u.Username), u.Name,
		u.Nickname, u.Picture, u.GivenName, u.FamilyName, u.Locale, um, am, u.Blocked,
		ms(u.UpdatedAt), u.ID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// SetPassword replaces the password hash and sets UpdatedAt.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, now time.Time) error {
	return s.updateUser(ctx, "set password", userID,
		`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, ms(now), userID)
}

// SetBlocked sets the blocked flag and UpdatedAt.
func (s *Store) SetBlocked(ctx context.Context, userID string, blocked bool, now time.Time) error {
	return s.updateUser(ctx, "set blocked", userID,
		`UPDATE users SET blocked = ?, updated_at = ? WHERE id = ?`, blocked, ms(now), userID)
}

// RecordLogin increments logins_count and sets last_login and last_ip.
func (s *Store) RecordLogin(ctx context.Context, userID, ip string, now time.Time) error {
	return s.updateUser(ctx, "record login", userID, `UPDATE users
		SET logins_count = logins_count + 1, last_login = ?, last_ip = ? WHERE id = ?`,
		ms(now), ip, userID)
}

// updateUser runs one UPDATE of a single user row.
func (s *Store) updateUser(ctx context.Context, op, userID, query string, args ...any) error {
	res, err := s.write.ExecContext(ctx, query, args...)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("store: %s for user %q: %w", op, userID, mapErr(err))
	}
	return nil
}

// DeleteUser removes the user and, in the same transaction, their sessions,
// authorization codes, refresh and access tokens and consents.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	err := s.withTx(ctx, func(ctx context.Context, tx txQueries) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, userID)
		if err == nil {
			err = affected(res)
		}
		if err != nil {
			return err
		}
		for _, table := range []string{"sessions", "auth_codes", "refresh_tokens", "access_tokens", "consents"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete user %q: %w", userID, mapErr(err))
	}
	return nil
}
