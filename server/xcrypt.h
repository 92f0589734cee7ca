/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * xcrypt.h: every use of OpenSSL's primitives by stepupd goes through here:
 * the CSPRNG, SHA-256, HMAC, AES-256-GCM sealing, constant-time comparison,
 * base64url and PKCE. (cjose does the JOSE work in jose.c.)
 */
#ifndef STEPUPD_XCRYPT_H
#define STEPUPD_XCRYPT_H

#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

#define XCRYPT_KEY_LEN 32

/* xcrypt_random() fills p with n bytes from the CSPRNG (RAND_bytes). */
enum su_rc xcrypt_random(void *p, size_t n);
/* xcrypt_random_token() writes base64url(nbytes random bytes) to out
 * (NUL-terminated). out must hold 4*nbytes/3+3 bytes. */
enum su_rc xcrypt_random_token(char *out, size_t outsz, size_t nbytes);
/* xcrypt_sha256() hashes n bytes into out. */
void xcrypt_sha256(const void *p, size_t n, unsigned char out[32]);
/* xcrypt_sha256_hex() writes the lowercase hex SHA-256 of the string s. */
void xcrypt_sha256_hex(const char *s, char out[65]);
/* xcrypt_hexval() returns the value of hex digit c (either case), or -1. */
int xcrypt_hexval(unsigned char c);
/* xcrypt_hmac_sha256() computes HMAC-SHA-256(key, msg). */
void xcrypt_hmac_sha256(const unsigned char *key, size_t keylen, const void *msg, size_t n,
			unsigned char out[32]);
/* xcrypt_derive() derives a 32-byte subkey for purpose `label` from master. */
void xcrypt_derive(const unsigned char master[XCRYPT_KEY_LEN], const char *label,
		   unsigned char out[XCRYPT_KEY_LEN]);
/* xcrypt_equal() compares in constant time for equal lengths. A NULL
 * argument never compares equal, not even to NULL (fail closed). */
bool xcrypt_equal(const void *a, size_t alen, const void *b, size_t blen);
/* xcrypt_streq() is xcrypt_equal() for C strings. */
bool xcrypt_streq(const char *a, const char *b);
/* xcrypt_b64url_encode() writes unpadded base64url; returns its length, or 0
 * when out is too small. */
size_t xcrypt_b64url_encode(const void *in, size_t n, char *out, size_t outsz);
/* xcrypt_b64url_decode() decodes unpadded base64url; SU_EINVAL on any
 * character outside the alphabet, SU_ETOOBIG if out is too small. */
enum su_rc xcrypt_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
				size_t *outlen);
/* xcrypt_seal() encrypts and authenticates pt with AES-256-GCM (random
 * 96-bit IV, `aad` bound in) and returns base64url(iv|ct|tag) in *out,
 * which the caller frees. */
enum su_rc xcrypt_seal(const unsigned char key[XCRYPT_KEY_LEN], const char *aad, const void *pt,
		       size_t n, char **out);
/* xcrypt_open() reverses xcrypt_seal(). Any alteration, a wrong key or a
 * wrong aad gives SU_EINVAL. *pt (NUL-terminated, caller frees) and *n on
 * success. */
enum su_rc xcrypt_open(const unsigned char key[XCRYPT_KEY_LEN], const char *aad, const char *in,
		       unsigned char **pt, size_t *n);
/* xcrypt_pkce_s256() writes BASE64URL(SHA256(verifier)) (43 chars + NUL). */
void xcrypt_pkce_s256(const char *verifier, char out[44]);
/* xcrypt_key_load() reads a 32-byte key stored as 64 hex characters from
 * path, creating it (mode 0600) when it does not exist. */
enum su_rc xcrypt_key_load(const char *path, unsigned char key[XCRYPT_KEY_LEN], char *err,
			   size_t errsz);

#endif
