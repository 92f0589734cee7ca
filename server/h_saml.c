/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_saml.c: the SAML 2.0 step-up (SPEC 2.2) seen from HTTP.
 *
 * h_saml_start() (reached from GET /stepup/start) stores the pending flow
 * (keyed by the hash of the RelayState, holding the AuthnRequest ID), binds
 * it to the browser with a SAML flow cookie and redirects to the IdP with a
 * signed AuthnRequest. POST /saml/acs takes the flow by RelayState
 * (consumed now, whatever follows), checks the cookie, lets saml.c check
 * the response completely, records the assertion ID (replay), and elevates
 * through h_elevate() exactly as the OIDC callback does. GET /saml/metadata
 * serves the SP metadata.
 *
 * The browser binding cookie. The ACS receives a cross-site POST from the
 * IdP's page, and browsers do not send SameSite=Lax (or Strict) cookies on
 * cross-site POSTs; the OIDC flow cookie (SameSite=Lax, sent on the
 * top-level GET redirect) cannot work here. So the SAML flow cookie is a
 * separate cookie, HttpOnly, Path=/saml/acs (sent nowhere else), living as
 * long as the flow, with "SameSite=None; Secure" when public_url is https.
 * On plain http (loopback development only) it carries no SameSite
 * attribute, because browsers drop SameSite=None without Secure; there the
 * IdP and stepupd normally share the site 127.0.0.1 anyway (ports do not
 * make a site), so the POST is same-site. The cookie's value is 256 random
 * bits the flow keeps only as a hash; an attacker who makes a victim's
 * browser post to the ACS still needs this browser's cookie for the flow
 * named by RelayState, so a response cannot be planted into another
 * browser (login CSRF) and a stolen RelayState is useless elsewhere.
 *
 * It does not parse XML or verify signatures (saml.c) and does not decide
 * who is elevated for how long beyond the context's lifetime, capped by
 * SessionNotOnOrAfter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "saml.h"
#include "starttok.h"
#include "store.h"
#include "store_saml.h"
#include "xcrypt.h"

#define SAML_FLOW_TTL 600
#define SAML_CLOCK_SKEW 60
#define SAML_ACS_PATH "/saml/acs"

/* h_saml_sp() returns the SAML SP of provider p, NULL when it has none. */
static struct saml_sp *
h_saml_sp(const struct app *a, const struct cfg_provider *p)
{
	for (size_t i = 0; a->sps != NULL && i < a->cfg->n_providers; i++)
		if (&a->cfg->providers[i] == p)
			return a->sps[i];
	return NULL;
}

/* h_saml_cookie_name() names the flow cookie of the flow whose RelayState
 * hashes to state_hash (two tabs, two flows, two cookies). */
static void
h_saml_cookie_name(const char *state_hash, char out[40])
{
	snprintf(out, 40, "stepup_saml_%.16s", state_hash);
}

/* h_saml_cookie_set() sets (max_age > 0) or deletes (0) the SAML flow
 * cookie with the attributes explained at the top of this file. */
static void
h_saml_cookie_set(struct req *r, const char *name, const char *value, int64_t max_age)
{
	struct buf b;

	buf_init(&b, 1024);
	buf_printf(&b, "%s=%s; Path=%s; HttpOnly; Max-Age=%lld", name, value, SAML_ACS_PATH,
		   (long long)max_age);
	if (r->app->cfg->public_https)
		buf_puts(&b, "; SameSite=None; Secure");
	http_header_add(r, "Set-Cookie", buf_cstr(&b));
	buf_cleanup(&b);
}

/* h_saml_start_refuse() answers an error page for a start that cannot go on. */
static void
h_saml_start_refuse(struct req *r, int status, const char *title, const char *msg,
		    const struct starttok *t, const char *provider, const char *detail)
{
	store_audit(r->store, r->now, "start", t->session_hash[0] ? t->session_hash : NULL, t->user,
		    t->context, provider, status >= 500 ? "error" : "refused", detail);
	log_info("start refused: %s", detail);
	http_reply_error_page(r, status, title, msg);
}

