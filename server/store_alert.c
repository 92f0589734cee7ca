/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_alert.c: the policy-alert outbox (see store_alert.h for the
 * contract, db/migrations/0003_alerts.sql for the tables).
 *
 * Statements are prepared on first use and kept in the connection's
 * extension slots 16..31 (store.h), which store_close() finalizes. Each
 * function binds, steps, copies what it returns, then resets and clears
 * its statement with store.c's helpers (store_int.h), so no statement
 * keeps a read transaction open between calls and no borrowed string
 * stays bound. Transactions are store.c's BEGIN IMMEDIATE and COMMIT.
 *
 * What it does not do: open a transaction around store_alert_add() (the
 * caller's batch transaction holds the match rows and the alerts
 * together), decide limits, or log values: only which operation failed
 * and SQLite's message.
 */
#include "store_alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"

/* The first extension slot this module owns (store.h: 16..31). */
#define SA_SLOT0 16

/* Slots SA_SLOT0 + 0..2 once held BEGIN, COMMIT and ROLLBACK (now
 * store_txn_begin() ...) and stay free, so every statement keeps its slot. */
enum sa_stmt {
	SA_COUNT_DAY = 3,
	SA_ALERT_INSERT,
	SA_DELIVERY_INSERT,
	SA_DUE,
	SA_NEXT_DUE,
	SA_SENT,
	SA_FAILED,
	SA_DEFER,
	SA_LIST,
	SA_COUNTS,
	SA__COUNT
};

/* The columns store_alert_row_read() takes, in order. */
#define SA_COLS \
	"d.id, d.alert_id, a.policy_id, a.policy_name, a.ts, d.channel, d.target, a.payload, " \
	"d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_error, d.sent_at"

static const char *const sa_sql[SA__COUNT] = {
	[SA_COUNT_DAY] = "SELECT count(*) FROM alerts WHERE policy_id = ?1 AND day = ?2",
	[SA_ALERT_INSERT] =
		"INSERT INTO alerts (policy_id, policy_name, ts, day, match_key, payload, created_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SA_DELIVERY_INSERT] =
		"INSERT INTO alert_deliveries (alert_id, channel, target, next_attempt_at) "
		"VALUES (?1, ?2, ?3, ?4)",
	[SA_DUE] = "SELECT " SA_COLS " FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		   "WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 "
		   "ORDER BY d.next_attempt_at, d.id LIMIT ?2",
	[SA_NEXT_DUE] = "SELECT min(next_attempt_at) FROM alert_deliveries WHERE status = 'pending'",
	[SA_SENT] = "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, "
		    "last_attempt_at = ?2, sent_at = ?2 WHERE id = ?1 AND status = 'pending'",
	[SA_FAILED] = "UPDATE alert_deliveries SET attempts = attempts + 1, last_attempt_at = ?2, "
		      "next_attempt_at = ?3, last_error = ?4 WHERE id = ?1 AND status = 'pending'",
	[SA_DEFER] = "UPDATE alert_deliveries SET next_attempt_at = ?2, last_error = ?3 "
		     "WHERE id = ?1 AND status = 'pending'",
	[SA_LIST] = "SELECT " SA_COLS " FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		    "WHERE ?1 = 0 OR a.policy_id = ?1 ORDER BY a.id DESC, d.id LIMIT ?2",
	[SA_COUNTS] =
		"SELECT (SELECT count(*) FROM alerts WHERE ?1 = 0 OR policy_id = ?1), "
		"(SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		" WHERE d.status = 'pending' AND (?1 = 0 OR a.policy_id = ?1)), "
		"(SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		" WHERE d.status = 'sent' AND (?1 = 0 OR a.policy_id = ?1))",
};

/* sa_stmt() returns statement `which` on s's connection, preparing it on
 * first use; NULL (logged) when it cannot be prepared. */
static sqlite3_stmt *
sa_stmt(struct store *s, enum sa_stmt which)
{
	return store_ext_stmt(s, SA_SLOT0 + (int)which, sa_sql[which]);
}

