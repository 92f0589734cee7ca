-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 0003_alerts.sql: the policy-alert outbox (docs/alerts.md). An alert is
-- created in the same transaction as the policy_matches row that caused
-- it, so a match and its alert are stored together or not at all; each
-- alert has one delivery row per destination (the webhook, each mail
-- recipient), which the delivery thread sends, retries with backoff and
-- marks sent. Nothing here is ever deleted by stepupd: an undeliverable
-- alert stays pending with its attempts and last error for the console.
--
-- Applied by store_open() inside one transaction with the schema_version
-- bump (see db/README.md): no BEGIN/COMMIT here. Read and written by
-- server/store_alert.c only.

-- One row per alert sent for a policy match. `day` is the UTC day of the
-- match (ts / 86400): the per-policy daily limit counts rows of
-- (policy_id, day), so the limit holds across restarts. policy_id and
-- policy_name are copies (no foreign key), like policy_matches.
-- `payload` is the alert as a JSON object (the webhook body without the
-- fields added at send time); match_key ties it to its policy_matches rows.
CREATE TABLE alerts (
	id           INTEGER PRIMARY KEY,
	policy_id    INTEGER NOT NULL,
	policy_name  TEXT    NOT NULL CHECK (length(CAST(policy_name AS BLOB)) BETWEEN 1 AND 128),
	ts           INTEGER NOT NULL,
	day          INTEGER NOT NULL,
	match_key    TEXT    CHECK (match_key IS NULL OR length(CAST(match_key AS BLOB)) BETWEEN 1 AND 128),
	payload      TEXT    NOT NULL CHECK (json_valid(payload) AND json_type(payload) = 'object'),
	created_at   INTEGER NOT NULL
);
-- the daily-limit count: an index search on (policy_id, day)
CREATE INDEX alerts_policy_day ON alerts (policy_id, day);

-- One row per destination of an alert. channel 'webhook' goes to the
-- [alerts] webhook_url configured when it is sent (target is empty);
-- channel 'email' goes to target through [alerts] smtp_url. status moves
-- from 'pending' to 'sent' once, never back; a failure only bumps attempts,
-- records last_error and pushes next_attempt_at.
CREATE TABLE alert_deliveries (
	id               INTEGER PRIMARY KEY,
	alert_id         INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	channel          TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
	target           TEXT    NOT NULL CHECK (length(CAST(target AS BLOB)) <= 254),
	status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
	attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at  INTEGER NOT NULL,
	last_attempt_at  INTEGER,
	last_error       TEXT    CHECK (last_error IS NULL OR length(CAST(last_error AS BLOB)) <= 512),
	sent_at          INTEGER
);
-- the delivery thread's question: which pending rows are due, earliest first
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
-- an alert's deliveries (console, foreign key checks)
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id);
