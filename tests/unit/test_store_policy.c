/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_store_policy.c: the policy tables (store_policy.h) on :memory: and
 * on a file. Import replaces the set atomically and keeps ids by name; a
 * failed import leaves the old set and version untouched; every change
 * bumps the version; single-policy CRUD; match batches are all or
 * nothing; outcome updates only move pending rows; the reports count the
 * right rows; statements cached in the extension slots are finalized by
 * store_close() (a file database reopens cleanly).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "policy.h"
#include "store.h"
#include "store_int.h"
#include "store_policy.h"
#include "t.h"

#define MIG "db/migrations"
#define HS "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* q() turns ' into " (readable JSON in C strings). */
static char *
q(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p != NULL && *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

/* set_q() parses a policy file written with single quotes. */
static struct policy_set *
set_q(const char *s)
{
	struct policy_set *set = NULL;
	char *j = q(s), *errs = NULL;

	if (policy_set_parse(j, strlen(j), NULL, &set, &errs) != SU_OK)
		printf("# does not parse: %s\n", errs ? errs : "?");
	free(errs);
	free(j);
	return set;
}

/* count() runs a count query on the store's connection. */
static long
count(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long n = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* version() reads the policy version (-1 on error). */
static int64_t
version(struct store *s)
{
	int64_t v = -1;

	if (store_policy_version(s, &v) != SU_OK)
		return -1;
	return v;
}

/* names() exports and joins the names with ',' (and ids into ids[]). */
static void
names(struct store *s, char *out, size_t outsz, int64_t *ids)
{
	struct policy_set *set = NULL;
	size_t k = 0;

	out[0] = '\0';
	if (store_policy_export(s, &set, NULL) != SU_OK) {
		snprintf(out, outsz, "(export failed)");
		return;
	}
	for (size_t i = 0; i < set->n; i++) {
		k += (size_t)snprintf(out + k, outsz - k, "%s%s", i ? "," : "", set->v[i]->name);
		if (ids != NULL)
			ids[i] = set->v[i]->id;
	}
	policy_set_free(set);
}

static const char *set_a =
	"{'policies':["
	"{'name':'one','severity':'high','action':{'type':'step_up','context':'c1'},"
	" 'activity_filters':{'device_tags':{'op':'not_equals','values':['compliant']}},"
	" 'alerts':{'enabled':true,'daily_limit':5,'email':['a@example.com']}},"
	"{'name':'two','severity':'low','action':{'type':'allow'}},"
	"{'name':'three','severity':'medium','action':{'type':'block'},"
	" 'file_filters':{'labels':{'op':'in','values':['Secret']}}}]}";

static void
test_import_export(struct store *s)
{
	struct policy_set *a = set_q(set_a), *b, *bad, *ex = NULL;
	char buf[512], *ja = NULL, *jex = NULL;
	int64_t ids[8] = { 0 }, ids2[8] = { 0 }, v = -1;
	char *saved;

	T_OK(version(s) == 0, "fresh database: version 0");
	names(s, buf, sizeof(buf), NULL);
	T_OK(strcmp(buf, "") == 0, "fresh database: no policies");
	if (a == NULL)
		return;
	T_OK(store_policy_import(s, a, 1000) == SU_OK, "import set A");
	T_OK(version(s) == 1, "import bumps the version once");
	names(s, buf, sizeof(buf), ids);
	T_OK(strcmp(buf, "one,two,three") == 0 && ids[0] > 0 && ids[1] > ids[0],
	     "export gives the set in order with ids (%s)", buf);
	T_OK(store_policy_export(s, &ex, &v) == SU_OK && v == 1, "export returns its version");
	policy_set_to_json(a, &ja);
	if (ex != NULL)
		policy_set_to_json(ex, &jex);
	T_OK(ja && jex && strcmp(ja, jex) == 0, "exported JSON equals the imported set's JSON");
	T_OK(ex && ex->v[0]->alerts.daily_limit == 5 && ex->v[0]->device_mask == POLICY_TAG_COMPLIANT,
	     "stored policies keep their details");
	free(ja);
	free(jex);
	policy_set_free(ex);

	/* B: drop "two", rename nothing, reorder, add "four", change "one" */
	b = set_q("{'policies':["
		  "{'name':'four','severity':'low','action':{'type':'block'}},"
		  "{'name':'THREE','severity':'medium','action':{'type':'block'}},"
		  "{'name':'one','severity':'low','action':{'type':'block'}}]}");
	T_OK(b && store_policy_import(s, b, 2000) == SU_OK, "import set B (replace all)");
	names(s, buf, sizeof(buf), ids2);
	T_OK(strcmp(buf, "four,THREE,one") == 0, "B replaced A, in B's order (%s)", buf);
	T_OK(ids2[1] == ids[2] && ids2[2] == ids[0] && ids2[0] > ids[2],
	     "same names (ignoring case) keep their ids; new names get new ids");
	T_OK(version(s) == 2, "version 2");
	T_OK(count(s, "SELECT count(*) FROM policies WHERE name = 'one' AND created_at = 1000 AND "
		      "updated_at = 2000") == 1,
	     "a changed policy keeps created_at and moves updated_at");

	/* a failing import changes nothing */
	bad = set_q("{'policies':[{'name':'x','severity':'low','action':{'type':'allow'}},"
		    "{'name':'y','severity':'low','action':{'type':'allow'}}]}");
	if (bad != NULL) {
		saved = bad->v[1]->name;
		bad->v[1]->name = malloc(300);
		memset(bad->v[1]->name, 'n', 299);
		bad->v[1]->name[299] = '\0';
		T_OK(store_policy_import(s, bad, 3000) == SU_EINVAL,
		     "an import the database refuses fails (name over 128 bytes)");
		free(bad->v[1]->name);
		bad->v[1]->name = saved;
	}
	names(s, buf, sizeof(buf), NULL);
	T_OK(strcmp(buf, "four,THREE,one") == 0 && version(s) == 2,
	     "after the failed import: old set and version intact");
	T_OK(store_policy_import(s, NULL, 3000) == SU_EINVAL, "NULL set refused");
	policy_set_free(bad);
	policy_set_free(a);
	policy_set_free(b);
}

static void
test_crud(struct store *s)
{
	struct policy_set *c = set_q("{'policies':[{'name':'crud','severity':'low',"
				     "'action':{'type':'block'}},{'name':'one','severity':'low',"
				     "'action':{'type':'allow'}}]}");
	struct policy *got = NULL;
	int64_t id = 0, v0 = version(s);
	char buf[512], *name;

	if (c == NULL)
		return;
	T_OK(store_policy_create(s, c->v[0], 4000, &id) == SU_OK && id > 0, "create");
	T_OK(version(s) == v0 + 1, "create bumps the version");
	names(s, buf, sizeof(buf), NULL);
	T_OK(strcmp(buf, "four,THREE,one,crud") == 0, "created policy goes last (%s)", buf);
	T_OK(store_policy_create(s, c->v[1], 4000, NULL) == SU_EINVAL && version(s) == v0 + 1,
	     "create with a taken name refused, version unchanged");
	T_OK(store_policy_get(s, id, &got) == SU_OK && got->id == id && strcmp(got->name, "crud") == 0,
	     "get");
	policy_free(got);
	got = NULL;
	T_OK(store_policy_get(s, 999999, &got) == SU_ENOTFOUND && got == NULL, "get unknown id");
	T_OK(store_policy_enable(s, id, false, 4100) == SU_OK && version(s) == v0 + 2, "disable");
	T_OK(store_policy_get(s, id, &got) == SU_OK && !got->enabled &&
	     count(s, "SELECT count(*) FROM policies WHERE name = 'crud' AND enabled = 0 AND "
		      "json_extract(json, '$.enabled') = 0") == 1,
	     "disabled in the row and in its JSON");
	policy_free(got);
	got = NULL;
	T_OK(store_policy_enable(s, 999999, true, 4100) == SU_ENOTFOUND, "enable unknown id");
	name = c->v[0]->name;
	c->v[0]->name = strdup("crud renamed");
	T_OK(store_policy_update(s, id, c->v[0], 4200) == SU_OK && version(s) == v0 + 3, "update");
	T_OK(store_policy_get(s, id, &got) == SU_OK && strcmp(got->name, "crud renamed") == 0 &&
	     got->enabled, "update replaced the policy, same id");
	policy_free(got);
	got = NULL;
	free(c->v[0]->name);
	c->v[0]->name = strdup("One");
	T_OK(store_policy_update(s, id, c->v[0], 4300) == SU_EINVAL, "update to another's name refused");
	T_OK(store_policy_update(s, 999999, c->v[0], 4300) == SU_ENOTFOUND, "update unknown id");
	free(c->v[0]->name);
	c->v[0]->name = name;
	T_OK(store_policy_delete(s, id) == SU_OK && version(s) == v0 + 4, "delete");
	T_OK(store_policy_delete(s, id) == SU_ENOTFOUND && version(s) == v0 + 4, "delete twice");
	names(s, buf, sizeof(buf), NULL);
	T_OK(strcmp(buf, "four,THREE,one") == 0, "set after CRUD (%s)", buf);
	policy_set_free(c);
}

/* mrow() fills a match row. */
static struct store_policy_match
mrow(int64_t ts, int64_t pid, const char *pname, const char *decision, const char *outcome,
     const char *key)
{
	struct store_policy_match m;

	memset(&m, 0, sizeof(m));
	m.ts = ts;
	m.policy_id = pid;
	m.policy_name = (char *)pname;
	m.session_hash = (char *)HS;
	m.user = (char *)"alice";
	m.app = (char *)"files";
	m.file_name = (char *)"report.pdf";
	m.file_label = (char *)"Confidential";
	m.activity = (char *)"download";
	m.path = (char *)"/files/report.pdf";
	m.decision = (char *)decision;
	m.context = strcmp(decision, "step_up") == 0 ? (char *)"c1" : NULL;
	m.outcome = (char *)outcome;
	m.match_key = (char *)key;
	return m;
}

/* store_count_matches() counts policy_matches rows with plain SQL. */
static long
store_count_matches(struct store *s)
{
	sqlite3_stmt *st = NULL;
	long n = -1;

	if (sqlite3_prepare_v2(store_db(s), "SELECT count(*) FROM policy_matches", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
test_matches(struct store *s)
{
	struct store_policy_match rows[4];
	struct store_policy_outcomes oc;
	struct store_policy_bucket *b = NULL;
	struct store_policy_match *l = NULL;
	size_t n = 0;
	int64_t cnt = -1;

	rows[0] = mrow(7200 + 10, 1, "one", "step_up", "pending", "k1");
	rows[1] = mrow(7200 + 10, 3, "three", "step_up", "pending", "k1");
	rows[2] = mrow(7200 + 3600 + 5, 1, "one", "block", "blocked", "k2");
	rows[3] = mrow(7200 + 3 * 3600, 1, "one", "allow", "allowed", NULL);
	T_OK(store_policy_matches_insert_batch(s, rows, 4) == SU_OK, "insert a batch of 4");
	T_OK(count(s, "SELECT count(*) FROM policy_matches") == 4, "4 rows");
	T_OK(store_policy_matches_insert_batch(s, rows, 0) == SU_OK, "empty batch is a no-op");

	rows[1].decision = (char *)"maybe";
	T_OK(store_policy_matches_insert_batch(s, rows, 2) == SU_EINVAL, "bad decision refused");
	rows[1] = mrow(1, 1, "one", "allow", "done", NULL);
	T_OK(store_policy_matches_insert_batch(s, rows, 2) == SU_EINVAL, "bad outcome refused");
	rows[1] = mrow(1, 1, "one", "allow", "allowed", NULL);
	rows[1].session_hash = (char *)"not-a-hash";
	T_OK(store_policy_matches_insert_batch(s, rows, 2) == SU_EINVAL,
	     "a row the database refuses (session hash) fails the batch");
	T_OK(count(s, "SELECT count(*) FROM policy_matches") == 4,
	     "nothing of a failed batch was inserted");
	rows[1] = mrow(1, 1, NULL, "allow", "allowed", NULL);
	T_OK(store_policy_matches_insert_batch(s, rows, 2) == SU_EINVAL, "no policy name refused");

	T_OK(store_policy_match_outcome(s, "k1", "stepped_up") == SU_OK &&
	     count(s, "SELECT count(*) FROM policy_matches WHERE match_key = 'k1' AND "
		      "outcome = 'stepped_up'") == 2,
	     "outcome pending -> stepped_up on every row of the key");
	T_OK(store_policy_match_outcome(s, "k1", "abandoned") == SU_ENOTFOUND,
	     "no pending row left: ENOTFOUND (stepped_up stays)");
	T_OK(store_policy_match_outcome(s, "k2", "stepped_up") == SU_ENOTFOUND,
	     "a blocked row is not pending: unchanged");
	T_OK(store_policy_match_outcome(s, "nope", "stepped_up") == SU_ENOTFOUND, "unknown key");
	T_OK(store_policy_match_outcome(s, "k1", "weird") == SU_EINVAL, "bad outcome refused");
	T_OK(store_policy_match_outcome(s, "", "allowed") == SU_EINVAL, "empty key refused");

	rows[0] = mrow(100, 2, "two", "step_up", "pending", "k3");
	rows[1] = mrow(500, 2, "two", "step_up", "pending", "k4");
	T_OK(store_policy_matches_insert_batch(s, rows, 2) == SU_OK, "two pending rows");
	T_OK(store_policy_matches_abandon(s, 200, &cnt) == SU_OK && cnt == 1, "abandon before 200: 1");
	T_OK(count(s, "SELECT count(*) FROM policy_matches WHERE match_key = 'k3' AND "
		      "outcome = 'abandoned'") == 1 &&
	     count(s, "SELECT count(*) FROM policy_matches WHERE match_key = 'k4' AND "
		      "outcome = 'pending'") == 1,
	     "only the old one was abandoned");

	/* reports */
	T_OK(store_policy_report_outcomes(s, 1, 0, 100000, &oc) == SU_OK && oc.total == 3 &&
	     oc.stepped_up == 1 && oc.blocked == 1 && oc.allowed == 1 && oc.pending == 0,
	     "policy 1 outcomes");
	T_OK(store_policy_report_outcomes(s, 0, 0, 100000, &oc) == SU_OK && oc.total == 6 &&
	     oc.stepped_up == 2 && oc.abandoned == 1 && oc.pending == 1,
	     "all policies outcomes");
	T_OK(store_policy_report_outcomes(s, 1, 7200 + 11, 100000, &oc) == SU_OK && oc.total == 2,
	     "time range is [t0, t1)");
	T_OK(store_policy_report_hourly(s, 1, 7200, 7200 + 4 * 3600, &b, &n) == SU_OK && n == 4 &&
	     b[0].start == 7200 && b[0].count == 1 && b[1].count == 1 && b[2].count == 0 &&
	     b[3].start == 7200 + 3 * 3600 && b[3].count == 1,
	     "hourly buckets for policy 1, dense");
	free(b);
	b = NULL;
	T_OK(store_policy_report_hourly(s, 0, 7300, 7300 + 1, &b, &n) == SU_OK && n == 1 &&
	     b[0].start == 7200 && b[0].count == 0,
	     "one-second range: one bucket aligned on the hour, t0 after the match");
	free(b);
	b = NULL;
	T_OK(store_policy_report_hourly(s, 0, 100, 100, &b, &n) == SU_EINVAL && b == NULL,
	     "empty range refused");
	T_OK(store_policy_report_hourly(s, 0, 0, (int64_t)3600 * 24 * 367, &b, &n) == SU_EINVAL,
	     "range over 366 days refused");
	T_OK(store_policy_report_latest(s, 1, 2, &l, &n) == SU_OK && n == 2 &&
	     l[0].ts == 7200 + 3 * 3600 && l[1].ts == 7200 + 3600 + 5 &&
	     strcmp(l[1].decision, "block") == 0 && strcmp(l[1].match_key, "k2") == 0 &&
	     strcmp(l[1].session_hash, HS) == 0 && l[0].match_key == NULL && l[0].context == NULL,
	     "latest 2 of policy 1, newest first, every column");
	store_policy_match_list_free(l, n);
	l = NULL;
	T_OK(store_policy_report_latest(s, 0, 1000, &l, &n) == SU_OK && n == 6, "latest of all");
	store_policy_match_list_free(l, n);
	l = NULL;
	T_OK(store_policy_report_latest(s, 0, 0, &l, &n) == SU_EINVAL, "limit 0 refused");
	T_OK(store_policy_report_latest(s, 0, 1001, &l, &n) == SU_EINVAL, "limit 1001 refused");
	{
		sqlite3_stmt *st = NULL;
		char plan[512] = "";

		if (sqlite3_prepare_v2(store_db(s),
				       "EXPLAIN QUERY PLAN SELECT outcome, count(*) FROM policy_matches "
				       "WHERE policy_id = 1 AND ts >= 0 AND ts < 10 GROUP BY outcome",
				       -1, &st, NULL) == SQLITE_OK)
			while (sqlite3_step(st) == SQLITE_ROW)
				strncat(plan, (const char *)sqlite3_column_text(st, 3),
					sizeof(plan) - strlen(plan) - 1);
		sqlite3_finalize(st);
		T_OK(strstr(plan, "policy_matches_policy_ts") != NULL,
		     "per-policy report uses the (policy_id, ts) index (%s)", plan);
	}
}

/* test_file_reopen() checks that cached statements do not keep a file
 * database from closing, and that data survives. */
static void
test_file_reopen(void)
{
	char dir[] = "/tmp/test_store_policy.XXXXXX", db[PATH_MAX], side[PATH_MAX];
	struct store *s = NULL;
	struct policy_set *a = set_q(set_a);
	char buf[256];

	if (mkdtemp(dir) == NULL || a == NULL) {
		T_OK(0, "setup");
		policy_set_free(a);
		return;
	}
	snprintf(db, sizeof(db), "%s/t.db", dir);
	T_OK(store_open(db, MIG, &s) == SU_OK, "open a file database");
	T_OK(store_policy_import(s, a, 1) == SU_OK && version(s) == 1, "import into it");
	store_close(s);
	s = NULL;
	T_OK(store_open(db, MIG, &s) == SU_OK, "reopen");
	names(s, buf, sizeof(buf), NULL);
	T_OK(strcmp(buf, "one,two,three") == 0 && version(s) == 1, "policies and version persisted");
	store_close(s);
	policy_set_free(a);
	unlink(db);
	snprintf(side, sizeof(side), "%s/t.db-wal", dir);
	unlink(side);
	snprintf(side, sizeof(side), "%s/t.db-shm", dir);
	unlink(side);
	T_OK(rmdir(dir) == 0, "database closed cleanly (no stray files)");
}

/* A batch inside a transaction the caller opened joins it: rolled back
 * with it, committed with it (the recorder writes matches and alerts in
 * one transaction). */
static void
test_matches_join(struct store *s)
{
	struct store_policy_match r = mrow(99000, 1, "one", "allow", "allowed", NULL);
	long before = -1, after = -1;

	before = store_count_matches(s);
	T_OK(store_txn_begin(s, true) == SU_OK, "caller opens a transaction");
	T_OK(store_policy_matches_insert_batch(s, &r, 1) == SU_OK, "a batch inside it");
	store_txn_rollback(s);
	after = store_count_matches(s);
	T_OK(after == before, "rolled back with the caller's transaction (%ld -> %ld)", before, after);
	T_OK(store_txn_begin(s, true) == SU_OK && store_policy_matches_insert_batch(s, &r, 1) == SU_OK &&
		     store_txn_commit(s) == SU_OK,
	     "committed with the caller's transaction");
	T_OK(store_count_matches(s) == before + 1, "and then stored");
}

int
main(void)
{
	struct store *s = NULL;

	T_OK(store_open(":memory:", MIG, &s) == SU_OK, "open :memory:");
	if (s == NULL)
		return T_DONE();
	test_import_export(s);
	test_crud(s);
	test_matches(s);
	test_matches_join(s);
	store_close(s);
	test_file_reopen();
	return T_DONE();
}
