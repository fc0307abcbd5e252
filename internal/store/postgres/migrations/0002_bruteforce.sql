-- 0002_bruteforce: brute-force protection (SPEC §5).
--
-- login_failures counts consecutive failed logins per (account, IP);
-- account_key is a user id, or an opaque hash for identifiers that name no
-- user. A run whose expires_at has passed starts again at 1.
--
-- ip_throttles holds one instant per IP (a generic cell rate algorithm):
-- every failed login pushes it cost further past greatest(tat, now); how
-- far it lies ahead of now is the IP's recent failure load.

CREATE TABLE login_failures (
	account_key      text        NOT NULL,
	ip               text        NOT NULL,
	failures         integer     NOT NULL,
	first_failure_at timestamptz NOT NULL,
	last_failure_at  timestamptz NOT NULL,
	expires_at       timestamptz NOT NULL,
	PRIMARY KEY (account_key, ip)
);
CREATE INDEX login_failures_expires ON login_failures (expires_at);

CREATE TABLE ip_throttles (
	ip  text        NOT NULL PRIMARY KEY,
	tat timestamptz NOT NULL
);
CREATE INDEX ip_throttles_tat ON ip_throttles (tat);
