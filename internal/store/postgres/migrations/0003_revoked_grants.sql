-- 0003_revoked_grants: revoked grants, for sealed opaque access tokens.
--
-- Opaque access tokens are no longer stored: they are sealed (encrypted,
-- authenticated) and carry their grant id. A grant revoked (code reuse,
-- refresh-token reuse, /oauth/revoke) is remembered here until
-- expires_at, past the longest lifetime any of its tokens can have, and
-- /userinfo refuses the tokens of a grant listed here. access_tokens stays
-- for tokens issued before this version, until they expire.

CREATE TABLE revoked_grants (
	grant_id   text        NOT NULL PRIMARY KEY,
	revoked_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_grants_expires ON revoked_grants (expires_at);
