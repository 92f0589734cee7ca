/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * idp.h: the running state of each OpenID provider: its discovery document
 * (fetched on first use, refused if its issuer differs, refreshed hourly),
 * its JWKS (cached; refreshed on an unknown kid at most once per 60 s; the
 * last good set is kept when a refresh fails), and the token exchange.
 * Thread-safe: one mutex per provider guards the cached documents.
 */
#ifndef STEPUPD_IDP_H
#define STEPUPD_IDP_H

#include <jansson.h>
#include <stdint.h>

#include "cfg.h"
#include "rc.h"

struct idp;

/* idp_new() makes the state for one OIDC provider; borrows p (which must
 * outlive it). Nothing is fetched yet. Free with idp_free(). */
enum su_rc idp_new(const struct cfg_provider *p, struct idp **out);
void idp_free(struct idp *d);
const struct cfg_provider *idp_provider(const struct idp *d);

/* idp_authorization_endpoint() copies the authorization endpoint into a
 * malloc'd *out, fetching discovery first if needed. */
enum su_rc idp_authorization_endpoint(struct idp *d, char **out, char *err, size_t errsz);

/* idp_iss_param_required() says whether the provider's discovery document
 * announced authorization_response_iss_parameter_supported (RFC 9207): then
 * an authorization response without `iss` is refused. False when no
 * discovery document is held. */
bool idp_iss_param_required(struct idp *d);

/* idp_token_exchange() POSTs grant_type=authorization_code with code,
 * redirect_uri and code_verifier to the token endpoint, authenticating as
 * the provider's token_auth says, and returns the id_token (malloc'd). */
enum su_rc idp_token_exchange(struct idp *d, const char *code, const char *code_verifier,
			      const char *redirect_uri, char **id_token, char *err, size_t errsz);

/* idp_id_token_verify() verifies the JWS with the cached keys and the
 * provider's id_token_algs; on an unknown kid it refreshes the JWKS (at most
 * once per 60 s) and tries once more. *payload: caller json_decref()s. */
enum su_rc idp_id_token_verify(struct idp *d, const char *jwt, json_t **payload, char *err,
			       size_t errsz);

/* For status pages and logs: a snapshot (strings malloc'd, free with idp_status_cleanup()). */
struct idp_status {
	int discovered;          /* 1 when a discovery document is held */
	int64_t discovered_at, jwks_fetched_at;
	size_t n_keys;
	char *kids;              /* space-separated key ids */
	char *last_error;        /* NULL when none */
};
void idp_status_get(struct idp *d, struct idp_status *st);
void idp_status_cleanup(struct idp_status *st);

/* Test hook: the minimum seconds between JWKS refreshes (default 60). */
void idp_set_refresh_interval(struct idp *d, int64_t seconds);

#endif
