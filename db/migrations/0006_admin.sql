-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 0006_admin.sql: the admin console's sign-in (SPEC 2.5, docs/admin.md).
-- admin_users holds local accounts: the password only as an encoded
-- Argon2id string ($argon2id$v=19$m=...,t=...,p=...$salt$hash), set with
-- `stepupd admin passwd NAME`. admin_sessions holds signed-in admins by the
-- SHA-256 (hex) of the cookie value, never the value itself; via says how
-- the admin signed in ("local", "oidc:<provider>"). admin_login_failures
-- counts failed sign-ins per key ("user:<name>", "ip:<address>") for the
-- slowdown.
--
-- Applied by store_open() inside its own transaction: no BEGIN/COMMIT here.

CREATE TABLE admin_users (
	name        TEXT    NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
	hash        TEXT    NOT NULL CHECK (hash LIKE '$argon2id$%' AND length(hash) <= 512),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE admin_sessions (
	id_hash     TEXT    NOT NULL PRIMARY KEY CHECK (length(id_hash) = 64),
	user        TEXT    NOT NULL CHECK (length(user) BETWEEN 1 AND 256),
	csrf        TEXT    NOT NULL CHECK (length(csrf) BETWEEN 32 AND 47),
	created_at  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL CHECK (expires_at > created_at),
	via         TEXT    NOT NULL CHECK (via = 'local' OR via LIKE 'oidc:%' OR via LIKE 'saml:%')
) WITHOUT ROWID;
CREATE INDEX admin_sessions_user ON admin_sessions (user);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

CREATE TABLE admin_login_failures (
	key           TEXT    NOT NULL PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
	failures      INTEGER NOT NULL CHECK (failures >= 1),
	last_failure  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX admin_login_failures_last ON admin_login_failures (last_failure);
