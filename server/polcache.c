/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * polcache.c: the policy set in force (see polcache.h). One mutex guards
 * the current holder and the time of the last version look; the SQLite
 * reads happen outside it, on the calling thread's own connection.
 */
#include "polcache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "store_policy.h"

struct polcache_ref {
	struct policy_set *set;
	int64_t version;
	long refs;           /* requests using it, plus one while it is current */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct polcache_ref *current;
static int64_t last_look;    /* when the version was last read */
static bool looking;         /* one thread reads the version at a time */

static void
ref_drop_locked(struct polcache_ref *h)
{
	if (h != NULL && --h->refs == 0) {
		policy_set_free(h->set);
		free(h);
	}
}

/* reload() reads the version and, when it moved, the whole set. Called
 * without the lock. Returns a new holder (refs 1) or NULL (nothing new). */
static struct polcache_ref *
reload(struct store *st, int64_t have, bool have_any)
{
	struct polcache_ref *h = NULL;
	int64_t v = 0;

	if (store_policy_version(st, &v) != SU_OK) {
		log_err("cannot read the policy version; keeping the set in force");
		return NULL;
	}
	if (have_any && v == have)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	if (store_policy_export(st, &h->set, &h->version) != SU_OK) {
		log_err("cannot load the policies; keeping the set in force");
		free(h);
		return NULL;
	}
	h->refs = 1;
	log_info("policy set version %lld in force (%zu policies)", (long long)h->version, h->set->n);
	return h;
}

enum su_rc
polcache_acquire(struct store *st, int64_t now, const struct policy_set **set,
		 struct polcache_ref **ref)
{
	struct polcache_ref *fresh = NULL, *h;
	bool look = false;
	int64_t have = 0;
	bool have_any;

	*set = NULL;
	*ref = NULL;
	pthread_mutex_lock(&mu);
	have_any = current != NULL;
	if (have_any)
		have = current->version;
	/* nothing loaded yet: every thread loads (no request waits on another);
	 * afterwards one thread a second looks at the version */
	if (!have_any || (now != last_look && !looking)) {
		looking = have_any;
		look = true;
		last_look = now;
	}
	pthread_mutex_unlock(&mu);
	if (look)
		fresh = reload(st, have, have_any);
	pthread_mutex_lock(&mu);
	if (look && have_any)
		looking = false;
	if (fresh != NULL && (current == NULL || fresh->version != current->version)) {
		ref_drop_locked(current);
		current = fresh;
		fresh = NULL;
	}
	h = current;
	if (h != NULL)
		h->refs++;
	pthread_mutex_unlock(&mu);
	if (fresh != NULL) {
		pthread_mutex_lock(&mu);
		ref_drop_locked(fresh);
		pthread_mutex_unlock(&mu);
	}
	if (h == NULL)
		return SU_EDB;
	*set = h->set;
	*ref = h;
	return SU_OK;
}

void
polcache_release(struct polcache_ref *ref)
{
	if (ref == NULL)
		return;
	pthread_mutex_lock(&mu);
	ref_drop_locked(ref);
	pthread_mutex_unlock(&mu);
}

void
polcache_shutdown(void)
{
	pthread_mutex_lock(&mu);
	ref_drop_locked(current);
	current = NULL;
	last_look = 0;
	pthread_mutex_unlock(&mu);
}
