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

/* h_admin.c: the admin console's frame, sign-in and sessions (docs/admin.md) */
struct tmpl_var;
/* h_admin_page() answers status with template tmpl_name rendered inside
 * templates/admin_layout.html (title, nav, the signed-in admin, the
 * sign-out form). The inner template may use @@csrf@@ and @@admin_user@@
 * without passing them in vars (they come from r); every other marker
 * needs a var. On a template error it answers a 500 text. */
void h_admin_page(struct req *r, int status, const char *title, const char *tmpl_name,
		  const struct tmpl_var *vars, size_t n);
/* h_admin_error() answers an error inside the console frame (plain error
 * page when no admin is signed in; JSON {"error": msg} under /admin/api/). */
void h_admin_error(struct req *r, int status, const char *msg);
/* h_admin_refuse() is h_admin_error() with a page title (a refusal the
 * route answers: CSRF, no admin session), worded for the admin. */
void h_admin_refuse(struct req *r, int status, const char *title, const char *msg);
/* h_admin_session_load() is called by route_dispatch() for /admin routes:
 * fills r->admin_user and r->csrf from a valid admin session (the
 * stepup_admin cookie; an expired one is deleted and refused), else
 * r->csrf from the pre-session cookie of the sign-in form. */
void h_admin_session_load(struct req *r);
void h_admin_home(struct req *r);
void h_admin_static_css(struct req *r);
void h_admin_login_get(struct req *r);
void h_admin_login_post(struct req *r);
void h_admin_login_oidc(struct req *r);
void h_admin_logout(struct req *r);
/* h_admin_oidc_finish() ends a verified OIDC admin sign-in (called by
 * h_oidc.c for a flow whose context is CFG_ADMIN_CONTEXT): checks the
 * [admin] group claim in the ID token's claims, creates the admin session
 * and answers; or answers a 403 page and creates nothing. */
struct cfg;
struct cfg_provider;
struct json_t;
void h_admin_oidc_finish(struct req *r, const struct store_flow *f, const struct cfg_provider *p,
			 const char *subject, const struct json_t *claims);
/* h_admin_groups_ok() says whether claims' [admin] group_claim (a string
 * or an array of strings) holds one of [admin] groups. */
bool h_admin_groups_ok(const struct cfg *c, const struct json_t *claims);
/* h_admin_next_ok() says whether next is a console path to go to after
 * sign-in: "/admin", "/admin/..." or "/admin?...", printable ASCII, no
 * backslash, no "//", no dot segments. */
bool h_admin_next_ok(const char *next);

/* h_admin_sessions.c, h_admin_policies.c, h_admin_report.c, h_admin_audit.c,
 * h_admin_idp.c: the console's pages (docs/admin.md "Pages"). GET pages
 * need R_ADMIN, POSTs R_ADMIN | R_CSRF | R_BODY (route.c). */
void h_admin_sessions(struct req *r);
void h_admin_session(struct req *r);
void h_admin_session_revoke(struct req *r);
void h_admin_session_revoke_user(struct req *r);
void h_admin_policies(struct req *r);
void h_admin_policy_new(struct req *r);
void h_admin_policy_create(struct req *r);
void h_admin_policy_edit(struct req *r);
void h_admin_policy_update(struct req *r);
void h_admin_policy_enable(struct req *r);
void h_admin_policy_delete_confirm(struct req *r);
void h_admin_policy_delete(struct req *r);
void h_admin_report(struct req *r);
void h_admin_audit(struct req *r);
void h_admin_idp(struct req *r);
void h_admin_idp_check(struct req *r);

/* Helpers the admin pages share (h_admin_sessions.c). */
struct buf;
#define H_AV_TIME_LEN 40
/* h_av_time() formats t as "YYYY-MM-DD HH:MM:SS UTC" ("never" for t <= 0);
 * h_av_iso() as "YYYY-MM-DDTHH:MM:SSZ" ("" for t <= 0); h_av_rel() relative
 * to now ("5 min ago", "in 2 hours"). */
void h_av_time(int64_t t, char out[H_AV_TIME_LEN]);
void h_av_iso(int64_t t, char out[H_AV_TIME_LEN]);
void h_av_rel(int64_t now, int64_t t, char out[H_AV_TIME_LEN]);
/* h_av_urlenc() appends s percent-encoded (all but RFC 3986 unreserved). */
enum su_rc h_av_urlenc(struct buf *b, const char *s);
/* h_av_query() / h_av_form() read an optional query / form field (absent:
 * ""); a repeated, broken or longer-than-max one answers 400 (console
 * page) and returns false. h_av_query() also refuses control characters. */
bool h_av_query(struct req *r, const char *name, size_t max, const char **val);
bool h_av_form(struct req *r, const char *name, size_t max, const char **val);
/* h_av_int() parses a decimal integer in [min, max] (digits only). */
bool h_av_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* h_av_page() reads ?page= (default 1); a bad one answers 400, false. */
bool h_av_page(struct req *r, int64_t *page);
/* h_av_badge() renders a status badge (kind: ok, info, warn, bad, muted). */
enum su_rc h_av_badge(struct buf *out, const char *kind, const char *text);
/* h_av_outcome_kind() maps an outcome, decision, state or severity word to
 * a badge kind; h_av_words() gives a stored word's display form. */
const char *h_av_outcome_kind(const char *o);
const char *h_av_words(const char *o);
/* h_av_notice() renders the confirmation named by ?done= (and ?n=), one of
 * fixed sentences; nothing for an unknown or absent one. */
enum su_rc h_av_notice(struct req *r, struct buf *out);
/* h_av_link(), h_av_option(), h_av_empty_row() render small templates. */
enum su_rc h_av_link(struct buf *out, const char *href, const char *cls, const char *text);
enum su_rc h_av_option(struct buf *out, const char *value, const char *label, bool selected);
enum su_rc h_av_empty_row(struct buf *out, const char *cols, const char *text);
/* h_av_session_link() renders a link to a session's page: its hash
 * shortened (monospace), the full hash in the title. */
enum su_rc h_av_session_link(struct buf *out, const char *hash);
/* h_av_pager() renders Newer / Older links: base is the page's URL with its
 * query so far ending in '?' or '&' (URL-encoded by the caller). Nothing
 * when everything fits on one page. */
enum su_rc h_av_pager(struct buf *out, const char *base, int64_t page, size_t per, size_t shown,
		      int64_t total);
/* h_av_redirect() answers 303 to a local location. */
void h_av_redirect(struct req *r, const char *location);

/* h_av_saml_meta() reads what SAML IdP metadata says about its lifetime
 * (h_admin_idp.c): the earliest validUntil of the document, the IdP's
 * EntityDescriptor and IDPSSODescriptor (0: none), the first cacheDuration,
 * and every signing certificate's subject and notAfter. The network is off,
 * entities are not substituted and a DOCTYPE is refused. SU_EINVAL with
 * m->problem set for a document it cannot use; SU_OK may also set problem
 * (e.g. a certificate that cannot be read). */
#define H_AV_CERTS_MAX 8
struct h_av_cert {
	int64_t not_after;
	char subject[256];
};
struct h_av_samlmeta {
	int64_t valid_until;
	char cache_duration[64];
	struct h_av_cert certs[H_AV_CERTS_MAX];
	size_t n_certs;
	char problem[128];
};
enum su_rc h_av_saml_meta(const char *xml, size_t len, struct h_av_samlmeta *m);

#endif
