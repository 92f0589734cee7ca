/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * oidc.h: OpenID Connect protocol logic without I/O: the authorization
 * request, the discovery document, the token response, and the ID token's
 * claims checks (SPEC 2.1 step 3, OIDC Core 3.1.3.7). Signature checking is
 * jose.c's; fetching is idp.c's. Everything here is unit-tested and fuzzed.
 */
#ifndef STEPUPD_OIDC_H
#define STEPUPD_OIDC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rc.h"

struct oidc_authz {
	const char *authorization_endpoint;
	const char *client_id;
	const char *redirect_uri;
	const char *scope;           /* must contain "openid" (added if missing) */
	const char *state;
	const char *nonce;
	const char *code_challenge;  /* S256 */
	const char *login_hint;      /* NULL: not sent */
	const char *const *acrs;     /* Entra style, NULL-terminated or NULL */
	const char *const *acr;      /* standard, NULL-terminated or NULL */
	int64_t max_age;             /* < 0: not sent */
	bool prompt_login;           /* send prompt=login */
};

/* oidc_authz_url() builds the authorization request URL (every value
 * percent-encoded; `&` or `?` joined to the endpoint correctly), with
 * response_type=code, code_challenge_method=S256 and:
 *   acrs: claims={"id_token":{"acrs":{"essential":true,"value":V}}} when one
 *         value, "values":[...] when several;
 *   acr:  claims={"id_token":{"acr":{"essential":true,"values":[...]}}} and
 *         acr_values="v1 v2";
 *   both: both claims members.
 * *out is malloc'd; caller frees. */
enum su_rc oidc_authz_url(const struct oidc_authz *a, char **out);

struct oidc_discovery {
	char *issuer, *authorization_endpoint, *token_endpoint, *jwks_uri;
	/* authorization_response_iss_parameter_supported (RFC 9207 3): when
	 * true, an authorization response without `iss` is refused */
	bool iss_param_supported;
};
/* oidc_discovery_parse() parses a discovery document and refuses it unless
 * `issuer` equals expected_issuer exactly and the three endpoints are
 * absolute http(s) URLs. Strings in *out are malloc'd; free with
 * oidc_discovery_cleanup(). */
enum su_rc oidc_discovery_parse(const char *body, size_t len, const char *expected_issuer,
				struct oidc_discovery *out, char *err, size_t errsz);
void oidc_discovery_cleanup(struct oidc_discovery *d);

/* oidc_token_response_parse() reads a token endpoint answer: status must be
 * 200, the body a JSON object with a string id_token and token_type Bearer
 * (case-insensitive) when present; an `error` member is reported in err.
 * *id_token is malloc'd; caller frees. */
enum su_rc oidc_token_response_parse(long status, const char *body, size_t len, char **id_token,
				     char *err, size_t errsz);

/* What the ID token must show (SPEC 2.1 step 3). */
struct oidc_expect {
	const char *issuer;          /* exact */
	const char *client_id;       /* in aud; azp == client_id when present, required when aud has several values */
	const char *nonce;           /* exact (constant-time) */
	const char *const *acrs;     /* returned acrs must contain one of these */
	const char *const *acr;      /* returned acr must be one of these */
	int64_t max_age;             /* auth_time required; auth_time >= flow_created_at - max_age - skew */
	int64_t flow_created_at;     /* when the authorization request was sent */
	int64_t now;
	int64_t skew;                /* seconds of clock skew allowed (stepupd uses 60) */
	const char *subject_claim;   /* claim compared with user; "sub" by default */
	const char *user;            /* NULL: no subject binding */
	bool no_context;             /* admin sign-in: neither acrs nor acr is asked or checked */
};

struct oidc_result {
	char *sub;                   /* malloc'd */
	char *subject;               /* value of subject_claim (malloc'd) */
	char *acr;                   /* the acr or acrs value that met the context (malloc'd) */
	char *amr;                   /* JSON array text (malloc'd), "[]" when absent */
	int64_t auth_time;
};

/* oidc_id_token_check() applies every claims check to a verified payload:
 * iss, aud, azp, exp, iat (required), nbf, nonce, sub (required, non-empty
 * string), auth_time and max_age, the context (acrs or acr), and the subject
 * binding. The first failure gives SU_EDENIED/SU_EINVAL/SU_EEXPIRED with err
 * naming the claim. On success fills *out (free with oidc_result_cleanup()). */
enum su_rc oidc_id_token_check(const struct oidc_expect *x, json_t *claims, struct oidc_result *out,
			       char *err, size_t errsz);
void oidc_result_cleanup(struct oidc_result *r);

#endif
