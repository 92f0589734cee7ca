/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_policy.c: session policies, their change counter and their match
 * records in SQLite (see store_policy.h for the contract and
 * db/migrations/0002_policies.sql for the tables).
 *
 * What it does: each statement is prepared on first use with
 * SQLITE_PREPARE_PERSISTENT and kept in the connection's extension slots
 * (store_ext_slot(); store_close() finalizes them), then bound, stepped,
 * reset and cleared after every use with store.c's helpers (store_int.h),
 * so no read transaction
 * stays open between calls. Every change to the policy set runs in one
 * IMMEDIATE transaction together with the version bump and rolls back
 * entirely on failure.
 *
 * What it does not do: judge policies (it stores what policy.c produced
 * and reads it back through policy_parse_one(), refusing text that no
 * longer parses), or log stored values (only which operation failed).
 */
#include "store_policy.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_int.h"

#define SP_BATCH_MAX 10000   /* rows per store_policy_matches_insert_batch() */
#define SP_LATEST_MAX 1000   /* rows per store_policy_report_latest() */
#define SP_HOURS_MAX (24 * 366)

/* Statements, each kept in its own extension slot (see sp_slot()).
 * Transactions are store.c's (store_txn_begin() ...); slots 0..3, which
 * once held them, stay free so every statement keeps its slot. */
enum sp_stmt {
	SP_VERSION = 4,
	SP_BUMP,
	SP_MARK_ALL,
	SP_UPSERT,
	SP_DELETE_MARKED,
	SP_LIST,
	SP_GET,
	SP_COUNT,
	SP_INSERT,
	SP_UPDATE,
	SP_DELETE,
	SP_MATCH_INSERT,
	SP_MATCH_OUTCOME,
	SP_MATCH_ABANDON,
	SP_OUTCOMES_ALL,
	SP_OUTCOMES_ONE,
	SP_HOURLY_ALL,
	SP_HOURLY_ONE,
	SP_LATEST_ALL,
	SP_LATEST_ONE,
	SP__COUNT
};

/* The columns of a match row, in the order sp_match_read() takes. */
#define SP_MATCH_COLS \
	"id, ts, policy_id, policy_name, session_hash, user, app, file_name, file_label, " \
	"activity, path, decision, context, outcome, match_key"

static const char *const sp_sql[SP__COUNT] = {
	[SP_VERSION] = "SELECT version FROM policy_version WHERE id = 1",
	[SP_BUMP] = "UPDATE policy_version SET version = version + 1 WHERE id = 1",
	[SP_MARK_ALL] = "UPDATE policies SET position = -1",
	/* import: same name (NOCASE) keeps the row and its id; updated_at
	 * moves only when the policy actually changed */
	[SP_UPSERT] = "INSERT INTO policies (position, name, enabled, json, created_at, updated_at) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?5) "
		      "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
		      "name = excluded.name, enabled = excluded.enabled, json = excluded.json, "
		      "updated_at = CASE WHEN policies.json IS excluded.json "
		      "THEN policies.updated_at ELSE excluded.updated_at END",
	[SP_DELETE_MARKED] = "DELETE FROM policies WHERE position < 0",
	[SP_LIST] = "SELECT id, json FROM policies ORDER BY position, id",
	[SP_GET] = "SELECT json FROM policies WHERE id = ?1",
	[SP_COUNT] = "SELECT count(*), coalesce(max(position), -1) FROM policies",
	[SP_INSERT] = "INSERT INTO policies (position, name, enabled, json, created_at, updated_at) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[SP_UPDATE] = "UPDATE policies SET name = ?2, enabled = ?3, json = ?4, updated_at = ?5 "
		      "WHERE id = ?1",
	[SP_DELETE] = "DELETE FROM policies WHERE id = ?1",
	[SP_MATCH_INSERT] = "INSERT INTO policy_matches (ts, policy_id, policy_name, session_hash, "
			    "user, app, file_name, file_label, activity, path, decision, context, "
			    "outcome, match_key) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[SP_MATCH_OUTCOME] = "UPDATE policy_matches SET outcome = ?2 "
			     "WHERE match_key = ?1 AND outcome = 'pending'",
	[SP_MATCH_ABANDON] = "UPDATE policy_matches SET outcome = 'abandoned' "
			     "WHERE outcome = 'pending' AND ts < ?1",
	[SP_OUTCOMES_ALL] = "SELECT outcome, count(*) FROM policy_matches "
			    "WHERE ts >= ?2 AND ts < ?3 GROUP BY outcome",
	[SP_OUTCOMES_ONE] = "SELECT outcome, count(*) FROM policy_matches "
			    "WHERE policy_id = ?1 AND ts >= ?2 AND ts < ?3 GROUP BY outcome",
	[SP_HOURLY_ALL] = "SELECT (ts - ?4) / 3600, count(*) FROM policy_matches "
			  "WHERE ts >= ?2 AND ts < ?3 GROUP BY 1",
	[SP_HOURLY_ONE] = "SELECT (ts - ?4) / 3600, count(*) FROM policy_matches "
			  "WHERE policy_id = ?1 AND ts >= ?2 AND ts < ?3 GROUP BY 1",
	[SP_LATEST_ALL] = "SELECT " SP_MATCH_COLS " FROM policy_matches "
			  "ORDER BY ts DESC, id DESC LIMIT ?2",
	[SP_LATEST_ONE] = "SELECT " SP_MATCH_COLS " FROM policy_matches WHERE policy_id = ?1 "
			  "ORDER BY ts DESC, id DESC LIMIT ?2",
};

