/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * oidc.c: the OpenID Connect protocol core of stepupd (see oidc.h): it builds
 * the authorization request URL (PKCE S256, nonce, acr/acrs claims request,
 * max_age, prompt, login_hint), parses the discovery document and the token
 * endpoint's answer, and applies every claims check of OIDC Core 3.1.3.7 and
 * SPEC 2.1 step 3 to an ID token whose signature jose.c has already verified.
 *
 * What it does not do: any I/O (idp.c fetches, http.c answers), signature
 * checking (jose.c), storing anything. It never trusts what was asked for:
 * the context is judged only from the claims that came back. Error messages
 * are short, name the failing claim and never contain a token.
 */
#include "oidc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "xcrypt.h"

#define OIDC_MAX_URL 16384            /* longest authorization URL built */
#define OIDC_MAX_DOC (512 * 1024)     /* largest discovery document / token response */
#define OIDC_MAX_ENDPOINT 2048        /* longest endpoint URL accepted */
#define OIDC_MAX_SUB 255              /* OIDC Core 2: sub is at most 255 ASCII characters */
#define OIDC_MAX_SUBJECT 1024         /* longest subject_claim value used */
#define OIDC_MAX_AMR 2048             /* longest amr JSON text kept */
#define OIDC_TIME_MAX (1LL << 40)     /* NumericDate values beyond this are refused */
#define OIDC_IAT_MAX_AGE 600          /* iat may precede the flow by at most this */

/* oidc_list_empty() says whether a NULL-terminated list holds no value. */
static bool
oidc_list_empty(const char *const *l)
{
	return l == NULL || l[0] == NULL;
}

/* oidc_pct_puts() appends s percent-encoded: RFC 3986 2.3 unreserved
 * characters are kept, every other byte becomes %XX (upper case). */
static enum su_rc
oidc_pct_puts(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	enum su_rc rc = SU_OK;
	size_t i;

	for (i = 0; s[i] != '\0' && rc == SU_OK; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = buf_append(b, &s[i], 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = buf_append(b, e, 3);
		}
	}
	return rc;
}

/* oidc_param() appends "&name=value" (no '&' before the first parameter). */
static enum su_rc
oidc_param(struct buf *b, bool *first, const char *name, const char *value)
{
	enum su_rc rc;

	if (!*first) {
		rc = buf_append(b, "&", 1);
		if (rc != SU_OK)
			return rc;
	}
	*first = false;
	rc = buf_puts(b, name);
	if (rc == SU_OK)
		rc = buf_append(b, "=", 1);
	if (rc == SU_OK)
		rc = oidc_pct_puts(b, value);
	return rc;
}

/* oidc_url_ok() says whether u is an absolute http(s) URL fit to be an
 * endpoint: a non-empty host, no user-info, no fragment (RFC 6749 3.1, 3.2),
 * printable ASCII without spaces or backslashes, bounded length. */
static bool
oidc_url_ok(const char *u)
{
	size_t i, n, start;

	if (u == NULL)
		return false;
	n = strnlen(u, OIDC_MAX_ENDPOINT + 1);
	if (n > OIDC_MAX_ENDPOINT)
		return false;
	if (strncasecmp(u, "https://", 8) == 0)
		start = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		start = 7;
	else
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#')
			return false;
	}
	/* authority: up to the first '/' or '?' */
	for (i = start; i < n && u[i] != '/' && u[i] != '?'; i++)
		if (u[i] == '@')
			return false;
	if (i == start || u[start] == ':')
		return false;
	return true;
}

/* oidc_scope_has_openid() says whether the space-separated scope list holds
 * the token "openid" (OIDC Core 3.1.2.1: it must). */
static bool
oidc_scope_has_openid(const char *scope)
{
	const char *p = scope;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 6 && strncmp(p, "openid", 6) == 0)
			return true;
		p += n;
	}
	return false;
}

