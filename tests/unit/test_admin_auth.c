/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_admin_auth.c: the admin console's sign-in pieces: Argon2id hashing
 * and checking (the cost in the encoded hash, a wrong password, a
 * tampered or foreign hash, the dummy hash for unknown users), which
 * passwords may be set, reading a password line, the slowdown arithmetic,
 * the admin tables (sessions expire by idle time and absolute time and are
 * deleted then; removing an account ends its sessions; failure counters
 * and their window), the admin OIDC sign-in's claims rules (no acr asked,
 * the group claim as a string or an array).
 */
#include <argon2.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminpw.h"
#include "cfg.h"
#include "handlers.h"
#include "oidc.h"
#include "store.h"
#include "store_admin.h"
#include "t.h"

#define MIG "db/migrations"
#define NOW 1700000000LL
#define H64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	       c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static void
check_hash(void)
{
	char h[ADMINPW_ENCODED_MAX], h2[ADMINPW_ENCODED_MAX], bad[ADMINPW_ENCODED_MAX];
	char small[40];

	T_OK(adminpw_hash("correct horse battery", h, sizeof(h)) == SU_OK, "hash a password");
	T_OK(strncmp(h, "$argon2id$v=19$m=65536,t=3,p=1$", 31) == 0,
	     "Argon2id, version 19, 64 MiB, 3 passes, 1 lane: %.40s", h);
	T_OK(adminpw_verify(h, "correct horse battery") == SU_OK, "the right password matches");
	T_OK(adminpw_verify(h, "correct horse batterz") == SU_EDENIED, "a wrong password does not");
	T_OK(adminpw_verify(h, "") == SU_EDENIED, "an empty password does not");
	T_OK(adminpw_hash("correct horse battery", h2, sizeof(h2)) == SU_OK && strcmp(h, h2) != 0,
	     "the same password hashes differently (random salt)");
	snprintf(bad, sizeof(bad), "%s", h);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
	T_OK(adminpw_verify(bad, "correct horse battery") == SU_EDENIED, "a tampered hash does not match");
	snprintf(bad, sizeof(bad), "%s", h);
	memcpy(bad, "$argon2i$", 9);
	T_OK(adminpw_verify(bad, "correct horse battery") == SU_EINVAL, "only Argon2id hashes are accepted");
	T_OK(adminpw_verify("$argon2id$garbage", "x") == SU_EINVAL, "a malformed hash is refused");
	T_OK(adminpw_verify(NULL, "x") == SU_EINVAL && adminpw_verify(h, NULL) == SU_EINVAL,
	     "NULL refused");
	T_OK(adminpw_hash("correct horse battery", small, sizeof(small)) == SU_ETOOBIG,
	     "a too small output buffer is refused");
	/* the dummy must take the full path: it is a well-formed hash that mismatches */
	T_OK(adminpw_dummy_verify("correct horse battery") == SU_EDENIED,
	     "the dummy hash is a well-formed Argon2id hash that does not match");
}

static void
check_acceptable(void)
{
	char longpw[ADMINPW_MAX_LEN + 2];

	T_OK(!adminpw_acceptable("short-pw-11"), "11 characters refused");
	T_OK(adminpw_acceptable("twelve-chars"), "12 characters accepted");
	T_OK(!adminpw_acceptable("twelve-chars\t"), "a control character refused");
	T_OK(!adminpw_acceptable(NULL), "NULL refused");
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	T_OK(!adminpw_acceptable(longpw), "1025 bytes refused");
	longpw[ADMINPW_MAX_LEN] = '\0';
	T_OK(adminpw_acceptable(longpw), "1024 bytes accepted");
}

static void
check_read(void)
{
	char in[] = "first line pw\r\nsecond\n", big[3000], buf[64];
	FILE *f = fmemopen(in, strlen(in), "r");

	T_OK(f && adminpw_read(f, buf, sizeof(buf)) == SU_OK && strcmp(buf, "first line pw") == 0,
	     "one line, CRLF stripped");
	T_OK(adminpw_read(f, buf, sizeof(buf)) == SU_OK && strcmp(buf, "second") == 0, "the next line");
	T_OK(adminpw_read(f, buf, sizeof(buf)) == SU_EIO, "end of input");
	fclose(f);
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	f = fmemopen(big, strlen(big), "r");
	T_OK(f && adminpw_read(f, buf, sizeof(buf)) == SU_ETOOBIG && buf[0] == '\0',
	     "a line longer than the buffer is refused, never cut");
	fclose(f);
}

