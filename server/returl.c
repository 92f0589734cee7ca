/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * returl.c: the return-URL rules of SPEC section 5 (see returl.h).
 *
 * A return URL is accepted only when it is an absolute http or https URL
 * whose origin (scheme, lowercase host, explicit port) is, byte for byte,
 * one of the allowed origins. Exact equality makes the host match
 * dot-bounded by construction: "evil-example.com" and
 * "example.com.evil.com" never equal "example.com". Everything a browser
 * might read differently from us is refused before the comparison:
 * control bytes (browsers strip TAB/CR/LF, CVE-2022-23527), backslashes
 * (read as "/", CVE-2019-20479, CVE-2019-3877), user-info, percent-encoding
 * or non-ASCII in the authority, scheme-relative and triple-slash forms
 * (CVE-2021-3639) and a scheme without a host (CVE-2019-13038).
 *
 * This module does no I/O and no allocation except the string
 * returl_origin_normalise() returns; it is fuzzed by
 * tests/fuzz/fuzz_returl.c. It deliberately does not resolve or
 * canonicalise odd IPv4 spellings (0x7f.1, 2130706433): they simply do not
 * equal any allowed origin and are refused.
 */
#include "returl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xcrypt.h"

/* longest host name we accept (DNS limit) */
#define RETURL_HOST_MAX 253
/* "https://" + "[" host "]" + ":65535" + NUL, with room to spare */
#define RETURL_ORIGIN_MAX (RETURL_HOST_MAX + 32)

/* returl_lower() returns the ASCII lowercase of c, leaving other bytes. */
static unsigned char
returl_lower(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	return c;
}

/* returl_is_alpha() says whether c is an ASCII letter. */
static bool
returl_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* returl_is_digit() says whether c is an ASCII digit. */
static bool
returl_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * returl_bytes_check() refuses the bytes that are wrong anywhere in a URL:
 * C0 controls, DEL, space, backslash and the characters that are never
 * valid in a URL and only appear in injection attempts (" < > `).
 * Sets *why and returns SU_EINVAL on the first bad byte.
 */
static enum su_rc
returl_bytes_check(const char *s, size_t len, const char **why)
{
	enum su_rc rc = SU_EINVAL;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20) {
			*why = "control byte in URL";
			goto out;
		}
		if (c == 0x7f) {
			*why = "DEL byte in URL";
			goto out;
		}
		if (c == ' ') {
			*why = "space in URL";
			goto out;
		}
		if (c == '\\') {
			*why = "backslash in URL";
			goto out;
		}
		if (c == '"' || c == '<' || c == '>' || c == '`') {
			*why = "character not allowed in a URL";
			goto out;
		}
	}
	rc = SU_OK;
out:
	return rc;
}

/*
 * returl_host_v6() validates the bracketed IPv6 literal host[0..len) (the
 * brackets included) and writes its canonical form, "[" inet_ntop "]",
 * into dst. Zone ids are refused (a '%' never gets this far).
 */
static enum su_rc
returl_host_v6(const char *host, size_t len, char *dst, size_t dstsz, const char **why)
{
	enum su_rc rc = SU_EINVAL;
	char lit[INET6_ADDRSTRLEN];
	char canon[INET6_ADDRSTRLEN];
	struct in6_addr a;
	int n;

	if (len < 4 || host[len - 1] != ']' || len - 2 >= sizeof(lit)) {
		*why = "bad IPv6 literal host";
		goto out;
	}
	memcpy(lit, host + 1, len - 2);
	lit[len - 2] = '\0';
	for (size_t i = 0; lit[i] != '\0'; i++)
		lit[i] = (char)returl_lower((unsigned char)lit[i]);
	if (inet_pton(AF_INET6, lit, &a) != 1 || inet_ntop(AF_INET6, &a, canon, sizeof(canon)) == NULL) {
		*why = "bad IPv6 literal host";
		goto out;
	}
	n = snprintf(dst, dstsz, "[%s]", canon);
	if (n < 0 || (size_t)n >= dstsz) {
		*why = "host too long";
		goto out;
	}
	rc = SU_OK;
out:
	return rc;
}

/*
 * returl_host_name() validates a registered-name or IPv4 host
 * host[0..len): ASCII letters, digits, '-', '.', '_' only, 1..253 bytes.
 * Writes it lowercased into dst.
 */
static enum su_rc
returl_host_name(const char *host, size_t len, char *dst, size_t dstsz, const char **why)
{
	enum su_rc rc = SU_EINVAL;

	if (len == 0) {
		*why = "empty host";
		goto out;
	}
	if (len > RETURL_HOST_MAX || len >= dstsz) {
		*why = "host too long";
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (!returl_is_alpha(c) && !returl_is_digit(c) && c != '-' && c != '.' && c != '_') {
			*why = "character not allowed in host";
			goto out;
		}
		dst[i] = (char)returl_lower(c);
	}
	dst[len] = '\0';
	rc = SU_OK;
out:
	return rc;
}