/* oidc_claims_json() builds the `claims` request parameter (OIDC Core 5.5)
 * asking for acrs (Entra style) and/or acr as essential ID-token claims.
 * *out is malloc'd (NULL when neither list is set). */
static enum su_rc
oidc_claims_json(const struct oidc_authz *a, char **out)
{
	enum su_rc rc = SU_ENOMEM;
	json_t *root = NULL, *idt, *m, *arr;
	size_t i;

	*out = NULL;
	if (oidc_list_empty(a->acrs) && oidc_list_empty(a->acr))
		return SU_OK;
	root = json_object();
	idt = json_object();
	if (root == NULL || idt == NULL || json_object_set_new(root, "id_token", idt) != 0)
		goto out;
	if (!oidc_list_empty(a->acrs)) {
		m = json_object();
		if (m == NULL || json_object_set_new(idt, "acrs", m) != 0 ||
		    json_object_set_new(m, "essential", json_true()) != 0)
			goto out;
		if (a->acrs[1] == NULL) {
			if (json_object_set_new(m, "value", json_string(a->acrs[0])) != 0)
				goto out;
		} else {
			arr = json_array();
			if (arr == NULL || json_object_set_new(m, "values", arr) != 0)
				goto out;
			for (i = 0; a->acrs[i] != NULL; i++)
				if (json_array_append_new(arr, json_string(a->acrs[i])) != 0)
					goto out;
		}
	}
	if (!oidc_list_empty(a->acr)) {
		m = json_object();
		arr = json_array();
		if (m == NULL || json_object_set_new(idt, "acr", m) != 0 ||
		    json_object_set_new(m, "essential", json_true()) != 0 || arr == NULL ||
		    json_object_set_new(m, "values", arr) != 0)
			goto out;
		for (i = 0; a->acr[i] != NULL; i++)
			if (json_array_append_new(arr, json_string(a->acr[i])) != 0)
				goto out;
	}
	*out = json_dumps(root, JSON_COMPACT);
	if (*out == NULL)
		goto out;
	rc = SU_OK;
out:
	json_decref(root);
	return rc;
}

