/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_returl.c: libFuzzer target for the return-URL rules. Feeds the input
 * (as a NUL-terminated copy) to returl_check() and returl_origin_normalise()
 * and checks the invariants a caller relies on: an accepted URL is never
 * longer than RETURL_MAX and contains no control byte, space or backslash;
 * a refusal always says why; a normalised origin re-normalises to itself.
 * tests/fuzz/standalone.c replays tests/fuzz/corpus/returl/ in make check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "returl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_returl_allowed[] = {
	"https://www.stepup.example:443",
	"http://127.0.0.1:8088",
	"http://[::1]:8088",
	NULL,
};

/* fuzz_returl_bad_byte() says whether s holds a byte no accepted URL may hold. */
static int
fuzz_returl_bad_byte(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c == 0x7f || c == '\\' || c == '@')
			return 1;
	}
	return 0;
}

/* LLVMFuzzerTestOneInput() runs both entry points on one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	char *s, *origin = NULL, *again = NULL;
	enum su_rc rc;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	err[0] = '\0';
	rc = returl_check(s, fuzz_returl_allowed, err, sizeof(err));
	if (rc == SU_OK) {
		/* '@' may appear after the authority; only check the bytes rule */
		for (const char *p = s; *p != '\0'; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\')
				abort();
		if (strlen(s) > RETURL_MAX)
			abort();
	} else if (rc != SU_EINVAL || err[0] == '\0') {
		abort();
	}

	rc = returl_origin_normalise(s, &origin);
	if (rc == SU_OK) {
		if (origin == NULL || fuzz_returl_bad_byte(origin))
			abort();
		if (returl_origin_normalise(origin, &again) != SU_OK || strcmp(origin, again) != 0)
			abort();
	} else if (origin != NULL) {
		abort();
	}
	free(again);
	free(origin);
	free(s);
	return 0;
}
