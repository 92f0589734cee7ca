/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_idp.c: httpc.c and idp.c against an in-process OpenID provider
 * (libmicrohttpd on 127.0.0.1, a free port) that serves a discovery
 * document, a JWKS and a token endpoint whose behaviour the test switches
 * through globals: discovery caching and issuer checks, the three client
 * authentication methods, IdP errors, oversized and slow answers, ID token
 * verification and the rate-limited JWKS refresh on an unknown kid.
 */
#include <cjose/cjose.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "httpc.h"
#include "idp.h"
#include "t.h"

#define BIG_SIZE (2 * 1024 * 1024)

enum token_mode { TOK_OK, TOK_400, TOK_BIG, TOK_BIG_CHUNKED, TOK_SLOW };

/* server state and switches; g_mu guards them (server threads vs the test) */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_n_disc, g_n_jwks, g_n_token;
static char g_issuer[192];                /* what the discovery document claims */
static char g_base[128];                  /* http://127.0.0.1:PORT */
static char *g_jwks;                      /* JWKS body served (malloc'd) */
static int g_jwks_status = 200;
static enum token_mode g_token_mode = TOK_OK;
static char *g_token_id_token;            /* id_token the token endpoint returns */
static char *g_seen_auth;                 /* Authorization header of the last token request */
static char *g_seen_body;                 /* body of the last token request */
static volatile int g_stopping;

static void
set_str(char **dst, const char *src)
{
	pthread_mutex_lock(&g_mu);
	free(*dst);
	*dst = src != NULL ? strdup(src) : NULL;
	pthread_mutex_unlock(&g_mu);
}

static int
get_count(const int *c)
{
	int n;

	pthread_mutex_lock(&g_mu);
	n = *c;
	pthread_mutex_unlock(&g_mu);
	return n;
}

static ssize_t
big_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	size_t n;

	(void)cls;
	if (pos >= BIG_SIZE)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = BIG_SIZE - (size_t)pos;
	if (n > max)
		n = max;
	memset(out, 'x', n);
	return (ssize_t)n;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
					    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct buf *body = *con_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char doc[1024];
	enum token_mode mode;

	(void)cls;
	(void)version;
	if (body == NULL) {
		body = malloc(sizeof(*body));
		if (body == NULL)
			return MHD_NO;
		buf_init(body, 1024 * 1024);
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (buf_append(body, upload, *upload_size) != SU_OK)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/.well-known/openid-configuration") == 0) {
		pthread_mutex_lock(&g_mu);
		g_n_disc++;
		snprintf(doc, sizeof(doc),
			 "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/authorize\","
			 "\"token_endpoint\":\"%s/token\",\"jwks_uri\":\"%s/jwks\","
			 "\"response_types_supported\":[\"code\"]}",
			 g_issuer, g_base, g_base, g_base);
		pthread_mutex_unlock(&g_mu);
		return reply(c, 200, doc);
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/jwks") == 0) {
		char *j;
		int st;

		pthread_mutex_lock(&g_mu);
		g_n_jwks++;
		j = strdup(g_jwks != NULL ? g_jwks : "");
		st = g_jwks_status;
		pthread_mutex_unlock(&g_mu);
		if (j == NULL)
			return MHD_NO;
		ret = reply(c, (unsigned)st, j);
		free(j);
		return ret;
	}
	if (strcmp(method, "POST") == 0 && strcmp(url, "/token") == 0) {
		const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		char *idt;

		pthread_mutex_lock(&g_mu);
		g_n_token++;
		free(g_seen_auth);
		g_seen_auth = auth != NULL ? strdup(auth) : NULL;
		free(g_seen_body);
		g_seen_body = strdup(buf_cstr(body));
		mode = g_token_mode;
		idt = strdup(g_token_id_token != NULL ? g_token_id_token : "x.y.z");
		pthread_mutex_unlock(&g_mu);
		if (idt == NULL)
			return MHD_NO;
		switch (mode) {
		case TOK_400:
			ret = reply(c, 400, "{\"error\":\"invalid_grant\","
					    "\"error_description\":\"code expired\"}");
			break;
		case TOK_BIG: {
			char *big = malloc(BIG_SIZE);

			if (big == NULL) {
				ret = MHD_NO;
				break;
			}
			memset(big, ' ', BIG_SIZE);
			big[0] = '{';
			big[BIG_SIZE - 1] = '}';
			r = MHD_create_response_from_buffer(BIG_SIZE, big, MHD_RESPMEM_MUST_FREE);
			if (r == NULL) {
				free(big);
				ret = MHD_NO;
				break;
			}
			ret = MHD_queue_response(c, 200, r);
			MHD_destroy_response(r);
			break;
		}
		case TOK_BIG_CHUNKED:
			r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, big_reader,
							      NULL, NULL);
			if (r == NULL) {
				ret = MHD_NO;
				break;
			}
			ret = MHD_queue_response(c, 200, r);
			MHD_destroy_response(r);
			break;
		case TOK_SLOW:
			/* longer than the 1 s client timeout; cut short when the test ends */
			for (int i = 0; i < 30 && !g_stopping; i++)
				usleep(100 * 1000);
			/* fall through */
		case TOK_OK:
		default:
			snprintf(doc, sizeof(doc),
				 "{\"access_token\":\"at\",\"token_type\":\"Bearer\","
				 "\"expires_in\":3600,\"id_token\":\"%s\"}",
				 idt);
			ret = reply(c, 200, doc);
			break;
		}
		free(idt);
		return ret;
	}
	return reply(c, 404, "{\"error\":\"not found\"}");
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode tc)
{
	struct buf *body = *con_cls;

	(void)cls;
	(void)c;
	(void)tc;
	if (body != NULL) {
		buf_cleanup(body);
		free(body);
		*con_cls = NULL;
	}
}

