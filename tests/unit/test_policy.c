/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_policy.c: session policies (policy.h). The JSON format: a full
 * policy parses to the right values, every kind of bad input is refused
 * with an error naming the policy and the field, and export round-trips.
 * The evaluation: each filter with in / not_in, the absent-attribute rule,
 * session control scopes, most-restrictive-wins and its ties, disabled
 * policies. The glob matcher and file extensions.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "policy.h"
#include "t.h"

/* q() returns a malloc'd copy of s with every ' turned into ", so JSON can
 * be written readably in C strings (no test name needs an apostrophe). */
static char *
q(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p != NULL && *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

/* parse_q() parses q(s) with cfg; *errs gets the error text (caller frees). */
static enum su_rc
parse_q(const char *s, const struct cfg *cfg, struct policy_set **set, char **errs)
{
	char *j = q(s);
	enum su_rc rc = policy_set_parse(j, strlen(j), cfg, set, errs);

	free(j);
	return rc;
}

/* refused_full() checks that json is refused (with cfg) and that the
 * error text holds want; error lines are joined with '|' for TAP. */
static void
refused_full(const char *json, const struct cfg *cfg, const char *want, const char *what)
{
	struct policy_set *set = NULL;
	char *errs = NULL;
	enum su_rc rc = parse_q(json, cfg, &set, &errs);

	for (char *c = errs; c != NULL && *c != '\0'; c++)
		if (*c == '\n')
			*c = c[1] != '\0' ? '|' : '\0';
	T_OK(rc != SU_OK && set == NULL && errs != NULL && strstr(errs, want) != NULL,
	     "refused: %s (want '%s', got '%s')", what, want, errs ? errs : "(null)");
	free(errs);
	policy_set_free(set);
}

#define BASE_HEAD "{'policies':[{'name':'p','severity':'high',"
#define BASE_TAIL "}]}"
#define BASE(extra) BASE_HEAD "'action':{'type':'block'}" extra BASE_TAIL

/* refused() is refused_full() without a config. */
static void
refused(const char *json, const char *want, const char *what)
{
	refused_full(json, NULL, want, what);
}

/* A full policy: every field. */
static const char *full_policy =
	"{'policies':[{"
	"'name':'Require step-up authentication on downloads from unmanaged devices',"
	"'description':'seed\\nline two','severity':'high','category':'DLP','enabled':true,"
	"'session_control':['block_activities','control_file_download'],"
	"'activity_filters':{"
	" 'device_tags':{'op':'not_equals','values':['compliant','hybrid_joined','valid_client_cert']},"
	" 'apps':{'op':'in','values':['Files','sharepoint']},"
	" 'users':{'op':'not_in','values':['svc-backup']},"
	" 'groups':{'op':'in','values':['staff']},"
	" 'ip_ranges':{'op':'not_in','values':['10.0.0.0/8','2001:db8::/32']},"
	" 'activities':{'op':'in','values':['download','print']},"
	" 'url_path':{'op':'in','values':['/files/**'],'ignore_case':true}},"
	"'file_filters':{"
	" 'labels':{'op':'in','values':['Confidential','Highly Confidential']},"
	" 'file_name':{'op':'not_in','values':['public-*']},"
	" 'file_extension':{'op':'in','values':['pdf','DOCX']}},"
	"'action':{'type':'step_up','context':'c1'},"
	"'alerts':{'enabled':true,'daily_limit':50,'webhook':true,'email':['secops@example.com']}"
	"}]}";

static void
test_parse_full(void)
{
	struct policy_set *set = NULL, *again = NULL;
	char *errs = NULL, *out = NULL, *out2 = NULL;
	const struct policy *p;
	enum su_rc rc = parse_q(full_policy, NULL, &set, &errs);

	T_OK(rc == SU_OK && set != NULL && set->n == 1, "full policy parses (%s)", errs ? errs : "");
	if (rc != SU_OK)
		return;
	p = set->v[0];
	T_OK(strcmp(p->name, "Require step-up authentication on downloads from unmanaged devices") == 0 &&
	     strcmp(p->description, "seed\nline two") == 0 && strcmp(p->category, "DLP") == 0 &&
	     p->severity == POLICY_SEV_HIGH && p->enabled && p->id == 0,
	     "name, description, category, severity, enabled");
	T_OK(p->session_control == (POLICY_CTL_BLOCK_ACTIVITIES | POLICY_CTL_CONTROL_FILE_DOWNLOAD),
	     "session_control bits");
	T_OK(p->device_tags.present && p->device_tags.op == POLICY_OP_NOT_IN &&
	     p->device_mask == (POLICY_TAG_COMPLIANT | POLICY_TAG_HYBRID_JOINED |
				POLICY_TAG_VALID_CLIENT_CERT),
	     "device tags not_equals, all three bits");
	T_OK(p->apps.n == 2 && p->users.op == POLICY_OP_NOT_IN && p->groups.n == 1 &&
	     p->ip_ranges.n == 2 && p->cidrs[1].family == AF_INET6 && p->activities.n == 2 &&
	     p->url_path.n == 1 && p->url_path_ignore_case,
	     "activity filters");
	T_OK(p->labels.n == 2 && p->file_name.op == POLICY_OP_NOT_IN && p->file_extension.n == 2,
	     "file filters");
	T_OK(p->action == POLICY_ACTION_STEP_UP && strcmp(p->context, "c1") == 0, "action step_up c1");
	T_OK(p->alerts.enabled && p->alerts.daily_limit == 50 && p->alerts.webhook &&
	     p->alerts.n_email == 1 && strcmp(p->alerts.email[0], "secops@example.com") == 0,
	     "alerts");
	/* round trip: export, parse the export, export again: same text */
	rc = policy_set_to_json(set, &out);
	T_OK(rc == SU_OK && out != NULL && out[strlen(out) - 1] == '\n', "export works");
	rc = policy_set_parse(out, strlen(out), NULL, &again, &errs);
	T_OK(rc == SU_OK && again->n == 1, "export parses back");
	if (rc == SU_OK) {
		policy_set_to_json(again, &out2);
		T_OK(out2 != NULL && strcmp(out, out2) == 0, "export -> import -> export is identical");
		T_OK(again->v[0]->device_mask == p->device_mask && again->v[0]->alerts.daily_limit == 50 &&
		     again->v[0]->url_path_ignore_case && strcmp(again->v[0]->context, "c1") == 0,
		     "round trip keeps the meaning");
	}
	free(out);
	free(out2);
	free(errs);
	policy_set_free(again);
	policy_set_free(set);
}

static void
test_parse_defaults(void)
{
	struct policy_set *set = NULL;
	char *errs = NULL, *one = NULL;
	struct policy *p1 = NULL;
	enum su_rc rc = parse_q("{'policies':[{'name':'a','severity':'low','action':{'type':'allow'}},"
				"{'name':'b','severity':'medium','action':{'type':'block'}}]}",
				NULL, &set, &errs);

	T_OK(rc == SU_OK && set->n == 2, "minimal policies parse");
	if (rc != SU_OK)
		return;
	T_OK(set->v[0]->enabled && set->v[0]->session_control == POLICY_CTL_MONITOR_ONLY &&
	     strcmp(set->v[0]->description, "") == 0 && strcmp(set->v[0]->category, "") == 0 &&
	     !set->v[0]->alerts.enabled && set->v[0]->alerts.daily_limit == 100,
	     "defaults: enabled, monitor_only for allow, empty texts, alerts off (limit 100)");
	T_OK(set->v[1]->session_control == POLICY_CTL_BLOCK_ACTIVITIES,
	     "default control for block is block_activities");
	T_OK(policy_to_json(set->v[1], &one) == SU_OK && one != NULL && strchr(one, '\n') == NULL,
	     "policy_to_json is compact");
	T_OK(one != NULL && policy_parse_one(one, strlen(one), NULL, &p1, NULL) == SU_OK &&
	     strcmp(p1->name, "b") == 0 && p1->action == POLICY_ACTION_BLOCK,
	     "policy_parse_one reads it back");
	policy_free(p1);
	free(one);
	policy_set_free(set);
	rc = parse_q("{'policies':[]}", NULL, &set, &errs);
	T_OK(rc == SU_OK && set->n == 0, "an empty set is valid");
	policy_set_free(set);
}

static void
test_parse_refusals(void)
{
	char big[POLICY_NAME_MAX + 64], *many;
	size_t k;

	refused("not json", "not valid JSON", "not JSON");
	refused("{'policies':[]} x", "not valid JSON", "trailing garbage");
	refused("[]", "must be a JSON object", "top level array");
	refused("{'policies':[],'extra':1}", "unknown member \"extra\"", "unknown top-level member");
	refused("{'policies':{}}", "policies: is required and must be an array", "policies not array");
	refused("{}", "policies: is required", "no policies member");
	refused("{'policies':[],'policies':[]}", "duplicate", "duplicate JSON member (top)");
	refused(BASE(",'severity':'low'"), "duplicate", "duplicate JSON member in a policy");
	refused("{'policies':[1]}", "policy 1: policy: must be a JSON object", "policy not object");
	refused(BASE(",'colour':'red'"), "policy 1 (\"p\"): policy: unknown member \"colour\"",
		"unknown policy member");
	refused("{'policies':[{'severity':'high','action':{'type':'block'}}]}", "name: is required",
		"missing name");
	refused("{'policies':[{'name':'','severity':'high','action':{'type':'block'}}]}",
		"name: must be 1 to 128", "empty name");
	refused("{'policies':[{'name':' p','severity':'high','action':{'type':'block'}}]}",
		"name: must not begin or end with a space", "name with a leading space");
	refused("{'policies':[{'name':'a\\u0001b','severity':'high','action':{'type':'block'}}]}",
		"name: must be 1 to 128", "name with a control character");
	refused("{'policies':[{'name':'a\\u0000b','severity':'high','action':{'type':'block'}}]}",
		"not valid JSON", "name with NUL");
	memset(big, 'x', POLICY_NAME_MAX + 1);
	big[POLICY_NAME_MAX + 1] = '\0';
	{
		char buf[512];

		snprintf(buf, sizeof(buf), "{'policies':[{'name':'%s','severity':'high',"
			 "'action':{'type':'block'}}]}", big);
		refused(buf, "name: must be 1 to 128", "name of 129 bytes");
		big[POLICY_NAME_MAX] = '\0';
		snprintf(buf, sizeof(buf), "{'policies':[{'name':'%s','severity':'high',"
			 "'action':{'type':'block'}}]}", big);
		{
			struct policy_set *s = NULL;
			char *e = NULL;

			T_OK(parse_q(buf, NULL, &s, &e) == SU_OK, "name of 128 bytes is fine");
			policy_set_free(s);
			free(e);
		}
	}
	refused("{'policies':[{'name':'p','action':{'type':'block'}}]}", "severity: is required",
		"missing severity");
	refused("{'policies':[{'name':'p','severity':'urgent','action':{'type':'block'}}]}",
		"severity: must be", "bad severity");
	refused("{'policies':[{'name':'p','severity':1,'action':{'type':'block'}}]}",
		"severity: must be a string", "severity of the wrong type");
	refused(BASE(",'enabled':'yes'"), "enabled: must be true or false", "enabled not boolean");
	refused(BASE(",'description':5"), "description: must be a string", "description not string");
	refused(BASE(",'category':'a\\nb'"), "category: must be", "category with a newline");
	/* session control */
	refused(BASE(",'session_control':['audit']"), "session_control[0]: must be",
		"unknown session control");
	refused(BASE(",'session_control':[]"), "session_control: must be a non-empty array",
		"empty session control");
	refused(BASE(",'session_control':'block_activities'"), "session_control: must be",
		"session control not an array");
	refused(BASE(",'session_control':['block_activities','block_activities']"),
		"session_control[1]: is listed twice", "duplicate session control");
	refused(BASE(",'session_control':['monitor_only']"), "their action must be allow",
		"monitor_only with block");
	refused("{'policies':[{'name':'p','severity':'low','action':{'type':'allow'},"
		"'session_control':['monitor_only','block_activities']}]}",
		"monitor_only cannot be combined", "monitor_only combined");
	/* filters */
	refused(BASE(",'activity_filters':{'colour':{'op':'in','values':['x']}}"),
		"activity_filters: unknown member \"colour\"", "unknown activity filter");
	refused(BASE(",'activity_filters':{'labels':{'op':'in','values':['x']}}"),
		"activity_filters: unknown member \"labels\"", "file filter in activity_filters");
	refused(BASE(",'file_filters':{'apps':{'op':'in','values':['x']}}"),
		"file_filters: unknown member \"apps\"", "activity filter in file_filters");
	refused(BASE(",'activity_filters':[]"), "activity_filters: must be an object",
		"activity_filters not an object");
	refused(BASE(",'activity_filters':{'apps':['x']}"), "activity_filters.apps: must be an object",
		"filter not an object");
	refused(BASE(",'activity_filters':{'apps':{'op':'in','values':['x'],'x':1}}"),
		"activity_filters.apps: unknown member \"x\"", "unknown member in a filter");
	refused(BASE(",'activity_filters':{'apps':{'values':['x']}}"), "activity_filters.apps.op: is required",
		"filter without op");
	refused(BASE(",'activity_filters':{'apps':{'op':'equals','values':['x']}}"),
		"activity_filters.apps.op: must be \"in\" or \"not_in\"", "equals on apps");
	refused(BASE(",'activity_filters':{'device_tags':{'op':'in','values':['compliant']}}"),
		"device_tags.op: must be \"equals\" or \"not_equals\"", "in on device tags");
	refused(BASE(",'activity_filters':{'apps':{'op':'in'}}"), "activity_filters.apps.values: is required",
		"filter without values");
	refused(BASE(",'activity_filters':{'apps':{'op':'in','values':[]}}"), "apps.values: must not be empty",
		"empty list");
	refused(BASE(",'activity_filters':{'apps':{'op':'in','values':'x'}}"),
		"apps.values: must be an array", "values not an array");
	refused(BASE(",'activity_filters':{'apps':{'op':'in','values':['x',2]}}"),
		"apps.values[1]: must be a string", "value not a string");
	refused(BASE(",'activity_filters':{'apps':{'op':'in','values':['']}}"),
		"apps.values[0]: must be 1 to 256", "empty value");
	refused(BASE(",'activity_filters':{'device_tags':{'op':'equals','values':['managed']}}"),
		"device_tags.values[0]: must be compliant", "unknown device tag");
	refused(BASE(",'activity_filters':{'ip_ranges':{'op':'in','values':['10.0.0.0/33']}}"),
		"ip_ranges.values[0]: is not an IPv4 or IPv6", "bad IPv4 CIDR");
	refused(BASE(",'activity_filters':{'ip_ranges':{'op':'in','values':['10.0.0.0/8','fe80::/129']}}"),
		"ip_ranges.values[1]: is not an IPv4 or IPv6", "bad IPv6 CIDR");
	refused(BASE(",'activity_filters':{'ip_ranges':{'op':'in','values':['example.com']}}"),
		"ip_ranges.values[0]", "host name as CIDR");
	refused(BASE(",'activity_filters':{'activities':{'op':'in','values':['Download']}}"),
		"activities.values[0]: must be a lowercase token", "activity with uppercase");
	refused(BASE(",'activity_filters':{'url_path':{'op':'in','values':['admin']}}"),
		"url_path.values[0]: must start with '/'", "relative path pattern");
	refused(BASE(",'activity_filters':{'url_path':{'op':'in','values':['/a/../admin']}}"),
		"url_path.values[0]", "path pattern with ..");
	refused(BASE(",'activity_filters':{'url_path':{'op':'in','values':['//admin']}}"),
		"url_path.values[0]", "path pattern with //");
	refused(BASE(",'activity_filters':{'url_path':{'op':'in','values':['/a\\\\b']}}"),
		"url_path.values[0]", "path pattern with a backslash");
	refused(BASE(",'activity_filters':{'url_path':{'op':'in','values':['/a'],'ignore_case':1}}"),
		"url_path.ignore_case: must be true or false", "ignore_case not boolean");
	refused(BASE(",'activity_filters':{'apps':{'op':'in','values':['x'],'ignore_case':true}}"),
		"apps: unknown member \"ignore_case\"", "ignore_case outside url_path");
	refused(BASE(",'file_filters':{'file_extension':{'op':'in','values':['.pdf']}}"),
		"file_extension.values[0]: must be an extension", "extension with a dot");
	refused(BASE(",'file_filters':{'labels':{'op':'maybe','values':['x']}}"),
		"file_filters.labels.op", "bad op on labels");
	/* too many entries */
	many = malloc(POLICY_LIST_MAX * 8 + 256);
	k = (size_t)snprintf(many, 256, "%s", BASE_HEAD "'action':{'type':'block'},"
					   "'activity_filters':{'apps':{'op':'in','values':[");
	for (int i = 0; i <= POLICY_LIST_MAX; i++)
		k += (size_t)snprintf(many + k, 16, "%s'a%d'", i ? "," : "", i);
	snprintf(many + k, 64, "]}}" BASE_TAIL);
	refused(many, "apps.values: has 257 entries; at most 256", "257 list entries");
	free(many);
	/* action */
	refused("{'policies':[{'name':'p','severity':'high'}]}", "action: is required", "no action");
	refused(BASE_HEAD "'action':'block'" BASE_TAIL, "action: must be an object", "action not object");
	refused(BASE_HEAD "'action':{'type':'deny'}" BASE_TAIL, "action.type: must be", "bad action type");
	refused(BASE_HEAD "'action':{'type':'step_up'}" BASE_TAIL, "action.context: is required for step_up",
		"step_up without context");
	refused(BASE_HEAD "'action':{'type':'block','context':'c1'}" BASE_TAIL,
		"action.context: is only allowed with type step_up", "context on block");
	refused(BASE_HEAD "'action':{'type':'step_up','context':'a b'}" BASE_TAIL,
		"action.context: must be a context name", "context with a space");
	refused(BASE_HEAD "'action':{'type':'block','why':1}" BASE_TAIL,
		"action: unknown member \"why\"", "unknown member in action");
	/* alerts */
	refused(BASE(",'alerts':{'enabled':true,'daily_limit':0}"), "alerts.daily_limit: must be 1 to 10000",
		"daily limit 0");
	refused(BASE(",'alerts':{'enabled':true,'daily_limit':10001}"), "alerts.daily_limit: must be 1 to",
		"daily limit 10001");
	refused(BASE(",'alerts':{'enabled':true,'daily_limit':1.5}"), "alerts.daily_limit: must be an integer",
		"daily limit not an integer");
	refused(BASE(",'alerts':{'enabled':true,'daily_limit':'5'}"), "alerts.daily_limit: must be an integer",
		"daily limit a string");
	refused(BASE(",'alerts':{'daily_limit':5}"), "alerts.enabled: is required", "alerts without enabled");
	refused(BASE(",'alerts':{'enabled':true,'email':[]}"), "alerts.email: must not be empty",
		"empty e-mail list");
	refused(BASE(",'alerts':{'enabled':true,'email':['not-an-address']}"),
		"alerts.email[0]: must be an e-mail address", "bad e-mail");
	refused(BASE(",'alerts':{'enabled':true,'email':['a@b@c']}"), "alerts.email[0]", "two @");
	refused(BASE(",'alerts':{'enabled':true,'email':['a <b>@c.d']}"), "alerts.email[0]",
		"address with specials");
	refused(BASE(",'alerts':{'enabled':true,'email':['a@-b.c']}"), "alerts.email[0]",
		"domain label starting with -");
	refused(BASE(",'alerts':{'enabled':true,'webhook':'yes'}"), "alerts.webhook: must be true or false",
		"webhook not boolean");
	refused(BASE(",'alerts':{'enabled':true,'sms':true}"), "alerts: unknown member \"sms\"",
		"unknown alerts member");
	/* duplicates and counts */
	refused("{'policies':[{'name':'Same','severity':'high','action':{'type':'block'}},"
		"{'name':'same','severity':'low','action':{'type':'allow'}}]}",
		"policy 2 (\"same\"): name: duplicates", "duplicate name (case-insensitive)");
	refused("{'policies':[{'name':'a','severity':'x','action':{'type':'block'}},"
		"{'name':'b','severity':'high','action':{'type':'nope'}}]}",
		"policy 2 (\"b\"): action.type", "second policy's error reported too");
	refused("{'policies':[{'name':'a\\u001b[31m','severity':'x'}]}", "policy 1 (\"a?[31m\")",
		"hostile name is sanitised in the error");
	many = malloc((POLICY_MAX + 1) * 64 + 64);
	k = (size_t)snprintf(many, 32, "{'policies':[");
	for (int i = 0; i <= POLICY_MAX; i++)
		k += (size_t)snprintf(many + k, 64, "%s{'name':'p%d','severity':'low',"
				      "'action':{'type':'allow'}}", i ? "," : "", i);
	snprintf(many + k, 8, "]}");
	refused(many, "policies: 1001 policies; at most 1000", "1001 policies");
	free(many);
}

/* test_parse_contexts() checks step_up contexts against a config. */
static void
test_parse_contexts(void)
{
	char dir[] = "/tmp/test_policy.XXXXXX", path[PATH_MAX];
	struct cfg *c = NULL;
	char *errs = NULL;
	struct policy_set *set = NULL;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/stepupd.conf", dir);
	f = fopen(path, "w");
	fputs("[provider \"op\"]\ntype = oidc\nissuer = http://127.0.0.1:9400\n"
	      "client_id = rp\nclient_secret = s\n\n[context \"c1\"]\nprovider = op\nacrs = c1\n",
	      f);
	fclose(f);
	if (cfg_load(path, &c, &errs) != SU_OK) {
		T_OK(0, "test config loads: %s", errs ? errs : "");
		free(errs);
		return;
	}
	T_OK(parse_q(BASE_HEAD "'action':{'type':'step_up','context':'c1'}" BASE_TAIL, c, &set,
		     &errs) == SU_OK,
	     "step_up to a configured context is accepted");
	policy_set_free(set);
	set = NULL;
	refused_full(BASE_HEAD "'action':{'type':'step_up','context':'c9'}" BASE_TAIL, c,
		     "policy 1 (\"p\"): action.context: no [context \"c9\"] in the configuration",
		     "step_up to an unknown context");
	cfg_free(c);
	unlink(path);
	rmdir(dir);
}

/* ---- evaluation ---- */

static struct policy_set *
set_q(const char *json)
{
	struct policy_set *set = NULL;
	char *errs = NULL;

	if (parse_q(json, NULL, &set, &errs) != SU_OK) {
		printf("# set does not parse: %s\n", errs ? errs : "?");
		free(errs);
		return NULL;
	}
	return set;
}

/* decide() evaluates and returns the action (NONE on error too, with a
 * failed check). */
static enum policy_action
decide(const struct policy_set *set, const struct policy_request *r, const char **winner,
       size_t *n_matched)
{
	struct policy_decision d;
	enum policy_action a;

	if (policy_evaluate(set, r, &d) != SU_OK) {
		T_OK(0, "policy_evaluate failed");
		return POLICY_ACTION_NONE;
	}
	a = d.action;
	if (winner != NULL)
		*winner = d.winner ? d.winner->name : NULL;
	if (n_matched != NULL)
		*n_matched = d.n_matched;
	policy_decision_cleanup(&d);
	return a;
}

/* one() builds a one-policy set from an action and filter members. */
static struct policy_set *
one(const char *action, const char *extra)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{'policies':[{'name':'t','severity':'high','action':{'type':'%s'%s}%s}]}", action,
		 strcmp(action, "step_up") == 0 ? ",'context':'c1'" : "", extra);
	return set_q(buf);
}

