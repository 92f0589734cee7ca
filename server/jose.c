/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * jose.c: JWKS parsing, compact-JWS verification and private_key_jwt client
 * assertions on top of cjose (see jose.h).
 *
 * What it does: it parses the JWS header itself (strict base64url, JSON
 * without duplicate members) and decides everything that matters *before*
 * cjose does any signature math: the alg must be on the caller's allowlist,
 * `none` and HS* are refused outright (cjose 0.6.2.1 would HMAC over the
 * RSA/EC key structure: a heap over-read), `crit` is refused, the key is
 * chosen by kid, kty, JWK alg and EC curve, and the signature length must
 * fit the key. Only after cjose_jws_verify() succeeds is the payload read
 * (cjose_jws_get_plaintext() hands out unverified bytes otherwise).
 *
 * What it does not do: fetch anything (idp.c does), cache, check claims
 * (oidc.c does), or change a key set once parsed: a keyset is read-only and
 * its cjose keys are never retained or released while shared
 * (cjose_jwk_retain is not atomic). Symmetric keys are never used.
 */
#include "jose.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjose/cjose.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log.h"
#include "xcrypt.h"

#define JOSE_MAX_TOKEN (64 * 1024)   /* a compact JWS larger than this is refused */
#define JOSE_MAX_JWKS (512 * 1024)   /* a JWKS document larger than this is refused */
#define JOSE_MAX_KEYS 100            /* keys examined in one JWKS */
#define JOSE_MAX_KID 256             /* longer kids are not used */
#define JOSE_MIN_RSA_BITS 2048       /* smaller RSA keys are skipped */
#define JOSE_MAX_RSA_BITS 8192       /* larger RSA keys are skipped (verify cost) */
#define JOSE_MAX_RSA_E 8             /* base64url chars of e: at most 6 bytes */

/* One usable verification key. */
struct jose_key {
	cjose_jwk_t *jwk;
	char *kid;         /* "" when the JWK has none */
	const char *kty;   /* "RSA" or "EC" (static) */
	char *alg;         /* the JWK's alg, NULL when absent */
	int crv;           /* cjose_jwk_ec_curve for EC keys, 0 for RSA */
	size_t bits;       /* key size in bits */
};

struct jose_keyset {
	struct jose_key *keys;
	size_t n;
};

/* The algorithms stepupd can be configured to accept (RFC 7518 3.1). */
struct jose_alg {
	const char *name;
	const char *kty;
	int crv;           /* required EC curve, 0 for RSA */
	size_t sig_len;    /* exact signature length for ES*, 0 for RSA */
};

static const struct jose_alg jose_algs[] = {
	{ "RS256", "RSA", 0, 0 },
	{ "RS384", "RSA", 0, 0 },
	{ "RS512", "RSA", 0, 0 },
	{ "PS256", "RSA", 0, 0 },
	{ "PS384", "RSA", 0, 0 },
	{ "PS512", "RSA", 0, 0 },
	{ "ES256", "EC", CJOSE_JWK_EC_P_256, 64 },
	{ "ES384", "EC", CJOSE_JWK_EC_P_384, 96 },
	{ "ES512", "EC", CJOSE_JWK_EC_P_521, 132 },
};

/* jose_alg_find() returns the table entry for a supported alg, or NULL. */
static const struct jose_alg *
jose_alg_find(const char *alg)
{
	size_t i;

	if (alg == NULL)
		return NULL;
	for (i = 0; i < sizeof(jose_algs) / sizeof(jose_algs[0]); i++)
		if (strcmp(jose_algs[i].name, alg) == 0)
			return &jose_algs[i];
	return NULL;
}

/* jose_alg_supported() says whether alg is one of the asymmetric JWS algs above. */
bool
jose_alg_supported(const char *alg)
{
	return jose_alg_find(alg) != NULL;
}

/* jose_key_cleanup() frees one key's members. */
static void
jose_key_cleanup(struct jose_key *k)
{
	if (k->jwk != NULL)
		cjose_jwk_release(k->jwk);
	free(k->alg);
	free(k->kid);
}