/* oidc_authz_url(): see oidc.h (OIDC Core 3.1.2.1, RFC 7636 4.3). */
enum su_rc
oidc_authz_url(const struct oidc_authz *a, char **out)
{
	enum su_rc rc = SU_EINVAL;
	struct buf b, tmp;
	char *claims = NULL;
	const char *q;
	bool first = true;
	size_t i, elen;

	buf_init(&b, OIDC_MAX_URL);
	buf_init(&tmp, OIDC_MAX_URL);
	if (out == NULL)
		goto out;
	*out = NULL;
	if (a == NULL || !oidc_url_ok(a->authorization_endpoint) || a->client_id == NULL ||
	    a->redirect_uri == NULL || a->state == NULL || a->nonce == NULL ||
	    a->code_challenge == NULL || a->client_id[0] == '\0' || a->state[0] == '\0' ||
	    a->nonce[0] == '\0' || a->code_challenge[0] == '\0')
		goto out;

	rc = buf_puts(&b, a->authorization_endpoint);
	if (rc != SU_OK)
		goto out;
	/* RFC 6749 3.1: the endpoint may carry a query, which must be kept. */
	q = strchr(a->authorization_endpoint, '?');
	elen = strlen(a->authorization_endpoint);
	if (q == NULL)
		rc = buf_append(&b, "?", 1);
	else if (a->authorization_endpoint[elen - 1] != '?' && a->authorization_endpoint[elen - 1] != '&')
		rc = buf_append(&b, "&", 1);
	if (rc != SU_OK)
		goto out;

	/* scope must contain openid (OIDC Core 3.1.2.1) */
	if (a->scope == NULL || a->scope[0] == '\0')
		rc = buf_puts(&tmp, "openid");
	else if (oidc_scope_has_openid(a->scope))
		rc = buf_puts(&tmp, a->scope);
	else
		rc = buf_printf(&tmp, "openid %s", a->scope);
	if (rc != SU_OK)
		goto out;

	rc = oidc_param(&b, &first, "response_type", "code");
	if (rc == SU_OK)
		rc = oidc_param(&b, &first, "client_id", a->client_id);
	if (rc == SU_OK)
		rc = oidc_param(&b, &first, "redirect_uri", a->redirect_uri);
	if (rc == SU_OK)
		rc = oidc_param(&b, &first, "scope", buf_cstr(&tmp));
	if (rc == SU_OK)
		rc = oidc_param(&b, &first, "state", a->state);
	if (rc == SU_OK)
		rc = oidc_param(&b, &first, "nonce", a->nonce);
	if (rc == SU_OK)
		rc = oidc_param(&b, &first, "code_challenge", a->code_challenge);
	if (rc == SU_OK)
		rc = oidc_param(&b, &first, "code_challenge_method", "S256");
	if (rc == SU_OK && a->login_hint != NULL && a->login_hint[0] != '\0')
		rc = oidc_param(&b, &first, "login_hint", a->login_hint);
	if (rc != SU_OK)
		goto out;

	/* acr_values (OIDC Core 3.1.2.1): space-separated, standard contexts only */
	if (!oidc_list_empty(a->acr)) {
		buf_reset(&tmp);
		for (i = 0; a->acr[i] != NULL && rc == SU_OK; i++) {
			if (i > 0)
				rc = buf_append(&tmp, " ", 1);
			if (rc == SU_OK)
				rc = buf_puts(&tmp, a->acr[i]);
		}
		if (rc == SU_OK)
			rc = oidc_param(&b, &first, "acr_values", buf_cstr(&tmp));
		if (rc != SU_OK)
			goto out;
	}
	rc = oidc_claims_json(a, &claims);
	if (rc == SU_OK && claims != NULL)
		rc = oidc_param(&b, &first, "claims", claims);
	if (rc == SU_OK && a->max_age >= 0) {
		char num[24];

		snprintf(num, sizeof(num), "%lld", (long long)a->max_age);
		rc = oidc_param(&b, &first, "max_age", num);
	}
	if (rc == SU_OK && a->prompt_login)
		rc = oidc_param(&b, &first, "prompt", "login");
	if (rc != SU_OK)
		goto out;

	*out = buf_steal(&b);
	rc = *out != NULL ? SU_OK : SU_ENOMEM;
out:
	free(claims);
	buf_cleanup(&tmp);
	buf_cleanup(&b);
	return rc;
}

/* oidc_discovery_cleanup() frees the strings of d and clears it. */
void
oidc_discovery_cleanup(struct oidc_discovery *d)
{
	if (d == NULL)
		return;
	free(d->issuer);
	free(d->authorization_endpoint);
	free(d->token_endpoint);
	free(d->jwks_uri);
	memset(d, 0, sizeof(*d));
}

/* oidc_doc_endpoint() copies the endpoint member `name` of a discovery
 * document after checking it is an absolute http(s) URL. */
static enum su_rc
oidc_doc_endpoint(json_t *root, const char *name, char **out, char *err, size_t errsz)
{
	const char *v = json_string_value(json_object_get(root, name));

	if (v == NULL) {
		log_seterr(err, errsz, "discovery document has no %s", name);
		return SU_EIDP;
	}
	if (!oidc_url_ok(v)) {
		log_seterr(err, errsz, "discovery %s is not an absolute http(s) URL", name);
		return SU_EIDP;
	}
	*out = strdup(v);
	return *out != NULL ? SU_OK : SU_ENOMEM;
}

/* oidc_discovery_parse(): see oidc.h (OIDC Discovery 3 and 4.3). */
enum su_rc
oidc_discovery_parse(const char *body, size_t len, const char *expected_issuer,
		     struct oidc_discovery *out, char *err, size_t errsz)
{
	enum su_rc rc = SU_EIDP;
	json_t *root = NULL;
	json_error_t jerr;
	const char *iss;
	char c1[96], c2[96];

