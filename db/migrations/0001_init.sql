-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 0001_init.sql: stepupd's first schema: single-use start-token ids,
-- pending step-up flows, sessions, elevations and the audit log.
--
-- Applied by store_open() inside BEGIN IMMEDIATE ... COMMIT together with
-- the schema_version bump, so this file must not contain BEGIN, COMMIT or
-- anything else that ends the transaction. schema_version itself is created
-- by store.c (it has to exist before any migration can be counted).
--
-- Session ids, state values and browser-binding cookies are never stored in
-- clear: every *_hash column holds a lowercase hex SHA-256 (64 characters),
-- which the CHECK constraints below enforce as a second line behind the
-- checks in store.c. Times are Unix seconds.

-- Start-URL token ids already used (SPEC 2.1 step 1). A row is kept until
-- the token itself expires; after that the token is refused as expired, so
-- store_purge() may forget it.
CREATE TABLE start_tokens (
	id          TEXT    NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 256),
	expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX start_tokens_expires ON start_tokens (expires_at);

-- Pending step-up flows (SPEC 2.1 step 2, 2.2): single use, short-lived,
-- consumed by DELETE ... RETURNING on the first callback.
CREATE TABLE pending_flows (
	state_hash    TEXT    NOT NULL PRIMARY KEY
	              CHECK (length(state_hash) = 64 AND state_hash NOT GLOB '*[^0-9a-f]*'),
	browser_hash  TEXT    NOT NULL
	              CHECK (length(browser_hash) = 64 AND browser_hash NOT GLOB '*[^0-9a-f]*'),
	nonce         TEXT    CHECK (nonce IS NULL OR length(nonce) <= 512),
	pkce_verifier TEXT    CHECK (pkce_verifier IS NULL OR length(pkce_verifier) <= 128),
	provider      TEXT    NOT NULL CHECK (length(provider) BETWEEN 1 AND 256),
	context       TEXT    NOT NULL CHECK (length(context) BETWEEN 1 AND 256),
	session_hash  TEXT    CHECK (session_hash IS NULL OR
	                             (length(session_hash) = 64 AND session_hash NOT GLOB '*[^0-9a-f]*')),
	user          TEXT    CHECK (user IS NULL OR length(user) <= 1024),
	return_to     TEXT    NOT NULL CHECK (length(return_to) BETWEEN 1 AND 8192),
	request_id    TEXT    CHECK (request_id IS NULL OR length(request_id) <= 256),
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL CHECK (expires_at >= created_at)
) WITHOUT ROWID;
CREATE INDEX pending_flows_expires ON pending_flows (expires_at);

-- One row per session that was ever elevated: who it belongs to (the user
-- of its latest elevation), when it was first and last elevated.
CREATE TABLE sessions (
	session_hash      TEXT    NOT NULL PRIMARY KEY
	                  CHECK (length(session_hash) = 64 AND session_hash NOT GLOB '*[^0-9a-f]*'),
	user              TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	last_elevated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_last_elevated ON sessions (last_elevated_at);

-- Elevations (SPEC 2.1 step 4). Revocation sets revoked_at (never deletes),
-- so the record of what was granted stays for the audit trail.
CREATE TABLE elevations (
	id            INTEGER PRIMARY KEY,
	session_hash  TEXT    NOT NULL REFERENCES sessions (session_hash) ON DELETE CASCADE,
	user          TEXT    NOT NULL,
	context       TEXT    NOT NULL CHECK (length(context) BETWEEN 1 AND 256),
	provider      TEXT    NOT NULL CHECK (length(provider) BETWEEN 1 AND 256),
	acr           TEXT    NOT NULL,
	amr           TEXT    NOT NULL DEFAULT '[]'
	              CHECK (json_valid(amr) AND json_type(amr) = 'array'),
	auth_time     INTEGER NOT NULL,
	elevated_at   INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	revoked_at    INTEGER NOT NULL DEFAULT 0 CHECK (revoked_at >= 0)
);
-- The /check lookup: session + context, latest expires_at first. Also
-- serves the per-session list and revocation (prefix session_hash) and the
-- foreign key check when a sessions row is deleted.
CREATE INDEX elevations_lookup ON elevations (session_hash, context, expires_at);

-- Audit log: append-only, read newest first.
CREATE TABLE audit (
	id            INTEGER PRIMARY KEY,
	ts            INTEGER NOT NULL,
	event         TEXT,
	session_hash  TEXT    CHECK (session_hash IS NULL OR
	                             (length(session_hash) = 64 AND session_hash NOT GLOB '*[^0-9a-f]*')),
	user          TEXT,
	context       TEXT,
	provider      TEXT,
	outcome       TEXT,
	detail        TEXT
);
CREATE INDEX audit_ts ON audit (ts);