/* jose_keyset_free() frees a key set and every cjose key in it. NULL is fine. */
void
jose_keyset_free(struct jose_keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		jose_key_cleanup(&ks->keys[i]);
	free(ks->keys);
	free(ks);
}

/* jose_keyset_count() returns how many usable keys ks holds. */
size_t
jose_keyset_count(const struct jose_keyset *ks)
{
	return ks != NULL ? ks->n : 0;
}

/* jose_keyset_kid() returns key i's kid, "" when it has none or i is out of range. */
const char *
jose_keyset_kid(const struct jose_keyset *ks, size_t i)
{
	if (ks == NULL || i >= ks->n)
		return "";
	return ks->keys[i].kid;
}

/* jose_keyset_kty() returns key i's kty ("RSA" or "EC"), "" when out of range. */
const char *
jose_keyset_kty(const struct jose_keyset *ks, size_t i)
{
	if (ks == NULL || i >= ks->n)
		return "";
	return ks->keys[i].kty;
}

/* jose_key_ops_verify() says whether a key_ops member (RFC 7517 4.3) allows
 * "verify"; an absent member allows it. */
static bool
jose_key_ops_verify(json_t *ops)
{
	size_t i;
	json_t *v;

	if (ops == NULL)
		return true;
	if (!json_is_array(ops))
		return false;
	json_array_foreach(ops, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), "verify") == 0)
			return true;
	}
	return false;
}

/* jose_b64url_ok() says whether s[0..n) uses only the base64url alphabet (RFC 7515 2). */
static bool
jose_b64url_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* jose_jwk_b64_ok() says whether every base64url member cjose will decode
 * for this kty is well-formed (RFC 7518 6.2.1, 6.3.1: base64url without
 * padding). cjose 0.6.2.1's decoder abort()s on some malformed input (an
 * assertion), so nothing malformed may reach it. */
static bool
jose_jwk_b64_ok(json_t *jk, bool rsa)
{
	static const char *const rsa_m[] = { "n", "e", "d", "p", "q", "dp", "dq", "qi", NULL };
	static const char *const ec_m[] = { "x", "y", "d", NULL };
	const char *const *m = rsa ? rsa_m : ec_m;
	size_t i, n;
	json_t *v;

	for (i = 0; m[i] != NULL; i++) {
		v = json_object_get(jk, m[i]);
		if (v == NULL) {
			if (i < 2)
				return false; /* n, e / x, y are required */
			continue;
		}
		if (!json_is_string(v))
			return false;
		n = json_string_length(v);
		if (n == 0 || n % 4 == 1 || n > 4096 || strlen(json_string_value(v)) != n ||
		    !jose_b64url_ok(json_string_value(v), n))
			return false;
	}
	return true;
}

/*
 * jose_key_import() turns one JWK object into a usable key, or sets *why
 * (static text) to the reason it was skipped. SU_OK: *k filled; SU_ENOTFOUND:
 * skipped; SU_ENOMEM.
 */
