/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_stepup.c: the start of a step-up (SPEC 2.1 steps 1-2).
 * GET /stepup/start?t=TOKEN opens the sealed start token (refusing
 * unsigned, altered, expired and replayed ones with an error page), stores
 * a single-use pending flow (state, nonce, PKCE verifier, ...), binds it to
 * this browser with a cookie whose hash the flow keeps, and redirects to
 * the provider's authorization endpoint asking for the context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "http.h"
#include "idp.h"
#include "log.h"
#include "oidc.h"
#include "starttok.h"
#include "store.h"
#include "xcrypt.h"

#define FLOW_TTL 600

enum su_rc
h_start_url_make(struct req *r, const char *session, const char *user, const char *context,
		 const char *return_to, const char *match_key, char **url, int64_t *expires_at)
{
	char *tok = NULL;
	struct buf b;
	enum su_rc rc;

	*url = NULL;
	rc = starttok_make(r->app->start_key, session, user, context, return_to, match_key, r->now,
			   STARTTOK_TTL, &tok, expires_at);
	if (rc != SU_OK)
		return rc;
	buf_init(&b, 16384);
	rc = buf_printf(&b, "%s/stepup/start?t=%s", r->app->cfg->public_url, tok);
	if (rc == SU_OK)
		*url = buf_steal(&b);
	buf_cleanup(&b);
	free(tok);
	return *url ? SU_OK : SU_ENOMEM;
}

/* h_flow_cookie_name() names the browser-binding cookie of one flow, so
 * that two step-ups in two tabs of one browser do not overwrite each other. */
void
h_flow_cookie_name(const char *state_hash, char out[40])
{
	snprintf(out, 40, "stepup_flow_%.16s", state_hash);
}

static void
refuse(struct req *r, int status, const char *title, const char *msg, const struct starttok *t,
       const char *detail)
{
	store_audit(r->store, r->now, "start", t && t->session_hash[0] ? t->session_hash : NULL,
		    t ? t->user : NULL, t ? t->context : NULL, NULL, "refused", detail);
	log_info("start refused: %s", detail);
	http_reply_error_page(r, status, title, msg);
}

/* purge_now() says whether this request should sweep expired pending
 * flows and start-token records: at most once a minute, by one request. */
