/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * app.h: what a running stepupd holds for its whole life, built by main.c
 * before the HTTP daemon starts and read-only afterwards (the idp entries
 * guard their own caches). Handlers reach it through struct req.
 */
#ifndef STEPUPD_APP_H
#define STEPUPD_APP_H

#include <stddef.h>

#include "cfg.h"
#include "idp.h"
#include "xcrypt.h"

struct saml_sp;

struct app {
	const struct cfg *cfg;
	unsigned char start_key[XCRYPT_KEY_LEN]; /* seals start-URL tokens */
	struct idp **idps;       /* parallel to cfg->providers; NULL for non-OIDC */
	struct saml_sp **sps;    /* parallel to cfg->providers; NULL for non-SAML (saml.h) */
	char **api_keys;         /* NULL-terminated bearer tokens from [api] key_file */
	char *datadir;           /* holds templates/ and db/ */
	char *migrations_dir;    /* datadir/db/migrations */
};

/* app_idp() returns the runtime state of provider p (NULL if not OIDC). */
struct idp *app_idp(const struct app *a, const struct cfg_provider *p);
/* app_api_keys_load() reads one token per line ("name:token" or "token";
 * blank lines and # comments skipped; tokens shorter than 16 characters
 * refused). */
enum su_rc app_api_keys_load(struct app *a, const char *path, char *err, size_t errsz);
/* app_api_key_ok() checks a presented bearer token against every key in
 * constant time per key. */
bool app_api_key_ok(const struct app *a, const char *token);

#endif
