/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_saml.c: libFuzzer target for what the SAML ACS parses before any
 * signature is checked: the decoded Response (saml_doc_parse() +
 * saml_doc_check(), with the NameID and with an attribute as subject), the
 * HTTP-POST form (saml_form_parse()) and xs:dateTime (saml_time_parse()).
 * Invariants: an accepted response always yields a subject, a class ref
 * and an assertion ID, and keeps its ID at least until now; a refusal
 * always says why. tests/fuzz/standalone.c replays tests/fuzz/corpus/saml/
 * in make check (seeds: a good response, XSW shapes, comment injection,
 * DOCTYPE/entity expansion, SHA-1, forms).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the expectations the seeds are written for (2026-01-01T00:00:00Z) */
static const char *const fuzz_saml_order[] = {
	"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
	NULL,
};
static const char *const fuzz_saml_refs[] = {
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
	NULL,
};

/* fuzz_saml_check() runs the DOM checks once with or without an attribute subject. */
static void
fuzz_saml_check(const struct saml_doc *d, const char *attr)
{
	struct saml_expect x;
	struct saml_result res;
	char err[512] = "";
	enum su_rc rc;

	memset(&x, 0, sizeof(x));
	x.idp_entity_id = "https://idp.example/md";
	x.sp_entity_id = "https://sp.example/saml/metadata";
	x.acs_url = "https://sp.example/saml/acs";
	x.request_id = "_req1";
	x.class_refs = fuzz_saml_refs;
	x.comparison = CFG_CMP_MINIMUM;
	x.class_ref_order = fuzz_saml_order;
	x.subject_attribute = attr;
	x.flow_created_at = 1767225590;
	x.now = 1767225600;
	x.skew = 60;
	rc = saml_doc_check(d, &x, &res, err, sizeof(err));
	if (rc == SU_OK && (res.subject == NULL || res.class_ref == NULL || res.assertion_id == NULL ||
			    res.not_on_or_after < x.now))
		abort();
	if (rc != SU_OK && err[0] == '\0')
		abort();
	saml_result_cleanup(&res);
}

/* LLVMFuzzerTestOneInput() feeds one input to every entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct saml_doc *d = NULL;
	char err[256] = "", *r = NULL, *s = NULL, *str;
	int64_t t;

	if (saml_doc_parse(data, size, &d, err, sizeof(err)) == SU_OK) {
		fuzz_saml_check(d, NULL);
		fuzz_saml_check(d, "mail");
		saml_doc_free(d);
	} else if (err[0] == '\0') {
		abort();
	}
	if (saml_form_parse((const char *)data, size, &r, &s, err, sizeof(err)) == SU_OK &&
	    (r == NULL || s == NULL || r[0] == '\0' || s[0] == '\0'))
		abort();
	free(r);
	free(s);
	str = malloc(size + 1);
	if (str != NULL) {
		memcpy(str, data, size);
		str[size] = '\0';
		(void)saml_time_parse(str, &t);
		free(str);
	}
	return 0;
}
