package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/latch-auth/latch/internal/store"
)

// maxPage caps ListUsers so one call cannot load the whole table.
const maxPage = 1000

const userCols = `id, connection, email, email_verified, username, password_hash,
	name, nickname, picture, given_name, family_name, locale, user_metadata,
	app_metadata, blocked, created_at, updated_at, logins_count, last_login, last_ip`

func scanUser(r pgx.Row) (*store.User, error) {
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
	created, updated time.Time
	last             pgtype.Timestamptz
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
	u.CreatedAt, u.UpdatedAt, u.LastLogin = utc(r.created), utc(r.updated), fromNull(r.last)
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
	if err := checkText(field, string(m)); err != nil {
		return "", err
	}
	return string(m), nil
}

// norm is the case-insensitive key of emails and usernames. It is computed
// in Go, not SQL, so every backend agrees on it.
func norm(s string) string { return strings.ToLower(s) }

// userText lists the free-text fields of u for checkText.
func userText(u *store.User) []string {
	return []string{"id", u.ID, "connection", u.Connection, "email", u.Email,
		"username", u.Username, "password hash", u.PasswordHash, "name", u.Name,
		"nickname", u.Nickname, "picture", u.Picture, "given_name", u.GivenName,
		"family_name", u.FamilyName, "locale", u.Locale, "last_ip", u.LastIP}
}

// CreateUser inserts u. A zero CreatedAt becomes the current time and a zero
// UpdatedAt becomes CreatedAt; both are written back to u.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	um, err := metadata("user_metadata", u.UserMetadata)
	if err == nil {
		err = checkText(userText(u)...)
	}
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
	_, err = s.pool.Exec(ctx, `INSERT INTO users (`+userCols+`, email_norm, username_norm)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
			$17, $18, $19, $20, $21, $22)`,
		u.ID, u.Connection, u.Email, u.EmailVerified, u.Username, u.PasswordHash,
		u.Name, u.Nickname, u.Picture, u.GivenName, u.FamilyName, u.Locale, um, am,
		u.Blocked, ts(u.CreatedAt), ts(u.UpdatedAt), u.LoginsCount, nullTS(u.LastLogin),
		u.LastIP, norm(u.Email), norm(u.Username))
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// GetUser returns the user with that id, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*store.User, error) {
	if !storable(id) {
		return nil, fmt.Errorf("store: get user: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: get user %q: %w", id, err)
	}
	return u, nil
}

// GetUserByEmail looks up case-insensitively within one connection.
func (s *Store) GetUserByEmail(ctx context.Context, connection, email string) (*store.User, error) {
	if email == "" || !storable(connection, email) {
		return nil, fmt.Errorf("store: get user by email: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.pool.QueryRow(ctx,
		`SELECT `+userCols+` FROM users WHERE connection = $1 AND email_norm = $2`,
		connection, norm(email)))
	if err != nil {
		return nil, fmt.Errorf("store: get user by email in %q: %w", connection, err)
	}
	return u, nil
}

// GetUserByUsername looks up case-insensitively within one connection.
func (s *Store) GetUserByUsername(ctx context.Context, connection, username string) (*store.User, error) {
	if username == "" || !storable(connection, username) {
		return nil, fmt.Errorf("store: get user by username: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.pool.QueryRow(ctx,
		`SELECT `+userCols+` FROM users WHERE connection = $1 AND username_norm = $2`,
		connection, norm(username)))
	if err != nil {
		return nil, fmt.Errorf("store: get user by username in %q: %w", connection, err)
	}
	return u, nil
}

// ListUsers returns up to limit users with ID > after (byte order), ordered
// by ID. A limit below 1 means 50, and limit is capped at 1000.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) (store.UserPage, error) {
	if limit < 1 {
		limit = 50
	}
	limit = min(limit, maxPage)
	if !storable(after) {
		return store.UserPage{}, fmt.Errorf("store: list users: cursor is not valid text: %w", store.ErrNotFound)
	}
	// One extra row tells whether another page exists.
	rows, err := s.pool.Query(ctx,
		`SELECT `+userCols+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
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
	if !storable(u.ID) {
		return fmt.Errorf("store: update user: %w", store.ErrNotFound)
	}
	um, err := metadata("user_metadata", u.UserMetadata)
	if err == nil {
		err = checkText(userText(u)...)
	}
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
	tag, err := s.pool.Exec(ctx, `UPDATE users SET email = $1, email_norm = $2,
		email_verified = $3, username = $4, username_norm = $5, name = $6, nickname = $7,
		picture = $8, given_name = $9, family_name = $10, locale = $11, user_metadata = $12,
		app_metadata = $13, blocked = $14, updated_at = $15
		WHERE id = $16`,
		u.Email, norm(u.Email), u.EmailVerified, u.Username, norm(u.Username), u.Name,
		u.Nickname, u.Picture, u.GivenName, u.FamilyName, u.Locale, um, am, u.Blocked,
		ts(u.UpdatedAt), u.ID)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// SetPassword replaces the password hash and sets UpdatedAt.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, now time.Time) error {
	if err := checkText("password hash", hash); err != nil {
		return fmt.Errorf("store: set password for user %q: %w", userID, err)
	}
	return s.updateUser(ctx, "set password", userID,
		`UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, ts(now), userID)
}

// SetBlocked sets the blocked flag and UpdatedAt.
func (s *Store) SetBlocked(ctx context.Context, userID string, blocked bool, now time.Time) error {
	return s.updateUser(ctx, "set blocked", userID,
		`UPDATE users SET blocked = $1, updated_at = $2 WHERE id = $3`, blocked, ts(now), userID)
}

// RecordLogin increments logins_count and sets last_login and last_ip.
func (s *Store) RecordLogin(ctx context.Context, userID, ip string, now time.Time) error {
	if err := checkText("ip", ip); err != nil {
		return fmt.Errorf("store: record login for user %q: %w", userID, err)
	}
	return s.updateUser(ctx, "record login", userID, `UPDATE users
		SET logins_count = logins_count + 1, last_login = $1, last_ip = $2 WHERE id = $3`,
		ts(now), ip, userID)
}

// updateUser runs one UPDATE of a single user row.
func (s *Store) updateUser(ctx context.Context, op, userID, query string, args ...any) error {
	if !storable(userID) {
		return fmt.Errorf("store: %s: %w", op, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("store: %s for user %q: %w", op, userID, mapErr(err))
	}
	return nil
}

// DeleteUser removes the user and, in the same transaction, their sessions,
// authorization codes, refresh and access tokens and consents.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if !storable(userID) {
		return fmt.Errorf("store: delete user: %w", store.ErrNotFound)
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, userID)
		if err == nil {
			err = affected(tag)
		}
		if err != nil {
			return err
		}
		for _, table := range []string{"sessions", "auth_codes", "refresh_tokens", "access_tokens", "consents"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE user_id = $1`, userID); err != nil {
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
