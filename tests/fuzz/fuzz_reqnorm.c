/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_reqnorm.c: libFuzzer target for request normalisation. The input
 * (as a NUL-terminated string) goes to reqnorm_path(),
 * reqnorm_client_addr() (from a trusted peer), reqnorm_device_tags() and
 * reqnorm_list(). Invariants: an accepted path starts with '/', holds no
 * "//", no "." or ".." segment, no backslash, no control byte, no '%2F'
 * ambiguity (it contains no byte that could only come from an encoded
 * '/'), is valid UTF-8 and is a fixed point (normalising it again gives
 * the same text); a refused path leaves "" behind. Lists hold no empty
 * or over-long item. tests/fuzz/standalone.c replays
 * tests/fuzz/corpus/reqnorm/ in make check.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "reqnorm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_reqnorm_path_ok() checks the shape of an accepted path. */
static void
fuzz_reqnorm_path_ok(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || strstr(p, "//") != NULL || strchr(p, '\\') != NULL ||
	    !reqnorm_utf8_ok((const unsigned char *)p, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			abort();
	/* no dot segments */
	for (const char *s = p; s != NULL; s = strchr(s + 1, '/')) {
		const char *seg = s + 1;

		if ((seg[0] == '.' && (seg[1] == '/' || seg[1] == '\0')) ||
		    (seg[0] == '.' && seg[1] == '.' && (seg[2] == '/' || seg[2] == '\0')))
			abort();
	}
}

/* LLVMFuzzerTestOneInput() runs every parser on one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[REQNORM_PATH_MAX + 1], again[REQNORM_PATH_MAX + 1];
	struct cfg c;
	struct cfg_cidr trusted;
	struct sockaddr_in peer;
	struct sockaddr_storage client;
	char **v = NULL;
	size_t n = 0;
	unsigned mask;
	char *s;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (reqnorm_path(s, out, sizeof(out)) == SU_OK) {
		fuzz_reqnorm_path_ok(out);
		/* a normalised path normalises to itself, unless it holds a space,
		 * '%', '?' or '#' that decoding produced (then it is refused or
		 * cut, never widened) */
		if (strpbrk(out, "%?# ") == NULL &&
		    (reqnorm_path(out, again, sizeof(again)) != SU_OK || strcmp(out, again) != 0))
			abort();
	} else if (out[0] != '\0') {
		abort();
	}

	memset(&c, 0, sizeof(c));
	if (cfg_cidr_parse("127.0.0.0/8", &trusted) != SU_OK)
		abort();
	c.trusted_proxies = &trusted;
	c.n_trusted_proxies = 1;
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(0x7f000001);
	if (reqnorm_client_addr((struct sockaddr *)&peer, s, &c, &client) == SU_OK &&
	    client.ss_family != AF_INET && client.ss_family != AF_INET6)
		abort();

	if (reqnorm_device_tags(s, &mask) == SU_OK && (mask & ~7u) != 0)
		abort();
	if (reqnorm_list(s, 16, 32, &v, &n) == SU_OK) {
		if (n > 16)
			abort();
		for (size_t i = 0; i < n; i++)
			if (v[i][0] == '\0' || strlen(v[i]) > 32)
				abort();
	}
	reqnorm_list_free(v, n);
	(void)reqnorm_text_ok(s, 256);
	free(s);
	return 0;
}
