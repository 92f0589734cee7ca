/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_admin_idp.c: the console's identity-provider status page (SPEC 2.5):
 * GET /admin/idps. For each OpenID provider, idp_status_get(): whether a
 * discovery document is held and since when, the signing keys (JWKS) held,
 * their key ids, and the last error. For each SAML provider, the IdP's
 * entity id (saml.h) and what its metadata file says about its own
 * lifetime: validUntil, cacheDuration, and the expiry of every signing
 * certificate; and the expiry of our own SP certificate. POST
 * /admin/idps/check fetches each OpenID provider's discovery document
 * when none is held (a slow route: it waits on the IdPs).
 *
 * What it does: reads the metadata file with libxml2 with the network
 * off, no entity substitution and any DOCTYPE refused (the file is the
 * operator's, but it came from the IdP), and the certificates with
 * OpenSSL. Every value (entity ids, subjects, key ids, error texts) is
 * escaped by the templates.
 *
 * What it does not do: verify the metadata's signature or trust anything
 * it reads here (saml.c does the checks that matter, at start-up), fetch a
 * JWKS (idp.c does that when a token needs it), or change configuration.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cfg.h"
#include "handlers.h"
#include "http.h"
#include "idp.h"
#include "saml.h"
#include "store.h"
#include "tmpl.h"

#define IDP_META_MAX (4 * 1024 * 1024) /* metadata file bytes read */
#define IDP_SOON (30 * 86400)          /* "expires soon" below this many seconds */
#define MD_NS "urn:oasis:names:tc:SAML:2.0:metadata"
#define DS_NS "http://www.w3.org/2000/09/xmldsig#"

/* ---- SAML metadata ---- */

/* idp_cert_info() reads notAfter and the subject of a DER or PEM certificate. */
static bool
idp_cert_info(X509 *x, struct h_av_cert *out)
{
	const ASN1_TIME *na = x ? X509_get0_notAfter(x) : NULL;
	struct tm tm;

	if (na == NULL || ASN1_TIME_to_tm(na, &tm) != 1)
		return false;
	out->not_after = (int64_t)timegm(&tm);
	if (X509_NAME_oneline(X509_get_subject_name(x), out->subject, sizeof(out->subject)) == NULL)
		snprintf(out->subject, sizeof(out->subject), "?");
	return true;
}

/* idp_b64_cert() decodes the base64 text of a ds:X509Certificate (any
 * whitespace allowed) and reads it. */
static bool
idp_b64_cert(const char *text, struct h_av_cert *out)
{
	size_t n = strlen(text), j = 0;
	unsigned char *clean = malloc(n + 1), *der = malloc(n + 1);
	const unsigned char *p;
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int len = 0, fin = 0;
	X509 *x = NULL;
	bool ok = false;

	if (clean == NULL || der == NULL || ctx == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
			clean[j++] = (unsigned char)text[i];
	if (j == 0 || j > INT32_MAX / 2)
		goto out;
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, der, &len, clean, (int)j) < 0 ||
	    EVP_DecodeFinal(ctx, der + len, &fin) != 1)
		goto out;
	p = der;
	x = d2i_X509(NULL, &p, len + fin);
	ok = x != NULL && idp_cert_info(x, out);
out:
	X509_free(x);
	EVP_ENCODE_CTX_free(ctx);
	free(clean);
	free(der);
	return ok;
}

/* idp_is() says whether node n is element `name` in namespace ns. */
static bool
idp_is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* idp_valid_until() lowers m->valid_until to n's validUntil (when set and
 * parseable; a bad one is a problem) and takes its cacheDuration. */
static void
idp_valid_until(const xmlNode *n, struct h_av_samlmeta *m)
{
	xmlChar *vu = xmlGetProp(n, (const xmlChar *)"validUntil");
	xmlChar *cd = xmlGetProp(n, (const xmlChar *)"cacheDuration");
	int64_t t;

	if (vu != NULL) {
		if (saml_time_parse((const char *)vu, &t) != SU_OK)
			snprintf(m->problem, sizeof(m->problem), "validUntil is not a UTC time");
		else if (m->valid_until == 0 || t < m->valid_until)
			m->valid_until = t;
	}
	if (cd != NULL && m->cache_duration[0] == '\0')
		snprintf(m->cache_duration, sizeof(m->cache_duration), "%.60s", (const char *)cd);
	xmlFree(vu);
	xmlFree(cd);
}

