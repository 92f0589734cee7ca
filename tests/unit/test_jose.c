/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_jose.c: JWKS parsing, JWS verification and client assertions. Keys
 * are made at run time (two RSA-2048 and one EC P-256 with cjose, one RSA
 * with OpenSSL for the PEM paths); tokens are signed with cjose or, for the
 * attacks cjose will not produce (alg none, HS256 keyed with the RSA public
 * key, duplicate members), assembled by hand.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jose.h"
#include "t.h"
#include "xcrypt.h"

static cjose_jwk_t *rsa1, *rsa2, *ec1;
static const char *const only_rs256[] = { "RS256", NULL };
static const char *const rs_es[] = { "RS256", "ES256", "ES384", "PS256", NULL };

/* b64() returns base64url(p, n), malloc'd. */
static char *
b64(const void *p, size_t n)
{
	size_t sz = n / 3 * 4 + 8;
	char *o = malloc(sz);

	if (o != NULL && xcrypt_b64url_encode(p, n, o, sz) == 0 && n > 0) {
		free(o);
		return NULL;
	}
	return o;
}

/* pubjwk() returns the public JWK of k as a json object, with use/alg added. */
static json_t *
pubjwk(const cjose_jwk_t *k, const char *use, const char *alg)
{
	cjose_err cerr;
	char *s = cjose_jwk_to_json(k, false, &cerr);
	json_t *o = json_loads(s, 0, NULL);

	cjose_get_dealloc()(s);
	if (use != NULL)
		json_object_set_new(o, "use", json_string(use));
	if (alg != NULL)
		json_object_set_new(o, "alg", json_string(alg));
	return o;
}

/* mkjwks() wraps up to 4 JWK objects (stolen) in {"keys":[...]} text. */
static char *
mkjwks(json_t *a, json_t *b, json_t *c, json_t *d)
{
	json_t *keys = json_array(), *root;
	char *s;

	if (a != NULL)
		json_array_append_new(keys, a);
	if (b != NULL)
		json_array_append_new(keys, b);
	if (c != NULL)
		json_array_append_new(keys, c);
	if (d != NULL)
		json_array_append_new(keys, d);
	root = json_pack("{s:o}", "keys", keys);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}

/* parse() parses a JWKS text (freeing it) into a keyset, NULL on failure. */
static struct jose_keyset *
parse(char *jwks)
{
	struct jose_keyset *ks = NULL;
	char err[256];

	if (jose_keyset_parse(jwks, strlen(jwks), &ks, err, sizeof(err)) != SU_OK)
		printf("# keyset: %s\n", err);
	free(jwks);
	return ks;
}

/* sign() signs payload with cjose; hdr_extra (JSON object text) is merged into the header. */
static char *
sign(const cjose_jwk_t *k, const char *alg, const char *kid, const char *payload,
     const char *hdr_extra)
{
	cjose_err cerr;
	cjose_header_t *h = cjose_header_new(&cerr);
	cjose_jws_t *jws;
	const char *c = NULL;
	char *out = NULL;

	cjose_header_set(h, CJOSE_HDR_ALG, alg, &cerr);
	if (kid != NULL)
		cjose_header_set(h, CJOSE_HDR_KID, kid, &cerr);
	if (hdr_extra != NULL) {
		json_t *x = json_loads(hdr_extra, 0, NULL);

		json_object_update((json_t *)h, x);
		json_decref(x);
	}
	jws = cjose_jws_sign(k, h, (const uint8_t *)payload, strlen(payload), &cerr);
	if (jws != NULL && cjose_jws_export(jws, &c, &cerr))
		out = strdup(c);
	cjose_jws_release(jws);
	cjose_header_release(h);
	return out;
}

/* by_hand() assembles header.payload.signature; HMAC-SHA256 with key when
 * key is not NULL, else the literal sig (may be ""). */