/* an RSA key with a kid, for JWKS and signing */
static cjose_jwk_t *
make_key(const char *kid)
{
	cjose_err e;
	cjose_jwk_t *k = cjose_jwk_create_RSA_random(2048, NULL, 0, &e);

	if (k != NULL && !cjose_jwk_set_kid(k, kid, strlen(kid), &e)) {
		cjose_jwk_release(k);
		k = NULL;
	}
	return k;
}

/* a JWKS holding the public parts of keys (NULL-terminated) */
static char *
make_jwks(cjose_jwk_t *const *keys)
{
	struct buf b;
	cjose_err e;

	buf_init(&b, 1024 * 1024);
	buf_puts(&b, "{\"keys\":[");
	for (int i = 0; keys[i] != NULL; i++) {
		char *j = cjose_jwk_to_json(keys[i], false, &e);

		if (i > 0)
			buf_puts(&b, ",");
		buf_puts(&b, j);
		free(j);
	}
	buf_puts(&b, "]}");
	return buf_steal(&b);
}

/* an RS256 compact JWS over claims with a kid header */
static char *
make_token(cjose_jwk_t *k, const char *kid, const char *claims)
{
	cjose_err e;
	cjose_header_t *h = cjose_header_new(&e);
	cjose_jws_t *jws = NULL;
	const char *ser = NULL;
	char *out = NULL;

	if (h == NULL)
		return NULL;
	if (!cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_RS256, &e) ||
	    !cjose_header_set(h, CJOSE_HDR_KID, kid, &e))
		goto out;
	jws = cjose_jws_sign(k, h, (const uint8_t *)claims, strlen(claims), &e);
	if (jws == NULL || !cjose_jws_export(jws, &ser, &e))
		goto out;
	out = strdup(ser);
out:
	cjose_jws_release(jws);
	cjose_header_release(h);
	return out;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
}

