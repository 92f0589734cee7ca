/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * httpc.c: stepupd's outbound HTTP client (discovery, JWKS, token endpoint,
 * alert webhooks) on the libcurl easy API, one fresh handle per call.
 *
 * Every call is bounded and locked down: only http and https, redirects
 * never followed, TLS peer and host verified (against ca_file when the
 * provider names one), no proxy taken from the environment, no signals, a
 * connect timeout and a total timeout (set once by httpc_global_init()),
 * and a hard cap on the response body: a Content-Length over the cap is
 * refused before any byte is read, and a body that grows past it aborts the
 * transfer. An oversized body is an error, never silently truncated.
 *
 * What it does not do: it keeps no connections between calls, has no
 * cookies and no retries, and never interprets the HTTP status (callers
 * check resp->status). Error texts name the method, the URL and curl's
 * reason, never a request body: token requests carry the authorization
 * code, the PKCE verifier and client credentials.
 */
#include "httpc.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Defaults used when httpc_global_init() was given nonsense (<= 0). */
#define HTTPC_DEFAULT_CONNECT_MS 5000L
#define HTTPC_DEFAULT_TOTAL_MS 10000L

static long httpc_connect_ms = HTTPC_DEFAULT_CONNECT_MS;
static long httpc_total_ms = HTTPC_DEFAULT_TOTAL_MS;

/* State the write callback needs: the target buffer and whether the cap hit. */
struct httpc_sink {
	struct buf *body;
	bool too_big;
	bool no_mem;
};

/* httpc_global_init() initialises libcurl and records the timeouts every
 * later call uses. Call once at start-up, before threads start. */
enum su_rc
httpc_global_init(long connect_timeout_ms, long total_timeout_ms)
{
	enum su_rc rc = SU_EIO;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	httpc_connect_ms = connect_timeout_ms > 0 ? connect_timeout_ms : HTTPC_DEFAULT_CONNECT_MS;
	httpc_total_ms = total_timeout_ms > 0 ? total_timeout_ms : HTTPC_DEFAULT_TOTAL_MS;
	/* a connect timeout longer than the whole call would never matter */
	if (httpc_connect_ms > httpc_total_ms)
		httpc_connect_ms = httpc_total_ms;
	rc = SU_OK;
out:
	return rc;
}

/* httpc_global_cleanup() releases libcurl's global state (after threads stop). */
void
httpc_global_cleanup(void)
{
	curl_global_cleanup();
}

/* httpc_write_cb() appends received bytes to the sink's buffer; returning a
 * short count makes curl abort the transfer with CURLE_WRITE_ERROR. */
static size_t
httpc_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct httpc_sink *s = userdata;
	size_t n = size * nmemb;
	enum su_rc rc;

	rc = buf_append(s->body, ptr, n);
	if (rc == SU_ETOOBIG) {
		s->too_big = true;
		return 0;
	}
	if (rc != SU_OK) {
		s->no_mem = true;
		return 0;
	}
	return n;
}

/* httpc_header_ok() says whether h is one "Name: value" request header
 * with no control byte, so it cannot add or split headers. */
static bool
httpc_header_ok(const char *h)
{
	const char *colon = strchr(h, ':');

	if (colon == NULL || colon == h)
		return false;
	for (const char *p = h; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	for (const char *p = h; p < colon; p++)
		if (*p == ' ' || *p == '\t')
			return false;
	return true;
}

/* set by httpc_cancel_all() at shutdown: every call in flight ends */
static atomic_bool httpc_stopping;

void
httpc_cancel_all(void)
{
	atomic_store(&httpc_stopping, true);
}

/* httpc_cancel_cb() aborts the transfer once the caller's cancel flag, or
 * the shutdown flag, is set (libcurl calls it about once a second even
 * while nothing moves). */
static int
httpc_cancel_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return (atomic_load(&httpc_stopping) || atomic_load((const atomic_bool *)clientp)) ? 1 : 0;
}

/* httpc_perform() runs one request: a GET when form is NULL, else a POST of
 * form. It applies every restriction described at the top of this file.
 * extra (NULL-terminated, may be NULL) adds request headers; timeout_ms > 0
 * replaces the global total timeout for this call; cancel (may be NULL)
 * aborts the call when it becomes true. resp is initialised here; the
 * caller always cleans it up. */
