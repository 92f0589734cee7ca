/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mock_op.c - a mock OpenID Provider for stepupd's integration tests and demo.
 *
 * It is a correct, minimal OP for the authorization code flow with PKCE (S256),
 * the `claims` request parameter (acr / acrs), RFC 9207 `iss` in the
 * authorization response and three client authentication methods at the token
 * endpoint (client_secret_basic, client_secret_post, private_key_jwt). Login is
 * browserless: the user is taken from `login_hint` (default "alice").
 *
 * On command (GET /_mock/fault?set=NAME) it misbehaves in one of the ways a
 * relying party must detect: bad signatures, alg confusion, unknown keys,
 * wrong claims, error responses, broken token endpoint answers, a lying
 * discovery document and so on. See tests/mock/README.md for the list.
 *
 * Everything is kept in memory. Keys are generated at start-up with cjose.
 * The HTTP server is libmicrohttpd with a thread per connection, so a slow
 * answer (token_slow) does not block other requests; shared state is guarded
 * by one mutex, signing by another.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#define MOCK_NAME "mock_op"
#include "mock_common.h"

#define MAX_BODY (64 * 1024)
#define CODE_TTL 60
#define TOKEN_TTL 300
#define OLD_SESSION 7200
#define MAX_CODES 4096
#define JTI_RING 256
#define SLOW_SECONDS 30
#define OVERSIZE_BYTES (2 * 1024 * 1024)
#define EVIL_ISSUER "http://evil.example"
#define LOA1 "urn:test:loa:1"
#define LOA3 "urn:test:loa:3"

/* ------------------------------------------------------------------ faults */

enum fault {
	F_NONE,
	F_BAD_SIG,
	F_ALG_NONE,
	F_HS256_PUBKEY,
	F_UNKNOWN_KID,
	F_NO_KID_MULTI,
	F_ROTATE,
	F_ES256,
	F_WRONG_ISS,
	F_WRONG_AUD,
	F_MISSING_AUD,
	F_MISSING_IAT,
	F_MISSING_SUB,
	F_WRONG_SUB,
	F_WRONG_NONCE,
	F_MISSING_NONCE,
	F_EXPIRED,
	F_ACR_LOW,
	F_ACRS_MISSING,
	F_ACRS_WRONG,
	F_AUTH_TIME_OLD,
	F_AUTH_TIME_MISSING,
	F_WRONG_AZP,
	F_ERROR_RESPONSE,
	F_UNMET,
	F_ISS_PARAM_WRONG,
	F_ISS_PARAM_MISSING,
	F_TOKEN_ERROR,
	F_TOKEN_OVERSIZED,
	F_TOKEN_MALFORMED,
	F_TOKEN_NO_ID_TOKEN,
	F_TOKEN_SLOW,
	F_DISCOVERY_WRONG_ISSUER,
	F_JWKS_GARBAGE,
	F_COUNT
};

static const char *const fault_names[F_COUNT] = {
	[F_NONE] = "none",
	[F_BAD_SIG] = "bad_sig",
	[F_ALG_NONE] = "alg_none",
	[F_HS256_PUBKEY] = "hs256_pubkey",
	[F_UNKNOWN_KID] = "unknown_kid",
	[F_NO_KID_MULTI] = "no_kid_multi",
	[F_ROTATE] = "rotate",
	[F_ES256] = "es256",
	[F_WRONG_ISS] = "wrong_iss",
	[F_WRONG_AUD] = "wrong_aud",
	[F_MISSING_AUD] = "missing_aud",
	[F_MISSING_IAT] = "missing_iat",
	[F_MISSING_SUB] = "missing_sub",
	[F_WRONG_SUB] = "wrong_sub",
	[F_WRONG_NONCE] = "wrong_nonce",
	[F_MISSING_NONCE] = "missing_nonce",
	[F_EXPIRED] = "expired",
	[F_ACR_LOW] = "acr_low",
	[F_ACRS_MISSING] = "acrs_missing",
	[F_ACRS_WRONG] = "acrs_wrong",
	[F_AUTH_TIME_OLD] = "auth_time_old",
	[F_AUTH_TIME_MISSING] = "auth_time_missing",
	[F_WRONG_AZP] = "wrong_azp",
	[F_ERROR_RESPONSE] = "error_response",
	[F_UNMET] = "unmet",
	[F_ISS_PARAM_WRONG] = "iss_param_wrong",
	[F_ISS_PARAM_MISSING] = "iss_param_missing",
	[F_TOKEN_ERROR] = "token_error",
	[F_TOKEN_OVERSIZED] = "token_oversized",
	[F_TOKEN_MALFORMED] = "token_malformed",
	[F_TOKEN_NO_ID_TOKEN] = "token_no_id_token",
	[F_TOKEN_SLOW] = "token_slow",
	[F_DISCOVERY_WRONG_ISSUER] = "discovery_wrong_issuer",
	[F_JWKS_GARBAGE] = "jwks_garbage",
};

/* ------------------------------------------------------------------ state */

struct config {
	unsigned port;
	const char *host;
	char *issuer;	   /* exact, as given */
	char *base;	   /* issuer without a trailing '/' (endpoint prefix) */
	char *path_prefix; /* path part of base, "" when the issuer has none */
	const char *client_id;
	const char *client_secret;
	const char *redirect_uri;
	const char *client_jwk_file;
	const char *port_file;
	char *token_endpoint;
};

struct code_rec {
	struct code_rec *next;
	char *code;
	time_t expires;
	char *client_id;
	char *redirect_uri;
	char *challenge;
	char *nonce;
	char *user;
	char *acr;     /* NULL: none */
	json_t *acrs;  /* array or NULL */
	json_t *amr;   /* array */
	time_t auth_time;
	enum fault fault;
};

struct jti_seen {
	char *jti;
	time_t exp;
};

static struct config cfg = { .host = "127.0.0.1" };

static cjose_jwk_t *key_k1, *key_k2, *key_k3, *key_k4, *key_e1;
static cjose_jwk_t *client_jwk;  /* for private_key_jwt, may be NULL */
static char *k1_pem;		 /* k1 public key, SubjectPublicKeyInfo PEM */
static size_t k1_pem_len;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* everything below */
static enum fault cur_fault = F_NONE;
static bool k3_published;
static struct code_rec *codes;
static size_t ncodes;
static struct jti_seen jtis[JTI_RING];
static size_t jti_next;
static unsigned long n_jwks, n_token, n_authorize, n_discovery;

static pthread_mutex_t sign_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stopping;

/* ------------------------------------------------------------------ helpers */

