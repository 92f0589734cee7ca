/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_xcrypt.c: sealing, constant-time compare, base64url, PKCE, key files. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "xcrypt.h"

int
main(void)
{
	unsigned char k1[32], k2[32], *pt = NULL, raw[64];
	char *sealed = NULL, tok[64], ch[44], dir[] = "/tmp/stepupd-xcrypt-XXXXXX", path[128];
	size_t n = 0;

	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	T_OK(xcrypt_seal(k1, "aad", "hello", 5, &sealed) == SU_OK, "seal");
	T_OK(xcrypt_open(k1, "aad", sealed, &pt, &n) == SU_OK && n == 5 && memcmp(pt, "hello", 5) == 0,
	     "open gives the plaintext back");
	free(pt);
	pt = NULL;
	T_OK(xcrypt_open(k2, "aad", sealed, &pt, &n) == SU_EINVAL && pt == NULL, "another key does not open it");
	T_OK(xcrypt_open(k1, "other", sealed, &pt, &n) == SU_EINVAL, "another aad does not open it");
	for (size_t i = 0; i < strlen(sealed); i += 7) {
		char saved = sealed[i];
		int ok;

		sealed[i] = saved == 'A' ? 'B' : 'A';
		ok = xcrypt_open(k1, "aad", sealed, &pt, &n) == SU_EINVAL;
		sealed[i] = saved;
		if (!ok) {
			T_OK(0, "altered byte %zu refused", i);
			free(pt);
			pt = NULL;
		}
	}
	T_OK(1, "every altered byte refused");
	sealed[strlen(sealed) - 3] = '\0';
	T_OK(xcrypt_open(k1, "aad", sealed, &pt, &n) == SU_EINVAL, "truncated token refused");
	T_OK(xcrypt_open(k1, "aad", "", &pt, &n) == SU_EINVAL, "empty token refused");
	T_OK(xcrypt_open(k1, "aad", "!!!!", &pt, &n) == SU_EINVAL, "non-base64url refused");
	T_OK(xcrypt_open(k1, "aad", NULL, &pt, &n) == SU_EINVAL, "NULL refused");
	free(sealed);

	T_OK(xcrypt_streq("abc", "abc"), "equal strings compare equal");
	T_OK(!xcrypt_streq("abc", "abd"), "different strings differ");
	T_OK(!xcrypt_streq("abc", "abcd"), "prefix differs");
	T_OK(!xcrypt_streq(NULL, NULL), "NULL never equals NULL");
	T_OK(!xcrypt_streq("", NULL), "NULL never equals empty");

	T_OK(xcrypt_b64url_encode("\xfb\xff", 2, tok, sizeof(tok)) == 3 && strcmp(tok, "-_8") == 0,
	     "base64url uses - and _ and no padding");
	T_OK(xcrypt_b64url_decode("-_8", 3, raw, sizeof(raw), &n) == SU_OK && n == 2 && raw[0] == 0xfb,
	     "base64url decodes");
	T_OK(xcrypt_b64url_decode("-_9", 3, raw, sizeof(raw), &n) == SU_EINVAL, "non-canonical trailing bits refused");
	T_OK(xcrypt_b64url_decode("ab=c", 4, raw, sizeof(raw), &n) == SU_EINVAL, "padding refused");
	T_OK(xcrypt_b64url_encode("abc", 3, tok, 4) == 0, "encode refuses a short output buffer");

	/* RFC 7636 appendix B */
	xcrypt_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch);
	T_OK(strcmp(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") == 0, "PKCE S256 matches RFC 7636 B");

	T_OK(xcrypt_random_token(tok, sizeof(tok), 32) == SU_OK && strlen(tok) == 43, "256-bit token is 43 chars");

	T_OK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	{
		unsigned char a[32], b[32];
		char err[256];
		struct stat st;

		T_OK(xcrypt_key_load(path, a, err, sizeof(err)) == SU_OK, "key file created when missing");
		T_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "key file mode is 0600");
		T_OK(xcrypt_key_load(path, b, err, sizeof(err)) == SU_OK && memcmp(a, b, 32) == 0,
		     "key file read back gives the same key");
		chmod(path, 0644);
		T_OK(xcrypt_key_load(path, b, err, sizeof(err)) == SU_EDENIED, "group-readable key file refused");
		unlink(path);
		{
			FILE *f = fopen(path, "w");

			fputs("not hex at all, not hex at all, not hex at all, not hex at all!!\n", f);
			fclose(f);
			chmod(path, 0600);
		}
		T_OK(xcrypt_key_load(path, b, err, sizeof(err)) == SU_EINVAL, "garbage key file refused");
		unlink(path);
		rmdir(dir);
	}
	return T_DONE();
}
