// Package users creates and changes database-connection users the way Auth0
// does (ids, default nickname and picture, password policy), for every entry
// point: the CLI, the hosted signup page and /dbconnections/signup.
package users

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/password"
	"github.com/latch-auth/latch/internal/store"
)

// Errors callers map to their own answers.
var (
	ErrInvalidEmail  = errors.New("invalid email address")
	ErrUserExists    = errors.New("the user already exists")
	ErrUsernameTaken = errors.New("the username already exists")
)

// PolicyError is a password that the connection's policy refuses.
type PolicyError struct{ Err error }

func (e *PolicyError) Error() string { return e.Err.Error() }
func (e *PolicyError) Unwrap() error { return e.Err }

// NewID returns a database user id: "auth0|" and 24 hex digits, the shape
// of Auth0's own (a MongoDB ObjectId).
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "auth0|" + hex.EncodeToString(b[:])
}

// NormalizeEmail checks an address and returns it trimmed. Addresses with a
// display name ("Ann <a@b>") are refused: only the bare address is an id.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 254 {
		return "", ErrInvalidEmail
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") && !strings.HasSuffix(email, "@localhost") {
		return "", ErrInvalidEmail
	}
	return email, nil
}

// Picture is Auth0's default avatar: the Gravatar of the address's MD5,
// falling back to an image made from the initials.
func Picture(email, name string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	initials := initialsOf(name, email)
	fallback := "https://cdn.auth0.com/avatars/" + strings.ToLower(initials) + ".png"
	return "https://s.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?s=480&r=pg&d=" + url.QueryEscape(fallback)
}

func initialsOf(name, email string) string {
	src := strings.Fields(name)
	if len(src) == 0 {
		local, _, _ := strings.Cut(email, "@")
		src = []string{local}
	}
	var b strings.Builder
	for _, w := range src {
		if b.Len() >= 2 {
			break
		}
		for _, r := range w {
			if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				b.WriteRune(r)
			}
			break
		}
	}
	if b.Len() == 0 {
		return "u"
	}
	return b.String()
}

// NewUser is what a caller knows about a user to create.
type NewUser struct {
	ID            string // empty: a new auth0|<24 hex>
	Connection    string
	Email         string
	EmailVerified bool
	Username      string
	Password      string // checked against the policy and hashed
	PasswordHash  string // instead of Password: an imported hash, kept as is
	Name          string
	Nickname      string
	Picture       string
	GivenName     string
	FamilyName    string
	Locale        string
	UserMetadata  json.RawMessage
	AppMetadata   json.RawMessage
	Blocked       bool
	CreatedAt     time.Time // zero: now
}

// Create validates nu, applies Auth0's defaults (nickname = the address's
// local part, name = the address, Gravatar picture), hashes the password and
// stores the user. minLength is the connection's password_min_length.
func Create(ctx context.Context, st store.Store, h *password.Hasher, nu NewUser, minLength int, now time.Time) (*store.User, error) {
	email, err := NormalizeEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	hash := nu.PasswordHash
	if hash == "" {
		if err := password.CheckPolicy(nu.Password, minLength); err != nil {
			return nil, &PolicyError{err}
		}
		if hash, err = h.Hash(ctx, nu.Password); err != nil {
			return nil, fmt.Errorf("users: hash password: %w", err)
		}
	}
	local, _, _ := strings.Cut(email, "@")
	u := &store.User{
		ID: nu.ID, Connection: nu.Connection, Email: email, EmailVerified: nu.EmailVerified,
		Username: strings.TrimSpace(nu.Username), PasswordHash: hash,
		Name: nu.Name, Nickname: nu.Nickname, Picture: nu.Picture,
		GivenName: nu.GivenName, FamilyName: nu.FamilyName, Locale: nu.Locale,
		UserMetadata: nu.UserMetadata, AppMetadata: nu.AppMetadata, Blocked: nu.Blocked,
		CreatedAt: nu.CreatedAt, UpdatedAt: now,
	}
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	if u.Name == "" {
		u.Name = email
	}
	if u.Nickname == "" {
		u.Nickname = local
	}
	if u.Picture == "" {
		u.Picture = Picture(email, nu.Name)
	}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			if u.Username != "" {
				if _, gerr := st.GetUserByUsername(ctx, u.Connection, u.Username); gerr == nil {
					if _, eerr := st.GetUserByEmail(ctx, u.Connection, email); eerr != nil {
						return nil, ErrUsernameTaken
					}
				}
			}
			return nil, ErrUserExists
		}
		return nil, fmt.Errorf("users: create: %w", err)
	}
	return u, nil
}

// Find resolves a CLI-style reference: a user id (contains "|") or an email
// in the given connection.
func Find(ctx context.Context, st store.Store, connection, ref string) (*store.User, error) {
	if strings.Contains(ref, "|") {
		return st.GetUser(ctx, ref)
	}
	return st.GetUserByEmail(ctx, connection, strings.TrimSpace(ref))
}
