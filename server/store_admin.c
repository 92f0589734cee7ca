/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_admin.c: admin accounts, admin sessions and failed sign-in
 * counters (see store_admin.h; tables in db/migrations/0006_admin.sql).
 *
 * The statements a request may run (session use, user lookup, counters)
 * are prepared once per connection into extension slots 50..55 (store.h);
 * the rare ones (the command line, sign-in, sign-out, purges) are prepared
 * for each call; binding, resets and transactions are store.c's
 * (store_int.h). A session is used in one statement (UPDATE ... WHERE
 * still valid ... RETURNING), so an expired session is never refreshed.
 * It logs which operation failed, never a hash, token or session id.
 */
#include "store_admin.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_int.h"

/* The first extension slot this module owns (store.h: 50..55). */
#define SA_SLOT0 50

enum sa_stmt { SA_SESSION_USE, SA_SESSION_DELETE, SA_USER_HASH, SA_FAIL_GET, SA_FAIL_ADD,
	       SA_FAIL_RESET, SA__COUNT };

static const char *const sa_sql[SA__COUNT] = {
	[SA_SESSION_USE] = "UPDATE admin_sessions SET last_seen = ?2 WHERE id_hash = ?1 AND "
			   "expires_at > ?2 AND last_seen + ?3 > ?2 "
			   "RETURNING user, csrf, via, created_at, last_seen, expires_at",
	[SA_SESSION_DELETE] = "DELETE FROM admin_sessions WHERE id_hash = ?1",
	[SA_USER_HASH] = "SELECT hash FROM admin_users WHERE name = ?1",
	[SA_FAIL_GET] = "SELECT failures, last_failure FROM admin_login_failures WHERE key = ?1",
	[SA_FAIL_ADD] = "INSERT INTO admin_login_failures (key, failures, last_failure) "
			"VALUES (?1, 1, ?2) ON CONFLICT (key) DO UPDATE SET "
			"failures = CASE WHEN admin_login_failures.last_failure + ?3 <= ?2 THEN 1 "
			"ELSE admin_login_failures.failures + 1 END, last_failure = ?2",
	[SA_FAIL_RESET] = "DELETE FROM admin_login_failures WHERE key = ?1",
};

/* sa_stmt() returns statement `which` on s's connection, preparing it on
 * first use; NULL (logged) when it cannot be prepared. */
static sqlite3_stmt *
sa_stmt(struct store *s, enum sa_stmt which)
{
	return store_ext_stmt(s, SA_SLOT0 + (int)which, sa_sql[which]);
}