/*
 * returl_port() parses the port p[0..len): 1 to 5 digits, no leading
 * zero, 1..65535. An empty port ("host:") is refused.
 */
static enum su_rc
returl_port(const char *p, size_t len, unsigned *port, const char **why)
{
	enum su_rc rc = SU_EINVAL;
	unsigned v = 0;

	if (len == 0 || len > 5 || p[0] == '0') {
		*why = "bad port";
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		if (!returl_is_digit((unsigned char)p[i])) {
			*why = "bad port";
			goto out;
		}
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v < 1 || v > 65535) {
		*why = "bad port";
		goto out;
	}
	*port = v;
	rc = SU_OK;
out:
	return rc;
}

/*
 * returl_origin_parse() reads "scheme://authority" at the start of s (whose
 * bytes returl_bytes_check() has passed) and writes the normalised origin
 * "scheme://host:port" into origin. *used is set to the length of the
 * scheme and authority, so s + *used is the path, query and fragment.
 * On SU_EINVAL *why names the rule that refused s.
 */
static enum su_rc
returl_origin_parse(const char *s, size_t *used, char *origin, size_t originsz, const char **why)
{
	enum su_rc rc = SU_EINVAL;
	char host[RETURL_ORIGIN_MAX];
	const char *scheme;
	const char *auth;
	size_t i = 0, alen, hlen;
	unsigned port, defport;
	int n;

	if (s[0] == '/' && s[1] == '/') {
		*why = "scheme-relative URL (//) not allowed";
		goto out;
	}
	if (s[0] == '/') {
		*why = "relative URL not allowed";
		goto out;
	}
	/* RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	while (returl_is_alpha((unsigned char)s[i]) ||
	       (i > 0 && (returl_is_digit((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
			  s[i] == '.')))
		i++;
	if (i == 0 || s[i] != ':') {
		*why = "not an absolute URL";
		goto out;
	}
	if (i == 4 && strncasecmp(s, "http", 4) == 0) {
		scheme = "http";
		defport = 80;
	} else if (i == 5 && strncasecmp(s, "https", 5) == 0) {
		scheme = "https";
		defport = 443;
	} else {
		*why = "scheme is not http or https";
		goto out;
	}
	i++;
	/* CVE-2019-13038: "http:evil.com" and "https:/evil.com" have no host */
	if (s[i] != '/' || s[i + 1] != '/') {
		*why = "scheme without host";
		goto out;
	}
	i += 2;
	/* CVE-2021-3639: "https:///evil.com" */
	if (s[i] == '/') {
		*why = "empty host (///)";
		goto out;
	}
	auth = s + i;
	alen = strcspn(auth, "/?#");
	if (alen == 0) {
		*why = "empty host";
		goto out;
	}
	for (size_t k = 0; k < alen; k++) {
		unsigned char c = (unsigned char)auth[k];

		if (c == '@') {
			*why = "user-info in URL";
			goto out;
		}
		if (c == '%') {
			*why = "percent-encoding in host or port";
			goto out;
		}
		if (c >= 0x80) {
			*why = "non-ASCII byte in host or port";
			goto out;
		}
	}
	if (auth[0] == '[') {
		const char *close = memchr(auth, ']', alen);

		if (close == NULL) {
			*why = "bad IPv6 literal host";
			goto out;
		}
		hlen = (size_t)(close - auth) + 1;
		rc = returl_host_v6(auth, hlen, host, sizeof(host), why);
	} else {
		const char *colon = memchr(auth, ':', alen);

		hlen = colon ? (size_t)(colon - auth) : alen;
		rc = returl_host_name(auth, hlen, host, sizeof(host), why);
	}
	if (rc != SU_OK)
		goto out;
	rc = SU_EINVAL;
	port = defport;
	if (hlen < alen) {
		if (auth[hlen] != ':') {
			*why = "bad host";
			goto out;
		}
		if (returl_port(auth + hlen + 1, alen - hlen - 1, &port, why) != SU_OK)
			goto out;
	}
	n = snprintf(origin, originsz, "%s://%s:%u", scheme, host, port);
	if (n < 0 || (size_t)n >= originsz) {
		*why = "host too long";
		goto out;
	}
	*used = i + alen;
	rc = SU_OK;
out:
	return rc;
}

/*
 * returl_path_prefix_check() refuses a path whose start, once
 * percent-decoded, reads as a second authority or URL: "/%2f..." ("//"),
 * "/http:", "/https:", "/javascript:" (mod_auth_openidc's validator list).
 * Such a path is harmless to a browser, but an application behind the
 * allowed origin that redirects to its own path would turn it into an
 * open redirect.
 */
