/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_check.c: GET /check, the forward-auth question (SPEC 2.3), asked by the
 * proxy on every protected request. It reads the session (X-Stepup-Session
 * or the stepup_session cookie) and the required context (X-Stepup-Context,
 * or [policy] default when absent), and answers 200 when the session holds
 * an unexpired, unrevoked elevation for it; 401 with a start URL and an
 * RFC 9470 challenge when it does not; 403 when blocked; 400 when the
 * request cannot be used. Nothing here ever answers 200 by accident: every
 * path that is not a found elevation or an explicit allow is a refusal.
 *
 * This is the hot path: one indexed SQLite lookup on the thread's own
 * connection, no allocation beyond the response on the 200 path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "polcache.h"
#include "policy.h"
#include "reqnorm.h"
#include "returl.h"
#include "store.h"
#include "xcrypt.h"

/* trusted_header() returns a forwarded header only when the peer is a
 * trusted proxy; anyone else could have set it. */
static const char *
trusted_header(struct req *r, const char *name)
{
	return http_peer_trusted(r) ? http_header(r, name) : NULL;
}

/* original_uri() finds the original request's path and query, from the
 * header sets of the proxies stepupd supports:
 *   nginx auth_request:          X-Original-URI (and X-Original-Method)
 *   Traefik / Caddy ForwardAuth: X-Forwarded-Uri (and X-Forwarded-Method)
 *   Envoy ext_authz HTTP:        the request itself, sent to /check/<path>
 * Returns a string owned by the request or by out, NULL when there is none. */
static const char *
original_uri(struct req *r, struct buf *envoy)
{
	const char *uri = http_header(r, "X-Original-URI");

	if (uri == NULL)
		uri = http_header(r, "X-Forwarded-Uri");
	if (uri == NULL && strncmp(r->path, "/check/", 7) == 0) {
		if (buf_puts(envoy, r->path + 6) != SU_OK || http_query_string(r, envoy) != SU_OK)
			return NULL;
		uri = buf_cstr(envoy);
	}
	return uri;
}

/* return_url_build() rebuilds the URL the user was going to from what the
 * proxy passed. Returns false when it cannot. */
static bool
return_url_build(struct req *r, const char *uri, struct buf *out)
{
	const char *full = trusted_header(r, "X-Original-URL");
	const char *proto, *host;

	if (full != NULL)
		return buf_puts(out, full) == SU_OK;
	if (uri == NULL || uri[0] != '/')
		return false;
	proto = trusted_header(r, "X-Forwarded-Proto");
	if (proto == NULL)
		proto = "http";
	if (strcmp(proto, "http") != 0 && strcmp(proto, "https") != 0)
		return false;
	host = trusted_header(r, "X-Forwarded-Host");
	if (host == NULL)
		host = http_header(r, "Host");
	if (host == NULL || host[0] == '\0')
		return false;
	return buf_printf(out, "%s://%s%s", proto, host, uri) == SU_OK;
}

/* append_quoted_list() appends the context's values for acr_values, with
 * anything that could break the header's quoting removed. */
