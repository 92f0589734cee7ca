/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_store_admin_views.c: the console's list queries
 * (store_admin_views.h) on :memory: and on a file: the session list with
 * its states (active, expired, revoked), filters (user substring with LIKE
 * wildcards taken literally, context, state), paging and totals; one
 * session; all its elevations; its timeline (audit rows and policy matches
 * in time order, truncated at the limit); revoking a user's active
 * elevations only; the audit search (any column, any case, a hash by its
 * start, wildcards literal, paging); the per-policy match counts; and
 * every bad argument refused. Statements kept in slots 56..63 are
 * finalized by store_close() (a file database reopens cleanly).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_admin_views.h"
#include "store_policy.h"
#include "t.h"

#define MIG "db/migrations"
#define NOW 1700000000

/* hash() makes a valid session hash from a letter and a number. */
static void
hash(char out[65], char c, int n)
{
	memset(out, c, 64);
	out[64] = '\0';
	snprintf(out + 56, 9, "%08x", (unsigned)n);
}

/* elevate() records an elevation of user in session h for context. */
static enum su_rc
elevate(struct store *s, const char *h, const char *user, const char *ctx, int64_t at,
	int64_t expires)
{
	struct store_elevation e = {
		.session_hash = (char *)h, .user = (char *)user, .context = (char *)ctx,
		.provider = (char *)"op", .acr = (char *)"c1", .amr = (char *)"[\"mfa\"]",
		.auth_time = at, .elevated_at = at, .expires_at = expires,
	};

	return store_elevation_put(s, &e);
}

/* list() runs the session list and returns the count (-1 on error). */
static long
list(struct store *s, const char *user, const char *ctx, enum store_admin_state st, size_t off,
     size_t lim, int64_t *total, char *first_user, size_t fusz)
{
	struct store_admin_session_filter f = { .user = user, .context = ctx, .state = st };
	struct store_admin_session *v = NULL;
	size_t n = 0;

	if (store_admin_views_sessions(s, &f, NOW, off, lim, &v, &n, total) != SU_OK)
		return -1;
	if (first_user != NULL)
		snprintf(first_user, fusz, "%s", n > 0 && v[0].user ? v[0].user : "");
	store_admin_views_sessions_free(v, n);
	return (long)n;
}