	if (out == NULL)
		return SU_EINVAL;
	memset(out, 0, sizeof(*out));
	if (expected_issuer == NULL) {
		rc = SU_EINVAL;
		log_seterr(err, errsz, "no issuer configured");
		goto out;
	}
	if (body == NULL || len == 0 || len > OIDC_MAX_DOC) {
		log_seterr(err, errsz, "discovery document is empty or too large");
		goto out;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		log_seterr(err, errsz, "discovery document is not a JSON object");
		goto out;
	}
	/* OIDC Discovery 4.3: issuer must be identical to the one configured. */
	iss = json_string_value(json_object_get(root, "issuer"));
	if (iss == NULL) {
		log_seterr(err, errsz, "discovery document has no issuer");
		goto out;
	}
	if (strcmp(iss, expected_issuer) != 0) {
		log_seterr(err, errsz, "discovery issuer %s does not match configured issuer %s",
			   log_clean(iss, c1, sizeof(c1)), log_clean(expected_issuer, c2, sizeof(c2)));
		goto out;
	}
	rc = SU_ENOMEM;
	out->issuer = strdup(iss);
	if (out->issuer == NULL)
		goto out;
	rc = oidc_doc_endpoint(root, "authorization_endpoint", &out->authorization_endpoint, err,
			       errsz);
	if (rc == SU_OK)
		rc = oidc_doc_endpoint(root, "token_endpoint", &out->token_endpoint, err, errsz);
	if (rc == SU_OK)
		rc = oidc_doc_endpoint(root, "jwks_uri", &out->jwks_uri, err, errsz);
	if (rc != SU_OK)
		goto out;
	out->iss_param_supported =
		json_is_true(json_object_get(root, "authorization_response_iss_parameter_supported"));
	rc = SU_OK;
out:
	if (rc != SU_OK)
		oidc_discovery_cleanup(out);
	json_decref(root);
	return rc;
}

/* oidc_token_response_parse(): see oidc.h (OIDC Core 3.1.3.3-3.1.3.4, RFC 6749 5.1-5.2). */
enum su_rc
oidc_token_response_parse(long status, const char *body, size_t len, char **id_token, char *err,
			  size_t errsz)
{
	enum su_rc rc = SU_EIDP;
	json_t *root = NULL, *v;
	json_error_t jerr;
	const char *e, *desc, *tt, *idt;
	char c1[64], c2[128];

	if (id_token == NULL)
		return SU_EINVAL;
	*id_token = NULL;
	if (body != NULL && len > 0 && len <= OIDC_MAX_DOC)
		root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	/* RFC 6749 5.2: an error answer names the error; show it (cleaned). */
	e = json_string_value(json_object_get(root, "error"));
	if (json_is_object(root) && json_object_get(root, "error") != NULL) {
		desc = json_string_value(json_object_get(root, "error_description"));
		if (desc != NULL)
			log_seterr(err, errsz, "token endpoint error: %s: %s",
				   log_clean(e != NULL ? e : "?", c1, sizeof(c1)),
				   log_clean(desc, c2, sizeof(c2)));
		else
			log_seterr(err, errsz, "token endpoint error: %s",
				   log_clean(e != NULL ? e : "?", c1, sizeof(c1)));
		goto out;
	}
	if (status != 200) {
		log_seterr(err, errsz, "token endpoint answered HTTP %ld", status);
		goto out;
	}
	if (root == NULL) {
		log_seterr(err, errsz, "token response is not JSON");
		goto out;
	}
	if (!json_is_object(root)) {
		log_seterr(err, errsz, "token response is not a JSON object");
		goto out;
	}
	/* RFC 6749 5.1 / OIDC Core 3.1.3.3: token_type Bearer (case-insensitive). */
	v = json_object_get(root, "token_type");
	if (v != NULL) {
		tt = json_string_value(v);
		if (tt == NULL || strcasecmp(tt, "Bearer") != 0) {
			log_seterr(err, errsz, "token_type %s is not Bearer",
				   log_clean(tt != NULL ? tt : "(not a string)", c1, sizeof(c1)));
			goto out;
		}
	}
	idt = json_string_value(json_object_get(root, "id_token"));
	if (idt == NULL || idt[0] == '\0') {
		log_seterr(err, errsz, "token response has no id_token");
		goto out;
	}
	rc = SU_ENOMEM;
	*id_token = strdup(idt);
	if (*id_token == NULL)
		goto out;
	rc = SU_OK;
out:
	json_decref(root);
	return rc;
}

