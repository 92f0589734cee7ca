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
struct policy_request;
struct policy_decision;
struct polcache_ref;
struct cfg_context;
/* h_policy_decide() evaluates the policies in force for pr, applies
 * [policy] default when none matched, and turns a step-up to a context
 * that is no longer configured into a block (fail closed). *action is an
 * enum policy_action (never NONE); *ctx the context for STEP_UP. The caller
 * cleans *d up (policy_decision_cleanup()) and releases *ref
 * (polcache_release()) whatever the result; any error means "refuse". */
enum su_rc h_policy_decide(struct req *r, const struct policy_request *pr,
			   struct policy_decision *d, struct polcache_ref **ref, int *action,
			   const struct cfg_context **ctx);
/* h_api.c */
void h_api_decisions(struct req *r);

/* h_api.c */
void h_api_stepups_create(struct req *r);
void h_api_session_get(struct req *r);
void h_api_session_delete(struct req *r);

/* h_stepup.c */
void h_stepup_start(struct req *r);
/* h_start_url_make() seals a start token and returns the absolute start URL
 * (malloc'd, caller frees) in *url. session may be NULL (a fresh session is
 * made at elevation); match_key (may be NULL) names the policy matches that
 * asked for the step-up. Checks nothing: callers validate first. */
enum su_rc h_start_url_make(struct req *r, const char *session, const char *user,
			    const char *context, const char *return_to, const char *match_key,
			    char **url, int64_t *expires_at);

/* h_flow_cookie_name() names the browser-binding cookie of the flow whose
 * state hashes to state_hash. */
void h_flow_cookie_name(const char *state_hash, char out[40]);

/* h_oidc.c */
void h_oidc_callback(struct req *r);

/* h_saml.c */
struct starttok;
struct cfg_context;
void h_saml_metadata(struct req *r);
void h_saml_acs(struct req *r);
/* h_saml_start() continues /stepup/start for a context of a SAML provider
 * (the start token t is opened and used): pending flow, SAML flow cookie,
 * 302 to the IdP with a signed AuthnRequest; or an error page. */
void h_saml_start(struct req *r, const struct starttok *t, const struct cfg_context *ctx);

/* h_elevate.c */
struct store_flow;
/* h_elevate() ends a verified step-up of flow f: a fresh session id (and
 * the stepup_session cookie) when the start request named none, the
 * elevation (user = f->user, else subject; expires at now + lifetime, or
 * at expires_cap when 0 < expires_cap is earlier), an audit row (event,
 * "elevated", acr) and a 303 to f->return_to. On failure it has answered
 * a 500 error page and audited it, and returns false. */
bool h_elevate(struct req *r, const char *event, const struct store_flow *f,
	       const struct cfg_context *ctx, const char *subject, const char *acr, const char *amr,
	       int64_t auth_time, int64_t expires_cap);

/* shared by the handlers (h_misc.c) */
/* h_session_id_valid() says whether s is a usable session id: 1..256
 * printable ASCII bytes (SPEC 2.1 step 1). */
bool h_session_id_valid(const char *s);
/* h_text_valid() says whether s is 1..max printable ASCII / UTF-8 bytes
 * without control characters (user names, contexts). */
bool h_text_valid(const char *s, size_t max);

#endif
