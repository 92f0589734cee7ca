/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_elevcache.c: unit tests for the /check cache. First elevcache.c on
 * its own (hits only under the same epoch and before expiry, bad keys and
 * oversize values never cached, a full set never answers the wrong user),
 * then store_elevation_check() through the store: on ":memory:" (the
 * PRAGMA data_version path), on a file with two connections, and with a
 * second process writing (a store connection, then a plain sqlite3 one):
 * every revocation and every new elevation is seen by the very next check
 * of a connection that had the old answer cached. Run from the project root
 * (it reads db/migrations).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "elevcache.h"
#include "store.h"
#include "t.h"

#define MIG "db/migrations"

static const char HA[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char HB[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char HC[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* elev() is an elevation of session for context, for user, until expires. */
static struct store_elevation
elev(const char *session, const char *context, const char *user, int64_t expires)
{
	struct store_elevation e = {
		.session_hash = (char *)session,
		.user = (char *)user,
		.context = (char *)context,
		.provider = (char *)"op",
		.acr = (char *)"c1",
		.amr = (char *)"[\"pwd\"]",
		.auth_time = 900,
		.elevated_at = 1000,
		.expires_at = expires,
	};
	return e;
}

/* check() runs store_elevation_check() and compares the answer: want_rc,
 * and on SU_OK the user and expiry. */
static int
check(struct store *s, const char *hash, const char *ctx, int64_t now, enum su_rc want_rc,
      const char *want_user, int64_t want_exp)
{
	char *user = NULL;
	int64_t exp = -1;
	enum su_rc rc = store_elevation_check(s, hash, ctx, now, &user, &exp);
	int ok = rc == want_rc;

	if (ok && rc == SU_OK)
		ok = user != NULL && strcmp(user, want_user) == 0 && exp == want_exp;
	if (ok && rc != SU_OK)
		ok = user == NULL && exp == 0;
	if (!ok)
		printf("# got rc %d user %s exp %lld\n", rc, user ? user : "(null)", (long long)exp);
	free(user);
	return ok;
}

/* The cache on its own. */
static void
test_cache(void)
{
	struct elevcache *c = NULL, *one = NULL;
	char user[ELEVCACHE_USER_MAX + 1], big[200], keys[6][65];
	int64_t exp = 0;
	int hits = 0, right = 1;

	T_OK(elevcache_new(0, &c) == SU_EINVAL && c == NULL, "a cache of 0 entries is refused");
	T_OK(elevcache_new(100, &c) == SU_OK && c != NULL, "new cache");
	T_OK(elevcache_get(c, HA, "c1", 1, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "empty cache: miss");
	elevcache_put(c, HA, "c1", 1, "alice", 100);
	T_OK(elevcache_get(c, HA, "c1", 1, 10, user, sizeof(user), &exp) == SU_OK &&
	     strcmp(user, "alice") == 0 && exp == 100, "put then get: hit with user and expiry");
	T_OK(elevcache_get(c, HA, "c1", 2, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "another epoch: miss");
	T_OK(elevcache_get(c, HA, "c1", 0, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "epoch 0 never hits");
	T_OK(elevcache_get(c, HA, "c1", 1, 100, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "at expires_at: miss");
	T_OK(elevcache_get(c, HA, "c2", 1, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "another context: miss");
	T_OK(elevcache_get(c, HB, "c1", 1, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "another session: miss");
	T_OK(elevcache_get(c, HA, "c1", 1, 10, user, 5, &exp) == SU_ENOTFOUND,
	     "user buffer too small: miss, not a truncated user");
	elevcache_put(c, HA, "c1", 3, "alice2", 200);
	T_OK(elevcache_get(c, HA, "c1", 3, 10, user, sizeof(user), &exp) == SU_OK &&
	     strcmp(user, "alice2") == 0 && exp == 200, "put again: replaced");
	T_OK(elevcache_get(c, HA, "c1", 1, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "the old epoch's entry is gone");

	/* keys that are not 64 lowercase hex characters are never cached */
	elevcache_put(c, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "c1", 3, "x",
		      200);
	T_OK(elevcache_get(c, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "c1", 3,
			   10, user, sizeof(user), &exp) == SU_ENOTFOUND, "uppercase key refused");
	elevcache_put(c, "abc", "c1", 3, "x", 200);
	T_OK(elevcache_get(c, "abc", "c1", 3, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "short key refused");
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	elevcache_put(c, HB, "c1", 3, big, 200);
	T_OK(elevcache_get(c, HB, "c1", 3, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "user over ELEVCACHE_USER_MAX not cached");
	elevcache_put(c, HB, big, 3, "bob", 200);
	T_OK(elevcache_get(c, HB, big, 3, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "context over ELEVCACHE_CONTEXT_MAX not cached");
	T_OK(elevcache_get(NULL, HA, "c1", 3, 10, user, sizeof(user), &exp) == SU_ENOTFOUND &&
	     elevcache_get(c, NULL, "c1", 3, 10, user, sizeof(user), &exp) == SU_ENOTFOUND &&
	     elevcache_get(c, HA, NULL, 3, 10, user, sizeof(user), &exp) == SU_ENOTFOUND,
	     "NULL cache, key or context: miss");
	elevcache_free(c);

	/* one set of ELEVCACHE_WAYS ways and more keys than ways: some miss,
	 * none answers another key's user */
	T_OK(elevcache_new(1, &one) == SU_OK, "one-set cache");
	for (int i = 0; i < 6; i++) {
		char u[8];

		snprintf(keys[i], sizeof(keys[i]), "%064x", i + 1);
		snprintf(u, sizeof(u), "u%d", i);
		elevcache_put(one, keys[i], "c1", 1, u, 100);
	}
	for (int i = 0; i < 6; i++) {
		char u[8];

		snprintf(u, sizeof(u), "u%d", i);
		if (elevcache_get(one, keys[i], "c1", 1, 10, user, sizeof(user), &exp) == SU_OK) {
			hits++;
			right &= strcmp(user, u) == 0;
		}
	}
	T_OK(hits == ELEVCACHE_WAYS && right, "full set: %d of 6 keys kept, each with its own user",
	     hits);
	elevcache_free(one);
}

/* store_elevation_check() on one connection (":memory:" has no WAL: the
 * PRAGMA data_version path; its own writes are seen through the change
 * count). */
static void
test_store_memory(void)
{
	struct store *s = NULL;
	struct store_elevation e;
	char big[301];
	char *user = NULL;
	int64_t exp = 7;
	int n = -1;

	T_OK(store_open(":memory:", MIG, &s) == SU_OK, "open :memory:");
	T_OK(check(s, HA, "c1", 1500, SU_ENOTFOUND, NULL, 0), "nothing stored: ENOTFOUND");
	e = elev(HA, "c1", "alice", 3000);
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation put");
	T_OK(check(s, HA, "c1", 1500, SU_OK, "alice", 3000), "found");
	T_OK(check(s, HA, "c1", 1500, SU_OK, "alice", 3000), "found again (cached)");
	T_OK(check(s, HA, "c1", 3000, SU_ENOTFOUND, NULL, 0), "at expires_at: ENOTFOUND");
	T_OK(check(s, HA, "c2", 1500, SU_ENOTFOUND, NULL, 0), "another context: ENOTFOUND");
	T_OK(check(s, HB, "c1", 1500, SU_ENOTFOUND, NULL, 0), "another session: ENOTFOUND");
	e = elev(HA, "c1", "alice", 4000);
	T_OK(store_elevation_put(s, &e) == SU_OK, "a later elevation put");
	T_OK(check(s, HA, "c1", 1500, SU_OK, "alice", 4000), "the later expiry is answered at once");
	T_OK(store_session_revoke(s, HA, 1600, &n) == SU_OK && n == 2, "session revoked");
	T_OK(check(s, HA, "c1", 1700, SU_ENOTFOUND, NULL, 0),
	     "revoked on the same connection: ENOTFOUND at once");

	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e = elev(HB, "c1", big, 3000);
	T_OK(store_elevation_put(s, &e) == SU_OK, "elevation with a 300-character user put");
	T_OK(check(s, HB, "c1", 1500, SU_OK, big, 3000) && check(s, HB, "c1", 1500, SU_OK, big, 3000),
	     "a user too long to cache is answered whole, twice");
	T_OK(store_session_revoke(s, HB, 1600, &n) == SU_OK && n == 1 &&
	     check(s, HB, "c1", 1700, SU_ENOTFOUND, NULL, 0), "and its revocation is seen");

	T_OK(store_elevation_check(s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
				   "c1", 1500, &user, &exp) == SU_EINVAL && user == NULL && exp == 0,
	     "uppercase hash refused");
	T_OK(store_elevation_check(s, "abc", "c1", 1500, &user, &exp) == SU_EINVAL, "short hash refused");
	T_OK(store_elevation_check(s, NULL, "c1", 1500, &user, &exp) == SU_EINVAL, "NULL hash refused");
	T_OK(store_elevation_check(s, HA, NULL, 1500, &user, &exp) == SU_EINVAL,
	     "NULL context refused");
	T_OK(store_elevation_check(NULL, HA, "c1", 1500, &user, &exp) == SU_EINVAL,
	     "NULL store refused");
	T_OK(store_elevation_check(s, HA, "c1", 1500, NULL, &exp) == SU_EINVAL &&
	     store_elevation_check(s, HA, "c1", 1500, &user, NULL) == SU_EINVAL,
	     "NULL outputs refused");
	store_close(s);
}

/* child_revoke() is the body of a second process: revoke session hash on
 * the file db, through a store connection or a plain sqlite3 one. */
static int
child_revoke(const char *db, const char *hash, int plain)
{
	struct store *s = NULL;
	sqlite3 *raw = NULL;
	char sql[256];
	int n = 0, ok;

	if (!plain) {
		ok = store_open(db, MIG, &s) == SU_OK && store_session_revoke(s, hash, 1600, &n) == SU_OK &&
		     n >= 1;
		store_close(s);
		return ok ? 0 : 1;
	}
	snprintf(sql, sizeof(sql), "UPDATE elevations SET revoked_at = 1600 WHERE session_hash = '%s'",
		 hash);
	ok = sqlite3_open(db, &raw) == SQLITE_OK && sqlite3_busy_timeout(raw, 5000) == SQLITE_OK &&
	     sqlite3_exec(raw, sql, NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(raw) >= 1;
	sqlite3_close(raw);
	return ok ? 0 : 1;
}

/* in_child() runs child_revoke() in a forked process; true when it
 * succeeded. */
static int
in_child(const char *db, const char *hash, int plain)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0)
		_exit(child_revoke(db, hash, plain));
	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A WAL file with a second connection and second processes writing. */
static void
test_store_file(void)
{
	char dir[] = "/tmp/stepupd-test-elevcache.XXXXXX", db[96], p[128];
	struct store *a = NULL, *b = NULL;
	struct store_elevation e;
	int n = -1;

	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp");
		return;
	}
	snprintf(db, sizeof(db), "%s/t.db", dir);
	T_OK(store_open(db, MIG, &a) == SU_OK && store_open(db, MIG, &b) == SU_OK,
	     "two connections on one file");
	e = elev(HA, "c1", "alice", 3000);
	T_OK(store_elevation_put(b, &e) == SU_OK, "B puts an elevation");
	T_OK(check(a, HA, "c1", 1500, SU_OK, "alice", 3000) &&
	     check(a, HA, "c1", 1500, SU_OK, "alice", 3000), "A finds it (then from its cache)");
	T_OK(store_session_revoke(b, HA, 1600, &n) == SU_OK && n == 1, "B revokes it");
	T_OK(check(a, HA, "c1", 1700, SU_ENOTFOUND, NULL, 0), "A's next check: ENOTFOUND");

	e = elev(HB, "c1", "bob", 3000);
	T_OK(store_elevation_put(b, &e) == SU_OK && check(a, HB, "c1", 1500, SU_OK, "bob", 3000),
	     "A caches bob's elevation");
	e = elev(HB, "c1", "bob", 5000);
	T_OK(store_elevation_put(b, &e) == SU_OK && check(a, HB, "c1", 1500, SU_OK, "bob", 5000),
	     "B's later elevation is what A's next check answers");
	T_OK(in_child(db, HB, 0), "another process revokes bob through the store");
	T_OK(check(a, HB, "c1", 1700, SU_ENOTFOUND, NULL, 0),
	     "A's next check after the other process: ENOTFOUND");

	e = elev(HC, "c2", "carol", 3000);
	T_OK(store_elevation_put(a, &e) == SU_OK && check(a, HC, "c2", 1500, SU_OK, "carol", 3000) &&
	     check(b, HC, "c2", 1500, SU_OK, "carol", 3000), "A and B both cache carol's elevation");
	T_OK(in_child(db, HC, 1), "another process revokes carol with plain SQL");
	T_OK(check(a, HC, "c2", 1700, SU_ENOTFOUND, NULL, 0) &&
	     check(b, HC, "c2", 1700, SU_ENOTFOUND, NULL, 0), "both see it at their next check");
	store_close(a);
	store_close(b);
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
	rmdir(dir);
}

int
main(void)
{
	test_cache();
	test_store_memory();
	test_store_file();
	printf("1..%d\n", t_n);
	return T_DONE();
}