static const char b64url_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; returns a malloc'd NUL-terminated string */
static char *b64url_encode(const unsigned char *in, size_t len)
{
	char *out = xmalloc(len / 3 * 4 + 5), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = b64url_chars[v >> 18 & 63];
		*o++ = b64url_chars[v >> 12 & 63];
		*o++ = b64url_chars[v >> 6 & 63];
		*o++ = b64url_chars[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*o++ = b64url_chars[v >> 18 & 63];
		*o++ = b64url_chars[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = b64url_chars[v >> 18 & 63];
		*o++ = b64url_chars[v >> 12 & 63];
		*o++ = b64url_chars[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* decodes base64 or base64url, padding optional; NULL on bad input.
 * The result is NUL-terminated (not counted in *outlen). */
static unsigned char *b64_decode(const char *in, size_t len, size_t *outlen)
{
	unsigned char *out;
	size_t o = 0, i, n = 0;
	uint32_t acc = 0;

	while (len > 0 && in[len - 1] == '=')
		len--;
	out = xmalloc(len / 4 * 3 + 4);
	for (i = 0; i < len; i++) {
		int v = b64_value(in[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++n == 4) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			n = 0;
			acc = 0;
		}
	}
	if (n == 1) {
		free(out);
		return NULL;
	}
	if (n == 2) {
		out[o++] = (unsigned char)(acc >> 4);
	} else if (n == 3) {
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static char *random_token(size_t nbytes)
{
	unsigned char buf[64];

	if (nbytes > sizeof buf || RAND_bytes(buf, (int)nbytes) != 1)
		die("RAND_bytes failed");
	return b64url_encode(buf, nbytes);
}

/* percent-encodes everything except RFC 3986 unreserved characters */
static char *url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(s);
	char *out = xmalloc(len * 3 + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* form-urlencoded decode of in[0..len) ('+' is a space); NULL on a bad escape
 * or an embedded NUL */
static char *form_decode(const char *in, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '+') {
			*o++ = ' ';
		} else if (in[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = in[i];
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static bool streq_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}

/* ------------------------------------------------------------------ form bodies */

struct form {
	size_t n;
	char *k[64];
	char *v[64];
	bool dup;	/* a parameter appeared twice */
	bool bad;	/* malformed encoding or too many parameters */
};

static void form_parse(struct form *f, const char *body, size_t len)
{
	size_t i = 0;

	memset(f, 0, sizeof *f);
	while (i < len) {
		size_t j = i, eq;
		char *k, *v;

		while (j < len && body[j] != '&')
			j++;
		if (j > i) {
			for (eq = i; eq < j && body[eq] != '='; eq++)
				;
			k = form_decode(body + i, eq - i);
			v = form_decode(body + (eq < j ? eq + 1 : j), eq < j ? j - eq - 1 : 0);
			if (!k || !v || f->n == 64) {
				free(k);
				free(v);
				f->bad = true;
				return;
			}
			for (size_t m = 0; m < f->n; m++)
				if (strcmp(f->k[m], k) == 0)
					f->dup = true;
			f->k[f->n] = k;
			f->v[f->n] = v;
			f->n++;
		}
		i = j + 1;
	}
}

static const char *form_get(const struct form *f, const char *k)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->k[i], k) == 0)
			return f->v[i];
	return NULL;
}

static void form_free(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->k[i]);
		free(f->v[i]);
	}
	f->n = 0;
}

/* ------------------------------------------------------------------ keys */

static cjose_jwk_t *gen_rsa(const char *kid)
{
	static const uint8_t e[] = { 1, 0, 1 };
	cjose_err err;
	cjose_jwk_t *k = cjose_jwk_create_RSA_random(2048, e, sizeof e, &err);

	if (!k || !cjose_jwk_set_kid(k, kid, strlen(kid), &err))
		die("RSA key generation failed: %s", err.message);
	return k;
}

static BIGNUM *bn_from_b64url(const char *s)
{
	size_t len;
	unsigned char *raw = b64_decode(s, strlen(s), &len);
	BIGNUM *bn;

	if (!raw)
		return NULL;
	bn = BN_bin2bn(raw, (int)len, NULL);
	free(raw);
	return bn;
}

/* SubjectPublicKeyInfo PEM of an RSA JWK's public part (for hs256_pubkey) */
static char *rsa_jwk_to_pem(const cjose_jwk_t *jwk, size_t *pemlen)
{
	cjose_err err;
	char *js = cjose_jwk_to_json(jwk, false, &err);
	json_t *j = js ? json_loads(js, 0, NULL) : NULL;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *pem = NULL, *data;
	long dlen;

	if (!j)
		goto out;
	n = bn_from_b64url(json_string_value(json_object_get(j, "n")) ?: "");
	e = bn_from_b64url(json_string_value(json_object_get(j, "e")) ?: "");
	if (!n || !e || !(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    !(bio = BIO_new(BIO_s_mem())) || PEM_write_bio_PUBKEY(bio, pkey) != 1)
		goto out;
	dlen = BIO_get_mem_data(bio, &data);
	if (dlen <= 0)
		goto out;
	pem = xmalloc((size_t)dlen + 1);
	memcpy(pem, data, (size_t)dlen);
	pem[dlen] = '\0';
	*pemlen = (size_t)dlen;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	json_decref(j);
	if (js)
		cjose_get_dealloc()(js);
	return pem;
}

static char *bn_to_b64url(const BIGNUM *bn)
{
	int len = BN_num_bytes(bn);
	unsigned char *raw = xmalloc((size_t)len);
	char *s;

	BN_bn2bin(bn, raw);
	s = b64url_encode(raw, (size_t)len);
	free(raw);
	return s;
}

/* an RSA public key from PEM (public key, private key or certificate) as a JWK */
static cjose_jwk_t *pem_to_jwk(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	cjose_jwk_t *jwk = NULL;

	if (!bio)
		return NULL;
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!pkey) {
		(void)BIO_reset(bio);
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	}
	if (!pkey) {
		X509 *x;

		(void)BIO_reset(bio);
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (x) {
			pkey = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	if (pkey && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
		char *sn = bn_to_b64url(n), *se = bn_to_b64url(e);
		char *js = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", sn, se);
		cjose_err err;

		jwk = cjose_jwk_import(js, strlen(js), &err);
		free(sn);
		free(se);
		free(js);
	}
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return jwk;
}

static void load_client_jwk(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	json_t *j;
	cjose_err err;

	if (!f)
		die("cannot open --client-jwk %s: %s", path, strerror(errno));
	buf = xmalloc(MAX_BODY + 1);
	len = fread(buf, 1, MAX_BODY, f);
	fclose(f);
	buf[len] = '\0';
	j = json_loads(buf, 0, NULL);
	if (j) {
		json_t *k = j;

		if (json_is_array(json_object_get(j, "keys")))
			k = json_array_get(json_object_get(j, "keys"), 0);
		if (k) {
			char *ks = json_dumps(k, JSON_COMPACT);

			if (ks) {
				client_jwk = cjose_jwk_import(ks, strlen(ks), &err);
				free(ks);
			}
		}
		json_decref(j);
	} else {
		client_jwk = pem_to_jwk(buf, len);
	}
	free(buf);
	if (!client_jwk)
		die("--client-jwk %s: not a usable JWK, JWKS or RSA PEM", path);
}

static void init_keys(void)
{
	cjose_err err;

	key_k1 = gen_rsa("k1");
	key_k2 = gen_rsa("k2");
	key_k3 = gen_rsa("k3");
	key_k4 = gen_rsa("k4");
	key_e1 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
	if (!key_e1 || !cjose_jwk_set_kid(key_e1, "e1", 2, &err))
		die("EC key generation failed: %s", err.message);
	k1_pem = rsa_jwk_to_pem(key_k1, &k1_pem_len);
	if (!k1_pem)
		die("cannot export k1 as PEM");
}

static json_t *public_jwk(const cjose_jwk_t *k, const char *alg)
{
	cjose_err err;
	char *js = cjose_jwk_to_json(k, false, &err);
	json_t *j;

	if (!js)
		die("cjose_jwk_to_json: %s", err.message);
	j = json_loads(js, 0, NULL);
	cjose_get_dealloc()(js);
	if (!j)
		die("cannot parse own JWK");
	json_object_set_new(j, "kid", json_string(cjose_jwk_get_kid(k, &err)));
	json_object_set_new(j, "use", json_string("sig"));
	json_object_set_new(j, "alg", json_string(alg));
	return j;
}

/* ------------------------------------------------------------------ JWT */

static char *json_compact(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (!s)
		die("json_dumps failed");
	return s;
}

/* compact JWS. alg "none" and "HS256" (keyed with k1's PEM) are built by hand,
 * anything else is signed by cjose with `key`. kid NULL: no kid header. */
static char *sign_jwt(const char *alg, const cjose_jwk_t *key, const char *kid,
		      const char *payload)
{
	if (strcmp(alg, "none") == 0 || strcmp(alg, "HS256") == 0) {
		json_t *h = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
		char *hs, *h64, *p64, *input, *out;

		if (kid)
			json_object_set_new(h, "kid", json_string(kid));
		hs = json_compact(h);
		h64 = b64url_encode((const unsigned char *)hs, strlen(hs));
		p64 = b64url_encode((const unsigned char *)payload, strlen(payload));
		input = xasprintf("%s.%s", h64, p64);
		if (strcmp(alg, "none") == 0) {
			out = xasprintf("%s.", input);
		} else {
			unsigned char mac[EVP_MAX_MD_SIZE];
			unsigned int maclen = 0;
			char *s64;

			if (!HMAC(EVP_sha256(), k1_pem, (int)k1_pem_len,
				  (const unsigned char *)input, strlen(input), mac, &maclen))
				die("HMAC failed");
			s64 = b64url_encode(mac, maclen);
			out = xasprintf("%s.%s", input, s64);
			free(s64);
		}
		free(input);
		free(p64);
		free(h64);
		free(hs);
		json_decref(h);
		return out;
	}

	cjose_err err;
	cjose_header_t *h = cjose_header_new(&err);
	cjose_jws_t *jws;
	const char *compact = NULL;
	char *out = NULL;

	if (!h || !cjose_header_set(h, CJOSE_HDR_ALG, alg, &err) ||
	    (kid && !cjose_header_set(h, CJOSE_HDR_KID, kid, &err)) ||
	    !cjose_header_set(h, "typ", "JWT", &err))
		die("cjose header: %s", err.message);
	pthread_mutex_lock(&sign_lock);
	jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &err);
	if (jws && cjose_jws_export(jws, &compact, &err) && compact)
		out = xstrdup(compact);
	pthread_mutex_unlock(&sign_lock);
	if (!out)
		die("cjose_jws_sign: %s", err.message);
	cjose_jws_release(jws);
	cjose_header_release(h);
	return out;
}

/* flips bits in the middle of the signature, keeping the encoding valid */
static void corrupt_signature(char *jwt)
{
	char *dot = strrchr(jwt, '.');
	size_t len;
	unsigned char *sig;
	char *enc;

	if (!dot || !dot[1])
		return;
	sig = b64_decode(dot + 1, strlen(dot + 1), &len);
	if (!sig || len == 0) {
		free(sig);
		return;
	}
	sig[len / 2] ^= 0xA5;
	sig[len / 2 + (len > 1)] ^= 0x5A;
	enc = b64url_encode(sig, len);
	if (strlen(enc) == strlen(dot + 1))
		memcpy(dot + 1, enc, strlen(enc));
	free(enc);
	free(sig);
}

static char *make_id_token(const struct code_rec *c)
{
	time_t now = time(NULL);
	json_t *p = json_object();
	enum fault f = c->fault;
	char *payload, *jwt;

	json_object_set_new(p, "iss", json_string(f == F_WRONG_ISS ? EVIL_ISSUER : cfg.issuer));
	if (f == F_WRONG_SUB)
		json_object_set_new(p, "sub", json_string("mallory"));
	else if (f != F_MISSING_SUB)
		json_object_set_new(p, "sub", json_string(c->user));
	if (f == F_WRONG_AUD)
		json_object_set_new(p, "aud", json_string("some-other-client"));
	else if (f != F_MISSING_AUD)
		json_object_set_new(p, "aud", json_string(c->client_id));
	if (f == F_EXPIRED) {
		json_object_set_new(p, "exp", json_integer((json_int_t)(now - 600)));
		json_object_set_new(p, "iat", json_integer((json_int_t)(now - 900)));
	} else {
		json_object_set_new(p, "exp", json_integer((json_int_t)(now + TOKEN_TTL)));
		if (f != F_MISSING_IAT)
			json_object_set_new(p, "iat", json_integer((json_int_t)now));
	}
	if (f == F_WRONG_NONCE)
		json_object_set_new(p, "nonce", json_string("not-the-nonce-you-sent"));
	else if (f != F_MISSING_NONCE)
		json_object_set_new(p, "nonce", json_string(c->nonce));
	if (f == F_AUTH_TIME_OLD)
		json_object_set_new(p, "auth_time", json_integer((json_int_t)(now - OLD_SESSION)));
	else if (f != F_AUTH_TIME_MISSING)
		json_object_set_new(p, "auth_time", json_integer((json_int_t)c->auth_time));
	if (f == F_ACR_LOW) {
		json_object_set_new(p, "acr", json_string(LOA1));
		json_object_set_new(p, "amr", json_pack("[s]", "pwd"));
	} else {
		if (c->acr)
			json_object_set_new(p, "acr", json_string(c->acr));
		if (f == F_ACRS_WRONG)
			json_object_set_new(p, "acrs", json_pack("[s]", "c9"));
		else if (c->acrs && f != F_ACRS_MISSING)
			json_object_set(p, "acrs", c->acrs);
		json_object_set(p, "amr", c->amr);
	}
	{
		char *email = strchr(c->user, '@') ? xstrdup(c->user)
						   : xasprintf("%s@example.test", c->user);

		json_object_set_new(p, "email", json_string(email));
		free(email);
	}
	json_object_set_new(p, "azp", json_string(f == F_WRONG_AZP ? "some-other-client" : c->client_id));
	/* groups, for stepupd's admin sign-in: only "root-admin" is an admin */
	json_object_set_new(p, "groups", strcmp(c->user, "root-admin") == 0
						 ? json_pack("[ss]", "staff", "stepupd-admins")
						 : json_pack("[s]", "staff"));

	payload = json_compact(p);
	json_decref(p);
	switch (f) {
	case F_ALG_NONE:
		jwt = sign_jwt("none", NULL, NULL, payload);
		break;
	case F_HS256_PUBKEY:
		jwt = sign_jwt("HS256", NULL, "k1", payload);
		break;
	case F_UNKNOWN_KID: {
		bool pub;

		pthread_mutex_lock(&lock);
		pub = k3_published;
		pthread_mutex_unlock(&lock);
		jwt = pub ? sign_jwt("RS256", key_k4, "k4", payload)
			  : sign_jwt("RS256", key_k3, "k3", payload);
		break;
	}
	case F_NO_KID_MULTI:
		jwt = sign_jwt("RS256", key_k1, NULL, payload);
		break;
	case F_ROTATE:
		jwt = sign_jwt("RS256", key_k3, "k3", payload);
		break;
	case F_ES256:
		jwt = sign_jwt("ES256", key_e1, "e1", payload);
		break;
	case F_BAD_SIG:
		jwt = sign_jwt("RS256", key_k1, "k1", payload);
		corrupt_signature(jwt);
		break;
	default:
		jwt = sign_jwt("RS256", key_k1, "k1", payload);
		break;
	}
	free(payload);
	return jwt;
}

/* ------------------------------------------------------------------ codes */

static void code_free(struct code_rec *c)
{
	if (!c)
		return;
	free(c->code);
	free(c->client_id);
	free(c->redirect_uri);
	free(c->challenge);
	free(c->nonce);
	free(c->user);
	free(c->acr);
	json_decref(c->acrs);
	json_decref(c->amr);
	free(c);
}

/* with `lock` held */
static void codes_purge(time_t now)
{
	struct code_rec **pp = &codes;

	while (*pp) {
		if ((*pp)->expires <= now) {
			struct code_rec *dead = *pp;

			*pp = dead->next;
			code_free(dead);
			ncodes--;
		} else {
			pp = &(*pp)->next;
		}
	}
}

/* with `lock` held: finds a live code; `take` unlinks it (single use) */
static struct code_rec *code_find(const char *code, bool take)
{
	struct code_rec **pp;

	codes_purge(time(NULL));
	for (pp = &codes; *pp; pp = &(*pp)->next) {
		if (streq_ct((*pp)->code, code)) {
			struct code_rec *c = *pp;

			if (take) {
				*pp = c->next;
				c->next = NULL;
				ncodes--;
			}
			return c;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ HTTP */

struct req {
	char *body;
	size_t len;
	bool too_big;
};

static enum MHD_Result reply_h(struct MHD_Connection *conn, const char *method, const char *url,
			       unsigned status, const char *ctype, const char *body, size_t len,
			       bool must_free, const char *const *hdrs)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
					    must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (!r) {
		if (must_free)
			free((void *)body);
		return MHD_NO;
	}
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	for (; hdrs && hdrs[0]; hdrs += 2)
		MHD_add_response_header(r, hdrs[0], hdrs[1]);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	logmsg("%s %s -> %u (%zu bytes)", method, url, status, len);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, const char *method, const char *url,
				  unsigned status, const char *text)
{
	return reply_h(conn, method, url, status, "text/plain; charset=utf-8", text, strlen(text),
		       false, NULL);
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, const char *method, const char *url,
				  unsigned status, json_t *j, bool no_store)
{
	static const char *const ns[] = { "Cache-Control", "no-store", "Pragma", "no-cache", NULL };
	char *s = json_compact(j);

	json_decref(j);
	return reply_h(conn, method, url, status, "application/json", s, strlen(s), true,
		       no_store ? ns : NULL);
}

static enum MHD_Result oauth_error(struct MHD_Connection *conn, const char *method, const char *url,
				   unsigned status, const char *error, const char *desc)
{
	static const char *const www[] = { "WWW-Authenticate", "Basic realm=\"mock_op\"",
					   "Cache-Control", "no-store", NULL };
	char *s;
	json_t *j = json_pack("{s:s, s:s}", "error", error, "error_description", desc);

	logmsg("token error %s: %s", error, desc);
	s = json_compact(j);
	json_decref(j);
	return reply_h(conn, method, url, status, "application/json", s, strlen(s), true,
		       status == 401 ? www : www + 2);
}

static enum MHD_Result redirect(struct MHD_Connection *conn, const char *method, const char *url,
				const char *location)
{
	const char *hdrs[] = { "Location", location, "Cache-Control", "no-store", NULL };
	char *esc = html_escape(location);
	char *body = xasprintf("<!doctype html><a href=\"%s\">continue</a>\n", esc);
	enum MHD_Result r;

	free(esc);
	logmsg("redirect to %s", location);
	r = reply_h(conn, method, url, 302, "text/html; charset=utf-8", body, strlen(body), true,
		    hdrs);
	return r;
}

static const char *qarg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ------------------------------------------------------------------ discovery, JWKS */

static enum MHD_Result h_discovery(struct MHD_Connection *conn, const char *method, const char *url)
{
	enum fault f;
	json_t *j;
	char *authz = xasprintf("%s/authorize", cfg.base);
	char *jwks = xasprintf("%s/jwks", cfg.base);

	pthread_mutex_lock(&lock);
	f = cur_fault;
	n_discovery++;
	pthread_mutex_unlock(&lock);
	j = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:[s], s:[s], s:[s,s], s:[s,s,s],"
		      " s:b, s:[s], s:[s,s,s], s:[s,s], s:b, s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s],"
		      " s:[s,s,s], s:b, s:b}",
		      "issuer", f == F_DISCOVERY_WRONG_ISSUER ? EVIL_ISSUER : cfg.issuer,
		      "authorization_endpoint", authz,
		      "token_endpoint", cfg.token_endpoint,
		      "jwks_uri", jwks,
		      "response_types_supported", "code",
		      "response_modes_supported", "query",
		      "subject_types_supported", "public",
		      "id_token_signing_alg_values_supported", "RS256", "ES256",
		      "scopes_supported", "openid", "email", "profile",
		      "claims_parameter_supported", 1,
		      "code_challenge_methods_supported", "S256",
		      "token_endpoint_auth_methods_supported", "client_secret_basic",
		      "client_secret_post", "private_key_jwt",
		      "token_endpoint_auth_signing_alg_values_supported", "RS256", "ES256",
		      "authorization_response_iss_parameter_supported", 1,
		      "claims_supported", "iss", "sub", "aud", "exp", "iat", "nonce", "auth_time",
		      "acr", "acrs", "amr", "email", "azp", "name", "preferred_username",
		      "acr_values_supported", LOA1, "urn:test:loa:2", LOA3,
		      "request_parameter_supported", 0,
		      "request_uri_parameter_supported", 0);
	free(authz);
	free(jwks);
	if (!j)
		return reply_text(conn, method, url, 500, "cannot build discovery document\n");
	json_object_set_new(j, "grant_types_supported", json_pack("[s]", "authorization_code"));
	return reply_json(conn, method, url, 200, j, false);
}

static enum MHD_Result h_jwks(struct MHD_Connection *conn, const char *method, const char *url)
{
	enum fault f;
	bool with_k3;
	json_t *keys;

	pthread_mutex_lock(&lock);
	f = cur_fault;
	with_k3 = k3_published;
	n_jwks++;
	pthread_mutex_unlock(&lock);
	if (f == F_JWKS_GARBAGE) {
		static const char garbage[] = "<html>this is not a JWKS {\"keys\": [</html>\n";

		return reply_h(conn, method, url, 200, "application/json", garbage,
			       sizeof garbage - 1, false, NULL);
	}
	keys = json_array();
	json_array_append_new(keys, public_jwk(key_k1, "RS256"));
	json_array_append_new(keys, public_jwk(key_k2, "RS256"));
	json_array_append_new(keys, public_jwk(key_e1, "ES256"));
	if (with_k3)
		json_array_append_new(keys, public_jwk(key_k3, "RS256"));
	return reply_json(conn, method, url, 200, json_pack("{s:o}", "keys", keys), false);
}

/* ------------------------------------------------------------------ authorize */

static bool valid_user(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 64)
		return false;
	for (; *u; u++)
		if (!((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		      (*u >= '0' && *u <= '9') || *u == '.' || *u == '_' || *u == '-' || *u == '@' ||
		      *u == '+'))
			return false;
	return true;
}

static bool pkce_syntax(const char *s)
{
	size_t n = strlen(s);

	if (n < 43 || n > 128)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-' || *s == '~'))
			return false;
	return true;
}

static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);

	if (!list)
		return false;
	while (*list) {
		size_t n;

		while (*list == ' ')
			list++;
		n = strcspn(list, " ");
		if (n == wl && strncmp(list, word, n) == 0)
			return true;
		list += n;
	}
	return false;
}

/* the requested values of a claims request member: {"value": v} or {"values": [..]}.
 * Returns a new array (possibly empty). */
static json_t *claim_values(const json_t *member)
{
	json_t *out = json_array(), *v;
	size_t i;

	if (!json_is_object(member))
		return out;
	v = json_object_get(member, "value");
	if (json_is_string(v))
		json_array_append(out, v);
	json_array_foreach(json_object_get(member, "values"), i, v)
		if (json_is_string(v))
			json_array_append(out, v);
	return out;
}

static char *build_location(const char *base_uri, const char *params)
{
	return xasprintf("%s%c%s", base_uri, strchr(base_uri, '?') ? '&' : '?', params);
}

static enum MHD_Result h_authorize(struct MHD_Connection *conn, const char *method, const char *url)
{
	const char *rt = qarg(conn, "response_type"), *cid = qarg(conn, "client_id");
	const char *ruri = qarg(conn, "redirect_uri"), *scope = qarg(conn, "scope");
	const char *state = qarg(conn, "state"), *nonce = qarg(conn, "nonce");
	const char *cc = qarg(conn, "code_challenge"), *ccm = qarg(conn, "code_challenge_method");
	const char *hint = qarg(conn, "login_hint"), *claims = qarg(conn, "claims");
	const char *acr_values = qarg(conn, "acr_values"), *max_age = qarg(conn, "max_age");
	const char *prompt = qarg(conn, "prompt");
	const char *user = hint && *hint ? hint : "alice";
	json_t *cj = NULL, *want_acrs = NULL, *want_acr = NULL;
	struct code_rec *c;
	enum fault f;
	time_t now = time(NULL);
	bool mfa;
	char *st_e, *iss_e, *params, *loc;
	const char *iss_part;
	enum MHD_Result r;

	pthread_mutex_lock(&lock);
	n_authorize++;
	f = cur_fault;
	pthread_mutex_unlock(&lock);

	if (!cid || strcmp(cid, cfg.client_id) != 0)
		return reply_text(conn, method, url, 400, "unknown or missing client_id\n");
	if (!ruri || strcmp(ruri, cfg.redirect_uri) != 0)
		return reply_text(conn, method, url, 400,
				  "redirect_uri missing or not the registered one\n");
	if (!rt || strcmp(rt, "code") != 0)
		return reply_text(conn, method, url, 400, "response_type must be code\n");
	if (!has_word(scope, "openid"))
		return reply_text(conn, method, url, 400, "scope must contain openid\n");
	if (!ccm || strcmp(ccm, "S256") != 0)
		return reply_text(conn, method, url, 400, "code_challenge_method must be S256\n");
	if (!cc || strlen(cc) != 43 || !pkce_syntax(cc))
		return reply_text(conn, method, url, 400, "code_challenge missing or malformed\n");
	if (!state || !*state)
		return reply_text(conn, method, url, 400, "state missing\n");
	if (!nonce || !*nonce)
		return reply_text(conn, method, url, 400, "nonce missing\n");
	if (!valid_user(user))
		return reply_text(conn, method, url, 400, "login_hint is not a user name\n");
	if (max_age && (!*max_age || strspn(max_age, "0123456789") != strlen(max_age)))
		return reply_text(conn, method, url, 400, "max_age must be a non-negative integer\n");
	if (claims) {
		json_t *idt;

		cj = json_loads(claims, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(cj)) {
			json_decref(cj);
			return reply_text(conn, method, url, 400, "claims is not a JSON object\n");
		}
		idt = json_object_get(cj, "id_token");
		if (json_object_get(idt, "acrs"))
			want_acrs = claim_values(json_object_get(idt, "acrs"));
		if (json_object_get(idt, "acr"))
			want_acr = claim_values(json_object_get(idt, "acr"));
		json_decref(cj);
	}
	if ((!want_acr || json_array_size(want_acr) == 0) && acr_values && *acr_values) {
		size_t n = strcspn(acr_values, " ");
		char *first = strndup(acr_values, n);

		if (!want_acr)
			want_acr = json_array();
		json_array_append_new(want_acr, json_string(first));
		free(first);
	}

	st_e = url_encode(state);
	iss_e = url_encode(f == F_ISS_PARAM_WRONG ? EVIL_ISSUER : cfg.issuer);
	iss_part = f == F_ISS_PARAM_MISSING ? "" : "&iss=";
	logmsg("authorize user=%s fault=%s max_age=%s prompt=%s acr_values=%s claims=%s", user,
	       fault_names[f], max_age ?: "-", prompt ?: "-", acr_values ?: "-", claims ?: "-");

	if (f == F_ERROR_RESPONSE || f == F_UNMET) {
		params = xasprintf("error=%s&error_description=%s&state=%s%s%s",
				   f == F_UNMET ? "unmet_authentication_requirements" : "access_denied",
				   f == F_UNMET ? "Authentication+context+not+reachable" : "User+cancelled",
				   st_e, iss_part, f == F_ISS_PARAM_MISSING ? "" : iss_e);
		loc = build_location(cfg.redirect_uri, params);
		r = redirect(conn, method, url, loc);
		free(loc);
		free(params);
		free(st_e);
		free(iss_e);
		json_decref(want_acr);
		json_decref(want_acrs);
		return r;
	}

	c = calloc(1, sizeof *c);
	if (!c)
		die("out of memory");
	c->code = random_token(32);
	c->expires = now + CODE_TTL;
	c->client_id = xstrdup(cid);
	c->redirect_uri = xstrdup(ruri);
	c->challenge = xstrdup(cc);
	c->nonce = xstrdup(nonce);
	c->user = xstrdup(user);
	c->fault = f;
	c->auth_time = (max_age || has_word(prompt, "login")) ? now : now - OLD_SESSION;
	/* "bob" and "bob@anything" have only a password; everyone else can do MFA */
	mfa = !(strncmp(user, "bob", 3) == 0 && (user[3] == '\0' || user[3] == '@'));
	if (mfa) {
		const char *a = json_string_value(json_array_get(want_acr, 0));

		c->acr = xstrdup(a ? a : LOA3);
		if (want_acrs && json_array_size(want_acrs) > 0)
			c->acrs = json_incref(want_acrs);
		c->amr = json_pack("[s,s]", "pwd", "mfa");
	} else {
		c->acr = xstrdup(LOA1);
		c->amr = json_pack("[s]", "pwd");
	}
	json_decref(want_acr);
	json_decref(want_acrs);

	params = xasprintf("code=%s&state=%s%s%s", c->code, st_e, iss_part,
			   f == F_ISS_PARAM_MISSING ? "" : iss_e);
	loc = build_location(cfg.redirect_uri, params);
	free(params);
	free(st_e);
	free(iss_e);

	pthread_mutex_lock(&lock);
	codes_purge(now);
	if (ncodes >= MAX_CODES) {
		pthread_mutex_unlock(&lock);
		code_free(c);
		free(loc);
		return reply_text(conn, method, url, 503, "too many outstanding codes\n");
	}
	c->next = codes;
	codes = c;
	ncodes++;
	pthread_mutex_unlock(&lock);

	r = redirect(conn, method, url, loc);
	free(loc);
	return r;
}

/* ------------------------------------------------------------------ token */

static bool aud_matches(const json_t *aud)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), cfg.token_endpoint) == 0 ||
		       strcmp(json_string_value(aud), cfg.issuer) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && (strcmp(json_string_value(v), cfg.token_endpoint) == 0 ||
					  strcmp(json_string_value(v), cfg.issuer) == 0))
			return true;
	return false;
}