static void
test_sessions(struct store *s)
{
	char ha[65], hb[65], hc[65], hd[65], first[64];
	struct store_admin_session one;
	struct store_elevation *ev = NULL;
	size_t n = 0;
	int64_t total = -1;
	int count = -1;

	hash(ha, 'a', 1);
	hash(hb, 'b', 2);
	hash(hc, 'c', 3);
	hash(hd, 'd', 4);
	T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, 0, 50, &total, NULL, 0) == 0 && total == 0,
	     "no session: empty list, total 0");
	/* alice: active (c1) ; b%_ob: expired ; carol: revoked ; alice again: active in c2 */
	T_OK(elevate(s, ha, "alice", "c1", NOW - 100, NOW + 500) == SU_OK, "elevate alice (a)");
	T_OK(elevate(s, hb, "b%_ob", "c1", NOW - 2000, NOW - 1000) == SU_OK, "elevate b%%_ob (b), expired");
	T_OK(elevate(s, hc, "carol", "c2", NOW - 50, NOW + 500) == SU_OK, "elevate carol (c)");
	T_OK(store_session_revoke(s, hc, NOW - 10, NULL) == SU_OK, "revoke carol's session");
	T_OK(elevate(s, hd, "alice", "c2", NOW - 10, NOW + 500) == SU_OK, "elevate alice (d) in c2");

	T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, 0, 50, &total, first, sizeof(first)) == 4 &&
		     total == 4 && strcmp(first, "alice") == 0,
	     "four sessions, newest first (%s), total %lld", first, (long long)total);
	T_OK(list(s, "ALI", NULL, STORE_ADMIN_ANY, 0, 50, &total, NULL, 0) == 2 && total == 2,
	     "user filter: substring, any case");
	T_OK(list(s, "%", NULL, STORE_ADMIN_ANY, 0, 50, &total, first, sizeof(first)) == 1 &&
		     strcmp(first, "b%_ob") == 0,
	     "a '%%' in the filter is literal");
	T_OK(list(s, "_", NULL, STORE_ADMIN_ANY, 0, 50, NULL, NULL, 0) == 1, "a '_' is literal");
	T_OK(list(s, "x'; DROP TABLE sessions; --", NULL, STORE_ADMIN_ANY, 0, 50, NULL, NULL, 0) == 0,
	     "SQL in a filter is only text");
	T_OK(list(s, NULL, "c2", STORE_ADMIN_ANY, 0, 50, NULL, NULL, 0) == 2, "context filter: c2");
	T_OK(list(s, NULL, "C2", STORE_ADMIN_ANY, 0, 50, NULL, NULL, 0) == 0, "context filter is exact");
	T_OK(list(s, NULL, NULL, STORE_ADMIN_ACTIVE, 0, 50, &total, NULL, 0) == 2 && total == 2,
	     "state active: 2 (total 2)");
	T_OK(list(s, NULL, NULL, STORE_ADMIN_EXPIRED, 0, 50, NULL, first, sizeof(first)) == 1 &&
		     strcmp(first, "b%_ob") == 0,
	     "state expired: b%%_ob");
	T_OK(list(s, NULL, NULL, STORE_ADMIN_REVOKED, 0, 50, NULL, first, sizeof(first)) == 1 &&
		     strcmp(first, "carol") == 0,
	     "state revoked: carol");
	T_OK(list(s, "alice", "c1", STORE_ADMIN_ACTIVE, 0, 50, NULL, NULL, 0) == 1, "filters combine (AND)");
	T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, 1, 2, &total, first, sizeof(first)) == 2 &&
		     total == 4 && strcmp(first, "carol") == 0,
	     "paging: offset 1, limit 2, total still 4 (%s)", first);
	T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, 10, 2, NULL, NULL, 0) == 0, "past the end: nothing");

	T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, 0, 0, NULL, NULL, 0) == -1, "limit 0 refused");
	T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, 0, STORE_ADMIN_PAGE_MAX + 1, NULL, NULL, 0) == -1,
	     "limit over the maximum refused");
	T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, STORE_ADMIN_OFFSET_MAX + 1, 5, NULL, NULL, 0) == -1,
	     "offset over the maximum refused");
	{
		char big[STORE_ADMIN_TERM_MAX + 2];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		T_OK(list(s, big, NULL, STORE_ADMIN_ANY, 0, 5, NULL, NULL, 0) == -1, "an over-long filter refused");
		T_OK(list(s, NULL, NULL, (enum store_admin_state)9, 0, 5, NULL, NULL, 0) == -1,
		     "an unknown state refused");
	}

	T_OK(store_admin_views_session_get(s, ha, NOW, &one) == SU_OK && one.state == STORE_ADMIN_ACTIVE &&
		     one.active == 1 && strcmp(one.user, "alice") == 0 && strcmp(one.context, "c1") == 0 &&
		     one.expires_at == NOW + 500,
	     "one session: state, active count, latest elevation");
	free(one.session_hash);
	free(one.user);
	free(one.contexts);
	free(one.context);
	free(one.provider);
	free(one.acr);
	T_OK(store_admin_views_session_get(s, hc, NOW, &one) == SU_OK && one.state == STORE_ADMIN_REVOKED &&
		     one.revoked_at == NOW - 10,
	     "a revoked session");
	free(one.session_hash);
	free(one.user);
	free(one.contexts);
	free(one.context);
	free(one.provider);
	free(one.acr);
	{
		char hz[65];

		hash(hz, 'e', 9);
		T_OK(store_admin_views_session_get(s, hz, NOW, &one) == SU_ENOTFOUND, "an unknown session");
		T_OK(store_admin_views_session_get(s, "ABC", NOW, &one) == SU_EINVAL, "a malformed hash");
		hz[0] = 'A';
		T_OK(store_admin_views_session_get(s, hz, NOW, &one) == SU_EINVAL, "an upper-case hash");
	}

	/* a second elevation of session a, then every elevation listed */
	T_OK(elevate(s, ha, "alice", "c2", NOW - 5, NOW - 1) == SU_OK, "a second (expired) elevation of a");
	T_OK(store_admin_views_elevations(s, ha, &ev, &n) == SU_OK && n == 2 &&
		     strcmp(ev[0].context, "c2") == 0 && strcmp(ev[0].amr, "[\"mfa\"]") == 0,
	     "elevations: both, newest first, expired included");
	store_elevation_list_free(ev, n);
	T_OK(list(s, NULL, NULL, STORE_ADMIN_ACTIVE, 0, 50, NULL, NULL, 0) == 2,
	     "a session with one active elevation stays active though its latest expired");
	T_OK(store_admin_views_elevations(s, "nothex", &ev, &n) == SU_EINVAL, "elevations: bad hash refused");

	/* revoke every elevation of alice still active: a (c1) and d (c2) */
	T_OK(store_admin_views_revoke_user(s, "alice", NOW, &count) == SU_OK && count == 2,
	     "revoke alice: her 2 active elevations (%d)", count);
	T_OK(store_admin_views_revoke_user(s, "alice", NOW, &count) == SU_OK && count == 0,
	     "again: nothing left");
	T_OK(list(s, NULL, NULL, STORE_ADMIN_EXPIRED, 0, 50, NULL, first, sizeof(first)) == 1 &&
		     strcmp(first, "b%_ob") == 0,
	     "the expired session is not turned into a revoked one");
	T_OK(list(s, "alice", NULL, STORE_ADMIN_REVOKED, 0, 50, NULL, NULL, 0) == 2,
	     "alice's sessions are revoked: their last-ended elevation was revoked");
	T_OK(store_elevation_find(s, ha, "c1", NOW, &(struct store_elevation){ 0 }) == SU_ENOTFOUND,
	     "alice's elevation no longer answers /check");
	T_OK(store_admin_views_revoke_user(s, "", NOW, &count) == SU_EINVAL, "an empty user refused");
	T_OK(store_admin_views_revoke_user(s, "alice", 0, &count) == SU_EINVAL, "time 0 refused");
}

