/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_idtoken.c: the ID-token path end to end. An input that starts with
 * '{' is taken as a claims set and goes straight to oidc_id_token_check()
 * (with two sets of expectations: an Entra-style acrs context, and a
 * standard acr context with subject binding on email). Anything else is a
 * compact JWS verified by jose_jws_verify() against a fixed JWKS (one
 * RSA-2048 key "fz-rsa", one EC P-256 key "fz-ec", public parts only; the
 * private keys were thrown away after signing the seed corpus); a token that
 * verifies has its claims checked too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose.h"
#include "oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_jwks[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fz-rsa\",\"e\":\"AQAB\",\"n\":\"nZ4A6D"
	"7QHJc9GuzxNpAWBJfF0ViO2EVILGABUPSefPjbZt6FcysHFGZzzwr5CtRPqC6W1JiXQMbzGlA5np"
	"MaW1gUb_WbuXZKwo8TnmUlGR0yznvrZaFw_gE4Sxdc54WuJPXGiOCp9e1LraEqvy23kONRk99rH8"
	"6Kn8wIpZMz8ZvCFmPo-RQmENwHsPtFuUsQY4gfg_-RqhL3Fzoyy5sANZWCyG1xjP0QBG0R128mIN"
	"yFgZs1T5_C1JSCtjnNkrf-FtDCerjVFG9djn60NL54SeTEaMpzdCYQQ-VGkxBYx84oQjTqo__3oZ"
	"oYV_ACptNIthkBe4eDXQjaMBtUjDKpjQ\"},{\"kty\":\"EC\",\"kid\":\"fz-ec\",\"crv"
	"\":\"P-256\",\"x\":\"Lbqw-204ZmJJhQ2AH55nSvkkolAUBo87nppLwa31YMA\",\"y\":\"b"
	"wLDRz2yBlTYMskcgHPAObForSIDAqnYgLmihhKuLJM\"}]}";

static const char *const fuzz_algs[] = { "RS256", "PS256", "ES256", NULL };
static const char *const fuzz_acrs[] = { "c1", NULL };
static const char *const fuzz_acr[] = { "urn:test:loa:3", "urn:test:loa:4", NULL };

/* fuzz_check() runs the claims checks with both sets of expectations. */
static void
fuzz_check(json_t *claims)
{
	struct oidc_expect x;
	struct oidc_result r;
	char err[256];

	memset(&x, 0, sizeof(x));
	x.issuer = "https://op.example";
	x.client_id = "stepup-rp";
	x.nonce = "nonce-123";
	x.acrs = fuzz_acrs;
	x.max_age = 0;
	x.flow_created_at = 1700000000 - 10;
	x.now = 1700000000;
	x.skew = 60;
	x.subject_claim = "sub";
	if (oidc_id_token_check(&x, claims, &r, err, sizeof(err)) == SU_OK)
		oidc_result_cleanup(&r);

	x.acrs = NULL;
	x.acr = fuzz_acr;
	x.max_age = -1;
	x.subject_claim = "email";
	x.user = "alice@example.com";
	if (oidc_id_token_check(&x, claims, &r, err, sizeof(err)) == SU_OK)
		oidc_result_cleanup(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jose_keyset *ks;
	char err[256], *tok;
	json_t *claims = NULL;
	json_error_t jerr;

	if (ks == NULL && jose_keyset_parse(fuzz_jwks, strlen(fuzz_jwks), &ks, err, sizeof(err)) != SU_OK)
		abort();
	if (size > 0 && data[0] == '{') {
		claims = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
		if (claims != NULL)
			fuzz_check(claims);
		json_decref(claims);
		return 0;
	}
	tok = malloc(size + 1);
	if (tok == NULL)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	if (jose_jws_verify(tok, ks, fuzz_algs, &claims, err, sizeof(err)) == SU_OK) {
		fuzz_check(claims);
		json_decref(claims);
	}
	free(tok);
	return 0;
}