static bool
purge_now(int64_t now)
{
	static int64_t last;
	int64_t prev = __atomic_load_n(&last, __ATOMIC_RELAXED);

	return now - prev >= 60 &&
	       __atomic_compare_exchange_n(&last, &prev, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void
h_stepup_start(struct req *r)
{
	struct starttok t;
	const struct cfg_context *ctx;
	struct idp *idp;
	const char *token = NULL;
	char state[48], nonce[48], verifier[48], browser[48], challenge[44];
	char state_hash[65], browser_hash[65], cookie[40], err[256];
	char *endpoint = NULL, *url = NULL;
	struct store_flow f;
	struct oidc_authz a;
	enum su_rc rc;

	memset(&t, 0, sizeof(t));
	if (purge_now(r->now))
		store_purge(r->store, r->now);
	rc = http_query(r, "t", &token);
	if (rc != SU_OK) {
		refuse(r, 400, "Step-up link not valid",
		       rc == SU_EINVAL ? "This step-up link carries its token twice." :
					 "This step-up link carries no token.",
		       NULL, "no token or duplicate token");
		return;
	}
	rc = starttok_open(r->app->start_key, token, r->now, &t);
	if (rc == SU_EEXPIRED) {
		refuse(r, 400, "Step-up link expired",
		       "This step-up link has expired. Go back to the application and try again.", &t,
		       "start token expired");
		goto out;
	}
	if (rc != SU_OK) {
		refuse(r, 400, "Step-up link not valid",
		       "This step-up link is not valid: it was not issued by this server or it was altered.",
		       NULL, "start token unsigned or altered");
		goto out;
	}
	ctx = cfg_context_find(r->app->cfg, t.context);
	if (ctx == NULL) {
		refuse(r, 400, "Unknown context", "This step-up asks for a context that is not configured.",
		       &t, "unknown context");
		goto out;
	}
	idp = app_idp(r->app, ctx->provider);
	if (idp == NULL) {
		/* not OIDC: a SAML provider. h_saml_start() records the token's
		 * single use itself, as the OIDC path below does after its
		 * provider check */
		h_saml_start(r, &t, ctx);
		goto out;
	}
	/* the provider first: a link is not used up by an unreachable IdP */
	if (idp_authorization_endpoint(idp, &endpoint, err, sizeof(err)) != SU_OK) {
		log_warn("provider %s: %s", ctx->provider->name, err);
		refuse(r, 502, "Identity provider unavailable",
		       "The identity provider could not be reached. Try again in a moment.", &t, err);
		goto out;
	}
	/* single use: the first request to record the token's id wins */
	rc = store_start_token_use(r->store, t.id, t.expires_at);
	if (rc == SU_EREPLAY) {
		refuse(r, 400, "Step-up link already used",
		       "This step-up link has already been used. Go back to the application and try again.",
		       &t, "start token replayed");
		goto out;
	}
	if (rc != SU_OK) {
		http_reply_error_page(r, 500, "Internal error", "The step-up could not be recorded.");
		goto out;
	}

	/* state and the browser cookie: 256 bits each; nonce and PKCE verifier too */
	if (xcrypt_random_token(state, sizeof(state), 32) != SU_OK ||
	    xcrypt_random_token(nonce, sizeof(nonce), 32) != SU_OK ||
	    xcrypt_random_token(verifier, sizeof(verifier), 32) != SU_OK ||
	    xcrypt_random_token(browser, sizeof(browser), 32) != SU_OK) {
		http_reply_error_page(r, 500, "Internal error", "No randomness available.");
		goto out;
	}
	xcrypt_sha256_hex(state, state_hash);
	xcrypt_sha256_hex(browser, browser_hash);
	xcrypt_pkce_s256(verifier, challenge);
	memset(&f, 0, sizeof(f));
	f.state_hash = state_hash;
	f.browser_hash = browser_hash;
	f.nonce = nonce;
	f.pkce_verifier = verifier;
	f.provider = ctx->provider->name;
	f.context = t.context;
	f.session_hash = t.session_hash[0] ? t.session_hash : NULL;
	f.user = t.user;
	f.return_to = t.return_to;
	f.match_key = t.match_key;
	f.created_at = r->now;
	f.expires_at = r->now + FLOW_TTL;
	if (store_flow_put(r->store, &f) != SU_OK) {
		http_reply_error_page(r, 500, "Internal error", "The step-up could not be recorded.");
		goto out;
	}
	{
		char redirect_uri[1100];

		snprintf(redirect_uri, sizeof(redirect_uri), "%s/oidc/callback", r->app->cfg->public_url);
		memset(&a, 0, sizeof(a));
		a.authorization_endpoint = endpoint;
		a.client_id = ctx->provider->client_id;
		a.redirect_uri = redirect_uri;
		a.scope = ctx->provider->scope;
		a.state = state;
		a.nonce = nonce;
		a.code_challenge = challenge;
		a.login_hint = t.user;
		a.acrs = (const char *const *)ctx->acrs;
		a.acr = (const char *const *)ctx->acr;
		a.max_age = ctx->max_age;
		/* max_age 0 means "a fresh login now": say it twice, as not every OP honours max_age=0 */
		a.prompt_login = ctx->max_age == 0;
		if (oidc_authz_url(&a, &url) != SU_OK) {
			http_reply_error_page(r, 500, "Internal error", "The request could not be built.");
			goto out;
		}
	}
	h_flow_cookie_name(state_hash, cookie);
	http_cookie_set(r, cookie, browser, "/oidc/callback", FLOW_TTL);
	store_audit(r->store, r->now, "start", f.session_hash, t.user, t.context, ctx->provider->name,
		    "redirected", "sent to the identity provider");
	http_redirect(r, 302, url);
out:
	free(url);
	free(endpoint);
	starttok_cleanup(&t);
}