/* sp_slot() maps statement i to its extension slot (store.h: 0..15 and
 * 32..47 belong to this file). */
static int
sp_slot(enum sp_stmt i)
{
	return i < 16 ? (int)i : 32 + ((int)i - 16);
}

/* sp_stmt() returns statement i of this connection, preparing it on first
 * use; NULL (logged) when it cannot be prepared. */
static sqlite3_stmt *
sp_stmt(struct store *s, enum sp_stmt i)
{
	return store_ext_stmt(s, sp_slot(i), sp_sql[i]);
}

/* sp_exec() runs a no-result statement i that is already bound; *changes
 * (may be NULL) gets the rows it changed. */
static enum su_rc
sp_exec(struct store *s, enum sp_stmt i, sqlite3_stmt *st, int *changes)
{
	return store_ext_exec(s, st, sp_sql[i], changes);
}

/* sp_simple() runs statement i with no parameters. */
static enum su_rc
sp_simple(struct store *s, enum sp_stmt i)
{
	return sp_exec(s, i, sp_stmt(s, i), NULL);
}

/* sp_bump() increments the policy version (inside the caller's transaction). */
static enum su_rc
sp_bump(struct store *s)
{
	return sp_simple(s, SP_BUMP);
}

/* sp_write_policy() binds and runs SP_UPSERT, SP_INSERT (position, p) or
 * SP_UPDATE (id, p) with p's canonical JSON. */
static enum su_rc
sp_write_policy(struct store *s, enum sp_stmt which, int64_t key, const struct policy *p,
		int64_t now, int *changes)
{
	sqlite3_stmt *st = sp_stmt(s, which);
	char *json = NULL;
	enum su_rc rc;

	if (st == NULL)
		return SU_EDB;
	if (p == NULL || p->name == NULL)
		return SU_EINVAL;
	rc = policy_to_json(p, &json);
	if (rc != SU_OK)
		return rc;
	if (store_bind_int(st, 1, key) != SU_OK || store_bind_text(st, 2, p->name) != SU_OK ||
	    store_bind_int(st, 3, p->enabled ? 1 : 0) != SU_OK ||
	    store_bind_text(st, 4, json) != SU_OK || store_bind_int(st, 5, now) != SU_OK) {
		store_done(st);
		free(json);
		return SU_EDB;
	}
	rc = sp_exec(s, which, st, changes);
	free(json);
	return rc;
}

