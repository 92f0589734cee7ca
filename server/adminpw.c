/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * adminpw.c: Argon2id hashing and checking of local admin passwords, the
 * slowdown arithmetic, and reading a password from the terminal without
 * echo (see adminpw.h). The salt comes from xcrypt_random(). It neither
 * stores nor logs anything.
 */
#include "adminpw.h"

#include <argon2.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "xcrypt.h"

/* adminpw_acceptable(): see adminpw.h. */
bool
adminpw_acceptable(const char *pw)
{
	size_t n = 0;

	if (pw == NULL)
		return false;
	for (; pw[n] != '\0'; n++)
		if ((unsigned char)pw[n] < 0x20 || (unsigned char)pw[n] == 0x7f)
			return false;
	return n >= ADMINPW_MIN_LEN && n <= ADMINPW_MAX_LEN;
}

/* adminpw_hash(): see adminpw.h; the salt is wiped afterwards. */
enum su_rc
adminpw_hash(const char *pw, char *out, size_t outsz)
{
	unsigned char salt[ADMINPW_SALT_LEN];
	enum su_rc rc = SU_EINVAL;
	size_t n;

	if (pw == NULL || out == NULL)
		goto out;
	n = strlen(pw);
	if (n > ADMINPW_MAX_LEN)
		goto out;
	rc = SU_ETOOBIG;
	if (argon2_encodedlen(ADMINPW_T_COST, ADMINPW_M_COST_KIB, ADMINPW_PARALLELISM,
			      ADMINPW_SALT_LEN, ADMINPW_HASH_LEN, Argon2_id) > outsz)
		goto out;
	rc = xcrypt_random(salt, sizeof(salt));
	if (rc != SU_OK)
		goto out;
	rc = SU_ECRYPTO;
	if (argon2id_hash_encoded(ADMINPW_T_COST, ADMINPW_M_COST_KIB, ADMINPW_PARALLELISM, pw, n, salt,
				  sizeof(salt), ADMINPW_HASH_LEN, out, outsz) != ARGON2_OK)
		goto out;
	rc = SU_OK;
out:
	explicit_bzero(salt, sizeof(salt));
	return rc;
}

/* adminpw_verify(): see adminpw.h. */
/* adminpw_param() reads the number after "key=" in the parameter part of
 * an encoded hash ("$argon2id$v=19$m=65536,t=3,p=1$..."); -1 when absent. */
static long
adminpw_param(const char *encoded, const char *key)
{
	const char *params = strstr(encoded + 10, "$m=");
	const char *p;
	char *end;
	long v;

	if (params == NULL)
		return -1;
	params++;
	for (p = params; *p && *p != '$'; p++) {
		if ((p == params || p[-1] == ',') && strncmp(p, key, strlen(key)) == 0) {
			v = strtol(p + strlen(key), &end, 10);
			return (end != p + strlen(key) && v >= 0) ? v : -1;
		}
	}
	return -1;
}

/* adminpw_costs_ok() says whether an encoded hash was made with at least
 * the costs stepupd uses: a weaker one (planted in the database, or left
 * from an older setting) is refused rather than checked. */
static bool
adminpw_costs_ok(const char *encoded)
{
	return adminpw_param(encoded, "m=") >= ADMINPW_M_COST_KIB && adminpw_param(encoded, "t=") >= ADMINPW_T_COST &&
	       adminpw_param(encoded, "p=") >= 1;
}

enum su_rc
adminpw_verify(const char *encoded, const char *pw)
{
	int r;

	if (encoded == NULL || pw == NULL || strncmp(encoded, "$argon2id$", 10) != 0 ||
	    strlen(encoded) >= ADMINPW_ENCODED_MAX || strlen(pw) > ADMINPW_MAX_LEN ||
	    !adminpw_costs_ok(encoded))
		return SU_EINVAL;
	r = argon2id_verify(encoded, pw, strlen(pw));
	if (r == ARGON2_OK)
		return SU_OK;
	if (r == ARGON2_VERIFY_MISMATCH)
		return SU_EDENIED;
	return SU_EINVAL;
}

/* A hash of a random password nobody knows, made with the costs above, so
 * that checking it costs what checking a real one does. */
static const char adminpw_dummy[] =
	"$argon2id$v=19$m=65536,t=3,p=1$c3RlcHVwZC1kdW1teS1zYWx0$"
	"Vn0Yh0dV6bqQOE3m2bpMNdC0x7Gq9f6NwWmQyvN9c7o";

/* adminpw_dummy_verify(): see adminpw.h. */
enum su_rc
adminpw_dummy_verify(const char *pw)
{
	return adminpw_verify(adminpw_dummy, pw ? pw : "");
}

/* adminpw_wait(): see adminpw.h; the doubling stops at the cap, so a huge
 * failure count cannot overflow. */
int64_t
adminpw_wait(int64_t failures, int64_t last, int64_t now, int64_t base)
{
	int64_t wait, until;

	if (failures < ADMINPW_FREE_FAILURES || base <= 0)
		return 0;
	wait = base;
	for (int64_t i = ADMINPW_FREE_FAILURES; i < failures && wait < ADMINPW_WAIT_MAX; i++)
		wait *= 2;
	if (wait > ADMINPW_WAIT_MAX)
		wait = ADMINPW_WAIT_MAX;
	until = last + wait;
	return now < until ? until - now : 0;
}

/* adminpw_read(): see adminpw.h. */
enum su_rc
adminpw_read(FILE *f, char *buf, size_t bufsz)
{
	struct termios old, quiet;
	bool tty = isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0;
	enum su_rc rc = SU_EIO;
	size_t n;

	if (bufsz < 2)
		return SU_ETOOBIG;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		if (tcsetattr(fileno(f), TCSAFLUSH, &quiet) != 0)
			return SU_EIO;
	}
	if (fgets(buf, (int)bufsz, f) == NULL)
		goto out;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '\r')
			buf[--n] = '\0';
	} else if (!feof(f)) {
		/* the line did not fit: drop it, never use a cut password */
		int c;

		while ((c = fgetc(f)) != EOF && c != '\n')
			;
		explicit_bzero(buf, bufsz);
		rc = SU_ETOOBIG;
		goto out;
	}
	rc = SU_OK;
out:
	if (tty)
		tcsetattr(fileno(f), TCSAFLUSH, &old);
	return rc;
}