static void
set_addr(struct policy_request *r, const char *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&r->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&r->addr;

	memset(&r->addr, 0, sizeof(r->addr));
	r->addr_known = true;
	if (inet_pton(AF_INET, a, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, a, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
}

static void
test_eval_device(void)
{
	struct policy_set *su = one("step_up", ",'activity_filters':{'device_tags':{'op':'not_equals',"
				    "'values':['compliant','hybrid_joined','valid_client_cert']}}");
	struct policy_set *al = one("allow", ",'activity_filters':{'device_tags':{'op':'equals',"
				    "'values':['compliant']}}");
	struct policy_set *aln = one("allow", ",'activity_filters':{'device_tags':{'op':'not_equals',"
				     "'values':['compliant']}}");
	struct policy_request r = { 0 };

	if (su == NULL || al == NULL || aln == NULL)
		goto out;
	T_OK(decide(su, &r, NULL, NULL) == POLICY_ACTION_STEP_UP,
	     "no device header: 'not_equals compliant/...' step_up matches (fail closed)");
	r.device_known = true;
	r.device_tags = 0;
	T_OK(decide(su, &r, NULL, NULL) == POLICY_ACTION_STEP_UP, "empty device tags: matches");
	r.device_tags = POLICY_TAG_HYBRID_JOINED;
	T_OK(decide(su, &r, NULL, NULL) == POLICY_ACTION_NONE,
	     "hybrid joined device: not_equals (none of them) does not match");
	r.device_tags = POLICY_TAG_VALID_CLIENT_CERT | POLICY_TAG_COMPLIANT;
	T_OK(decide(su, &r, NULL, NULL) == POLICY_ACTION_NONE, "compliant + cert: no match");
	T_OK(decide(al, &r, NULL, NULL) == POLICY_ACTION_ALLOW, "equals compliant: matches");
	r.device_tags = POLICY_TAG_HYBRID_JOINED;
	T_OK(decide(al, &r, NULL, NULL) == POLICY_ACTION_NONE, "equals compliant: other tag, no match");
	r.device_known = false;
	T_OK(decide(al, &r, NULL, NULL) == POLICY_ACTION_NONE,
	     "allow + equals, no header: no match");
	T_OK(decide(aln, &r, NULL, NULL) == POLICY_ACTION_NONE,
	     "allow + not_equals, no header: no match (allow needs stated attributes)");
	r.device_known = true;
	r.device_tags = 0;
	T_OK(decide(aln, &r, NULL, NULL) == POLICY_ACTION_ALLOW, "allow + not_equals, stated: matches");
out:
	policy_set_free(su);
	policy_set_free(al);
	policy_set_free(aln);
}

static void
test_eval_text_filters(void)
{
	struct policy_set *s;
	struct policy_request r = { 0 };
	const char *groups[] = { "staff", "contractors" };

	s = one("block", ",'activity_filters':{'apps':{'op':'in','values':['Files','wiki']}}");
	r.app = "files";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "apps in: case-insensitive match");
	r.app = "mail";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "apps in: other app");
	r.app = NULL;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "apps in: absent app, no match");
	policy_set_free(s);

	s = one("block", ",'activity_filters':{'apps':{'op':'not_in','values':['files']}}");
	r.app = "mail";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "apps not_in: other app matches");
	r.app = "FILES";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "apps not_in: listed app");
	r.app = NULL;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK,
	     "block + not_in, absent app: matches (fail closed)");
	policy_set_free(s);

	s = one("step_up", ",'activity_filters':{'users':{'op':'in','values':['alice']}}");
	r.user = "alice";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_STEP_UP, "users in: exact");
	r.user = "Alice";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "users are case-sensitive");
	policy_set_free(s);

	s = one("block", ",'activity_filters':{'groups':{'op':'in','values':['contractors']}}");
	r.groups = groups;
	r.n_groups = 2;
	r.groups_known = true;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "groups in: any group");
	r.n_groups = 1;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "groups in: not a member");
	policy_set_free(s);
	s = one("block", ",'activity_filters':{'groups':{'op':'not_in','values':['staff']}}");
	r.n_groups = 2;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "groups not_in: member of one");
	r.n_groups = 0;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "groups not_in: no groups");
	r.groups_known = false;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "groups not_in: absent, block");
	policy_set_free(s);
	s = one("allow", ",'activity_filters':{'groups':{'op':'not_in','values':['staff']}}");
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "groups not_in: absent, allow");
	policy_set_free(s);

	memset(&r, 0, sizeof(r));
	s = one("block", ",'activity_filters':{'activities':{'op':'in','values':['download','print']}}");
	r.activity = "Download";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "activities in: case-insensitive");
	r.activity = "view";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "activities in: other activity");
	policy_set_free(s);

	s = one("block", ",'file_filters':{'labels':{'op':'in','values':['Highly Confidential']}}");
	r.file_label = "highly confidential";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "labels: case-insensitive exact");
	r.file_label = "Highly Confidential Extra";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "labels: no prefix match");
	r.file_label = NULL;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "labels in: absent label");
	policy_set_free(s);

	s = one("block", ",'file_filters':{'file_name':{'op':'in','values':['report-*.pdf']}}");
	r.file_name = "dir/Report-2024.PDF";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "file_name glob on the base name, ci");
	r.file_name = "notes.pdf";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "file_name glob: no match");
	policy_set_free(s);

	s = one("block", ",'file_filters':{'file_extension':{'op':'in','values':['exe','DLL']}}");
	r.file_name = "setup.EXE";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "file_extension in: .EXE");
	r.file_name = "evil.exe. .";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "trailing dots/spaces ignored");
	r.file_name = "lib.dll";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "file_extension: listed in caps");
	r.file_name = "exe";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "no extension: no match");
	policy_set_free(s);
	s = one("block", ",'file_filters':{'file_extension':{'op':'not_in','values':['pdf']}}");
	r.file_name = NULL;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK,
	     "block + extension not_in, no file name: matches");
	r.file_name = "a.pdf";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "extension not_in: listed");
	policy_set_free(s);
}