/* sa_once() prepares a statement that is finalized after one use. */
static sqlite3_stmt *
sa_once(struct store *s, const char *sql)
{
	sqlite3 *db = s ? store_db(s) : NULL;
	sqlite3_stmt *st = NULL;

	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err("preparing the admin store: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* sa_text_ok() says whether s is 1..max bytes. */
static bool
sa_text_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max;
}

/* store_admin_user_set(): see store_admin.h. */
enum su_rc
store_admin_user_set(struct store *s, const char *name, const char *hash, int64_t now,
		     bool *created)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (!sa_text_ok(name, 256) || !sa_text_ok(hash, 511) || strncmp(hash, "$argon2id$", 10) != 0)
		goto out;
	{
		char *old = NULL;

		rc = store_admin_user_hash(s, name, &old);
		free(old);
		if (rc != SU_OK && rc != SU_ENOTFOUND)
			goto out;
		if (created != NULL)
			*created = rc == SU_ENOTFOUND;
	}
	rc = SU_EDB;
	st = sa_once(s, "INSERT INTO admin_users (name, hash, created_at, updated_at) "
			"VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET "
			"hash = excluded.hash, updated_at = excluded.updated_at");
	if (st == NULL)
		goto out;
	if (store_bind_text(st, 1, name) != SU_OK || store_bind_text(st, 2, hash) != SU_OK ||
	    store_bind_int(st, 3, now) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("setting an admin password: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	rc = SU_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

/* store_admin_user_hash(): see store_admin.h. */
enum su_rc
store_admin_user_hash(struct store *s, const char *name, char **hash)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;
	int step;

	*hash = NULL;
	if (!sa_text_ok(name, 256))
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_USER_HASH);
	if (st == NULL || store_bind_text(st, 1, name) != SU_OK)
		goto out;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	if (step != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL)
		goto out;
	*hash = strdup((const char *)sqlite3_column_text(st, 0));
	rc = *hash ? SU_OK : SU_ENOMEM;
out:
	store_done(st);
	return rc;
}

/* store_admin_user_remove(): see store_admin.h. */
enum su_rc
store_admin_user_remove(struct store *s, const char *name)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;
	bool began = false;

	if (!sa_text_ok(name, 256))
		goto out;
	rc = store_txn_begin(s, true);
	if (rc != SU_OK)
		goto out;
	began = true;
	rc = SU_EDB;
	st = sa_once(s, "DELETE FROM admin_users WHERE name = ?1");
	if (st == NULL || store_bind_text(st, 1, name) != SU_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	if (sqlite3_changes(store_db(s)) == 0) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	sqlite3_finalize(st);
	/* the local account's sessions go with it (OIDC ones are not its) */
	st = sa_once(s, "DELETE FROM admin_sessions WHERE user = ?1 AND via = 'local'");
	if (st == NULL || store_bind_text(st, 1, name) != SU_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	rc = store_txn_commit(s);
	if (rc == SU_OK)
		began = false;
out:
	sqlite3_finalize(st);
	if (began)
		store_txn_rollback(s);
	return rc;
}

/* store_admin_user_list(): see store_admin.h. */
enum su_rc
store_admin_user_list(struct store *s, struct store_admin_user **out, size_t *n)
{
	sqlite3_stmt *st = sa_once(s, "SELECT name, created_at, updated_at FROM admin_users ORDER BY name");
	struct store_admin_user *v = NULL;
	size_t len = 0;
	enum su_rc rc = SU_EDB;
	int step;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_admin_user *grown = realloc(v, (len + 1) * sizeof(*v));

		if (grown == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = grown;
		v[len].name = strdup((const char *)sqlite3_column_text(st, 0));
		v[len].created_at = sqlite3_column_int64(st, 1);
		v[len].updated_at = sqlite3_column_int64(st, 2);
		len++;
		if (v[len - 1].name == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		goto out;
	*out = v;
	*n = len;
	v = NULL;
	rc = SU_OK;
out:
	store_admin_user_list_free(v, len);
	sqlite3_finalize(st);
	return rc;
}

/* store_admin_user_list_free(): see store_admin.h. */
void
store_admin_user_list_free(struct store_admin_user *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i].name);
	free(v);
}

/* store_admin_session_put(): see store_admin.h. */
enum su_rc
store_admin_session_put(struct store *s, const char *id_hash, const char *user, const char *csrf,
			const char *via, int64_t now, int64_t expires_at)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (id_hash == NULL || strlen(id_hash) != 64 || !sa_text_ok(user, 256) ||
	    !sa_text_ok(csrf, 47) || !sa_text_ok(via, 299) || expires_at <= now)
		goto out;
	rc = SU_EDB;
	st = sa_once(s, "INSERT INTO admin_sessions (id_hash, user, csrf, created_at, last_seen, "
			"expires_at, via) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)");
	if (st == NULL || store_bind_text(st, 1, id_hash) != SU_OK ||
	    store_bind_text(st, 2, user) != SU_OK || store_bind_text(st, 3, csrf) != SU_OK ||
	    store_bind_int(st, 4, now) != SU_OK || store_bind_int(st, 5, expires_at) != SU_OK ||
	    store_bind_text(st, 6, via) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sqlite3_extended_errcode(store_db(s)) == SQLITE_CONSTRAINT_PRIMARYKEY ? SU_EINVAL
											  : SU_EDB;
		log_err("recording an admin session: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	rc = SU_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

/* sa_copy() copies column col of st into dst (dstsz bytes); false when it
 * does not fit or is NULL. */
static bool
sa_copy(sqlite3_stmt *st, int col, char *dst, size_t dstsz)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (t == NULL || n >= dstsz)
		return false;
	memcpy(dst, t, n);
	dst[n] = '\0';
	return true;
}

/* store_admin_session_use(): see store_admin.h. */
enum su_rc
store_admin_session_use(struct store *s, const char *id_hash, int64_t now, int64_t idle,
			struct store_admin_session *out)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;
	int step;

	memset(out, 0, sizeof(*out));
	if (id_hash == NULL || strlen(id_hash) != 64 || idle <= 0)
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_SESSION_USE);
	if (st == NULL || store_bind_text(st, 1, id_hash) != SU_OK ||
	    store_bind_int(st, 2, now) != SU_OK || store_bind_int(st, 3, idle) != SU_OK)
		goto out;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		if (!sa_copy(st, 0, out->user, sizeof(out->user)) ||
		    !sa_copy(st, 1, out->csrf, sizeof(out->csrf)) ||
		    !sa_copy(st, 2, out->via, sizeof(out->via)))
			goto out;
		out->created_at = sqlite3_column_int64(st, 3);
		out->last_seen = sqlite3_column_int64(st, 4);
		out->expires_at = sqlite3_column_int64(st, 5);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		rc = SU_OK;
		goto out;
	}
	if (step != SQLITE_DONE)
		goto out;
	/* none, or expired: an expired one is deleted */
	store_done(st);
	st = NULL;
	rc = store_admin_session_delete(s, id_hash);
	if (rc == SU_OK)
		rc = SU_ENOTFOUND;
out:
	if (rc != SU_OK)
		memset(out, 0, sizeof(*out));
	store_done(st);
	return rc;
}

