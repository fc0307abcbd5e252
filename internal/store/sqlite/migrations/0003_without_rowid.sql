-- 0003_without_rowid: users and access_tokens become WITHOUT ROWID tables,
-- stored in the B-tree of their primary key (the user id, the token's
-- hash). Every read of them is by that key (/userinfo reads both on each
-- request), and it took two B-tree descents before, the primary key's
-- index and then the table by rowid, each a page-cache miss once the
-- tables outgrow the cache. The indexes are recreated as they were; the
-- rows are copied unchanged.

CREATE TABLE users_0003 (
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
) STRICT, WITHOUT ROWID;
INSERT INTO users_0003 (id, connection, email, email_norm, email_verified, username,
	username_norm, password_hash, name, nickname, picture, given_name, family_name, locale,
	user_metadata, app_metadata, blocked, created_at, updated_at, logins_count, last_login, last_ip)
SELECT id, connection, email, email_norm, email_verified, username,
	username_norm, password_hash, name, nickname, picture, given_name, family_name, locale,
	user_metadata, app_metadata, blocked, created_at, updated_at, logins_count, last_login, last_ip
FROM users ORDER BY id;
DROP TABLE users;
ALTER TABLE users_0003 RENAME TO users;
CREATE UNIQUE INDEX users_connection_email ON users (connection, email_norm) WHERE email_norm <> '';
CREATE UNIQUE INDEX users_connection_username ON users (connection, username_norm) WHERE username_norm <> '';

CREATE TABLE access_tokens_0003 (
	hash       TEXT    NOT NULL PRIMARY KEY,
	grant_id   TEXT    NOT NULL,
	client_id  TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	scope      TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO access_tokens_0003 (hash, grant_id, client_id, user_id, scope, created_at, expires_at, revoked_at)
SELECT hash, grant_id, client_id, user_id, scope, created_at, expires_at, revoked_at
FROM access_tokens ORDER BY hash;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_0003 RENAME TO access_tokens;
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
CREATE INDEX access_tokens_revoked ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
