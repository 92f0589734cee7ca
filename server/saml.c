/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * saml.c: the SAML 2.0 service provider core (see saml.h), on Lasso 2.8
 * and libxml2.
 *
 * Division of labour (research/lasso.md sections 1 and 5): Lasso does the
 * XML-DSig verification with the keys of the IdP's metadata and builds and
 * signs the AuthnRequest. Everything Lasso does not check - time, audience,
 * destination, recipient, InResponseTo, the number of assertions, the class
 * ref, AuthnInstant, the subject, weak algorithms, DOCTYPEs - is checked
 * here on a DOM stepupd parses itself from the very bytes Lasso verifies,
 * and the values Lasso read are compared with the values the DOM checks
 * read, so a parser differential cannot slip through unnoticed.
 *
 * This module does not decide what happens next (elevation, audit, error
 * pages: h_saml.c), does not store anything (assertion-ID replay:
 * store_saml.c), and never uses Lasso's ID generator (GLib's Mersenne
 * Twister) for anything an attacker must not guess.
 */
#include "saml.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <lasso/debug.h>
#include <lasso/lasso.h>
#include <lasso/xml/misc_text_node.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_name_id_policy.h>
#include <lasso/xml/saml-2.0/samlp2_requested_authn_context.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/tools.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "log.h"
#include "xcrypt.h"

#define NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_MD "urn:oasis:names:tc:SAML:2.0:metadata"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define STATUS_SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"
#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define BINDING_POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
#define NAMEID_UNSPECIFIED "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define SAML_FILE_MAX (1024 * 1024)
#define SAML_MAX_SIGNATURES 4
#define SAML_TEXT_MAX 1024

/* Every call into Lasso holds this (see saml.h: threads). */
static pthread_mutex_t saml_mu = PTHREAD_MUTEX_INITIALIZER;
static bool saml_inited;

struct saml_sp {
	LassoServer *server;
	char *name;             /* the provider section name, for logs */
	char *metadata;         /* our SP metadata XML */
	char *idp_entity_id;
	char *acs_url;
};

struct saml_doc {
	xmlDoc *doc;
};

/* Algorithms a signature may use: SHA-2 only (no SHA-1, no HMAC). */
static const char *const saml_sig_algs[] = {
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
	NULL,
};
static const char *const saml_digest_algs[] = {
	"http://www.w3.org/2001/04/xmlenc#sha256",
	"http://www.w3.org/2001/04/xmldsig-more#sha384",
	"http://www.w3.org/2001/04/xmlenc#sha512",
	NULL,
};

/* the value returned by saml_attr() for an attribute whose value is not plain text */
static const char saml_attr_bad[] = "\x01";