static char *
by_hand(const char *hdr, const char *payload, const void *key, size_t keylen, const char *sig)
{
	char *h = b64(hdr, strlen(hdr)), *p = b64(payload, strlen(payload)), *s = NULL, *out;
	size_t n = strlen(h) + strlen(p) + 400;
	unsigned char mac[32];
	unsigned int maclen = 0;

	out = malloc(n);
	snprintf(out, n, "%s.%s", h, p);
	if (key != NULL) {
		HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)out, strlen(out), mac, &maclen);
		s = b64(mac, maclen);
	}
	snprintf(out + strlen(out), n - strlen(out), ".%s", key != NULL ? s : sig);
	free(s);
	free(h);
	free(p);
	return out;
}

/* verify() runs jose_jws_verify and prints err as a TAP comment. */
static enum su_rc
verify(const char *tok, const struct jose_keyset *ks, const char *const *algs, json_t **claims,
       char *err, size_t errsz)
{
	json_t *c = NULL;
	enum su_rc rc;

	err[0] = '\0';
	rc = jose_jws_verify(tok, ks, algs, &c, err, errsz);
	if (rc != SU_OK)
		printf("# -> %s (%s)\n", su_rc_str(rc), err);
	if (claims != NULL)
		*claims = c;
	else
		json_decref(c);
	return rc;
}

static const char *payload = "{\"iss\":\"https://op.example\",\"sub\":\"alice\",\"aud\":\"rp\"}";

/* test_keysets() covers JWKS parsing. */
static void
test_keysets(void)
{
	struct jose_keyset *ks = NULL;
	char err[256];
	const char *bad[] = { "not json", "[]", "{\"keys\":{}}", "{\"nokeys\":[]}", "{\"keys\":[]}",
			      "{\"keys\":[1,\"x\",null]}" };
	size_t i;
	char *s;
	json_t *oct, *jk;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_OK(jose_keyset_parse(bad[i], strlen(bad[i]), &ks, err, sizeof(err)) == SU_EINVAL &&
			     ks == NULL && err[0] != '\0',
		     "JWKS %s refused (%s)", bad[i], err);
	}
	T_OK(jose_keyset_parse(NULL, 0, &ks, err, sizeof(err)) == SU_EINVAL, "NULL JWKS refused");

	s = mkjwks(pubjwk(rsa1, "enc", NULL), NULL, NULL, NULL);
	T_OK(jose_keyset_parse(s, strlen(s), &ks, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "no usable") != NULL,
	     "JWKS with only a use=enc key refused (%s)", err);
	free(s);

	oct = json_pack("{s:s, s:s, s:s}", "kty", "oct", "kid", "sym",
			"k", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");
	s = mkjwks(oct, json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x",
				  "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
		   pubjwk(rsa1, "enc", NULL), pubjwk(rsa2, "sig", "RS256"));
	ks = parse(s);
	T_OK(ks != NULL && jose_keyset_count(ks) == 1, "oct, OKP and use=enc skipped, one key kept");
	T_OK(ks != NULL && strcmp(jose_keyset_kid(ks, 0), "rsa-2") == 0 &&
		     strcmp(jose_keyset_kty(ks, 0), "RSA") == 0,
	     "kept key is rsa-2 / RSA");
	T_OK(strcmp(jose_keyset_kid(ks, 7), "") == 0, "kid out of range is empty");
	jose_keyset_free(ks);

	/* a JWK whose alg belongs to another kty, or is an encryption alg, is skipped */
	s = mkjwks(pubjwk(rsa1, NULL, "RSA-OAEP"), pubjwk(ec1, NULL, "RS256"),
		   pubjwk(rsa2, NULL, NULL), NULL);
	ks = parse(s);
	T_OK(ks != NULL && jose_keyset_count(ks) == 1, "keys with unusable alg skipped");
	jose_keyset_free(ks);

	/* an EC JWK naming an alg of another curve, and an RSA JWK with a huge e */
	jk = pubjwk(rsa1, "sig", NULL);
	json_object_set_new(jk, "e", json_string("AQABAQABAQAB"));
	s = mkjwks(pubjwk(ec1, "sig", "ES384"), jk, pubjwk(rsa2, NULL, NULL), NULL);
	ks = parse(s);
	T_OK(ks != NULL && jose_keyset_count(ks) == 1 && strcmp(jose_keyset_kid(ks, 0), "rsa-2") == 0,
	     "P-256 key with alg ES384 and RSA key with a 9-byte e skipped");
	jose_keyset_free(ks);

	s = mkjwks(pubjwk(rsa1, "sig", NULL), pubjwk(rsa2, "sig", NULL), pubjwk(ec1, "sig", NULL),
		   NULL);
	ks = parse(s);
	T_OK(ks != NULL && jose_keyset_count(ks) == 3 && strcmp(jose_keyset_kty(ks, 2), "EC") == 0,
	     "two RSA + one EC parsed");
	jose_keyset_free(ks);

	/* cjose 0.6.2.1 abort()s on some malformed base64url: never handed to it */
	jk = pubjwk(rsa1, "sig", NULL);
	{
		char *n = strdup(json_string_value(json_object_get(jk, "n")));

		n[100] = '=';
		json_object_set_new(jk, "n", json_string(n));
		free(n);
	}
	s = mkjwks(jk, pubjwk(ec1, "sig", NULL), NULL, NULL);
	ks = parse(s);
	T_OK(ks != NULL && jose_keyset_count(ks) == 1 && strcmp(jose_keyset_kty(ks, 0), "EC") == 0,
	     "RSA key with '=' inside n skipped (cjose would abort)");
	jose_keyset_free(ks);
	jk = pubjwk(ec1, "sig", NULL);
	json_object_set_new(jk, "x", json_string("AAAAA"));
	s = mkjwks(jk, pubjwk(rsa1, "sig", NULL), NULL, NULL);
	ks = parse(s);
	T_OK(ks != NULL && jose_keyset_count(ks) == 1, "EC key with an impossible base64url length skipped");
	jose_keyset_free(ks);

	s = strdup("{\"keys\":[],\"keys\":[]}");
	T_OK(jose_keyset_parse(s, strlen(s), &ks, err, sizeof(err)) == SU_EINVAL,
	     "JWKS with duplicate members refused");
	free(s);
}

