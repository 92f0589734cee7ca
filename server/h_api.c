/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_api.c: the JSON API for proxies and applications (SPEC 2.3):
 * POST /api/v1/stepups, GET and DELETE /api/v1/session. The route table
 * has already checked the bearer API key. Bodies are parsed strictly:
 * an object with known members of the right types only.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handlers.h"
#include "http.h"
#include "log.h"
#include "polcache.h"
#include "policy.h"
#include "reqnorm.h"
#include "returl.h"
#include "store.h"
#include "xcrypt.h"

/* opt_string() reads member k of o: absent or null gives NULL; a non-string
 * or an invalid value makes *bad true. */
static const char *
opt_string(json_t *o, const char *k, size_t max, bool *bad)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || !h_text_valid(json_string_value(v), max)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

void
h_api_stepups_create(struct req *r)
{
	json_t *body = NULL, *v;
	json_error_t jerr;
	const char *session, *user, *context, *return_to, *key;
	const struct cfg_context *ctx;
	const char *const *allowed = (const char *const *)r->app->cfg->allowed_return_origins;
	char *url = NULL, err[160];
	int64_t exp = 0;
	bool bad = false;

	body = json_loadb(buf_cstr(&r->body), r->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(body)) {
		http_reply_error_json(r, 400, "body is not a JSON object");
		goto out;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "session") != 0 && strcmp(key, "user") != 0 &&
		    strcmp(key, "context") != 0 && strcmp(key, "return_to") != 0) {
			http_reply_error_json(r, 400, "unknown member in body");
			goto out;
		}
	}
	session = opt_string(body, "session", 256, &bad);
	if (bad || (session && !h_session_id_valid(session))) {
		http_reply_error_json(r, 400, "session must be 1-256 printable ASCII characters");
		goto out;
	}
	user = opt_string(body, "user", 256, &bad);
	if (bad) {
		http_reply_error_json(r, 400, "user must be a string of 1-256 characters");
		goto out;
	}
	context = opt_string(body, "context", 128, &bad);
	if (bad || context == NULL) {
		http_reply_error_json(r, 400, "context is required");
		goto out;
	}
	ctx = cfg_context_find(r->app->cfg, context);
	if (ctx == NULL) {
		http_reply_error_json(r, 400, "unknown context");
		goto out;
	}
	return_to = opt_string(body, "return_to", RETURL_MAX, &bad);
	if (bad || return_to == NULL) {
		http_reply_error_json(r, 400, "return_to is required");
		goto out;
	}
	if (returl_check(return_to, allowed, err, sizeof(err)) != SU_OK) {
		char msg[200];

		snprintf(msg, sizeof(msg), "return_to refused: %s", err);
		http_reply_error_json(r, 400, msg);
		goto out;
	}
	if (h_start_url_make(r, session, user, context, return_to, NULL, &url, &exp) != SU_OK) {
		http_reply_error_json(r, 500, "could not make a start URL");
		goto out;
	}
	http_reply_json(r, 201, json_pack("{s:s, s:I}", "url", url, "expires_at", (json_int_t)exp));
out:
	free(url);
	json_decref(body);
}

/* session_hash_from_header() validates X-Stepup-Session and hashes it;
 * false (with a 400 answered) when missing or invalid. */
static bool
session_hash_from_header(struct req *r, char hash[65])
{
	const char *s = http_header(r, "X-Stepup-Session");

	if (!h_session_id_valid(s)) {
		http_reply_error_json(r, 400, "X-Stepup-Session header missing or invalid");
		return false;
	}
	xcrypt_sha256_hex(s, hash);
	return true;
}

