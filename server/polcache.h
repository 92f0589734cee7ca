/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * polcache.h: the policy set in force, shared by every worker thread.
 * /check must not read and parse the policies table on every request, so
 * the set is held in memory and reloaded when the store's policy version
 * changes (store_policy_version(), bumped by every import, create, update,
 * delete or enable, from this process or another: `stepupd policy import`,
 * later the admin console). The version is looked at most once per second,
 * so a change is in force within a second.
 *
 * A set is reference-counted: a request keeps the set it started with
 * even if a reload replaces it meanwhile.
 */
#ifndef STEPUPD_POLCACHE_H
#define STEPUPD_POLCACHE_H

#include <stdint.h>

#include "policy.h"
#include "rc.h"
#include "store.h"

struct polcache_ref;

/* polcache_acquire() returns the set in force (reloading it first when
 * due), in *set, and a reference the caller releases with
 * polcache_release(). On failure (no set could ever be loaded) it returns
 * an error and the caller must refuse the request (fail closed). When a
 * reload fails the previous set stays in force (logged). */
enum su_rc polcache_acquire(struct store *st, int64_t now, const struct policy_set **set,
			    struct polcache_ref **ref);
void polcache_release(struct polcache_ref *ref);
/* polcache_shutdown() frees the cached set (after the daemon stopped). */
void polcache_shutdown(void);

#endif