/* idp_certs() collects the signing certificates of an IDPSSODescriptor. */
static void
idp_certs(const xmlNode *sso, struct h_av_samlmeta *m)
{
	for (const xmlNode *kd = sso->children; kd != NULL; kd = kd->next) {
		xmlChar *use;
		bool signing;

		if (!idp_is(kd, MD_NS, "KeyDescriptor"))
			continue;
		use = xmlGetProp(kd, (const xmlChar *)"use");
		signing = use == NULL || strcmp((const char *)use, "signing") == 0;
		xmlFree(use);
		if (!signing)
			continue;
		for (const xmlNode *ki = kd->children; ki != NULL; ki = ki->next) {
			if (!idp_is(ki, DS_NS, "KeyInfo"))
				continue;
			for (const xmlNode *xd = ki->children; xd != NULL; xd = xd->next) {
				if (!idp_is(xd, DS_NS, "X509Data"))
					continue;
				for (const xmlNode *c = xd->children; c != NULL; c = c->next) {
					xmlChar *text;

					if (!idp_is(c, DS_NS, "X509Certificate") ||
					    m->n_certs >= H_AV_CERTS_MAX)
						continue;
					text = xmlNodeGetContent(c);
					if (text != NULL && idp_b64_cert((const char *)text,
									 &m->certs[m->n_certs]))
						m->n_certs++;
					else
						snprintf(m->problem, sizeof(m->problem),
							 "a signing certificate cannot be read");
					xmlFree(text);
				}
			}
		}
	}
}

/* h_av_saml_meta(): see handlers.h. */
enum su_rc
h_av_saml_meta(const char *xml, size_t len, struct h_av_samlmeta *m)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *ed = NULL;
	enum su_rc rc = SU_EINVAL;

	memset(m, 0, sizeof(*m));
	if (xml == NULL || len == 0 || len > IDP_META_MAX || len > INT32_MAX) {
		snprintf(m->problem, sizeof(m->problem), "the metadata file is empty or too large");
		goto out;
	}
	if (memmem(xml, len, "<!DOCTYPE", 9) != NULL || memmem(xml, len, "<!ENTITY", 8) != NULL) {
		snprintf(m->problem, sizeof(m->problem), "the metadata has a DOCTYPE (refused)");
		goto out;
	}
	doc = xmlReadMemory(xml, (int)len, "metadata.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL) {
		snprintf(m->problem, sizeof(m->problem), "the metadata is not well-formed XML");
		goto out;
	}
	if (idp_is(root, MD_NS, "EntitiesDescriptor")) {
		idp_valid_until(root, m);
		for (xmlNode *c = root->children; c != NULL && ed == NULL; c = c->next) {
			if (!idp_is(c, MD_NS, "EntityDescriptor"))
				continue;
			for (xmlNode *k = c->children; k != NULL; k = k->next)
				if (idp_is(k, MD_NS, "IDPSSODescriptor"))
					ed = c;
		}
	} else if (idp_is(root, MD_NS, "EntityDescriptor")) {
		ed = root;
	}
	if (ed == NULL) {
		snprintf(m->problem, sizeof(m->problem), "no IdP EntityDescriptor in the metadata");
		goto out;
	}
	idp_valid_until(ed, m);
	for (xmlNode *c = ed->children; c != NULL; c = c->next) {
		if (!idp_is(c, MD_NS, "IDPSSODescriptor"))
			continue;
		idp_valid_until(c, m);
		idp_certs(c, m);
	}
	if (m->n_certs == 0 && m->problem[0] == '\0')
		snprintf(m->problem, sizeof(m->problem), "no signing certificate in the metadata");
	rc = SU_OK;
out:
	xmlFreeDoc(doc);
	return rc;
}

/* idp_read_file() reads at most IDP_META_MAX bytes of path (malloc'd). */
static char *
idp_read_file(const char *path, size_t *len)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	struct buf b;
	char chunk[8192];
	size_t got;

	*len = 0;
	if (f == NULL)
		return NULL;
	buf_init(&b, IDP_META_MAX);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, got) != SU_OK) {
			buf_cleanup(&b);
			fclose(f);
			return NULL;
		}
	}
	fclose(f);
	*len = b.len;
	return buf_steal(&b);
}

