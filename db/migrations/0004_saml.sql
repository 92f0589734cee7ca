-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 0004_saml.sql: the SAML assertion-ID replay store (SPEC 2.2, research
-- lasso.md section 5 item 7). Every assertion that passed all other checks
-- at the ACS is recorded here before it elevates anything; the same ID a
-- second time is refused. A row is kept until the assertion's latest
-- NotOnOrAfter plus the clock skew: after that the assertion is refused as
-- expired anyway, so store_saml_purge() may forget it.
--
-- Applied by store_open() inside its own transaction: no BEGIN/COMMIT here.

CREATE TABLE saml_assertions (
	assertion_id  TEXT    NOT NULL PRIMARY KEY CHECK (length(assertion_id) BETWEEN 1 AND 256),
	provider      TEXT    NOT NULL CHECK (length(provider) BETWEEN 1 AND 256),
	used_at       INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL CHECK (expires_at >= used_at)
) WITHOUT ROWID;
CREATE INDEX saml_assertions_expires ON saml_assertions (expires_at);