static void
provider_init(struct cfg_provider *p, const char *name, const char *issuer, enum cfg_token_auth a)
{
	memset(p, 0, sizeof(*p));
	p->name = (char *)name;
	p->type = CFG_PROVIDER_OIDC;
	p->issuer = (char *)issuer;
	p->client_id = (char *)"client 1";
	p->client_secret = (char *)"s3cr%t:x";
	p->token_auth = a;
}

/* concurrent verifiers while another thread replaces the keyset */
struct race {
	struct idp *d;
	const char *tok;
	int failures;
};

static void *
race_verify(void *arg)
{
	struct race *r = arg;
	char err[256];

	for (int i = 0; i < 40; i++) {
		json_t *pl = NULL;

		if (idp_id_token_verify(r->d, r->tok, &pl, err, sizeof(err)) != SU_OK)
			r->failures++;
		json_decref(pl);
	}
	return NULL;
}

static void
test_form_escape(void)
{
	char *s = httpc_form_escape("a b&c=d/\xc3\xa9~-._Z9+%");

	T_OK(s != NULL && strcmp(s, "a%20b%26c%3Dd%2F%C3%A9~-._Z9%2B%25") == 0,
	     "httpc_form_escape encodes all but unreserved (%s)", s ? s : "NULL");
	free(s);
	s = httpc_form_escape("");
	T_OK(s != NULL && s[0] == '\0', "httpc_form_escape of empty string");
	free(s);
	T_OK(httpc_form_escape(NULL) == NULL, "httpc_form_escape(NULL) is NULL");
}

static void
test_httpc_basic(void)
{
	struct httpc_resp resp;
	char err[256], url[256];
	enum su_rc rc;

	snprintf(url, sizeof(url), "%s/nothing", g_base);
	rc = httpc_get(url, NULL, 1024, &resp, err, sizeof(err));
	T_OK(rc == SU_OK && resp.status == 404, "httpc_get returns the status (404)");
	httpc_resp_cleanup(&resp);

	snprintf(url, sizeof(url), "%s/.well-known/openid-configuration", g_base);
	rc = httpc_get(url, NULL, 16, &resp, err, sizeof(err));
	T_OK(rc == SU_EIDP && contains(err, "larger than 16 bytes") && resp.body.len == 0,
	     "httpc_get refuses a body over max: %s", err);
	httpc_resp_cleanup(&resp);

	rc = httpc_get("ftp://127.0.0.1/x", NULL, 1024, &resp, err, sizeof(err));
	T_OK(rc == SU_EIDP && contains(err, "ftp://127.0.0.1/x"),
	     "httpc_get refuses other protocols: %s", err);
	httpc_resp_cleanup(&resp);

	rc = httpc_get("http://127.0.0.1:1/x", NULL, 1024, &resp, err, sizeof(err));
	T_OK(rc == SU_EIDP && contains(err, "http://127.0.0.1:1/x"),
	     "connection refused is SU_EIDP naming the URL: %s", err);
	httpc_resp_cleanup(&resp);
}