static enum su_rc
jose_key_import(json_t *jk, struct jose_key *k, const char **why)
{
	enum su_rc rc = SU_ENOTFOUND;
	const char *kty, *kid = "", *alg = NULL;
	json_t *v;
	cjose_err cerr;
	cjose_jwk_t *jwk = NULL;
	const struct jose_alg *a = NULL;
	const char *e;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(jk)) {
		*why = "key is not an object";
		goto out;
	}
	kty = json_string_value(json_object_get(jk, "kty"));
	if (kty == NULL || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0)) {
		*why = "unsupported kty";
		goto out;
	}
	/* RFC 7517 4.2: a key meant for encryption is not used to verify. */
	v = json_object_get(jk, "use");
	if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), "sig") != 0)) {
		*why = "use is not sig";
		goto out;
	}
	if (!jose_key_ops_verify(json_object_get(jk, "key_ops"))) {
		*why = "key_ops without verify";
		goto out;
	}
	/* RFC 7517 4.4: when the JWK names its alg, it must be one we could use
	 * with this kty; the token's alg must then equal it (jose_key_fits). */
	v = json_object_get(jk, "alg");
	if (v != NULL) {
		alg = json_string_value(v);
		a = jose_alg_find(alg);
		if (a == NULL || strcmp(a->kty, kty) != 0) {
			*why = "unsupported key alg";
			goto out;
		}
	}
	v = json_object_get(jk, "kid");
	if (v != NULL) {
		kid = json_string_value(v);
		if (kid == NULL || strlen(kid) > JOSE_MAX_KID) {
			*why = "bad kid";
			goto out;
		}
	}
	if (!jose_jwk_b64_ok(jk, strcmp(kty, "RSA") == 0)) {
		*why = "key member is not base64url";
		goto out;
	}
	/* a huge public exponent makes every verification as slow as a signature */
	e = json_string_value(json_object_get(jk, "e"));
	if (strcmp(kty, "RSA") == 0 && e != NULL && strlen(e) > JOSE_MAX_RSA_E) {
		*why = "RSA exponent too large";
		goto out;
	}
	/* cjose_header_t is a jansson json_t: cjose reads the object in place. */
	jwk = cjose_jwk_import_json((cjose_header_t *)jk, &cerr);
	if (jwk == NULL) {
		*why = "key does not import";
		goto out;
	}
	k->bits = cjose_jwk_get_keysize(jwk, &cerr);
	if (strcmp(kty, "RSA") == 0) {
		if (cjose_jwk_get_kty(jwk, &cerr) != CJOSE_JWK_KTY_RSA || k->bits < JOSE_MIN_RSA_BITS ||
		    k->bits > JOSE_MAX_RSA_BITS) {
			*why = "RSA key size not between 2048 and 8192 bits";
			goto out;
		}
		k->kty = "RSA";
	} else {
		if (cjose_jwk_get_kty(jwk, &cerr) != CJOSE_JWK_KTY_EC) {
			*why = "key does not import";
			goto out;
		}
		k->crv = (int)cjose_jwk_EC_get_curve(jwk, &cerr);
		if (k->crv != CJOSE_JWK_EC_P_256 && k->crv != CJOSE_JWK_EC_P_384 &&
		    k->crv != CJOSE_JWK_EC_P_521) {
			*why = "unsupported curve";
			goto out;
		}
		/* RFC 7518 3.4: the JWK's alg fixes the curve */
		if (a != NULL && a->crv != k->crv) {
			*why = "key alg does not fit its curve";
			goto out;
		}
		k->kty = "EC";
	}
	rc = SU_ENOMEM;
	k->kid = strdup(kid);
	if (k->kid == NULL)
		goto out;
	if (alg != NULL) {
		k->alg = strdup(alg);
		if (k->alg == NULL)
			goto out;
	}
	k->jwk = jwk;
	jwk = NULL;
	rc = SU_OK;
out:
	if (jwk != NULL)
		cjose_jwk_release(jwk);
	if (rc != SU_OK) {
		free(k->kid);
		free(k->alg);
		memset(k, 0, sizeof(*k));
	}
	return rc;
}

/* jose_keyset_parse() parses a JWKS (RFC 7517 5) into an immutable key set. */
enum su_rc
jose_keyset_parse(const char *json, size_t len, struct jose_keyset **out, char *err, size_t errsz)
{
	enum su_rc rc = SU_EINVAL;
	json_t *root = NULL, *keys, *jk;
	json_error_t jerr;
	struct jose_keyset *ks = NULL;
	const char *why = NULL;
	size_t i, n, skipped = 0;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (json == NULL || len == 0) {
		log_seterr(err, errsz, "JWKS is empty");
		goto out;
	}
	if (len > JOSE_MAX_JWKS) {
		log_seterr(err, errsz, "JWKS is too large");
		goto out;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		log_seterr(err, errsz, "JWKS is not a JSON object");
		goto out;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		log_seterr(err, errsz, "JWKS has no keys array");
		goto out;
	}
	n = json_array_size(keys);
	if (n > JOSE_MAX_KEYS) {
		log_seterr(err, errsz, "JWKS has too many keys (%zu)", n);
		goto out;
	}
	rc = SU_ENOMEM;
	ks = calloc(1, sizeof(*ks));
	if (ks == NULL)
		goto out;
	if (n > 0) {
		ks->keys = calloc(n, sizeof(*ks->keys));
		if (ks->keys == NULL)
			goto out;
	}
	json_array_foreach(keys, i, jk) {
		enum su_rc krc = jose_key_import(jk, &ks->keys[ks->n], &why);

		if (krc == SU_OK)
			ks->n++;
		else if (krc == SU_ENOTFOUND)
			skipped++;
		else
			goto out;
	}
	if (ks->n == 0) {
		rc = SU_EINVAL;
		if (skipped > 0)
			log_seterr(err, errsz, "JWKS has no usable signing key (%zu skipped, e.g. %s)",
				   skipped, why);
		else
			log_seterr(err, errsz, "JWKS has no keys");
		goto out;
	}
	*out = ks;
	ks = NULL;
	rc = SU_OK;
out:
	jose_keyset_free(ks);
	json_decref(root);
	return rc;
}

