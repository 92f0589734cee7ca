-- SPDX-License-Identifier: AGPL-3.0-or-later
-- A pending flow remembers which policy matches sent the user to step up
-- (the opaque key /check gave those matches), so that the callback can
-- mark them "stepped_up" in the policy report.
ALTER TABLE pending_flows ADD COLUMN match_key TEXT
	CHECK (match_key IS NULL OR (length(match_key) BETWEEN 1 AND 128));
