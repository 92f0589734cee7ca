/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_oidc.c: GET /oidc/callback (SPEC 2.1 steps 3-4). In order: take the
 * pending flow by state (consumed now, whatever follows), check the browser
 * binding cookie, RFC 9207 `iss`, an `error=` answer, exchange the code,
 * verify the ID token's signature (idp.c/jose.c) and every claim
 * (oidc.c), then record the elevation and answer 303 to the return URL
 * (h_elevate.c, shared with the SAML ACS). A flow of the reserved context
 * CFG_ADMIN_CONTEXT is an admin console sign-in: the same checks but no
 * acr, and h_admin_oidc_finish() (group claim, admin session) at the end.
 * Every failure answers 400 or 403 with an error page, is audited, and
 * elevates nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "handlers.h"
#include "http.h"
#include "idp.h"
#include "log.h"
#include "oidc.h"
#include "store.h"
#include "xcrypt.h"

#define CLOCK_SKEW 60

/* fail() answers an error page and audits the failure of flow f (may be NULL). */
static void
fail(struct req *r, const struct store_flow *f, int status, const char *title, const char *what)
{
	store_audit(r->store, r->now, "callback", f ? f->session_hash : NULL, f ? f->user : NULL,
		    f ? f->context : NULL, f ? f->provider : NULL, "denied", what);
	log_info("step-up refused: %s", what);
	http_reply_error_page(r, status, title, what);
}

/* param() reads a single query parameter; a duplicate is refused (400). */
static bool
param(struct req *r, const char *name, const char **val)
{
	if (http_query(r, name, val) == SU_EINVAL) {
		fail(r, NULL, 400, "Step-up refused", "A parameter of the answer appears twice.");
		return false;
	}
	return true;
}

void
h_oidc_callback(struct req *r)
{
	const char *state = NULL, *code = NULL, *error = NULL, *error_desc = NULL, *iss = NULL;
	const char *cookie_val;
	char state_hash[65], browser_hash[65], cookie[40], msg[512], err[256];
	struct store_flow f;
	const struct cfg_context *ctx;
	struct idp *idp;
	char *id_token = NULL;
	json_t *claims = NULL;
	struct oidc_expect x;
	struct oidc_result res;
	enum su_rc rc;
	bool admin;

	memset(&f, 0, sizeof(f));
	memset(&res, 0, sizeof(res));
	if (!param(r, "state", &state) || !param(r, "code", &code) || !param(r, "error", &error) ||
	    !param(r, "error_description", &error_desc) || !param(r, "iss", &iss))
		return;
	if (state == NULL || state[0] == '\0' || strlen(state) > 512) {
		fail(r, NULL, 400, "Step-up refused", "The answer carries no state.");
		return;
	}
	xcrypt_sha256_hex(state, state_hash);
	rc = store_flow_take(r->store, state_hash, r->now, &f);
	if (rc == SU_EEXPIRED) {
		fail(r, &f, 400, "Step-up expired", "This step-up took too long. Go back to the application and try again.");
		goto out;
	}
	if (rc != SU_OK) {
		fail(r, NULL, 400, "Step-up refused", "Unknown or already used state: this answer does not belong to a step-up in progress.");
		goto out;
	}
	/* the flow is consumed; from here on the browser cookie goes too */
	h_flow_cookie_name(state_hash, cookie);
	http_cookie_set(r, cookie, "", "/oidc/callback", 0);
	cookie_val = http_cookie(r, cookie);
	if (cookie_val == NULL) {
		fail(r, &f, 403, "Step-up refused", "This step-up was not started in this browser (no binding cookie).");
		goto out;
	}
	xcrypt_sha256_hex(cookie_val, browser_hash);
	if (!xcrypt_streq(browser_hash, f.browser_hash)) {
		fail(r, &f, 403, "Step-up refused", "This step-up was started in another browser.");
		goto out;
	}
	ctx = cfg_context_find(r->app->cfg, f.context);
	/* an admin console sign-in (h_admin.c): the reserved context */
	admin = ctx == NULL && strcmp(f.context, CFG_ADMIN_CONTEXT) == 0 &&
		r->app->cfg->admin_context.provider != NULL;
	if (admin)
		ctx = &r->app->cfg->admin_context;
	idp = ctx ? app_idp(r->app, ctx->provider) : NULL;
	if (ctx == NULL || idp == NULL || strcmp(ctx->provider->name, f.provider) != 0) {
		fail(r, &f, 400, "Step-up refused", "The context of this step-up is no longer configured.");
		goto out;
	}
	/* RFC 9207: an iss in the answer must be our provider's (mix-up
	 * defence), and it must be there when the provider says it sends it */
	if (iss != NULL && strcmp(iss, ctx->provider->issuer) != 0) {
		fail(r, &f, 400, "Step-up refused", "The answer names another identity provider (iss mismatch).");
		goto out;
	}
	if (iss == NULL && idp_iss_param_required(idp)) {
		fail(r, &f, 400, "Step-up refused", "The answer carries no iss although the identity provider announces it (RFC 9207).");
		goto out;
	}
	if (error != NULL) {
		snprintf(msg, sizeof(msg), "The identity provider answered with an error: %.64s%s%.200s",
			 error, error_desc ? ": " : "", error_desc ? error_desc : "");
		fail(r, &f, 403, "Step-up not completed", msg);
		goto out;
	}
	if (code == NULL || code[0] == '\0' || strlen(code) > 2048) {
		fail(r, &f, 400, "Step-up refused", "The answer carries no authorization code.");
		goto out;
	}
	{
		char redirect_uri[1100];

		snprintf(redirect_uri, sizeof(redirect_uri), "%s/oidc/callback", r->app->cfg->public_url);
		rc = idp_token_exchange(idp, code, f.pkce_verifier, redirect_uri, &id_token, err, sizeof(err));
	}
	if (rc != SU_OK) {
		snprintf(msg, sizeof(msg), "The token exchange failed: %s", err);
		fail(r, &f, 400, "Step-up refused", msg);
		goto out;
	}
	rc = idp_id_token_verify(idp, id_token, &claims, err, sizeof(err));
	if (rc != SU_OK) {
		snprintf(msg, sizeof(msg), "The ID token was refused: %s", err);
		fail(r, &f, 403, "Step-up refused", msg);
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.issuer = ctx->provider->issuer;
	x.client_id = ctx->provider->client_id;
	x.nonce = f.nonce;
	x.acrs = (const char *const *)ctx->acrs;
	x.acr = (const char *const *)ctx->acr;
	x.max_age = ctx->max_age;
	x.flow_created_at = f.created_at;
	x.now = r->now;
	x.skew = CLOCK_SKEW;
	x.subject_claim = ctx->provider->subject_claim;
	x.user = f.user;
	x.no_context = admin;
	rc = oidc_id_token_check(&x, claims, &res, err, sizeof(err));
	if (rc != SU_OK) {
		snprintf(msg, sizeof(msg), "The ID token was refused: %s", err);
		fail(r, &f, 403, "Step-up refused", msg);
		goto out;
	}
	if (f.user == NULL && !h_text_valid(res.subject, 256)) {
		fail(r, &f, 403, "Step-up refused", "The subject in the ID token is not a usable user name.");
		goto out;
	}
	if (admin)
		h_admin_oidc_finish(r, &f, ctx->provider, res.subject, claims);
	else
		h_elevate(r, "callback", &f, ctx, res.subject, res.acr, res.amr, res.auth_time, 0);
out:
	oidc_result_cleanup(&res);
	json_decref(claims);
	free(id_token);
	store_flow_cleanup(&f);
}
