/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* app.c: lookups on the running application state (see app.h). */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "buf.h"
#include "log.h"

struct idp *
app_idp(const struct app *a, const struct cfg_provider *p)
{
	for (size_t i = 0; i < a->cfg->n_providers; i++)
		if (&a->cfg->providers[i] == p)
			return a->idps ? a->idps[i] : NULL;
	return NULL;
}

enum su_rc
app_api_keys_load(struct app *a, const char *path, char *err, size_t errsz)
{
	enum su_rc rc = SU_EIO;
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	struct stat st;
	char **keys = NULL;
	size_t n = 0;
	int lineno = 0;

	if (f == NULL) {
		snprintf(err, errsz, "%s: cannot open API key file", path);
		return SU_EIO;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("%s: API key file is readable by group or others (chmod 600)", path);
	while (getline(&line, &cap, f) != -1) {
		char *p = line, *colon, **grown;
		size_t len;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		colon = strchr(p, ':');
		if (colon != NULL) {
			p = colon + 1;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			p[--len] = '\0';
		if (len < 16) {
			snprintf(err, errsz, "%s:%d: API key shorter than 16 characters", path, lineno);
			rc = SU_EINVAL;
			goto out;
		}
		grown = realloc(keys, (n + 2) * sizeof(*keys));
		if (grown == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		keys = grown;
		keys[n] = strdup(p);
		if (keys[n] == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		keys[++n] = NULL;
	}
	a->api_keys = keys;
	keys = NULL;
	rc = SU_OK;
out:
	if (keys != NULL) {
		for (size_t i = 0; i < n; i++)
			free(keys[i]);
		free(keys);
	}
	free(line);
	fclose(f);
	return rc;
}

bool
app_api_key_ok(const struct app *a, const char *token)
{
	bool ok = false;

	if (token == NULL || a->api_keys == NULL)
		return false;
	/* compare against every key, no early exit */
	for (size_t i = 0; a->api_keys[i] != NULL; i++)
		ok |= xcrypt_streq(a->api_keys[i], token);
	return ok;
}