/* oidc_result_cleanup() frees the strings of r and clears it. */
void
oidc_result_cleanup(struct oidc_result *r)
{
	if (r == NULL)
		return;
	free(r->sub);
	free(r->subject);
	free(r->acr);
	free(r->amr);
	memset(r, 0, sizeof(*r));
}

/* oidc_time() reads the NumericDate claim `name` (RFC 7519 2: a JSON number
 * of seconds, fractions allowed and truncated). *present says whether it was
 * there; a value that is not a number or is out of range is SU_EINVAL. */
static enum su_rc
oidc_time(json_t *claims, const char *name, int64_t *out, bool *present, char *err, size_t errsz)
{
	json_t *v = json_object_get(claims, name);
	double d;

	*present = v != NULL;
	*out = 0;
	if (v == NULL)
		return SU_OK;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0 || i > OIDC_TIME_MAX)
			goto bad;
		*out = (int64_t)i;
		return SU_OK;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (!(d >= 0.0 && d <= (double)OIDC_TIME_MAX))
			goto bad;
		*out = (int64_t)d;
		return SU_OK;
	}
bad:
	log_seterr(err, errsz, "%s is not a valid time", name);
	return SU_EINVAL;
}

/* oidc_clamp() bounds a configured duration to [0, OIDC_TIME_MAX] so the
 * time arithmetic below cannot overflow. */
static int64_t
oidc_clamp(int64_t v)
{
	if (v < 0)
		return 0;
	return v > OIDC_TIME_MAX ? OIDC_TIME_MAX : v;
}

/* oidc_check_aud() applies OIDC Core 3.1.3.7 steps 3-5: aud is a string or
 * an array of strings containing client_id; with several audiences azp is
 * required; azp, when present, equals client_id. */
static enum su_rc
oidc_check_aud(const struct oidc_expect *x, json_t *claims, char *err, size_t errsz)
{
	json_t *aud = json_object_get(claims, "aud"), *v, *azp;
	size_t i, n;
	bool found = false;

	if (aud == NULL) {
		log_seterr(err, errsz, "aud missing");
		return SU_EINVAL;
	}
	if (json_is_string(aud)) {
		n = 1;
		found = strcmp(json_string_value(aud), x->client_id) == 0;
	} else if (json_is_array(aud)) {
		n = json_array_size(aud);
		if (n == 0) {
			log_seterr(err, errsz, "aud is empty");
			return SU_EINVAL;
		}
		json_array_foreach(aud, i, v) {
			if (!json_is_string(v)) {
				log_seterr(err, errsz, "aud holds a non-string value");
				return SU_EINVAL;
			}
			if (strcmp(json_string_value(v), x->client_id) == 0)
				found = true;
		}
	} else {
		log_seterr(err, errsz, "aud is not a string or array");
		return SU_EINVAL;
	}
	if (!found) {
		log_seterr(err, errsz, "aud does not contain our client_id");
		return SU_EDENIED;
	}
	azp = json_object_get(claims, "azp");
	if (azp == NULL && n > 1) {
		log_seterr(err, errsz, "azp missing (aud has several values)");
		return SU_EINVAL;
	}
	if (azp != NULL) {
		if (!json_is_string(azp)) {
			log_seterr(err, errsz, "azp is not a string");
			return SU_EINVAL;
		}
		if (strcmp(json_string_value(azp), x->client_id) != 0) {
			log_seterr(err, errsz, "azp is not our client_id");
			return SU_EDENIED;
		}
	}
	return SU_OK;
}

