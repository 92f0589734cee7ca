/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * route.c: the route table and the one place preconditions are checked.
 * Order does not matter: paths are matched exactly.
 */
#include "route.h"

#include <string.h>

#include "handlers.h"
#include "http.h"
#include "xcrypt.h"

static const struct route routes[] = {
	{ "GET", "/", R_NONE, h_index },
	{ "GET", "/healthz", R_NONE, h_healthz },
	{ "GET", "/static/stepupd.css", R_NONE, h_static_css },
	/* the proxy's question, on every protected request: keep it lean. Any
	 * method: Traefik, Caddy and Envoy send the original request's method.
	 * /check/<path> is Envoy ext_authz with path_prefix "/check". */
	{ "*", "/check", R_NONE, h_check },
	{ "*", "/check/", R_PREFIX, h_check },
	{ "POST", "/api/v1/stepups", R_API | R_BODY, h_api_stepups_create },
	{ "GET", "/api/v1/session", R_API, h_api_session_get },
	{ "DELETE", "/api/v1/session", R_API, h_api_session_delete },
	{ "POST", "/api/v1/decisions", R_API | R_BODY, h_api_decisions },
	/* browser flow */
	{ "GET", "/stepup/start", R_SLOW, h_stepup_start },
	{ "GET", "/oidc/callback", R_SLOW, h_oidc_callback },
	{ "GET", "/saml/metadata", R_NONE, h_saml_metadata },
	{ "POST", "/saml/acs", R_BODY, h_saml_acs },
	/* the admin console (h_admin.c; docs/admin.md). Every /admin route but
	 * the sign-in ones needs R_ADMIN, every non-GET one R_CSRF
	 * (tests/unit/test_route.c checks). Sign-in checks a password or
	 * waits on the IdP: R_SLOW keeps it off the threads that answer /check. */
	{ "GET", "/static/admin.css", R_NONE, h_admin_static_css },
	{ "GET", "/admin/login", R_NONE, h_admin_login_get },
	{ "POST", "/admin/login", R_CSRF | R_BODY | R_SLOW, h_admin_login_post },
	{ "GET", "/admin/login/oidc", R_SLOW, h_admin_login_oidc },
	{ "POST", "/admin/logout", R_ADMIN | R_CSRF | R_BODY, h_admin_logout },
	{ "GET", "/admin/", R_ADMIN, h_admin_home },
	{ "GET", "/admin", R_ADMIN, h_admin_home },
	/* the console's pages (h_admin_sessions.c, h_admin_policies.c,
	 * h_admin_report.c, h_admin_audit.c, h_admin_idp.c; docs/admin.md) */
	{ "GET", "/admin/sessions", R_ADMIN, h_admin_sessions },
	{ "GET", "/admin/session", R_ADMIN, h_admin_session },
	{ "POST", "/admin/sessions/revoke", R_ADMIN | R_CSRF | R_BODY, h_admin_session_revoke },
	{ "POST", "/admin/sessions/revoke-user", R_ADMIN | R_CSRF | R_BODY, h_admin_session_revoke_user },
	{ "GET", "/admin/policies", R_ADMIN, h_admin_policies },
	{ "GET", "/admin/policies/new", R_ADMIN, h_admin_policy_new },
	{ "POST", "/admin/policies/new", R_ADMIN | R_CSRF | R_BODY, h_admin_policy_create },
	{ "GET", "/admin/policies/edit", R_ADMIN, h_admin_policy_edit },
	{ "POST", "/admin/policies/edit", R_ADMIN | R_CSRF | R_BODY, h_admin_policy_update },
	{ "POST", "/admin/policies/enable", R_ADMIN | R_CSRF | R_BODY, h_admin_policy_enable },
	{ "GET", "/admin/policies/delete", R_ADMIN, h_admin_policy_delete_confirm },
	{ "POST", "/admin/policies/delete", R_ADMIN | R_CSRF | R_BODY, h_admin_policy_delete },
	{ "GET", "/admin/report", R_ADMIN, h_admin_report },
	{ "GET", "/admin/audit", R_ADMIN, h_admin_audit },
	{ "GET", "/admin/idps", R_ADMIN, h_admin_idp },
	{ "POST", "/admin/idps/check", R_ADMIN | R_CSRF | R_BODY | R_SLOW, h_admin_idp_check },
};

