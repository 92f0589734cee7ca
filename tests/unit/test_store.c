/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_store.c: unit tests for store.c against ":memory:" and real files in
 * a mkdtemp() directory: migrations (version, no re-application, a failing
 * migration rolls back), single use of start tokens and pending flows,
 * elevations (find, list, revoke), refusal of malformed session hashes
 * with nothing written, the audit log, purge, and two connections (and
 * several threads) on one file. Run from the project root (it reads
 * db/migrations). Does not use xcrypt: hashes are fixed hex strings.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "t.h"

#define MIG "db/migrations"

/* Fixed lowercase hex "SHA-256" values. */
static const char H1[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char H2[] = "2222222222222222222222222222222222222222222222222222222222222222";
static const char H3[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char HS[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char HS2[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char HS3[] = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
static const char HB[] = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

static char tmpdir[64];

/* A flow with every field set. */
static struct store_flow
flow_make(const char *state, const char *session, int64_t created, int64_t expires)
{
	struct store_flow f = {
		.state_hash = (char *)state,
		.browser_hash = (char *)HB,
		.nonce = (char *)"n0nce",
		.pkce_verifier = (char *)"verifier-verifier-verifier-verifier-verifier",
		.provider = (char *)"entra",
		.context = (char *)"c1",
		.session_hash = (char *)session,
		.user = (char *)"alice@example.com",
		.return_to = (char *)"https://app.example.com/x?y=1",
		.request_id = NULL,
		.created_at = created,
		.expires_at = expires,
	};
	return f;
}

/* An elevation of session for context. */
static struct store_elevation
elev_make(const char *session, const char *context, int64_t at, int64_t expires)
{
	struct store_elevation e = {
		.session_hash = (char *)session,
		.user = (char *)"alice@example.com",
		.context = (char *)context,
		.provider = (char *)"entra",
		.acr = (char *)"c1",
		.amr = (char *)"[\"pwd\",\"mfa\"]",
		.auth_time = at - 5,
		.elevated_at = at,
		.expires_at = expires,
	};
	return e;
}

/* str_eq() compares possibly-NULL strings. */
static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* raw_text() runs a one-value query on a fresh plain SQLite connection to
 * path and copies the result into buf ("" on error). */
static void
raw_text(const char *path, const char *sql, char *buf, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	buf[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* raw_plan() writes the EXPLAIN QUERY PLAN detail of the first step of sql
 * on path into buf ("" on error). */
static void
raw_plan(const char *path, const char *sql, char *buf, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char q[512];

	buf[0] = '\0';
	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 3) != NULL)
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* copy_file() copies src to dst; 0 on success. */
static int
copy_file(const char *src, const char *dst)
{
	char b[4096];
	size_t k;
	int rc = -1;
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");

	if (in == NULL || out == NULL)
		goto out;
	while ((k = fread(b, 1, sizeof(b), in)) > 0)
		if (fwrite(b, 1, k, out) != k)
			goto out;
	rc = ferror(in) ? -1 : 0;
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	return rc;
}

/* write_file() writes text to path; 0 on success. */
static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* tmp_path() joins tmpdir and name into buf. */
static const char *
tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	return buf;
}

/* latest_version() counts the migrations in MIG (NNNN_*.sql), which is the
 * schema version a fresh database reaches. */
static int
latest_version(void)
{
	DIR *d = opendir(MIG);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 9 && strspn(e->d_name, "0123456789") == 4 && e->d_name[4] == '_' &&
		    strcmp(e->d_name + len - 4, ".sql") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* atoi_check() reads a small decimal number (-1 when it is not one). */
static int
atoi_check(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (end != s && *end == '\0' && v >= 0 && v < 100000) ? (int)v : -1;
}

/* Schema version on :memory: and refusal of bad arguments. */
static void
test_open(void)
{
	struct store *s = NULL;

	T_OK(store_open(":memory:", MIG, &s) == SU_OK && s != NULL, "open :memory:");
	T_OK(store_schema_version(s) == latest_version(), "schema version is the latest migration, %d (got %d)",
	     latest_version(), store_schema_version(s));
	T_OK(store_count(s, "schema_version") == 1, "schema_version has one row");
	T_OK(store_count(s, "elevations") == 0 && store_count(s, "audit") == 0,
	     "tables exist and are empty");
	T_OK(store_count(s, "sqlite_master") == -1 && store_count(s, "x; DROP TABLE audit") == -1,
	     "store_count refuses other names");
	store_close(s);

	s = (struct store *)1;
	T_OK(store_open(":memory:", "/nonexistent/migrations", &s) != SU_OK && s == NULL,
	     "missing migrations dir fails, *out NULL");
	T_OK(store_open(NULL, MIG, &s) == SU_EINVAL, "NULL path refused");
	store_close(NULL);
}

/* Start tokens are single use. */
static void
test_start_tokens(struct store *s)
{
	T_OK(store_start_token_use(s, "tok-A", 1300) == SU_OK, "start token first use ok");
	T_OK(store_start_token_use(s, "tok-A", 1300) == SU_EREPLAY, "start token second use: EREPLAY");
	T_OK(store_start_token_use(s, "tok-B", 1300) == SU_OK, "another start token ok");
	T_OK(store_start_token_use(s, "", 1300) == SU_EINVAL &&
	     store_start_token_use(s, NULL, 1300) == SU_EINVAL, "empty/NULL token id refused");
	T_OK(store_count(s, "start_tokens") == 2, "two start tokens recorded");
}

/* Pending flows: put, take once, expiry, duplicates, malformed hashes. */
static void
test_flows(struct store *s)
{
	struct store_flow f = flow_make(H1, HS, 1000, 1300), got;
	enum su_rc rc;

	T_OK(store_flow_put(s, &f) == SU_OK, "flow put");
	T_OK(store_flow_put(s, &f) == SU_EINVAL, "duplicate state_hash: EINVAL");
	rc = store_flow_take(s, H1, 1100, &got);
	T_OK(rc == SU_OK, "flow take ok (%d)", (int)rc);
	T_OK(str_eq(got.state_hash, H1) && str_eq(got.browser_hash, HB) &&
	     str_eq(got.nonce, f.nonce) && str_eq(got.pkce_verifier, f.pkce_verifier) &&
	     str_eq(got.provider, "entra") && str_eq(got.context, "c1") &&
	     str_eq(got.session_hash, HS) && str_eq(got.user, f.user) &&
	     str_eq(got.return_to, f.return_to) && got.request_id == NULL &&
	     got.created_at == 1000 && got.expires_at == 1300,
	     "flow fields round-trip");
	store_flow_cleanup(&got);
	T_OK(got.state_hash == NULL, "cleanup zeroes");
	T_OK(store_flow_take(s, H1, 1100, &got) == SU_ENOTFOUND, "second take: ENOTFOUND");
	T_OK(got.state_hash == NULL && got.context == NULL, "nothing returned on ENOTFOUND");

	f = flow_make(H2, "", 1000, 1300);
	f.user = NULL;
	f.request_id = (char *)"_a1b2c3";
	f.nonce = NULL;
	f.pkce_verifier = NULL;
	T_OK(store_flow_put(s, &f) == SU_OK, "SAML-style flow with no session/user put");
	T_OK(store_flow_take(s, H2, 1300, &got) == SU_EEXPIRED, "take at expires_at: EEXPIRED");
	T_OK(got.state_hash == NULL && got.context == NULL, "nothing returned on EEXPIRED");
	T_OK(store_count(s, "pending_flows") == 0, "expired flow deleted anyway");
	T_OK(store_flow_take(s, H2, 1100, &got) == SU_ENOTFOUND, "expired flow cannot be retaken");

	f = flow_make(H2, "", 1000, 1300);
	f.user = NULL;
	f.request_id = (char *)"_a1b2c3";
	T_OK(store_flow_put(s, &f) == SU_OK, "flow with empty session put");
	T_OK(store_flow_take(s, H2, 1000, &got) == SU_OK && got.session_hash == NULL &&
	     got.user == NULL && str_eq(got.request_id, "_a1b2c3"),
	     "empty session comes back NULL, request_id kept");
	store_flow_cleanup(&got);

	f = flow_make("abc", HS, 1000, 1300);
	T_OK(store_flow_put(s, &f) == SU_EINVAL, "short state_hash refused");
	f = flow_make(H3, "ZZZZ", 1000, 1300);
	T_OK(store_flow_put(s, &f) == SU_EINVAL, "bad session_hash in flow refused");
	f = flow_make(H3, HS, 1000, 1300);
	f.browser_hash = (char *)"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";
	T_OK(store_flow_put(s, &f) == SU_EINVAL, "uppercase browser_hash refused");
	f = flow_make(H3, HS, 1000, 1300);
	f.context = NULL;
	T_OK(store_flow_put(s, &f) == SU_EINVAL, "flow without context refused");
	f = flow_make(H3, HS, 1000, 900);
	T_OK(store_flow_put(s, &f) == SU_EINVAL, "flow expiring before creation refused");
	T_OK(store_count(s, "pending_flows") == 0, "no refused flow was written");
	T_OK(store_flow_take(s, NULL, 1000, &got) == SU_EINVAL, "take with NULL state: EINVAL");
}

/* Elevations: put, find (latest expiry, context and expiry honoured),
 * list (newest first), then revocation. */
static void
test_elevations(struct store *s)
{
	struct store_elevation e, got, *v = NULL;
	struct store_session_row *rows = NULL;
	size_t n = 0;
	char *user = NULL;
	int cnt = -1;

	e = elev_make(HS, "c1", 1000, 2000);
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation 1 (c1, exp 2000) put");
	e = elev_make(HS, "c1", 1100, 3000);
	e.amr = NULL;
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation 2 (c1, exp 3000, no amr) put");
	e = elev_make(HS, "c1", 1300, 1400);
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation 4 (c1, expires 1400) put");
	/* recorded last but elevated earlier: the session's user follows the
	 * latest write, last_elevated_at never goes back */
	e = elev_make(HS, "c2", 1200, 2500);
	e.user = (char *)"alice2@example.com";
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation 3 (c2, elevated 1200) put last");
	e = elev_make(HS2, "c1", 1000, 5000);
	e.user = (char *)"bob";
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation of another session put");
	T_OK(store_count(s, "elevations") == 5 && store_count(s, "sessions") == 2,
	     "5 elevations, 2 sessions");

	T_OK(store_elevation_find(s, HS, "c1", 1500, &got) == SU_OK && got.expires_at == 3000 &&
	     str_eq(got.context, "c1") && str_eq(got.amr, "[]") && str_eq(got.acr, "c1") &&
	     str_eq(got.session_hash, HS) && got.revoked_at == 0 && got.id > 0,
	     "find returns the latest-expiring c1 elevation, amr defaults to []");
	store_elevation_cleanup(&got);
	T_OK(store_elevation_find(s, HS, "c1", 2999, &got) == SU_OK && got.expires_at == 3000,
	     "find just before expiry");
	store_elevation_cleanup(&got);
	T_OK(store_elevation_find(s, HS, "c1", 3000, &got) == SU_ENOTFOUND && got.user == NULL,
	     "find at expires_at: ENOTFOUND");
	T_OK(store_elevation_find(s, HS, "c3", 1500, &got) == SU_ENOTFOUND,
	     "other context: ENOTFOUND");
	T_OK(store_elevation_find(s, H3, "c1", 1500, &got) == SU_ENOTFOUND,
	     "unknown session: ENOTFOUND");
	T_OK(store_elevation_find(s, HS, "c2", 1500, &got) == SU_OK &&
	     str_eq(got.amr, "[\"pwd\",\"mfa\"]") && got.auth_time == 1195,
	     "find c2, amr and auth_time kept");
	store_elevation_cleanup(&got);

	T_OK(store_elevation_list(s, HS, 1500, &v, &n, &user) == SU_OK, "list ok");
	T_OK(n == 3, "list has 3 live elevations (expired one excluded) (got %zu)", n);
	T_OK(n == 3 && v[0].elevated_at == 1200 && v[1].elevated_at == 1100 &&
	     v[2].elevated_at == 1000, "list is newest first");
	T_OK(str_eq(user, "alice2@example.com"), "list user is the session's latest user");
	store_elevation_list_free(v, n);
	free(user);
	T_OK(store_elevation_list(s, H3, 1500, &v, &n, &user) == SU_OK && n == 0 && v == NULL &&
	     user == NULL, "unknown session: empty list, NULL user");

	T_OK(store_session_list(s, 1500, &rows, &n) == SU_OK && n == 2, "session list: 2 rows");
	T_OK(n == 2 && str_eq(rows[0].session_hash, HS) && rows[0].active_elevations == 3 &&
	     rows[0].created_at == 1000 && rows[0].last_elevated_at == 1300 &&
	     str_eq(rows[1].user, "bob") && rows[1].active_elevations == 1,
	     "session rows: most recent first, active counts, times");
	store_session_list_free(rows, n);

	T_OK(store_session_revoke(s, HS, 1600, &cnt) == SU_OK && cnt == 4,
	     "revoke: 4 unrevoked elevations revoked (got %d)", cnt);
	T_OK(store_elevation_find(s, HS, "c1", 1601, &got) == SU_ENOTFOUND,
	     "after revoke: find ENOTFOUND");
	T_OK(store_elevation_find(s, HS, "c2", 1601, &got) == SU_ENOTFOUND,
	     "after revoke: other context ENOTFOUND too");
	T_OK(store_elevation_list(s, HS, 1601, &v, &n, &user) == SU_OK && n == 0,
	     "after revoke: list empty");
	store_elevation_list_free(v, n);
	free(user);
	T_OK(store_count(s, "elevations") == 5 && store_count(s, "sessions") == 2,
	     "revocation keeps the rows (5 elevations, 2 sessions)");
	T_OK(store_elevation_find(s, HS2, "c1", 1601, &got) == SU_OK,
	     "other session unaffected by revoke");
	store_elevation_cleanup(&got);
	T_OK(store_session_revoke(s, HS, 1700, &cnt) == SU_OK && cnt == 0,
	     "second revoke revokes nothing");
	T_OK(store_session_revoke(s, HS, 0, NULL) == SU_EINVAL, "revoke at time 0 refused");
	T_OK(store_session_list(s, 1601, &rows, &n) == SU_OK && n == 2 &&
	     rows[0].active_elevations == 0, "session list after revoke: 0 active");
	store_session_list_free(rows, n);

	/* a new elevation after revocation works again */
	e = elev_make(HS, "c1", 1800, 2800);
	T_OK(store_elevation_put(s, &e) == SU_OK &&
	     store_elevation_find(s, HS, "c1", 1900, &got) == SU_OK && got.expires_at == 2800,
	     "re-elevation after revoke is found");
	store_elevation_cleanup(&got);
}

/* Malformed session hashes are refused everywhere with nothing written. */
static void
test_bad_hashes(struct store *s)
{
	static const char *const bad[] = {
		"", "abc",
		"111111111111111111111111111111111111111111111111111111111111111",   /* 63 */
		"11111111111111111111111111111111111111111111111111111111111111111", /* 65 */
		"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",  /* non-hex */
		"ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD",  /* upper */
		"a session id in clear, not hashed at all, 64 chars long........",
		NULL,
	};
	long el = store_count(s, "elevations"), se = store_count(s, "sessions");
	long au = store_count(s, "audit");
	struct store_elevation e, got, *v = (struct store_elevation *)1;
	size_t n = 7;
	char *user = (char *)1;
	int all_put = 1, all_find = 1, all_list = 1, all_rev = 1, all_audit = 1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = elev_make(bad[i], "c1", 1000, 2000);
		if (store_elevation_put(s, &e) != SU_EINVAL)
			all_put = 0;
		if (store_elevation_find(s, bad[i], "c1", 1000, &got) != SU_EINVAL)
			all_find = 0;
		if (store_elevation_list(s, bad[i], 1000, &v, &n, &user) != SU_EINVAL || v != NULL ||
		    n != 0 || user != NULL)
			all_list = 0;
		if (store_session_revoke(s, bad[i], 1000, NULL) != SU_EINVAL)
			all_rev = 0;
		if (bad[i] != NULL && bad[i][0] != '\0' &&
		    store_audit(s, 1000, "start", bad[i], NULL, NULL, NULL, "ok", NULL) != SU_EINVAL)
			all_audit = 0;
	}
	T_OK(all_put, "elevation_put refuses every malformed session_hash");
	T_OK(all_find, "elevation_find refuses every malformed session_hash");
	T_OK(all_list, "elevation_list refuses every malformed session_hash, outputs cleared");
	T_OK(all_rev, "session_revoke refuses every malformed session_hash");
	T_OK(all_audit, "audit refuses every malformed non-empty session_hash");
	T_OK(store_count(s, "elevations") == el && store_count(s, "sessions") == se &&
	     store_count(s, "audit") == au, "nothing was written");

	e = elev_make(H3, "c1", 1000, 2000);
	e.amr = (char *)"not json";
	T_OK(store_elevation_put(s, &e) == SU_EDB, "invalid amr: EDB");
	e.amr = (char *)"{\"a\":1}";
	T_OK(store_elevation_put(s, &e) == SU_EDB, "amr that is not an array: EDB");
	T_OK(store_count(s, "sessions") == se && store_count(s, "elevations") == el,
	     "failed elevation_put left no session row (rolled back)");
	e = elev_make(H3, "c1", 1000, 2000);
	e.user = NULL;
	T_OK(store_elevation_put(s, &e) == SU_EINVAL, "elevation without user refused");
	e = elev_make(H3, NULL, 1000, 2000);
	T_OK(store_elevation_put(s, &e) == SU_EINVAL, "elevation without context refused");
	T_OK(store_elevation_find(s, H3, NULL, 1000, &got) == SU_EINVAL, "find without context refused");
}

/* Audit rows come back newest first, NULLs kept. */
static void
test_audit(struct store *s)
{
	struct store_audit_row *v = NULL;
	size_t n = 0;
	long before = store_count(s, "audit");

	T_OK(store_audit(s, 100, "start", HS, "alice", "c1", "entra", "ok", "redirected") == SU_OK,
	     "audit 1");
	T_OK(store_audit(s, 200, "callback", "", NULL, "c1", NULL, "denied", "acr mismatch") ==
	     SU_OK, "audit 2 (empty session, NULLs)");
	T_OK(store_audit(s, 300, "revoke", HS, NULL, NULL, NULL, "ok", NULL) == SU_OK, "audit 3");
	T_OK(store_audit(s, 300, NULL, NULL, NULL, NULL, NULL, NULL, NULL) == SU_OK,
	     "audit with every pointer NULL");
	T_OK(store_count(s, "audit") == before + 4, "4 audit rows appended");
	T_OK(store_audit_recent(s, 3, &v, &n) == SU_OK && n == 3, "recent(3) gives 3 rows");
	T_OK(n == 3 && v[0].ts == 300 && v[0].event == NULL && v[1].ts == 300 &&
	     str_eq(v[1].event, "revoke") && v[2].ts == 200 && v[0].id > v[1].id,
	     "newest first (ts, then id)");
	T_OK(n == 3 && v[2].session_hash == NULL && v[2].user == NULL &&
	     str_eq(v[2].context, "c1") && str_eq(v[2].outcome, "denied") &&
	     str_eq(v[2].detail, "acr mismatch"), "fields and NULLs read back");
	store_audit_list_free(v, n);
	T_OK(store_audit_recent(s, 100, &v, &n) == SU_OK && n == (size_t)before + 4 &&
	     str_eq(v[n - 1].session_hash, HS) && str_eq(v[n - 1].provider, "entra"),
	     "recent(100) gives all rows, oldest last");
	store_audit_list_free(v, n);
	T_OK(store_audit_recent(s, 0, &v, &n) == SU_OK && n == 0 && v == NULL, "recent(0) is empty");
}

/* Purge removes expired flows and tokens only. */
static void
test_purge(struct store *s)
{
	struct store_flow f;
	struct store_elevation got;
	long el = store_count(s, "elevations"), au = store_count(s, "audit");
	long se = store_count(s, "sessions");

	f = flow_make(H1, HS, 1000, 1500);
	T_OK(store_flow_put(s, &f) == SU_OK, "flow expiring at 1500 put");
	f = flow_make(H2, HS, 1000, 2500);
	T_OK(store_flow_put(s, &f) == SU_OK, "flow expiring at 2500 put");
	T_OK(store_start_token_use(s, "tok-late", 2500) == SU_OK, "token expiring at 2500 used");
	/* tok-A and tok-B (expires 1300) are already recorded */
	T_OK(store_purge(s, 2000) == SU_OK, "purge at 2000");
	T_OK(store_count(s, "pending_flows") == 1 && store_count(s, "start_tokens") == 1,
	     "only the live flow and token remain");
	T_OK(store_start_token_use(s, "tok-late", 2500) == SU_EREPLAY,
	     "live token still single use after purge");
	T_OK(store_count(s, "elevations") == el && store_count(s, "sessions") == se &&
	     store_count(s, "audit") == au, "purge leaves elevations, sessions, audit");
	T_OK(store_elevation_find(s, HS2, "c1", 2000, &got) == SU_OK, "elevation still found");
	store_elevation_cleanup(&got);
	T_OK(store_purge(s, 3000) == SU_OK && store_count(s, "pending_flows") == 0 &&
	     store_count(s, "start_tokens") == 0, "purge at 3000 removes the rest");
}

/* A real file: WAL mode, reopen does not re-apply, a new migration is
 * applied once, a failing migration rolls back and names the file. */
static void
test_file(void)
{
	char db[128], mig[128], p[512], buf[64], plan[256];
	struct store *s = NULL, *s2 = NULL;
	struct store_elevation e, got;
	struct store_flow f, fgot;
	int cnt = -1;
	int L;

	tmp_path(db, sizeof(db), "t.db");
	tmp_path(mig, sizeof(mig), "mig");
	T_OK(store_open(db, MIG, &s) == SU_OK, "open file database");
	raw_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
	T_OK(strcmp(buf, "wal") == 0, "journal_mode is wal (got '%s')", buf);
	e = elev_make(HS, "c1", 1000, 2000);
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation written to file");
	store_close(s);
	s = NULL;

	T_OK(store_open(db, MIG, &s) == SU_OK, "reopen file database");
	T_OK(store_schema_version(s) == latest_version() && store_count(s, "schema_version") == 1,
	     "reopen: still the latest version, one version row");
	T_OK(store_elevation_find(s, HS, "c1", 1500, &got) == SU_OK, "reopen: data kept");
	store_elevation_cleanup(&got);
	store_close(s);
	s = NULL;
	/* the /check lookup (same text as store.c's ST_ELEVATION_FIND) is one index search */
	raw_plan(db,
		 "SELECT id FROM elevations WHERE session_hash = ?1 AND context = ?2 "
		 "AND expires_at > ?3 AND revoked_at = 0 ORDER BY expires_at DESC LIMIT 1",
		 plan, sizeof(plan));
	T_OK(strstr(plan, "SEARCH elevations USING INDEX elevations_lookup") != NULL &&
	     strstr(plan, "expires_at>?") != NULL, "find is one index search (%s)", plan);

	/* a copy of the migrations plus one more (number L+1, L = latest) */
	T_OK(mkdir(mig, 0700) == 0, "mkdir migrations copy");
	{
		DIR *d = opendir(MIG);
		struct dirent *de;
		int copied = 0;

		while (d != NULL && (de = readdir(d)) != NULL) {
			char src[512];

			if (de->d_name[0] == '.' || strstr(de->d_name, ".sql") == NULL)
				continue;
			snprintf(src, sizeof(src), "%s/%s", MIG, de->d_name);
			snprintf(p, sizeof(p), "%s/%s", mig, de->d_name);
			copied += copy_file(src, p) == 0;
		}
		if (d != NULL)
			closedir(d);
		T_OK(copied == latest_version(), "copy the %d migrations", copied);
	}
	L = latest_version();
	snprintf(p, sizeof(p), "%s/%04d_probe.sql", mig, L + 1);
	write_file(p, "CREATE TABLE probe (x INTEGER);\nINSERT INTO probe VALUES (42);\n");
	snprintf(p, sizeof(p), "%s/README", mig);
	write_file(p, "not a migration\n");
	snprintf(p, sizeof(p), "%s/12_short.sql", mig);
	write_file(p, "this is not SQL and must be ignored\n");
	T_OK(store_open(db, mig, &s) == SU_OK && store_schema_version(s) == L + 1,
	     "new migration applied (version L+1)");
	store_close(s);
	s = NULL;
	T_OK(store_open(db, mig, &s) == SU_OK && store_schema_version(s) == L + 1,
	     "reopen with it present: still version L+1");
	store_close(s);
	s = NULL;
	raw_text(db, "SELECT count(*) FROM probe", buf, sizeof(buf));
	T_OK(strcmp(buf, "1") == 0, "the new migration ran exactly once (probe rows: %s)", buf);

	snprintf(p, sizeof(p), "%s/%04d_bad.sql", mig, L + 2);
	write_file(p, "CREATE TABLE half (x);\nINSERT INTO probe VALUES (7);\nSELEC oops;\n");
	fprintf(stderr, "# expected: an error naming the _bad.sql migration follows\n");
	T_OK(store_open(db, mig, &s) != SU_OK && s == NULL, "failing migration: open fails");
	raw_text(db, "SELECT version FROM schema_version", buf, sizeof(buf));
	T_OK(atoi_check(buf) == L + 1, "failing migration: version stays L+1 (got %s)", buf);
	raw_text(db, "SELECT count(*) FROM sqlite_master WHERE name = 'half'", buf, sizeof(buf));
	T_OK(strcmp(buf, "0") == 0, "failing migration: its table rolled back");
	raw_text(db, "SELECT count(*) FROM probe", buf, sizeof(buf));
	T_OK(strcmp(buf, "1") == 0, "failing migration: its insert rolled back");
	unlink(p);

	snprintf(p, sizeof(p), "%s/%04d_txn.sql", mig, L + 2);
	write_file(p, "COMMIT; CREATE TABLE escaped (x);\n");
	T_OK(store_open(db, mig, &s) != SU_OK, "migration that ends the transaction: open fails");
	raw_text(db, "SELECT version FROM schema_version", buf, sizeof(buf));
	T_OK(atoi_check(buf) == L + 1, "... and version stays L+1");
	unlink(p);

	snprintf(p, sizeof(p), "%s/0002_twin.sql", mig);
	write_file(p, "SELECT 1;\n");
	T_OK(store_open(db, mig, &s) != SU_OK, "two migrations with one number: open fails");
	unlink(p);

	/* two connections on one file (as two threads would have) */
	T_OK(store_open(db, MIG, &s) == SU_OK && store_open(db, MIG, &s2) == SU_OK,
	     "two connections open");
	e = elev_make(HS3, "c9", 1000, 2000);
	T_OK(store_elevation_put(s, &e) == SU_OK, "conn 1 writes an elevation");
	T_OK(store_elevation_find(s2, HS3, "c9", 1500, &got) == SU_OK, "conn 2 sees it at once");
	store_elevation_cleanup(&got);
	T_OK(store_elevation_find(s, HS3, "c9", 1500, &got) == SU_OK, "conn 1 finds it (warm)");
	store_elevation_cleanup(&got);
	T_OK(store_session_revoke(s2, HS3, 1600, &cnt) == SU_OK && cnt == 1, "conn 2 revokes");
	T_OK(store_elevation_find(s, HS3, "c9", 1601, &got) == SU_ENOTFOUND,
	     "conn 1 sees the revocation at once");
	f = flow_make(H3, HS3, 1000, 1300);
	T_OK(store_flow_put(s, &f) == SU_OK, "conn 1 stores a flow");
	T_OK(store_flow_take(s2, H3, 1100, &fgot) == SU_OK, "conn 2 takes it");
	store_flow_cleanup(&fgot);
	T_OK(store_flow_take(s, H3, 1100, &fgot) == SU_ENOTFOUND, "conn 1 cannot take it again");
	T_OK(store_start_token_use(s, "shared", 9999) == SU_OK &&
	     store_start_token_use(s2, "shared", 9999) == SU_EREPLAY,
	     "start token used on conn 1 is a replay on conn 2");
	store_close(s2);
	store_close(s);
}

#define NTHREADS 4
#define NTOKENS 50

struct race {
	const char *db;
	enum su_rc open_rc;
	int version;
	int won; /* start tokens this thread was first to use */
	int errors;
};

/* race_main() opens its own connection to a fresh file (so migrations race)
 * and tries to use the same start tokens as every other thread. */
static void *
race_main(void *arg)
{
	struct race *r = arg;
	struct store *s = NULL;
	char id[32];
	enum su_rc rc;

	r->open_rc = store_open(r->db, MIG, &s);
	if (r->open_rc != SU_OK)
		return NULL;
	r->version = store_schema_version(s);
	for (int i = 0; i < NTOKENS; i++) {
		snprintf(id, sizeof(id), "race-%d", i);
		rc = store_start_token_use(s, id, 9999);
		if (rc == SU_OK)
			r->won++;
		else if (rc != SU_EREPLAY)
			r->errors++;
	}
	store_close(s);
	return NULL;
}

/* Several threads open a fresh file at once and race for start tokens. */
static void
test_threads(void)
{
	char db[128];
	pthread_t th[NTHREADS];
	struct race r[NTHREADS];
	int won = 0, errors = 0, opened = 0, versions = 0;
	struct store *s = NULL;

	tmp_path(db, sizeof(db), "race.db");
	memset(r, 0, sizeof(r));
	for (int i = 0; i < NTHREADS; i++) {
		r[i].db = db;
		pthread_create(&th[i], NULL, race_main, &r[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		opened += r[i].open_rc == SU_OK;
		versions += r[i].version == latest_version();
		won += r[i].won;
		errors += r[i].errors;
	}
	T_OK(opened == NTHREADS, "%d threads opened a fresh file at once (%d ok)", NTHREADS, opened);
	T_OK(versions == NTHREADS, "every thread sees the latest schema version");
	T_OK(won == NTOKENS && errors == 0,
	     "each racing start token used exactly once (%d wins, %d errors)", won, errors);
	T_OK(store_open(db, MIG, &s) == SU_OK && store_count(s, "schema_version") == 1 &&
	     store_count(s, "start_tokens") == NTOKENS, "one version row, %d tokens", NTOKENS);
	store_close(s);
}

/* rm_tmp() removes what the tests left under tmpdir. */
static void
rm_tmp(void)
{
	static const char *const files[] = {
		"t.db", "t.db-wal", "t.db-shm", "race.db", "race.db-wal", "race.db-shm",
		"mig/0001_init.sql", "mig/0002_probe.sql", "mig/README", "mig/12_short.sql", "mig",
	};
	char p[192];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		tmp_path(p, sizeof(p), files[i]);
		if (unlink(p) != 0)
			rmdir(p);
	}
	rmdir(tmpdir);
}

int
main(void)
{
	struct store *s = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0); /* TAP lines stay whole between log lines */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	if (store_open(":memory:", MIG, &s) != SU_OK) {
		T_OK(0, "open :memory: for the table tests");
		rm_tmp();
		return T_DONE();
	}
	test_start_tokens(s);
	test_flows(s);
	test_elevations(s);
	test_bad_hashes(s);
	test_audit(s);
	test_purge(s);
	store_close(s);
	test_file();
	test_threads();
	rm_tmp();
	printf("1..%d\n", t_n);
	return T_DONE();
}