/* oidc_check_times() applies OIDC Core 3.1.3.7 steps 9, 10 and 13 and RFC
 * 7519 4.1.5: exp in the future, iat present, not in the future and not
 * older than the flow, nbf (when present) reached, auth_time within max_age. */
static enum su_rc
oidc_check_times(const struct oidc_expect *x, json_t *claims, struct oidc_result *r, char *err,
		 size_t errsz)
{
	enum su_rc rc;
	int64_t exp, iat, nbf, at, skew = oidc_clamp(x->skew), max_age;
	bool has;

	rc = oidc_time(claims, "exp", &exp, &has, err, errsz);
	if (rc != SU_OK)
		return rc;
	if (!has) {
		log_seterr(err, errsz, "exp missing");
		return SU_EINVAL;
	}
	if (exp <= x->now - skew) {
		log_seterr(err, errsz, "ID token expired");
		return SU_EEXPIRED;
	}
	rc = oidc_time(claims, "iat", &iat, &has, err, errsz);
	if (rc != SU_OK)
		return rc;
	if (!has) {
		log_seterr(err, errsz, "iat missing");
		return SU_EINVAL;
	}
	if (iat > x->now + skew) {
		log_seterr(err, errsz, "iat is in the future");
		return SU_EINVAL;
	}
	if (iat < x->flow_created_at - OIDC_IAT_MAX_AGE - skew) {
		log_seterr(err, errsz, "iat is older than the authentication request");
		return SU_EEXPIRED;
	}
	rc = oidc_time(claims, "nbf", &nbf, &has, err, errsz);
	if (rc != SU_OK)
		return rc;
	if (has && nbf > x->now + skew) {
		log_seterr(err, errsz, "nbf is in the future");
		return SU_EINVAL;
	}
	rc = oidc_time(claims, "auth_time", &at, &has, err, errsz);
	if (rc != SU_OK)
		return rc;
	if (!has && x->max_age >= 0) {
		log_seterr(err, errsz, "auth_time missing");
		return SU_EINVAL;
	}
	if (has) {
		if (at > x->now + skew) {
			log_seterr(err, errsz, "auth_time is in the future");
			return SU_EINVAL;
		}
		if (x->max_age >= 0) {
			max_age = oidc_clamp(x->max_age);
			if (at < x->flow_created_at - max_age - skew) {
				log_seterr(err, errsz, "auth_time is older than max_age allows");
				return SU_EEXPIRED;
			}
		}
		r->auth_time = at;
	}
	return SU_OK;
}

/* oidc_in_list() returns the entry of the NULL-terminated list equal to v, or NULL. */
static const char *
oidc_in_list(const char *const *list, const char *v)
{
	size_t i;

	if (list == NULL || v == NULL)
		return NULL;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], v) == 0)
			return list[i];
	return NULL;
}

/* oidc_check_acrs() looks for one of x->acrs in the returned `acrs` claim
 * (Entra authentication contexts: an array of strings, or one string). */
