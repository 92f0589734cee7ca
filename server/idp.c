/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * idp.c: the running state of one OpenID provider, shared by the worker
 * threads: its discovery document, its JWKS and the token exchange.
 *
 * Discovery is fetched from issuer (trailing '/' stripped) +
 * "/.well-known/openid-configuration" on first use, refused unless its
 * `issuer` equals the configured issuer exactly (oidc_discovery_parse), kept
 * for an hour and then refreshed; a failed refresh keeps the old document.
 *
 * The JWKS is fetched from the discovered jwks_uri at the first
 * verification, parsed once into an immutable jose_keyset and reused. An
 * ID token naming an unknown kid triggers one refresh, at most once per
 * refresh_interval (60 s by default; SPEC 2.1 step 3), and one more
 * verification attempt; a failed or malformed refresh keeps the last good
 * keyset. These two limits are the fixes for liboauth2's unbounded
 * re-fetch (one GET per bogus token) and for its missing timeouts (all
 * I/O goes through httpc.c, which bounds time and size).
 *
 * Locking: one mutex per provider guards every field. No network I/O is
 * ever done with the mutex held: a fetch marks its attempt, drops the lock,
 * fetches and parses, then takes the lock again to swap the new document
 * in, so a slow IdP never blocks threads that can use what is cached.
 *
 * What it does not do: claims checks (oidc.c), signature math and alg
 * policy (jose.c), HTTP details (httpc.c). It stores no tokens.
 */
#include "idp.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "httpc.h"
#include "jose.h"
#include "log.h"
#include "oidc.h"

#define IDP_DISCOVERY_PATH "/.well-known/openid-configuration"
#define IDP_DISCOVERY_MAX_AGE 3600 /* seconds a discovery document is used before a refetch */
#define IDP_JWKS_MAX_AGE 86400     /* seconds a keyset is used before a routine refetch */
#define IDP_REFRESH_INTERVAL 60    /* default minimum seconds between refreshes */
#define IDP_FORM_MAX (64 * 1024)   /* token request body cap */
#define IDP_ERR_MAX 512

struct idp {
	const struct cfg_provider *p; /* borrowed; outlives us */
	pthread_mutex_t mu;           /* guards everything below */

	/* discovery */
	struct oidc_discovery disc;
	bool disc_valid;
	int64_t disc_fetched_at;      /* wall clock, for status */
	int64_t disc_fetched_mono;    /* monotonic, for the max age */
	bool disc_attempted;
	int64_t disc_attempt_mono;    /* last refresh attempt (monotonic) */

	/*
	 * The keyset. Verifiers hold mu for the whole jose_jws_verify() call
	 * instead of taking a reference on a refcounted wrapper: verification
	 * happens only on the login callback path and costs ~30 us (RS256), so
	 * the lock is never held long, and a replaced keyset can be freed as
	 * soon as it is swapped out because nobody can be using it. It also
	 * serialises every use of the cjose key objects inside, whose own
	 * reference counts are not thread-safe. The simpler choice is correct
	 * here; the fetch itself never runs under mu (see the top comment).
	 */
	struct jose_keyset *ks;
	int64_t jwks_fetched_at;      /* wall clock, for status */
	int64_t jwks_fetched_mono;
	bool refresh_attempted;
	int64_t last_refresh_attempt; /* monotonic time of the last JWKS refresh attempt */
	int64_t refresh_interval;     /* seconds; 60 unless a test changes it */

	char *last_error;             /* "TIME message" of the last failure; NULL when none */
};

enum idp_endpoint { IDP_EP_AUTHZ, IDP_EP_TOKEN, IDP_EP_JWKS };

/* Algorithms accepted when the provider configures none (SPEC 3: RS256). */
static const char *const idp_default_algs[] = { "RS256", NULL };

/* idp_mono() returns seconds on the monotonic clock (rate limits ignore
 * wall-clock jumps). */
static int64_t
idp_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* idp_wall() returns the wall-clock time in seconds since the epoch. */
static int64_t
idp_wall(void)
{
	return (int64_t)time(NULL);
}

/* idp_error_record() logs msg and keeps it, time-stamped, as last_error.
 * Caller holds d->mu. */
