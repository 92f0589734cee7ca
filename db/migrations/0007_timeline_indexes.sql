-- SPDX-License-Identifier: AGPL-3.0-or-later
-- The console's session timeline reads the audit log and the policy
-- matches of one session: index both by session (partial: most audit rows
-- of the console itself carry no session).
CREATE INDEX audit_session ON audit (session_hash, ts) WHERE session_hash IS NOT NULL;
CREATE INDEX policy_matches_session ON policy_matches (session_hash, ts) WHERE session_hash IS NOT NULL;
