/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mock_saml.c - a mock SAML 2.0 identity provider for stepupd's integration
 * tests and demo, built on Lasso (as IdP) and libmicrohttpd.
 *
 * It serves its metadata (GET /metadata, also written to --metadata-out),
 * receives an AuthnRequest over HTTP-Redirect (GET /sso), verifies the
 * request's signature with the SP metadata (fetched from --sp-metadata-url
 * on first use, or read from --sp-metadata), signs in the user chosen with
 * /_mock/user?set=NAME (default alice) without any form, and answers with
 * the usual auto-submitting HTML form that POSTs SAMLResponse and RelayState
 * to the ACS named in the request. Tests extract that form with curl and
 * post it themselves.
 *
 * Users: alice can do MobileTwoFactorContract (and PasswordProtectedTransport),
 * everyone else only PasswordProtectedTransport. The IdP asserts the
 * strongest class the user has that meets the RequestedAuthnContext
 * (exact/minimum/maximum/better over PPT < MobileTwoFactorContract), and
 * answers Responder/NoAuthnContext when none does. The assertion carries
 * the NameID (the user name) and the attribute mail = NAME@example.test.
 *
 * On command (GET /_mock/fault?set=NAME) it misbehaves in one of the ways
 * an SP must detect: wrong_audience, expired, not_yet_valid,
 * wrong_recipient, wrong_destination, unsolicited (no InResponseTo),
 * other_request (InResponseTo of an earlier request), replay (the previous
 * response again, byte for byte), reuse_id (a new, validly signed response
 * that reuses the previous assertion's ID), weaker_class, stale_authn_instant,
 * unsigned (no signature at all), other_key (signed by a key no metadata
 * names, its certificate in KeyInfo), sha1 (RSA-SHA1), two_assertions,
 * error_status (Responder/NoAuthnContext), nameid_comment (a comment inside
 * the signed NameID: c14n ignores it, the signature stays valid); and the
 * positive cases none and assertion_only_signed (the Response unsigned, the
 * Assertion signed). GET /_mock/last gives the last response (base64, for
 * replay tests) and what the last AuthnRequest asked for.
 *
 * Every Lasso call runs under one mutex. Test tool only: its keys come from
 * certs/make-test-certs.sh (saml set) and are never production keys.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <lasso/lasso.h>
#include <lasso/xml/misc_text_node.h>
#include <lasso/xml/tools.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_audience_restriction.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/saml2_conditions.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/saml2_subject_confirmation.h>
#include <lasso/xml/saml-2.0/saml2_subject_confirmation_data.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_requested_authn_context.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <lasso/xml/saml-2.0/samlp2_status.h>
#include <lasso/xml/saml-2.0/samlp2_status_code.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <microhttpd.h>

#define MOCK_NAME "mock_saml"
#include "mock_common.h"

#define CR_PPT "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
#define CR_MFA "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
#define NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define OTHER_URL "http://127.0.0.1:1/saml/acs"
#define OTHER_AUDIENCE "http://other-sp.example/saml/metadata"
#define MAX_FILE (1024 * 1024)

/* Under ASan, LeakSanitizer would report Lasso/xmlsec's known leaks at
 * exit (research/lasso.md section 8: Redirect-signature verification, the
 * KeyInfo certificate BIO); this test tool does not care. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* ------------------------------------------------------------------ faults */

enum fault {
	F_NONE,
	F_ASSERTION_ONLY_SIGNED,
	F_WRONG_AUDIENCE,
	F_EXPIRED,
	F_NOT_YET_VALID,
	F_WRONG_RECIPIENT,
	F_WRONG_DESTINATION,
	F_UNSOLICITED,
	F_OTHER_REQUEST,
	F_REPLAY,
	F_REUSE_ID,
	F_WEAKER_CLASS,
	F_STALE_AUTHN_INSTANT,
	F_UNSIGNED,
	F_OTHER_KEY,
	F_SHA1,
	F_TWO_ASSERTIONS,
	F_ERROR_STATUS,
	F_NAMEID_COMMENT,
	F_COUNT
};

static const char *const fault_names[F_COUNT] = {
	[F_NONE] = "none",
	[F_ASSERTION_ONLY_SIGNED] = "assertion_only_signed",
	[F_WRONG_AUDIENCE] = "wrong_audience",
	[F_EXPIRED] = "expired",
	[F_NOT_YET_VALID] = "not_yet_valid",
	[F_WRONG_RECIPIENT] = "wrong_recipient",
	[F_WRONG_DESTINATION] = "wrong_destination",
	[F_UNSOLICITED] = "unsolicited",
	[F_OTHER_REQUEST] = "other_request",
	[F_REPLAY] = "replay",
	[F_REUSE_ID] = "reuse_id",
	[F_WEAKER_CLASS] = "weaker_class",
	[F_STALE_AUTHN_INSTANT] = "stale_authn_instant",
	[F_UNSIGNED] = "unsigned",
	[F_OTHER_KEY] = "other_key",
	[F_SHA1] = "sha1",
	[F_TWO_ASSERTIONS] = "two_assertions",
	[F_ERROR_STATUS] = "error_status",
	[F_NAMEID_COMMENT] = "nameid_comment",
};

/* ------------------------------------------------------------------ state */

static struct {
	const char *host;
	unsigned port;
	char *base;          /* http://HOST:PORT */
	char *entity_id;
	const char *key_file, *cert_file, *evil_key_file, *evil_cert_file;
	const char *sp_metadata_url, *sp_metadata_file, *metadata_out, *port_file;
} cfg = { .host = "127.0.0.1" };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* everything below */
static LassoServer *idp, *evil;
static char *idp_metadata;
static bool sp_loaded;
static enum fault cur_fault = F_NONE;
static char *cur_user;
static char *last_request_id, *prev_request_id, *last_assertion_id, *last_response;
static char *last_comparison, *last_class_refs;
static bool last_force_authn, last_is_passive, last_signed;
static unsigned long n_sso;

/* ------------------------------------------------------------------ helpers */

/* set_str() replaces *slot with a copy of s (NULL allowed). */
static void
set_str(char **slot, const char *s)
{
	free(*slot);
	*slot = s ? xstrdup(s) : NULL;
}

/* read_file() reads a whole file (at most 1 MiB) or dies. */
static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	buf = malloc(MAX_FILE + 1);
	if (!buf)
		die("out of memory");
	n = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* pem_body() returns the base64 body of the first PEM block (no whitespace). */
static char *
pem_body(const char *pem)
{
	const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----"), *e;
	char *out, *o;

	if (!b || !(e = strstr(b, "-----END CERTIFICATE-----")))
		die("no certificate in PEM");
	b += strlen("-----BEGIN CERTIFICATE-----");
	out = o = malloc((size_t)(e - b) + 1);
	if (!out)
		die("out of memory");
	for (; b < e; b++)
		if (*b != '\n' && *b != '\r' && *b != ' ' && *b != '\t')
			*o++ = *b;
	*o = '\0';
	return out;
}

/* iso() formats Unix seconds as xs:dateTime UTC into a static-sized buffer. */
static void
iso(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* glog_quiet() prints Lasso/libxml2/xmlsec warnings and errors, drops the rest. */
static void
glog_quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	(void)data;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
		logmsg("%s: %s", domain ? domain : "glib", msg);
}

/* ------------------------------------------------------------------ metadata, SP */

#define IDP_MD_FMT \
	"<?xml version=\"1.0\"?>\n" \
	"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" " \
	"xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"%s\">\n" \
	" <md:IDPSSODescriptor WantAuthnRequestsSigned=\"true\" " \
	"protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n" \
	"  <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s" \
	"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n" \
	"  <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>\n" \
	"  <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" " \
	"Location=\"%s/sso\"/>\n" \
	" </md:IDPSSODescriptor>\n" \
	"</md:EntityDescriptor>\n"

/* build_idp() makes the IdP metadata and the two LassoServers (good and evil key). */
static void
build_idp(void)
{
	char *cert = read_file(cfg.cert_file), *key = read_file(cfg.key_file);
	char *ecert = read_file(cfg.evil_cert_file), *ekey = read_file(cfg.evil_key_file);
	char *b64 = pem_body(cert), *eb64 = pem_body(ecert);
	char *emd;

	idp_metadata = xasprintf(IDP_MD_FMT, cfg.entity_id, b64, cfg.base);
	/* the evil IdP claims the same entityID with a key no metadata names */
	emd = xasprintf(IDP_MD_FMT, cfg.entity_id, eb64, cfg.base);
	idp = lasso_server_new_from_buffers(idp_metadata, key, NULL, cert);
	evil = lasso_server_new_from_buffers(emd, ekey, NULL, ecert);
	if (!idp || !evil)
		die("Lasso refused the IdP key, certificate or metadata");
	idp->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	evil->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	if (cfg.metadata_out) {
		char *tmp = xasprintf("%s.tmp.%ld", cfg.metadata_out, (long)getpid());
		FILE *f = fopen(tmp, "w");

		if (!f || fputs(idp_metadata, f) < 0 || fclose(f) != 0 || rename(tmp, cfg.metadata_out) != 0)
			die("cannot write %s", cfg.metadata_out);
		free(tmp);
	}
	free(emd);
	free(cert);
	free(key);
	free(ecert);
	free(ekey);
	free(b64);
	free(eb64);
}

struct fetch {
	char *data;
	size_t len;
};

/* fetch_write() is libcurl's write callback into a bounded buffer. */
static size_t
fetch_write(char *p, size_t sz, size_t n, void *cls)
{
	struct fetch *f = cls;
	size_t k = sz * n;
	char *d;

	if (f->len + k > MAX_FILE)
		return 0;
	d = realloc(f->data, f->len + k + 1);
	if (!d)
		return 0;
	memcpy(d + f->len, p, k);
	f->len += k;
	d[f->len] = '\0';
	f->data = d;
	return k;
}

/* load_sp() adds the SP's metadata to both IdP servers, once. Called with lock held. */
static const char *
load_sp(void)
{
	char *md = NULL;
	int rc;

	if (sp_loaded)
		return NULL;
	if (cfg.sp_metadata_file) {
		md = read_file(cfg.sp_metadata_file);
	} else if (cfg.sp_metadata_url) {
		struct fetch f = { NULL, 0 };
		CURL *c = curl_easy_init();
		long code = 0;

		if (!c)
			return "curl_easy_init failed";
		curl_easy_setopt(c, CURLOPT_URL, cfg.sp_metadata_url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
			curl_easy_cleanup(c);
			free(f.data);
			return "cannot fetch the SP metadata";
		}
		curl_easy_cleanup(c);
		md = f.data;
	} else {
		return "no SP metadata configured (--sp-metadata-url or --sp-metadata)";
	}
	rc = lasso_server_add_provider_from_buffer(idp, LASSO_PROVIDER_ROLE_SP, md, NULL, NULL);
	if (rc == 0)
		rc = lasso_server_add_provider_from_buffer(evil, LASSO_PROVIDER_ROLE_SP, md, NULL, NULL);
	free(md);
	if (rc != 0)
		return lasso_strerror(rc);
	sp_loaded = true;
	logmsg("SP metadata loaded");
	return NULL;
}

/* ------------------------------------------------------------------ class refs */

/* rank() is the strength of a class ref: PPT 0, MobileTwoFactorContract 1, else -1. */
static int
rank(const char *c)
{
	if (c && strcmp(c, CR_PPT) == 0)
		return 0;
	if (c && strcmp(c, CR_MFA) == 0)
		return 1;
	return -1;
}

/* meets() says whether class c satisfies the request (SAML core 3.3.2.2.1). */
static bool
meets(const char *c, GList *req, const char *cmp)
{
	int g = rank(c);
	bool any = false;

	if (req == NULL)
		return true;
	for (GList *l = req; l; l = l->next) {
		const char *q = l->data;
		int r = rank(q);

		if (!cmp || strcmp(cmp, "exact") == 0) {
			if (strcmp(c, q) == 0)
				return true;
		} else if (strcmp(cmp, "minimum") == 0) {
			if (strcmp(c, q) == 0 || (g >= 0 && r >= 0 && g >= r))
				return true;
		} else if (strcmp(cmp, "maximum") == 0) {
			if (strcmp(c, q) == 0 || (g >= 0 && r >= 0 && g <= r))
				return true;
		} else if (strcmp(cmp, "better") == 0) {
			if (g < 0 || r < 0 || g <= r)
				return false;
			any = true;
		}
	}
	return any;
}

/* ------------------------------------------------------------------ XML edits */

/* xml_edit() decodes the base64 response, applies the fault's edit to the
 * DOM, and returns the new base64 (g_free). Signatures are not redone:
 * the edits either remove them or touch what c14n ignores, or must break. */
static char *
xml_edit(const char *b64, enum fault f)
{
	gsize len = 0;
	guchar *raw = g_base64_decode(b64, &len);
	xmlDoc *doc = xmlReadMemory((const char *)raw, (int)len, "r.xml", NULL, XML_PARSE_NONET);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL, *as = NULL, *n, *next;
	xmlChar *mem = NULL;
	int mlen = 0;
	char *out;

	g_free(raw);
	if (!root)
		die("cannot re-parse the response");
	for (n = root->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "Assertion") == 0)
			as = n;
	if (f == F_UNSIGNED) {
		/* remove every ds:Signature (of the Response and of the Assertion) */
		for (n = root->children; n; n = next) {
			next = n->next;
			if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "Signature") == 0) {
				xmlUnlinkNode(n);
				xmlFreeNode(n);
			}
		}
		for (n = as ? as->children : NULL; n; n = next) {
			next = n->next;
			if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "Signature") == 0) {
				xmlUnlinkNode(n);
				xmlFreeNode(n);
			}
		}
	} else if (f == F_TWO_ASSERTIONS && as) {
		/* a second, unsigned assertion with its own ID after the signed one */
		xmlNode *copy = xmlCopyNode(as, 1);

		for (n = copy->children; n; n = next) {
			next = n->next;
			if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "Signature") == 0) {
				xmlUnlinkNode(n);
				xmlFreeNode(n);
			}
		}
		xmlSetProp(copy, BAD_CAST "ID", BAD_CAST "_second_assertion");
		xmlAddNextSibling(as, copy);
	} else if (f == F_NAMEID_COMMENT && as) {
		/* "alice" becomes "al<!---->ice": same canonical form, same signature */
		for (n = as->children; n; n = n->next) {
			if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "Subject") == 0) {
				for (xmlNode *k = n->children; k; k = k->next) {
					if (k->type == XML_ELEMENT_NODE &&
					    strcmp((const char *)k->name, "NameID") == 0 && k->children &&
					    k->children->type == XML_TEXT_NODE) {
						xmlChar *t = xmlNodeGetContent(k);
						size_t tl = strlen((const char *)t), half = tl / 2;
						char *a = strndup((const char *)t, half);

						xmlNodeSetContent(k, NULL);
						xmlAddChild(k, xmlNewText(BAD_CAST a));
						xmlAddChild(k, xmlNewComment(BAD_CAST ""));
						xmlAddChild(k, xmlNewText(t + half));
						free(a);
						xmlFree(t);
					}
				}
			}
		}
	}
	xmlDocDumpMemory(doc, &mem, &mlen);
	out = g_base64_encode(mem, (gsize)mlen);
	xmlFree(mem);
	xmlFreeDoc(doc);
	return out;
}