/* store_admin_session_delete(): see store_admin.h. */
enum su_rc
store_admin_session_delete(struct store *s, const char *id_hash)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (id_hash == NULL || strlen(id_hash) != 64)
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_SESSION_DELETE);
	if (st == NULL || store_bind_text(st, 1, id_hash) != SU_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* store_admin_session_purge(): see store_admin.h. */
enum su_rc
store_admin_session_purge(struct store *s, int64_t now, int64_t idle)
{
	sqlite3_stmt *st = sa_once(s, "DELETE FROM admin_sessions WHERE expires_at <= ?1 OR "
				      "last_seen + ?2 <= ?1");
	enum su_rc rc = SU_EDB;

	if (st == NULL || store_bind_int(st, 1, now) != SU_OK ||
	    store_bind_int(st, 2, idle) != SU_OK || sqlite3_step(st) != SQLITE_DONE)
		goto out;
	rc = SU_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

/* store_admin_fail_get(): see store_admin.h. */
enum su_rc
store_admin_fail_get(struct store *s, const char *key, int64_t *failures, int64_t *last)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;
	int step;

	*failures = 0;
	*last = 0;
	if (!sa_text_ok(key, 300))
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_FAIL_GET);
	if (st == NULL || store_bind_text(st, 1, key) != SU_OK)
		goto out;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*failures = sqlite3_column_int64(st, 0);
		*last = sqlite3_column_int64(st, 1);
	} else if (step != SQLITE_DONE) {
		goto out;
	}
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* store_admin_fail_add(): see store_admin.h. */
enum su_rc
store_admin_fail_add(struct store *s, const char *key, int64_t now, int64_t window)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (!sa_text_ok(key, 300))
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_FAIL_ADD);
	if (st == NULL || store_bind_text(st, 1, key) != SU_OK ||
	    store_bind_int(st, 2, now) != SU_OK || store_bind_int(st, 3, window) != SU_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		log_err("counting a failed admin sign-in: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* store_admin_fail_reset(): see store_admin.h. */
enum su_rc
store_admin_fail_reset(struct store *s, const char *key)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (!sa_text_ok(key, 300))
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_FAIL_RESET);
	if (st == NULL || store_bind_text(st, 1, key) != SU_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* store_admin_fail_purge(): see store_admin.h. */
enum su_rc
store_admin_fail_purge(struct store *s, int64_t before)
{
	sqlite3_stmt *st = sa_once(s, "DELETE FROM admin_login_failures WHERE last_failure < ?1");
	enum su_rc rc = SU_EDB;

	if (st == NULL || store_bind_int(st, 1, before) != SU_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	rc = SU_OK;
out:
	sqlite3_finalize(st);
	return rc;
}