static void
check_wait(void)
{
	T_OK(adminpw_wait(0, 0, NOW, 60) == 0, "no failures: no wait");
	T_OK(adminpw_wait(4, NOW, NOW, 60) == 0, "4 failures: no wait yet");
	T_OK(adminpw_wait(5, NOW, NOW, 60) == 60, "5 failures: the base wait");
	T_OK(adminpw_wait(5, NOW - 59, NOW, 60) == 1, "the wait counts from the last failure");
	T_OK(adminpw_wait(5, NOW - 60, NOW, 60) == 0, "and ends");
	T_OK(adminpw_wait(6, NOW, NOW, 60) == 120, "6 failures: doubled");
	T_OK(adminpw_wait(7, NOW, NOW, 60) == 240, "7 failures: doubled again");
	T_OK(adminpw_wait(9, NOW, NOW, 60) == 900, "9 failures: capped at 15 minutes");
	T_OK(adminpw_wait(1000000, NOW, NOW, 60) == 900, "a huge count: still the cap, no overflow");
	T_OK(adminpw_wait(INT64_MAX, NOW, NOW, 900) == 900, "INT64_MAX failures: the cap");
	T_OK(adminpw_wait(5, NOW, NOW, 1) == 1 && adminpw_wait(6, NOW, NOW, 1) == 2,
	     "the test base of 1 second doubles too");
	T_OK(adminpw_wait(5, NOW, NOW, 0) == 0, "a base of 0 is no wait (refused by the config)");
}

