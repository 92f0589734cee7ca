/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * elevcache.h: a fixed-size cache of found elevations, for the /check fast
 * path. One cache belongs to one store connection and so to one worker
 * thread: it has no lock.
 *
 * An entry says "under store epoch E, session_hash held an unrevoked
 * elevation for context, for user, until expires_at". The epoch is a
 * counter that store.c raises whenever the database may have changed (a
 * commit by any connection of any process, see store_elevation_check()),
 * so an entry is answered only while nothing at all was written since it
 * was read from SQLite, and never at or after its expiry. Revocation is an
 * UPDATE, hence a commit, hence a new epoch: the next lookup misses and
 * goes to SQLite. Only found elevations are cached; a miss is not.
 *
 * What it does not do: it never decides anything by itself (a miss means
 * "ask SQLite"), never sees a session id in clear (keys are the lowercase
 * hex SHA-256 the store uses), and does not cache entries whose context or
 * user is longer than the limits below (those always go to SQLite).
 *
 * Layout: ELEVCACHE_WAYS-way set associative; the set is chosen from the
 * session hash and the context; a put replaces the same key, else an empty
 * or stale (older epoch) way of the set, else the ways in turn.
 */
#ifndef STEPUPD_ELEVCACHE_H
#define STEPUPD_ELEVCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

#define ELEVCACHE_WAYS 4
/* Entries per cache (a multiple of ELEVCACHE_WAYS): ~3.5 MiB per thread. */
#define ELEVCACHE_ENTRIES 16384
#define ELEVCACHE_CONTEXT_MAX 47
#define ELEVCACHE_USER_MAX 95

struct elevcache;

/* elevcache_new() allocates an empty cache of n entries (n > 0, rounded up
 * to a power-of-two number of sets). */
enum su_rc elevcache_new(size_t n, struct elevcache **out);
void elevcache_free(struct elevcache *c);

/* elevcache_get() answers SU_OK, with the user (NUL-terminated, truncated
 * to usersz) and the expiry, when (hash, context) was put under epoch and
 * expires_at > now; SU_ENOTFOUND otherwise (including a NULL cache or
 * argument). epoch 0 never matches. */
enum su_rc elevcache_get(struct elevcache *c, const char *hash, const char *context,
			 uint64_t epoch, int64_t now, char *user, size_t usersz, int64_t *expires_at);

/* elevcache_put() records a found elevation under epoch (epoch > 0). Keys
 * that are not 64 lowercase hex characters, and contexts or users over the
 * limits, are silently not cached. */
void elevcache_put(struct elevcache *c, const char *hash, const char *context, uint64_t epoch,
		   const char *user, int64_t expires_at);

#endif