/* jose_alg_allowed() says whether alg is in the NULL-terminated allowlist. */
static bool
jose_alg_allowed(const char *alg, const char *const *allowed)
{
	size_t i;

	if (allowed == NULL)
		return false;
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(allowed[i], alg) == 0)
			return true;
	return false;
}

/* jose_key_fits() says whether key k may verify a token of alg a:
 * same kty, the JWK's alg (when named) equal to the token's, and for EC the
 * curve the alg requires (RFC 7518 3.4). */
static bool
jose_key_fits(const struct jose_key *k, const struct jose_alg *a)
{
	if (strcmp(k->kty, a->kty) != 0)
		return false;
	if (k->alg != NULL && strcmp(k->alg, a->name) != 0)
		return false;
	if (a->crv != 0 && k->crv != a->crv)
		return false;
	return true;
}

/* jose_sig_len_ok() says whether a signature of sig_len bytes has the only
 * length alg a can produce with key k (RFC 7518 3.3, 3.4, 3.5). */
static bool
jose_sig_len_ok(const struct jose_key *k, const struct jose_alg *a, size_t sig_len)
{
	if (a->sig_len != 0)
		return sig_len == a->sig_len;
	return sig_len == (k->bits + 7) / 8;
}

/*
 * jose_jws_verify(): see jose.h. The order is the point: nothing of the
 * token reaches cjose's signature code until alg, crit and key are decided.
 */