void
h_api_session_get(struct req *r)
{
	char hash[65];
	struct store_elevation *v = NULL;
	size_t n = 0;
	char *user = NULL;
	json_t *list, *o;

	if (!session_hash_from_header(r, hash))
		return;
	if (store_elevation_list(r->store, hash, r->now, &v, &n, &user) != SU_OK) {
		http_reply_error_json(r, 500, "store error");
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *amr = json_loads(v[i].amr ? v[i].amr : "[]", 0, NULL);

		json_array_append_new(list, json_pack("{s:s, s:s?, s:o, s:I, s:I, s:I, s:s}",
			"context", v[i].context, "acr", v[i].acr,
			"amr", amr ? amr : json_array(), "auth_time", (json_int_t)v[i].auth_time,
			"elevated_at", (json_int_t)v[i].elevated_at,
			"expires_at", (json_int_t)v[i].expires_at, "provider", v[i].provider));
	}
	if (user == NULL && n > 0)
		user = v[0].user ? strdup(v[0].user) : NULL;
	o = json_pack("{s:s?, s:o}", "user", user, "elevations", list);
	http_reply_json(r, 200, o);
	store_elevation_list_free(v, n);
	free(user);
}

void
h_api_session_delete(struct req *r)
{
	char hash[65];
	int count = 0;

	if (!session_hash_from_header(r, hash))
		return;
	if (store_session_revoke(r->store, hash, r->now, &count) != SU_OK) {
		http_reply_error_json(r, 500, "store error");
		return;
	}
	store_audit(r->store, r->now, "revoke", hash, NULL, NULL, NULL, "ok",
		    count ? "elevations revoked through the API" : "no active elevation");
	r->status = 204;
	r->ctype = NULL;
}

/* decisions_addr() parses the "ip" member into pr (an address, no port). */
static bool
decisions_addr(const char *ip, struct policy_request *pr)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&pr->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&pr->addr;

	memset(&pr->addr, 0, sizeof(pr->addr));
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
	} else {
		return false;
	}
	pr->addr_known = true;
	return true;
}

/* decisions_list() reads a member that is a JSON array of strings or one
 * comma-separated string into a comma list for reqnorm (malloc'd in *out;
 * NULL when absent). false when it has another type. */
static bool
decisions_list(json_t *o, const char *k, char **out)
{
	json_t *v = json_object_get(o, k), *e;
	struct buf b;
	size_t i;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (json_is_string(v)) {
		*out = strdup(json_string_value(v));
		return *out != NULL;
	}
	if (!json_is_array(v))
		return false;
	buf_init(&b, 65536);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || strchr(json_string_value(e), ',') != NULL ||
		    (i > 0 && buf_puts(&b, ",") != SU_OK) || buf_puts(&b, json_string_value(e)) != SU_OK) {
			buf_cleanup(&b);
			return false;
		}
	}
	*out = buf_steal(&b);
	return *out != NULL;
}

/*
 * POST /api/v1/decisions: the question /check answers, asked as JSON with
 * the activity attributes as members (session, user, context, uri, method,
 * ip, device_tags, groups, app, file_name, file_label, activity). It
 * answers 200 with {"decision","context","policy"}: what /check would do
 * (allow for its 200, block for its 403, step_up for its 401), the context
 * and the deciding policy. It records nothing: it is a question, not a
 * request that happened.
 */