static void
test_eval_ip_path(void)
{
	struct policy_set *s;
	struct policy_request r = { 0 };

	s = one("block", ",'activity_filters':{'ip_ranges':{'op':'not_in','values':"
		"['10.0.0.0/8','2001:db8::/32']}}");
	set_addr(&r, "10.1.2.3");
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "ip not_in: inside 10/8");
	set_addr(&r, "192.0.2.1");
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "ip not_in: outside");
	set_addr(&r, "2001:db8::5");
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "ip not_in: inside the v6 range");
	set_addr(&r, "::ffff:10.0.0.1");
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "v4-mapped v6 matched as v4");
	r.addr_known = false;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "unknown address: block matches");
	policy_set_free(s);
	s = one("allow", ",'activity_filters':{'ip_ranges':{'op':'in','values':['10.0.0.0/8']}}");
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "unknown address: allow does not");
	set_addr(&r, "10.9.9.9");
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_ALLOW, "ip in: allow matches");
	policy_set_free(s);

	memset(&r, 0, sizeof(r));
	s = one("step_up", ",'activity_filters':{'url_path':{'op':'in','values':['/admin/**','/files/*.pdf']}}");
	r.path = "/admin";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_STEP_UP, "/admin/** matches /admin");
	r.path = "/admin/users/1";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_STEP_UP, "/admin/** matches deep paths");
	r.path = "/administrator";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "/admin/** not /administrator");
	r.path = "/Admin";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "paths are case-sensitive by default");
	r.path = "/files/a.pdf";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_STEP_UP, "/files/*.pdf");
	r.path = "/files/x/a.pdf";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "* does not cross '/'");
	r.path = NULL;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "url_path in: no path, no match");
	policy_set_free(s);
	s = one("step_up", ",'activity_filters':{'url_path':{'op':'in','values':['/admin/**'],"
		"'ignore_case':true}}");
	r.path = "/ADMIN/x";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_STEP_UP, "ignore_case paths");
	policy_set_free(s);
}