static void
test_discovery(void)
{
	struct cfg_provider p, pw, ps;
	struct idp *d = NULL, *dw = NULL, *ds = NULL;
	struct idp_status st;
	char err[512], expect[256], slash[160];
	char *ep = NULL;
	enum su_rc rc;
	int n0;

	provider_init(&p, "disc", g_base, CFG_AUTH_SECRET_BASIC);
	T_OK(idp_new(&p, &d) == SU_OK, "idp_new");
	n0 = get_count(&g_n_disc);
	rc = idp_authorization_endpoint(d, &ep, err, sizeof(err));
	snprintf(expect, sizeof(expect), "%s/authorize", g_base);
	T_OK(rc == SU_OK && ep != NULL && strcmp(ep, expect) == 0, "authorization endpoint %s",
	     ep ? ep : err);
	free(ep);
	ep = NULL;
	rc = idp_authorization_endpoint(d, &ep, err, sizeof(err));
	free(ep);
	ep = NULL;
	rc |= idp_authorization_endpoint(d, &ep, err, sizeof(err));
	free(ep);
	ep = NULL;
	T_OK(rc == SU_OK && get_count(&g_n_disc) == n0 + 1, "discovery fetched once and cached (%d)",
	     get_count(&g_n_disc) - n0);
	idp_status_get(d, &st);
	T_OK(st.discovered == 1 && st.discovered_at > 0 && st.last_error == NULL,
	     "status: discovered");
	idp_status_cleanup(&st);
	idp_free(d);

	/* a discovery document naming another issuer is refused */
	pthread_mutex_lock(&g_mu);
	snprintf(g_issuer, sizeof(g_issuer), "https://evil.example");
	pthread_mutex_unlock(&g_mu);
	provider_init(&pw, "wrong", g_base, CFG_AUTH_SECRET_BASIC);
	T_OK(idp_new(&pw, &dw) == SU_OK, "idp_new (wrong issuer)");
	rc = idp_authorization_endpoint(dw, &ep, err, sizeof(err));
	T_OK(rc == SU_EIDP && ep == NULL, "wrong issuer in discovery refused: %s", err);
	idp_status_get(dw, &st);
	T_OK(st.discovered == 0 && st.last_error != NULL, "status: not discovered, last_error %s",
	     st.last_error ? st.last_error : "NULL");
	idp_status_cleanup(&st);
	free(ep);
	ep = NULL;
	idp_free(dw);

	/* a configured issuer with a trailing '/': fetched without "//", compared exactly */
	snprintf(slash, sizeof(slash), "%s/", g_base);
	pthread_mutex_lock(&g_mu);
	snprintf(g_issuer, sizeof(g_issuer), "%s", slash);
	pthread_mutex_unlock(&g_mu);
	provider_init(&ps, "slash", slash, CFG_AUTH_SECRET_BASIC);
	T_OK(idp_new(&ps, &ds) == SU_OK, "idp_new (trailing slash)");
	rc = idp_authorization_endpoint(ds, &ep, err, sizeof(err));
	T_OK(rc == SU_OK, "issuer with trailing slash: discovery found (%s)", rc ? err : "ok");
	free(ep);
	ep = NULL;
	idp_free(ds);
	pthread_mutex_lock(&g_mu);
	snprintf(g_issuer, sizeof(g_issuer), "%s", g_base);
	pthread_mutex_unlock(&g_mu);

	/* not an OIDC provider */
	p.type = CFG_PROVIDER_SAML;
	T_OK(idp_new(&p, &d) == SU_EINVAL, "idp_new refuses a SAML provider");
}