void
h_api_decisions(struct req *r)
{
	static const char *const known[] = { "session", "user", "context", "uri", "method", "ip",
					     "device_tags", "groups", "app", "file_name",
					     "file_label", "activity", NULL };
	json_t *body = NULL, *v;
	const char *key, *session, *ctxname, *uri, *ip, *policy_name = NULL;
	char *tags = NULL, *groups_csv = NULL, **groups = NULL, path[REQNORM_PATH_MAX + 1], hash[65];
	size_t n_groups = 0;
	struct policy_request pr;
	struct policy_decision d;
	struct polcache_ref *ref = NULL;
	const struct cfg_context *ctx = NULL;
	struct store_elevation e;
	int action = POLICY_ACTION_STEP_UP;
	bool bad = false;

	memset(&pr, 0, sizeof(pr));
	memset(&d, 0, sizeof(d));
	body = json_loadb(buf_cstr(&r->body), r->body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		http_reply_error_json(r, 400, "body is not a JSON object");
		goto out;
	}
	json_object_foreach(body, key, v) {
		size_t i;

		for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			http_reply_error_json(r, 400, "unknown member in body");
			goto out;
		}
	}
	session = opt_string(body, "session", 256, &bad);
	pr.user = opt_string(body, "user", 1024, &bad);
	ctxname = opt_string(body, "context", 128, &bad);
	uri = opt_string(body, "uri", REQNORM_PATH_MAX, &bad);
	pr.method = opt_string(body, "method", 32, &bad);
	ip = opt_string(body, "ip", 64, &bad);
	pr.app = opt_string(body, "app", 1024, &bad);
	pr.file_name = opt_string(body, "file_name", 1024, &bad);
	pr.file_label = opt_string(body, "file_label", 1024, &bad);
	pr.activity = opt_string(body, "activity", 1024, &bad);
	if (bad || (session && !h_session_id_valid(session))) {
		http_reply_error_json(r, 400, "a member has the wrong type or an invalid value");
		goto out;
	}
	if (!decisions_list(body, "device_tags", &tags) || !decisions_list(body, "groups", &groups_csv)) {
		http_reply_error_json(r, 400, "device_tags and groups are arrays of strings");
		goto out;
	}
	if (tags != NULL) {
		if (reqnorm_device_tags(tags, &pr.device_tags) != SU_OK) {
			http_reply_error_json(r, 400, "device_tags is not valid");
			goto out;
		}
		pr.device_known = true;
	}
	if (groups_csv != NULL) {
		if (reqnorm_list(groups_csv, POLICY_LIST_MAX, POLICY_VALUE_MAX, &groups, &n_groups) != SU_OK) {
			http_reply_error_json(r, 400, "groups is not valid");
			goto out;
		}
		pr.groups = (const char *const *)groups;
		pr.n_groups = n_groups;
		pr.groups_known = true;
	}
	if (uri != NULL) {
		if (reqnorm_path(uri, path, sizeof(path)) != SU_OK) {
			http_reply_error_json(r, 400, "uri cannot be normalised");
			goto out;
		}
		pr.path = path;
	}
	if (ip != NULL && !decisions_addr(ip, &pr)) {
		http_reply_error_json(r, 400, "ip is not an IPv4 or IPv6 address");
		goto out;
	}
	if (ctxname != NULL) {
		ctx = cfg_context_find(r->app->cfg, ctxname);
		if (ctx == NULL) {
			http_reply_error_json(r, 400, "unknown context");
			goto out;
		}
	} else if (h_policy_decide(r, &pr, &d, &ref, &action, &ctx) != SU_OK) {
		http_reply_error_json(r, 503, "policies unavailable");
		goto out;
	}
	if (d.winner != NULL)
		policy_name = d.winner->name;
	if (action == POLICY_ACTION_STEP_UP && session != NULL) {
		xcrypt_sha256_hex(session, hash);
		memset(&e, 0, sizeof(e));
		if (store_elevation_find(r->store, hash, ctx->name, r->now, &e) == SU_OK) {
			if (pr.user == NULL || (e.user && strcmp(e.user, pr.user) == 0))
				action = POLICY_ACTION_ALLOW;
			store_elevation_cleanup(&e);
		}
	}
	http_reply_json(r, 200, json_pack("{s:s, s:s?, s:s?}", "decision",
		action == POLICY_ACTION_BLOCK ? "block" : action == POLICY_ACTION_STEP_UP ? "step_up" : "allow",
		"context", ctx ? ctx->name : NULL, "policy", policy_name));
out:
	policy_decision_cleanup(&d);
	polcache_release(ref);
	reqnorm_list_free(groups, n_groups);
	free(tags);
	free(groups_csv);
	json_decref(body);
}