static void
test_eval_combine(void)
{
	struct policy_set *s;
	struct policy_request r = { 0 };
	struct policy_decision d;
	const char *w = NULL;
	size_t n = 0;

	s = set_q("{'policies':["
		  "{'name':'allow all','severity':'high','action':{'type':'allow'}},"
		  "{'name':'step low','severity':'low','action':{'type':'step_up','context':'c1'}},"
		  "{'name':'step high','severity':'high','action':{'type':'step_up','context':'c2'}},"
		  "{'name':'step high 2','severity':'high','action':{'type':'step_up','context':'c3'}},"
		  "{'name':'block off','severity':'high','enabled':false,'action':{'type':'block'}},"
		  "{'name':'block apps','severity':'low','action':{'type':'block'},"
		  " 'activity_filters':{'apps':{'op':'in','values':['x']}}}]}");
	if (s == NULL)
		return;
	T_OK(decide(s, &r, &w, &n) == POLICY_ACTION_STEP_UP && n == 4 && w &&
	     strcmp(w, "step high") == 0,
	     "step_up beats allow; higher severity wins; the first of equals wins; disabled ignored");
	T_OK(policy_evaluate(s, &r, &d) == SU_OK && d.context && strcmp(d.context, "c2") == 0 &&
	     d.n_matched == 4 && strcmp(d.matched[0]->name, "allow all") == 0 &&
	     strcmp(d.matched[3]->name, "step high 2") == 0,
	     "decision carries the context and every match in order");
	policy_decision_cleanup(&d);
	r.app = "x";
	T_OK(decide(s, &r, &w, &n) == POLICY_ACTION_BLOCK && n == 5 && strcmp(w, "block apps") == 0,
	     "block beats step_up whatever the severity");
	policy_set_free(s);

	s = set_q("{'policies':[{'name':'a','severity':'low','action':{'type':'allow'},"
		  "'activity_filters':{'apps':{'op':'in','values':['y']}}}]}");
	r.app = "x";
	T_OK(s && policy_evaluate(s, &r, &d) == SU_OK && d.action == POLICY_ACTION_NONE &&
	     d.winner == NULL && d.n_matched == 0 && d.matched == NULL,
	     "nothing matched: NONE (the caller applies [policy] default)");
	policy_decision_cleanup(&d);
	T_OK(policy_evaluate(NULL, &r, &d) == SU_EINVAL && d.action == POLICY_ACTION_NONE,
	     "NULL set: error, no decision");
	T_OK(policy_evaluate(s, NULL, &d) == SU_EINVAL, "NULL request: error");
	policy_set_free(s);

	/* all filters must match (AND) */
	s = one("block", ",'activity_filters':{'apps':{'op':'in','values':['files']},"
		"'activities':{'op':'in','values':['download']}},"
		"'file_filters':{'labels':{'op':'in','values':['Confidential']}}");
	memset(&r, 0, sizeof(r));
	r.app = "files";
	r.activity = "download";
	r.file_label = "Confidential";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "AND: all three match");
	r.file_label = "Public";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "AND: one fails");
	policy_set_free(s);
}