static void
test_token(const char *keyfile)
{
	struct cfg_provider pb, pp, pk;
	struct idp *db = NULL, *dp = NULL, *dk = NULL;
	struct idp_status st;
	char err[512], expect[256];
	char *idt = NULL;
	unsigned char b64[128];
	const char *creds = "client%201:s3cr%25t%3Ax";
	enum su_rc rc;
	double t0, dt;
	int n, nd0;

	nd0 = get_count(&g_n_disc);
	set_str(&g_token_id_token, "hdr.payload.sig");
	pthread_mutex_lock(&g_mu);
	g_token_mode = TOK_OK;
	pthread_mutex_unlock(&g_mu);

	/* client_secret_basic */
	provider_init(&pb, "basic", g_base, CFG_AUTH_SECRET_BASIC);
	T_OK(idp_new(&pb, &db) == SU_OK, "idp_new (basic)");
	rc = idp_token_exchange(db, "the code/+", "verif1er", "https://rp.example/oidc/callback",
				&idt, err, sizeof(err));
	T_OK(rc == SU_OK && idt != NULL && strcmp(idt, "hdr.payload.sig") == 0,
	     "token exchange (basic) returns the id_token (%s)", rc ? err : "ok");
	free(idt);
	idt = NULL;
	EVP_EncodeBlock(b64, (const unsigned char *)creds, (int)strlen(creds));
	snprintf(expect, sizeof(expect), "Basic %s", (const char *)b64);
	pthread_mutex_lock(&g_mu);
	T_OK(g_seen_auth != NULL && strcmp(g_seen_auth, expect) == 0,
	     "basic: Authorization header has form-encoded id and secret (%s)",
	     g_seen_auth ? g_seen_auth : "none");
	T_OK(contains(g_seen_body, "grant_type=authorization_code") &&
		     contains(g_seen_body, "code=the%20code%2F%2B") &&
		     contains(g_seen_body, "redirect_uri=https%3A%2F%2Frp.example%2Foidc%2Fcallback") &&
		     contains(g_seen_body, "code_verifier=verif1er"),
	     "basic: body has grant_type, code, redirect_uri, code_verifier (%s)",
	     g_seen_body ? g_seen_body : "");
	T_OK(!contains(g_seen_body, "client_secret"), "basic: no secret in the body");
	pthread_mutex_unlock(&g_mu);

	/* client_secret_post */
	provider_init(&pp, "post", g_base, CFG_AUTH_SECRET_POST);
	T_OK(idp_new(&pp, &dp) == SU_OK, "idp_new (post)");
	rc = idp_token_exchange(dp, "c2", "v2", "https://rp.example/cb", &idt, err, sizeof(err));
	T_OK(rc == SU_OK && idt != NULL, "token exchange (post) (%s)", rc ? err : "ok");
	free(idt);
	idt = NULL;
	pthread_mutex_lock(&g_mu);
	T_OK(g_seen_auth == NULL, "post: no Authorization header");
	T_OK(contains(g_seen_body, "client_id=client%201") &&
		     contains(g_seen_body, "client_secret=s3cr%25t%3Ax"),
	     "post: body has client_id and client_secret");
	pthread_mutex_unlock(&g_mu);

	/* private_key_jwt */
	if (keyfile != NULL) {
		provider_init(&pk, "pkjwt", g_base, CFG_AUTH_PRIVATE_KEY_JWT);
		pk.client_secret = NULL;
		pk.private_key_file = (char *)keyfile;
		pk.private_key_kid = (char *)"ck1";
		T_OK(idp_new(&pk, &dk) == SU_OK, "idp_new (private_key_jwt)");
		rc = idp_token_exchange(dk, "c3", "v3", "https://rp.example/cb", &idt, err,
					sizeof(err));
		T_OK(rc == SU_OK && idt != NULL, "token exchange (private_key_jwt) (%s)",
		     rc ? err : "ok");
		free(idt);
		idt = NULL;
		pthread_mutex_lock(&g_mu);
		{
			const char *a = g_seen_body ? strstr(g_seen_body, "client_assertion=") : NULL;
			int dots = 0;

			for (; a != NULL && *a != '\0' && *a != '&'; a++)
				dots += *a == '.';
			T_OK(g_seen_auth == NULL && contains(g_seen_body, "client_id=client%201") &&
				     contains(g_seen_body,
					      "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
					      "client-assertion-type%3Ajwt-bearer") &&
				     dots == 2 && !contains(g_seen_body, "client_secret"),
			     "private_key_jwt: body has client_id, assertion type and a JWS");
		}
		pthread_mutex_unlock(&g_mu);
		idp_free(dk);
	}

	/* the IdP says no */
	pthread_mutex_lock(&g_mu);
	g_token_mode = TOK_400;
	pthread_mutex_unlock(&g_mu);
	rc = idp_token_exchange(db, "c", "v", "https://rp.example/cb", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL && contains(err, "invalid_grant"),
	     "400 refused with the IdP's error: %s", err);
	idp_status_get(db, &st);
	T_OK(st.last_error != NULL && contains(st.last_error, "invalid_grant"),
	     "last_error records it: %s", st.last_error ? st.last_error : "NULL");
	idp_status_cleanup(&st);

	/* oversized, with Content-Length and chunked */
	pthread_mutex_lock(&g_mu);
	g_token_mode = TOK_BIG;
	pthread_mutex_unlock(&g_mu);
	rc = idp_token_exchange(db, "c", "v", "https://rp.example/cb", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL && contains(err, "larger than"),
	     "2 MiB token response (Content-Length) refused: %s", err);
	pthread_mutex_lock(&g_mu);
	g_token_mode = TOK_BIG_CHUNKED;
	pthread_mutex_unlock(&g_mu);
	rc = idp_token_exchange(db, "c", "v", "https://rp.example/cb", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL && contains(err, "larger than"),
	     "2 MiB token response (chunked) refused: %s", err);

	/* slow */
	pthread_mutex_lock(&g_mu);
	g_token_mode = TOK_SLOW;
	pthread_mutex_unlock(&g_mu);
	t0 = now_s();
	rc = idp_token_exchange(db, "c", "v", "https://rp.example/cb", &idt, err, sizeof(err));
	dt = now_s() - t0;
	T_OK(rc == SU_EIDP && idt == NULL && dt < 2.0,
	     "slow token endpoint: SU_EIDP after %.2f s, not a hang: %s", dt, err);

	pthread_mutex_lock(&g_mu);
	g_token_mode = TOK_OK;
	pthread_mutex_unlock(&g_mu);
	rc = idp_token_exchange(db, "c", "v", "https://rp.example/cb", &idt, err, sizeof(err));
	T_OK(rc == SU_OK && idt != NULL, "recovers after errors");
	free(idt);
	idt = NULL;
	idp_status_get(db, &st);
	T_OK(st.last_error == NULL, "success clears last_error");
	idp_status_cleanup(&st);

	/* basic, post and private_key_jwt each fetched discovery once, however many exchanges */
	n = get_count(&g_n_disc) - nd0;
	T_OK(n == (keyfile != NULL ? 3 : 2), "one discovery fetch per provider (%d)", n);
	idp_free(db);
	idp_free(dp);
}