/* ---- rendering ---- */

/* idp_expiry_badge() renders "valid" / "expires soon" / "expired" for t. */
static enum su_rc
idp_expiry_badge(struct req *r, struct buf *out, int64_t t)
{
	if (t <= r->now)
		return h_av_badge(out, "bad", "expired");
	if (t - r->now < IDP_SOON)
		return h_av_badge(out, "warn", "expires soon");
	return h_av_badge(out, "ok", "valid");
}

/* idp_cert_html() renders one certificate line. */
static enum su_rc
idp_cert_html(struct req *r, struct buf *out, const struct h_av_cert *c)
{
	struct buf badge;
	char t[H_AV_TIME_LEN], rel[H_AV_TIME_LEN], when[2 * H_AV_TIME_LEN + 4];
	enum su_rc rc;

	buf_init(&badge, 512);
	h_av_time(c->not_after, t);
	h_av_rel(r->now, c->not_after, rel);
	snprintf(when, sizeof(when), "%s (%s)", t, rel);
	rc = idp_expiry_badge(r, &badge, c->not_after);
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "subject", c->subject }, { "not_after", when }, { "badge", buf_cstr(&badge) },
		};

		rc = tmpl_render("admin_cert", v, 3, out);
	}
	buf_cleanup(&badge);
	return rc;
}

/* idp_text() renders a span with a class. */
static enum su_rc
idp_text(struct buf *out, const char *cls, const char *text)
{
	const struct tmpl_var v[] = { { "class", cls }, { "text", text } };

	return tmpl_render("admin_text", v, 2, out);
}

/* idp_contexts() lists the contexts that use provider p ("none"). */
static void
idp_contexts(const struct cfg *c, const struct cfg_provider *p, struct buf *out)
{
	for (size_t i = 0; i < c->n_contexts; i++) {
		if (c->contexts[i].provider != p)
			continue;
		if (out->len > 0)
			buf_puts(out, ", ");
		buf_puts(out, c->contexts[i].name);
	}
	if (out->len == 0)
		buf_puts(out, "none");
}

/* idp_oidc_card() renders one OpenID provider. */
static enum su_rc
idp_oidc_card(struct req *r, const struct cfg_provider *p, struct buf *out, bool *healthy)
{
	struct idp *d = app_idp(r->app, p);
	struct idp_status st;
	struct buf status, disc, kids, err, ctxs;
	char dat[2 * H_AV_TIME_LEN], jat[2 * H_AV_TIME_LEN], nk[24], rel[H_AV_TIME_LEN];
	static const char *const auth[] = { "?", "client_secret_basic", "client_secret_post",
					    "private_key_jwt" };
	enum su_rc rc = SU_OK;

	memset(&st, 0, sizeof(st));
	if (d != NULL)
		idp_status_get(d, &st);
	buf_init(&status, 512);
	buf_init(&disc, 512);
	buf_init(&kids, 64 * 1024);
	buf_init(&err, 4096);
	buf_init(&ctxs, 4096);
	if (st.last_error != NULL) {
		*healthy = false;
		rc = h_av_badge(&status, "bad", "error");
	} else if (!st.discovered) {
		rc = h_av_badge(&status, "muted", "not contacted yet");
	} else {
		rc = h_av_badge(&status, "ok", "reachable");
	}
	if (rc == SU_OK)
		rc = st.discovered ? h_av_badge(&disc, "ok", "held") : h_av_badge(&disc, "muted", "not fetched yet");
	dat[0] = jat[0] = '\0';
	if (st.discovered) {
		h_av_rel(r->now, st.discovered_at, rel);
		snprintf(dat, sizeof(dat), "fetched %s", rel);
	}
	if (st.jwks_fetched_at > 0) {
		h_av_rel(r->now, st.jwks_fetched_at, rel);
		snprintf(jat, sizeof(jat), "fetched %s", rel);
	} else {
		snprintf(jat, sizeof(jat), "not fetched yet (at the first step-up)");
	}
	snprintf(nk, sizeof(nk), "%zu", st.n_keys);
	/* key ids: the space-separated list as chips */
	for (const char *k = st.kids; rc == SU_OK && k != NULL && *k != '\0';) {
		size_t n = strcspn(k, " ");

		if (n > 0) {
			char *one = strndup(k, n);
			const struct tmpl_var v[] = { { "text", one } };

			rc = one ? tmpl_render("admin_code", v, 1, &kids) : SU_ENOMEM;
			free(one);
		}
		k += n;
		while (*k == ' ')
			k++;
	}
	if (rc == SU_OK && kids.len == 0)
		rc = idp_text(&kids, "muted", st.n_keys ? "keys without a kid" : "none yet");
	if (rc == SU_OK)
		rc = idp_text(&err, st.last_error ? "error-text" : "muted",
			      st.last_error ? st.last_error : "none");
	idp_contexts(r->app->cfg, p, &ctxs);
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "name", p->name }, { "status", buf_cstr(&status) }, { "issuer", p->issuer },
			{ "client_id", p->client_id },
			{ "token_auth", auth[p->token_auth <= CFG_AUTH_PRIVATE_KEY_JWT ? p->token_auth : 0] },
			{ "discovery", buf_cstr(&disc) }, { "discovered_at", dat }, { "n_keys", nk },
			{ "jwks_at", jat }, { "kids", buf_cstr(&kids) }, { "last_error", buf_cstr(&err) },
			{ "contexts", buf_cstr(&ctxs) },
		};

		rc = tmpl_render("admin_idp_oidc", v, sizeof(v) / sizeof(v[0]), out);
	}
	idp_status_cleanup(&st);
	buf_cleanup(&status);
	buf_cleanup(&disc);
	buf_cleanup(&kids);
	buf_cleanup(&err);
	buf_cleanup(&ctxs);
	return rc;
}