/* ------------------------------------------------------------------ SSO */

struct answer {
	unsigned status;
	char *body;   /* malloc'd */
	const char *ctype;
};

/* set_status() makes the response a Responder/second-level error without assertion. */
static void
set_status(LassoProfile *p, const char *second)
{
	LassoSamlp2StatusResponse *sr = LASSO_SAMLP2_STATUS_RESPONSE(p->response);
	LassoSamlp2StatusCode *top, *sub;

	if (sr->Status == NULL)
		sr->Status = LASSO_SAMLP2_STATUS(lasso_samlp2_status_new());
	if (sr->Status->StatusCode == NULL)
		sr->Status->StatusCode = LASSO_SAMLP2_STATUS_CODE(lasso_samlp2_status_code_new());
	top = sr->Status->StatusCode;
	g_free(top->Value);
	top->Value = g_strdup("urn:oasis:names:tc:SAML:2.0:status:Responder");
	if (top->StatusCode)
		g_object_unref(top->StatusCode);
	sub = LASSO_SAMLP2_STATUS_CODE(lasso_samlp2_status_code_new());
	sub->Value = g_strdup(second);
	top->StatusCode = sub;
	g_list_free_full(LASSO_SAMLP2_RESPONSE(p->response)->Assertion, g_object_unref);
	LASSO_SAMLP2_RESPONSE(p->response)->Assertion = NULL;
}