enum su_rc
jose_jws_verify(const char *compact, const struct jose_keyset *ks, const char *const *allowed_algs,
		json_t **payload, char *err, size_t errsz)
{
	enum su_rc rc = SU_EINVAL;
	size_t len, dots[2], ndots = 0, i, hlen, plen, slen, sig_len = 0;
	unsigned char *hbuf = NULL, *sbuf = NULL;
	json_t *hdr = NULL, *claims = NULL, *v;
	json_error_t jerr;
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	const char *alg, *kid = NULL, *calg;
	const struct jose_alg *a;
	char clean[48];
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	bool kid_seen = false, verified = false;
	size_t nfit = 0;

	if (payload == NULL)
		goto out;
	*payload = NULL;
	if (compact == NULL || ks == NULL) {
		log_seterr(err, errsz, "no token or no keys");
		goto out;
	}
	len = strnlen(compact, JOSE_MAX_TOKEN + 1);
	if (len > JOSE_MAX_TOKEN) {
		log_seterr(err, errsz, "token is too large");
		goto out;
	}
	/* RFC 7515 7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(sig) */
	for (i = 0; i < len; i++) {
		if (compact[i] == '.') {
			if (ndots == 2) {
				ndots++;
				break;
			}
			dots[ndots++] = i;
		}
	}
	if (ndots != 2) {
		log_seterr(err, errsz, "token is not a compact JWS (three parts)");
		goto out;
	}
	hlen = dots[0];
	plen = dots[1] - dots[0] - 1;
	slen = len - dots[1] - 1;
	if (hlen == 0 || plen == 0 || plen % 4 == 1 || !jose_b64url_ok(compact, hlen) ||
	    !jose_b64url_ok(compact + dots[0] + 1, plen) ||
	    !jose_b64url_ok(compact + dots[1] + 1, slen)) {
		log_seterr(err, errsz, "token is not valid base64url");
		goto out;
	}

	/* The header, parsed by us: strict base64url, no duplicate members (so
	 * cjose, which keeps the last duplicate, cannot see a different alg). */
	rc = SU_ENOMEM;
	hbuf = malloc(hlen);
	if (hbuf == NULL)
		goto out;
	rc = SU_EINVAL;
	if (xcrypt_b64url_decode(compact, hlen, hbuf, hlen, &i) != SU_OK) {
		log_seterr(err, errsz, "token header is not valid base64url");
		goto out;
	}
	hdr = json_loadb((const char *)hbuf, i, JSON_REJECT_DUPLICATES, &jerr);
	if (hdr == NULL || !json_is_object(hdr)) {
		log_seterr(err, errsz, "token header is not a JSON object");
		goto out;
	}
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (alg == NULL) {
		log_seterr(err, errsz, "token header has no alg");
		goto out;
	}
	/* RFC 8725 3.1/3.2, OIDC Core 3.1.3.7 step 7: "none" is never accepted
	 * and HS* never with an OP's asymmetric key; refused here so cjose never
	 * builds an HMAC over an RSA/EC key structure. */
	if (strcasecmp(alg, "none") == 0) {
		log_seterr(err, errsz, "alg none refused");
		goto out;
	}
	if (strncasecmp(alg, "HS", 2) == 0) {
		log_seterr(err, errsz, "alg %s refused (symmetric algorithms are never accepted)",
			   log_clean(alg, clean, sizeof(clean)));
		goto out;
	}
	/* RFC 7515 4.1.11: we understand no extension, so any crit is refused. */
	if (json_object_get(hdr, "crit") != NULL) {
		log_seterr(err, errsz, "crit header refused");
		goto out;
	}
	a = jose_alg_find(alg);
	if (a == NULL || !jose_alg_allowed(alg, allowed_algs)) {
		log_seterr(err, errsz, "alg %s not allowed", log_clean(alg, clean, sizeof(clean)));
		goto out;
	}
	v = json_object_get(hdr, "kid");
	if (v != NULL) {
		kid = json_string_value(v);
		if (kid == NULL) {
			log_seterr(err, errsz, "kid is not a string");
			goto out;
		}
	}
	if (slen == 0) {
		log_seterr(err, errsz, "token has no signature");
		goto out;
	}
	rc = SU_ENOMEM;
	sbuf = malloc(slen);
	if (sbuf == NULL)
		goto out;
	rc = SU_EINVAL;
	if (xcrypt_b64url_decode(compact + dots[1] + 1, slen, sbuf, slen, &sig_len) != SU_OK) {
		log_seterr(err, errsz, "token signature is not valid base64url");
		goto out;
	}

	/* Key choice (SPEC 2.1 step 3; OIDC Core 10.1.1): by kid when present,
	 * else only when exactly one key fits the alg. */
	for (i = 0; i < ks->n; i++) {
		const struct jose_key *k = &ks->keys[i];

		if (kid != NULL) {
			if (strcmp(k->kid, kid) != 0)
				continue;
			kid_seen = true;
		}
		if (jose_key_fits(k, a))
			nfit++;
	}
	if (kid != NULL && !kid_seen) {
		rc = SU_ENOTFOUND;
		log_seterr(err, errsz, "unknown kid %s", log_clean(kid, clean, sizeof(clean)));
		goto out;
	}
	if (kid != NULL && nfit == 0) {
		log_seterr(err, errsz, "key %s does not fit alg %s", log_clean(kid, clean, sizeof(clean)),
			   a->name);
		goto out;
	}
	if (kid == NULL && nfit != 1) {
		log_seterr(err, errsz, "no kid and %zu keys for alg %s", nfit, a->name);
		goto out;
	}

	jws = cjose_jws_import(compact, len, &cerr);
	if (jws == NULL) {
		log_seterr(err, errsz, "token does not parse");
		goto out;
	}
	/* Belt and braces: cjose must see the alg we checked. */
	calg = cjose_header_get(cjose_jws_get_protected(jws), CJOSE_HDR_ALG, &cerr);
	if (calg == NULL || strcmp(calg, a->name) != 0) {
		log_seterr(err, errsz, "token header is ambiguous");
		goto out;
	}
	for (i = 0; i < ks->n && !verified; i++) {
		const struct jose_key *k = &ks->keys[i];

		if (kid != NULL && strcmp(k->kid, kid) != 0)
			continue;
		if (!jose_key_fits(k, a) || !jose_sig_len_ok(k, a, sig_len))
			continue;
		if (cjose_jws_verify(jws, k->jwk, &cerr))
			verified = true;
	}
	if (!verified) {
		log_seterr(err, errsz, "bad signature");
		goto out;
	}

	/* Only now is the payload trusted (RFC 7519 7.2 step 10). */
	if (!cjose_jws_get_plaintext(jws, &pt, &ptlen, &cerr) || pt == NULL) {
		log_seterr(err, errsz, "token has no payload");
		goto out;
	}
	claims = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, &jerr);
	if (claims == NULL || !json_is_object(claims)) {
		log_seterr(err, errsz, "token payload is not a JSON object");
		goto out;
	}
	*payload = claims;
	claims = NULL;
	rc = SU_OK;