/* store_alert_txn_begin(): see store_alert.h. */
enum su_rc
store_alert_txn_begin(struct store *s)
{
	return store_txn_begin(s, true);
}

/* store_alert_txn_commit(): see store_alert.h. */
enum su_rc
store_alert_txn_commit(struct store *s)
{
	return store_txn_commit(s);
}

/* store_alert_txn_rollback(): see store_alert.h. */
void
store_alert_txn_rollback(struct store *s)
{
	store_txn_rollback(s);
}

/* sa_day() is the UTC day number of t (floor division, so it also holds
 * before 1970). */
static int64_t
sa_day(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* store_alert_count_day(): see store_alert.h. */
enum su_rc
store_alert_count_day(struct store *s, int64_t policy_id, int64_t day, int64_t *n)
{
	sqlite3_stmt *st = sa_stmt(s, SA_COUNT_DAY);
	enum su_rc rc = SU_EDB;

	*n = 0;
	if (st == NULL)
		goto out;
	if (store_bind_int(st, 1, policy_id) != SU_OK || store_bind_int(st, 2, day) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_fail(s, "counting alerts");
		goto out;
	}
	*n = (int64_t)sqlite3_column_int64(st, 0);
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* sa_delivery_insert() inserts one delivery row of alert_id. */
static enum su_rc
sa_delivery_insert(struct store *s, int64_t alert_id, const char *channel, const char *target,
		   int64_t now)
{
	sqlite3_stmt *st = sa_stmt(s, SA_DELIVERY_INSERT);
	enum su_rc rc = SU_EDB;

	if (st == NULL)
		goto out;
	if (store_bind_int(st, 1, alert_id) != SU_OK || store_bind_text(st, 2, channel) != SU_OK ||
	    store_bind_text(st, 3, target) != SU_OK || store_bind_int(st, 4, now) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_fail(s, "inserting an alert delivery");
		goto out;
	}
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* store_alert_add(): see store_alert.h. */
enum su_rc
store_alert_add(struct store *s, const struct store_alert_new *a, int64_t now, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;
	int64_t aid;

	if (id != NULL)
		*id = 0;
	if (s == NULL || a == NULL || a->policy_name == NULL || a->payload == NULL ||
	    a->n_email > STORE_ALERT_RCPT_MAX || (a->n_email > 0 && a->emails == NULL))
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_ALERT_INSERT);
	if (st == NULL)
		goto out;
	if (store_bind_int(st, 1, a->policy_id) != SU_OK ||
	    store_bind_text(st, 2, a->policy_name) != SU_OK ||
	    store_bind_int(st, 3, a->ts) != SU_OK ||
	    store_bind_int(st, 4, sa_day(a->ts)) != SU_OK ||
	    store_bind_text(st, 5, a->match_key) != SU_OK ||
	    store_bind_text(st, 6, a->payload) != SU_OK || store_bind_int(st, 7, now) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_fail(s, "inserting an alert");
		goto out;
	}
	aid = (int64_t)sqlite3_last_insert_rowid(store_db(s));
	store_done(st);
	st = NULL;
	if (a->webhook) {
		rc = sa_delivery_insert(s, aid, "webhook", "", now);
		if (rc != SU_OK)
			goto out;
	}
	for (size_t i = 0; i < a->n_email; i++) {
		rc = SU_EINVAL;
		if (a->emails[i] == NULL)
			goto out;
		rc = sa_delivery_insert(s, aid, "email", a->emails[i], now);
		if (rc != SU_OK)
			goto out;
	}
	if (id != NULL)
		*id = aid;
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* sa_delivery_cleanup() frees what one delivery row owns. */
static void
sa_delivery_cleanup(struct store_alert_delivery *d)
{
	free(d->policy_name);
	free(d->channel);
	free(d->target);
	free(d->payload);
	free(d->status);
	free(d->last_error);
	memset(d, 0, sizeof(*d));
}

/* sa_row_read() copies the SA_COLS columns of the current row into d. */
static enum su_rc
sa_row_read(sqlite3_stmt *st, struct store_alert_delivery *d)
{
	enum su_rc rc;

	memset(d, 0, sizeof(*d));
	d->id = (int64_t)sqlite3_column_int64(st, 0);
	d->alert_id = (int64_t)sqlite3_column_int64(st, 1);
	d->policy_id = (int64_t)sqlite3_column_int64(st, 2);
	d->ts = (int64_t)sqlite3_column_int64(st, 4);
	d->attempts = (int64_t)sqlite3_column_int64(st, 9);
	d->next_attempt_at = (int64_t)sqlite3_column_int64(st, 10);
	d->last_attempt_at = (int64_t)sqlite3_column_int64(st, 11);
	d->sent_at = (int64_t)sqlite3_column_int64(st, 13);
	rc = store_col_dup(st, 3, &d->policy_name);
	if (rc == SU_OK)
		rc = store_col_dup(st, 5, &d->channel);
	if (rc == SU_OK)
		rc = store_col_dup(st, 6, &d->target);
	if (rc == SU_OK)
		rc = store_col_dup(st, 7, &d->payload);
	if (rc == SU_OK)
		rc = store_col_dup(st, 8, &d->status);
	if (rc == SU_OK)
		rc = store_col_dup(st, 12, &d->last_error);
	if (rc != SU_OK)
		sa_delivery_cleanup(d);
	return rc;
}

/* sa_rows() runs a prepared, bound row query and collects up to limit
 * rows into a new array. The statement is reset by the caller. */
static enum su_rc
sa_rows(struct store *s, sqlite3_stmt *st, size_t limit, struct store_alert_delivery **out,
	size_t *n, const char *what)
{
	struct store_alert_delivery *v = NULL;
	size_t cnt = 0;
	enum su_rc rc = SU_ENOMEM;
	int r = SQLITE_DONE;

	v = calloc(limit, sizeof(*v));
	if (v == NULL)
		goto out;
	while (cnt < limit && (r = sqlite3_step(st)) == SQLITE_ROW) {
		rc = sa_row_read(st, &v[cnt]);
		if (rc != SU_OK)
			goto out;
		cnt++;
	}
	if (cnt < limit && r != SQLITE_DONE) {
		rc = store_fail(s, what);
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	store_alert_delivery_list_free(v, cnt);
	return rc;
}

/* store_alert_due(): see store_alert.h. */
enum su_rc
store_alert_due(struct store *s, int64_t now, size_t limit, struct store_alert_delivery **out,
		size_t *n)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	*n = 0;
	if (limit == 0 || limit > 1000)
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_DUE);
	if (st == NULL || store_bind_int(st, 1, now) != SU_OK ||
	    store_bind_int(st, 2, (int64_t)limit) != SU_OK)
		goto out;
	rc = sa_rows(s, st, limit, out, n, "reading due alert deliveries");
out:
	store_done(st);
	return rc;
}

/* store_alert_next_due(): see store_alert.h. */
enum su_rc
store_alert_next_due(struct store *s, int64_t *t)
{
	sqlite3_stmt *st = sa_stmt(s, SA_NEXT_DUE);
	enum su_rc rc = SU_EDB;

	*t = 0;
	if (st == NULL)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_fail(s, "reading the next alert delivery");
		goto out;
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	*t = (int64_t)sqlite3_column_int64(st, 0);
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* store_alert_mark_sent(): see store_alert.h. */
enum su_rc
store_alert_mark_sent(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *st = sa_stmt(s, SA_SENT);
	enum su_rc rc = SU_EDB;

	if (st == NULL || store_bind_int(st, 1, id) != SU_OK || store_bind_int(st, 2, now) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_fail(s, "marking an alert delivery sent");
		goto out;
	}
	rc = sqlite3_changes(store_db(s)) == 1 ? SU_OK : SU_ENOTFOUND;
out:
	store_done(st);
	return rc;
}

/* sa_error_cut() copies err into out (outsz bytes) with control bytes made
 * spaces and the cut on a UTF-8 character boundary. */
static void
sa_error_cut(const char *err, char *out, size_t outsz)
{
	size_t n = 0;

	for (const char *p = err != NULL ? err : ""; *p != '\0' && n + 1 < outsz; p++)
		out[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? ' ' : *p;
	/* do not end inside a multi-byte character */
	if (n + 1 >= outsz) {
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
			n--;
	}
	out[n] = '\0';
}

/* store_alert_mark_failed(): see store_alert.h. */
enum su_rc
store_alert_mark_failed(struct store *s, int64_t id, int64_t now, int64_t next, const char *err)
{
	sqlite3_stmt *st = sa_stmt(s, SA_FAILED);
	char cut[STORE_ALERT_ERROR_MAX + 1];
	enum su_rc rc = SU_EDB;

	sa_error_cut(err, cut, sizeof(cut));
	if (st == NULL || store_bind_int(st, 1, id) != SU_OK ||
	    store_bind_int(st, 2, now) != SU_OK || store_bind_int(st, 3, next) != SU_OK ||
	    store_bind_text(st, 4, cut) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_fail(s, "recording a failed alert delivery");
		goto out;
	}
	rc = sqlite3_changes(store_db(s)) == 1 ? SU_OK : SU_ENOTFOUND;
out:
	store_done(st);
	return rc;
}

/* store_alert_defer(): see store_alert.h. */
enum su_rc
store_alert_defer(struct store *s, int64_t id, int64_t next, const char *why)
{
	sqlite3_stmt *st = sa_stmt(s, SA_DEFER);
	char cut[STORE_ALERT_ERROR_MAX + 1];
	enum su_rc rc = SU_EDB;

	sa_error_cut(why, cut, sizeof(cut));
	if (st == NULL || store_bind_int(st, 1, id) != SU_OK ||
	    store_bind_int(st, 2, next) != SU_OK || store_bind_text(st, 3, cut) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_fail(s, "deferring an alert delivery");
		goto out;
	}
	rc = sqlite3_changes(store_db(s)) == 1 ? SU_OK : SU_ENOTFOUND;
out:
	store_done(st);
	return rc;
}

/* store_alert_list(): see store_alert.h. */
enum su_rc
store_alert_list(struct store *s, int64_t policy_id, size_t limit,
		 struct store_alert_delivery **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	*n = 0;
	if (limit == 0 || limit > 1000)
		goto out;
	rc = SU_EDB;
	st = sa_stmt(s, SA_LIST);
	if (st == NULL || store_bind_int(st, 1, policy_id) != SU_OK ||
	    store_bind_int(st, 2, (int64_t)limit) != SU_OK)
		goto out;
	rc = sa_rows(s, st, limit, out, n, "listing alert deliveries");
out:
	store_done(st);
	return rc;
}

/* store_alert_delivery_list_free() frees an array from store_alert_due()
 * or store_alert_list(). */
void
store_alert_delivery_list_free(struct store_alert_delivery *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sa_delivery_cleanup(&v[i]);
	free(v);
}

/* store_alert_counts(): see store_alert.h. */
enum su_rc
store_alert_counts(struct store *s, int64_t policy_id, struct store_alert_counts *out)
{
	sqlite3_stmt *st = sa_stmt(s, SA_COUNTS);
	enum su_rc rc = SU_EDB;

	memset(out, 0, sizeof(*out));
	if (st == NULL || store_bind_int(st, 1, policy_id) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_fail(s, "counting alerts");
		goto out;
	}
	out->alerts = (int64_t)sqlite3_column_int64(st, 0);
	out->pending = (int64_t)sqlite3_column_int64(st, 1);
	out->sent = (int64_t)sqlite3_column_int64(st, 2);
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}