/* replace() sets a Lasso node string field to a copy of v (NULL clears it). */
static void
replace(char **field, const char *v)
{
	g_free(*field);
	*field = v ? g_strdup(v) : NULL;
}

/* sso() handles one AuthnRequest query (lock held) and fills a. */
static void
sso(const char *query, struct answer *a)
{
	LassoServer *srv;
	LassoLogin *login = NULL;
	LassoProfile *p;
	LassoSamlp2AuthnRequest *req;
	LassoSamlp2RequestedAuthnContext *rac;
	LassoSamlp2Response *resp;
	LassoSaml2Assertion *as;
	LassoSaml2SubjectConfirmationData *scd;
	const char *err, *user = cur_user ? cur_user : "alice", *cls = NULL, *cmp = NULL;
	char t_authn[32], t_nb[32], t_noa[32];
	time_t now = time(NULL), authn = now;
	enum fault f = cur_fault;
	char *b64 = NULL, *acs, *rs, *page;
	int rc;

	a->status = 400;
	a->ctype = "text/plain; charset=utf-8";
	n_sso++;
	err = load_sp();
	if (err) {
		a->body = xasprintf("mock_saml: %s\n", err);
		return;
	}
	srv = f == F_OTHER_KEY ? evil : idp;
	srv->signature_method = f == F_SHA1 ? LASSO_SIGNATURE_METHOD_RSA_SHA1
					    : LASSO_SIGNATURE_METHOD_RSA_SHA256;
	login = lasso_login_new(srv);
	p = LASSO_PROFILE(login);
	rc = lasso_login_process_authn_request_msg(login, (char *)query);
	last_signed = strstr(query, "Signature=") != NULL && lasso_profile_get_signature_status(p) == 0;
	if (rc != 0 || !last_signed) {
		a->body = xasprintf("mock_saml: AuthnRequest refused: %s\n",
				    rc ? lasso_strerror(rc) : "not signed");
		goto out;
	}
	req = LASSO_SAMLP2_AUTHN_REQUEST(p->request);
	set_str(&prev_request_id, last_request_id);
	set_str(&last_request_id, LASSO_SAMLP2_REQUEST_ABSTRACT(req)->ID);
	last_force_authn = req->ForceAuthn;
	last_is_passive = req->IsPassive;
	rac = req->RequestedAuthnContext;
	cmp = rac && rac->Comparison ? rac->Comparison : "exact";
	set_str(&last_comparison, rac ? cmp : NULL);
	{
		GString *g = g_string_new("");

		for (GList *l = rac ? rac->AuthnContextClassRef : NULL; l; l = l->next)
			g_string_append_printf(g, "%s%s", g->len ? " " : "", (char *)l->data);
		set_str(&last_class_refs, g->str);
		g_string_free(g, TRUE);
	}
	/* the strongest class this user has that meets the request */
	if (strcmp(user, "alice") == 0 && meets(CR_MFA, rac ? rac->AuthnContextClassRef : NULL, cmp))
		cls = CR_MFA;
	else if (meets(CR_PPT, rac ? rac->AuthnContextClassRef : NULL, cmp))
		cls = CR_PPT;
	if (f == F_WEAKER_CLASS)
		cls = CR_PPT;
	if (f == F_STALE_AUTHN_INSTANT)
		authn = now - 7200;
	rc = lasso_login_validate_request_msg(login, TRUE, TRUE);
	if (rc != 0 && rc != LASSO_LOGIN_ERROR_CONSENT_NOT_OBTAINED) {
		a->body = xasprintf("mock_saml: validate_request_msg: %s\n", lasso_strerror(rc));
		goto out;
	}
	if (cls == NULL || f == F_ERROR_STATUS) {
		set_status(p, "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext");
	} else {
		iso(authn, t_authn);
		iso(f == F_EXPIRED ? now - 1200 : f == F_NOT_YET_VALID ? now + 3600 : now - 30, t_nb);
		iso(f == F_EXPIRED ? now - 600 : f == F_NOT_YET_VALID ? now + 7200 : now + 300, t_noa);
		rc = lasso_login_build_assertion(login, cls, t_authn, NULL, t_nb, t_noa);
		if (rc != 0) {
			a->body = xasprintf("mock_saml: build_assertion: %s\n", lasso_strerror(rc));
			goto out;
		}
		resp = LASSO_SAMLP2_RESPONSE(p->response);
		as = LASSO_SAML2_ASSERTION(resp->Assertion->data);
		if (as->Subject->NameID == NULL)
			as->Subject->NameID = LASSO_SAML2_NAME_ID(lasso_saml2_name_id_new());
		replace(&as->Subject->NameID->content, user);
		replace(&as->Subject->NameID->Format,
			"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified");
		{
			char *mail = xasprintf("%s@example.test", user);
			LassoMiscTextNode *tn = lasso_misc_text_node_new_with_string(mail);

			tn->text_child = TRUE;
			lasso_saml2_assertion_add_attribute_with_node(
				as, "mail", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
				LASSO_NODE(tn));
			g_object_unref(tn);
			free(mail);
		}
		scd = as->Subject->SubjectConfirmation->SubjectConfirmationData;
		if (f == F_EXPIRED)
			replace(&scd->NotOnOrAfter, t_noa);
		if (f == F_WRONG_AUDIENCE)
			for (GList *l = as->Conditions->AudienceRestriction; l; l = l->next)
				replace(&LASSO_SAML2_AUDIENCE_RESTRICTION(l->data)->Audience, OTHER_AUDIENCE);
		if (f == F_UNSOLICITED) {
			replace(&scd->InResponseTo, NULL);
			replace(&LASSO_SAMLP2_STATUS_RESPONSE(resp)->InResponseTo, NULL);
		}
		if (f == F_OTHER_REQUEST) {
			const char *other = prev_request_id ? prev_request_id : "_0123456789abcdef0123456789abcdef";

			replace(&scd->InResponseTo, other);
			replace(&LASSO_SAMLP2_STATUS_RESPONSE(resp)->InResponseTo, other);
		}
		if (f == F_REUSE_ID && last_assertion_id)
			replace(&as->ID, last_assertion_id);
		set_str(&last_assertion_id, as->ID);
	}
	if (f == F_ASSERTION_ONLY_SIGNED || f == F_UNSIGNED)
		lasso_profile_set_signature_hint(p, LASSO_PROFILE_SIGNATURE_HINT_FORBID);
	rc = lasso_login_build_authn_response_msg(login);
	if (rc != 0 || !p->msg_body || !p->msg_url) {
		a->body = xasprintf("mock_saml: build_authn_response_msg: %s\n", lasso_strerror(rc));
		goto out;
	}
	/* Lasso writes Destination and Recipient while it builds the message
	 * and signs when it exports: change them now and export (sign) again */
	if (f == F_WRONG_RECIPIENT || f == F_WRONG_DESTINATION) {
		resp = LASSO_SAMLP2_RESPONSE(p->response);
		if (f == F_WRONG_DESTINATION)
			replace(&LASSO_SAMLP2_STATUS_RESPONSE(resp)->Destination, OTHER_URL);
		else if (resp->Assertion)
			replace(&LASSO_SAML2_ASSERTION(resp->Assertion->data)
					 ->Subject->SubjectConfirmation->SubjectConfirmationData->Recipient,
				OTHER_URL);
		g_free(p->msg_body);
		p->msg_body = lasso_node_export_to_base64(LASSO_NODE(p->response));
	}
	if (f == F_UNSIGNED || f == F_TWO_ASSERTIONS || f == F_NAMEID_COMMENT)
		b64 = xml_edit(p->msg_body, f);
	else
		b64 = g_strdup(p->msg_body);
	if (f == F_REPLAY && last_response) {
		g_free(b64);
		b64 = g_strdup(last_response);
	} else {
		set_str(&last_response, b64);
	}
	acs = html_escape(p->msg_url);
	rs = html_escape(p->msg_relayState ? p->msg_relayState : "");
	page = xasprintf("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>mock SAML IdP"
			 "</title></head>\n<body onload=\"document.forms[0].submit()\">\n"
			 "<p>Signed in as %s. Returning to the service provider...</p>\n"
			 "<form method=\"post\" action=\"%s\">\n"
			 "<input type=\"hidden\" name=\"SAMLResponse\" value=\"%s\">\n"
			 "<input type=\"hidden\" name=\"RelayState\" value=\"%s\">\n"
			 "<noscript><button type=\"submit\">Continue</button></noscript>\n"
			 "</form></body></html>\n",
			 user, acs, b64, rs);
	free(acs);
	free(rs);
	a->status = 200;
	a->ctype = "text/html; charset=utf-8";
	a->body = page;
	logmsg("SSO for %s: class %s, fault %s", user, cls ? cls : "(none)", fault_names[f]);
out:
	g_free(b64);
	if (login)
		lasso_login_destroy(login);
	idp->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	evil->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
}