static void
test_verify(void)
{
	struct cfg_provider p;
	struct idp *d = NULL;
	struct idp_status st;
	cjose_jwk_t *ka = make_key("k1"), *kb = make_key("k2"), *kc = make_key("k3"),
		    *kd = make_key("k4");
	const char *claims = "{\"iss\":\"x\",\"sub\":\"alice\",\"aud\":\"client 1\"}";
	char *ta = NULL, *tb = NULL, *tc = NULL, *td = NULL, *tbad = NULL, *jwks = NULL;
	char err[512];
	json_t *pl = NULL;
	enum su_rc rc;
	int j0, nd0;

	if (ka == NULL || kb == NULL || kc == NULL || kd == NULL) {
		T_OK(0, "RSA key generation");
		goto out;
	}
	ta = make_token(ka, "k1", claims);
	tb = make_token(kb, "k2", claims);
	tc = make_token(kc, "k3", claims);
	td = make_token(kd, "k4", claims);
	/* kid k1 but signed by another key: a bad signature, not an unknown kid */
	tbad = make_token(kb, "k1", claims);
	T_OK(ta && tb && tc && td && tbad, "tokens signed");
	{
		cjose_jwk_t *set[] = { ka, NULL };

		jwks = make_jwks(set);
		set_str(&g_jwks, jwks);
		free(jwks);
	}

	provider_init(&p, "verify", g_base, CFG_AUTH_SECRET_BASIC);
	T_OK(idp_new(&p, &d) == SU_OK, "idp_new (verify)");
	j0 = get_count(&g_n_jwks);
	nd0 = get_count(&g_n_disc);
	rc = idp_id_token_verify(d, ta, &pl, err, sizeof(err));
	T_OK(rc == SU_OK && pl != NULL &&
		     strcmp(json_string_value(json_object_get(pl, "sub")) ?: "", "alice") == 0,
	     "ID token verifies (%s)", rc ? err : "ok");
	json_decref(pl);
	pl = NULL;
	rc = idp_id_token_verify(d, ta, &pl, err, sizeof(err));
	json_decref(pl);
	pl = NULL;
	T_OK(rc == SU_OK && get_count(&g_n_jwks) == j0 + 1, "JWKS fetched once and cached (%d)",
	     get_count(&g_n_jwks) - j0);

	rc = idp_id_token_verify(d, tbad, &pl, err, sizeof(err));
	T_OK(rc != SU_OK && pl == NULL && get_count(&g_n_jwks) == j0 + 1,
	     "bad signature refused without a JWKS refetch: %s", err);

	/* key rotation: k2 published, a token with kid k2 triggers one refetch */
	{
		cjose_jwk_t *set[] = { ka, kb, NULL };

		jwks = make_jwks(set);
		set_str(&g_jwks, jwks);
		free(jwks);
	}
	rc = idp_id_token_verify(d, tb, &pl, err, sizeof(err));
	json_decref(pl);
	pl = NULL;
	T_OK(rc == SU_OK && get_count(&g_n_jwks) == j0 + 2,
	     "unknown kid: JWKS refetched once and the new key accepted (%s)", rc ? err : "ok");

	/* another unknown kid within the interval: no fetch, refused */
	rc = idp_id_token_verify(d, tc, &pl, err, sizeof(err));
	T_OK(rc != SU_OK && pl == NULL && get_count(&g_n_jwks) == j0 + 2 &&
		     contains(err, "unknown kid (JWKS refreshed less than 60 s ago)"),
	     "second unknown kid within 60 s: no refetch, refused: %s", err);

	/* interval 0: a refetch is allowed; k3 not published yet */
	idp_set_refresh_interval(d, 0);
	rc = idp_id_token_verify(d, tc, &pl, err, sizeof(err));
	T_OK(rc != SU_OK && get_count(&g_n_jwks) == j0 + 3 && contains(err, "unknown kid"),
	     "interval 0: refetched, still unknown: %s", err);
	{
		cjose_jwk_t *set[] = { ka, kb, kc, NULL };

		jwks = make_jwks(set);
		set_str(&g_jwks, jwks);
		free(jwks);
	}
	rc = idp_id_token_verify(d, tc, &pl, err, sizeof(err));
	json_decref(pl);
	pl = NULL;
	T_OK(rc == SU_OK && get_count(&g_n_jwks) == j0 + 4, "interval 0: k3 accepted after refetch");

	/* garbage JWKS: the old keyset stays */
	set_str(&g_jwks, "this is not JSON {");
	rc = idp_id_token_verify(d, td, &pl, err, sizeof(err));
	T_OK(rc != SU_OK && pl == NULL && get_count(&g_n_jwks) == j0 + 5,
	     "garbage JWKS: refetched, unknown kid refused: %s", err);
	idp_status_get(d, &st);
	T_OK(st.n_keys == 3 && st.kids != NULL && strcmp(st.kids, "k1 k2 k3") == 0 &&
		     st.last_error != NULL && st.jwks_fetched_at > 0,
	     "garbage JWKS: old keyset kept (%zu keys: %s), last_error %s", st.n_keys,
	     st.kids ? st.kids : "", st.last_error ? st.last_error : "NULL");
	idp_status_cleanup(&st);
	rc = idp_id_token_verify(d, ta, &pl, err, sizeof(err));
	json_decref(pl);
	pl = NULL;
	T_OK(rc == SU_OK, "garbage JWKS: known keys still verify");

	/* JWKS endpoint failing with 500: same */
	{
		cjose_jwk_t *set[] = { ka, NULL };

		jwks = make_jwks(set);
		set_str(&g_jwks, jwks);
		free(jwks);
	}
	pthread_mutex_lock(&g_mu);
	g_jwks_status = 500;
	pthread_mutex_unlock(&g_mu);
	rc = idp_id_token_verify(d, td, &pl, err, sizeof(err));
	T_OK(rc != SU_OK && contains(err, "500"), "JWKS HTTP 500 reported: %s", err);
	rc = idp_id_token_verify(d, tb, &pl, err, sizeof(err));
	json_decref(pl);
	pl = NULL;
	T_OK(rc == SU_OK, "JWKS HTTP 500: old keyset kept");
	pthread_mutex_lock(&g_mu);
	g_jwks_status = 200;
	pthread_mutex_unlock(&g_mu);

	/* threads verifying while the keyset is replaced (ASan checks lifetimes) */
	{
		struct race r[4];
		pthread_t th[4];
		int fails = 0;

		for (int i = 0; i < 4; i++) {
			r[i].d = d;
			r[i].tok = ta;
			r[i].failures = 0;
			pthread_create(&th[i], NULL, race_verify, &r[i]);
		}
		for (int i = 0; i < 20; i++) {
			rc = idp_id_token_verify(d, td, &pl, err, sizeof(err));
			json_decref(pl);
			pl = NULL;
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			fails += r[i].failures;
		}
		T_OK(fails == 0, "concurrent verifies during keyset swaps: %d failures", fails);
	}
	T_OK(get_count(&g_n_disc) == nd0 + 1, "one discovery fetch for the whole verify run (%d)",
	     get_count(&g_n_disc) - nd0);
	rc = idp_id_token_verify(d, "not-a-jwt", &pl, err, sizeof(err));
	T_OK(rc != SU_OK && pl == NULL, "garbage token refused: %s", err);
out:
	idp_free(d);
	free(ta);
	free(tb);
	free(tc);
	free(td);
	free(tbad);
	cjose_jwk_release(ka);
	cjose_jwk_release(kb);
	cjose_jwk_release(kc);
	cjose_jwk_release(kd);
}

