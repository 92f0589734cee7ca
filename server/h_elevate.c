/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_elevate.c: the common end of every successful step-up (SPEC 2.1 step
 * 4, 2.2), shared by the OIDC callback (h_oidc.c) and the SAML ACS
 * (h_saml.c): mint a session when the start request named none, record the
 * elevation, audit it, and answer 303 to the return URL. It checks
 * nothing: its callers have verified everything before they call it.
 */
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "xcrypt.h"

#define SESSION_COOKIE "stepup_session"

/* h_elevate_fail() answers the error page of a failed elevation and audits it. */
static void
h_elevate_fail(struct req *r, const char *event, const struct store_flow *f, const char *title,
	       const char *what)
{
	store_audit(r->store, r->now, event, f->session_hash, f->user, f->context, f->provider,
		    "denied", what);
	log_info("step-up refused: %s", what);
	http_reply_error_page(r, 500, title, what);
}

/* h_elevate(): see handlers.h. */
bool
h_elevate(struct req *r, const char *event, const struct store_flow *f,
	  const struct cfg_context *ctx, const char *subject, const char *acr, const char *amr,
	  int64_t auth_time, int64_t expires_cap)
{
	char new_session[48] = "", new_hash[65];
	struct store_elevation e;

	/* a start request that named no session gets a fresh session id now,
	 * never one the browser brought (session fixation) */
	if (f->session_hash == NULL || f->session_hash[0] == '\0') {
		if (xcrypt_random_token(new_session, sizeof(new_session), 32) != SU_OK) {
			h_elevate_fail(r, event, f, "Internal error", "No randomness available.");
			return false;
		}
		xcrypt_sha256_hex(new_session, new_hash);
	}
	memset(&e, 0, sizeof(e));
	e.session_hash = new_session[0] ? new_hash : f->session_hash;
	e.user = f->user ? f->user : (char *)subject;
	e.context = f->context;
	e.provider = f->provider;
	e.acr = (char *)acr;
	e.amr = (char *)amr;
	e.auth_time = auth_time;
	e.elevated_at = r->now;
	e.expires_at = r->now + ctx->lifetime;
	if (expires_cap > 0 && expires_cap < e.expires_at)
		e.expires_at = expires_cap;
	if (store_elevation_put(r->store, &e) != SU_OK) {
		h_elevate_fail(r, event, f, "Internal error", "The elevation could not be recorded.");
		return false;
	}
	store_audit(r->store, r->now, event, e.session_hash, e.user, e.context, e.provider, "elevated",
		    acr);
	log_info("elevated: user=%s context=%s provider=%s acr=%s", e.user, e.context, e.provider, acr);
	/* the policy matches that sent the user here: now "stepped_up" */
	if (f->match_key != NULL && events_outcome(r->store, f->match_key, "stepped_up") != SU_OK)
		log_warn("could not record the step-up outcome of its policy matches");
	if (new_session[0])
		http_cookie_set_domain(r, SESSION_COOKIE, new_session, "/", r->app->cfg->cookie_domain, -1);
	http_redirect(r, 303, f->return_to);
	return true;
}