static enum su_rc
returl_path_prefix_check(const char *rest, const char **why)
{
	static const char *const bad[] = { "//", "/http:", "/https:", "/javascript:" };
	enum su_rc rc = SU_EINVAL;
	char dec[16];
	size_t i = 0, o = 0;

	while (rest[i] != '\0' && rest[i] != '?' && rest[i] != '#' && o < sizeof(dec) - 1) {
		int hi = -1, lo = -1;

		if (rest[i] == '%') {
			hi = xcrypt_hexval((unsigned char)rest[i + 1]);
			lo = hi < 0 ? -1 : xcrypt_hexval((unsigned char)rest[i + 2]);
		}
		if (hi >= 0 && lo >= 0) {
			dec[o++] = (char)returl_lower((unsigned char)(hi * 16 + lo));
			i += 3;
		} else {
			dec[o++] = (char)returl_lower((unsigned char)rest[i]);
			i++;
		}
	}
	dec[o] = '\0';
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		if (strncmp(dec, bad[k], strlen(bad[k])) == 0) {
			*why = "path begins with // or a URL";
			goto out;
		}
	}
	rc = SU_OK;
out:
	return rc;
}

/*
 * returl_rest_check() applies the rules to the path, query and fragment:
 * no "//" (raw or encoded) or embedded URL at the start of the path, well-formed percent-encoding that
 * never decodes to a control byte, DEL or backslash, and ASCII only.
 */
static enum su_rc
returl_rest_check(const char *rest, const char **why)
{
	enum su_rc rc = SU_EINVAL;

	if (rest[0] == '/' && rest[1] == '/') {
		*why = "path begins with //";
		goto out;
	}
	if (returl_path_prefix_check(rest, why) != SU_OK)
		goto out;
	for (size_t i = 0; rest[i] != '\0'; i++) {
		unsigned char c = (unsigned char)rest[i];
		int hi, lo, v;

		if (c >= 0x80) {
			*why = "non-ASCII byte in path, query or fragment";
			goto out;
		}
		if (c != '%')
			continue;
		hi = xcrypt_hexval((unsigned char)rest[i + 1]);
		lo = hi < 0 ? -1 : xcrypt_hexval((unsigned char)rest[i + 2]);
		if (hi < 0 || lo < 0) {
			*why = "malformed percent-encoding";
			goto out;
		}
		v = hi * 16 + lo;
		if (v < 0x20 || v == 0x7f) {
			*why = "percent-encoded control byte";
			goto out;
		}
		if (v == 0x5c) {
			*why = "percent-encoded backslash";
			goto out;
		}
		i += 2;
	}
	rc = SU_OK;
out:
	return rc;
}

/* returl_origin_normalise(): see returl.h. *out is malloc'd; the caller frees it. */
enum su_rc
returl_origin_normalise(const char *s, char **out)
{
	enum su_rc rc = SU_EINVAL;
	char origin[RETURL_ORIGIN_MAX];
	const char *why = NULL;
	size_t len, used = 0;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (s == NULL)
		goto out;
	len = strnlen(s, RETURL_MAX + 1);
	if (len == 0 || len > RETURL_MAX)
		goto out;
	if (returl_bytes_check(s, len, &why) != SU_OK)
		goto out;
	if (returl_origin_parse(s, &used, origin, sizeof(origin), &why) != SU_OK)
		goto out;
	/* a bare origin: nothing after the authority but an optional "/" */
	if (!(s[used] == '\0' || (s[used] == '/' && s[used + 1] == '\0')))
		goto out;
	*out = strdup(origin);
	if (*out == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	rc = SU_OK;
out:
	return rc;
}

/* returl_check(): see returl.h. Borrows url and allowed; writes err on refusal. */
enum su_rc
returl_check(const char *url, const char *const *allowed, char *err, size_t errsz)
{
	enum su_rc rc = SU_EINVAL;
	char origin[RETURL_ORIGIN_MAX];
	const char *why = "refused";
	size_t len, used = 0;

	if (url == NULL) {
		why = "no URL";
		goto out;
	}
	len = strnlen(url, RETURL_MAX + 1);
	if (len == 0) {
		why = "empty URL";
		goto out;
	}
	if (len > RETURL_MAX) {
		why = "URL longer than 2048 bytes";
		goto out;
	}
	if (returl_bytes_check(url, len, &why) != SU_OK)
		goto out;
	if (returl_origin_parse(url, &used, origin, sizeof(origin), &why) != SU_OK)
		goto out;
	if (returl_rest_check(url + used, &why) != SU_OK)
		goto out;
	why = "origin not in allowed_return_origins";
	if (allowed == NULL)
		goto out;
	for (size_t i = 0; allowed[i] != NULL; i++) {
		if (strcmp(origin, allowed[i]) == 0) {
			rc = SU_OK;
			break;
		}
	}
out:
	if (rc != SU_OK && err != NULL && errsz > 0)
		snprintf(err, errsz, "%s", why);
	else if (err != NULL && errsz > 0)
		err[0] = '\0';
	return rc;
}