/* verifies a private_key_jwt client assertion; returns NULL or a reason */
static const char *check_assertion(const char *assertion)
{
	cjose_err err;
	cjose_jws_t *jws;
	const char *alg, *why = NULL;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	json_t *cl = NULL, *exp;
	cjose_jwk_kty_t kty;
	const char *jti;
	time_t now = time(NULL);

	if (!client_jwk)
		return "private_key_jwt is not configured (no --client-jwk)";
	jws = cjose_jws_import(assertion, strlen(assertion), &err);
	if (!jws)
		return "client_assertion is not a JWS";
	alg = cjose_header_get(cjose_jws_get_protected(jws), CJOSE_HDR_ALG, &err);
	kty = cjose_jwk_get_kty(client_jwk, &err);
	if (!alg || !((kty == CJOSE_JWK_KTY_RSA && (strcmp(alg, "RS256") == 0 ||
						     strcmp(alg, "PS256") == 0)) ||
		      (kty == CJOSE_JWK_KTY_EC && strcmp(alg, "ES256") == 0))) {
		why = "client_assertion alg not allowed for the client's key";
		goto out;
	}
	if (!cjose_jws_verify(jws, client_jwk, &err)) {
		why = "client_assertion signature invalid";
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &pt, &ptlen, &err) ||
	    !(cl = json_loadb((const char *)pt, ptlen, 0, NULL)) || !json_is_object(cl)) {
		why = "client_assertion payload is not JSON";
		goto out;
	}
	if (!json_is_string(json_object_get(cl, "iss")) ||
	    strcmp(json_string_value(json_object_get(cl, "iss")), cfg.client_id) != 0 ||
	    !json_is_string(json_object_get(cl, "sub")) ||
	    strcmp(json_string_value(json_object_get(cl, "sub")), cfg.client_id) != 0) {
		why = "client_assertion iss/sub must be the client_id";
		goto out;
	}
	if (!aud_matches(json_object_get(cl, "aud"))) {
		why = "client_assertion aud must be the token endpoint";
		goto out;
	}
	exp = json_object_get(cl, "exp");
	if (!json_is_number(exp) || json_number_value(exp) <= (double)now) {
		why = "client_assertion exp missing or in the past";
		goto out;
	}
	jti = json_string_value(json_object_get(cl, "jti"));
	if (jti) {
		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < JTI_RING; i++)
			if (jtis[i].jti && jtis[i].exp > now && strcmp(jtis[i].jti, jti) == 0)
				why = "client_assertion jti replayed";
		if (!why) {
			free(jtis[jti_next].jti);
			jtis[jti_next].jti = xstrdup(jti);
			jtis[jti_next].exp = (time_t)json_number_value(exp);
			jti_next = (jti_next + 1) % JTI_RING;
		}
		pthread_mutex_unlock(&lock);
	}
