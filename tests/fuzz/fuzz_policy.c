/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_policy.c: libFuzzer target for the policy file parser. Feeds the
 * input to policy_set_parse() (no config: contexts checked for form only)
 * and checks the invariants callers rely on: a refusal always explains
 * itself and returns no set; an accepted set serialises, the
 * serialisation parses again, and serialising that gives the same text
 * (export -> import -> export is stable); evaluating an accepted set on a
 * fixed request never fails and returns a winner that matched.
 * tests/fuzz/standalone.c replays tests/fuzz/corpus/policy/ in make check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_policy_eval() evaluates s on a request with every attribute set,
 * then on one with none, checking the decision's consistency. */
static void
fuzz_policy_eval(const struct policy_set *s)
{
	static const char *const groups[] = { "staff", "contractors" };
	struct policy_request r;
	struct policy_decision d;

	for (int pass = 0; pass < 2; pass++) {
		memset(&r, 0, sizeof(r));
		if (pass == 0) {
			r.user = "alice";
			r.groups = groups;
			r.n_groups = 2;
			r.groups_known = true;
			r.app = "files";
			r.path = "/files/a/report.pdf";
			r.addr_known = true;
			r.addr.ss_family = AF_INET;
			r.device_known = true;
			r.device_tags = POLICY_TAG_HYBRID_JOINED;
			r.activity = "download";
			r.file_name = "report.PDF";
			r.file_label = "Confidential";
		}
		if (policy_evaluate(s, &r, &d) != SU_OK)
			abort();
		if ((d.winner == NULL) != (d.action == POLICY_ACTION_NONE) ||
		    (d.winner == NULL) != (d.n_matched == 0))
			abort();
		if (d.action == POLICY_ACTION_STEP_UP && d.context == NULL)
			abort();
		for (size_t i = 0; i < d.n_matched; i++)
			if (!d.matched[i]->enabled || d.matched[i]->action > d.action)
				abort();
		policy_decision_cleanup(&d);
	}
}

/* LLVMFuzzerTestOneInput() parses one input and checks the round trip. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_set *s = NULL, *again = NULL;
	char *errs = NULL, *j1 = NULL, *j2 = NULL, *e2 = NULL;
	enum su_rc rc;

	rc = policy_set_parse((const char *)data, size, NULL, &s, &errs);
	if (rc != SU_OK) {
		if (s != NULL || (rc != SU_ENOMEM && (errs == NULL || errs[0] == '\0')))
			abort();
		free(errs);
		return 0;
	}
	if (s == NULL || s->n > POLICY_MAX)
		abort();
	fuzz_policy_eval(s);
	if (policy_set_to_json(s, &j1) != SU_OK)
		abort();
	if (policy_set_parse(j1, strlen(j1), NULL, &again, &e2) != SU_OK || again->n != s->n)
		abort();
	if (policy_set_to_json(again, &j2) != SU_OK || strcmp(j1, j2) != 0)
		abort();
	free(j1);
	free(j2);
	free(e2);
	free(errs);
	policy_set_free(again);
	policy_set_free(s);
	return 0;
}