/* ------------------------------------------------------------------ HTTP */

struct req {
	char *uri;    /* raw request URI, query included (from the URI log callback) */
	bool started;
};

/* uri_log() keeps the raw request URI (the Redirect binding's signature covers the
 * query exactly as sent) as the request's state. */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *r = calloc(1, sizeof(*r));

	(void)cls;
	(void)conn;
	if (r)
		r->uri = strdup(uri ? uri : "");
	return r;
}

/* reply() queues a response that takes ownership of body. */
static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *ctype, char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
								 MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* h_fault() shows or sets the fault (GET /_mock/fault?set=NAME). */
static enum MHD_Result
h_fault(struct MHD_Connection *conn)
{
	const char *set = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "set");
	enum fault f;

	pthread_mutex_lock(&lock);
	if (set) {
		for (f = F_NONE; f < F_COUNT; f++)
			if (strcmp(set, fault_names[f]) == 0)
				break;
		if (f == F_COUNT) {
			pthread_mutex_unlock(&lock);
			return reply(conn, 400, "text/plain", xasprintf("unknown fault \"%s\"\n", set));
		}
		cur_fault = f;
		logmsg("fault set to %s", fault_names[f]);
	}
	f = cur_fault;
	pthread_mutex_unlock(&lock);
	return reply(conn, 200, "text/plain", xasprintf("%s\n", fault_names[f]));
}

