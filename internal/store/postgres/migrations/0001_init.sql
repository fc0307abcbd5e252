-- 0001_init: the initial latch schema for PostgreSQL. Shipped migrations are
-- never edited; add 0002_*.sql instead.
--
-- Times are timestamptz written in UTC and truncated to the millisecond by
-- the Go code, so both backends keep the same precision; NULL means "not
-- yet" (used_at, rotated_at, ...). Codes, tokens, cookies and transaction
-- ids are stored only as hex SHA-256 hashes. Identifiers that are listed in
-- order (users, signing keys) use the "C" collation so the order is byte
-- order whatever the database's locale, as in SQLite.

CREATE TABLE users (
	id             text COLLATE "C" NOT NULL PRIMARY KEY,
	connection     text        NOT NULL,
	email          text        NOT NULL,
	email_norm     text        NOT NULL, -- lower-cased in Go: uniqueness is case-insensitive
	email_verified boolean     NOT NULL DEFAULT false,
	username       text        NOT NULL DEFAULT '',
	username_norm  text        NOT NULL DEFAULT '',
	password_hash  text        NOT NULL DEFAULT '',
	name           text        NOT NULL DEFAULT '',
	nickname       text        NOT NULL DEFAULT '',
	picture        text        NOT NULL DEFAULT '',
	given_name     text        NOT NULL DEFAULT '',
	family_name    text        NOT NULL DEFAULT '',
	locale         text        NOT NULL DEFAULT '',
	user_metadata  text        NOT NULL DEFAULT '{}', -- JSON object, kept verbatim
	app_metadata   text        NOT NULL DEFAULT '{}', -- JSON object, kept verbatim
	blocked        boolean     NOT NULL DEFAULT false,
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL,
	logins_count   bigint      NOT NULL DEFAULT 0,
	last_login     timestamptz,
	last_ip        text        NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX users_connection_email ON users (connection, email_norm) WHERE email_norm <> '';
CREATE UNIQUE INDEX users_connection_username ON users (connection, username_norm) WHERE username_norm <> '';

CREATE TABLE sessions (
	id              text        NOT NULL PRIMARY KEY,
	cookie_hash     text        NOT NULL UNIQUE,
	user_id         text        NOT NULL,
	auth_time       timestamptz NOT NULL,
	created_at      timestamptz NOT NULL,
	last_seen_at    timestamptz NOT NULL,
	idle_expires_at timestamptz NOT NULL,
	expires_at      timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_idle_expires ON sessions (idle_expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_transactions (
	id           text        NOT NULL PRIMARY KEY,
	client_id    text        NOT NULL,
	params       bytea       NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	completed_at timestamptz
);
CREATE INDEX login_transactions_expires ON login_transactions (expires_at);

CREATE TABLE auth_codes (
	hash                  text        NOT NULL PRIMARY KEY,
	client_id             text        NOT NULL,
	redirect_uri          text        NOT NULL,
	code_challenge        text        NOT NULL,
	code_challenge_method text        NOT NULL,
	user_id               text        NOT NULL,
	session_id            text        NOT NULL,
	scope                 text        NOT NULL,
	audience              text        NOT NULL,
	nonce                 text        NOT NULL,
	auth_time             timestamptz NOT NULL,
	created_at            timestamptz NOT NULL,
	expires_at            timestamptz NOT NULL,
	grant_id              text        NOT NULL DEFAULT '',
	used_at               timestamptz
);
CREATE INDEX auth_codes_user ON auth_codes (user_id);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE refresh_tokens (
	hash              text        NOT NULL PRIMARY KEY,
	family_id         text        NOT NULL,
	client_id         text        NOT NULL,
	user_id           text        NOT NULL,
	session_id        text        NOT NULL,
	scope             text        NOT NULL,
	audience          text        NOT NULL,
	auth_time         timestamptz NOT NULL,
	created_at        timestamptz NOT NULL,
	idle_expires_at   timestamptz NOT NULL,
	family_expires_at timestamptz NOT NULL,
	rotated_at        timestamptz,
	revoked_at        timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_expires ON refresh_tokens (family_expires_at);
CREATE INDEX refresh_tokens_revoked ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE access_tokens (
	hash       text        NOT NULL PRIMARY KEY,
	grant_id   text        NOT NULL,
	client_id  text        NOT NULL,
	user_id    text        NOT NULL,
	scope      text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz
);
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
CREATE INDEX access_tokens_revoked ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE consents (
	user_id    text        NOT NULL,
	client_id  text        NOT NULL,
	audience   text        NOT NULL,
	scopes     text[]      NOT NULL,
	granted_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, client_id, audience)
);

CREATE TABLE signing_keys (
	id                text COLLATE "C" NOT NULL PRIMARY KEY,
	algorithm         text        NOT NULL,
	encrypted_private bytea       NOT NULL,
	public_jwk        bytea       NOT NULL,
	created_at        timestamptz NOT NULL,
	not_before        timestamptz NOT NULL,
	expires_at        timestamptz
);
