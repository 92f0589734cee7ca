/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * xcrypt.c: the OpenSSL primitives stepupd uses (see xcrypt.h). Nothing
 * here knows about HTTP or SQL. Secret comparisons are constant-time and
 * treat NULL as a mismatch; sealing is AES-256-GCM with a fresh random IV.
 */
#include "xcrypt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>

#define GCM_IV 12
#define GCM_TAG 16

/* xcrypt_random() fills p from the CSPRNG. */
enum su_rc
xcrypt_random(void *p, size_t n)
{
	if (n > (size_t)0x7fffffff)
		return SU_EINVAL;
	return RAND_bytes(p, (int)n) == 1 ? SU_OK : SU_ECRYPTO;
}

/* xcrypt_random_token() writes base64url of nbytes random bytes. */
enum su_rc
xcrypt_random_token(char *out, size_t outsz, size_t nbytes)
{
	unsigned char raw[64];
	enum su_rc rc;

	if (nbytes > sizeof(raw))
		return SU_EINVAL;
	rc = xcrypt_random(raw, nbytes);
	if (rc != SU_OK)
		return rc;
	if (xcrypt_b64url_encode(raw, nbytes, out, outsz) == 0)
		rc = SU_ETOOBIG;
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* OpenSSL 3's SHA256() looks the algorithm up on every call; /check
 * hashes a session id per request, so fetch it once */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
xcrypt_sha256(const void *p, size_t n, unsigned char out[32])
{
	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL || EVP_Digest(p, n, out, NULL, sha256_md, NULL) != 1)
		SHA256(p, n, out);
}

void
xcrypt_sha256_hex(const char *s, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];

	xcrypt_sha256(s, strlen(s), d);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

void
xcrypt_hmac_sha256(const unsigned char *key, size_t keylen, const void *msg, size_t n,
		   unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &len);
}

/* xcrypt_derive() = HMAC(master, "stepupd/" label): one subkey per use. */
void
xcrypt_derive(const unsigned char master[XCRYPT_KEY_LEN], const char *label,
	      unsigned char out[XCRYPT_KEY_LEN])
{
	char info[128];
	int n = snprintf(info, sizeof(info), "stepupd/%s", label);

	xcrypt_hmac_sha256(master, XCRYPT_KEY_LEN, info, (size_t)n, out);
}

bool
xcrypt_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (a == NULL || b == NULL || alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

bool
xcrypt_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	return xcrypt_equal(a, strlen(a), b, strlen(b));
}

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
xcrypt_b64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
	const unsigned char *p = in;
	size_t need = (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
	size_t o = 0;

	if (outsz < need + 1)
		return 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = b64u[(v >> 18) & 63];
		out[o++] = b64u[(v >> 12) & 63];
		if (left > 1)
			out[o++] = b64u[(v >> 6) & 63];
		if (left > 2)
			out[o++] = b64u[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64u_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

enum su_rc
xcrypt_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outsz, size_t *outlen)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return SU_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64u_val(in[i]);

		if (v < 0)
			return SU_EINVAL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outsz)
				return SU_ETOOBIG;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* leftover bits must be zero: one encoding per value */
	if (acc != 0)
		return SU_EINVAL;
	*outlen = o;
	return SU_OK;
}

/* xcrypt_seal(): base64url(iv | ciphertext | tag), AES-256-GCM, aad bound. */
enum su_rc
xcrypt_seal(const unsigned char key[XCRYPT_KEY_LEN], const char *aad, const void *pt, size_t n,
	    char **out)
{
	enum su_rc rc = SU_ECRYPTO;
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL;
	char *enc = NULL;
	size_t rawlen = GCM_IV + n + GCM_TAG, enclen = rawlen * 4 / 3 + 4;
	int len = 0;

	*out = NULL;
	if (n > 65536)
		return SU_ETOOBIG;
	raw = malloc(rawlen);
	enc = malloc(enclen);
	ctx = EVP_CIPHER_CTX_new();
	if (raw == NULL || enc == NULL || ctx == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	if (xcrypt_random(raw, GCM_IV) != SU_OK)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1)
		goto out;
	if (aad && EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1)
		goto out;
	if (EVP_EncryptUpdate(ctx, raw + GCM_IV, &len, pt, (int)n) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, raw + GCM_IV + len, &len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, raw + GCM_IV + n) != 1)
		goto out;
	if (xcrypt_b64url_encode(raw, rawlen, enc, enclen) == 0)
		goto out;
	*out = enc;
	enc = NULL;
	rc = SU_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	free(enc);
	return rc;
}