static void
append_values(struct buf *b, char **list, bool *first)
{
	for (size_t i = 0; list && list[i]; i++) {
		if (!*first)
			buf_puts(b, " ");
		*first = false;
		for (const char *p = list[i]; *p; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
				buf_append(b, p, 1);
	}
}

static void
need_stepup(struct req *r, const struct cfg_context *ctx, const char *session, const char *uri,
	    const char *match_key)
{
	struct buf ret, chal;
	char *url = NULL, err[160], msg[200];
	int64_t exp = 0;
	bool first = true;
	const char *user = http_header(r, "X-Stepup-User");

	buf_init(&ret, RETURL_MAX + 1);
	buf_init(&chal, 2048);
	if (!return_url_build(r, uri, &ret)) {
		http_reply_text(r, 400, "cannot rebuild the original URL (X-Original-URI and Host)");
		goto out;
	}
	if (returl_check(buf_cstr(&ret), (const char *const *)r->app->cfg->allowed_return_origins, err,
			 sizeof(err)) != SU_OK) {
		snprintf(msg, sizeof(msg), "return URL refused: %s", err);
		http_reply_text(r, 400, msg);
		goto out;
	}
	if (h_start_url_make(r, session, user, ctx->name, buf_cstr(&ret), match_key, &url, &exp) != SU_OK) {
		http_reply_text(r, 500, "could not make a start URL");
		goto out;
	}
	buf_puts(&chal, "Bearer error=\"insufficient_user_authentication\", "
			"error_description=\"A stronger authentication is required\", acr_values=\"");
	append_values(&chal, ctx->acrs, &first);
	append_values(&chal, ctx->acr, &first);
	append_values(&chal, ctx->class_refs, &first);
	buf_printf(&chal, "\", max_age=%lld", (long long)ctx->max_age);
	/* Traefik, Caddy, Envoy and HAProxy show the check's answer to the
	 * browser as it is: with X-Stepup-Redirect they get a 302 to the start
	 * URL instead of the 401 nginx turns into a redirect itself */
	if (http_header(r, "X-Stepup-Redirect") != NULL) {
		http_redirect(r, 302, url);
	} else {
		http_reply_text(r, 401, "step-up required");
	}
	http_header_add(r, "X-Stepup-Location", url);
	http_header_add(r, "WWW-Authenticate", buf_cstr(&chal));
out:
	free(url);
	buf_cleanup(&ret);
	buf_cleanup(&chal);
}

/* elevated() looks the session's elevation for ctx up: SU_OK (and e->user,
 * e->expires_at filled, caller cleans up), SU_ENOTFOUND, or a store error. An elevation
 * of another user than the one the proxy names does not count. */
static enum su_rc
elevated(struct req *r, const char *hash, const struct cfg_context *ctx, const char *user,
	 struct store_elevation *e)
{
	enum su_rc rc;

	memset(e, 0, sizeof(*e));
	/* the fast path: only the user and expiry, from the per-thread cache
	 * while the database is unchanged (store.h) */
	rc = store_elevation_check(r->store, hash, ctx->name, r->now, &e->user, &e->expires_at);
	if (rc == SU_OK && user != NULL && !(e->user && strcmp(e->user, user) == 0)) {
		store_elevation_cleanup(e);
		rc = SU_ENOTFOUND;
	}
	return rc;
}

/* the attributes of one /check, as read from the proxy's headers */
struct check_attrs {
	const char *session;     /* NULL: none */
	bool from_cookie;        /* the session came from the stepup_session cookie */
	char hash[65];           /* its SHA-256, "" when none */
	const char *user;
	const char *uri;         /* original path and query, NULL when unknown */
	struct buf envoy;        /* holds uri for Envoy ext_authz */
	char path[REQNORM_PATH_MAX + 1];
	char **groups;
	size_t n_groups;
	struct policy_request pr;
};

/* text_header() reads an optional attribute header of at most max bytes;
 * false (400 answered) when it is present but not usable text. */
static bool
text_header_max(struct req *r, const char *name, size_t max, const char **out)
{
	*out = http_header(r, name);
	if (*out != NULL && !reqnorm_text_ok(*out, max)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s is not valid", name);
		http_reply_text(r, 400, msg);
		return false;
	}
	return true;
}

static bool
text_header(struct req *r, const char *name, const char **out)
{
	return text_header_max(r, name, 1024, out);
}

/* attrs_read() reads and normalises every attribute the policies match on.
 * false (400 answered) when anything is malformed: a request stepupd cannot
 * parse or normalise is never allowed. */
static bool
attrs_read(struct req *r, struct check_attrs *a)
{
	const char *tags, *groups, *method;

	a->uri = original_uri(r, &a->envoy);
	if (a->uri != NULL) {
		if (reqnorm_path(a->uri, a->path, sizeof(a->path)) != SU_OK) {
			http_reply_text(r, 400, "the original path cannot be normalised");
			return false;
		}
		a->pr.path = a->path;
	}
	if (r->peer != NULL) {
		if (reqnorm_client_addr(r->peer, http_header(r, "X-Forwarded-For"), r->app->cfg,
					&a->pr.addr) != SU_OK) {
			http_reply_text(r, 400, "X-Forwarded-For is not valid");
			return false;
		}
		a->pr.addr_known = true;
	}
	tags = http_header(r, "X-Device-Tags");
	if (tags != NULL) {
		if (reqnorm_device_tags(tags, &a->pr.device_tags) != SU_OK) {
			http_reply_text(r, 400, "X-Device-Tags is not valid");
			return false;
		}
		a->pr.device_known = true;
	}
	groups = http_header(r, "X-Stepup-Groups");
	if (groups != NULL) {
		if (reqnorm_list(groups, POLICY_LIST_MAX, POLICY_VALUE_MAX, &a->groups, &a->n_groups) != SU_OK) {
			http_reply_text(r, 400, "X-Stepup-Groups is not valid");
			return false;
		}
		a->pr.groups = (const char *const *)a->groups;
		a->pr.n_groups = a->n_groups;
		a->pr.groups_known = true;
	}
	method = http_header(r, "X-Original-Method");
	if (method == NULL)
		method = http_header(r, "X-Forwarded-Method");
	if (method == NULL && strncmp(r->path, "/check/", 7) == 0)
		method = r->method;
	a->pr.method = method;
	a->pr.user = a->user;
	return text_header(r, "X-App", &a->pr.app) && text_header(r, "X-Activity", &a->pr.activity) &&
	       text_header(r, "X-File-Name", &a->pr.file_name) &&
	       text_header(r, "X-File-Label", &a->pr.file_label);
}

/* record() hands every matched policy to the recorder (asynchronous). */
static void
record(struct req *r, const struct check_attrs *a, const struct policy_decision *d,
       const char *decision, const char *outcome, const char *match_key)
{
	for (size_t i = 0; i < d->n_matched; i++) {
		struct events_match m = {
			.policy = d->matched[i],
			.ts = r->now,
			.session_hash = a->hash[0] ? a->hash : NULL,
			.user = a->user,
			.app = a->pr.app,
			.file_name = a->pr.file_name,
			.file_label = a->pr.file_label,
			.activity = a->pr.activity,
			.path = a->pr.path,
			.decision = decision,
			.context = d->context,
			.outcome = outcome,
			.match_key = match_key,
		};

		if (events_match(r->store, &m) != SU_OK)
			log_warn("could not record a match of policy %s", d->matched[i]->name);
	}
}

/* allow() answers 200 with the elevation's headers when there is one. */
static void
allow(struct req *r, const struct cfg_context *ctx, const struct store_elevation *e)
{
	char expires[24];

	http_reply_empty(r, 200);
	if (e == NULL)
		return;
	snprintf(expires, sizeof(expires), "%lld", (long long)e->expires_at);
	if (e->user)
		http_header_add(r, "X-Stepup-User", e->user);
	http_header_add(r, "X-Stepup-Context", ctx->name);
	http_header_add(r, "X-Stepup-Expires", expires);
}

/* step_up() answers a request that needs ctx: 200 when the session holds
 * it, else 401 with a start URL. *was_elevated tells which. */
static void
step_up(struct req *r, struct check_attrs *a, const struct cfg_context *ctx,
	const char *match_key, bool *was_elevated)
{
	struct store_elevation e;
	enum su_rc rc = SU_ENOTFOUND;

	*was_elevated = false;
	if (a->session != NULL)
		rc = elevated(r, a->hash, ctx, a->user, &e);
	if (rc == SU_OK) {
		*was_elevated = true;
		allow(r, ctx, &e);
		store_elevation_cleanup(&e);
		return;
	}
	if (rc != SU_ENOTFOUND) {
		http_reply_text(r, 503, "store unavailable");
		return;
	}
	/* a cookie the browser brought is never the session that gets elevated */
	need_stepup(r, ctx, a->from_cookie ? NULL : a->session, a->uri, match_key);
}

/* h_policy_decide(): see handlers.h. */
enum su_rc
h_policy_decide(struct req *r, const struct policy_request *pr, struct policy_decision *d,
		struct polcache_ref **ref, int *action, const struct cfg_context **ctx)
{
	const struct cfg *c = r->app->cfg;
	const struct policy_set *set = NULL;
	const char *ctxname;
	enum policy_action act;

	memset(d, 0, sizeof(*d));
	*ref = NULL;
	*ctx = NULL;
	if (polcache_acquire(r->store, r->now, &set, ref) != SU_OK)
		return SU_EDB;
	if (policy_evaluate(set, pr, d) != SU_OK)
		return SU_EINVAL;
	act = d->action;
	ctxname = d->context;
	if (act == POLICY_ACTION_NONE) {
		act = c->policy_default == CFG_DEFAULT_BLOCK	? POLICY_ACTION_BLOCK :
		      c->policy_default == CFG_DEFAULT_STEP_UP ? POLICY_ACTION_STEP_UP :
								 POLICY_ACTION_ALLOW;
		ctxname = c->policy_default_context;
	}
	if (act == POLICY_ACTION_STEP_UP) {
		*ctx = cfg_context_find(c, ctxname);
		if (*ctx == NULL) {
			/* the config changed since the policy was imported: fail closed */
			log_warn("policy %s asks for context %s, which is not configured: blocking",
				 d->winner ? d->winner->name : "(default)", ctxname ? ctxname : "?");
			act = POLICY_ACTION_BLOCK;
		}
	}
	*action = (int)act;
	return SU_OK;
}

/* by_policy() decides a request that names no context (SPEC 2.3, 2.4). */
static void
by_policy(struct req *r, struct check_attrs *a)
{
	struct polcache_ref *ref = NULL;
	struct policy_decision d;
	const struct cfg_context *ctx = NULL;
	int action = 0;
	char key[EVENTS_KEY_LEN + 1] = "";
	bool was_elevated = false;

	if (h_policy_decide(r, &a->pr, &d, &ref, &action, &ctx) != SU_OK) {
		http_reply_text(r, 503, "policies unavailable");
		goto out;
	}
	switch (action) {
	case POLICY_ACTION_BLOCK:
		http_reply_text(r, 403, "blocked by policy");
		record(r, a, &d, "block", "blocked", NULL);
		break;
	case POLICY_ACTION_STEP_UP:
		if (d.n_matched > 0 && events_match_key_new(key) != SU_OK)
			key[0] = '\0';
		step_up(r, a, ctx, key[0] ? key : NULL, &was_elevated);
		if (r->status == 200 || r->status == 401 || r->status == 302)
			record(r, a, &d, "step_up", was_elevated ? "stepped_up" : "pending",
			       was_elevated ? NULL : key);
		break;
	default:
		allow(r, NULL, NULL);
		record(r, a, &d, "allow", "allowed", NULL);
		break;
	}
out:
	policy_decision_cleanup(&d);
	polcache_release(ref);
}

void
h_check(struct req *r)
{
	const struct cfg_context *ctx;
	const char *ctxname = http_header(r, "X-Stepup-Context");
	struct check_attrs a;
	bool was_elevated;

	memset(&a, 0, sizeof(a));
	buf_init(&a.envoy, RETURL_MAX);
	a.session = http_header(r, "X-Stepup-Session");
	if (a.session == NULL) {
		a.session = http_cookie(r, "stepup_session");
		a.from_cookie = a.session != NULL;
		/* a malformed cookie is no session: the step-up replaces it (a
		 * malformed header, from the proxy itself, is refused below) */
		if (a.from_cookie && !h_session_id_valid(a.session)) {
			a.session = NULL;
			a.from_cookie = false;
		}
	}
	if (a.session != NULL && !h_session_id_valid(a.session)) {
		http_reply_text(r, 400, "session id is not valid");
		goto out;
	}
	if (a.session != NULL)
		xcrypt_sha256_hex(a.session, a.hash);
	/* the same limit as a start request's user (the API, the subject check) */
	if (!text_header_max(r, "X-Stepup-User", 256, &a.user))
		goto out;
	if (ctxname != NULL) {
		/* the proxy names the context: no policy is consulted */
		ctx = cfg_context_find(r->app->cfg, ctxname);
		if (ctx == NULL) {
			http_reply_text(r, 400, "unknown context");
			goto out;
		}
		a.uri = original_uri(r, &a.envoy);
		step_up(r, &a, ctx, NULL, &was_elevated);
		goto out;
	}
	if (!attrs_read(r, &a))
		goto out;
	by_policy(r, &a);
out:
	reqnorm_list_free(a.groups, a.n_groups);
	buf_cleanup(&a.envoy);
}