const struct route *
route_table(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* bearer_token() returns the token of "Authorization: Bearer <token>" or NULL. */
static const char *
bearer_token(struct req *r)
{
	const char *h = http_header(r, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* admin_api() says whether the path is the console's JSON API. */
static bool
admin_api(const char *path)
{
	return strncmp(path, "/admin/api/", 11) == 0;
}

/* admin_refuse_csrf() answers a missing or wrong CSRF token. */
static void
admin_refuse_csrf(struct req *r)
{
	if (admin_api(r->path))
		http_reply_error_json(r, 403, "missing or wrong CSRF token");
	else
		h_admin_refuse(r, 403, "Request refused",
			       "This form expired or did not come from the console; reload the "
			       "page and try again. Nothing was changed.");
}

/* admin_checks() enforces R_ADMIN and R_CSRF for route m (SPEC 2.5): false
 * when it has answered. */
static bool
admin_checks(struct req *r, const struct route *m)
{
	bool safe = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;

	if (strncmp(m->path, "/admin", 6) == 0)
		h_admin_session_load(r);
	if ((m->flags & R_ADMIN) && r->admin_user[0] == '\0') {
		if (admin_api(r->path)) {
			http_reply_error_json(r, 401, "admin session required");
		} else if (safe) {
			struct buf loc, q;
			enum su_rc rc;

			buf_init(&loc, 8192);
			buf_init(&q, 8192);
			rc = buf_puts(&q, r->path);
			if (rc == SU_OK)
				rc = http_query_string(r, &q);
			if (rc == SU_OK)
				rc = buf_puts(&loc, "/admin/login?next=");
			for (size_t i = 0; rc == SU_OK && i < q.len; i++) {
				unsigned char c = (unsigned char)q.data[i];

				if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
				    c == '~' || c == '/')
					rc = buf_append(&loc, &q.data[i], 1);
				else
					rc = buf_printf(&loc, "%%%02X", c);
			}
			/* a path too long to carry: come back to the console home */
			http_redirect(r, 303, rc == SU_OK ? buf_cstr(&loc) : "/admin/login?next=/admin/");
			buf_cleanup(&q);
			buf_cleanup(&loc);
		} else {
			h_admin_refuse(r, 403, "Sign-in required",
				       "Your console session has ended (or was never started); sign in "
				       "and try again. Nothing was changed.");
		}
		return false;
	}
	if ((m->flags & R_CSRF) && !safe) {
		const char *tok = http_header(r, "X-CSRF-Token");

		if (tok == NULL && http_form(r, "csrf", &tok) != SU_OK)
			tok = NULL;
		if (tok == NULL || r->csrf[0] == '\0' || !xcrypt_streq(tok, r->csrf)) {
			admin_refuse_csrf(r);
			return false;
		}
	}
	return true;
}

void
route_dispatch(struct req *r)
{
	const struct route *match = NULL;
	char allow[64] = "";
	size_t n = sizeof(routes) / sizeof(routes[0]);

	for (size_t i = 0; i < n; i++) {
		if (routes[i].flags & R_PREFIX) {
			if (strncmp(routes[i].path, r->path, strlen(routes[i].path)) != 0)
				continue;
		} else if (strcmp(routes[i].path, r->path) != 0) {
			continue;
		}
		if (strcmp(routes[i].method, "*") == 0 || strcmp(routes[i].method, r->method) == 0 ||
		    (strcmp(r->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			match = &routes[i];
			break;
		}
		if (strlen(allow) + strlen(routes[i].method) + 3 < sizeof(allow)) {
			if (allow[0])
				strncat(allow, ", ", sizeof(allow) - strlen(allow) - 1);
			strncat(allow, routes[i].method, sizeof(allow) - strlen(allow) - 1);
		}
	}
	if (match == NULL) {
		if (allow[0]) {
			http_reply_text(r, 405, "method not allowed");
			http_header_add(r, "Allow", allow);
		} else {
			http_reply_text(r, 404, "not found");
		}
		return;
	}
	if (!(match->flags & R_BODY) && r->body.len > 0) {
		http_reply_text(r, 400, "this endpoint takes no request body");
		return;
	}
	if (match->flags & R_API) {
		if (!app_api_key_ok(r->app, bearer_token(r))) {
			http_reply_error_json(r, 401, "missing or wrong API key");
			http_header_add(r, "WWW-Authenticate", "Bearer realm=\"stepupd\"");
			return;
		}
	}
	/* checked once, on the daemon thread: what they fill in stays in r */
	if ((match->flags & (R_ADMIN | R_CSRF) || strncmp(match->path, "/admin", 6) == 0) &&
	    !r->on_slow_thread && !admin_checks(r, match))
		return;
	if ((match->flags & R_SLOW) && !r->on_slow_thread) {
		r->defer = true;
		return;
	}
	match->handle(r);
}