/* h_user() shows or sets the user the IdP signs in (GET /_mock/user?set=NAME). */
static enum MHD_Result
h_user(struct MHD_Connection *conn)
{
	const char *set = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "set");
	char *u;

	pthread_mutex_lock(&lock);
	if (set && *set && strlen(set) < 128)
		set_str(&cur_user, set);
	u = xasprintf("%s\n", cur_user ? cur_user : "alice");
	pthread_mutex_unlock(&lock);
	return reply(conn, 200, "text/plain", u);
}

/* h_last() reports the last request and response (GET /_mock/last). */
static enum MHD_Result
h_last(struct MHD_Connection *conn)
{
	json_t *j;
	char *s;

	pthread_mutex_lock(&lock);
	j = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:b, s:b, s:I, s:s}",
		      "request_id", last_request_id, "assertion_id", last_assertion_id,
		      "response", last_response, "comparison", last_comparison, "class_refs",
		      last_class_refs, "force_authn", last_force_authn, "is_passive", last_is_passive,
		      "signed", last_signed, "sso_requests", (json_int_t)n_sso, "fault",
		      fault_names[cur_fault]);
	pthread_mutex_unlock(&lock);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return reply(conn, 200, "application/json", s);
}

/* handler() dispatches one request. */
static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (r == NULL)
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	logmsg("%s %s", method, url);
	if (strcmp(method, "GET") != 0)
		return reply(conn, 405, "text/plain", xasprintf("method not allowed\n"));
	if (strcmp(url, "/metadata") == 0)
		return reply(conn, 200, "application/samlmetadata+xml", xstrdup(idp_metadata));
	if (strcmp(url, "/sso") == 0) {
		const char *q = r->uri ? strchr(r->uri, '?') : NULL;
		struct answer a = { 400, NULL, "text/plain" };

		if (!q)
			return reply(conn, 400, "text/plain", xasprintf("no query\n"));
		pthread_mutex_lock(&lock);
		sso(q + 1, &a);
		pthread_mutex_unlock(&lock);
		return reply(conn, a.status, a.ctype, a.body ? a.body : xasprintf("error\n"));
	}
	if (strcmp(url, "/_mock/fault") == 0)
		return h_fault(conn);
	if (strcmp(url, "/_mock/user") == 0)
		return h_user(conn);
	if (strcmp(url, "/_mock/last") == 0)
		return h_last(conn);
	if (strcmp(url, "/_mock/faults") == 0) {
		json_t *j = json_array();
		char *s;

		for (int f = 0; f < F_COUNT; f++)
			json_array_append_new(j, json_string(fault_names[f]));
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		return reply(conn, 200, "application/json", s);
	}
	return reply(conn, 404, "text/plain", xasprintf("not found\n"));
}

