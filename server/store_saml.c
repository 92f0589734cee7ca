/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_saml.c: the SAML assertion-ID replay store (see store_saml.h;
 * table in db/migrations/0004_saml.sql).
 *
 * One statement records a use atomically: INSERT ... ON CONFLICT DO UPDATE
 * ... WHERE the old row has expired. When an unexpired row holds the ID the
 * statement changes nothing, and that is the replay. Two workers racing
 * with the same assertion cannot both win: SQLite serialises the writes.
 *
 * Statements are prepared on first use into the connection's extension
 * slots 48..49 (store.h), which store_close() finalizes, and used with
 * store.c's helpers (store_int.h). It does not log
 * assertion IDs, only which operation failed.
 */
#include "store_saml.h"

#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_int.h"

/* The first extension slot this module owns (store.h: 48..49). */
#define SS_SLOT0 48

enum ss_stmt { SS_USE, SS_PURGE, SS__COUNT };

static const char *const ss_sql[SS__COUNT] = {
	[SS_USE] = "INSERT INTO saml_assertions (assertion_id, provider, used_at, expires_at) "
		   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (assertion_id) DO UPDATE SET "
		   "provider = excluded.provider, used_at = excluded.used_at, "
		   "expires_at = excluded.expires_at WHERE saml_assertions.expires_at <= ?3",
	[SS_PURGE] = "DELETE FROM saml_assertions WHERE expires_at <= ?1",
};

/* ss_stmt() returns statement `which` on s's connection, preparing it on
 * first use; NULL (logged) when it cannot be prepared. */
static sqlite3_stmt *
ss_stmt(struct store *s, enum ss_stmt which)
{
	return store_ext_stmt(s, SS_SLOT0 + (int)which, ss_sql[which]);
}

/* store_saml_assertion_use(): see store_saml.h. */
enum su_rc
store_saml_assertion_use(struct store *s, const char *assertion_id, const char *provider,
			 int64_t now, int64_t expires_at)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;
	size_t n;

	if (s == NULL || assertion_id == NULL || provider == NULL || expires_at < now)
		goto out;
	n = strlen(assertion_id);
	if (n == 0 || n > 256 || provider[0] == '\0' || strlen(provider) > 256)
		goto out;
	st = ss_stmt(s, SS_USE);
	if (st == NULL) {
		rc = SU_EDB;
		goto out;
	}
	rc = SU_EDB;
	if (store_bind_text(st, 1, assertion_id) != SU_OK ||
	    store_bind_text(st, 2, provider) != SU_OK || store_bind_int(st, 3, now) != SU_OK ||
	    store_bind_int(st, 4, expires_at) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("recording a SAML assertion ID: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	rc = sqlite3_changes(store_db(s)) == 1 ? SU_OK : SU_EREPLAY;
out:
	store_done(st);
	return rc;
}

/* store_saml_purge(): see store_saml.h. */
enum su_rc
store_saml_purge(struct store *s, int64_t now)
{
	sqlite3_stmt *st = ss_stmt(s, SS_PURGE);
	enum su_rc rc = SU_EDB;

	if (st == NULL)
		goto out;
	if (store_bind_int(st, 1, now) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("purging SAML assertion IDs: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}
