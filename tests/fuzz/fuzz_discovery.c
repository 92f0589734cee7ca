/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_discovery.c: the two documents stepupd reads from the OP besides the
 * JWKS: the discovery document (oidc_discovery_parse(), issuer
 * "https://op.example") and the token endpoint's answer
 * (oidc_token_response_parse(), as a 200 and as a 400), on the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oidc_discovery d;
	char err[256], *idt = NULL;

	if (oidc_discovery_parse((const char *)data, size, "https://op.example", &d, err,
				 sizeof(err)) == SU_OK)
		oidc_discovery_cleanup(&d);
	if (oidc_token_response_parse(200, (const char *)data, size, &idt, err, sizeof(err)) == SU_OK)
		free(idt);
	idt = NULL;
	if (oidc_token_response_parse(400, (const char *)data, size, &idt, err, sizeof(err)) == SU_OK)
		abort(); /* a non-200 answer never yields a token */
	return 0;
}