out:
	json_decref(claims);
	if (jws != NULL)
		cjose_jws_release(jws);
	free(sbuf);
	json_decref(hdr);
	free(hbuf);
	return rc;
}

/* jose_pem_nopass() refuses to prompt for a passphrase: stepupd runs unattended. */
static int
jose_pem_nopass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* jose_bn_param() copies one big-number parameter of pk into a malloc'd
 * big-endian byte string (*out, *outlen). */
static enum su_rc
jose_bn_param(const EVP_PKEY *pk, const char *name, uint8_t **out, size_t *outlen)
{
	enum su_rc rc = SU_ECRYPTO;
	BIGNUM *bn = NULL;
	int n = 0;

	*out = NULL;
	*outlen = 0;
	if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1 || bn == NULL)
		goto out;
	n = BN_num_bytes(bn);
	if (n <= 0)
		goto out;
	rc = SU_ENOMEM;
	*out = OPENSSL_malloc((size_t)n);
	if (*out == NULL)
		goto out;
	if (BN_bn2bin(bn, *out) != n) {
		rc = SU_ECRYPTO;
		goto out;
	}
	*outlen = (size_t)n;
	rc = SU_OK;
out:
	if (rc != SU_OK && *out != NULL) {
		OPENSSL_clear_free(*out, (size_t)n);
		*out = NULL;
	}
	BN_clear_free(bn);
	return rc;
}

/* jose_rsa_jwk_from_pem() reads an RSA private key from a PEM file and makes
 * a cjose key of it (n, e, d and the CRT parameters). */
