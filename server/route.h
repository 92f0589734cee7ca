/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * route.h: the route table. Each route names a method, an exact path, the
 * preconditions route_dispatch() checks before its handler runs (R_API: a
 * valid bearer API key; R_ADMIN, R_CSRF: an admin session and its CSRF
 * token), and the handler. Handlers never re-check them.
 */
#ifndef STEPUPD_ROUTE_H
#define STEPUPD_ROUTE_H

#include <stddef.h>

struct req;

enum route_flags {
	R_NONE = 0,
	R_API = 1 << 0,   /* Authorization: Bearer <key from [api] key_file> */
	R_BODY = 1 << 1,  /* accepts a request body (others refuse one) */
	R_PREFIX = 1 << 2,/* path is a prefix ending in '/': matches everything below it */
	R_SLOW = 1 << 3,  /* waits on an IdP: runs on a slow-work thread (http.c) */
	/* the admin console (h_admin.c, docs/admin.md) */
	R_ADMIN = 1 << 4, /* a valid admin session (cookie stepup_admin); without one:
			   * /admin/api/... -> 401 JSON, GET/HEAD -> 303 to
			   * /admin/login?next=<path>, other methods -> 403 */
	R_CSRF = 1 << 5,  /* methods other than GET/HEAD: form field "csrf" or header
			   * X-CSRF-Token equals r->csrf (constant time), else 403 */
};

struct route {
	const char *method;  /* "*": any method */
	const char *path;
	unsigned flags;
	void (*handle)(struct req *r);
};

/* route_dispatch() finds the route for r, checks its preconditions and runs
 * it; 404 for an unknown path, 405 (with Allow) for a wrong method. */
void route_dispatch(struct req *r);
/* route_table() exposes the table (tests assert on its flags). */
const struct route *route_table(size_t *n);

#endif
