-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 0002_policies.sql: session policies (SPEC 2.4), the change counter the
-- servers watch, and the record of every policy match for the reports.
--
-- Applied by store_open() inside one transaction with the schema_version
-- bump (see db/README.md): no BEGIN/COMMIT here. Read and written by
-- server/store_policy.c only.

-- The policy set. `json` is the policy's canonical JSON (policy_to_json()),
-- the source of truth; name and enabled are copies kept for lookups and
-- must agree with it (store_policy.c writes all three together). The id is
-- stable while the name stays (import updates by name) and never reused
-- (AUTOINCREMENT), so matches keep pointing at the right policy.
CREATE TABLE policies (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	position    INTEGER NOT NULL,
	name        TEXT    NOT NULL COLLATE NOCASE UNIQUE
	            CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 128),
	enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
	json        TEXT    NOT NULL CHECK (json_valid(json) AND json_type(json) = 'object'),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX policies_position ON policies (position, id);

-- One row: incremented by every change to `policies` (import, create,
-- update, delete, enable), so a server holding version V reloads when it
-- reads a different value.
CREATE TABLE policy_version (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	version  INTEGER NOT NULL CHECK (version >= 0)
);
INSERT INTO policy_version (id, version) VALUES (1, 0);

-- One row per (request, matching policy). policy_id and policy_name are
-- copied, not a foreign key: the report of a deleted policy stays
-- readable. match_key groups the rows of one request so the outcome can be
-- updated when the step-up completes (pending -> stepped_up / abandoned).
CREATE TABLE policy_matches (
	id            INTEGER PRIMARY KEY,
	ts            INTEGER NOT NULL,
	policy_id     INTEGER NOT NULL,
	policy_name   TEXT    NOT NULL CHECK (length(CAST(policy_name AS BLOB)) BETWEEN 1 AND 128),
	session_hash  TEXT    CHECK (session_hash IS NULL OR
	                             (length(session_hash) = 64 AND session_hash NOT GLOB '*[^0-9a-f]*')),
	user          TEXT    CHECK (user IS NULL OR length(CAST(user AS BLOB)) <= 1024),
	app           TEXT    CHECK (app IS NULL OR length(CAST(app AS BLOB)) <= 1024),
	file_name     TEXT    CHECK (file_name IS NULL OR length(CAST(file_name AS BLOB)) <= 1024),
	file_label    TEXT    CHECK (file_label IS NULL OR length(CAST(file_label AS BLOB)) <= 1024),
	activity      TEXT    CHECK (activity IS NULL OR length(CAST(activity AS BLOB)) <= 1024),
	path          TEXT    CHECK (path IS NULL OR length(CAST(path AS BLOB)) <= 4096),
	decision      TEXT    NOT NULL CHECK (decision IN ('allow', 'block', 'step_up')),
	context       TEXT    CHECK (context IS NULL OR length(CAST(context AS BLOB)) <= 1024),
	outcome       TEXT    NOT NULL
	              CHECK (outcome IN ('allowed', 'blocked', 'pending', 'stepped_up', 'abandoned')),
	match_key     TEXT    CHECK (match_key IS NULL OR length(CAST(match_key AS BLOB)) BETWEEN 1 AND 128)
);
-- per-policy reports by time, and the all-policies view
CREATE INDEX policy_matches_policy_ts ON policy_matches (policy_id, ts);
CREATE INDEX policy_matches_ts ON policy_matches (ts);
-- outcome updates by key
CREATE INDEX policy_matches_key ON policy_matches (match_key) WHERE match_key IS NOT NULL;
-- abandoning old pending matches
CREATE INDEX policy_matches_pending ON policy_matches (ts) WHERE outcome = 'pending';