/* store_policy_import(): see store_policy.h. Every row is first marked
 * (position -1), the new set is upserted by name with its positions, and
 * what is still marked is deleted: one transaction, one version bump. */
enum su_rc
store_policy_import(struct store *s, const struct policy_set *set, int64_t now)
{
	enum su_rc rc = SU_EINVAL;

	if (s == NULL || set == NULL || set->n > POLICY_MAX)
		return SU_EINVAL;
	rc = store_txn_begin(s, true);
	if (rc != SU_OK)
		return rc;
	rc = sp_simple(s, SP_MARK_ALL);
	if (rc != SU_OK)
		goto out;
	for (size_t i = 0; i < set->n; i++) {
		rc = sp_write_policy(s, SP_UPSERT, (int64_t)i, set->v[i], now, NULL);
		if (rc != SU_OK)
			goto out;
	}
	rc = sp_simple(s, SP_DELETE_MARKED);
	if (rc != SU_OK)
		goto out;
	rc = sp_bump(s);
	if (rc != SU_OK)
		goto out;
	rc = store_txn_commit(s);
out:
	if (rc != SU_OK)
		store_txn_rollback(s);
	return rc;
}

/* sp_read_version() reads the version (inside or outside a transaction). */
static enum su_rc
sp_read_version(struct store *s, int64_t *version)
{
	sqlite3_stmt *st = sp_stmt(s, SP_VERSION);
	enum su_rc rc = SU_EDB;

	if (st == NULL)
		return SU_EDB;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 0);
		rc = SU_OK;
	} else {
		log_err("reading policy_version: %s", sqlite3_errmsg(store_db(s)));
	}
	store_done(st);
	return rc;
}

/* store_policy_version(): see store_policy.h. */
enum su_rc
store_policy_version(struct store *s, int64_t *version)
{
	if (s == NULL || version == NULL)
		return SU_EINVAL;
	*version = 0;
	return sp_read_version(s, version);
}

/* sp_parse_row() turns stored JSON (column col of st) into a policy with
 * the given id; SU_EINVAL (logged) when it no longer parses. */
static enum su_rc
sp_parse_row(sqlite3_stmt *st, int col, int64_t id, struct policy **out)
{
	const char *json = (const char *)sqlite3_column_text(st, col);
	char *err = NULL;
	enum su_rc rc;

	*out = NULL;
	if (json == NULL)
		return SU_ENOMEM;
	rc = policy_parse_one(json, (size_t)sqlite3_column_bytes(st, col), NULL, out, &err);
	if (rc != SU_OK) {
		log_err("stored policy %lld does not parse: %s", (long long)id,
			err != NULL ? err : "?");
		free(err);
		return rc == SU_ENOMEM ? SU_ENOMEM : SU_EINVAL;
	}
	(*out)->id = id;
	return SU_OK;
}

/* store_policy_export(): see store_policy.h. The version and the rows are
 * read inside one (deferred, read) transaction, so they agree. */
enum su_rc
store_policy_export(struct store *s, struct policy_set **out, int64_t *version)
{
	struct policy_set *set = NULL;
	struct policy *p = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	int r;
	enum su_rc rc = SU_EINVAL;

	if (s == NULL || out == NULL)
		return SU_EINVAL;
	*out = NULL;
	rc = policy_set_new(&set);
	if (rc != SU_OK)
		return rc;
	rc = store_txn_begin(s, false);
	if (rc != SU_OK)
		goto out;
	rc = sp_read_version(s, &v);
	if (rc != SU_OK)
		goto out;
	st = sp_stmt(s, SP_LIST);
	rc = SU_EDB;
	if (st == NULL)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		rc = sp_parse_row(st, 1, sqlite3_column_int64(st, 0), &p);
		if (rc != SU_OK)
			goto out;
		rc = policy_set_append(set, p);
		if (rc != SU_OK) {
			log_err("stored policy %lld: duplicate name or too many policies",
				(long long)p->id);
			goto out;
		}
		p = NULL;
	}
	if (r != SQLITE_DONE) {
		log_err("listing policies: %s", sqlite3_errmsg(store_db(s)));
		rc = SU_EDB;
		goto out;
	}
	store_done(st);
	st = NULL;
	rc = store_txn_commit(s);
	if (rc != SU_OK)
		goto out;
	if (version != NULL)
		*version = v;
	*out = set;
	set = NULL;