/* writes a PEM RSA private key to a temporary file; returns its path (malloc'd) */
static char *
write_client_key(void)
{
	char tmpl[] = "/tmp/test_idp_key_XXXXXX";
	EVP_PKEY *k = EVP_RSA_gen(2048);
	FILE *f = NULL;
	char *path = NULL;
	int fd;

	if (k == NULL)
		return NULL;
	fd = mkstemp(tmpl);
	if (fd < 0)
		goto out;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		goto out;
	}
	if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1)
		path = strdup(tmpl);
out:
	if (f != NULL)
		fclose(f);
	if (path == NULL && fd >= 0)
		unlink(tmpl);
	EVP_PKEY_free(k);
	return path;
}

int
main(void)
{
	struct MHD_Daemon *mhd;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	char *keyfile;
	unsigned port;

	if (httpc_global_init(1000, 1000) != SU_OK) {
		T_OK(0, "httpc_global_init");
		return T_DONE();
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				       MHD_USE_ERROR_LOG,
			       0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
			       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	T_OK(mhd != NULL, "mock OP started");
	if (mhd == NULL)
		return T_DONE();
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	port = info != NULL ? info->port : 0;
	T_OK(port != 0, "mock OP on port %u", port);
	snprintf(g_base, sizeof(g_base), "http://127.0.0.1:%u", port);
	snprintf(g_issuer, sizeof(g_issuer), "%s", g_base);

	keyfile = write_client_key();
	test_form_escape();
	test_httpc_basic();
	test_discovery();
	test_token(keyfile);
	test_verify();

	g_stopping = 1;
	MHD_stop_daemon(mhd);
	httpc_global_cleanup();
	if (keyfile != NULL)
		unlink(keyfile);
	free(keyfile);
	free(g_jwks);
	free(g_token_id_token);
	free(g_seen_auth);
	free(g_seen_body);
	return T_DONE();
}
