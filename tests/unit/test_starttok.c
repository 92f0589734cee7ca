/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_starttok.c: start tokens open only when made by us, unaltered, in time. */
#include <stdlib.h>
#include <string.h>

#include "starttok.h"
#include "t.h"

int
main(void)
{
	unsigned char k[32], other[32];
	char *tok = NULL, sh[65];
	struct starttok t;
	int64_t exp = 0;

	memset(k, 7, sizeof(k));
	memset(other, 8, sizeof(other));
	T_OK(starttok_make(k, "sess-1", "alice", "c1", "http://127.0.0.1:8088/x", "mk1", 1000, 300, &tok, &exp) == SU_OK,
	     "make");
	T_OK(exp == 1300, "expiry is now + ttl");
	T_OK(strstr(tok, "sess-1") == NULL && strstr(tok, "alice") == NULL, "no clear text in the token");
	T_OK(starttok_open(k, tok, 1001, &t) == SU_OK, "opens");
	xcrypt_sha256_hex("sess-1", sh);
	T_OK(strcmp(t.session_hash, sh) == 0, "carries the session hash, not the id");
	T_OK(strcmp(t.user, "alice") == 0 && strcmp(t.context, "c1") == 0 &&
	     strcmp(t.return_to, "http://127.0.0.1:8088/x") == 0 && t.expires_at == 1300 && strlen(t.id) == 22 &&
	     t.match_key && strcmp(t.match_key, "mk1") == 0,
	     "fields round-trip");
	starttok_cleanup(&t);
	T_OK(starttok_open(k, tok, 1300, &t) == SU_EEXPIRED, "expired at its expiry");
	starttok_cleanup(&t);
	T_OK(starttok_open(other, tok, 1001, &t) == SU_EINVAL, "another key: refused");
	tok[10] ^= 1;
	T_OK(starttok_open(k, tok, 1001, &t) == SU_EINVAL, "altered: refused");
	T_OK(starttok_open(k, "", 1001, &t) == SU_EINVAL, "empty: refused");
	T_OK(starttok_open(k, NULL, 1001, &t) == SU_EINVAL, "missing: refused");
	T_OK(starttok_open(k, "eyJpIjoieCJ9", 1001, &t) == SU_EINVAL, "unsigned JSON: refused");
	free(tok);
	T_OK(starttok_make(k, NULL, NULL, "c1", "http://127.0.0.1:8088/", NULL, 1000, 300, &tok, &exp) == SU_OK &&
	     starttok_open(k, tok, 1000, &t) == SU_OK && t.session_hash[0] == '\0' && t.user == NULL,
	     "no session and no user named");
	starttok_cleanup(&t);
	free(tok);
	{
		char *a = NULL, *b = NULL;
		struct starttok ta, tb;

		starttok_make(k, "s", NULL, "c1", "http://x:1/", NULL, 1000, 300, &a, &exp);
		starttok_make(k, "s", NULL, "c1", "http://x:1/", NULL, 1000, 300, &b, &exp);
		T_OK(strcmp(a, b) != 0, "two tokens for the same request differ");
		starttok_open(k, a, 1000, &ta);
		starttok_open(k, b, 1000, &tb);
		T_OK(strcmp(ta.id, tb.id) != 0, "and carry different single-use ids");
		starttok_cleanup(&ta);
		starttok_cleanup(&tb);
		free(a);
		free(b);
	}
	return T_DONE();
}