out:
	store_done(st);
	if (rc != SU_OK)
		store_txn_rollback(s);
	policy_free(p);
	policy_set_free(set);
	return rc;
}

/* store_policy_get(): see store_policy.h. */
enum su_rc
store_policy_get(struct store *s, int64_t id, struct policy **out)
{
	sqlite3_stmt *st;
	int r;
	enum su_rc rc = SU_EDB;

	if (s == NULL || out == NULL)
		return SU_EINVAL;
	*out = NULL;
	st = sp_stmt(s, SP_GET);
	if (st == NULL || store_bind_int(st, 1, id) != SU_OK)
		goto out;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = sp_parse_row(st, 0, id, out);
	else if (r == SQLITE_DONE)
		rc = SU_ENOTFOUND;
	else
		log_err("reading policy %lld: %s", (long long)id, sqlite3_errmsg(store_db(s)));
out:
	store_done(st);
	return rc;
}

/* store_policy_create(): see store_policy.h. */
enum su_rc
store_policy_create(struct store *s, const struct policy *p, int64_t now, int64_t *id)
{
	sqlite3_stmt *st;
	int64_t count = 0, maxpos = -1;
	enum su_rc rc;

	if (s == NULL || p == NULL)
		return SU_EINVAL;
	rc = store_txn_begin(s, true);
	if (rc != SU_OK)
		return rc;
	rc = SU_EDB;
	st = sp_stmt(s, SP_COUNT);
	if (st == NULL)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_done(st);
		goto out;
	}
	count = sqlite3_column_int64(st, 0);
	maxpos = sqlite3_column_int64(st, 1);
	store_done(st);
	if (count >= POLICY_MAX) {
		rc = SU_EINVAL;
		goto out;
	}
	rc = sp_write_policy(s, SP_INSERT, maxpos + 1, p, now, NULL);
	if (rc != SU_OK)
		goto out;
	if (id != NULL)
		*id = (int64_t)sqlite3_last_insert_rowid(store_db(s));
	rc = sp_bump(s);
	if (rc != SU_OK)
		goto out;
	rc = store_txn_commit(s);
out:
	if (rc != SU_OK)
		store_txn_rollback(s);
	return rc;
}

/* store_policy_update(): see store_policy.h. */
enum su_rc
store_policy_update(struct store *s, int64_t id, const struct policy *p, int64_t now)
{
	int changes = 0;
	enum su_rc rc;

	if (s == NULL || p == NULL)
		return SU_EINVAL;
	rc = store_txn_begin(s, true);
	if (rc != SU_OK)
		return rc;
	rc = sp_write_policy(s, SP_UPDATE, id, p, now, &changes);
	if (rc != SU_OK)
		goto out;
	if (changes == 0) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	rc = sp_bump(s);
	if (rc != SU_OK)
		goto out;
	rc = store_txn_commit(s);
out:
	if (rc != SU_OK)
		store_txn_rollback(s);
	return rc;
}

/* store_policy_delete(): see store_policy.h. */
enum su_rc
store_policy_delete(struct store *s, int64_t id)
{
	sqlite3_stmt *st;
	int changes = 0;
	enum su_rc rc;

	if (s == NULL)
		return SU_EINVAL;
	rc = store_txn_begin(s, true);
	if (rc != SU_OK)
		return rc;
	rc = SU_EDB;
	st = sp_stmt(s, SP_DELETE);
	if (st == NULL || store_bind_int(st, 1, id) != SU_OK) {
		store_done(st);
		goto out;
	}
	rc = sp_exec(s, SP_DELETE, st, &changes);
	if (rc != SU_OK)
		goto out;
	if (changes == 0) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	rc = sp_bump(s);
	if (rc != SU_OK)
		goto out;
	rc = store_txn_commit(s);
out:
	if (rc != SU_OK)
		store_txn_rollback(s);
	return rc;
}