static enum su_rc
jose_rsa_jwk_from_pem(const char *key_file, cjose_jwk_t **out, char *err, size_t errsz)
{
	enum su_rc rc = SU_EIO;
	FILE *f = NULL;
	EVP_PKEY *pk = NULL;
	cjose_jwk_rsa_keyspec spec;
	cjose_err cerr;
	static const char *const names[8] = {
		OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	uint8_t *v[8] = { NULL };
	size_t vl[8] = { 0 };
	size_t i;

	*out = NULL;
	f = fopen(key_file, "r");
	if (f == NULL) {
		log_seterr(err, errsz, "cannot open private key file");
		goto out;
	}
	pk = PEM_read_PrivateKey(f, NULL, jose_pem_nopass, NULL);
	rc = SU_EINVAL;
	if (pk == NULL) {
		log_seterr(err, errsz, "private key file holds no (unencrypted) PEM private key");
		goto out;
	}
	if (!EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_get_bits(pk) < JOSE_MIN_RSA_BITS) {
		log_seterr(err, errsz, "private key is not an RSA key of at least 2048 bits");
		goto out;
	}
	for (i = 0; i < 8; i++) {
		rc = jose_bn_param(pk, names[i], &v[i], &vl[i]);
		/* the CRT parameters are optional; n, e, d are not */
		if (rc != SU_OK && (i < 3 || rc == SU_ENOMEM)) {
			log_seterr(err, errsz, "cannot read the RSA key parameters");
			goto out;
		}
	}
	memset(&spec, 0, sizeof(spec));
	spec.e = v[0], spec.elen = vl[0];
	spec.n = v[1], spec.nlen = vl[1];
	spec.d = v[2], spec.dlen = vl[2];
	if (v[3] != NULL && v[4] != NULL && v[5] != NULL && v[6] != NULL && v[7] != NULL) {
		spec.p = v[3], spec.plen = vl[3];
		spec.q = v[4], spec.qlen = vl[4];
		spec.dp = v[5], spec.dplen = vl[5];
		spec.dq = v[6], spec.dqlen = vl[6];
		spec.qi = v[7], spec.qilen = vl[7];
	}
	rc = SU_ECRYPTO;
	*out = cjose_jwk_create_RSA_spec(&spec, &cerr);
	if (*out == NULL) {
		log_seterr(err, errsz, "cjose refused the RSA key");
		goto out;
	}
	rc = SU_OK;
out:
	for (i = 8; i-- > 0;)
		if (v[i] != NULL)
			OPENSSL_clear_free(v[i], vl[i]);
	EVP_PKEY_free(pk);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* jose_client_assertion(): see jose.h (RFC 7523 2.2, OIDC Core 9 private_key_jwt). */
enum su_rc
jose_client_assertion(const char *key_file, const char *kid, const char *client_id, const char *aud,
		      long long now, char **out, char *err, size_t errsz)
{
	enum su_rc rc = SU_EINVAL;
	cjose_jwk_t *jwk = NULL;
	cjose_header_t *hdr = NULL;
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	json_t *claims = NULL;
	char *body = NULL;
	const char *compact = NULL;
	char jti[32];

	if (out == NULL)
		goto out;
	*out = NULL;
	if (key_file == NULL || client_id == NULL || aud == NULL || client_id[0] == '\0' ||
	    aud[0] == '\0') {
		log_seterr(err, errsz, "client assertion needs a key file, client_id and audience");
		goto out;
	}
	rc = jose_rsa_jwk_from_pem(key_file, &jwk, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = xcrypt_random_token(jti, sizeof(jti), 16);
	if (rc != SU_OK) {
		log_seterr(err, errsz, "no randomness for jti");
		goto out;
	}
	rc = SU_ENOMEM;
	claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", client_id, "sub", client_id,
			   "aud", aud, "jti", jti, "iat", (json_int_t)now, "exp",
			   (json_int_t)(now + 60));
	if (claims == NULL)
		goto out;
	body = json_dumps(claims, JSON_COMPACT);
	if (body == NULL)
		goto out;
	hdr = cjose_header_new(&cerr);
	if (hdr == NULL)
		goto out;
	rc = SU_ECRYPTO;
	if (!cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_RS256, &cerr) ||
	    !cjose_header_set(hdr, "typ", "JWT", &cerr) ||
	    (kid != NULL && kid[0] != '\0' && !cjose_header_set(hdr, CJOSE_HDR_KID, kid, &cerr))) {
		log_seterr(err, errsz, "cannot build the assertion header");
		goto out;
	}
	jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)body, strlen(body), &cerr);
	if (jws == NULL || !cjose_jws_export(jws, &compact, &cerr) || compact == NULL) {
		log_seterr(err, errsz, "cannot sign the client assertion");
		goto out;
	}
	rc = SU_ENOMEM;
	*out = strdup(compact);
	if (*out == NULL)
		goto out;
	rc = SU_OK;
out:
	if (jws != NULL)
		cjose_jws_release(jws);
	if (hdr != NULL)
		cjose_header_release(hdr);
	free(body);
	json_decref(claims);
	if (jwk != NULL)
		cjose_jwk_release(jwk);
	return rc;
}