out:
	json_decref(cl);
	cjose_jws_release(jws);
	return why;
}

static bool sleep_interruptible(int seconds)
{
	for (int i = 0; i < seconds * 10; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (atomic_load(&stopping))
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

static enum MHD_Result h_token(struct MHD_Connection *conn, const char *method, const char *url,
			       struct req *rq)
{
	const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	struct form f;
	const char *gt, *code, *ruri, *verifier, *b_id, *b_secret, *a_type, *assertion;
	char *basic_id = NULL, *basic_secret = NULL;
	int methods = 0;
	bool basic_used = false;
	struct code_rec *c = NULL;
	enum fault fault;
	enum MHD_Result r;
	const char *why;

	pthread_mutex_lock(&lock);
	n_token++;
	pthread_mutex_unlock(&lock);

	if (strcmp(method, "POST") != 0)
		return oauth_error(conn, method, url, 405, "invalid_request", "use POST");
	if (rq->too_big)
		return oauth_error(conn, method, url, 413, "invalid_request", "body too large");
	if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ctype[33] != '\0' && ctype[33] != ';' && ctype[33] != ' '))
		return oauth_error(conn, method, url, 400, "invalid_request",
				   "Content-Type must be application/x-www-form-urlencoded");
	form_parse(&f, rq->body ? rq->body : "", rq->len);
	if (f.bad || f.dup) {
		form_free(&f);
		return oauth_error(conn, method, url, 400, "invalid_request",
				   f.bad ? "malformed body" : "repeated parameter");
	}
	gt = form_get(&f, "grant_type");
	code = form_get(&f, "code");
	ruri = form_get(&f, "redirect_uri");
	verifier = form_get(&f, "code_verifier");
	b_id = form_get(&f, "client_id");
	b_secret = form_get(&f, "client_secret");
	a_type = form_get(&f, "client_assertion_type");
	assertion = form_get(&f, "client_assertion");

	/* the fault for this exchange: the one the code was issued under */
	pthread_mutex_lock(&lock);
	c = code ? code_find(code, false) : NULL;
	fault = c ? c->fault : cur_fault;
	c = NULL; /* only peeked: another thread may take it */
	pthread_mutex_unlock(&lock);
	if (fault == F_TOKEN_SLOW) {
		logmsg("token_slow: sleeping %d s", SLOW_SECONDS);
		if (!sleep_interruptible(SLOW_SECONDS)) {
			form_free(&f);
			return MHD_NO;
		}
	}

	/* client authentication: exactly one method */
	if (authz && strncasecmp(authz, "Basic ", 6) == 0) {
		size_t dlen;
		const char *p = authz + 6;
		unsigned char *dec;
		char *colon;

		while (*p == ' ')
			p++;
		dec = b64_decode(p, strlen(p), &dlen);
		basic_used = true;
		methods++;
		if (dec && memchr(dec, '\0', dlen) == NULL && (colon = strchr((char *)dec, ':'))) {
			basic_id = form_decode((char *)dec, (size_t)(colon - (char *)dec));
			basic_secret = form_decode(colon + 1, strlen(colon + 1));
		}
		free(dec);
	}
	if (b_secret)
		methods++;
	if (assertion || a_type)
		methods++;

	if (methods == 0) {
		r = oauth_error(conn, method, url, 401, "invalid_client", "no client authentication");
		goto done;
	}
	if (methods > 1) {
		r = oauth_error(conn, method, url, 400, "invalid_request",
				"more than one client authentication method");
		goto done;
	}
	if (basic_used) {
		if (!basic_id || !basic_secret || strcmp(basic_id, cfg.client_id) != 0 ||
		    !streq_ct(basic_secret, cfg.client_secret) ||
		    (b_id && strcmp(b_id, cfg.client_id) != 0)) {
			r = oauth_error(conn, method, url, 401, "invalid_client",
					"client_secret_basic: bad credentials");
			goto done;
		}
		logmsg("client authenticated: client_secret_basic");
	} else if (b_secret) {
		if (!b_id || strcmp(b_id, cfg.client_id) != 0 || !streq_ct(b_secret, cfg.client_secret)) {
			r = oauth_error(conn, method, url, 401, "invalid_client",
					"client_secret_post: bad credentials");
			goto done;
		}
		logmsg("client authenticated: client_secret_post");
	} else {
		if (!a_type ||
		    strcmp(a_type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") != 0 ||
		    !assertion) {
			r = oauth_error(conn, method, url, 401, "invalid_client",
					"bad client_assertion_type or no client_assertion");
			goto done;
		}
		if (b_id && strcmp(b_id, cfg.client_id) != 0) {
			r = oauth_error(conn, method, url, 401, "invalid_client",
					"client_id does not match");
			goto done;
		}
		why = check_assertion(assertion);
		if (why) {
			r = oauth_error(conn, method, url, 401, "invalid_client", why);
			goto done;
		}
		logmsg("client authenticated: private_key_jwt");
	}

	if (!gt || strcmp(gt, "authorization_code") != 0) {
		r = oauth_error(conn, method, url, 400, "unsupported_grant_type",
				"only authorization_code");
		goto done;
	}
	if (!code) {
		r = oauth_error(conn, method, url, 400, "invalid_request", "code missing");
		goto done;
	}
	/* consume the code now: single use, whatever happens next */
	pthread_mutex_lock(&lock);
	c = code_find(code, true);
	pthread_mutex_unlock(&lock);
	if (!c) {
		r = oauth_error(conn, method, url, 400, "invalid_grant",
				"code unknown, expired or already used");
		goto done;
	}
	if (fault == F_TOKEN_ERROR) {
		r = oauth_error(conn, method, url, 400, "invalid_grant", "fault token_error");
		goto done;
	}
	if (strcmp(c->client_id, cfg.client_id) != 0) {
		r = oauth_error(conn, method, url, 400, "invalid_grant", "code issued to another client");
		goto done;
	}
	if (!ruri || strcmp(ruri, c->redirect_uri) != 0) {
		r = oauth_error(conn, method, url, 400, "invalid_grant", "redirect_uri mismatch");
		goto done;
	}
	if (!verifier || !pkce_syntax(verifier)) {
		r = oauth_error(conn, method, url, 400, "invalid_grant",
				"code_verifier missing or malformed");
		goto done;
	}
	{
		unsigned char dig[SHA256_DIGEST_LENGTH];
		char *calc;
		bool ok;

		SHA256((const unsigned char *)verifier, strlen(verifier), dig);
		calc = b64url_encode(dig, sizeof dig);
		ok = streq_ct(calc, c->challenge);
		free(calc);
		if (!ok) {
			r = oauth_error(conn, method, url, 400, "invalid_grant",
					"PKCE verification failed");
			goto done;
		}
	}

	switch (fault) {
	case F_TOKEN_MALFORMED: {
		static const char trunc[] = "{\"id_token\":";

		r = reply_h(conn, method, url, 200, "application/json", trunc, sizeof trunc - 1,
			    false, NULL);
		goto done;
	}
	case F_TOKEN_NO_ID_TOKEN: {
		char *at = random_token(32);

		r = reply_json(conn, method, url, 200,
			       json_pack("{s:s, s:s, s:i}", "access_token", at, "token_type",
					 "Bearer", "expires_in", TOKEN_TTL),
			       true);
		free(at);
		goto done;
	}
	case F_TOKEN_OVERSIZED: {
		char *at = random_token(32), *idt = make_id_token(c);
		char *head = xasprintf("{\"access_token\":\"%s\",\"token_type\":\"Bearer\","
				       "\"expires_in\":%d,\"id_token\":\"%s\",\"padding\":\"",
				       at, TOKEN_TTL, idt);
		size_t hl = strlen(head);
		char *body = xmalloc(OVERSIZE_BYTES + 1);

		if (hl + 2 < OVERSIZE_BYTES) {
			memcpy(body, head, hl);
			memset(body + hl, 'A', OVERSIZE_BYTES - hl - 2);
			memcpy(body + OVERSIZE_BYTES - 2, "\"}", 2);
		}
		body[OVERSIZE_BYTES] = '\0';
		free(head);
		free(idt);
		free(at);
		r = reply_h(conn, method, url, 200, "application/json", body, OVERSIZE_BYTES, true,
			    NULL);
		goto done;
	}
	default:
		break;
	}

	{
		char *at = random_token(32), *idt = make_id_token(c);

		logmsg("issued id_token for %s (fault %s)", c->user, fault_names[fault]);
		r = reply_json(conn, method, url, 200,
			       json_pack("{s:s, s:s, s:i, s:s, s:s}", "access_token", at,
					 "token_type", "Bearer", "expires_in", TOKEN_TTL, "id_token",
					 idt, "scope", "openid"),
			       true);
		free(idt);
		free(at);
	}
done:
	code_free(c);
	form_free(&f);
	free(basic_id);
	free(basic_secret);
	return r;
}

/* ------------------------------------------------------------------ control, app */

static enum MHD_Result h_fault(struct MHD_Connection *conn, const char *method, const char *url)
{
	const char *set = qarg(conn, "set");
	enum fault f;
	char *body;

	if (set) {
		for (f = F_NONE; f < F_COUNT; f++)
			if (strcmp(set, fault_names[f]) == 0)
				break;
		if (f == F_COUNT) {
			char *msg = xasprintf("unknown fault \"%s\"\n", set);
			enum MHD_Result r = reply_text(conn, method, url, 400, msg);

			free(msg);
			return r;
		}
		pthread_mutex_lock(&lock);
		cur_fault = f;
		if (f == F_ROTATE)
			k3_published = true;
		pthread_mutex_unlock(&lock);
		logmsg("fault set to %s", fault_names[f]);
	}
	pthread_mutex_lock(&lock);
	f = cur_fault;
	pthread_mutex_unlock(&lock);
	body = xasprintf("%s\n", fault_names[f]);
	return reply_h(conn, method, url, 200, "text/plain; charset=utf-8", body, strlen(body), true,
		       NULL);
}

static enum MHD_Result h_faults(struct MHD_Connection *conn, const char *method, const char *url)
{
	json_t *a = json_array();

	for (int f = F_NONE; f < F_COUNT; f++)
		json_array_append_new(a, json_string(fault_names[f]));
	return reply_json(conn, method, url, 200, a, false);
}

static enum MHD_Result h_stats(struct MHD_Connection *conn, const char *method, const char *url)
{
	json_t *j;

	pthread_mutex_lock(&lock);
	codes_purge(time(NULL));
	j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:b}", "jwks_fetches", (json_int_t)n_jwks,
		      "token_requests", (json_int_t)n_token, "authorize_requests",
		      (json_int_t)n_authorize, "discovery_fetches", (json_int_t)n_discovery,
		      "outstanding_codes", (json_int_t)ncodes, "fault", fault_names[cur_fault],
		      "k3_published", k3_published);
	pthread_mutex_unlock(&lock);
	return reply_json(conn, method, url, 200, j, true);
}

