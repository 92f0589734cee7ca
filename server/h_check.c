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

#include "handlers.h"
#include "http.h"
#include "log.h"
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
need_stepup(struct req *r, const struct cfg_context *ctx, const char *session, const char *uri)
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
	if (user != NULL && !h_text_valid(user, 256)) {
		http_reply_text(r, 400, "X-Stepup-User is not valid");
		goto out;
	}
	if (h_start_url_make(r, session, user, ctx->name, buf_cstr(&ret), &url, &exp) != SU_OK) {
		http_reply_text(r, 500, "could not make a start URL");
		goto out;
	}
	buf_puts(&chal, "Bearer error=\"insufficient_user_authentication\", "
			"error_description=\"A stronger authentication is required\", acr_values=\"");
	append_values(&chal, ctx->acrs, &first);
	append_values(&chal, ctx->acr, &first);
	append_values(&chal, ctx->class_refs, &first);
	buf_printf(&chal, "\", max_age=%lld", (long long)ctx->max_age);
	http_reply_text(r, 401, "step-up required");
	http_header_add(r, "X-Stepup-Location", url);
	http_header_add(r, "WWW-Authenticate", buf_cstr(&chal));
out:
	free(url);
	buf_cleanup(&ret);
	buf_cleanup(&chal);
}

void
h_check(struct req *r)
{
	const struct cfg *c = r->app->cfg;
	const char *session = http_header(r, "X-Stepup-Session");
	const char *ctxname = http_header(r, "X-Stepup-Context");
	const char *user = http_header(r, "X-Stepup-User");
	const struct cfg_context *ctx;
	bool from_cookie = false;
	char hash[65], expires[24];
	struct store_elevation e;
	enum su_rc rc;

	if (session == NULL) {
		session = http_cookie(r, "stepup_session");
		from_cookie = session != NULL;
	}
	if (session != NULL && !h_session_id_valid(session)) {
		http_reply_text(r, 400, "session id is not valid");
		return;
	}
	if (ctxname == NULL) {
		/* no context named: the policies decide; until policies exist, [policy] default */
		if (c->policy_default == CFG_DEFAULT_ALLOW) {
			http_reply_text(r, 200, "allowed");
			return;
		}
		if (c->policy_default == CFG_DEFAULT_BLOCK) {
			http_reply_text(r, 403, "blocked by policy");
			return;
		}
		ctxname = c->policy_default_context;
	}
	ctx = cfg_context_find(c, ctxname);
	if (ctx == NULL) {
		http_reply_text(r, 400, "unknown context");
		return;
	}
	if (session != NULL) {
		memset(&e, 0, sizeof(e));
		xcrypt_sha256_hex(session, hash);
		rc = store_elevation_find(r->store, hash, ctx->name, r->now, &e);
		/* the proxy says who the user is: an elevation of someone else
		 * in this session does not count */
		if (rc == SU_OK && user != NULL && !(e.user && strcmp(e.user, user) == 0)) {
			store_elevation_cleanup(&e);
			rc = SU_ENOTFOUND;
		}
		if (rc == SU_OK) {
			snprintf(expires, sizeof(expires), "%lld", (long long)e.expires_at);
			http_reply_text(r, 200, "allowed");
			if (e.user)
				http_header_add(r, "X-Stepup-User", e.user);
			http_header_add(r, "X-Stepup-Context", ctx->name);
			http_header_add(r, "X-Stepup-Expires", expires);
			store_elevation_cleanup(&e);
			return;
		}
		if (rc != SU_ENOTFOUND) {
			http_reply_text(r, 503, "store unavailable");
			return;
		}
	}
	/* a cookie the browser brought is never the session that gets elevated */
	{
		struct buf envoy;

		buf_init(&envoy, RETURL_MAX);
		need_stepup(r, ctx, from_cookie ? NULL : session, original_uri(r, &envoy));
		buf_cleanup(&envoy);
	}
}