/* idp_sp_cert() reads our own SP certificate (PEM file). */
static bool
idp_sp_cert(const char *path, struct h_av_cert *out)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	X509 *x;
	bool ok;

	if (f == NULL)
		return false;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ok = x != NULL && idp_cert_info(x, out);
	X509_free(x);
	return ok;
}

/* idp_saml_card() renders one SAML provider. */
static enum su_rc
idp_saml_card(struct req *r, size_t i, const struct cfg_provider *p, struct buf *out,
	      bool *healthy)
{
	const struct saml_sp *sp = r->app->sps ? r->app->sps[i] : NULL;
	struct h_av_samlmeta *m = calloc(1, sizeof(*m));
	struct h_av_cert spc;
	struct buf status, vu, certs, spcert, probs, ctxs;
	char *xml = NULL, t[H_AV_TIME_LEN], rel[H_AV_TIME_LEN], when[3 * H_AV_TIME_LEN];
	size_t len = 0;
	bool bad = false, soon = false;
	enum su_rc rc = SU_OK;

	buf_init(&status, 512);
	buf_init(&vu, 2048);
	buf_init(&certs, 64 * 1024);
	buf_init(&spcert, 4096);
	buf_init(&probs, 4096);
	buf_init(&ctxs, 4096);
	memset(&spc, 0, sizeof(spc));
	if (m == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	xml = idp_read_file(p->metadata_file, &len);
	if (xml == NULL)
		snprintf(m->problem, sizeof(m->problem), "the metadata file cannot be read");
	else
		(void)h_av_saml_meta(xml, len, m);
	if (m->problem[0] != '\0')
		bad = true;
	/* validUntil */
	if (m->valid_until > 0) {
		h_av_time(m->valid_until, t);
		h_av_rel(r->now, m->valid_until, rel);
		snprintf(when, sizeof(when), "%s (%s) ", t, rel);
		rc = idp_text(&vu, "", when);
		if (rc == SU_OK)
			rc = idp_expiry_badge(r, &vu, m->valid_until);
		bad = bad || m->valid_until <= r->now;
		soon = soon || m->valid_until - r->now < IDP_SOON;
	} else {
		rc = idp_text(&vu, "muted", "not limited (no validUntil)");
	}
	for (size_t k = 0; rc == SU_OK && k < m->n_certs; k++) {
		rc = idp_cert_html(r, &certs, &m->certs[k]);
		bad = bad || m->certs[k].not_after <= r->now;
		soon = soon || m->certs[k].not_after - r->now < IDP_SOON;
	}
	if (rc == SU_OK && m->n_certs == 0)
		rc = idp_text(&certs, "muted", "none found");
	if (rc == SU_OK) {
		if (idp_sp_cert(p->sp_cert_file, &spc)) {
			rc = idp_cert_html(r, &spcert, &spc);
			bad = bad || spc.not_after <= r->now;
			soon = soon || spc.not_after - r->now < IDP_SOON;
		} else {
			rc = idp_text(&spcert, "error-text", "cannot be read");
			bad = true;
		}
	}
	if (rc == SU_OK)
		rc = idp_text(&probs, m->problem[0] ? "error-text" : "muted",
			      m->problem[0] ? m->problem : (sp ? "none" : "the provider did not start"));
	if (rc == SU_OK)
		rc = bad || sp == NULL ? h_av_badge(&status, "bad", "attention")
				       : (soon ? h_av_badge(&status, "warn", "expires soon")
					       : h_av_badge(&status, "ok", "valid"));
	if (bad || sp == NULL)
		*healthy = false;
	idp_contexts(r->app->cfg, p, &ctxs);
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "name", p->name }, { "status", buf_cstr(&status) },
			{ "entity_id", sp ? saml_sp_idp_entity_id(sp) : "?" },
			{ "metadata_file", p->metadata_file }, { "valid_until", buf_cstr(&vu) },
			{ "cache_duration", m->cache_duration[0] ? m->cache_duration : "not set" },
			{ "certs", buf_cstr(&certs) }, { "sp_entity_id", p->sp_entity_id },
			{ "sp_cert", buf_cstr(&spcert) }, { "problems", buf_cstr(&probs) },
			{ "contexts", buf_cstr(&ctxs) },
		};

		rc = tmpl_render("admin_idp_saml", v, sizeof(v) / sizeof(v[0]), out);
	}