static enum MHD_Result h_reset(struct MHD_Connection *conn, const char *method, const char *url)
{
	pthread_mutex_lock(&lock);
	cur_fault = F_NONE;
	k3_published = false;
	n_jwks = n_token = n_authorize = n_discovery = 0;
	pthread_mutex_unlock(&lock);
	logmsg("reset: fault none, k3 unpublished, counters zero");
	return reply_text(conn, method, url, 200, "reset\n");
}

static enum MHD_Result h_app(struct MHD_Connection *conn, const char *method, const char *url)
{
	char *esc = html_escape(url);
	char *body = xasprintf("<!doctype html>\n<html><head><meta charset=\"utf-8\">"
			       "<title>Test app</title></head>\n<body><h1>You are back at the app "
			       "(path %s)</h1></body></html>\n", esc);

	free(esc);
	return reply_h(conn, method, url, 200, "text/html; charset=utf-8", body, strlen(body), true,
		       NULL);
}

/* ------------------------------------------------------------------ dispatch */

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct req *rq = *con_cls;
	const char *path = url;
	size_t plen = strlen(cfg.path_prefix);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	(void)cls;
	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rq->too_big) {
			if (rq->len + *upload_data_size > MAX_BODY) {
				rq->too_big = true;
			} else {
				char *nb = realloc(rq->body, rq->len + *upload_data_size + 1);

				if (!nb)
					return MHD_NO;
				memcpy(nb + rq->len, upload_data, *upload_data_size);
				rq->len += *upload_data_size;
				nb[rq->len] = '\0';
				rq->body = nb;
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	/* endpoints live under the issuer's path; accept them at the root too */
	if (plen && strncmp(url, cfg.path_prefix, plen) == 0 && (url[plen] == '/' || !url[plen]))
		path = url[plen] ? url + plen : "/";

	if (strcmp(path, "/token") == 0)
		return h_token(conn, method, url, rq);
	if (!get)
		return reply_text(conn, method, url, 405, "method not allowed\n");
	if (strcmp(path, "/.well-known/openid-configuration") == 0)
		return h_discovery(conn, method, url);
	if (strcmp(path, "/jwks") == 0)
		return h_jwks(conn, method, url);
	if (strcmp(path, "/authorize") == 0)
		return h_authorize(conn, method, url);
	if (strcmp(path, "/_mock/fault") == 0)
		return h_fault(conn, method, url);
	if (strcmp(path, "/_mock/faults") == 0)
		return h_faults(conn, method, url);
	if (strcmp(path, "/_mock/stats") == 0)
		return h_stats(conn, method, url);
	if (strcmp(path, "/_mock/reset") == 0)
		return h_reset(conn, method, url);
	if (strcmp(path, "/_mock/k1.pem") == 0)
		return reply_h(conn, method, url, 200, "application/x-pem-file", k1_pem, k1_pem_len,
			       false, NULL);
	if (strcmp(path, "/app") == 0 || strncmp(path, "/app/", 5) == 0)
		return h_app(conn, method, url);
	return reply_text(conn, method, url, 404, "not found\n");
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* ------------------------------------------------------------------ main */

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fputs("usage: mock_op --port N [--host 127.0.0.1] [--issuer URL] --client-id ID\n"
	      "               --client-secret S --redirect-uri URI [--client-jwk FILE]\n"
	      "               [--port-file FILE]\n"
	      "  --port 0 picks a free port (see --port-file); --issuer defaults to\n"
	      "  http://HOST:PORT. --client-jwk: the client's public key (JWK, JWKS or\n"
	      "  RSA PEM) for private_key_jwt. See tests/mock/README.md.\n",
	      stderr);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	bool have_port = false;
	const char *issuer = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			usage();
		if (!v)
			usage();
		i++;
		if (strcmp(a, "--port") == 0) {
			char *end;
			unsigned long p = strtoul(v, &end, 10);

			if (*end || !*v || p > 65535)
				die("bad --port %s", v);
			cfg.port = (unsigned)p;
			have_port = true;
		} else if (strcmp(a, "--host") == 0) {
			cfg.host = v;
		} else if (strcmp(a, "--issuer") == 0) {
			issuer = v;
		} else if (strcmp(a, "--client-id") == 0) {
			cfg.client_id = v;
		} else if (strcmp(a, "--client-secret") == 0) {
			cfg.client_secret = v;
		} else if (strcmp(a, "--redirect-uri") == 0) {
			cfg.redirect_uri = v;
		} else if (strcmp(a, "--client-jwk") == 0) {
			cfg.client_jwk_file = v;
		} else if (strcmp(a, "--port-file") == 0) {
			cfg.port_file = v;
		} else {
			fprintf(stderr, "mock_op: unknown option %s\n", a);
			usage();
		}
	}
	if (!have_port || !cfg.client_id || !cfg.client_secret || !cfg.redirect_uri)
		usage();
	if (issuer)
		cfg.issuer = xstrdup(issuer);
}

