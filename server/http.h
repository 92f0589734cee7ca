/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * http.h: the HTTP layer. http.c is the only file that includes
 * <microhttpd.h>: it runs the daemon with its limits (connections, header
 * memory, body size, per-connection timeout), builds a struct req per
 * request, hands it to route_dispatch(), and turns what the handler set
 * into a response with the security headers every response carries.
 * Handlers use only the functions below.
 */
#ifndef STEPUPD_HTTP_H
#define STEPUPD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "buf.h"
#include "rc.h"

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_MAX_HEADERS 16

struct store;
struct sockaddr;

struct http_hdr {
	char *name, *value;
};

struct req {
	void *conn;              /* the MHD connection (opaque outside http.c) */
	const struct app *app;
	struct store *store;     /* this worker thread's store connection */
	const char *method;
	const char *path;
	const struct sockaddr *peer;
	int64_t now;
	struct buf body;         /* request body, at most HTTP_MAX_BODY */
	bool body_too_big;
	/* response, set by the handler */
	int status;
	const char *ctype;
	struct buf out;
	struct http_hdr hdrs[HTTP_MAX_HEADERS];
	int n_hdrs;
	/* slow routes (R_SLOW: they wait on an identity provider) run on the
	 * slow-work threads, not on the daemon's threads that answer /check */
	bool defer;              /* set by route_dispatch(): run me on a slow thread */
	bool on_slow_thread;     /* route_dispatch() is being called from one */
	bool done;               /* the slow handler has finished */
	/* strings decoded for this request (query values), freed with it */
	char **owned;
	size_t n_owned;
	/* the admin console (h_admin.c), filled by route_dispatch() for /admin routes */
	char admin_user[257];    /* the signed-in admin's name; "" when no admin session */
	char csrf[48];           /* the token forms must carry (field "csrf" or header
				  * X-CSRF-Token): the admin session's; on the sign-in
				  * pages (no session) the pre-session one; "" when none */
	/* the form fields of the body (http_form()), parsed once, freed with it */
	char **form;             /* name, value, name, value, ... */
	size_t n_form;           /* number of fields */
	int form_state;          /* 0 not parsed yet, 1 parsed, -1 broken body */
};

struct http_daemon;

/* http_start() starts the daemon on the configured address; NULL on failure (logged). */
struct http_daemon *http_start(const struct app *app);
/* http_stop() stops accepting, waits for requests in flight, closes the
 * worker threads' store connections. */
void http_stop(struct http_daemon *d);

/* Request accessors. Returned strings belong to the request. */
const char *http_header(struct req *r, const char *name);
/* http_query() gets a query parameter, percent-decoded: SU_OK with *val,
 * SU_ENOTFOUND, or SU_EINVAL when the parameter appears more than once
 * (duplicate protocol parameters are always refused) or its encoding is
 * broken (bad %XX, an encoded NUL). r->path is the raw path as the client
 * sent it: libmicrohttpd's own unescaping is switched off so that the
 * forward-auth path sees exactly the bytes the proxy saw. */
enum su_rc http_query(struct req *r, const char *name, const char **val);
/* http_form() gets a field of an application/x-www-form-urlencoded body
 * (r->body; parsed once, on the first call): SU_OK with *val (owned by the
 * request), SU_ENOTFOUND (also for an empty body), or SU_EINVAL when the
 * field appears more than once, or the body is not form-encoded
 * (Content-Type), or any part of it is broken (bad %XX, an encoded NUL, a
 * field without a name). '+' is a space. */
enum su_rc http_form(struct req *r, const char *name, const char **val);
/* http_query_string() appends "?k=v&..." rebuilt from the raw query
 * arguments (nothing when there are none). */
enum su_rc http_query_string(struct req *r, struct buf *out);
/* http_cookie() returns the value of cookie name, NULL when absent or sent twice. */
const char *http_cookie(struct req *r, const char *name);
/* http_peer_trusted() says whether the peer is in [server] trusted_proxies. */
bool http_peer_trusted(struct req *r);

/* Response helpers. Each replaces what an earlier call set. */
void http_header_add(struct req *r, const char *name, const char *value);
/* http_cookie_set(): HttpOnly; SameSite=Lax; Secure when public_url is
 * https; max_age < 0 leaves it a session cookie, 0 deletes it. */
void http_cookie_set(struct req *r, const char *name, const char *value, const char *path,
		     int64_t max_age);
/* http_cookie_set_domain() is http_cookie_set() with a Domain attribute
 * (domain NULL: a host-only cookie). */
void http_cookie_set_domain(struct req *r, const char *name, const char *value, const char *path,
			    const char *domain, int64_t max_age);
void http_reply_text(struct req *r, int status, const char *text);
/* http_reply_empty() answers status (2xx) with no body and no content
 * type, for answers whose status and headers say everything (/check's
 * 200: nginx auth_request closes the upstream connection of a check whose
 * body it did not read). The security headers are sent as always. */
void http_reply_empty(struct req *r, int status);
/* http_reply_json() takes ownership of j (decref'd). */
void http_reply_json(struct req *r, int status, json_t *j);
/* http_reply_error_json() answers {"error": msg}. */
void http_reply_error_json(struct req *r, int status, const char *msg);
/* http_reply_error_page() answers the error template: a title and a
 * message (both escaped), for browsers. */
void http_reply_error_page(struct req *r, int status, const char *title, const char *msg);
void http_redirect(struct req *r, int status, const char *location);

#endif
