/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * httpc.h: the only place stepupd makes outbound HTTP calls (discovery,
 * JWKS, token endpoint, alert webhooks), on libcurl: http and https only, no redirects
 * followed, TLS verified, a connect timeout, a total timeout and a cap on
 * the response size. A body over the cap is an error, never truncated.
 */
#ifndef STEPUPD_HTTPC_H
#define STEPUPD_HTTPC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "rc.h"

#define HTTPC_MAX_BODY (1024 * 1024)

struct httpc_resp {
	long status;
	struct buf body;
};

/* httpc_global_init() once at start-up, before threads. */
enum su_rc httpc_global_init(long connect_timeout_ms, long total_timeout_ms);
void httpc_global_cleanup(void);
/* httpc_cancel_all() ends every call in flight within about a second and
 * refuses new ones' transfers (SIGTERM: stepupd stops within seconds even
 * when an IdP hangs). */
void httpc_cancel_all(void);

/* httpc_get() GETs url (Accept: application/json). resp is initialised
 * by the call; free with httpc_resp_cleanup() whatever the result. ca_file
 * may be NULL. SU_EIDP with err on transport failure, timeout or a body
 * larger than max. */
enum su_rc httpc_get(const char *url, const char *ca_file, size_t max, struct httpc_resp *resp,
		     char *err, size_t errsz);
/* httpc_post_form() POSTs an application/x-www-form-urlencoded body; with
 * basic_user not NULL it sends HTTP Basic auth (values already form-encoded
 * as RFC 6749 2.3.1 wants). */
enum su_rc httpc_post_form(const char *url, const char *ca_file, const char *form,
			   const char *basic_user, const char *basic_pass, size_t max,
			   struct httpc_resp *resp, char *err, size_t errsz);
/* httpc_post_json() POSTs json as application/json with the extra request
 * headers hdrs ("Name: value" strings, NULL-terminated, may be NULL; one
 * holding a control byte is refused with SU_EINVAL before anything is
 * sent). timeout_ms > 0 is this call's total timeout instead of the global
 * one. cancel (may be NULL) aborts the call within about a second of
 * becoming true (SU_EIDP). Used for alert webhooks (events.c). */
enum su_rc httpc_post_json(const char *url, const char *ca_file, const char *json,
			   const char *const *hdrs, long timeout_ms, const atomic_bool *cancel,
			   size_t max, struct httpc_resp *resp, char *err, size_t errsz);
void httpc_resp_cleanup(struct httpc_resp *resp);
/* httpc_form_escape() returns the application/x-www-form-urlencoded form of s
 * (malloc'd, caller frees). */
char *httpc_form_escape(const char *s);

#endif