/* store_policy_enable(): see store_policy.h. Reads, flips and rewrites the
 * policy inside one transaction, so its JSON and its column agree. */
enum su_rc
store_policy_enable(struct store *s, int64_t id, bool enabled, int64_t now)
{
	struct policy *p = NULL;
	int changes = 0;
	enum su_rc rc;

	if (s == NULL)
		return SU_EINVAL;
	rc = store_txn_begin(s, true);
	if (rc != SU_OK)
		return rc;
	rc = store_policy_get(s, id, &p);
	if (rc != SU_OK)
		goto out;
	p->enabled = enabled;
	rc = sp_write_policy(s, SP_UPDATE, id, p, now, &changes);
	if (rc != SU_OK)
		goto out;
	rc = sp_bump(s);
	if (rc != SU_OK)
		goto out;
	rc = store_txn_commit(s);
out:
	if (rc != SU_OK)
		store_txn_rollback(s);
	policy_free(p);
	return rc;
}

/* sp_in() says whether v is one of the NULL-terminated words. */
static bool
sp_in(const char *v, const char *const *words)
{
	for (size_t i = 0; v != NULL && words[i] != NULL; i++)
		if (strcmp(v, words[i]) == 0)
			return true;
	return false;
}

static const char *const sp_decisions[] = { STORE_POLICY_DECISIONS, NULL };
static const char *const sp_outcomes[] = { STORE_POLICY_OUTCOMES, NULL };

/* sp_match_bind() binds one match row to SP_MATCH_INSERT. */
static bool
sp_match_bind(sqlite3_stmt *st, const struct store_policy_match *m)
{
	return store_bind_int(st, 1, m->ts) == SU_OK &&
	       store_bind_int(st, 2, m->policy_id) == SU_OK &&
	       store_bind_text(st, 3, m->policy_name) == SU_OK &&
	       store_bind_text(st, 4, m->session_hash) == SU_OK &&
	       store_bind_text(st, 5, m->user) == SU_OK &&
	       store_bind_text(st, 6, m->app) == SU_OK &&
	       store_bind_text(st, 7, m->file_name) == SU_OK &&
	       store_bind_text(st, 8, m->file_label) == SU_OK &&
	       store_bind_text(st, 9, m->activity) == SU_OK &&
	       store_bind_text(st, 10, m->path) == SU_OK &&
	       store_bind_text(st, 11, m->decision) == SU_OK &&
	       store_bind_text(st, 12, m->context) == SU_OK &&
	       store_bind_text(st, 13, m->outcome) == SU_OK &&
	       store_bind_text(st, 14, m->match_key) == SU_OK;
}

/* store_policy_matches_insert_batch(): see store_policy.h. */
enum su_rc
store_policy_matches_insert_batch(struct store *s, const struct store_policy_match *rows, size_t n)
{
	sqlite3_stmt *st;
	enum su_rc rc;
	bool own;

	if (s == NULL || (rows == NULL && n > 0))
		return SU_EINVAL;
	if (n == 0)
		return SU_OK;
	if (n > SP_BATCH_MAX)
		return SU_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].policy_name == NULL || !sp_in(rows[i].decision, sp_decisions) ||
		    !sp_in(rows[i].outcome, sp_outcomes)) {
			log_err("match row %zu: missing policy name or bad decision/outcome", i);
			return SU_EINVAL;
		}
	}
	/* inside the caller's transaction (the recorder writes matches and
	 * their alerts together), or in one of its own */
	own = sqlite3_get_autocommit(store_db(s)) != 0;
	if (own) {
		rc = store_txn_begin(s, true);
		if (rc != SU_OK)
			return rc;
	}
	st = sp_stmt(s, SP_MATCH_INSERT);
	for (size_t i = 0; i < n; i++) {
		rc = SU_EDB;
		if (st == NULL)
			goto out;
		if (!sp_match_bind(st, &rows[i])) {
			store_done(st);
			goto out;
		}
		rc = sp_exec(s, SP_MATCH_INSERT, st, NULL);
		if (rc != SU_OK) {
			log_err("match row %zu refused", i);
			goto out;
		}
	}
	rc = own ? store_txn_commit(s) : SU_OK;