static void
check_store(void)
{
	struct store *s = NULL;
	struct store_admin_session as;
	struct store_admin_user *v = NULL;
	char *hash = NULL;
	bool created = false;
	int64_t f = 0, last = 0;
	size_t n = 0;
	const char *id1 = H64("a"), *id2 = H64("b"), *id3 = H64("c");
	const char *csrf = "0123456789abcdef0123456789abcdef0123456789a";
	const char *hh = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";

	T_OK(store_open(":memory:", MIG, &s) == SU_OK, "open the store");
	if (s == NULL)
		return;
	T_OK(store_schema_version(s) >= 6, "migration 0006 applied");
	T_OK(store_admin_user_set(s, "ann", hh, NOW, &created) == SU_OK && created, "create an admin");
	T_OK(store_admin_user_set(s, "ann", hh, NOW + 5, &created) == SU_OK && !created,
	     "set the password of an existing admin");
	T_OK(store_admin_user_set(s, "bob", "plaintext-password", NOW, NULL) == SU_EINVAL,
	     "a value that is not an Argon2id hash is never stored");
	T_OK(store_admin_user_set(s, "", hh, NOW, NULL) == SU_EINVAL, "an empty name is refused");
	T_OK(store_admin_user_hash(s, "ann", &hash) == SU_OK && hash && strcmp(hash, hh) == 0,
	     "read the hash back");
	free(hash);
	hash = NULL;
	T_OK(store_admin_user_hash(s, "nobody", &hash) == SU_ENOTFOUND && hash == NULL, "unknown user");
	T_OK(store_admin_user_list(s, &v, &n) == SU_OK && n == 1 && strcmp(v[0].name, "ann") == 0 &&
		     v[0].created_at == NOW && v[0].updated_at == NOW + 5,
	     "list the admins");
	store_admin_user_list_free(v, n);

	/* sessions */
	T_OK(store_admin_session_put(s, id1, "ann", csrf, "local", NOW, NOW + 28800) == SU_OK,
	     "record a session");
	T_OK(store_admin_session_put(s, id1, "ann", csrf, "local", NOW, NOW + 28800) == SU_EINVAL,
	     "the same id twice is refused");
	T_OK(store_admin_session_put(s, "short", "ann", csrf, "local", NOW, NOW + 10) == SU_EINVAL,
	     "an id that is not a SHA-256 hex is refused");
	T_OK(store_admin_session_put(s, id2, "ann", csrf, "password", NOW, NOW + 10) == SU_EDB,
	     "an unknown `via` is refused by the table");
	T_OK(store_admin_session_use(s, id1, NOW + 100, 1800, &as) == SU_OK &&
		     strcmp(as.user, "ann") == 0 && strcmp(as.csrf, csrf) == 0 &&
		     strcmp(as.via, "local") == 0 && as.last_seen == NOW + 100,
	     "use it: user, CSRF token, via; last_seen refreshed");
	T_OK(store_admin_session_use(s, id1, NOW + 100 + 1799, 1800, &as) == SU_OK,
	     "29:59 idle: still valid");
	T_OK(store_admin_session_use(s, id1, NOW + 1899 + 1800, 1800, &as) == SU_ENOTFOUND &&
		     as.user[0] == '\0',
	     "30 minutes idle: refused");
	T_OK(store_admin_session_use(s, id1, NOW + 1900, 1800, &as) == SU_ENOTFOUND,
	     "and deleted: gone even for a request that would have been in time");
	T_OK(store_admin_session_put(s, id2, "ann", csrf, "oidc:op", NOW, NOW + 3600) == SU_OK,
	     "an OIDC admin session");
	for (int64_t t = NOW + 1000; t < NOW + 3600; t += 1000)
		store_admin_session_use(s, id2, t, 1800, &as);
	T_OK(store_admin_session_use(s, id2, NOW + 3599, 1800, &as) == SU_OK,
	     "kept alive until just before its absolute end");
	T_OK(store_admin_session_use(s, id2, NOW + 3600, 1800, &as) == SU_ENOTFOUND,
	     "refused at the absolute end however active");
	T_OK(store_admin_session_put(s, id3, "ann", csrf, "local", NOW, NOW + 3600) == SU_OK &&
		     store_admin_session_delete(s, id3) == SU_OK &&
		     store_admin_session_use(s, id3, NOW + 1, 1800, &as) == SU_ENOTFOUND,
	     "sign-out deletes the session");
	T_OK(store_admin_session_put(s, id3, "ann", csrf, "local", NOW, NOW + 3600) == SU_OK &&
		     store_admin_session_put(s, id1, "ann", csrf, "oidc:op", NOW, NOW + 3600) == SU_OK,
	     "a local and an OIDC session of the same name");
	T_OK(store_admin_user_remove(s, "ann") == SU_OK, "remove the admin");
	T_OK(store_admin_session_use(s, id3, NOW + 1, 1800, &as) == SU_ENOTFOUND,
	     "their local sessions end with the account");
	T_OK(store_admin_session_use(s, id1, NOW + 1, 1800, &as) == SU_OK,
	     "an OIDC session of the same name is not the account's");
	T_OK(store_admin_user_remove(s, "ann") == SU_ENOTFOUND, "removing again: no such admin");
	T_OK(store_admin_session_purge(s, NOW + 4000, 1800) == SU_OK &&
		     store_admin_session_use(s, id1, NOW + 2, 1800, &as) == SU_ENOTFOUND,
	     "purge deletes expired sessions");

	/* failure counters */
	T_OK(store_admin_fail_get(s, "user:ann", &f, &last) == SU_OK && f == 0 && last == 0,
	     "no failures yet");
	for (int i = 0; i < 5; i++)
		store_admin_fail_add(s, "user:ann", NOW + i, 900);
	T_OK(store_admin_fail_get(s, "user:ann", &f, &last) == SU_OK && f == 5 && last == NOW + 4,
	     "five failures counted, the last one's time kept");
	T_OK(adminpw_wait(f, last, NOW + 5, 60) == 59, "so the sixth attempt waits");
	T_OK(store_admin_fail_add(s, "user:ann", NOW + 4 + 899, 900) == SU_OK &&
		     store_admin_fail_get(s, "user:ann", &f, &last) == SU_OK && f == 6,
	     "a failure within 15 minutes of the last one counts on");
	T_OK(store_admin_fail_add(s, "user:ann", NOW + 903 + 900, 900) == SU_OK &&
		     store_admin_fail_get(s, "user:ann", &f, &last) == SU_OK && f == 1,
	     "after 15 quiet minutes the count starts again");
	T_OK(store_admin_fail_add(s, "ip:127.0.0.1", NOW, 900) == SU_OK &&
		     store_admin_fail_reset(s, "user:ann") == SU_OK &&
		     store_admin_fail_get(s, "user:ann", &f, &last) == SU_OK && f == 0 &&
		     store_admin_fail_get(s, "ip:127.0.0.1", &f, &last) == SU_OK && f == 1,
	     "a reset forgets one key only");
	T_OK(store_admin_fail_purge(s, NOW + 1) == SU_OK &&
		     store_admin_fail_get(s, "ip:127.0.0.1", &f, &last) == SU_OK && f == 0,
	     "purge forgets old counters");
	T_OK(store_admin_fail_add(s, "", NOW, 900) == SU_EINVAL, "an empty key is refused");
	store_close(s);
}

/* claims() builds a valid ID token payload for the admin flow. */
static json_t *
claims(void)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:[s,s]}", "iss", "https://op.example",
			 "sub", "root-admin", "aud", "stepup-rp", "exp", (json_int_t)NOW + 300, "iat",
			 (json_int_t)NOW, "nonce", "n-1", "auth_time", (json_int_t)NOW, "groups",
			 "staff", "stepupd-admins");
}