static enum su_rc
oidc_check_acrs(const struct oidc_expect *x, json_t *claims, const char **match, char *msg,
		size_t msgsz)
{
	json_t *v = json_object_get(claims, "acrs"), *e;
	size_t i;
	char c[64];

	*match = NULL;
	if (v == NULL) {
		log_seterr(msg, msgsz, "acrs missing");
		return SU_EDENIED;
	}
	if (json_is_string(v)) {
		*match = oidc_in_list(x->acrs, json_string_value(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (!json_is_string(e)) {
				log_seterr(msg, msgsz, "acrs holds a non-string value");
				return SU_EINVAL;
			}
			if (*match == NULL)
				*match = oidc_in_list(x->acrs, json_string_value(e));
		}
	} else {
		log_seterr(msg, msgsz, "acrs is not a string or array");
		return SU_EINVAL;
	}
	if (*match == NULL) {
		log_seterr(msg, msgsz, "acrs does not contain %s", log_clean(x->acrs[0], c, sizeof(c)));
		return SU_EDENIED;
	}
	return SU_OK;
}

/* oidc_check_acr() checks the returned `acr` (OIDC Core 2, 5.5.1.1) is one
 * of x->acr. */
static enum su_rc
oidc_check_acr(const struct oidc_expect *x, json_t *claims, const char **match, char *msg,
	       size_t msgsz)
{
	json_t *v = json_object_get(claims, "acr");
	char c[64];

	*match = NULL;
	if (v == NULL) {
		log_seterr(msg, msgsz, "acr missing");
		return SU_EDENIED;
	}
	if (!json_is_string(v)) {
		log_seterr(msg, msgsz, "acr is not a string");
		return SU_EINVAL;
	}
	*match = oidc_in_list(x->acr, json_string_value(v));
	if (*match == NULL) {
		log_seterr(msg, msgsz, "acr %s too low / not accepted",
			   log_clean(json_string_value(v), c, sizeof(c)));
		return SU_EDENIED;
	}
	return SU_OK;
}

/* oidc_check_context() judges the context from what came back, never from
 * what was asked for (SPEC 2.1 step 3): acrs contains a wanted value, or acr
 * is an accepted value; a context with both lists is met by either. */
static enum su_rc
oidc_check_context(const struct oidc_expect *x, json_t *claims, struct oidc_result *r, char *err,
		   size_t errsz)
{
	enum su_rc rc = SU_EDENIED, rc2;
	const char *match = NULL;
	char m1[112] = "", m2[112] = "";
	bool want_acrs = !oidc_list_empty(x->acrs), want_acr = !oidc_list_empty(x->acr);

	if (!want_acrs && !want_acr && x->no_context) {
		r->acr = strdup("");
		return r->acr != NULL ? SU_OK : SU_ENOMEM;
	}
	if (!want_acrs && !want_acr) {
		log_seterr(err, errsz, "the context names no acr or acrs");
		return SU_EINVAL;
	}
	if (want_acrs)
		rc = oidc_check_acrs(x, claims, &match, m1, sizeof(m1));
	if (match == NULL && want_acr) {
		rc2 = oidc_check_acr(x, claims, &match, m2, sizeof(m2));
		if (!want_acrs || rc2 == SU_OK)
			rc = rc2;
	}
	if (match == NULL) {
		if (want_acrs && want_acr)
			log_seterr(err, errsz, "context not reached: %s; %s", m1, m2);
		else
			log_seterr(err, errsz, "%s", want_acrs ? m1 : m2);
		return rc != SU_OK ? rc : SU_EDENIED;
	}
	r->acr = strdup(match);
	return r->acr != NULL ? SU_OK : SU_ENOMEM;
}

/* oidc_check_amr() copies the amr claim (OIDC Core 2: an array of strings)
 * as compact JSON text; "[]" when absent. */
static enum su_rc
oidc_check_amr(json_t *claims, struct oidc_result *r, char *err, size_t errsz)
{
	json_t *v = json_object_get(claims, "amr"), *e;
	size_t i;

	if (v == NULL) {
		r->amr = strdup("[]");
		return r->amr != NULL ? SU_OK : SU_ENOMEM;
	}
	if (!json_is_array(v)) {
		log_seterr(err, errsz, "amr is not an array");
		return SU_EINVAL;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			log_seterr(err, errsz, "amr holds a non-string value");
			return SU_EINVAL;
		}
	}
	r->amr = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (r->amr == NULL)
		return SU_ENOMEM;
	if (strlen(r->amr) > OIDC_MAX_AMR) {
		log_seterr(err, errsz, "amr is too large");
		return SU_EINVAL;
	}
	return SU_OK;
}

/* oidc_has_ctl() says whether s holds a control byte (C0 or DEL). */
static bool
oidc_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* oidc_id_token_check(): see oidc.h. The checks run in OIDC Core 3.1.3.7
 * order; the first failure is reported. */
