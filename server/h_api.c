/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_api.c: the JSON API for proxies and applications (SPEC 2.3):
 * POST /api/v1/stepups, GET and DELETE /api/v1/session. The route table
 * has already checked the bearer API key. Bodies are parsed strictly:
 * an object with known members of the right types only.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "http.h"
#include "log.h"
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
	if (h_start_url_make(r, session, user, context, return_to, &url, &exp) != SU_OK) {
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