static void
test_timeline(struct store *s)
{
	char h[65], other[65];
	struct store_admin_event *v = NULL;
	size_t n = 0;
	bool trunc = true;
	struct store_policy_match m[2];

	hash(h, 'f', 1);
	hash(other, 'f', 2);
	memset(m, 0, sizeof(m));
	m[0] = (struct store_policy_match){ .ts = NOW - 30, .policy_id = 7, .policy_name = (char *)"p7",
		.session_hash = h, .user = (char *)"u", .app = (char *)"files",
		.file_name = (char *)"a.pdf", .decision = (char *)"step_up", .context = (char *)"c1",
		.outcome = (char *)"pending" };
	m[1] = m[0];
	m[1].session_hash = other;
	T_OK(store_audit(s, NOW - 40, "start", h, "u", "c1", "op", "redirected", NULL) == SU_OK &&
		     store_audit(s, NOW - 30, "callback", h, "u", "c1", "op", "elevated", "acr c1") == SU_OK &&
		     store_audit(s, NOW - 20, "start", other, "v", "c1", "op", "redirected", NULL) == SU_OK,
	     "three audit rows, two for this session");
	T_OK(store_policy_matches_insert_batch(s, m, 2) == SU_OK, "two matches, one for this session");
	T_OK(store_admin_views_timeline(s, h, &v, &n, &trunc) == SU_OK && n == 3 && !trunc,
	     "timeline: 3 events (%zu), not truncated", n);
	if (n == 3) {
		T_OK(strcmp(v[0].event, "start") == 0 && strcmp(v[0].kind, "audit") == 0, "oldest first: the start");
		T_OK(strcmp(v[1].kind, "audit") == 0 && strcmp(v[1].event, "callback") == 0,
		     "same second: the audit row before the match");
		T_OK(strcmp(v[2].kind, "match") == 0 && strcmp(v[2].event, "p7") == 0 &&
			     strcmp(v[2].decision, "step_up") == 0 && strcmp(v[2].file_name, "a.pdf") == 0 &&
			     v[2].detail == NULL,
		     "the match: policy, decision, file");
	}
	store_admin_views_timeline_free(v, n);
	for (int i = 0; i < STORE_ADMIN_TIMELINE_MAX; i++)
		store_audit(s, NOW + i, "x", h, NULL, NULL, NULL, "ok", NULL);
	T_OK(store_admin_views_timeline(s, h, &v, &n, &trunc) == SU_OK && n == STORE_ADMIN_TIMELINE_MAX &&
		     trunc && v[n - 1].ts == NOW + STORE_ADMIN_TIMELINE_MAX - 1,
	     "over the limit: the latest %d, truncated", STORE_ADMIN_TIMELINE_MAX);
	store_admin_views_timeline_free(v, n);
	T_OK(store_admin_views_timeline(s, "zz", &v, &n, NULL) == SU_EINVAL, "timeline: bad hash refused");
}