enum su_rc
oidc_id_token_check(const struct oidc_expect *x, json_t *claims, struct oidc_result *out,
		    char *err, size_t errsz)
{
	enum su_rc rc = SU_EINVAL;
	struct oidc_result r;
	const char *iss, *nonce, *sub, *sclaim, *subject;
	json_t *v;

	memset(&r, 0, sizeof(r));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (x == NULL || out == NULL || x->issuer == NULL || x->client_id == NULL) {
		log_seterr(err, errsz, "no expectations to check against");
		goto out;
	}
	if (!json_is_object(claims)) {
		log_seterr(err, errsz, "claims are not a JSON object");
		goto out;
	}
	/* step 2: iss exactly the configured issuer */
	v = json_object_get(claims, "iss");
	if (v == NULL) {
		log_seterr(err, errsz, "iss missing");
		goto out;
	}
	iss = json_string_value(v);
	if (iss == NULL) {
		log_seterr(err, errsz, "iss is not a string");
		goto out;
	}
	if (strcmp(iss, x->issuer) != 0) {
		rc = SU_EDENIED;
		log_seterr(err, errsz, "iss is not the configured issuer");
		goto out;
	}
	/* steps 3-5: aud, azp */
	rc = oidc_check_aud(x, claims, err, errsz);
	if (rc != SU_OK)
		goto out;
	/* steps 9, 10, 13: exp, iat, nbf, auth_time */
	rc = oidc_check_times(x, claims, &r, err, errsz);
	if (rc != SU_OK)
		goto out;
	/* step 11: nonce equals the one sent, compared in constant time */
	v = json_object_get(claims, "nonce");
	nonce = json_string_value(v);
	if (v == NULL || nonce == NULL) {
		rc = SU_EINVAL;
		log_seterr(err, errsz, v == NULL ? "nonce missing" : "nonce is not a string");
		goto out;
	}
	if (!xcrypt_streq(nonce, x->nonce)) {
		rc = SU_EDENIED;
		log_seterr(err, errsz, "nonce does not match");
		goto out;
	}
	/* OIDC Core 2: sub is required, a non-empty string of at most 255 characters */
	rc = SU_EINVAL;
	v = json_object_get(claims, "sub");
	sub = json_string_value(v);
	if (v == NULL) {
		log_seterr(err, errsz, "sub missing");
		goto out;
	}
	if (sub == NULL || sub[0] == '\0' || strlen(sub) > OIDC_MAX_SUB || oidc_has_ctl(sub)) {
		log_seterr(err, errsz, "sub is not a valid subject");
		goto out;
	}
	/* SPEC 2.1 step 3: the context actually reached */
	rc = oidc_check_context(x, claims, &r, err, errsz);
	if (rc != SU_OK)
		goto out;
	rc = oidc_check_amr(claims, &r, err, errsz);
	if (rc != SU_OK)
		goto out;
	/* SPEC 2.1 step 3: subject binding to the user named in the start request */
	sclaim = (x->subject_claim != NULL && x->subject_claim[0] != '\0') ? x->subject_claim : "sub";
	v = json_object_get(claims, sclaim);
	subject = json_string_value(v);
	if (subject == NULL || subject[0] == '\0' || strlen(subject) > OIDC_MAX_SUBJECT ||
	    oidc_has_ctl(subject)) {
		rc = x->user != NULL ? SU_EDENIED : SU_EINVAL;
		log_seterr(err, errsz, "subject claim %.40s missing or not a string", sclaim);
		goto out;
	}
	if (x->user != NULL && !xcrypt_streq(subject, x->user)) {
		rc = SU_EDENIED;
		log_seterr(err, errsz, "subject does not match the user named in the start request");
		goto out;
	}
	rc = SU_ENOMEM;
	r.sub = strdup(sub);
	r.subject = strdup(subject);
	if (r.sub == NULL || r.subject == NULL)
		goto out;
	*out = r;
	memset(&r, 0, sizeof(r));
	rc = SU_OK;
out:
	oidc_result_cleanup(&r);
	return rc;
}