enum su_rc
xcrypt_open(const unsigned char key[XCRYPT_KEY_LEN], const char *aad, const char *in,
	    unsigned char **pt, size_t *n)
{
	enum su_rc rc = SU_EINVAL;
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL, *plain = NULL;
	size_t inlen, rawlen = 0, ctlen;
	int len = 0;

	*pt = NULL;
	*n = 0;
	if (in == NULL)
		return SU_EINVAL;
	inlen = strlen(in);
	if (inlen > 100000)
		return SU_EINVAL;
	raw = malloc(inlen);
	if (raw == NULL)
		return SU_ENOMEM;
	if (xcrypt_b64url_decode(in, inlen, raw, inlen, &rawlen) != SU_OK)
		goto out;
	if (rawlen < GCM_IV + GCM_TAG)
		goto out;
	ctlen = rawlen - GCM_IV - GCM_TAG;
	plain = malloc(ctlen + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (plain == NULL || ctx == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1)
		goto out;
	if (aad && EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1)
		goto out;
	if (EVP_DecryptUpdate(ctx, plain, &len, raw + GCM_IV, (int)ctlen) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, raw + GCM_IV + ctlen) != 1)
		goto out;
	/* the tag check: any altered byte, wrong key or wrong aad fails here */
	if (EVP_DecryptFinal_ex(ctx, plain + len, &len) != 1)
		goto out;
	plain[ctlen] = '\0';
	*pt = plain;
	*n = ctlen;
	plain = NULL;
	rc = SU_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	free(plain);
	return rc;
}

void
xcrypt_pkce_s256(const char *verifier, char out[44])
{
	unsigned char d[32];

	xcrypt_sha256(verifier, strlen(verifier), d);
	xcrypt_b64url_encode(d, sizeof(d), out, 44);
}

/* xcrypt_hexval(): see xcrypt.h. */
int
xcrypt_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xcrypt_key_load(): 64 hex chars (+ optional newline); created 0600 if missing. */
enum su_rc
xcrypt_key_load(const char *path, unsigned char key[XCRYPT_KEY_LEN], char *err, size_t errsz)
{
	enum su_rc rc = SU_EIO;
	char text[80];
	int fd = -1;
	ssize_t got;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		static const char hex[] = "0123456789abcdef";

		if (xcrypt_random(key, XCRYPT_KEY_LEN) != SU_OK) {
			snprintf(err, errsz, "%s: no random bytes", path);
			return SU_ECRYPTO;
		}
		for (int i = 0; i < XCRYPT_KEY_LEN; i++) {
			text[2 * i] = hex[key[i] >> 4];
			text[2 * i + 1] = hex[key[i] & 15];
		}
		text[64] = '\n';
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, text, 65) != 65) {
			snprintf(err, errsz, "%s: cannot create: %s", path, strerror(errno));
			goto out;
		}
		rc = SU_OK;
		goto out;
	}
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
		snprintf(err, errsz, "%s: readable by group or others (chmod 600)", path);
		rc = SU_EDENIED;
		goto out;
	}
	got = read(fd, text, sizeof(text) - 1);
	if (got < 64) {
		snprintf(err, errsz, "%s: expected 64 hex characters", path);
		rc = SU_EINVAL;
		goto out;
	}
	for (int i = 0; i < XCRYPT_KEY_LEN; i++) {
		int hi = xcrypt_hexval((unsigned char)text[2 * i]);
		int lo = xcrypt_hexval((unsigned char)text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errsz, "%s: expected 64 hex characters", path);
			rc = SU_EINVAL;
			goto out;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	rc = SU_OK;
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (fd >= 0)
		close(fd);
	return rc;
}
