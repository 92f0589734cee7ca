/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * route.c: the route table and the one place preconditions are checked.
 * Order does not matter: paths are matched exactly.
 */
#include "route.h"

#include <string.h>

#include "handlers.h"
#include "http.h"

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
	if ((match->flags & R_SLOW) && !r->on_slow_thread) {
		r->defer = true;
		return;
	}
	match->handle(r);
}