static enum su_rc
httpc_perform(const char *method, const char *url, const char *ca_file, const char *form,
	      const char *basic_user, const char *basic_pass, const char *const *extra,
	      long timeout_ms, const atomic_bool *cancel, size_t max, struct httpc_resp *resp,
	      char *err, size_t errsz)
{
	long total_ms = timeout_ms > 0 ? timeout_ms : httpc_total_ms;
	long connect_ms = httpc_connect_ms < total_ms ? httpc_connect_ms : total_ms;
	enum su_rc rc = SU_EIDP;
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL, *tmp;
	struct httpc_sink sink;
	char cerr[CURL_ERROR_SIZE];
	CURLcode cc;
	bool setup_ok;

	resp->status = 0;
	buf_init(&resp->body, max);
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	cerr[0] = '\0';
	sink.body = &resp->body;
	sink.too_big = false;
	sink.no_mem = false;
	if (url == NULL) {
		rc = SU_EINVAL;
		log_seterr(err, errsz, "%s: no URL", method);
		goto out;
	}
	h = curl_easy_init();
	if (h == NULL) {
		rc = SU_ENOMEM;
		log_seterr(err, errsz, "%s %s: cannot create a curl handle", method, url);
		goto out;
	}
	tmp = curl_slist_append(hdrs, "Accept: application/json");
	if (tmp == NULL) {
		rc = SU_ENOMEM;
		log_seterr(err, errsz, "%s %s: out of memory", method, url);
		goto out;
	}
	hdrs = tmp;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (!httpc_header_ok(extra[i])) {
			rc = SU_EINVAL;
			log_seterr(err, errsz, "%s %s: refused a malformed request header", method, url);
			goto out;
		}
		tmp = curl_slist_append(hdrs, extra[i]);
		if (tmp == NULL) {
			rc = SU_ENOMEM;
			log_seterr(err, errsz, "%s %s: out of memory", method, url);
			goto out;
		}
		hdrs = tmp;
	}

	/* Each setopt below is part of the security contract; any failure fails closed. */
	setup_ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
		   /* "" disables proxies, including http_proxy/https_proxy from the environment */
		   curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_USERAGENT, "stepupd") == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr) == CURLE_OK &&
		   /* refuses a declared Content-Length over max before the body is read */
		   curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, httpc_write_cb) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink) == CURLE_OK;
	if (setup_ok && ca_file != NULL)
		setup_ok = curl_easy_setopt(h, CURLOPT_CAINFO, ca_file) == CURLE_OK;
	if (cancel == NULL)
		cancel = &httpc_stopping;
	if (setup_ok)
		setup_ok = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, httpc_cancel_cb) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
	if (setup_ok && form != NULL)
		setup_ok = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
					    (curl_off_t)strlen(form)) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_POSTFIELDS, form) == CURLE_OK;
	if (setup_ok && basic_user != NULL)
		setup_ok = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_USERNAME, basic_user) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_PASSWORD,
					    basic_pass != NULL ? basic_pass : "") == CURLE_OK;
	if (!setup_ok) {
		log_seterr(err, errsz, "%s %s: libcurl refused an option", method, url);
		goto out;
	}

	cc = curl_easy_perform(h);
	if (sink.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		log_seterr(err, errsz, "%s %s: response larger than %zu bytes", method, url, max);
		goto out;
	}
	if (sink.no_mem) {
		rc = SU_ENOMEM;
		log_seterr(err, errsz, "%s %s: out of memory reading the response", method, url);
		goto out;
	}
	if (cc != CURLE_OK) {
		log_seterr(err, errsz, "%s %s: %s", method, url,
			   cerr[0] != '\0' ? cerr : curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK) {
		log_seterr(err, errsz, "%s %s: no HTTP status", method, url);
		goto out;
	}
	rc = SU_OK;
out:
	if (rc != SU_OK) {
		/* never hand back a partial body */
		buf_cleanup(&resp->body);
		buf_init(&resp->body, max);
		resp->status = 0;
	}
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return rc;
}

/* httpc_get() GETs url; see httpc.h. */
enum su_rc
httpc_get(const char *url, const char *ca_file, size_t max, struct httpc_resp *resp, char *err,
	  size_t errsz)
{
	return httpc_perform("GET", url, ca_file, NULL, NULL, NULL, NULL, 0, NULL, max, resp, err,
			     errsz);
}

/* httpc_post_form() POSTs a form body; see httpc.h. */
enum su_rc
httpc_post_form(const char *url, const char *ca_file, const char *form, const char *basic_user,
		const char *basic_pass, size_t max, struct httpc_resp *resp, char *err,
		size_t errsz)
{
	return httpc_perform("POST", url, ca_file, form != NULL ? form : "", basic_user,
			     basic_pass, NULL, 0, NULL, max, resp, err, errsz);
}

/* httpc_post_json() POSTs a JSON body with extra headers; see httpc.h. */
enum su_rc
httpc_post_json(const char *url, const char *ca_file, const char *json, const char *const *hdrs,
		long timeout_ms, const atomic_bool *cancel, size_t max, struct httpc_resp *resp,
		char *err, size_t errsz)
{
	enum su_rc rc = SU_ENOMEM;
	const char **all = NULL;
	size_t n = 0;

	while (hdrs != NULL && hdrs[n] != NULL)
		n++;
	all = calloc(n + 3, sizeof(*all));
	if (all == NULL) {
		resp->status = 0;
		buf_init(&resp->body, max);
		log_seterr(err, errsz, "POST %s: out of memory", url != NULL ? url : "");
		goto out;
	}
	all[0] = "Content-Type: application/json";
	all[1] = "Expect:"; /* no 100-continue round trip (and no wait for one) */
	for (size_t i = 0; i < n; i++)
		all[i + 2] = hdrs[i];
	rc = httpc_perform("POST", url, ca_file, json != NULL ? json : "", NULL, NULL, all,
			   timeout_ms, cancel, max, resp, err, errsz);
out:
	free(all);
	return rc;
}

/* httpc_resp_cleanup() frees the response body; resp can be reused after a call. */
void
httpc_resp_cleanup(struct httpc_resp *resp)
{
	if (resp == NULL)
		return;
	buf_cleanup(&resp->body);
	resp->status = 0;
}

/* httpc_form_escape() percent-encodes everything but the RFC 3986
 * unreserved characters (ALPHA DIGIT - . _ ~), so the result is safe in an
 * application/x-www-form-urlencoded body and in RFC 6749 2.3.1 Basic
 * credentials. Returns a malloc'd string the caller frees; NULL when s is
 * NULL or memory runs out. */
char *
httpc_form_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = NULL;
	size_t n, i, j;

	if (s == NULL)
		goto out;
	n = strlen(s);
	if (n > (SIZE_MAX - 1) / 3)
		goto out;
	out = malloc(3 * n + 1);
	if (out == NULL)
		goto out;
	for (i = 0, j = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[j++] = (char)c;
		} else {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 0x0f];
		}
	}
	out[j] = '\0';
out:
	return out;
}