out:
	free(xml);
	free(m);
	buf_cleanup(&status);
	buf_cleanup(&vu);
	buf_cleanup(&certs);
	buf_cleanup(&spcert);
	buf_cleanup(&probs);
	buf_cleanup(&ctxs);
	return rc;
}

/* h_admin_idp(): GET /admin/idps. */
void
h_admin_idp(struct req *r)
{
	const struct cfg *c = r->app->cfg;
	struct buf cards, notice;
	bool healthy = true;
	char summary[160];
	enum su_rc rc = SU_OK;

	buf_init(&cards, 2 * 1024 * 1024);
	buf_init(&notice, 4096);
	for (size_t i = 0; rc == SU_OK && i < c->n_providers; i++) {
		const struct cfg_provider *p = &c->providers[i];

		if (p->type == CFG_PROVIDER_OIDC)
			rc = idp_oidc_card(r, p, &cards, &healthy);
		else if (p->type == CFG_PROVIDER_SAML)
			rc = idp_saml_card(r, i, p, &cards, &healthy);
	}
	if (rc == SU_OK)
		rc = h_av_notice(r, &notice);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The page could not be rendered.");
		goto out;
	}
	snprintf(summary, sizeof(summary), "%zu provider%s configured; %s", c->n_providers,
		 c->n_providers == 1 ? "" : "s",
		 healthy ? "no problem known." : "some need attention (see below).");
	{
		const struct tmpl_var v[] = {
			{ "notice", buf_cstr(&notice) }, { "summary", summary },
			{ "cards", buf_cstr(&cards) },
		};

		h_admin_page(r, 200, "Identity providers", "admin_idps", v, 3);
	}
out:
	buf_cleanup(&cards);
	buf_cleanup(&notice);
}

/* h_admin_idp_check(): POST /admin/idps/check: fetch the discovery document
 * of every OpenID provider that holds none (failures are recorded in its
 * status, shown by the page). */
void
h_admin_idp_check(struct req *r)
{
	const struct cfg *c = r->app->cfg;

	for (size_t i = 0; i < c->n_providers; i++) {
		struct idp *d = c->providers[i].type == CFG_PROVIDER_OIDC
					? app_idp(r->app, &c->providers[i])
					: NULL;
		char *url = NULL, err[256];

		if (d == NULL)
			continue;
		(void)idp_authorization_endpoint(d, &url, err, sizeof(err));
		free(url);
	}
	store_audit(r->store, r->now, "admin_idp_check", NULL, r->admin_user, NULL, NULL, "ok",
		    "discovery checked");
	h_av_redirect(r, "/admin/idps?done=checked");
}