static void
check_oidc(void)
{
	struct oidc_expect x;
	struct oidc_result res;
	char err[256];
	json_t *c = claims();

	memset(&x, 0, sizeof(x));
	x.issuer = "https://op.example";
	x.client_id = "stepup-rp";
	x.nonce = "n-1";
	x.max_age = 0;
	x.flow_created_at = NOW;
	x.now = NOW + 1;
	x.skew = 60;
	x.subject_claim = "sub";
	memset(&res, 0, sizeof(res));
	T_OK(oidc_id_token_check(&x, c, &res, err, sizeof(err)) != SU_OK,
	     "a step-up context without acr is still refused (fail closed)");
	oidc_result_cleanup(&res);
	x.no_context = true;
	T_OK(oidc_id_token_check(&x, c, &res, err, sizeof(err)) == SU_OK &&
		     strcmp(res.subject, "root-admin") == 0,
	     "the admin sign-in asks no acr");
	oidc_result_cleanup(&res);
	x.nonce = "n-2";
	T_OK(oidc_id_token_check(&x, c, &res, err, sizeof(err)) != SU_OK,
	     "but every other check still applies (nonce)");
	oidc_result_cleanup(&res);
	x.nonce = "n-1";
	x.flow_created_at = NOW + 200;
	x.now = NOW + 201;
	T_OK(oidc_id_token_check(&x, c, &res, err, sizeof(err)) != SU_OK,
	     "and a token from before the flow is refused (max_age 0)");
	oidc_result_cleanup(&res);
	json_decref(c);
}

static void
check_groups(void)
{
	struct cfg c;
	char *groups[] = { (char *)"stepupd-admins", (char *)"ops", NULL };
	json_t *j;

	memset(&c, 0, sizeof(c));
	c.admin_group_claim = (char *)"groups";
	c.admin_groups = groups;
	j = claims();
	T_OK(h_admin_groups_ok(&c, (struct json_t *)j), "a member of the group (array)");
	json_object_set_new(j, "groups", json_string("ops"));
	T_OK(h_admin_groups_ok(&c, (struct json_t *)j), "a member of the group (string)");
	json_object_set_new(j, "groups", json_pack("[s]", "staff"));
	T_OK(!h_admin_groups_ok(&c, (struct json_t *)j), "not a member");
	json_object_set_new(j, "groups", json_pack("[i,s]", 1, "stepupd-admin"));
	T_OK(!h_admin_groups_ok(&c, (struct json_t *)j), "no prefix match, no number");
	json_object_set_new(j, "groups", json_pack("{s:s}", "x", "stepupd-admins"));
	T_OK(!h_admin_groups_ok(&c, (struct json_t *)j), "an object is not a group list");
	json_object_del(j, "groups");
	T_OK(!h_admin_groups_ok(&c, (struct json_t *)j), "no claim: not an admin");
	json_object_set_new(j, "roles", json_pack("[s]", "stepupd-admins"));
	T_OK(!h_admin_groups_ok(&c, (struct json_t *)j), "the group in another claim does not count");
	c.admin_group_claim = (char *)"roles";
	T_OK(h_admin_groups_ok(&c, (struct json_t *)j), "group_claim names the claim");
	c.admin_groups = NULL;
	T_OK(!h_admin_groups_ok(&c, (struct json_t *)j), "no groups configured: nobody");
	json_decref(j);
}

/* A hash made with lower costs than stepupd's is refused, not checked. */
static void
check_weak_costs(void)
{
	char enc[256];
	const char *pw = "a long enough password";
	const unsigned char salt[16] = "0123456789abcdef";

	T_OK(argon2id_hash_encoded(1, 1024, 1, pw, strlen(pw), salt, sizeof(salt), 32, enc, sizeof(enc)) ==
		     ARGON2_OK, "a weak Argon2id hash is made (t=1, m=1 MiB)");
	T_OK(adminpw_verify(enc, pw) == SU_EINVAL, "a hash weaker than stepupd's costs is refused even with the right password");
	T_OK(argon2id_hash_encoded(ADMINPW_T_COST, ADMINPW_M_COST_KIB, 1, pw, strlen(pw), salt, sizeof(salt), 32,
				   enc, sizeof(enc)) == ARGON2_OK &&
		     adminpw_verify(enc, pw) == SU_OK,
	     "the same password with stepupd's costs verifies");
	T_OK(adminpw_verify("$argon2id$v=19$t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", pw) == SU_EINVAL,
	     "a hash without its memory cost is refused");
}

int
main(void)
{
	check_hash();
	check_weak_costs();
	check_acceptable();
	check_read();
	check_wait();
	check_store();
	check_oidc();
	check_groups();
	return T_DONE();
}