/* test_timeline_same_second(): one second's rows read in the order they
 * happen: the check that asked for the step-up (it has a match key), the
 * step-up's audit rows, then a check made once elevated (no key). */
static void
test_timeline_same_second(struct store *s)
{
	char h[65];
	struct store_admin_event *v = NULL;
	size_t n = 0;
	struct store_policy_match m[2];

	hash(h, 'f', 3);
	memset(m, 0, sizeof(m));
	/* the elevated check is inserted first, the asking one second */
	m[0] = (struct store_policy_match){ .ts = NOW - 5, .policy_id = 7, .policy_name = (char *)"p7",
		.session_hash = h, .user = (char *)"u", .decision = (char *)"step_up",
		.context = (char *)"c1", .outcome = (char *)"stepped_up" };
	m[1] = m[0];
	m[1].outcome = (char *)"pending";
	m[1].match_key = (char *)"k-same-second";
	T_OK(store_audit(s, NOW - 5, "start", h, "u", "c1", "op", "redirected", NULL) == SU_OK &&
		     store_audit(s, NOW - 5, "callback", h, "u", "c1", "op", "elevated", NULL) == SU_OK &&
		     store_policy_matches_insert_batch(s, m, 2) == SU_OK,
	     "same second: start, callback, two checks");
	T_OK(store_admin_views_timeline(s, h, &v, &n, NULL) == SU_OK && n == 4, "4 events (%zu)", n);
	if (n == 4) {
		T_OK(strcmp(v[0].kind, "match") == 0 && strcmp(v[0].outcome, "pending") == 0,
		     "the check that asked for the step-up comes first");
		T_OK(strcmp(v[1].event, "start") == 0 && strcmp(v[2].event, "callback") == 0,
		     "then the step-up, by id");
		T_OK(strcmp(v[3].kind, "match") == 0 && strcmp(v[3].outcome, "stepped_up") == 0,
		     "then the check made once elevated");
	}
	store_admin_views_timeline_free(v, n);
}

/* search() runs the audit search and returns the count (-1 on error). */
static long
search(struct store *s, const char *q, size_t off, size_t lim, int64_t *total)
{
	struct store_audit_row *v = NULL;
	size_t n = 0;

	if (store_admin_views_audit(s, q, off, lim, &v, &n, total) != SU_OK)
		return -1;
	store_audit_list_free(v, n);
	return (long)n;
}

