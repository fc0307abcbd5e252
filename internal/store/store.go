package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors every backend maps its driver errors to.
var (
	// ErrNotFound: no row matched (unknown, expired or already consumed where the
	// method says so).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique constraint was violated (duplicate user id, duplicate
	// email in one connection, duplicate key id, ...).
	ErrConflict = errors.New("store: conflict")
	// ErrCodeReused: ConsumeAuthCode found the code but it had already been
	// consumed. The returned AuthCode carries the GrantID of the first use so
	// the caller can revoke what that use issued (RFC 6749 §4.1.2).
	ErrCodeReused = errors.New("store: authorization code already used")
	// ErrTokenReused: RotateRefreshToken found a token that was already rotated
	// out (beyond the leeway). The store has revoked the whole family in the
	// same call.
	ErrTokenReused = errors.New("store: refresh token reused")
)

// User is a database-connection user. Field names follow Auth0's user profile.
type User struct {
	ID            string // "auth0|" + 24 hex, or kept as-is for imported users
	Connection    string // e.g. "Username-Password-Authentication"
	Email         string // stored as given; uniqueness is case-insensitive per connection
	EmailVerified bool
	Username      string // optional; unique per connection when set (case-insensitive)
	PasswordHash  string // PHC string: argon2id, or bcrypt ($2a$/$2b$) from imports
	Name          string
	Nickname      string
	Picture       string
	GivenName     string
	FamilyName    string
	Locale        string
	UserMetadata  json.RawMessage // JSON object; nil means {}
	AppMetadata   json.RawMessage // JSON object; nil means {}
	Blocked       bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LoginsCount   int64
	LastLogin     time.Time // zero when never logged in
	LastIP        string
}

// UserPage is one page of ListUsers, ordered by ID.
type UserPage struct {
	Users []User
	Next  string // pass as after for the next page; "" at the end
}

// Session is a server-side SSO session. The browser holds a random cookie
// value; only its SHA-256 (CookieHash) is stored. ID is the public session id
// put in ID tokens as `sid`.
type Session struct {
	ID            string
	CookieHash    string // hex SHA-256 of the cookie value
	UserID        string
	AuthTime      time.Time // when the user last entered a password
	CreatedAt     time.Time
	LastSeenAt    time.Time
	IdleExpiresAt time.Time // sliding: LastSeenAt + session_idle
	ExpiresAt     time.Time // absolute: CreatedAt + session_max
}

// LoginTransaction is a validated /authorize request waiting for the user to
// log in on a hosted page. ID is the hex SHA-256 of the opaque value the
// browser carries in /u/login?state=...
type LoginTransaction struct {
	ID          string
	ClientID    string
	Params      json.RawMessage // the validated authorize request, as its owner serialises it
	CreatedAt   time.Time
	ExpiresAt   time.Time
	CompletedAt time.Time // zero while open
}

// AuthCode is an authorization code waiting for /oauth/token. Hash is the hex
// SHA-256 of the code value.
type AuthCode struct {
	Hash                string
	ClientID            string
	RedirectURI         string // as sent to /authorize ("" when it was omitted)
	CodeChallenge       string
	CodeChallengeMethod string
	UserID              string
	SessionID           string
	Scope               string // space separated, as granted
	Audience            string
	Nonce               string
	AuthTime            time.Time
	CreatedAt           time.Time
	ExpiresAt           time.Time
	// GrantID is set by ConsumeAuthCode: the id of the grant the first use
	// created. Tokens issued from the code carry it so a replay can revoke them.
	GrantID string
	UsedAt  time.Time
}

// RefreshToken is one member of a rotation family. Hash is the hex SHA-256
// of the token value.
type RefreshToken struct {
	Hash            string
	FamilyID        string // the grant id; every rotation keeps it
	ClientID        string
	UserID          string
	SessionID       string
	Scope           string
	Audience        string
	AuthTime        time.Time
	CreatedAt       time.Time
	IdleExpiresAt   time.Time // CreatedAt + refresh_idle
	FamilyExpiresAt time.Time // absolute; copied unchanged to every successor
	RotatedAt       time.Time // zero while it is the family's current token
	RevokedAt       time.Time // zero unless the family was revoked
}

// RevokedGrantRetention is how long RevokeGrant remembers a revoked grant
// for GetGrantUserState: longer than any access token lives (config
// accepts lifetimes.access_token up to 30 days, as Auth0 does), so every
// sealed token of a revoked grant expires before the grant is forgotten.
const RevokedGrantRetention = 31 * 24 * time.Hour

// AccessToken is an opaque access token (no audience), good only at
// /userinfo. Hash is the hex SHA-256 of the token value.
type AccessToken struct {
	Hash      string
	GrantID   string
	ClientID  string
	UserID    string
	Scope     string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
}

