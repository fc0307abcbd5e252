-- 0001_init: the initial latch schema. Shipped migrations are never edited;
-- add 0002_*.sql instead.
--
-- Times are INTEGER unix milliseconds, UTC; NULL means "not yet" (used_at,
-- rotated_at, ...). Codes, tokens, cookies and transaction ids are stored
-- only as hex SHA-256 hashes.

CREATE TABLE users (
	id             TEXT    NOT NULL PRIMARY KEY,
	connection     TEXT    NOT NULL,
	email          TEXT    NOT NULL,
	email_norm     TEXT    NOT NULL, -- lower-cased email: uniqueness is case-insensitive
	email_verified INTEGER NOT NULL DEFAULT 0,
	username       TEXT    NOT NULL DEFAULT '',
	username_norm  TEXT    NOT NULL DEFAULT '',
	password_hash  TEXT    NOT NULL DEFAULT '',
	name           TEXT    NOT NULL DEFAULT '',
	nickname       TEXT    NOT NULL DEFAULT '',
	picture        TEXT    NOT NULL DEFAULT '',
	given_name     TEXT    NOT NULL DEFAULT '',
	family_name    TEXT    NOT NULL DEFAULT '',
	locale         TEXT    NOT NULL DEFAULT '',
	user_metadata  TEXT    NOT NULL DEFAULT '{}',
	app_metadata   TEXT    NOT NULL DEFAULT '{}',
	blocked        INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	logins_count   INTEGER NOT NULL DEFAULT 0,
	last_login     INTEGER,
	last_ip        TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX users_connection_email ON users (connection, email_norm) WHERE email_norm <> '';
CREATE UNIQUE INDEX users_connection_username ON users (connection, username_norm) WHERE username_norm <> '';

CREATE TABLE sessions (
	id              TEXT    NOT NULL PRIMARY KEY,
	cookie_hash     TEXT    NOT NULL UNIQUE,
	user_id         TEXT    NOT NULL,
	auth_time       INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	last_seen_at    INTEGER NOT NULL,
	idle_expires_at INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_idle_expires ON sessions (idle_expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_transactions (
	id           TEXT    NOT NULL PRIMARY KEY,
	client_id    TEXT    NOT NULL,
	params       BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	completed_at INTEGER
) STRICT;
CREATE INDEX login_transactions_expires ON login_transactions (expires_at);

CREATE TABLE auth_codes (
	hash                  TEXT    NOT NULL PRIMARY KEY,
	client_id             TEXT    NOT NULL,
	redirect_uri          TEXT    NOT NULL,
	code_challenge        TEXT    NOT NULL,
	code_challenge_method TEXT    NOT NULL,
	user_id               TEXT    NOT NULL,
	session_id            TEXT    NOT NULL,
	scope                 TEXT    NOT NULL,
	audience              TEXT    NOT NULL,
	nonce                 TEXT    NOT NULL,
	auth_time             INTEGER NOT NULL,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL,
	grant_id              TEXT    NOT NULL DEFAULT '',
	used_at               INTEGER
) STRICT;
CREATE INDEX auth_codes_user ON auth_codes (user_id);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE refresh_tokens (
	hash              TEXT    NOT NULL PRIMARY KEY,
	family_id         TEXT    NOT NULL,
	client_id         TEXT    NOT NULL,
	user_id           TEXT    NOT NULL,
	session_id        TEXT    NOT NULL,
	scope             TEXT    NOT NULL,
	audience          TEXT    NOT NULL,
	auth_time         INTEGER NOT NULL,
	created_at        INTEGER NOT NULL,
	idle_expires_at   INTEGER NOT NULL,
	family_expires_at INTEGER NOT NULL,
	rotated_at        INTEGER,
	revoked_at        INTEGER
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_expires ON refresh_tokens (family_expires_at);
CREATE INDEX refresh_tokens_revoked ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE access_tokens (
	hash       TEXT    NOT NULL PRIMARY KEY,
	grant_id   TEXT    NOT NULL,
	client_id  TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	scope      TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
) STRICT;
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
CREATE INDEX access_tokens_revoked ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE consents (
	user_id    TEXT    NOT NULL,
	client_id  TEXT    NOT NULL,
	audience   TEXT    NOT NULL,
	scopes     TEXT    NOT NULL, -- JSON array of strings
	granted_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client_id, audience)
) STRICT;

CREATE TABLE signing_keys (
	id                TEXT    NOT NULL PRIMARY KEY,
	algorithm         TEXT    NOT NULL,
	encrypted_private BLOB    NOT NULL,
	public_jwk        BLOB    NOT NULL,
	created_at        INTEGER NOT NULL,
	not_before        INTEGER NOT NULL,
	expires_at        INTEGER
) STRICT;