static void set_issuer_parts(void)
{
	const char *p;
	size_t n;

	cfg.base = xstrdup(cfg.issuer);
	n = strlen(cfg.base);
	while (n > 0 && cfg.base[n - 1] == '/')
		cfg.base[--n] = '\0';
	p = strstr(cfg.base, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	cfg.path_prefix = xstrdup(p ? p : "");
	cfg.token_endpoint = xasprintf("%s/token", cfg.base);
}

int main(int argc, char **argv)
{
	int lsock;
	bool ipv6;
	sigset_t sigs;
	struct MHD_Daemon *d;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_ERROR_LOG;
	int sig = 0;

	parse_args(argc, argv);
	if (cfg.client_jwk_file)
		load_client_jwk(cfg.client_jwk_file);

	/* bind here so the port (for --port 0) and the issuer are known before
	 * the first request can arrive */
	lsock = mock_listen(cfg.host, &cfg.port, &ipv6);
	if (ipv6)
		flags |= MHD_USE_IPv6;
	if (!cfg.issuer) {
		bool v6 = strchr(cfg.host, ':') != NULL;

		cfg.issuer = xasprintf("http://%s%s%s:%u", v6 ? "[" : "", cfg.host, v6 ? "]" : "",
				       cfg.port);
	}
	set_issuer_parts();

	init_keys();

	/* signals are handled by sigwait in this thread; MHD threads inherit the mask */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	d = MHD_start_daemon(flags, (uint16_t)cfg.port, NULL, NULL, handler, NULL,
			     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lsock,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
			     MHD_OPTION_END);
	if (!d)
		die("cannot start the HTTP daemon on %s:%u", cfg.host, cfg.port);
	if (cfg.port_file)
		mock_write_port_file(cfg.port_file, cfg.port);
	logmsg("listening on %s port %u, issuer %s, client %s, redirect_uri %s%s", cfg.host,
	       cfg.port, cfg.issuer, cfg.client_id, cfg.redirect_uri,
	       client_jwk ? ", private_key_jwt enabled" : "");

	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		;
	logmsg("signal %d, stopping", sig);
	atomic_store(&stopping, true);
	MHD_stop_daemon(d);

	while (codes) {
		struct code_rec *c = codes;

		codes = c->next;
		code_free(c);
	}
	for (size_t i = 0; i < JTI_RING; i++)
		free(jtis[i].jti);
	cjose_jwk_release(key_k1);
	cjose_jwk_release(key_k2);
	cjose_jwk_release(key_k3);
	cjose_jwk_release(key_k4);
	cjose_jwk_release(key_e1);
	if (client_jwk)
		cjose_jwk_release(client_jwk);
	free(k1_pem);
	free(cfg.issuer);
	free(cfg.base);
	free(cfg.path_prefix);
	free(cfg.token_endpoint);
	return 0;
}
