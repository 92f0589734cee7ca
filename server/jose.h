/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * jose.h: JWKS parsing and JWS verification on cjose, with the checks cjose
 * and liboauth2 leave out: an algorithm allowlist applied *before* any
 * signature math, key choice by kid and key type, refusal of `none`, of
 * HS* (stepupd only trusts asymmetric OP keys), of `crit` headers.
 *
 * A struct jose_keyset is immutable once parsed: it may be shared between
 * threads read-only as long as the owner keeps it alive (see idp.c).
 * No I/O here.
 */
#ifndef STEPUPD_JOSE_H
#define STEPUPD_JOSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

struct jose_keyset;

/* jose_keyset_parse() parses a JWKS document ({"keys":[...]}). Keys whose
 * `use` is present and not "sig", and keys of unsupported kty, are skipped;
 * private parts are never needed. SU_EINVAL (with err) when the document is
 * not a JWKS or holds no usable key. Caller frees *out with jose_keyset_free(). */
enum su_rc jose_keyset_parse(const char *json, size_t len, struct jose_keyset **out, char *err,
			     size_t errsz);
void jose_keyset_free(struct jose_keyset *ks);
size_t jose_keyset_count(const struct jose_keyset *ks);
/* jose_keyset_kid() returns key i's kid ("" when none), i < count. */
const char *jose_keyset_kid(const struct jose_keyset *ks, size_t i);
/* jose_keyset_kty() returns key i's kty ("RSA", "EC"). */
const char *jose_keyset_kty(const struct jose_keyset *ks, size_t i);

/*
 * jose_jws_verify() verifies a compact JWS (an ID token) against ks.
 * 1. the header's alg must be one of allowed_algs (NULL-terminated list of
 *    RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512); "none" and HS*
 *    are always refused; a `crit` header is refused;
 * 2. with a kid: the key with that kid and the alg's kty; none found gives
 *    SU_ENOTFOUND (the caller may refresh the JWKS and retry);
 *    without a kid: accepted only when exactly one key of the alg's kty
 *    exists, else SU_EINVAL;
 * 3. the signature must verify.
 * On success *payload is the decoded claims object (caller json_decref()s).
 * On failure err names the reason ("alg none refused", "bad signature", ...).
 */
enum su_rc jose_jws_verify(const char *compact, const struct jose_keyset *ks,
			   const char *const *allowed_algs, json_t **payload, char *err, size_t errsz);

/* jose_alg_supported() says whether alg is one stepupd can be configured to accept. */
bool jose_alg_supported(const char *alg);

/*
 * jose_client_assertion() builds a private_key_jwt client assertion
 * (RFC 7523): RS256 over {iss=sub=client_id, aud, jti (random), iat, exp =
 * iat+60}, signed with the PEM private key in key_file; kid header when kid
 * is not NULL. *out is malloc'd; caller frees.
 */
enum su_rc jose_client_assertion(const char *key_file, const char *kid, const char *client_id,
				 const char *aud, long long now, char **out, char *err, size_t errsz);

#endif
