/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * elevcache.c: the per-connection cache of found elevations (see
 * elevcache.h for the contract). A flat array of fixed-size entries and a
 * parallel array of 64-bit tags, so a lookup reads the set's tags (one
 * cache line) and then only the entry whose tag matches. No allocation
 * after elevcache_new(), no lock (one thread owns a cache).
 *
 * What it does not do: know anything about SQLite or about when the
 * database changes; the caller passes the epoch it got from the store and
 * the cache compares it for equality, nothing more.
 */
#include "elevcache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ELEVCACHE_HASH_LEN 64

/* One cached elevation: 192 bytes, three cache lines (the hash, expiry and
 * the start of the context in the first). */
struct elevcache_entry {
	uint64_t epoch;          /* 0: empty */
	int64_t expires_at;
	unsigned char hash[32];  /* the SHA-256, binary */
	char context[ELEVCACHE_CONTEXT_MAX + 1];
	char user[ELEVCACHE_USER_MAX + 1];
};

struct elevcache {
	size_t mask;             /* number of sets - 1 (a power of two) */
	unsigned victim;         /* rotating choice when a set is full */
	uint64_t *tags;          /* per way: a 64-bit digest of (hash, context); 4 per set */
	struct elevcache_entry *e;
};

/* elevcache_hexval[c] is 1 + the value of lowercase hex digit c, 0 for any
 * other byte (NUL included). */
static const unsigned char elevcache_hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* elevcache_key() parses the 64 lowercase hex digits of hash into bin and
 * makes the way's tag from it and the context (FNV-1a of the context mixed
 * into the first 8 bytes of the SHA-256). false when hash is not exactly
 * 64 lowercase hex digits (it never reads past a NUL). */
static bool
elevcache_key(const char *hash, const char *context, unsigned char bin[32], uint64_t *tag)
{
	uint64_t f = 0xcbf29ce484222325ULL, h = 0;

	for (size_t i = 0; i < 32; i++) {
		unsigned hi = elevcache_hexval[(unsigned char)hash[2 * i]], lo;

		if (hi == 0)
			return false;
		lo = elevcache_hexval[(unsigned char)hash[2 * i + 1]];
		if (lo == 0)
			return false;
		bin[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	if (hash[ELEVCACHE_HASH_LEN] != '\0')
		return false;
	for (int i = 0; i < 8; i++)
		h = h << 8 | bin[i];
	for (const char *p = context; *p; p++)
		f = (f ^ (unsigned char)*p) * 0x100000001b3ULL;
	*tag = (h ^ f) * 0x9e3779b97f4a7c15ULL;
	return true;
}

/* elevcache_set() is the set (index of its first way) of a tag. */
static size_t
elevcache_set(const struct elevcache *c, uint64_t tag)
{
	return ((size_t)(tag >> 32) & c->mask) * ELEVCACHE_WAYS;
}

/* elevcache_new(): see elevcache.h. */
enum su_rc
elevcache_new(size_t n, struct elevcache **out)
{
	struct elevcache *c;
	size_t sets = 1;

	if (out == NULL)
		return SU_EINVAL;
	*out = NULL;
	if (n == 0 || n > ((size_t)1 << 24))
		return SU_EINVAL;
	while (sets * ELEVCACHE_WAYS < n)
		sets <<= 1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SU_ENOMEM;
	c->tags = calloc(sets * ELEVCACHE_WAYS, sizeof(*c->tags));
	c->e = calloc(sets * ELEVCACHE_WAYS, sizeof(*c->e));
	if (c->tags == NULL || c->e == NULL) {
		elevcache_free(c);
		return SU_ENOMEM;
	}
	c->mask = sets - 1;
	*out = c;
	return SU_OK;
}

/* elevcache_free(): frees c (NULL is fine). */
void
elevcache_free(struct elevcache *c)
{
	if (c == NULL)
		return;
	free(c->tags);
	free(c->e);
	free(c);
}

/* elevcache_get(): see elevcache.h. Only a way whose tag matches is read. */
enum su_rc
elevcache_get(struct elevcache *c, const char *hash, const char *context, uint64_t epoch,
	      int64_t now, char *user, size_t usersz, int64_t *expires_at)
{
	unsigned char bin[32];
	uint64_t tag;
	size_t set, n;

	if (c == NULL || hash == NULL || context == NULL || user == NULL || usersz == 0 ||
	    expires_at == NULL || epoch == 0 || !elevcache_key(hash, context, bin, &tag))
		return SU_ENOTFOUND;
	set = elevcache_set(c, tag);
	/* the entries and the tags are apart in memory: start loading the
	 * entries' first lines while the tags are compared (both usually miss
	 * the CPU caches, and one wait is cheaper than two) */
	for (size_t w = set; w < set + ELEVCACHE_WAYS; w++)
		__builtin_prefetch(&c->e[w]);
	for (size_t w = set; w < set + ELEVCACHE_WAYS; w++) {
		const struct elevcache_entry *e = &c->e[w];

		if (c->tags[w] != tag || e->epoch != epoch || e->expires_at <= now ||
		    memcmp(e->hash, bin, sizeof(bin)) != 0 || strcmp(e->context, context) != 0)
			continue;
		n = strlen(e->user);
		if (n >= usersz)
			return SU_ENOTFOUND;
		memcpy(user, e->user, n + 1);
		*expires_at = e->expires_at;
		return SU_OK;
	}
	return SU_ENOTFOUND;
}

/* elevcache_put(): see elevcache.h. The same key already in the set is
 * overwritten, so a key is never in a set twice. */
void
elevcache_put(struct elevcache *c, const char *hash, const char *context, uint64_t epoch,
	      const char *user, int64_t expires_at)
{
	struct elevcache_entry *slot = NULL;
	unsigned char bin[32];
	uint64_t tag;
	size_t set, clen, ulen, w = 0;

	if (c == NULL || hash == NULL || context == NULL || user == NULL || epoch == 0 ||
	    !elevcache_key(hash, context, bin, &tag))
		return;
	clen = strnlen(context, ELEVCACHE_CONTEXT_MAX + 1);
	ulen = strnlen(user, ELEVCACHE_USER_MAX + 1);
	if (clen > ELEVCACHE_CONTEXT_MAX || ulen > ELEVCACHE_USER_MAX)
		return;
	set = elevcache_set(c, tag);
	for (w = set; w < set + ELEVCACHE_WAYS && slot == NULL; w++)
		if (c->tags[w] == tag && c->e[w].epoch != 0 &&
		    memcmp(c->e[w].hash, bin, sizeof(bin)) == 0 && strcmp(c->e[w].context, context) == 0)
			slot = &c->e[w];
	for (w = set; w < set + ELEVCACHE_WAYS && slot == NULL; w++)
		if (c->e[w].epoch != epoch)
			slot = &c->e[w];
	if (slot == NULL)
		slot = &c->e[set + c->victim++ % ELEVCACHE_WAYS];
	c->tags[slot - c->e] = tag;
	slot->epoch = epoch;
	slot->expires_at = expires_at;
	memcpy(slot->hash, bin, sizeof(bin));
	memcpy(slot->context, context, clen + 1);
	memcpy(slot->user, user, ulen + 1);
}