/* test_verify() covers signatures, algs, kid choice and malformed input. */
static void
test_verify(void)
{
	struct jose_keyset *ks, *ks1, *ks2;
	char err[256], *tok, *huge;
	json_t *claims = NULL;
	enum su_rc rc;
	size_t n;

	ks = parse(mkjwks(pubjwk(rsa1, "sig", NULL), pubjwk(rsa2, NULL, NULL), pubjwk(ec1, "sig", NULL),
			  NULL));

	tok = sign(rsa1, "RS256", "rsa-1", payload, NULL);
	rc = verify(tok, ks, only_rs256, &claims, err, sizeof(err));
	T_OK(rc == SU_OK && claims != NULL &&
		     strcmp(json_string_value(json_object_get(claims, "sub")), "alice") == 0,
	     "good RS256 verifies, claims returned");
	json_decref(claims);
	claims = NULL;

	/* flip one byte of the signature, then one of the payload */
	n = strlen(tok);
	tok[n - 10] = tok[n - 10] == 'A' ? 'B' : 'A';
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "bad signature") != NULL,
	     "flipped signature byte refused");
	free(tok);
	tok = sign(rsa1, "RS256", "rsa-1", payload, NULL);
	*(strchr(tok, '.') + 3) ^= 1;
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) != SU_OK, "flipped payload byte refused");
	free(tok);

	tok = sign(rsa2, "RS256", "rsa-2", payload, NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_OK, "second RSA key by kid verifies");
	free(tok);

	tok = sign(rsa1, "RS256", "rsa-2", payload, NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL,
	     "RS256 signed by rsa-1 but kid rsa-2 refused");
	free(tok);

	tok = sign(ec1, "ES256", "ec-1", payload, NULL);
	T_OK(verify(tok, ks, rs_es, NULL, err, sizeof(err)) == SU_OK, "good ES256 verifies");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "not allowed") != NULL,
	     "ES256 refused when only RS256 allowed");
	free(tok);

	tok = sign(ec1, "ES384", "ec-1", payload, NULL);
	T_OK(tok == NULL || verify(tok, ks, rs_es, NULL, err, sizeof(err)) == SU_EINVAL,
	     "ES384 with a P-256 key refused (curve must match alg)");
	free(tok);

	tok = sign(rsa1, "PS256", "rsa-1", payload, NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "PS256 not allowed") != NULL,
	     "PS256 refused when only RS256 allowed");
	T_OK(verify(tok, ks, rs_es, NULL, err, sizeof(err)) == SU_OK, "PS256 verifies when allowed");
	free(tok);

	tok = sign(rsa1, "RS256", "no-such-kid", payload, NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_ENOTFOUND, "unknown kid -> SU_ENOTFOUND");
	free(tok);

	tok = sign(rsa1, "RS256", "ec-1", payload, NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "does not fit") != NULL,
	     "kid of the EC key with alg RS256 refused");
	free(tok);

	tok = sign(rsa1, "RS256", NULL, payload, NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "no kid and 2 keys") != NULL,
	     "no kid with two RSA keys refused");
	ks1 = parse(mkjwks(pubjwk(rsa1, "sig", NULL), pubjwk(ec1, "sig", NULL), NULL, NULL));
	T_OK(verify(tok, ks1, only_rs256, NULL, err, sizeof(err)) == SU_OK,
	     "no kid with exactly one RSA key accepted");
	free(tok);

	/* the JWK's own alg must equal the token's */
	ks2 = parse(mkjwks(pubjwk(rsa1, "sig", "RS256"), NULL, NULL, NULL));
	tok = sign(rsa1, "PS256", "rsa-1", payload, NULL);
	T_OK(verify(tok, ks2, rs_es, NULL, err, sizeof(err)) == SU_EINVAL,
	     "PS256 token against a JWK with alg RS256 refused");
	free(tok);
	jose_keyset_free(ks2);

	tok = sign(rsa1, "RS256", "rsa-1", payload, "{\"crit\":[\"exp\"],\"exp\":1}");
	T_OK(tok != NULL && verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "crit") != NULL,
	     "crit header refused");
	free(tok);

	tok = sign(rsa1, "RS256", "rsa-1", "[1,2]", NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "payload not an object refused");
	free(tok);
	tok = sign(rsa1, "RS256", "rsa-1", "{\"sub\":\"alice\",\"sub\":\"mallory\"}", NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL,
	     "payload with duplicate members refused");
	free(tok);

	/* alg none, with an empty signature and with a fake one */
	tok = by_hand("{\"alg\":\"none\",\"kid\":\"rsa-1\"}", payload, NULL, 0, "");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "none") != NULL,
	     "alg none refused");
	free(tok);
	tok = by_hand("{\"alg\":\"none\"}", payload, NULL, 0, "AAAA");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "alg none with a signature refused");
	free(tok);
	tok = by_hand("{\"alg\":\"NoNe\"}", payload, NULL, 0, "");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "alg NoNe refused");
	free(tok);

	/* header differentials */
	tok = by_hand("{\"alg\":\"HS256\",\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", payload, NULL, 0, "AAAA");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "header with duplicate alg refused");
	free(tok);
	tok = by_hand("{\"kid\":\"rsa-1\"}", payload, NULL, 0, "AAAA");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "header without alg refused");
	free(tok);
	tok = by_hand("{\"alg\":\"RS256\",\"kid\":7}", payload, NULL, 0, "AAAA");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "non-string kid refused");
	free(tok);
	tok = by_hand("[\"alg\"]", payload, NULL, 0, "AAAA");
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "header not an object refused");
	free(tok);

	/* malformed compact strings */
	T_OK(verify("", ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "empty token refused");
	T_OK(verify("abc.def", ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "2 parts refused");
	T_OK(verify("eyJhbGciOiJSUzI1NiJ9.e30.AAAA.AAAA", ks, only_rs256, NULL, err, sizeof(err)) ==
		     SU_EINVAL,
	     "4 parts refused");
	T_OK(verify("eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL,
	     "padding refused");
	T_OK(verify("ey!hbGciOiJSUzI1NiJ9.e30.AAAA", ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL,
	     "non-base64url refused");
	T_OK(verify("eyJhbGciOiJSUzI1NiJ9..AAAA", ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL,
	     "empty payload refused");
	T_OK(verify("eyJhbGciOiJSUzI1NiJ9.e30.", ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL,
	     "empty signature refused");
	T_OK(verify("eyJhbGciOiJSUzI1NiJ9.e30.A", ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL,
	     "impossible base64url length refused");
	T_OK(verify("eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.e30.AAAA", ks, only_rs256, NULL, err,
		    sizeof(err)) == SU_EINVAL,
	     "short RSA signature refused");
	huge = malloc(70001);
	memset(huge, 'A', 70000);
	huge[70000] = '\0';
	huge[100] = '.';
	huge[200] = '.';
	T_OK(verify(huge, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "too large") != NULL,
	     "huge token refused");
	free(huge);
	T_OK(verify(NULL, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL, "NULL token refused");
	tok = sign(rsa1, "RS256", "rsa-1", payload, NULL);
	T_OK(verify(tok, ks, NULL, NULL, err, sizeof(err)) == SU_EINVAL, "NULL allowlist refuses everything");
	free(tok);

	jose_keyset_free(ks1);
	jose_keyset_free(ks);
}

/* rsa_pub_jwk() makes the public JWK (kid given) of an OpenSSL RSA key. */
static json_t *
rsa_pub_jwk(const EVP_PKEY *pk, const char *kid)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char nb[1024], eb[16];
	int nl, el;
	char *ns, *es;
	json_t *o;

	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e);
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	ns = b64(nb, (size_t)nl);
	es = b64(eb, (size_t)el);
	o = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "kid", kid, "n", ns, "e", es);
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
	return o;
}

/* test_pem() covers HS256 keyed with the RSA public key and client assertions. */
static void
test_pem(void)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	char path[] = "/tmp/test_jose_XXXXXX", err[256], *tok, *jwktext, *pem = NULL, *as = NULL;
	const char *const hs_too[] = { "HS256", "RS256", NULL };
	struct jose_keyset *ks;
	json_t *claims = NULL, *jwk;
	FILE *f;
	int fd;
	BIO *bio;
	long pemlen;
	enum su_rc rc;
	const char *jti;

	jwk = rsa_pub_jwk(pk, "ca");
	jwktext = json_dumps(jwk, JSON_COMPACT);
	ks = parse(mkjwks(jwk, pubjwk(rsa1, "sig", NULL), NULL, NULL));

	/* HS256 whose HMAC key is the RSA public key's PEM / JWK text */
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(bio, pk);
	pemlen = BIO_get_mem_data(bio, &pem);
	tok = by_hand("{\"alg\":\"HS256\",\"kid\":\"ca\"}", payload, pem, (size_t)pemlen, NULL);
	T_OK(verify(tok, ks, only_rs256, NULL, err, sizeof(err)) == SU_EINVAL &&
		     strstr(err, "HS256") != NULL,
	     "HS256 keyed with the RSA public key PEM refused");
	T_OK(verify(tok, ks, hs_too, NULL, err, sizeof(err)) == SU_EINVAL && strstr(err, "symmetric") != NULL,
	     "HS256 refused even when listed in the allowlist");
	free(tok);
	tok = by_hand("{\"alg\":\"HS256\"}", payload, jwktext, strlen(jwktext), NULL);
	T_OK(verify(tok, ks, hs_too, NULL, err, sizeof(err)) == SU_EINVAL,
	     "HS256 keyed with the RSA public JWK JSON refused");
	free(tok);
	tok = by_hand("{\"alg\":\"HS512\",\"kid\":\"ca\"}", payload, pem, (size_t)pemlen, NULL);
	T_OK(verify(tok, ks, hs_too, NULL, err, sizeof(err)) == SU_EINVAL, "HS512 refused");
	free(tok);
	BIO_free(bio);

	/* client assertion from a PEM file, verified with the public key */
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	rc = jose_client_assertion(path, "ca", "stepup-rp", "https://op.example/token", 1700000000LL,
				   &as, err, sizeof(err));
	T_OK(rc == SU_OK && as != NULL, "client assertion built (%s)", rc == SU_OK ? "ok" : err);
	rc = verify(as, ks, only_rs256, &claims, err, sizeof(err));
	T_OK(rc == SU_OK, "client assertion verifies with the public key and kid ca");
	jti = json_string_value(json_object_get(claims, "jti"));
	T_OK(claims != NULL &&
		     strcmp(json_string_value(json_object_get(claims, "iss")), "stepup-rp") == 0 &&
		     strcmp(json_string_value(json_object_get(claims, "sub")), "stepup-rp") == 0 &&
		     strcmp(json_string_value(json_object_get(claims, "aud")),
			    "https://op.example/token") == 0,
	     "assertion iss = sub = client_id, aud = token endpoint");
	T_OK(claims != NULL && json_integer_value(json_object_get(claims, "iat")) == 1700000000LL &&
		     json_integer_value(json_object_get(claims, "exp")) == 1700000060LL,
	     "assertion iat = now, exp = now + 60");
	T_OK(jti != NULL && strlen(jti) == 22, "assertion jti is 16 random bytes in base64url");
	json_decref(claims);
	claims = NULL;
	free(as);
	as = NULL;
	rc = jose_client_assertion(path, NULL, "stepup-rp", "https://op.example/token", 1700000000LL,
				   &as, err, sizeof(err));
	T_OK(rc == SU_OK && strstr(as, ".") != NULL, "client assertion without kid built");
	free(as);
	as = NULL;
	T_OK(jose_client_assertion("/nonexistent/key.pem", "ca", "rp", "aud", 1, &as, err,
				   sizeof(err)) != SU_OK && as == NULL,
	     "missing key file refused (%s)", err);
	f = fopen(path, "w");
	fputs("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	T_OK(jose_client_assertion(path, "ca", "rp", "aud", 1, &as, err, sizeof(err)) == SU_EINVAL,
	     "garbage key file refused (%s)", err);
	unlink(path);

	free(jwktext);
	jose_keyset_free(ks);
	EVP_PKEY_free(pk);
}

int
main(void)
{
	static const uint8_t e[] = { 1, 0, 1 };
	cjose_err cerr;

	rsa1 = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &cerr);
	rsa2 = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &cerr);
	ec1 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
	cjose_jwk_set_kid(rsa1, "rsa-1", 5, &cerr);
	cjose_jwk_set_kid(rsa2, "rsa-2", 5, &cerr);
	cjose_jwk_set_kid(ec1, "ec-1", 4, &cerr);
	T_OK(rsa1 != NULL && rsa2 != NULL && ec1 != NULL, "test keys generated");
	T_OK(jose_alg_supported("RS256") && jose_alg_supported("ES512") && !jose_alg_supported("HS256") &&
		     !jose_alg_supported("none") && !jose_alg_supported(NULL),
	     "jose_alg_supported");

	test_keysets();
	test_verify();
	test_pem();

	cjose_jwk_release(rsa1);
	cjose_jwk_release(rsa2);
	cjose_jwk_release(ec1);
	return T_DONE();
}
