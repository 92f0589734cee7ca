/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * handlers.h: one aggregate header for the request handlers (h_*.c),
 * sectioned by file. They are reached only through the route table.
 */
#ifndef STEPUPD_HANDLERS_H
#define STEPUPD_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct req;

/* h_misc.c */
void h_index(struct req *r);
void h_healthz(struct req *r);
void h_static_css(struct req *r);

/* h_check.c */
void h_check(struct req *r);

/* h_api.c */
void h_api_stepups_create(struct req *r);
void h_api_session_get(struct req *r);
void h_api_session_delete(struct req *r);

/* h_stepup.c */
void h_stepup_start(struct req *r);
/* h_start_url_make() seals a start token and returns the absolute start URL
 * (malloc'd, caller frees) in *url. session may be NULL (a fresh session is
 * made at elevation). Checks nothing: callers validate first. */
enum su_rc h_start_url_make(struct req *r, const char *session, const char *user,
			    const char *context, const char *return_to, char **url,
			    int64_t *expires_at);

/* h_flow_cookie_name() names the browser-binding cookie of the flow whose
 * state hashes to state_hash. */
void h_flow_cookie_name(const char *state_hash, char out[40]);

/* h_oidc.c */
void h_oidc_callback(struct req *r);

/* shared by the handlers (h_misc.c) */
/* h_session_id_valid() says whether s is a usable session id: 1..256
 * printable ASCII bytes (SPEC 2.1 step 1). */
bool h_session_id_valid(const char *s);
/* h_text_valid() says whether s is 1..max printable ASCII / UTF-8 bytes
 * without control characters (user names, contexts). */
bool h_text_valid(const char *s, size_t max);

#endif