out:
	if (rc != SU_OK && own)
		store_txn_rollback(s);
	return rc;
}

/* store_policy_match_outcome(): see store_policy.h. */
enum su_rc
store_policy_match_outcome(struct store *s, const char *match_key, const char *outcome)
{
	sqlite3_stmt *st;
	int changes = 0;
	enum su_rc rc;

	if (s == NULL || match_key == NULL || match_key[0] == '\0' || !sp_in(outcome, sp_outcomes))
		return SU_EINVAL;
	st = sp_stmt(s, SP_MATCH_OUTCOME);
	if (st == NULL)
		return SU_EDB;
	if (store_bind_text(st, 1, match_key) != SU_OK ||
	    store_bind_text(st, 2, outcome) != SU_OK) {
		store_done(st);
		return SU_EDB;
	}
	rc = sp_exec(s, SP_MATCH_OUTCOME, st, &changes);
	if (rc == SU_OK && changes == 0)
		rc = SU_ENOTFOUND;
	return rc;
}

/* store_policy_matches_abandon(): see store_policy.h. */
enum su_rc
store_policy_matches_abandon(struct store *s, int64_t before, int64_t *count)
{
	sqlite3_stmt *st;
	int changes = 0;
	enum su_rc rc;

	if (count != NULL)
		*count = 0;
	if (s == NULL)
		return SU_EINVAL;
	st = sp_stmt(s, SP_MATCH_ABANDON);
	if (st == NULL)
		return SU_EDB;
	if (store_bind_int(st, 1, before) != SU_OK) {
		store_done(st);
		return SU_EDB;
	}
	rc = sp_exec(s, SP_MATCH_ABANDON, st, &changes);
	if (rc == SU_OK && count != NULL)
		*count = changes;
	return rc;
}

/* sp_report_bind() binds policy id, t0, t1 to a report statement. */
static bool
sp_report_bind(sqlite3_stmt *st, int64_t policy_id, int64_t t0, int64_t t1)
{
	return store_bind_int(st, 1, policy_id) == SU_OK && store_bind_int(st, 2, t0) == SU_OK &&
	       store_bind_int(st, 3, t1) == SU_OK;
}

/* store_policy_report_outcomes(): see store_policy.h. */
enum su_rc
store_policy_report_outcomes(struct store *s, int64_t policy_id, int64_t t0, int64_t t1,
			     struct store_policy_outcomes *out)
{
	sqlite3_stmt *st;
	int r;
	enum su_rc rc = SU_EDB;

	if (s == NULL || out == NULL)
		return SU_EINVAL;
	memset(out, 0, sizeof(*out));
	st = sp_stmt(s, policy_id != 0 ? SP_OUTCOMES_ONE : SP_OUTCOMES_ALL);
	if (st == NULL || !sp_report_bind(st, policy_id, t0, t1))
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *o = (const char *)sqlite3_column_text(st, 0);
		int64_t c = sqlite3_column_int64(st, 1);

