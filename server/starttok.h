/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * starttok.h: start-URL tokens (SPEC 2.1 step 1). A start URL carries one
 * opaque token: AES-256-GCM over {id, session hash, user, context,
 * return_to, expiry}, under a key derived from the server secret. So the
 * session id never appears in the URL, and a token that is unsigned,
 * altered or made with another key does not open. Expiry is inside; single
 * use is enforced by recording the random id in the store when used.
 * No I/O.
 */
#ifndef STEPUPD_STARTTOK_H
#define STEPUPD_STARTTOK_H

#include <stdint.h>

#include "rc.h"
#include "xcrypt.h"

#define STARTTOK_TTL 300

struct starttok {
	char id[32];          /* base64url of 16 random bytes */
	char session_hash[65];/* "" when no session was named */
	char *user;           /* NULL when not named */
	char *context;
	char *return_to;
	char *match_key;      /* policy matches that asked for the step-up; NULL when none */
	int64_t expires_at;
};

/* starttok_make() seals a new token (malloc'd in *out; caller frees).
 * session may be NULL (no session named); it is hashed, never stored.
 * match_key may be NULL. */
enum su_rc starttok_make(const unsigned char key[XCRYPT_KEY_LEN], const char *session,
			 const char *user, const char *context, const char *return_to,
			 const char *match_key, int64_t now, int64_t ttl, char **out,
			 int64_t *expires_at);
/* starttok_open() opens and checks a token: SU_EINVAL when missing,
 * malformed, altered or sealed with another key; SU_EEXPIRED when past its
 * expiry. Free *t with starttok_cleanup(). */
enum su_rc starttok_open(const unsigned char key[XCRYPT_KEY_LEN], const char *token, int64_t now,
			 struct starttok *t);
void starttok_cleanup(struct starttok *t);

#endif