/* saml_in_list() says whether s is one of the NULL-terminated list. */
static bool
saml_in_list(const char *s, const char *const *list)
{
	if (s == NULL || list == NULL)
		return false;
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- logging */

/* saml_glog() receives the GLib log messages of Lasso, libxml2 and xmlsec
 * and writes them through log.h. Lasso's DEBUG lines may quote XML
 * fragments: they only appear at log_level = debug. */
static void
saml_glog(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
	const char *d = domain ? domain : "glib";

	(void)data;
	if (message == NULL)
		return;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		log_msg(LOGL_ERR, "lasso", "%s: %s", d, message);
	else if (level & G_LOG_LEVEL_WARNING)
		log_msg(LOGL_WARN, "lasso", "%s: %s", d, message);
	else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		log_msg(LOGL_INFO, "lasso", "%s: %s", d, message);
	else
		log_msg(LOGL_DEBUG, "lasso", "%s: %s", d, message);
}

/* ---------------------------------------------------------------- start-up */

/* saml_global_init(): see saml.h. */
enum su_rc
saml_global_init(char *err, size_t errsz)
{
	const GLogLevelFlags all = G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION;

	if (saml_inited)
		return SU_OK;
	/* LASSO_FLAG=no-verify-signature makes Lasso accept forged responses
	 * (research/lasso.md section 1): an environment that sets any flag is
	 * refused outright rather than second-guessed. */
	if (getenv("LASSO_FLAG") != NULL) {
		log_seterr(err, errsz,
			   "LASSO_FLAG is set in the environment; it can switch off SAML signature "
			   "checks, so stepupd refuses to start: unset LASSO_FLAG");
		return SU_EINVAL;
	}
	if (lasso_init() != 0) {
		log_seterr(err, errsz, "Lasso failed to initialise");
		return SU_ECRYPTO;
	}
	lasso_set_flag((char *)"verify-signature");
	if (!lasso_flag_verify_signature) {
		log_seterr(err, errsz, "Lasso signature verification cannot be switched on");
		lasso_shutdown();
		return SU_ECRYPTO;
	}
	lasso_log_set_handler(all, saml_glog, NULL);
	g_log_set_handler("libxml2", all, saml_glog, NULL);
	g_log_set_handler("libxmlsec", all, saml_glog, NULL);
	saml_inited = true;
	return SU_OK;
}

/* saml_global_cleanup(): see saml.h. */
void
saml_global_cleanup(void)
{
	if (!saml_inited)
		return;
	lasso_shutdown();
	saml_inited = false;
}

/* saml_file_read() reads a whole text file of at most SAML_FILE_MAX bytes
 * into a malloc'd NUL-terminated string. */
static enum su_rc
saml_file_read(const char *path, char **out, char *err, size_t errsz)
{
	FILE *f = NULL;
	char *data = NULL;
	size_t len;
	enum su_rc rc = SU_EIO;

	*out = NULL;
	f = fopen(path, "r");
	if (f == NULL) {
		log_seterr(err, errsz, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	data = malloc(SAML_FILE_MAX + 1);
	if (data == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	len = fread(data, 1, SAML_FILE_MAX + 1, f);
	if (ferror(f) || len > SAML_FILE_MAX) {
		log_seterr(err, errsz, "cannot read %s (or it is larger than 1 MiB)", path);
		goto out;
	}
	data[len] = '\0';
	if (strlen(data) != len) {
		log_seterr(err, errsz, "%s contains a NUL byte", path);
		goto out;
	}
	*out = data;
	data = NULL;
	rc = SU_OK;
out:
	free(data);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* saml_b64_value() maps one base64 character to its value, -1 if none. */
static int
saml_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* saml_b64_decode() decodes standard base64 strictly (whitespace between
 * characters allowed, padding only at the end, total a multiple of 4) into
 * a malloc'd buffer of at most max bytes (+ a NUL). */
static enum su_rc
saml_b64_decode(const char *in, size_t n, size_t max, unsigned char **out, size_t *outlen)
{
	unsigned char *o = NULL;
	size_t len = 0, cap = n / 4 * 3 + 4, quad = 0, pad = 0;
	unsigned acc = 0;
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	*outlen = 0;
	o = malloc(cap + 1);
	if (o == NULL)
		return SU_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			if (quad < 2 || pad >= 2)
				goto out;
			pad++;
			acc <<= 6;
			quad++;
		} else {
			v = saml_b64_value(c);
			if (v < 0 || pad > 0)
				goto out;
			acc = (acc << 6) | (unsigned)v;
			quad++;
		}
		if (quad == 4) {
			if (len + 3 > cap) {
				rc = SU_ETOOBIG;
				goto out;
			}
			o[len++] = (unsigned char)(acc >> 16);
			if (pad < 2)
				o[len++] = (unsigned char)(acc >> 8);
			if (pad < 1)
				o[len++] = (unsigned char)acc;
			quad = 0;
			acc = 0;
			if (len > max) {
				rc = SU_ETOOBIG;
				goto out;
			}
			if (pad > 0)
				pad = 3; /* nothing may follow the padded quad */
		}
	}
	if (quad != 0 || len == 0)
		goto out;
	o[len] = '\0';
	*out = o;
	*outlen = len;
	o = NULL;
	rc = SU_OK;
out:
	free(o);
	return rc;
}

/* saml_pem_cert_b64() extracts the base64 body of the first CERTIFICATE
 * block of a PEM file, without whitespace (malloc'd), and checks that it
 * decodes to a DER SEQUENCE. */
static enum su_rc
saml_pem_cert_b64(const char *pem, char **out, char *err, size_t errsz)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	const char *b = strstr(pem, begin), *e;
	unsigned char *der = NULL;
	size_t derlen = 0, k = 0;
	char *s = NULL;
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	if (b == NULL || (e = strstr(b, end)) == NULL) {
		log_seterr(err, errsz, "no PEM CERTIFICATE block");
		goto out;
	}
	b += sizeof(begin) - 1;
	s = malloc((size_t)(e - b) + 1);
	if (s == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	for (const char *p = b; p < e; p++)
		if (!isspace((unsigned char)*p))
			s[k++] = *p;
	s[k] = '\0';
	if (saml_b64_decode(s, k, SAML_FILE_MAX, &der, &derlen) != SU_OK || derlen < 16 ||
	    der[0] != 0x30) {
		log_seterr(err, errsz, "the CERTIFICATE block is not base64 DER");
		goto out;
	}
	*out = s;
	s = NULL;
	rc = SU_OK;
out:
	free(der);
	free(s);
	return rc;
}

/* saml_sp_metadata_build() writes our SP metadata with libxml2's tree API
 * (values escaped by construction) into a malloc'd string. */
static enum su_rc
saml_sp_metadata_build(const char *entity_id, const char *acs_url, const char *cert_b64, char **out)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *sso, *kd, *ki, *xd, *acs;
	xmlNs *md, *ds;
	xmlChar *mem = NULL;
	int len = 0;
	enum su_rc rc = SU_ENOMEM;

	*out = NULL;
	doc = xmlNewDoc(BAD_CAST "1.0");
	if (doc == NULL)
		goto out;
	root = xmlNewNode(NULL, BAD_CAST "EntityDescriptor");
	if (root == NULL)
		goto out;
	xmlDocSetRootElement(doc, root);
	md = xmlNewNs(root, BAD_CAST NS_MD, BAD_CAST "md");
	ds = xmlNewNs(root, BAD_CAST NS_DS, BAD_CAST "ds");
	if (md == NULL || ds == NULL)
		goto out;
	xmlSetNs(root, md);
	xmlNewProp(root, BAD_CAST "entityID", BAD_CAST entity_id);
	sso = xmlNewChild(root, md, BAD_CAST "SPSSODescriptor", NULL);
	if (sso == NULL)
		goto out;
	xmlNewProp(sso, BAD_CAST "AuthnRequestsSigned", BAD_CAST "true");
	xmlNewProp(sso, BAD_CAST "WantAssertionsSigned", BAD_CAST "true");
	xmlNewProp(sso, BAD_CAST "protocolSupportEnumeration", BAD_CAST NS_SAMLP);
	kd = xmlNewChild(sso, md, BAD_CAST "KeyDescriptor", NULL);
	if (kd == NULL)
		goto out;
	xmlNewProp(kd, BAD_CAST "use", BAD_CAST "signing");
	ki = xmlNewChild(kd, ds, BAD_CAST "KeyInfo", NULL);
	xd = ki ? xmlNewChild(ki, ds, BAD_CAST "X509Data", NULL) : NULL;
	if (xd == NULL || xmlNewTextChild(xd, ds, BAD_CAST "X509Certificate", BAD_CAST cert_b64) == NULL)
		goto out;
	if (xmlNewTextChild(sso, md, BAD_CAST "NameIDFormat", BAD_CAST NAMEID_UNSPECIFIED) == NULL)
		goto out;
	acs = xmlNewChild(sso, md, BAD_CAST "AssertionConsumerService", NULL);
	if (acs == NULL)
		goto out;
	xmlNewProp(acs, BAD_CAST "Binding", BAD_CAST BINDING_POST);
	xmlNewProp(acs, BAD_CAST "Location", BAD_CAST acs_url);
	xmlNewProp(acs, BAD_CAST "index", BAD_CAST "0");
	xmlNewProp(acs, BAD_CAST "isDefault", BAD_CAST "true");
	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	if (mem == NULL || len <= 0)
		goto out;
	*out = strndup((const char *)mem, (size_t)len);
	if (*out == NULL)
		goto out;
	rc = SU_OK;
out:
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}

/* saml_sp_free(): see saml.h. */
void
saml_sp_free(struct saml_sp *sp)
{
	if (sp == NULL)
		return;
	if (sp->server != NULL) {
		pthread_mutex_lock(&saml_mu);
		lasso_server_destroy(sp->server);
		pthread_mutex_unlock(&saml_mu);
	}
	free(sp->name);
	free(sp->metadata);
	free(sp->idp_entity_id);
	free(sp->acs_url);
	free(sp);
}

/* saml_sp_idp_find() sets sp->idp_entity_id from the only provider the
 * server knows (the IdP of metadata_file). Called with saml_mu held. */
static enum su_rc
saml_sp_idp_find(struct saml_sp *sp, char *err, size_t errsz)
{
	GHashTableIter it;
	gpointer key, val;
	LassoProvider *p;

	if (sp->server->providers == NULL || g_hash_table_size(sp->server->providers) != 1) {
		log_seterr(err, errsz, "the metadata file must describe exactly one identity provider");
		return SU_EINVAL;
	}
	g_hash_table_iter_init(&it, sp->server->providers);
	if (!g_hash_table_iter_next(&it, &key, &val) || val == NULL)
		return SU_EINVAL;
	p = LASSO_PROVIDER(val);
	if (p->ProviderID == NULL || p->ProviderID[0] == '\0') {
		log_seterr(err, errsz,
			   "the identity provider in the metadata file has no entityID");
		return SU_EINVAL;
	}
	sp->idp_entity_id = strdup(p->ProviderID);
	return sp->idp_entity_id ? SU_OK : SU_ENOMEM;
}

/* saml_sp_new(): see saml.h. */
enum su_rc
saml_sp_new(const struct cfg_provider *p, const char *public_url, struct saml_sp **out, char *err,
	    size_t errsz)
{
	struct saml_sp *sp = NULL;
	char *key = NULL, *cert = NULL, *cert_b64 = NULL, *idp_md = NULL, *url = NULL;
	char rid[SAML_REQUEST_ID_LEN + 1], sub[256];
	const char *const selftest_refs[] = { "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified", NULL };
	struct saml_authn a;
	size_t n;
	int lrc;
	bool locked = false;
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	if (!saml_inited) {
		log_seterr(err, errsz, "SAML is not initialised");
		goto out;
	}
	if (p == NULL || p->type != CFG_PROVIDER_SAML || p->metadata_file == NULL ||
	    p->sp_entity_id == NULL || p->sp_key_file == NULL || p->sp_cert_file == NULL) {
		log_seterr(err, errsz, "not a complete saml provider");
		goto out;
	}
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	sp->name = strdup(p->name ? p->name : "");
	n = strlen(public_url) + sizeof("/saml/acs");
	sp->acs_url = malloc(n);
	if (sp->name == NULL || sp->acs_url == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	snprintf(sp->acs_url, n, "%s/saml/acs", public_url);
	rc = saml_file_read(p->sp_key_file, &key, err, errsz);
	if (rc != SU_OK)
		goto out;
	if (strstr(key, "PRIVATE KEY-----") == NULL) {
		log_seterr(err, errsz, "%s is not a PEM private key", p->sp_key_file);
		rc = SU_EINVAL;
		goto out;
	}
	rc = saml_file_read(p->sp_cert_file, &cert, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = saml_pem_cert_b64(cert, &cert_b64, sub, sizeof(sub));
	if (rc != SU_OK) {
		log_seterr(err, errsz, "%s: %s", p->sp_cert_file, sub);
		goto out;
	}
	rc = saml_file_read(p->metadata_file, &idp_md, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = saml_sp_metadata_build(p->sp_entity_id, sp->acs_url, cert_b64, &sp->metadata);
	if (rc != SU_OK) {
		log_seterr(err, errsz, "cannot build the SP metadata");
		goto out;
	}
	rc = SU_EINVAL;
	pthread_mutex_lock(&saml_mu);
	locked = true;
	/* the certificate is not passed to Lasso: it would only be copied into
	 * KeyInfo, and xmlsec 1.2.37 leaks a BIO per signature when it is
	 * (research/lasso.md section 8). The IdP knows it from our metadata. */
	sp->server = lasso_server_new_from_buffers(sp->metadata, key, NULL, NULL);
	if (sp->server == NULL) {
		log_seterr(err, errsz, "Lasso refused the SP key %s or the generated SP metadata",
			   p->sp_key_file);
		goto out;
	}
	sp->server->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	lrc = lasso_server_add_provider_from_buffer(sp->server, LASSO_PROVIDER_ROLE_IDP, idp_md, NULL,
						    NULL);
	if (lrc != 0) {
		log_seterr(err, errsz, "Lasso refused the IdP metadata %s: %s", p->metadata_file,
			   lasso_strerror(lrc));
		goto out;
	}
	rc = saml_sp_idp_find(sp, err, errsz);
	if (rc != SU_OK)
		goto out;
	pthread_mutex_unlock(&saml_mu);
	locked = false;
	/* self-test: the key signs and the IdP has an HTTP-Redirect SSO endpoint */
	memset(&a, 0, sizeof(a));
	a.class_refs = selftest_refs;
	a.comparison = CFG_CMP_EXACT;
	a.relay_state = "self-test";
	rc = saml_authn_request(sp, &a, &url, rid, sub, sizeof(sub));
	if (rc != SU_OK) {
		log_seterr(err, errsz, "cannot sign an AuthnRequest for %s: %s", sp->idp_entity_id, sub);
		goto out;
	}
	*out = sp;
	sp = NULL;
	rc = SU_OK;
out:
	if (locked)
		pthread_mutex_unlock(&saml_mu);
	saml_sp_free(sp);
	free(url);
	if (key != NULL) {
		memset(key, 0, strlen(key));
		free(key);
	}
	free(cert);
	free(cert_b64);
	free(idp_md);
	return rc;
}

/* saml_sp_metadata(): see saml.h. */
const char *
saml_sp_metadata(const struct saml_sp *sp)
{
	return sp->metadata;
}

/* saml_sp_idp_entity_id(): see saml.h. */
const char *
saml_sp_idp_entity_id(const struct saml_sp *sp)
{
	return sp->idp_entity_id;
}

/* saml_sp_acs_url(): see saml.h. */
const char *
saml_sp_acs_url(const struct saml_sp *sp)
{
	return sp->acs_url;
}

/* saml_comparison_str() names a comparison as RequestedAuthnContext does. */
static const char *
saml_comparison_str(enum cfg_comparison c)
{
	switch (c) {
	case CFG_CMP_MINIMUM:
		return "minimum";
	case CFG_CMP_MAXIMUM:
		return "maximum";
	case CFG_CMP_BETTER:
		return "better";
	case CFG_CMP_EXACT:
	default:
		return "exact";
	}
}

/* saml_authn_request(): see saml.h. */
enum su_rc
saml_authn_request(struct saml_sp *sp, const struct saml_authn *a, char **url,
		   char request_id[SAML_REQUEST_ID_LEN + 1], char *err, size_t errsz)
{
	LassoLogin *login = NULL;
	LassoSamlp2AuthnRequest *req;
	LassoSamlp2RequestAbstract *ra;
	LassoSamlp2RequestedAuthnContext *rac;
	LassoSamlp2NameIDPolicy *pol;
	unsigned char rnd[16];
	int lrc;
	enum su_rc rc = SU_EINVAL;

	*url = NULL;
	request_id[0] = '\0';
	if (a->class_refs == NULL || a->class_refs[0] == NULL || a->relay_state == NULL ||
	    a->relay_state[0] == '\0' || strlen(a->relay_state) > SAML_RELAY_STATE_MAX) {
		log_seterr(err, errsz, "no class refs or a bad RelayState");
		return SU_EINVAL;
	}
	/* the request ID comes from the CSPRNG, not from Lasso's generator */
	if (xcrypt_random(rnd, sizeof(rnd)) != SU_OK) {
		log_seterr(err, errsz, "no randomness available");
		return SU_ECRYPTO;
	}
	request_id[0] = '_';
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(request_id + 1 + 2 * i, 3, "%02x", rnd[i]);
	pthread_mutex_lock(&saml_mu);
	login = lasso_login_new(sp->server);
	if (login == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	lrc = lasso_login_init_authn_request(login, sp->idp_entity_id, LASSO_HTTP_METHOD_REDIRECT);
	if (lrc != 0) {
		log_seterr(err, errsz, "%s", lasso_strerror(lrc));
		goto out;
	}
	req = LASSO_SAMLP2_AUTHN_REQUEST(LASSO_PROFILE(login)->request);
	ra = LASSO_SAMLP2_REQUEST_ABSTRACT(req);
	g_free(ra->ID);
	ra->ID = g_strdup(request_id);
	req->ForceAuthn = TRUE;
	req->IsPassive = FALSE;
	g_free(req->ProtocolBinding);
	req->ProtocolBinding = g_strdup(BINDING_POST);
	g_free(req->AssertionConsumerServiceURL);
	req->AssertionConsumerServiceURL = g_strdup(sp->acs_url);
	/* let the IdP choose the NameID format (unspecified), so any IdP can answer */
	if (req->NameIDPolicy == NULL)
		req->NameIDPolicy = LASSO_SAMLP2_NAME_ID_POLICY(lasso_samlp2_name_id_policy_new());
	pol = req->NameIDPolicy;
	g_free(pol->Format);
	pol->Format = g_strdup(NAMEID_UNSPECIFIED);
	pol->AllowCreate = TRUE;
	rac = LASSO_SAMLP2_REQUESTED_AUTHN_CONTEXT(lasso_samlp2_requested_authn_context_new());
	for (size_t i = 0; a->class_refs[i] != NULL; i++)
		rac->AuthnContextClassRef = g_list_append(rac->AuthnContextClassRef,
							  g_strdup(a->class_refs[i]));
	rac->Comparison = g_strdup(saml_comparison_str(a->comparison));
	if (req->RequestedAuthnContext != NULL)
		g_object_unref(req->RequestedAuthnContext);
	req->RequestedAuthnContext = rac;
	g_free(LASSO_PROFILE(login)->msg_relayState);
	LASSO_PROFILE(login)->msg_relayState = g_strdup(a->relay_state);
	lrc = lasso_login_build_authn_request_msg(login);
	if (lrc != 0 || LASSO_PROFILE(login)->msg_url == NULL) {
		log_seterr(err, errsz, "%s", lasso_strerror(lrc));
		goto out;
	}
	*url = strdup(LASSO_PROFILE(login)->msg_url);
	rc = *url ? SU_OK : SU_ENOMEM;
out:
	if (login != NULL)
		lasso_login_destroy(login);
	pthread_mutex_unlock(&saml_mu);
	if (rc != SU_OK)
		request_id[0] = '\0';
	return rc;
}

/* ---------------------------------------------------------------- pure checks */

/* saml_result_cleanup(): see saml.h. */
void
saml_result_cleanup(struct saml_result *res)
{
	if (res == NULL)
		return;
	free(res->status);
	free(res->status2);
	free(res->status_message);
	free(res->assertion_id);
	free(res->subject);
	free(res->class_ref);
	memset(res, 0, sizeof(*res));
}

/* saml_time_parse(): see saml.h. */
enum su_rc
saml_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	int v[6];
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = { '-', '-', 'T', ':', ':', '\0' };
	const char *p = s;
	time_t t;

	if (s == NULL)
		return SU_EINVAL;
	for (int i = 0; i < 6; i++) {
		v[i] = 0;
		for (int k = 0; k < width[i]; k++, p++) {
			if (*p < '0' || *p > '9')
				return SU_EINVAL;
			v[i] = v[i] * 10 + (*p - '0');
		}
		if (i < 5) {
			if (*p != sep[i])
				return SU_EINVAL;
			p++;
		}
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return SU_EINVAL;
		for (int k = 0; *p >= '0' && *p <= '9'; p++, k++)
			if (k >= 9)
				return SU_EINVAL;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		return SU_EINVAL;
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return SU_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	t = timegm(&tm);
	if (t == (time_t)-1)
		return SU_EINVAL;
	/* timegm() normalises 31 February into March: refuse such dates */
	if (tm.tm_mday != v[2] || tm.tm_mon != v[1] - 1)
		return SU_EINVAL;
	*out = (int64_t)t;
	return SU_OK;
}

/* saml_rank() is the position of ref in order (weakest first), -1 if absent. */
static long
saml_rank(const char *ref, const char *const *order)
{
	if (order == NULL || ref == NULL)
		return -1;
	for (size_t i = 0; order[i] != NULL; i++)
		if (strcmp(order[i], ref) == 0)
			return (long)i;
	return -1;
}

/* saml_class_ref_ok(): see saml.h. */
bool
saml_class_ref_ok(const char *got, const char *const *requested, enum cfg_comparison cmp,
		  const char *const *order)
{
	long g = saml_rank(got, order), q;
	bool any = false;

	if (got == NULL || requested == NULL || requested[0] == NULL)
		return false;
	for (size_t i = 0; requested[i] != NULL; i++) {
		q = saml_rank(requested[i], order);
		switch (cmp) {
		case CFG_CMP_EXACT:
			if (strcmp(got, requested[i]) == 0)
				return true;
			break;
		case CFG_CMP_MINIMUM:
			if (strcmp(got, requested[i]) == 0 || (g >= 0 && q >= 0 && g >= q))
				return true;
			break;
		case CFG_CMP_MAXIMUM:
			if (strcmp(got, requested[i]) == 0 || (g >= 0 && q >= 0 && g <= q))
				return true;
			break;
		case CFG_CMP_BETTER:
			/* stronger than every requested one: all must be ranked */
			if (g < 0 || q < 0 || g <= q)
				return false;
			any = true;
			break;
		default:
			return false;
		}
	}
	return cmp == CFG_CMP_BETTER && any;
}

/* saml_is() says whether n is the element ns:name. */
static bool
saml_is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* saml_kid() returns the first child element ns:name of p and counts them. */
static const xmlNode *
saml_kid(const xmlNode *p, const char *ns, const char *name, int *count)
{
	const xmlNode *first = NULL;
	int c = 0;

	for (const xmlNode *k = p ? p->children : NULL; k != NULL; k = k->next) {
		if (saml_is(k, ns, name)) {
			if (first == NULL)
				first = k;
			c++;
		}
	}
	if (count != NULL)
		*count = c;
	return first;
}

/* saml_attr() returns the value of the un-namespaced attribute name: NULL
 * when absent, saml_attr_bad when it is not plain text. */
static const char *
saml_attr(const xmlNode *n, const char *name)
{
	xmlAttr *a = xmlHasNsProp((xmlNode *)n, BAD_CAST name, NULL);

	if (a == NULL || a->type != XML_ATTRIBUTE_NODE)
		return NULL;
	if (a->children == NULL)
		return "";
	if (a->children->type != XML_TEXT_NODE || a->children->next != NULL || a->children->content == NULL)
		return saml_attr_bad;
	return (const char *)a->children->content;
}

/* saml_text() gives the text content of an element that holds nothing but
 * text: "" when empty, NULL when it holds a comment, an element, CDATA, a
 * processing instruction or an entity reference (mixed content is how the
 * comment-injection attack truncates a NameID). */
static const char *
saml_text(const xmlNode *n)
{
	if (n == NULL)
		return NULL;
	if (n->children == NULL)
		return "";
	if (n->children->type != XML_TEXT_NODE || n->children->next != NULL ||
	    n->children->content == NULL)
		return NULL;
	return (const char *)n->children->content;
}

/* saml_uri_eq() compares an xs:anyURI element value (whitespace collapsed at
 * both ends, as the schema type says) with want. */
static bool
saml_uri_eq(const char *v, const char *want)
{
	size_t len;

	if (v == NULL || want == NULL)
		return false;
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' ||
			   v[len - 1] == '\n'))
		len--;
	return len == strlen(want) && memcmp(v, want, len) == 0;
}

/* saml_dup_trim() copies an xs:anyURI value without surrounding whitespace. */
static char *
saml_dup_trim(const char *v)
{
	size_t len;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' ||
			   v[len - 1] == '\n'))
		len--;
	return strndup(v, len);
}

/* saml_printable() copies s for an error message: at most max bytes,
 * control characters replaced. */
static void
saml_printable(const char *s, char *out, size_t max)
{
	size_t k = 0;

	for (; s != NULL && *s != '\0' && k + 1 < max; s++)
		out[k++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	out[k] = '\0';
}

/* What one walk over the whole document finds. */
struct saml_scan {
	const xmlNode *assertion;
	int n_assertions, n_encrypted, n_objects, n_signatures;
	const xmlNode *sigs[SAML_MAX_SIGNATURES];
	const char **ids;
	size_t n_ids, cap_ids;
	bool bad_id, oom;
};

/* saml_scan_walk() visits every element under n (depth-first). */
static void
saml_scan_walk(const xmlNode *n, struct saml_scan *s)
{
	for (; n != NULL; n = n->next) {
		const char *id;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (saml_is(n, NS_SAML, "Assertion")) {
			s->n_assertions++;
			if (s->assertion == NULL)
				s->assertion = n;
		} else if (saml_is(n, NS_SAML, "EncryptedAssertion")) {
			s->n_encrypted++;
		} else if (saml_is(n, NS_DS, "Object")) {
			s->n_objects++;
		} else if (saml_is(n, NS_DS, "Signature")) {
			if (s->n_signatures < SAML_MAX_SIGNATURES)
				s->sigs[s->n_signatures] = n;
			s->n_signatures++;
		}
		id = saml_attr(n, "ID");
		if (id != NULL) {
			if (id == saml_attr_bad || id[0] == '\0') {
				s->bad_id = true;
			} else {
				if (s->n_ids == s->cap_ids) {
					size_t nc = s->cap_ids ? s->cap_ids * 2 : 16;
					const char **v = realloc(s->ids, nc * sizeof(*v));

					if (v == NULL) {
						s->oom = true;
						return;
					}
					s->ids = v;
					s->cap_ids = nc;
				}
				s->ids[s->n_ids++] = id;
			}
		}
		saml_scan_walk(n->children, s);
	}
}

/* saml_strptr_cmp() orders C strings for qsort(). */
static int
saml_strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* saml_sig_check() checks one ds:Signature: where it sits, what it
 * references, its transforms and algorithms. */
static enum su_rc
saml_sig_check(const xmlNode *sig, const xmlNode *root, const xmlNode *assertion, char *err,
	       size_t errsz)
{
	const xmlNode *si, *cm, *sm, *ref, *tr, *dm;
	const char *alg, *uri, *pid;
	int n;

	if (sig->parent != root && sig->parent != assertion) {
		log_seterr(err, errsz, "Signature: a signature sits outside the Response and the Assertion");
		return SU_EINVAL;
	}
	si = saml_kid(sig, NS_DS, "SignedInfo", &n);
	if (n != 1) {
		log_seterr(err, errsz, "Signature: no single SignedInfo");
		return SU_EINVAL;
	}
	cm = saml_kid(si, NS_DS, "CanonicalizationMethod", &n);
	alg = n == 1 ? saml_attr(cm, "Algorithm") : NULL;
	if (alg == NULL || strcmp(alg, ALG_EXC_C14N) != 0) {
		log_seterr(err, errsz, "Signature: canonicalization must be exclusive c14n");
		return SU_EINVAL;
	}
	sm = saml_kid(si, NS_DS, "SignatureMethod", &n);
	alg = n == 1 ? saml_attr(sm, "Algorithm") : NULL;
	if (alg != NULL && strstr(alg, "sha1") != NULL) {
		log_seterr(err, errsz, "Signature: SHA-1 signatures are refused (SignatureMethod %.80s)", alg);
		return SU_EDENIED;
	}
	if (!saml_in_list(alg, saml_sig_algs)) {
		log_seterr(err, errsz, "Signature: SignatureMethod not allowed (RSA or ECDSA with SHA-2 only)");
		return SU_EDENIED;
	}
	ref = saml_kid(si, NS_DS, "Reference", &n);
	if (n != 1) {
		log_seterr(err, errsz, "Signature: exactly one Reference is required");
		return SU_EINVAL;
	}
	uri = saml_attr(ref, "URI");
	pid = saml_attr(sig->parent, "ID");
	if (uri == NULL || pid == NULL || uri[0] != '#' || strcmp(uri + 1, pid) != 0) {
		log_seterr(err, errsz, "Signature: the Reference does not point at the signed element's ID");
		return SU_EINVAL;
	}
	tr = saml_kid(ref, NS_DS, "Transforms", &n);
	if (n > 1) {
		log_seterr(err, errsz, "Signature: more than one Transforms");
		return SU_EINVAL;
	}
	for (const xmlNode *t = tr ? tr->children : NULL; t != NULL; t = t->next) {
		if (t->type != XML_ELEMENT_NODE)
			continue;
		alg = saml_is(t, NS_DS, "Transform") ? saml_attr(t, "Algorithm") : NULL;
		if (alg == NULL || (strcmp(alg, ALG_ENVELOPED) != 0 && strcmp(alg, ALG_EXC_C14N) != 0)) {
			log_seterr(err, errsz, "Signature: only the enveloped-signature and exclusive c14n "
					       "transforms are allowed");
			return SU_EINVAL;
		}
	}
	dm = saml_kid(ref, NS_DS, "DigestMethod", &n);
	alg = n == 1 ? saml_attr(dm, "Algorithm") : NULL;
	if (alg != NULL && strstr(alg, "sha1") != NULL) {
		log_seterr(err, errsz, "Signature: SHA-1 digests are refused (DigestMethod %.80s)", alg);
		return SU_EDENIED;
	}
	if (!saml_in_list(alg, saml_digest_algs)) {
		log_seterr(err, errsz, "Signature: DigestMethod not allowed (SHA-2 only)");
		return SU_EDENIED;
	}
	return SU_OK;
}

/* saml_structure_check() checks the shape of the document (see
 * saml_doc_check()) and returns the one Assertion in *assertion. */
static enum su_rc
saml_structure_check(const xmlNode *root, const xmlNode **assertion, char *err, size_t errsz)
{
	struct saml_scan s;
	enum su_rc rc = SU_EINVAL;

	memset(&s, 0, sizeof(s));
	saml_scan_walk(root, &s);
	if (s.oom) {
		rc = SU_ENOMEM;
		goto out;
	}
	if (s.n_encrypted > 0) {
		log_seterr(err, errsz, "Assertion: encrypted assertions are not accepted");
		goto out;
	}
	if (s.n_assertions != 1) {
		log_seterr(err, errsz, "Assertion: the response must carry exactly one assertion (it has %d)",
			   s.n_assertions);
		goto out;
	}
	if (s.assertion->parent != root) {
		log_seterr(err, errsz, "Assertion: the assertion is not a direct child of the Response");
		goto out;
	}
	if (s.bad_id) {
		log_seterr(err, errsz, "ID: an ID attribute is empty or not plain text");
		goto out;
	}
	if (s.n_ids > 1) {
		qsort(s.ids, s.n_ids, sizeof(*s.ids), saml_strptr_cmp);
		for (size_t i = 1; i < s.n_ids; i++) {
			if (strcmp(s.ids[i], s.ids[i - 1]) == 0) {
				log_seterr(err, errsz, "ID: two elements carry the same ID");
				goto out;
			}
		}
	}
	if (s.n_objects > 0) {
		log_seterr(err, errsz, "Signature: ds:Object elements are not accepted");
		goto out;
	}
	if (s.n_signatures == 0) {
		log_seterr(err, errsz, "Signature: the response is not signed");
		goto out;
	}
	if (s.n_signatures > 2) {
		log_seterr(err, errsz, "Signature: too many signatures");
		goto out;
	}
	if (s.n_signatures == 2 && s.sigs[0]->parent == s.sigs[1]->parent) {
		log_seterr(err, errsz, "Signature: two signatures on one element");
		goto out;
	}
	for (int i = 0; i < s.n_signatures; i++) {
		rc = saml_sig_check(s.sigs[i], root, s.assertion, err, errsz);
		if (rc != SU_OK)
			goto out;
	}
	*assertion = s.assertion;
	rc = SU_OK;
out:
	free(s.ids);
	return rc;
}

/* saml_status_check() reads Status; SU_EIDP (with res->status*) unless Success. */
static enum su_rc
saml_status_check(const xmlNode *root, struct saml_result *res, char *err, size_t errsz)
{
	const xmlNode *st, *sc, *sc2, *sm;
	const char *v, *v2 = NULL, *msg = NULL;
	char a[160], b[160], c[200];
	int n;

	st = saml_kid(root, NS_SAMLP, "Status", &n);
	if (n != 1) {
		log_seterr(err, errsz, "Status: the response has no single Status");
		return SU_EINVAL;
	}
	sc = saml_kid(st, NS_SAMLP, "StatusCode", &n);
	v = n == 1 ? saml_attr(sc, "Value") : NULL;
	if (v == NULL || v == saml_attr_bad) {
		log_seterr(err, errsz, "Status: no StatusCode");
		return SU_EINVAL;
	}
	res->status = strdup(v);
	if (res->status == NULL)
		return SU_ENOMEM;
	if (strcmp(v, STATUS_SUCCESS) == 0)
		return SU_OK;
	sc2 = saml_kid(sc, NS_SAMLP, "StatusCode", &n);
	if (n == 1) {
		v2 = saml_attr(sc2, "Value");
		if (v2 != NULL && v2 != saml_attr_bad)
			res->status2 = strdup(v2);
	}
	sm = saml_kid(st, NS_SAMLP, "StatusMessage", &n);
	if (n == 1) {
		msg = saml_text(sm);
		if (msg != NULL && msg[0] != '\0')
			res->status_message = strndup(msg, 200);
	}
	/* show the short names: ...:status:Responder / ...:status:NoAuthnContext */
	saml_printable(strrchr(v, ':') ? strrchr(v, ':') + 1 : v, a, sizeof(a));
	saml_printable(res->status2 ? (strrchr(res->status2, ':') ? strrchr(res->status2, ':') + 1
								   : res->status2)
				    : "",
		       b, sizeof(b));
	saml_printable(res->status_message ? res->status_message : "", c, sizeof(c));
	log_seterr(err, errsz, "Status: the identity provider answered %s%s%s%s%s", a, b[0] ? " / " : "",
		   b, c[0] ? ": " : "", c);
	return SU_EIDP;
}

/* saml_window_check() checks now against NotBefore / NotOnOrAfter of n
 * (with skew). what names the element for the message; need_noa requires
 * NotOnOrAfter. *noa gets NotOnOrAfter (0 when absent). */
static enum su_rc
saml_window_check(const xmlNode *n, const char *what, bool need_noa, const struct saml_expect *x,
		  int64_t *noa, char *err, size_t errsz)
{
	const char *nb = saml_attr(n, "NotBefore"), *na = saml_attr(n, "NotOnOrAfter");
	int64_t t;

	*noa = 0;
	if (nb != NULL) {
		if (saml_time_parse(nb, &t) != SU_OK) {
			log_seterr(err, errsz, "%s: NotBefore is not a UTC time", what);
			return SU_EINVAL;
		}
		if (x->now + x->skew < t) {
			log_seterr(err, errsz, "%s: the assertion is not yet valid (NotBefore is in the future)", what);
			return SU_EDENIED;
		}
	}
	if (na == NULL) {
		if (need_noa) {
			log_seterr(err, errsz, "%s: NotOnOrAfter is missing", what);
			return SU_EINVAL;
		}
		return SU_OK;
	}
	if (saml_time_parse(na, &t) != SU_OK) {
		log_seterr(err, errsz, "%s: NotOnOrAfter is not a UTC time", what);
		return SU_EINVAL;
	}
	if (x->now - x->skew >= t) {
		log_seterr(err, errsz, "%s: the assertion has expired (NotOnOrAfter is past)",
			   what);
		return SU_EEXPIRED;
	}
	*noa = t;
	return SU_OK;
}

/* saml_subject_check() checks Subject and its one bearer confirmation. */
static enum su_rc
saml_subject_check(const xmlNode *as, const struct saml_expect *x, struct saml_result *res,
		   char *err, size_t errsz)
{
	const xmlNode *subj, *nid, *sc, *scd;
	const char *v;
	int n;
	int64_t noa;
	enum su_rc rc;

	subj = saml_kid(as, NS_SAML, "Subject", &n);
	if (n != 1) {
		log_seterr(err, errsz, "Subject: the assertion has no single Subject");
		return SU_EINVAL;
	}
	if (saml_kid(subj, NS_SAML, "EncryptedID", &n) != NULL || saml_kid(subj, NS_SAML, "BaseID", &n) != NULL) {
		log_seterr(err, errsz, "NameID: encrypted or base identifiers are not accepted");
		return SU_EINVAL;
	}
	nid = saml_kid(subj, NS_SAML, "NameID", &n);
	if (n > 1) {
		log_seterr(err, errsz, "NameID: more than one NameID");
		return SU_EINVAL;
	}
	if (nid != NULL) {
		v = saml_text(nid);
		if (v == NULL) {
			log_seterr(err, errsz,
				   "NameID: it holds a comment or markup, not just text "
				   "(comment injection)");
			return SU_EINVAL;
		}
		if (x->subject_attribute == NULL) {
			if (v[0] == '\0' || strlen(v) > SAML_TEXT_MAX) {
				log_seterr(err, errsz, "NameID: empty or longer than %d bytes", SAML_TEXT_MAX);
				return SU_EINVAL;
			}
			res->subject = strdup(v);
			if (res->subject == NULL)
				return SU_ENOMEM;
		}
	} else if (x->subject_attribute == NULL) {
		log_seterr(err, errsz, "NameID: the subject has no NameID");
		return SU_EINVAL;
	}
	sc = saml_kid(subj, NS_SAML, "SubjectConfirmation", &n);
	if (n != 1) {
		log_seterr(err, errsz, "SubjectConfirmation: exactly one is required (bearer)");
		return SU_EINVAL;
	}
	v = saml_attr(sc, "Method");
	if (v == NULL || strcmp(v, CM_BEARER) != 0) {
		log_seterr(err, errsz, "SubjectConfirmation: the method is not bearer");
		return SU_EDENIED;
	}
	scd = saml_kid(sc, NS_SAML, "SubjectConfirmationData", &n);
	if (n != 1) {
		log_seterr(err, errsz, "SubjectConfirmationData: exactly one is required");
		return SU_EINVAL;
	}
	v = saml_attr(scd, "Recipient");
	if (v == NULL || strcmp(v, x->acs_url) != 0) {
		log_seterr(err, errsz, "Recipient: the assertion is for another endpoint (Recipient is not "
				       "this ACS)");
		return SU_EDENIED;
	}
	v = saml_attr(scd, "InResponseTo");
	if (v == NULL) {
		log_seterr(err, errsz, "InResponseTo: the assertion answers no request (unsolicited)");
		return SU_EDENIED;
	}
	if (!xcrypt_streq(v, x->request_id)) {
		log_seterr(err, errsz, "InResponseTo: the assertion answers another request");
		return SU_EDENIED;
	}
	rc = saml_window_check(scd, "SubjectConfirmationData", true, x, &noa, err, errsz);
	if (rc != SU_OK)
		return rc;
	if (noa > res->not_on_or_after)
		res->not_on_or_after = noa;
	return SU_OK;
}

/* saml_conditions_check() checks Conditions: times, audience, nothing unknown. */
static enum su_rc
saml_conditions_check(const xmlNode *as, const struct saml_expect *x, struct saml_result *res,
		      char *err, size_t errsz)
{
	const xmlNode *c;
	int n, n_ar = 0;
	int64_t noa;
	enum su_rc rc;

	c = saml_kid(as, NS_SAML, "Conditions", &n);
	if (n != 1) {
		log_seterr(err, errsz, "Conditions: the assertion has no single Conditions (no Audience)");
		return SU_EINVAL;
	}
	rc = saml_window_check(c, "Conditions", false, x, &noa, err, errsz);
	if (rc != SU_OK)
		return rc;
	if (noa > res->not_on_or_after)
		res->not_on_or_after = noa;
	for (const xmlNode *k = c->children; k != NULL; k = k->next) {
		bool ours = false;

		if (k->type == XML_TEXT_NODE || k->type == XML_COMMENT_NODE)
			continue;
		if (saml_is(k, NS_SAML, "OneTimeUse") || saml_is(k, NS_SAML, "ProxyRestriction"))
			continue;
		if (!saml_is(k, NS_SAML, "AudienceRestriction")) {
			log_seterr(err, errsz, "Conditions: an unknown condition is present");
			return SU_EDENIED;
		}
		/* several AudienceRestrictions must each be met (SAML core 2.5.1.4) */
		n_ar++;
		for (const xmlNode *a = k->children; a != NULL; a = a->next)
			if (saml_is(a, NS_SAML, "Audience") && saml_uri_eq(saml_text(a), x->sp_entity_id))
				ours = true;
		if (!ours) {
			log_seterr(err, errsz, "Audience: the assertion is meant for another service provider");
			return SU_EDENIED;
		}
	}
	if (n_ar == 0) {
		log_seterr(err, errsz, "Audience: the assertion has no AudienceRestriction");
		return SU_EDENIED;
	}
	return SU_OK;
}

/* saml_authn_check() checks the one AuthnStatement: instant and class ref. */
static enum su_rc
saml_authn_check(const xmlNode *as, const struct saml_expect *x, struct saml_result *res,
		 char *err, size_t errsz)
{
	const xmlNode *st, *ac, *cr;
	const char *v;
	char shown[160];
	int n;
	int64_t t;

	st = saml_kid(as, NS_SAML, "AuthnStatement", &n);
	if (n != 1) {
		log_seterr(err, errsz, "AuthnStatement: the assertion needs exactly one AuthnStatement");
		return SU_EINVAL;
	}
	v = saml_attr(st, "AuthnInstant");
	if (v == NULL || saml_time_parse(v, &t) != SU_OK) {
		log_seterr(err, errsz, "AuthnInstant: missing or not a UTC time");
		return SU_EINVAL;
	}
	/* ForceAuthn was asked: a login older than the request is a reused session */
	if (t < x->flow_created_at - x->skew) {
		log_seterr(err, errsz,
			   "AuthnInstant: the sign-in is older than the step-up request "
			   "(the identity provider reused an earlier login)");
		return SU_EDENIED;
	}
	if (t > x->now + x->skew) {
		log_seterr(err, errsz, "AuthnInstant: the sign-in time is in the future");
		return SU_EDENIED;
	}
	res->authn_instant = t;
	v = saml_attr(st, "SessionNotOnOrAfter");
	if (v != NULL) {
		if (saml_time_parse(v, &t) != SU_OK) {
			log_seterr(err, errsz, "SessionNotOnOrAfter: not a UTC time");
			return SU_EINVAL;
		}
		if (t <= x->now) {
			log_seterr(err, errsz, "SessionNotOnOrAfter: the identity provider's session is over");
			return SU_EEXPIRED;
		}
		res->session_not_on_or_after = t;
	}
	ac = saml_kid(st, NS_SAML, "AuthnContext", &n);
	cr = n == 1 ? saml_kid(ac, NS_SAML, "AuthnContextClassRef", &n) : NULL;
	v = cr != NULL && n == 1 ? saml_text(cr) : NULL;
	if (v == NULL || v[0] == '\0' || strlen(v) > SAML_TEXT_MAX) {
		log_seterr(err, errsz, "AuthnContextClassRef: missing or not plain text");
		return SU_EINVAL;
	}
	res->class_ref = saml_dup_trim(v);
	if (res->class_ref == NULL)
		return SU_ENOMEM;
	if (!saml_class_ref_ok(res->class_ref, x->class_refs, x->comparison, x->class_ref_order)) {
		saml_printable(res->class_ref, shown, sizeof(shown));
		log_seterr(err, errsz, "AuthnContextClassRef: %s does not meet the requested context (%s)",
			   shown, saml_comparison_str(x->comparison));
		return SU_EDENIED;
	}
	return SU_OK;
}

/* saml_attribute_subject() reads the subject from the attribute named
 * x->subject_attribute: exactly one such Attribute with one text value. */
static enum su_rc
saml_attribute_subject(const xmlNode *as, const struct saml_expect *x, struct saml_result *res,
		       char *err, size_t errsz)
{
	const xmlNode *found = NULL, *val = NULL;
	const char *v;
	int count = 0, nv = 0;

	for (const xmlNode *s = as->children; s != NULL; s = s->next) {
		if (!saml_is(s, NS_SAML, "AttributeStatement"))
			continue;
		for (const xmlNode *a = s->children; a != NULL; a = a->next) {
			v = saml_is(a, NS_SAML, "Attribute") ? saml_attr(a, "Name") : NULL;
			if (v != NULL && strcmp(v, x->subject_attribute) == 0) {
				found = a;
				count++;
			}
		}
	}
	if (count != 1) {
		log_seterr(err, errsz, "subject: the attribute %.64s appears %d times (exactly once needed)",
			   x->subject_attribute, count);
		return SU_EDENIED;
	}
	val = saml_kid(found, NS_SAML, "AttributeValue", &nv);
	v = nv == 1 ? saml_text(val) : NULL;
	if (v == NULL || v[0] == '\0' || strlen(v) > SAML_TEXT_MAX) {
		log_seterr(err, errsz, "subject: the attribute %.64s needs exactly one plain-text value",
			   x->subject_attribute);
		return SU_EDENIED;
	}
	res->subject = strdup(v);
	return res->subject ? SU_OK : SU_ENOMEM;
}

/* saml_doc_check(): see saml.h. */
enum su_rc
saml_doc_check(const struct saml_doc *d, const struct saml_expect *x, struct saml_result *res,
	       char *err, size_t errsz)
{
	const xmlNode *root, *as = NULL, *iss;
	const char *v;
	int n;
	enum su_rc rc = SU_EINVAL;

	memset(res, 0, sizeof(*res));
	root = d && d->doc ? xmlDocGetRootElement(d->doc) : NULL;
	if (!saml_is(root, NS_SAMLP, "Response")) {
		log_seterr(err, errsz, "Response: the message is not a SAML Response");
		goto out;
	}
	v = saml_attr(root, "Version");
	if (v == NULL || strcmp(v, "2.0") != 0) {
		log_seterr(err, errsz, "Response: not SAML 2.0");
		goto out;
	}
	rc = saml_status_check(root, res, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = saml_structure_check(root, &as, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = SU_EDENIED;
	/* Destination: required, as the binding requires it on signed messages */
	v = saml_attr(root, "Destination");
	if (v == NULL || strcmp(v, x->acs_url) != 0) {
		log_seterr(err, errsz, "Destination: the response is %s this ACS",
			   v == NULL ? "not addressed to" : "addressed to another endpoint than");
		goto out;
	}
	v = saml_attr(root, "InResponseTo");
	if (v == NULL) {
		log_seterr(err, errsz, "InResponseTo: the response answers no request (unsolicited or "
				       "IdP-initiated responses are refused)");
		goto out;
	}
	if (!xcrypt_streq(v, x->request_id)) {
		log_seterr(err, errsz, "InResponseTo: the response answers another request than the one "
				       "this browser sent");
		goto out;
	}
	iss = saml_kid(root, NS_SAML, "Issuer", &n);
	if (n > 1 || (n == 1 && !saml_uri_eq(saml_text(iss), x->idp_entity_id))) {
		log_seterr(err, errsz, "Issuer: the response comes from another identity provider");
		goto out;
	}
	v = saml_attr(as, "Version");
	if (v == NULL || strcmp(v, "2.0") != 0) {
		log_seterr(err, errsz, "Assertion: not SAML 2.0");
		rc = SU_EINVAL;
		goto out;
	}
	iss = saml_kid(as, NS_SAML, "Issuer", &n);
	if (n != 1 || !saml_uri_eq(saml_text(iss), x->idp_entity_id)) {
		log_seterr(err, errsz, "Issuer: the assertion does not come from the identity provider");
		goto out;
	}
	res->assertion_id = strdup(saml_attr(as, "ID") ? saml_attr(as, "ID") : "");
	if (res->assertion_id == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	if (res->assertion_id[0] == '\0' || strlen(res->assertion_id) > 256) {
		log_seterr(err, errsz, "Assertion: no usable ID");
		rc = SU_EINVAL;
		goto out;
	}
	rc = saml_subject_check(as, x, res, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = saml_conditions_check(as, x, res, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = saml_authn_check(as, x, res, err, errsz);
	if (rc != SU_OK)
		goto out;
	if (x->subject_attribute != NULL) {
		rc = saml_attribute_subject(as, x, res, err, errsz);
		if (rc != SU_OK)
			goto out;
	}
	if (x->user != NULL && strcmp(res->subject, x->user) != 0) {
		log_seterr(err, errsz, "subject: the identity provider signed in another user than the one "
				       "this step-up was started for");
		rc = SU_EDENIED;
		goto out;
	}
	res->not_on_or_after += x->skew;
	rc = SU_OK;
out:
	return rc;
}

/* saml_contains() says whether the n bytes at p contain the string s. */
static bool
saml_contains(const void *p, size_t n, const char *s)
{
	const char *b = p;
	size_t k = strlen(s);

	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (b[i] == s[0] && memcmp(b + i, s, k) == 0)
			return true;
	return false;
}

/* saml_doc_parse(): see saml.h. */
enum su_rc
saml_doc_parse(const void *xml, size_t len, struct saml_doc **out, char *err, size_t errsz)
{
	const unsigned char *p = xml;
	size_t i = 0;
	struct saml_doc *d = NULL;
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	if (xml == NULL || len == 0 || len > SAML_RESPONSE_MAX) {
		log_seterr(err, errsz, "Response: empty or larger than %d bytes",
			   SAML_RESPONSE_MAX);
		return len > SAML_RESPONSE_MAX ? SU_ETOOBIG : SU_EINVAL;
	}
	/* UTF-8 only (a UTF-16 or other encoding could hide a DOCTYPE from the scan below) */
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i == len || p[i] != '<') {
		log_seterr(err, errsz, "Response: not a UTF-8 XML document");
		return SU_EINVAL;
	}
	/* an XML declaration may only name UTF-8: libxml2 would switch to any
	 * other encoding (UTF-7 ...) in which "<!DOCTYPE" has other bytes */
	if (len - i >= 5 && memcmp(p + i, "<?xml", 5) == 0) {
		size_t k = i + 5, end;

		while (k + 1 < len && !(p[k] == '?' && p[k + 1] == '>'))
			k++;
		end = k;
		for (k = i + 5; k + 8 <= end; k++) {
			if (memcmp(p + k, "encoding", 8) != 0)
				continue;
			k += 8;
			while (k < end && (p[k] == ' ' || p[k] == '=' || p[k] == '"' || p[k] == '\''))
				k++;
			if (end - k < 5 || strncasecmp((const char *)p + k, "utf-8", 5) != 0 ||
			    (p[k + 5] != '"' && p[k + 5] != '\'')) {
				log_seterr(err, errsz, "Response: only UTF-8 is accepted");
				return SU_EINVAL;
			}
			break;
		}
	}
	if (saml_contains(xml, len, "<!DOCTYPE") || saml_contains(xml, len, "<!ENTITY")) {
		log_seterr(err, errsz, "DOCTYPE: a document type declaration is refused (XXE, entity expansion)");
		return SU_EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return SU_ENOMEM;
	d->doc = xmlReadMemory(xml, (int)len, "response.xml", NULL,
			       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (d->doc == NULL) {
		log_seterr(err, errsz, "Response: not well-formed XML");
		goto out;
	}
	if (d->doc->intSubset != NULL || d->doc->extSubset != NULL) {
		log_seterr(err, errsz, "DOCTYPE: a document type declaration is refused (XXE, entity expansion)");
		goto out;
	}
	if (d->doc->encoding != NULL && strcasecmp((const char *)d->doc->encoding, "UTF-8") != 0) {
		log_seterr(err, errsz, "Response: only UTF-8 is accepted");
		goto out;
	}
	*out = d;
	d = NULL;
	rc = SU_OK;
out:
	saml_doc_free(d);
	return rc;
}

/* saml_doc_free(): see saml.h. */
void
saml_doc_free(struct saml_doc *d)
{
	if (d == NULL)
		return;
	xmlFreeDoc(d->doc);
	free(d);
}

/* saml_lasso_check() lets Lasso verify the signature of the response
 * (base64 b64) and compares what Lasso read with what the DOM checks read
 * (res). Called with saml_mu held. */
static enum su_rc
saml_lasso_check(struct saml_sp *sp, const char *b64, const struct saml_expect *x,
		 const struct saml_result *res, char *err, size_t errsz)
{
	LassoLogin *login = NULL;
	LassoProfile *prof;
	LassoSamlp2Response *resp;
	LassoSaml2Assertion *a;
	LassoSaml2AuthnStatement *st;
	LassoSaml2NameID *nid;
	int lrc;
	enum su_rc rc = SU_ECRYPTO;

	login = lasso_login_new(sp->server);
	if (login == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	prof = LASSO_PROFILE(login);
	/* MAYBE: the Response or the Assertion (or both) must carry a valid
	 * signature by a key of the IdP's metadata; a key in KeyInfo is ignored */
	lasso_profile_set_signature_verify_hint(prof, LASSO_PROFILE_SIGNATURE_VERIFY_HINT_MAYBE);
	lrc = lasso_login_process_authn_response_msg(login, (gchar *)b64);
	if (lrc != 0) {
		log_seterr(err, errsz, "Signature: the signature check failed (%s)", lasso_strerror(lrc));
		goto out;
	}
	/* the Response's own signature: valid, or absent when only the
	 * assertion is signed (Lasso then verified the assertion's, else rc) */
	lrc = lasso_profile_get_signature_status(prof);
	if (lrc != 0 && lrc != LASSO_DS_ERROR_SIGNATURE_NOT_FOUND) {
		log_seterr(err, errsz, "Signature: the signature check failed (%s)", lasso_strerror(lrc));
		goto out;
	}
	rc = SU_EINVAL;
	if (prof->remote_providerID == NULL || strcmp(prof->remote_providerID, x->idp_entity_id) != 0) {
		log_seterr(err, errsz, "Issuer: Lasso saw another identity provider");
		goto out;
	}
	resp = LASSO_IS_SAMLP2_RESPONSE(prof->response) ? LASSO_SAMLP2_RESPONSE(prof->response) : NULL;
	if (resp == NULL || g_list_length(resp->Assertion) != 1 || resp->EncryptedAssertion != NULL ||
	    !LASSO_IS_SAML2_ASSERTION(resp->Assertion->data)) {
		log_seterr(err, errsz, "Assertion: Lasso did not see exactly one assertion");
		goto out;
	}
	a = LASSO_SAML2_ASSERTION(resp->Assertion->data);
	if (a->ID == NULL || strcmp(a->ID, res->assertion_id) != 0) {
		log_seterr(err, errsz, "Assertion: Lasso read another assertion ID (parser differential)");
		goto out;
	}
	st = a->AuthnStatement && g_list_length(a->AuthnStatement) == 1 &&
			     LASSO_IS_SAML2_AUTHN_STATEMENT(a->AuthnStatement->data)
		     ? LASSO_SAML2_AUTHN_STATEMENT(a->AuthnStatement->data)
		     : NULL;
	if (st == NULL || st->AuthnContext == NULL || st->AuthnContext->AuthnContextClassRef == NULL ||
	    !saml_uri_eq(st->AuthnContext->AuthnContextClassRef, res->class_ref)) {
		log_seterr(err, errsz, "AuthnContextClassRef: Lasso read another class ref (parser differential)");
		goto out;
	}
	if (x->subject_attribute == NULL) {
		nid = LASSO_IS_SAML2_NAME_ID(prof->nameIdentifier) ? LASSO_SAML2_NAME_ID(prof->nameIdentifier)
								   : NULL;
		if (nid == NULL || nid->content == NULL || strcmp(nid->content, res->subject) != 0) {
			log_seterr(err, errsz, "NameID: Lasso read another NameID (parser differential)");
			goto out;
		}
	}
	rc = SU_OK;
out:
	if (login != NULL)
		lasso_login_destroy(login);
	return rc;
}

/* saml_response_check(): see saml.h. */
enum su_rc
saml_response_check(struct saml_sp *sp, const char *saml_response, const struct saml_expect *x,
		    struct saml_result *res, char *err, size_t errsz)
{
	unsigned char *xml = NULL;
	size_t len = 0;
	struct saml_doc *d = NULL;
	gchar *clean = NULL;
	enum su_rc rc;

	memset(res, 0, sizeof(*res));
	rc = saml_b64_decode(saml_response, strlen(saml_response), SAML_RESPONSE_MAX, &xml, &len);
	if (rc != SU_OK) {
		log_seterr(err, errsz, rc == SU_ETOOBIG ? "SAMLResponse: too large"
						      : "SAMLResponse: not valid base64");
		goto out;
	}
	rc = saml_doc_parse(xml, len, &d, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = saml_doc_check(d, x, res, err, errsz);
	if (rc != SU_OK)
		goto out;
	/* Lasso verifies exactly the bytes the DOM checks read */
	clean = g_base64_encode(xml, len);
	if (clean == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&saml_mu);
	rc = saml_lasso_check(sp, clean, x, res, err, errsz);
	pthread_mutex_unlock(&saml_mu);
out:
	g_free(clean);
	saml_doc_free(d);
	free(xml);
	return rc;
}

/* ---------------------------------------------------------------- the POST form */

/* saml_form_decode() URL-decodes n bytes ('+' is a space) into a malloc'd
 * string; NULL on a bad escape, a NUL byte or no memory. */
static char *
saml_form_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t k = 0;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			o[k++] = ' ';
		} else if (s[i] == '%') {
			int h, l;

			if (i + 2 >= n)
				goto bad;
			h = xcrypt_hexval((unsigned char)s[i + 1]);
			l = xcrypt_hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				goto bad;
			o[k++] = (char)(h * 16 + l);
			i += 2;
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = '\0';
	return o;
bad:
	free(o);
	return NULL;
}

/* saml_form_parse(): see saml.h. */
enum su_rc
saml_form_parse(const char *body, size_t len, char **saml_response, char **relay_state, char *err,
		size_t errsz)
{
	const char *p = body, *end = body + len;
	enum su_rc rc = SU_EINVAL;

	*saml_response = NULL;
	*relay_state = NULL;
	if (body == NULL || len == 0) {
		log_seterr(err, errsz, "the form is empty");
		return SU_EINVAL;
	}
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
		const char *stop = amp ? amp : end;
		char *key = NULL, **slot = NULL;

		eq = memchr(p, '=', (size_t)(stop - p));
		key = saml_form_decode(p, (size_t)((eq ? eq : stop) - p));
		if (key == NULL) {
			log_seterr(err, errsz, "the form is not validly URL-encoded");
			goto out;
		}
		if (strcmp(key, "SAMLResponse") == 0)
			slot = saml_response;
		else if (strcmp(key, "RelayState") == 0)
			slot = relay_state;
		if (slot != NULL) {
			if (*slot != NULL) {
				log_seterr(err, errsz, "%s appears twice in the form", key);
				free(key);
				goto out;
			}
			*slot = eq ? saml_form_decode(eq + 1, (size_t)(stop - eq - 1)) : strdup("");
			if (*slot == NULL) {
				log_seterr(err, errsz, "%s is not validly URL-encoded", key);
				free(key);
				goto out;
			}
		}
		free(key);
		p = amp ? amp + 1 : end;
	}
	if (*saml_response == NULL || (*saml_response)[0] == '\0') {
		log_seterr(err, errsz, "the form carries no SAMLResponse");
		goto out;
	}
	if (*relay_state == NULL || (*relay_state)[0] == '\0') {
		log_seterr(err, errsz, "the form carries no RelayState");
		goto out;
	}
	rc = SU_OK;
out:
	return rc;
}