/* h_saml_start(): see handlers.h. */
void
h_saml_start(struct req *r, const struct starttok *t, const struct cfg_context *ctx)
{
	struct saml_sp *sp = h_saml_sp(r->app, ctx->provider);
	char relay[48], browser[48], state_hash[65], browser_hash[65], cookie[40], err[256];
	char rid[SAML_REQUEST_ID_LEN + 1];
	char *url = NULL;
	struct saml_authn a;
	struct store_flow f;
	enum su_rc rc;

	if (sp == NULL || ctx->provider->type != CFG_PROVIDER_SAML) {
		h_saml_start_refuse(r, 501, "Not available",
				    "This context's identity provider is not available.", t,
				    ctx->provider->name, "no SAML service provider for this provider");
		goto out;
	}
	/* single use: the first request to record the token's id wins */
	rc = store_start_token_use(r->store, t->id, t->expires_at);
	if (rc == SU_EREPLAY) {
		h_saml_start_refuse(r, 400, "Step-up link already used",
				    "This step-up link has already been used. Go back to the "
				    "application and try again.",
				    t, NULL, "start token replayed");
		goto out;
	}
	if (rc != SU_OK) {
		http_reply_error_page(r, 500, "Internal error", "The step-up could not be recorded.");
		goto out;
	}
	/* RelayState and the browser cookie: 256 bits each; RelayState is 43
	 * base64url characters, within the binding's 80 bytes */
	if (xcrypt_random_token(relay, sizeof(relay), 32) != SU_OK ||
	    xcrypt_random_token(browser, sizeof(browser), 32) != SU_OK) {
		http_reply_error_page(r, 500, "Internal error", "No randomness available.");
		goto out;
	}
	xcrypt_sha256_hex(relay, state_hash);
	xcrypt_sha256_hex(browser, browser_hash);
	memset(&a, 0, sizeof(a));
	a.class_refs = (const char *const *)ctx->class_refs;
	a.comparison = ctx->comparison;
	a.relay_state = relay;
	if (saml_authn_request(sp, &a, &url, rid, err, sizeof(err)) != SU_OK) {
		log_err("provider %s: AuthnRequest: %s", ctx->provider->name, err);
		h_saml_start_refuse(r, 500, "Internal error", "The request could not be built.", t,
				    ctx->provider->name, "AuthnRequest could not be built");
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.state_hash = state_hash;
	f.browser_hash = browser_hash;
	f.provider = ctx->provider->name;
	f.context = t->context;
	f.session_hash = t->session_hash[0] ? (char *)t->session_hash : NULL;
	f.user = t->user;
	f.return_to = t->return_to;
	f.request_id = rid;
	f.match_key = t->match_key;
	f.created_at = r->now;
	f.expires_at = r->now + SAML_FLOW_TTL;
	if (store_flow_put(r->store, &f) != SU_OK) {
		http_reply_error_page(r, 500, "Internal error", "The step-up could not be recorded.");
		goto out;
	}
	h_saml_cookie_name(state_hash, cookie);
	h_saml_cookie_set(r, cookie, browser, SAML_FLOW_TTL);
	store_audit(r->store, r->now, "start", f.session_hash, t->user, t->context, ctx->provider->name,
		    "redirected", "sent to the SAML identity provider");
	http_redirect(r, 302, url);
out:
	free(url);
}

/* h_saml_metadata(): see handlers.h. */
void
h_saml_metadata(struct req *r)
{
	const struct cfg *c = r->app->cfg;
	const char *want = NULL;
	struct saml_sp *sp = NULL;

	if (http_query(r, "provider", &want) == SU_EINVAL) {
		http_reply_text(r, 400, "provider appears twice");
		return;
	}
	for (size_t i = 0; i < c->n_providers && sp == NULL; i++) {
		if (c->providers[i].type != CFG_PROVIDER_SAML)
			continue;
		if (want == NULL || strcmp(want, c->providers[i].name) == 0)
			sp = h_saml_sp(r->app, &c->providers[i]);
	}
	if (sp == NULL) {
		http_reply_text(r, 404, "no such SAML service provider");
		return;
	}
	r->status = 200;
	r->ctype = "application/samlmetadata+xml";
	buf_reset(&r->out);
	if (buf_puts(&r->out, saml_sp_metadata(sp)) != SU_OK)
		http_reply_text(r, 500, "internal error");
}

/* h_saml_fail() answers an error page and audits the failure of flow f (may be NULL). */
static void
h_saml_fail(struct req *r, const struct store_flow *f, int status, const char *title,
	    const char *what)
{
	store_audit(r->store, r->now, "acs", f ? f->session_hash : NULL, f ? f->user : NULL,
		    f ? f->context : NULL, f ? f->provider : NULL, "denied", what);
	log_info("SAML step-up refused: %s", what);
	http_reply_error_page(r, status, title, what);
}

/* h_saml_relay_ok() says whether RelayState looks like one we issued:
 * 1..80 base64url characters. */
static bool
h_saml_relay_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= SAML_RELAY_STATE_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* h_saml_acs(): see handlers.h. */
void
h_saml_acs(struct req *r)
{
	const char *ctype = http_header(r, "Content-Type");
	char *response = NULL, *relay = NULL;
	char state_hash[65], browser_hash[65], cookie[40], err[300], msg[512];
	const char *cookie_val;
	const struct cfg_context *ctx;
	struct saml_sp *sp;
	struct store_flow f;
	struct saml_expect x;
	struct saml_result res;
	enum su_rc rc;

	memset(&f, 0, sizeof(f));
	memset(&res, 0, sizeof(res));
	store_saml_purge(r->store, r->now);
	if (ctype == NULL || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ctype[33] != '\0' && ctype[33] != ';' && ctype[33] != ' ')) {
		h_saml_fail(r, NULL, 400, "Step-up refused",
			    "The answer is not an HTML form post (application/x-www-form-urlencoded).");
		goto out;
	}
	if (saml_form_parse(buf_cstr(&r->body), r->body.len, &response, &relay, err, sizeof(err)) !=
	    SU_OK) {
		snprintf(msg, sizeof(msg), "The answer is not a SAML response form: %s.", err);
		h_saml_fail(r, NULL, 400, "Step-up refused", msg);
		goto out;
	}
	if (!h_saml_relay_ok(relay)) {
		h_saml_fail(r, NULL, 400, "Step-up refused",
			    "Unknown RelayState: this answer does not belong to a step-up in progress.");
		goto out;
	}
	xcrypt_sha256_hex(relay, state_hash);
	rc = store_flow_take(r->store, state_hash, r->now, &f);
	if (rc == SU_EEXPIRED) {
		h_saml_fail(r, &f, 400, "Step-up expired",
			    "This step-up took too long. Go back to the application and try again.");
		goto out;
	}
	if (rc != SU_OK) {
		h_saml_fail(r, NULL, 400, "Step-up refused",
			    "Unknown or already used RelayState: this answer does not belong to a "
			    "step-up in progress.");
		goto out;
	}
	/* the flow is consumed; from here on its cookie goes too */
	h_saml_cookie_name(state_hash, cookie);
	h_saml_cookie_set(r, cookie, "", 0);
	cookie_val = http_cookie(r, cookie);
	if (cookie_val == NULL) {
		h_saml_fail(r, &f, 403, "Step-up refused",
			    "This step-up was not started in this browser (no binding cookie).");
		goto out;
	}
	xcrypt_sha256_hex(cookie_val, browser_hash);
	if (!xcrypt_streq(browser_hash, f.browser_hash)) {
		h_saml_fail(r, &f, 403, "Step-up refused", "This step-up was started in another browser.");
		goto out;
	}
	ctx = cfg_context_find(r->app->cfg, f.context);
	sp = ctx ? h_saml_sp(r->app, ctx->provider) : NULL;
	if (ctx == NULL || sp == NULL || strcmp(ctx->provider->name, f.provider) != 0 ||
	    f.request_id == NULL || f.request_id[0] == '\0') {
		h_saml_fail(r, &f, 400, "Step-up refused",
			    "This step-up is not a SAML step-up of a configured context.");
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.idp_entity_id = saml_sp_idp_entity_id(sp);
	x.sp_entity_id = ctx->provider->sp_entity_id;
	x.acs_url = saml_sp_acs_url(sp);
	x.request_id = f.request_id;
	x.class_refs = (const char *const *)ctx->class_refs;
	x.comparison = ctx->comparison;
	x.class_ref_order = (const char *const *)ctx->provider->class_ref_order;
	x.subject_attribute = ctx->provider->subject_attribute;
	x.user = f.user;
	x.flow_created_at = f.created_at;
	x.now = r->now;
	x.skew = SAML_CLOCK_SKEW;
	rc = saml_response_check(sp, response, &x, &res, err, sizeof(err));
	if (rc == SU_EIDP) {
		snprintf(msg, sizeof(msg), "The identity provider did not sign you in. %s", err);
		h_saml_fail(r, &f, 403, "Step-up not completed", msg);
		goto out;
	}
	if (rc != SU_OK) {
		snprintf(msg, sizeof(msg), "The SAML response was refused: %s", err);
		h_saml_fail(r, &f, rc == SU_EINVAL ? 400 : 403, "Step-up refused", msg);
		goto out;
	}
	if (f.user == NULL && !h_text_valid(res.subject, 256)) {
		h_saml_fail(r, &f, 403, "Step-up refused",
			    "The subject in the SAML assertion is not a usable user name.");
		goto out;
	}
	/* last: an assertion that passed every check is used once */
	rc = store_saml_assertion_use(r->store, res.assertion_id, f.provider, r->now,
				      res.not_on_or_after);
	if (rc == SU_EREPLAY) {
		h_saml_fail(r, &f, 403, "Step-up refused",
			    "The SAML response was refused: this assertion was already used (replay).");
		goto out;
	}
	if (rc != SU_OK) {
		h_saml_fail(r, &f, 500, "Internal error", "The assertion could not be recorded.");
		goto out;
	}
	h_elevate(r, "acs", &f, ctx, res.subject, res.class_ref, "[]", res.authn_instant,
		  res.session_not_on_or_after);
out:
	saml_result_cleanup(&res);
	store_flow_cleanup(&f);
	free(response);
	free(relay);
}