/* completed() frees the request state. */
static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r) {
		free(r->uri);
		free(r);
		*con_cls = NULL;
	}
}

/* ------------------------------------------------------------------ main */

static void usage(void) __attribute__((noreturn));
static void
usage(void)
{
	fputs("usage: mock_saml --port N [--host 127.0.0.1] --key FILE --cert FILE\n"
	      "                 --evil-key FILE --evil-cert FILE\n"
	      "                 (--sp-metadata-url URL | --sp-metadata FILE)\n"
	      "                 [--entity-id ID] [--metadata-out FILE] [--port-file FILE]\n"
	      "  Keys: certs/make-test-certs.sh DIR saml (idp.*, evil-idp.*).\n"
	      "  The entityID defaults to http://HOST:PORT/metadata.\n",
	      stderr);
	exit(2);
}

/* parse_args() reads the command line into cfg. */
static void
parse_args(int argc, char **argv)
{
	bool have_port = false;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (strcmp(o, "--port") == 0) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);

			if (*end || !*v || n > 65535)
				die("bad --port %s", v);
			cfg.port = (unsigned)n;
			have_port = true;
		} else if (strcmp(o, "--host") == 0) {
			cfg.host = v;
		} else if (strcmp(o, "--key") == 0) {
			cfg.key_file = v;
		} else if (strcmp(o, "--cert") == 0) {
			cfg.cert_file = v;
		} else if (strcmp(o, "--evil-key") == 0) {
			cfg.evil_key_file = v;
		} else if (strcmp(o, "--evil-cert") == 0) {
			cfg.evil_cert_file = v;
		} else if (strcmp(o, "--sp-metadata-url") == 0) {
			cfg.sp_metadata_url = v;
		} else if (strcmp(o, "--sp-metadata") == 0) {
			cfg.sp_metadata_file = v;
		} else if (strcmp(o, "--entity-id") == 0) {
			cfg.entity_id = xstrdup(v);
		} else if (strcmp(o, "--metadata-out") == 0) {
			cfg.metadata_out = v;
		} else if (strcmp(o, "--port-file") == 0) {
			cfg.port_file = v;
		} else {
			usage();
		}
	}
	if (!have_port || !cfg.key_file || !cfg.cert_file || !cfg.evil_key_file || !cfg.evil_cert_file)
		usage();
}