static void
idp_error_record(struct idp *d, const char *msg)
{
	char stamp[32];
	struct tm tm;
	time_t t = time(NULL);
	struct buf b;

	log_warn("provider %s: %s", d->p->name != NULL ? d->p->name : "?", msg);
	buf_init(&b, IDP_ERR_MAX + sizeof(stamp) + 2);
	gmtime_r(&t, &tm);
	if (strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		stamp[0] = '\0';
	if (buf_printf(&b, "%s %.*s", stamp, IDP_ERR_MAX, msg) != SU_OK) {
		buf_cleanup(&b);
		return; /* keep the previous message rather than none */
	}
	free(d->last_error);
	d->last_error = buf_steal(&b);
}

/* idp_error_clear() forgets last_error after a successful exchange with the
 * IdP. Caller holds d->mu. */
static void
idp_error_clear(struct idp *d)
{
	free(d->last_error);
	d->last_error = NULL;
}

/* idp_new() makes the state for one OIDC provider; see idp.h. */
enum su_rc
idp_new(const struct cfg_provider *p, struct idp **out)
{
	enum su_rc rc = SU_EINVAL;
	struct idp *d = NULL;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (p == NULL || p->type != CFG_PROVIDER_OIDC || p->issuer == NULL || p->client_id == NULL)
		goto out;
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	if (pthread_mutex_init(&d->mu, NULL) != 0) {
		free(d);
		d = NULL;
		rc = SU_ENOMEM;
		goto out;
	}
	d->p = p;
	d->refresh_interval = IDP_REFRESH_INTERVAL;
	*out = d;
	rc = SU_OK;
out:
	return rc;
}

/* idp_free() frees d and everything it cached. No thread may still use d. */
void
idp_free(struct idp *d)
{
	if (d == NULL)
		return;
	oidc_discovery_cleanup(&d->disc);
	jose_keyset_free(d->ks);
	free(d->last_error);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* idp_provider() returns the borrowed provider configuration. */
const struct cfg_provider *
idp_provider(const struct idp *d)
{
	return d->p;
}

/* idp_set_refresh_interval() sets the minimum seconds between JWKS (and
 * discovery) refresh attempts; negative values count as 0. */
void
idp_set_refresh_interval(struct idp *d, int64_t seconds)
{
	pthread_mutex_lock(&d->mu);
	d->refresh_interval = seconds > 0 ? seconds : 0;
	pthread_mutex_unlock(&d->mu);
}

/* idp_discovery_fetch() GETs and parses the discovery document; no lock is
 * held. On failure err names the URL and the reason and *out is empty. */
static enum su_rc
idp_discovery_fetch(const struct cfg_provider *p, struct oidc_discovery *out, char *err,
		    size_t errsz)
{
	enum su_rc rc = SU_ENOMEM;
	struct buf url;
	struct httpc_resp resp;
	char perr[IDP_ERR_MAX];
	size_t n;

	memset(out, 0, sizeof(*out));
	buf_init(&url, 8192);
	resp.status = 0;
	buf_init(&resp.body, 0);
	perr[0] = '\0';
	n = strlen(p->issuer);
	while (n > 0 && p->issuer[n - 1] == '/')
		n--;
	if (buf_append(&url, p->issuer, n) != SU_OK || buf_puts(&url, IDP_DISCOVERY_PATH) != SU_OK) {
		log_seterr(err, errsz, "discovery URL too long or out of memory");
		goto out;
	}
	rc = httpc_get(buf_cstr(&url), p->ca_file, HTTPC_MAX_BODY, &resp, err, errsz);
	if (rc != SU_OK) {
		if (rc != SU_ENOMEM)
			rc = SU_EIDP;
		goto out;
	}
	if (resp.status != 200) {
		rc = SU_EIDP;
		log_seterr(err, errsz, "GET %s: HTTP status %ld", buf_cstr(&url), resp.status);
		goto out;
	}
	/* OIDC Discovery 4.3: the issuer must be identical to the configured one */
	rc = oidc_discovery_parse(buf_cstr(&resp.body), resp.body.len, p->issuer, out, perr,
				  sizeof(perr));
	if (rc != SU_OK) {
		if (rc != SU_ENOMEM)
			rc = SU_EIDP;
		log_seterr(err, errsz, "discovery document from %s refused: %s", buf_cstr(&url), perr);
		oidc_discovery_cleanup(out);
		memset(out, 0, sizeof(*out));
		goto out;
	}
	rc = SU_OK;
out:
	httpc_resp_cleanup(&resp);
	buf_cleanup(&url);
	return rc;
}

/*
 * idp_discovery_endpoint() copies one endpoint of the discovery document
 * into a malloc'd *out, fetching the document first when none is held, or
 * refreshing it when older than IDP_DISCOVERY_MAX_AGE (at most once per
 * refresh_interval; on failure the old one is used and the error recorded).
 * Must be called without d->mu held.
 */
static enum su_rc
idp_discovery_endpoint(struct idp *d, enum idp_endpoint which, char **out, char *err,
		       size_t errsz)
{
	enum su_rc rc = SU_EIDP, frc = SU_OK;
	struct oidc_discovery fresh;
	char ferr[IDP_ERR_MAX];
	const char *src = NULL;
	bool fetch = false;
	int64_t now;

	*out = NULL;
	memset(&fresh, 0, sizeof(fresh));
	ferr[0] = '\0';
	pthread_mutex_lock(&d->mu);
	now = idp_mono();
	if (!d->disc_valid)
		fetch = true;
	else if (now - d->disc_fetched_mono >= IDP_DISCOVERY_MAX_AGE &&
		 (!d->disc_attempted || now - d->disc_attempt_mono >= d->refresh_interval))
		fetch = true;
	if (fetch) {
		d->disc_attempted = true;
		d->disc_attempt_mono = now;
		pthread_mutex_unlock(&d->mu);
		frc = idp_discovery_fetch(d->p, &fresh, ferr, sizeof(ferr));
		pthread_mutex_lock(&d->mu);
		if (frc == SU_OK) {
			oidc_discovery_cleanup(&d->disc);
			d->disc = fresh;
			memset(&fresh, 0, sizeof(fresh));
			d->disc_valid = true;
			d->disc_fetched_at = idp_wall();
			d->disc_fetched_mono = idp_mono();
			idp_error_clear(d);
		} else {
			idp_error_record(d, ferr);
		}
	}
	if (!d->disc_valid) {
		rc = frc == SU_ENOMEM ? SU_ENOMEM : SU_EIDP;
		log_seterr(err, errsz, "%s", ferr[0] != '\0' ? ferr : "no discovery document");
		goto unlock;
	}
	switch (which) {
	case IDP_EP_AUTHZ:
		src = d->disc.authorization_endpoint;
		break;
	case IDP_EP_TOKEN:
		src = d->disc.token_endpoint;
		break;
	case IDP_EP_JWKS:
		src = d->disc.jwks_uri;
		break;
	}
	if (src == NULL) {
		log_seterr(err, errsz, "discovery document lacks an endpoint");
		goto unlock;
	}
	*out = strdup(src);
	if (*out == NULL) {
		rc = SU_ENOMEM;
		log_seterr(err, errsz, "out of memory");
		goto unlock;
	}
	rc = SU_OK;
unlock:
	pthread_mutex_unlock(&d->mu);
	oidc_discovery_cleanup(&fresh);
	return rc;
}

/* idp_iss_param_required(): see idp.h. */
bool
idp_iss_param_required(struct idp *d)
{
	bool v;

	pthread_mutex_lock(&d->mu);
	v = d->disc_valid && d->disc.iss_param_supported;
	pthread_mutex_unlock(&d->mu);
	return v;
}

/* idp_authorization_endpoint() copies the authorization endpoint; see idp.h. */
enum su_rc
idp_authorization_endpoint(struct idp *d, char **out, char *err, size_t errsz)
{
	return idp_discovery_endpoint(d, IDP_EP_AUTHZ, out, err, errsz);
}

/* idp_jwks_fetch() GETs and parses the JWKS at uri; no lock is held. On
 * success *out is a new keyset the caller owns. */
static enum su_rc
idp_jwks_fetch(const struct cfg_provider *p, const char *uri, struct jose_keyset **out,
	       char *err, size_t errsz)
{
	enum su_rc rc;
	struct httpc_resp resp;
	char perr[IDP_ERR_MAX];

	*out = NULL;
	perr[0] = '\0';
	rc = httpc_get(uri, p->ca_file, HTTPC_MAX_BODY, &resp, err, errsz);
	if (rc != SU_OK) {
		if (rc != SU_ENOMEM)
			rc = SU_EIDP;
		goto out;
	}
	if (resp.status != 200) {
		rc = SU_EIDP;
		log_seterr(err, errsz, "GET %s: HTTP status %ld", uri, resp.status);
		goto out;
	}
	rc = jose_keyset_parse(buf_cstr(&resp.body), resp.body.len, out, perr, sizeof(perr));
	if (rc != SU_OK) {
		if (rc != SU_ENOMEM)
			rc = SU_EIDP;
		log_seterr(err, errsz, "JWKS from %s refused: %s", uri, perr);
		*out = NULL;
		goto out;
	}
	rc = SU_OK;
out:
	httpc_resp_cleanup(&resp);
	return rc;
}

/* idp_jwks_refresh() fetches the JWKS (without the lock) and swaps it in.
 * On failure the previous keyset stays and last_error records why. Must be
 * called without d->mu held. */
static enum su_rc
idp_jwks_refresh(struct idp *d, const char *uri, char *err, size_t errsz)
{
	enum su_rc rc;
	struct jose_keyset *ks = NULL, *old = NULL;

	rc = idp_jwks_fetch(d->p, uri, &ks, err, errsz);
	pthread_mutex_lock(&d->mu);
	if (rc == SU_OK) {
		old = d->ks;
		d->ks = ks;
		d->jwks_fetched_at = idp_wall();
		d->jwks_fetched_mono = idp_mono();
		idp_error_clear(d);
		log_info("provider %s: JWKS fetched from %s (%zu keys)",
			 d->p->name != NULL ? d->p->name : "?", uri, jose_keyset_count(ks));
	} else {
		idp_error_record(d, err);
	}
	pthread_mutex_unlock(&d->mu);
	/* no verifier can hold `old`: verification runs under d->mu */
	jose_keyset_free(old);
	return rc;
}

/* idp_verify_once() verifies jwt against the current keyset under d->mu. */
static enum su_rc
idp_verify_once(struct idp *d, const char *jwt, json_t **payload, char *err, size_t errsz)
{
	enum su_rc rc = SU_EIDP;
	const char *const *algs;

	pthread_mutex_lock(&d->mu);
	if (d->ks == NULL) {
		log_seterr(err, errsz, "no JWKS available (%s)",
			   d->last_error != NULL ? d->last_error : "not fetched");
		goto unlock;
	}
	algs = d->p->id_token_algs != NULL ? (const char *const *)d->p->id_token_algs
					   : idp_default_algs;
	rc = jose_jws_verify(jwt, d->ks, algs, payload, err, errsz);
unlock:
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* idp_id_token_verify() verifies an ID token's signature; see idp.h. */
enum su_rc
idp_id_token_verify(struct idp *d, const char *jwt, json_t **payload, char *err, size_t errsz)
{
	enum su_rc rc = SU_EINVAL, frc;
	char *jwks_uri = NULL;
	char ferr[IDP_ERR_MAX];
	bool fetch = false, allowed = false;
	int64_t now, interval;

	if (payload != NULL)
		*payload = NULL;
	if (d == NULL || jwt == NULL || payload == NULL) {
		log_seterr(err, errsz, "no token");
		goto out;
	}
	ferr[0] = '\0';
	rc = idp_discovery_endpoint(d, IDP_EP_JWKS, &jwks_uri, err, errsz);
	if (rc != SU_OK)
		goto out;

	/* first use, or a routine refresh of an old keyset (rate-limited) */
	pthread_mutex_lock(&d->mu);
	now = idp_mono();
	if (d->ks == NULL) {
		fetch = true;
	} else if (now - d->jwks_fetched_mono >= IDP_JWKS_MAX_AGE &&
		   (!d->refresh_attempted || now - d->last_refresh_attempt >= d->refresh_interval)) {
		fetch = true;
		d->refresh_attempted = true;
		d->last_refresh_attempt = now;
	}
	pthread_mutex_unlock(&d->mu);
	if (fetch)
		(void)idp_jwks_refresh(d, jwks_uri, ferr, sizeof(ferr)); /* verify says what failed */

	rc = idp_verify_once(d, jwt, payload, err, errsz);
	if (rc != SU_ENOTFOUND)
		goto out;

	/* Unknown kid: the OP may have rotated its keys. Refresh at most once per
	 * refresh_interval (SPEC 2.1 step 3), so bogus kids cannot make us
	 * hammer the OP as liboauth2 does. */
	pthread_mutex_lock(&d->mu);
	now = idp_mono();
	interval = d->refresh_interval;
	if (!d->refresh_attempted || now - d->last_refresh_attempt >= interval) {
		allowed = true;
		d->refresh_attempted = true;
		d->last_refresh_attempt = now;
	}
	pthread_mutex_unlock(&d->mu);
	if (!allowed) {
		log_seterr(err, errsz, "unknown kid (JWKS refreshed less than %lld s ago)",
			   (long long)interval);
		goto out;
	}
	frc = idp_jwks_refresh(d, jwks_uri, ferr, sizeof(ferr));
	rc = idp_verify_once(d, jwt, payload, err, errsz);
	if (rc == SU_ENOTFOUND) {
		if (frc == SU_OK)
			log_seterr(err, errsz, "unknown kid (not in the refreshed JWKS)");
		else
			log_seterr(err, errsz, "unknown kid (JWKS refresh failed: %s)", ferr);
	}
out:
	if (rc != SU_OK && payload != NULL && *payload != NULL) {
		json_decref(*payload);
		*payload = NULL;
	}
	free(jwks_uri);
	return rc;
}

/* idp_form_add() appends "&name=value" (value form-escaped; no '&' when b is
 * empty) to a token request body. */
static enum su_rc
idp_form_add(struct buf *b, const char *name, const char *value)
{
	enum su_rc rc = SU_ENOMEM;
	char *ev = NULL;

	if (value == NULL) {
		rc = SU_EINVAL;
		goto out;
	}
	ev = httpc_form_escape(value);
	if (ev == NULL)
		goto out;
	if (b->len > 0) {
		rc = buf_puts(b, "&");
		if (rc != SU_OK)
			goto out;
	}
	rc = buf_puts(b, name);
	if (rc == SU_OK)
		rc = buf_puts(b, "=");
	if (rc == SU_OK)
		rc = buf_puts(b, ev);
out:
	if (ev != NULL) {
		explicit_bzero(ev, strlen(ev));
		free(ev);
	}
	return rc;
}

/* idp_secret_free() wipes and frees a string that may hold a credential. */
static void
idp_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* idp_token_exchange() redeems an authorization code; see idp.h. */
enum su_rc
idp_token_exchange(struct idp *d, const char *code, const char *code_verifier,
		   const char *redirect_uri, char **id_token, char *err, size_t errsz)
{
	enum su_rc rc = SU_EINVAL;
	const struct cfg_provider *p;
	char *token_ep = NULL, *user = NULL, *pass = NULL, *assertion = NULL;
	struct buf form;
	struct httpc_resp resp;
	char perr[IDP_ERR_MAX];

	buf_init(&form, IDP_FORM_MAX);
	resp.status = 0;
	buf_init(&resp.body, 0);
	perr[0] = '\0';
	if (id_token != NULL)
		*id_token = NULL;
	if (d == NULL || code == NULL || code_verifier == NULL || redirect_uri == NULL ||
	    id_token == NULL) {
		log_seterr(err, errsz, "token exchange: missing argument");
		goto out;
	}
	p = d->p;
	rc = idp_discovery_endpoint(d, IDP_EP_TOKEN, &token_ep, err, errsz);
	if (rc != SU_OK)
		goto out;

	/* RFC 6749 4.1.3 plus RFC 7636 4.5 */
	rc = idp_form_add(&form, "grant_type", "authorization_code");
	if (rc == SU_OK)
		rc = idp_form_add(&form, "code", code);
	if (rc == SU_OK)
		rc = idp_form_add(&form, "redirect_uri", redirect_uri);
	if (rc == SU_OK)
		rc = idp_form_add(&form, "code_verifier", code_verifier);
	if (rc != SU_OK) {
		log_seterr(err, errsz, "token request: %s", su_rc_str(rc));
		goto out;
	}

	switch (p->token_auth) {
	case CFG_AUTH_SECRET_POST:
		if (p->client_secret == NULL) {
			rc = SU_EINVAL;
			log_seterr(err, errsz, "client_secret_post without a client secret");
			goto out;
		}
		rc = idp_form_add(&form, "client_id", p->client_id);
		if (rc == SU_OK)
			rc = idp_form_add(&form, "client_secret", p->client_secret);
		break;
	case CFG_AUTH_PRIVATE_KEY_JWT:
		/* RFC 7523 2.2, audience = the token endpoint */
		rc = jose_client_assertion(p->private_key_file, p->private_key_kid, p->client_id,
					   token_ep, (long long)idp_wall(), &assertion, perr,
					   sizeof(perr));
		if (rc != SU_OK) {
			log_seterr(err, errsz, "client assertion: %s", perr);
			goto out;
		}
		rc = idp_form_add(&form, "client_id", p->client_id);
		if (rc == SU_OK)
			rc = idp_form_add(&form, "client_assertion_type",
					  "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
		if (rc == SU_OK)
			rc = idp_form_add(&form, "client_assertion", assertion);
		break;
	case CFG_AUTH_SECRET_BASIC:
	default:
		/* RFC 6749 2.3.1: both parts form-encoded before Basic encoding */
		if (p->client_secret == NULL) {
			rc = SU_EINVAL;
			log_seterr(err, errsz, "client_secret_basic without a client secret");
			goto out;
		}
		user = httpc_form_escape(p->client_id);
		pass = httpc_form_escape(p->client_secret);
		rc = user != NULL && pass != NULL ? SU_OK : SU_ENOMEM;
		break;
	}
	if (rc != SU_OK) {
		log_seterr(err, errsz, "token request: %s", su_rc_str(rc));
		goto out;
	}

	rc = httpc_post_form(token_ep, p->ca_file, buf_cstr(&form), user, pass, HTTPC_MAX_BODY,
			     &resp, perr, sizeof(perr));
	if (rc != SU_OK) {
		if (rc != SU_ENOMEM)
			rc = SU_EIDP;
		log_seterr(err, errsz, "token request: %s", perr);
		goto record;
	}
	rc = oidc_token_response_parse(resp.status, buf_cstr(&resp.body), resp.body.len, id_token,
				       perr, sizeof(perr));
	if (rc != SU_OK) {
		if (rc != SU_ENOMEM)
			rc = SU_EIDP;
		if (*id_token != NULL) {
			free(*id_token);
			*id_token = NULL;
		}
		log_seterr(err, errsz, "token request to %s (HTTP %ld): %s", token_ep, resp.status,
			   perr);
		goto record;
	}
	pthread_mutex_lock(&d->mu);
	idp_error_clear(d);
	pthread_mutex_unlock(&d->mu);
	rc = SU_OK;
	goto out;
record:
	pthread_mutex_lock(&d->mu);
	idp_error_record(d, err != NULL ? err : su_rc_str(rc));
	pthread_mutex_unlock(&d->mu);
out:
	/* the body held the code, the verifier and maybe the secret */
	if (form.data != NULL)
		explicit_bzero(form.data, form.cap);
	buf_cleanup(&form);
	httpc_resp_cleanup(&resp);
	idp_secret_free(user);
	idp_secret_free(pass);
	idp_secret_free(assertion);
	free(token_ep);
	return rc;
}

/* idp_status_get() fills st with a snapshot; strings are malloc'd (NULL
 * when memory runs out); free with idp_status_cleanup(). */
void
idp_status_get(struct idp *d, struct idp_status *st)
{
	struct buf kids;
	size_t i, n;

	memset(st, 0, sizeof(*st));
	buf_init(&kids, 64 * 1024);
	pthread_mutex_lock(&d->mu);
	st->discovered = d->disc_valid ? 1 : 0;
	st->discovered_at = d->disc_valid ? d->disc_fetched_at : 0;
	st->jwks_fetched_at = d->ks != NULL ? d->jwks_fetched_at : 0;
	n = d->ks != NULL ? jose_keyset_count(d->ks) : 0;
	st->n_keys = n;
	for (i = 0; i < n; i++) {
		const char *kid = jose_keyset_kid(d->ks, i);

		if ((i > 0 && buf_puts(&kids, " ") != SU_OK) ||
		    buf_puts(&kids, kid != NULL ? kid : "") != SU_OK)
			break;
	}
	st->kids = buf_steal(&kids);
	st->last_error = d->last_error != NULL ? strdup(d->last_error) : NULL;
	pthread_mutex_unlock(&d->mu);
	buf_cleanup(&kids);
}

/* idp_status_cleanup() frees the strings of a snapshot. */
void
idp_status_cleanup(struct idp_status *st)
{
	if (st == NULL)
		return;
	free(st->kids);
	free(st->last_error);
	st->kids = NULL;
	st->last_error = NULL;
}
