/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_jwks.c: jose_keyset_parse() on arbitrary bytes. A key set that parses
 * is walked (kid, kty) and then used to verify one fixed, validly signed
 * RS256 token (kid "fz-rsa"), which exercises key choice against keys of
 * every shape the fuzzer finds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_token[] =
	"eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ6LXJzYSJ9.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGU"
	"iLCJhdWQiOiJzdGVwdXAtcnAiLCJleHAiOjE3MDAwMDAzMDAsImlhdCI6MTY5OTk5OTk5NSwibm9"
	"uY2UiOiJub25jZS0xMjMiLCJzdWIiOiJhbGljZS1zdWIiLCJhdXRoX3RpbWUiOjE2OTk5OTk5OTI"
	"sImFjcnMiOlsiYzEiXSwiYW1yIjpbInB3ZCIsIm1mYSJdLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGU"
	"uY29tIn0.crND7RlnlcjQ9xZiFDaO5dHwascDGjR-xl-EH8nmeCnfHJz2qwrAuwQHB-7YgaFgEQZ"
	"qihmL7kT5EkqoM4taHeOvpUUKYXKUMxyzi5VEhMpU_9puXwv-7WMGtU8HqCkn83RFbis0Ecr9lP6"
	"9VO0ysfFqB_xM1hwVz9irA87BER_q8a3XoNJ70Z0x58IAGMJgUl_RVAxaqWjSw1FIHxqVnpJjdLq"
	"II004wVPulyvCgRSTSR6PzY1FmU72cngqiAtxFTxJ2JaewE8YFYaZ52wJfEe_G_NPp6zLgxno49x"
	"2Nym-1LuOk6x4LSJRJe-ixIAt2yllLHpcF-U2U6XboJxCmg";

static const char *const fuzz_algs[] = { "RS256", "ES256", NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jose_keyset *ks = NULL;
	json_t *claims = NULL;
	char err[256];
	size_t i, n;

	if (jose_keyset_parse((const char *)data, size, &ks, err, sizeof(err)) != SU_OK)
		return 0;
	n = jose_keyset_count(ks);
	for (i = 0; i < n; i++) {
		if (jose_keyset_kid(ks, i) == NULL || jose_keyset_kty(ks, i) == NULL)
			abort();
	}
	if (jose_jws_verify(fuzz_token, ks, fuzz_algs, &claims, err, sizeof(err)) == SU_OK)
		json_decref(claims);
	jose_keyset_free(ks);
	return 0;
}