static void
test_eval_scope(void)
{
	struct policy_set *s;
	struct policy_request r = { 0 };

	s = one("block", ",'session_control':['control_file_download']");
	r.activity = "download";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "control_file_download: downloads");
	r.activity = "upload";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE, "control_file_download: not uploads");
	r.activity = NULL;
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_NONE,
	     "control_file_download: no activity stated, no match");
	policy_set_free(s);
	s = one("block", ",'session_control':['control_file_download','control_file_upload']");
	r.activity = "UPLOAD";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "download+upload controls: upload");
	policy_set_free(s);
	s = one("block", ",'session_control':['control_file_download','block_activities']");
	r.activity = "print";
	T_OK(s && decide(s, &r, NULL, NULL) == POLICY_ACTION_BLOCK, "block_activities: any activity");
	policy_set_free(s);
}

static void
test_glob(void)
{
	char big[POLICY_VALUE_MAX + 8], text[5000];

	T_OK(policy_glob_match("/a/*/c", "/a/b/c", false), "* within a segment");
	T_OK(!policy_glob_match("/a/*/c", "/a/b/x/c", false), "* does not cross /");
	T_OK(policy_glob_match("/a/**/c", "/a/b/x/c", false), "** crosses /");
	T_OK(policy_glob_match("/a/**/c", "/a/c", false) == false, "/a/**/c needs a segment between");
	T_OK(policy_glob_match("/a/**", "/a", false), "trailing /** matches the bare prefix");
	T_OK(policy_glob_match("/a/**", "/a/", false), "trailing /** matches the prefix with /");
	T_OK(!policy_glob_match("/a/**", "/ab", false), "trailing /** not a longer name");
	T_OK(policy_glob_match("**", "/anything/at/all", false), "** alone matches everything");
	T_OK(policy_glob_match("*", "", false) && !policy_glob_match("*", "/", false), "* and empty");
	T_OK(policy_glob_match("/f?le", "/file", false) && !policy_glob_match("/f?le", "/f/le", false),
	     "? is one byte, not /");
	T_OK(policy_glob_match("", "", false) && !policy_glob_match("", "x", false), "empty pattern");
	T_OK(policy_glob_match("*.PDF", "a.pdf", true) && !policy_glob_match("*.PDF", "a.pdf", false),
	     "ignore_case");
	T_OK(policy_glob_match("a*b*c", "axxbyyc", false) && !policy_glob_match("a*b*c", "axxbyy", false),
	     "several stars");
	T_OK(!policy_glob_match(NULL, "x", false) && !policy_glob_match("x", NULL, false), "NULLs");
	memset(big, 'a', POLICY_VALUE_MAX + 1);
	big[POLICY_VALUE_MAX + 1] = '\0';
	T_OK(!policy_glob_match(big, big, false), "a pattern over 256 bytes never matches");
	/* a pathological pattern stays linear-time (it would explode with
	 * naive backtracking) */
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	T_OK(!policy_glob_match("**a**a**a**a**a**a**a**a**a**a**b", text, false),
	     "pathological pattern on 5000 bytes: no match, no blow-up");
}