		if (o == NULL)
			continue;
		if (strcmp(o, "allowed") == 0)
			out->allowed = c;
		else if (strcmp(o, "blocked") == 0)
			out->blocked = c;
		else if (strcmp(o, "pending") == 0)
			out->pending = c;
		else if (strcmp(o, "stepped_up") == 0)
			out->stepped_up = c;
		else if (strcmp(o, "abandoned") == 0)
			out->abandoned = c;
		out->total += c;
	}
	if (r != SQLITE_DONE) {
		log_err("outcome report: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* sp_floor_hour() rounds t down to a multiple of 3600 (t >= 0). */
static int64_t
sp_floor_hour(int64_t t)
{
	return t - t % 3600;
}

/* store_policy_report_hourly(): see store_policy.h. */
enum su_rc
store_policy_report_hourly(struct store *s, int64_t policy_id, int64_t t0, int64_t t1,
			   struct store_policy_bucket **out, size_t *n)
{
	struct store_policy_bucket *v = NULL;
	sqlite3_stmt *st = NULL;
	int64_t h0, h1;
	size_t nb;
	int r;
	enum su_rc rc = SU_EINVAL;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL || t0 < 0 || t1 <= t0)
		goto out;
	h0 = sp_floor_hour(t0);
	h1 = sp_floor_hour(t1 - 1);
	if ((h1 - h0) / 3600 + 1 > SP_HOURS_MAX)
		goto out;
	nb = (size_t)((h1 - h0) / 3600 + 1);
	v = calloc(nb, sizeof(*v));
	if (v == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nb; i++)
		v[i].start = h0 + (int64_t)i * 3600;
	rc = SU_EDB;
	st = sp_stmt(s, policy_id != 0 ? SP_HOURLY_ONE : SP_HOURLY_ALL);
	if (st == NULL || !sp_report_bind(st, policy_id, t0, t1) ||
	    store_bind_int(st, 4, h0) != SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0);

		if (b >= 0 && (uint64_t)b < nb)
			v[b].count = sqlite3_column_int64(st, 1);
	}
	if (r != SQLITE_DONE) {
		log_err("hourly report: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	*out = v;
	*n = nb;
	v = NULL;
	rc = SU_OK;
out:
	store_done(st);
	free(v);
	return rc;
}

/* store_policy_match_list_free(): frees what store_policy_report_latest()
 * returned; NULL is fine. */
void
store_policy_match_list_free(struct store_policy_match *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct store_policy_match *m = &v[i];

		free(m->policy_name);
		free(m->session_hash);
		free(m->user);
		free(m->app);
		free(m->file_name);
		free(m->file_label);
		free(m->activity);
		free(m->path);
		free(m->decision);
		free(m->context);
		free(m->outcome);
		free(m->match_key);
	}
	free(v);
}

/* sp_match_read() copies the current SP_MATCH_COLS row into m. */
static enum su_rc
sp_match_read(sqlite3_stmt *st, struct store_policy_match *m)
{
	char **cols[] = { &m->policy_name, &m->session_hash, &m->user,     &m->app,
			  &m->file_name,   &m->file_label,   &m->activity, &m->path,
			  &m->decision,    &m->context,      &m->outcome,  &m->match_key };

	m->id = sqlite3_column_int64(st, 0);
	m->ts = sqlite3_column_int64(st, 1);
	m->policy_id = sqlite3_column_int64(st, 2);
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (store_col_dup(st, 3 + (int)i, cols[i]) != SU_OK)
			return SU_ENOMEM;
	return SU_OK;
}

/* store_policy_report_latest(): see store_policy.h. */
enum su_rc
store_policy_report_latest(struct store *s, int64_t policy_id, size_t limit,
			   struct store_policy_match **out, size_t *n)
{
	struct store_policy_match *v = NULL;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0;
	int r = SQLITE_DONE;
	enum su_rc rc = SU_EINVAL;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL || limit == 0 || limit > SP_LATEST_MAX)
		goto out;
	v = calloc(limit, sizeof(*v));
	if (v == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	rc = SU_EDB;
	st = sp_stmt(s, policy_id != 0 ? SP_LATEST_ONE : SP_LATEST_ALL);
	if (st == NULL || store_bind_int(st, 1, policy_id) != SU_OK ||
	    store_bind_int(st, 2, (int64_t)limit) != SU_OK)
		goto out;
	while (cnt < limit && (r = sqlite3_step(st)) == SQLITE_ROW) {
		rc = sp_match_read(st, &v[cnt]);
		cnt++;
		if (rc != SU_OK)
			goto out;
		rc = SU_EDB;
	}
	if (cnt < limit && r != SQLITE_DONE) {
		log_err("latest matches: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	store_done(st);
	store_policy_match_list_free(v, cnt);
	return rc;
}