int
main(int argc, char **argv)
{
	int lsock, sig = 0;
	sigset_t sigs;
	struct MHD_Daemon *d;

	parse_args(argc, argv);
	lsock = mock_listen(cfg.host, &cfg.port, NULL);
	cfg.base = xasprintf("http://%s:%u", cfg.host, cfg.port);
	if (!cfg.entity_id)
		cfg.entity_id = xasprintf("%s/metadata", cfg.base);

	if (getenv("LASSO_FLAG"))
		die("LASSO_FLAG is set: refusing to run");
	if (lasso_init() != 0)
		die("lasso_init failed");
	lasso_log_set_handler(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, glog_quiet, NULL);
	g_log_set_handler("libxml2", G_LOG_LEVEL_MASK, glog_quiet, NULL);
	g_log_set_handler("libxmlsec", G_LOG_LEVEL_MASK, glog_quiet, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	build_idp();

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				     MHD_USE_ERROR_LOG,
			     (uint16_t)cfg.port, NULL, NULL, handler, NULL, MHD_OPTION_LISTEN_SOCKET,
			     (MHD_socket)lsock, MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_END);
	if (!d)
		die("cannot start the HTTP daemon");
	if (cfg.port_file)
		mock_write_port_file(cfg.port_file, cfg.port);
	logmsg("listening on %s, entityID %s", cfg.base, cfg.entity_id);
	sigwait(&sigs, &sig);
	logmsg("signal %d, stopping", sig);
	MHD_stop_daemon(d);
	pthread_mutex_lock(&lock);
	lasso_server_destroy(idp);
	lasso_server_destroy(evil);
	pthread_mutex_unlock(&lock);
	lasso_shutdown();
	curl_global_cleanup();
	free(idp_metadata);
	free(cur_user);
	free(last_request_id);
	free(prev_request_id);
	free(last_assertion_id);
	free(last_response);
	free(last_comparison);
	free(last_class_refs);
	free(cfg.base);
	free(cfg.entity_id);
	return 0;
}
