/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * starttok.c: sealed start-URL tokens (see starttok.h). The plaintext is a
 * small JSON object; the seal is AES-256-GCM with the additional data
 * "stepupd start v1", so a token from any other sealed use of the same key
 * never opens as a start token. This module does not enforce single use:
 * the caller records the id in the store (store_start_token_use()).
 */
#include "starttok.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define STARTTOK_AAD "stepupd start v1"
#define STARTTOK_MAXLEN 8192

enum su_rc
starttok_make(const unsigned char key[XCRYPT_KEY_LEN], const char *session, const char *user,
	      const char *context, const char *return_to, const char *match_key, int64_t now,
	      int64_t ttl, char **out, int64_t *expires_at)
{
	enum su_rc rc = SU_ENOMEM;
	json_t *o = NULL;
	char *text = NULL;
	char id[32], sh[65] = "";

	*out = NULL;
	if (context == NULL || return_to == NULL)
		return SU_EINVAL;
	rc = xcrypt_random_token(id, sizeof(id), 16);
	if (rc != SU_OK)
		return rc;
	if (session != NULL && session[0] != '\0')
		xcrypt_sha256_hex(session, sh);
	o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s?, s:I}", "i", id, "s", sh, "u", user, "c",
		      context, "r", return_to, "m", match_key, "e", (json_int_t)(now + ttl));
	if (o == NULL) {
		rc = SU_EINVAL;
		goto out;
	}
	text = json_dumps(o, JSON_COMPACT);
	if (text == NULL)
		goto out;
	rc = xcrypt_seal(key, STARTTOK_AAD, text, strlen(text), out);
	if (rc == SU_OK && expires_at)
		*expires_at = now + ttl;
out:
	free(text);
	json_decref(o);
	return rc;
}

/* copy_str() duplicates the string member k of o into *dst (NULL when absent). */
static enum su_rc
copy_str(json_t *o, const char *k, char **dst, bool required)
{
	json_t *v = json_object_get(o, k);

	*dst = NULL;
	if (v == NULL || json_is_null(v))
		return required ? SU_EINVAL : SU_OK;
	if (!json_is_string(v))
		return SU_EINVAL;
	*dst = strdup(json_string_value(v));
	return *dst ? SU_OK : SU_ENOMEM;
}

enum su_rc
starttok_open(const unsigned char key[XCRYPT_KEY_LEN], const char *token, int64_t now,
	      struct starttok *t)
{
	enum su_rc rc = SU_EINVAL;
	unsigned char *pt = NULL;
	size_t n = 0;
	json_t *o = NULL, *v;
	const char *s;

	memset(t, 0, sizeof(*t));
	if (token == NULL || token[0] == '\0' || strlen(token) > STARTTOK_MAXLEN)
		return SU_EINVAL;
	rc = xcrypt_open(key, STARTTOK_AAD, token, &pt, &n);
	if (rc != SU_OK)
		goto out;
	rc = SU_EINVAL;
	o = json_loadb((const char *)pt, n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o))
		goto out;
	s = json_string_value(json_object_get(o, "i"));
	if (s == NULL || strlen(s) >= sizeof(t->id))
		goto out;
	memcpy(t->id, s, strlen(s) + 1);
	s = json_string_value(json_object_get(o, "s"));
	if (s == NULL || (strlen(s) != 0 && strlen(s) != 64))
		goto out;
	memcpy(t->session_hash, s, strlen(s) + 1);
	v = json_object_get(o, "e");
	if (!json_is_integer(v))
		goto out;
	t->expires_at = json_integer_value(v);
	if (copy_str(o, "u", &t->user, false) != SU_OK || copy_str(o, "c", &t->context, true) != SU_OK ||
	    copy_str(o, "r", &t->return_to, true) != SU_OK ||
	    copy_str(o, "m", &t->match_key, false) != SU_OK)
		goto out;
	if (now >= t->expires_at) {
		rc = SU_EEXPIRED;
		goto out;
	}
	rc = SU_OK;
out:
	if (rc != SU_OK && rc != SU_EEXPIRED)
		starttok_cleanup(t);
	json_decref(o);
	free(pt);
	return rc;
}

void
starttok_cleanup(struct starttok *t)
{
	free(t->user);
	free(t->context);
	free(t->return_to);
	free(t->match_key);
	t->user = t->context = t->return_to = t->match_key = NULL;
}