static void
test_audit(struct store *s)
{
	char h[65];
	int64_t total = -1;
	struct store_audit_row *v = NULL;
	size_t n = 0;

	hash(h, '9', 5);
	store_audit(s, NOW, "admin_revoke", h, "root", NULL, NULL, "ok", "session of user Zed: 1 revoked");
	store_audit(s, NOW + 1, "start", NULL, "50%off", "c9", "saml-idp", "denied", NULL);
	T_OK(search(s, "zed", 0, 50, &total) == 1 && total == 1, "found in the detail, any case");
	T_OK(search(s, "SAML-IDP", 0, 50, NULL) == 1, "found by provider");
	T_OK(search(s, "c9", 0, 50, NULL) == 1, "found by context");
	T_OK(search(s, "denied", 0, 50, NULL) == 1, "found by outcome");
	T_OK(search(s, "admin_rev", 0, 50, NULL) == 1, "found by event");
	T_OK(search(s, "%", 0, 50, NULL) == 1, "'%%' is literal (only 50%%off)");
	T_OK(search(s, "9999", 0, 50, NULL) == 1, "a session hash by its start");
	T_OK(search(s, "00000005", 0, 50, NULL) == 0, "... not by its middle");
	T_OK(search(s, "nothing-like-this", 0, 50, &total) == 0 && total == 0, "no match: total 0");
	T_OK(search(s, NULL, 0, 2, &total) == 2 && total > 1000, "no term: every row, paged (%lld)",
	     (long long)total);
	T_OK(store_admin_views_audit(s, "", 0, 1, &v, &n, NULL) == SU_OK && n == 1 &&
		     v[0].ts == NOW + STORE_ADMIN_TIMELINE_MAX - 1,
	     "newest first");
	store_audit_list_free(v, n);
	T_OK(search(s, NULL, 0, 0, NULL) == -1, "limit 0 refused");
	{
		char big[STORE_ADMIN_TERM_MAX + 2];

		memset(big, 'q', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		T_OK(search(s, big, 0, 5, NULL) == -1, "an over-long term refused");
	}
}

static void
test_stats_and_like(struct store *s)
{
	struct store_admin_policy_stat *v = NULL;
	size_t n = 0;
	struct store_policy_match m = { .policy_name = (char *)"p9", .decision = (char *)"block",
					.outcome = (char *)"blocked" };
	char *p = NULL;
	bool ok = true;

	m.policy_id = 9;
	for (int i = 0; i < 3; i++) {
		m.ts = NOW - 3600 * i;        /* 3 today */
		ok = ok && store_policy_matches_insert_batch(s, &m, 1) == SU_OK;
	}
	m.ts = NOW - 3 * 86400;               /* 1 this week */
	ok = ok && store_policy_matches_insert_batch(s, &m, 1) == SU_OK;
	m.ts = NOW - 30 * 86400;              /* 1 too old */
	ok = ok && store_policy_matches_insert_batch(s, &m, 1) == SU_OK;
	T_OK(ok, "matches of policy 9 inserted");
	T_OK(store_admin_views_policy_stats(s, NOW, &v, &n) == SU_OK, "policy stats");
	for (size_t i = 0; i < n; i++)
		if (v[i].policy_id == 9)
			T_OK(v[i].day == 3 && v[i].week == 4 && v[i].last_ts == NOW,
			     "policy 9: 3 today, 4 this week, last now");
	free(v);

	T_OK(store_admin_views_like("a%b_c\\d", true, &p) == SU_OK && strcmp(p, "%a\\%b\\_c\\\\d%") == 0,
	     "like(): wildcards escaped (%s)", p ? p : "");
	free(p);
	T_OK(store_admin_views_like("ab", false, &p) == SU_OK && strcmp(p, "ab%") == 0, "like(): prefix");
	free(p);
	T_OK(store_admin_views_like(NULL, true, &p) == SU_EINVAL && p == NULL, "like(): NULL refused");
	{
		enum store_admin_state st;

		T_OK(store_admin_state_parse("revoked", &st) && st == STORE_ADMIN_REVOKED, "parse revoked");
		T_OK(store_admin_state_parse("", &st) && st == STORE_ADMIN_ANY, "parse empty: any");
		T_OK(!store_admin_state_parse("Active", &st), "parse is exact");
	}
}

int
main(void)
{
	struct store *s = NULL;
	char path[] = "/tmp/test_store_admin_views.XXXXXX";
	int fd;

	if (store_open(":memory:", MIG, &s) != SU_OK) {
		T_OK(0, "open :memory:");
		return T_DONE();
	}
	test_sessions(s);
	test_timeline(s);
	test_timeline_same_second(s);
	test_audit(s);
	test_stats_and_like(s);
	store_close(s);

	/* a file database: statements in the slots are finalized at close */
	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	s = NULL;
	T_OK(fd >= 0 && store_open(path, MIG, &s) == SU_OK, "open a file database");
	if (s != NULL) {
		T_OK(list(s, NULL, NULL, STORE_ADMIN_ANY, 0, 5, NULL, NULL, 0) == 0 &&
			     search(s, "x", 0, 5, NULL) == 0,
		     "queries on the file database");
		store_close(s);
		s = NULL;
		T_OK(store_open(path, MIG, &s) == SU_OK, "it reopens after close");
		store_close(s);
	}
	if (fd >= 0) {
		char wal[64], shm[64];

		snprintf(wal, sizeof(wal), "%s-wal", path);
		snprintf(shm, sizeof(shm), "%s-shm", path);
		unlink(path);
		unlink(wal);
		unlink(shm);
	}
	return T_DONE();
}