// UserState is a user's row read together with whether any brute-force
// block of theirs may need listing, so that the common case (no block) costs
// one statement and the block list is read only when there is one.
type UserState struct {
	User *User
	// Blocks: the user has a live failure run (one ListLoginFailures would
	// return at the same now) of at least the minFailures asked for, from
	// some IP. False means ListLoginFailures has no such run.
	Blocks bool
}

// Consent records the scopes a user granted a client for an audience.
type Consent struct {
	UserID    string
	ClientID  string
	Audience  string
	Scopes    []string
	GrantedAt time.Time
}

// SigningKey is an RSA signing key, its private part encrypted by the keys
// package. NotBefore is when signing starts using it; ExpiresAt, once set,
// is when it leaves the JWKS.
type SigningKey struct {
	ID               string // kid
	Algorithm        string // "RS256"
	EncryptedPrivate []byte // AES-256-GCM sealed PKCS#8 DER
	PublicJWK        []byte // JSON Web Key of the public half
	CreatedAt        time.Time
	NotBefore        time.Time
	ExpiresAt        time.Time // zero: published indefinitely
}

// Store is everything latch keeps. Every method takes ctx first. Backends map
// driver errors to ErrNotFound and ErrConflict; single-use operations are one
// conditional statement (or one transaction) in the database, never a Go lock,
// so they hold across instances.
type Store interface {
	// Ping reports whether the database answers (used by /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	// CreateUser inserts u. ErrConflict when the id, the (connection, email)
	// pair or the (connection, username) pair is taken (case-insensitively).
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user with that id, or ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail looks up case-insensitively within one connection.
	GetUserByEmail(ctx context.Context, connection, email string) (*User, error)
	// GetUserByUsername looks up case-insensitively within one connection.
	GetUserByUsername(ctx context.Context, connection, username string) (*User, error)
	// ListUsers returns up to limit users with ID > after, ordered by ID.
	ListUsers(ctx context.Context, after string, limit int) (UserPage, error)
	// UpdateUser rewrites the profile fields (not the password, counters or
	// CreatedAt) of an existing user and sets UpdatedAt. ErrNotFound, ErrConflict.
	UpdateUser(ctx context.Context, u *User) error
	// SetPassword replaces the password hash and sets UpdatedAt.
	SetPassword(ctx context.Context, userID, hash string, now time.Time) error
	// SetBlocked sets the blocked flag and UpdatedAt.
	SetBlocked(ctx context.Context, userID string, blocked bool, now time.Time) error
	// RecordLogin increments logins_count and sets last_login and last_ip.
	RecordLogin(ctx context.Context, userID, ip string, now time.Time) error
	// DeleteUser removes the user and everything that belongs to them
	// (sessions, refresh tokens, access tokens, consents). ErrNotFound.
	DeleteUser(ctx context.Context, userID string) error

	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *Session) error
	// GetSessionByCookie returns the live session (now before both expiries)
	// whose cookie hash matches, or ErrNotFound.
	GetSessionByCookie(ctx context.Context, cookieHash string, now time.Time) (*Session, error)
	// GetSession returns a session by its public id, expired or not.
	GetSession(ctx context.Context, id string) (*Session, error)
	// TouchSession slides the idle expiry (never past ExpiresAt).
	TouchSession(ctx context.Context, id string, now, idleExpiresAt time.Time) error
	// UpdateSessionAuth records a fresh password login on an existing session.
	UpdateSessionAuth(ctx context.Context, id string, authTime, idleExpiresAt time.Time) error
	// DeleteSession removes a session (logout). ErrNotFound if absent.
	DeleteSession(ctx context.Context, id string) error

	// CreateTransaction inserts a login transaction.
	CreateTransaction(ctx context.Context, t *LoginTransaction) error
	// GetTransaction returns a transaction by id whether open, completed or
	// expired (the caller decides what to show), or ErrNotFound.
	GetTransaction(ctx context.Context, id string) (*LoginTransaction, error)
	// CompleteTransaction marks an open, unexpired transaction completed in one
	// conditional update; ErrNotFound when it is unknown, expired or already
	// completed (only one caller ever wins).
	CompleteTransaction(ctx context.Context, id string, now time.Time) error

	// CreateAuthCode inserts a code.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// ConsumeAuthCode marks the code used and stamps grantID on it in one
	// conditional update, and returns it. Unknown or expired: ErrNotFound.
	// Already used: the stored code (with the first use's GrantID) and
	// ErrCodeReused. Exactly one of any number of concurrent callers wins.
	ConsumeAuthCode(ctx context.Context, hash, grantID string, now time.Time) (*AuthCode, error)

	// CreateRefreshToken inserts the first token of a family.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// GetRefreshToken returns a token by hash, whatever its state, or ErrNotFound.
	GetRefreshToken(ctx context.Context, hash string) (*RefreshToken, error)
	// RotateRefreshToken marks the token oldHash rotated and inserts next, in
	// one transaction whose first statement is a conditional update, and
	// returns the old token. The old token must be current (not rotated, not
	// revoked) and unexpired (both expiries after now), or rotated less than
	// leeway ago. A token rotated out longer ago: the whole family is revoked
	// and ErrTokenReused returned. Unknown, revoked or expired: ErrNotFound.
	// Of concurrent callers with leeway 0, exactly one wins.
	RotateRefreshToken(ctx context.Context, oldHash string, next *RefreshToken, now time.Time, leeway time.Duration) (*RefreshToken, error)
	// RevokeGrant revokes every refresh token of the family and every
	// stored opaque access token with that grant id, and remembers the
	// grant as revoked for RevokedGrantRetention (GetGrantUserState), which
	// refuses the sealed opaque tokens that carry its id. Revoking an
	// unknown grant is not an error; revoking one again keeps the first
	// time.
	RevokeGrant(ctx context.Context, grantID string, now time.Time) error

	// CreateAccessToken inserts an opaque access token. latch no longer
	// stores the opaque tokens it issues (they are sealed, see
	// GetGrantUserState); stored ones, issued by earlier versions, are
	// still read until they expire.
	CreateAccessToken(ctx context.Context, t *AccessToken) error
	// GetAccessToken returns an unrevoked, unexpired opaque token, or ErrNotFound.
	GetAccessToken(ctx context.Context, hash string, now time.Time) (*AccessToken, error)
	// GetAccessTokenUser is GetAccessToken and GetUserState of the token's
	// user in one statement (what /userinfo reads per request). ErrNotFound
	// when the token is not valid (as GetAccessToken) or its user no longer
	// exists.
	GetAccessTokenUser(ctx context.Context, hash string, now time.Time, minFailures int) (*AccessToken, *UserState, error)
	// GetUserState returns the user with that id and whether they have a
	// brute-force block (UserState.Blocks), in one statement; ErrNotFound
	// when there is no such user.
	GetUserState(ctx context.Context, id string, now time.Time, minFailures int) (*UserState, error)
	// GetGrantUserState is GetUserState for the user of a sealed opaque
	// access token, in the same one statement also checking the token's
	// grant: ErrNotFound when there is no such user or when RevokeGrant
	// revoked grantID ("" names no grant and is never revoked).
	GetGrantUserState(ctx context.Context, grantID, userID string, now time.Time, minFailures int) (*UserState, error)

	// GetConsent returns what the user granted the client for the audience,
	// or ErrNotFound.
	GetConsent(ctx context.Context, userID, clientID, audience string) (*Consent, error)
	// SaveConsent inserts or replaces a consent.
	SaveConsent(ctx context.Context, c *Consent) error

	// CreateSigningKey inserts a key. ErrConflict for a duplicate id.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key, ordered by NotBefore then CreatedAt.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// SetSigningKeyExpiry sets when a key leaves the JWKS.
	SetSigningKeyExpiry(ctx context.Context, id string, expiresAt time.Time) error
	// DeleteExpiredSigningKeys removes keys whose ExpiresAt is set and before now.
	DeleteExpiredSigningKeys(ctx context.Context, now time.Time) (int, error)

	// RecordLoginFailure adds one failed login for key from ip and returns
	// the run's new count, in one conditional upsert (concurrent failures
	// are all counted). A run whose ExpiresAt is not after now starts again
	// at 1. The row's LastFailureAt becomes now and its ExpiresAt expiresAt.
	RecordLoginFailure(ctx context.Context, key, ip string, now, expiresAt time.Time) (int, error)
	// CountLoginFailures returns the live run's count for key from ip (0
	// when there is none or it expired).
	CountLoginFailures(ctx context.Context, key, ip string, now time.Time) (int, error)
	// ListLoginFailures returns key's live runs from every IP, ordered by IP.
	ListLoginFailures(ctx context.Context, key string, now time.Time) ([]LoginFailure, error)
	// ClearLoginFailures forgets key's runs from ip, or from every IP when ip
	// is "". Clearing nothing is not an error.
	ClearLoginFailures(ctx context.Context, key, ip string) error
	// ThrottleIP charges one failed login to ip's throttle, a generic cell
	// rate algorithm: the stored instant becomes max(stored, now) + cost, and
	// is returned. How far it lies ahead of now is the IP's recent failure
	// load; it drains in real time. Concurrent charges all count.
	ThrottleIP(ctx context.Context, ip string, now time.Time, cost time.Duration) (time.Time, error)
	// IPThrottle returns ip's stored instant, or the zero time when none.
	IPThrottle(ctx context.Context, ip string) (time.Time, error)
	// DeleteExpiredLoginFailures removes up to batch expired failure runs and
	// drained IP throttles (instant not after now) and reports how many went.
	DeleteExpiredLoginFailures(ctx context.Context, now time.Time, batch int) (int, error)

	// DeleteExpired removes up to batch expired rows of each kind (codes,
	// transactions, sessions, access tokens, refresh tokens past both
	// expiries or revoked) and reports how many rows went. Safe to run from
	// several instances at once.
	DeleteExpired(ctx context.Context, now time.Time, batch int) (int, error)
}