static void
test_extension(void)
{
	char e[16];

	T_OK(policy_file_extension("a.PDF", e, sizeof(e)) && strcmp(e, "pdf") == 0, "a.PDF -> pdf");
	T_OK(policy_file_extension("x/y.tar.gz", e, sizeof(e)) && strcmp(e, "gz") == 0, "last dot");
	T_OK(policy_file_extension("C:\\d\\y.docx", e, sizeof(e)) && strcmp(e, "docx") == 0,
	     "backslash path");
	T_OK(policy_file_extension("evil.exe. . ", e, sizeof(e)) && strcmp(e, "exe") == 0,
	     "trailing dots and spaces dropped");
	T_OK(!policy_file_extension(".bashrc", e, sizeof(e)), "leading dot is not an extension");
	T_OK(!policy_file_extension("noext", e, sizeof(e)), "no dot");
	T_OK(!policy_file_extension("a.", e, sizeof(e)), "dot at the end");
	T_OK(!policy_file_extension("dir.d/file", e, sizeof(e)), "dot only in the directory");
	T_OK(!policy_file_extension("a.verylongextension", e, 8), "does not fit");
	T_OK(!policy_file_extension(NULL, e, sizeof(e)), "NULL");
}

static void
test_set_append(void)
{
	struct policy_set *s = NULL;
	struct policy *p = calloc(1, sizeof(*p)), *p2 = calloc(1, sizeof(*p2));

	p->name = strdup("x");
	p2->name = strdup("X");
	T_OK(policy_set_new(&s) == SU_OK && policy_set_append(s, p) == SU_OK && s->n == 1,
	     "append");
	T_OK(policy_set_append(s, p2) == SU_EINVAL && s->n == 1, "append refuses a duplicate name");
	policy_free(p2);
	policy_set_free(s);
	T_OK(strcmp(policy_action_str(POLICY_ACTION_STEP_UP), "step_up") == 0 &&
	     strcmp(policy_action_str(POLICY_ACTION_NONE), "none") == 0 &&
	     strcmp(policy_severity_str(POLICY_SEV_LOW), "low") == 0,
	     "enum names");
}

int
main(void)
{
	test_parse_full();
	test_parse_defaults();
	test_parse_refusals();
	test_parse_contexts();
	test_eval_device();
	test_eval_text_filters();
	test_eval_ip_path();
	test_eval_combine();
	test_eval_scope();
	test_glob();
	test_extension();
	test_set_append();
	return T_DONE();
}
