/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_admin.h: the admin console's sign-in tables (db/migrations/
 * 0006_admin.sql): local admin accounts (name and an encoded Argon2id
 * hash: this module never sees a password), admin sessions (keyed by the
 * SHA-256 hex of the cookie value, never the value), and failed sign-in
 * counters for the slowdown. It decides nothing about passwords or the
 * throttle (adminpw.c) and writes no audit rows (h_admin.c does).
 */
#ifndef STEPUPD_STORE_ADMIN_H
#define STEPUPD_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"
#include "store.h"

/* store_admin_user_set() creates user name with hash, or replaces the hash
 * of an existing one; *created (may be NULL) says which. */
enum su_rc store_admin_user_set(struct store *s, const char *name, const char *hash, int64_t now,
				bool *created);
/* store_admin_user_hash() gets the encoded hash of name (*hash malloc'd,
 * caller frees). SU_ENOTFOUND when there is no such user. */
enum su_rc store_admin_user_hash(struct store *s, const char *name, char **hash);
/* store_admin_user_remove() deletes the user and all their admin sessions,
 * in one transaction. SU_ENOTFOUND when there is no such user. */
enum su_rc store_admin_user_remove(struct store *s, const char *name);

struct store_admin_user {
	char *name;
	int64_t created_at, updated_at;
};
/* store_admin_user_list() returns every local admin, by name. */
enum su_rc store_admin_user_list(struct store *s, struct store_admin_user **out, size_t *n);
void store_admin_user_list_free(struct store_admin_user *v, size_t n);

/* An admin session as stored. */
struct store_admin_session {
	char user[257];
	char csrf[48];
	char via[300];
	int64_t created_at, last_seen, expires_at;
};
/* store_admin_session_put() records a new session. SU_EINVAL on a
 * duplicate id_hash or a bad field. */
enum su_rc store_admin_session_put(struct store *s, const char *id_hash, const char *user,
				   const char *csrf, const char *via, int64_t now, int64_t expires_at);
/* store_admin_session_use() finds the session of id_hash that is neither
 * past expires_at nor idle for idle seconds or more, and sets its
 * last_seen to now. A session found expired is deleted. SU_ENOTFOUND when
 * there is no usable session. */
enum su_rc store_admin_session_use(struct store *s, const char *id_hash, int64_t now, int64_t idle,
				   struct store_admin_session *out);
/* store_admin_session_delete() deletes one session (no error if none). */
enum su_rc store_admin_session_delete(struct store *s, const char *id_hash);
/* store_admin_session_purge() deletes sessions past expires_at or idle. */
enum su_rc store_admin_session_purge(struct store *s, int64_t now, int64_t idle);

/* store_admin_fail_get() reads the failure counter of key ("user:<name>",
 * "ip:<address>"): *failures 0 and *last 0 when there is none. */
enum su_rc store_admin_fail_get(struct store *s, const char *key, int64_t *failures, int64_t *last);
/* store_admin_fail_add() counts one failure of key at now; a counter whose
 * last failure is window seconds old or more starts again at 1. */
enum su_rc store_admin_fail_add(struct store *s, const char *key, int64_t now, int64_t window);
/* store_admin_fail_reset() forgets key's counter. */
enum su_rc store_admin_fail_reset(struct store *s, const char *key);
/* store_admin_fail_purge() forgets counters whose last failure is before
 * `before`. */
enum su_rc store_admin_fail_purge(struct store *s, int64_t before);

#endif
