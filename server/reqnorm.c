/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * reqnorm.c: request attributes from the proxy, normalised (see
 * reqnorm.h for the contract and docs/policies.md "Normalisation").
 *
 * What it does: path normalisation in one pass over a bounded copy
 * (decode, check, collapse slashes, resolve dot segments), the
 * X-Forwarded-For walk, the device tag and comma-list parsers, and UTF-8
 * validation. Every refusal is a status the caller turns into a refusal of
 * the request.
 *
 * What it does not do: allocate on the path or address routes (only
 * reqnorm_list() allocates), log, or decide anything about policies.
 */
#include "reqnorm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "xcrypt.h"

#define REQNORM_ADDR_MAX 64 /* longest X-Forwarded-For entry accepted ([v6]) */

/* reqnorm_utf8_ok(): see reqnorm.h. Follows the well-formed byte sequence
 * table of Unicode 15 section 3.9 (table 3-7). */
bool
reqnorm_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	if (s == NULL)
		return n == 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t need;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0; /* no overlong forms */
			else if (c == 0xed)
				hi = 0x9f; /* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90; /* no overlong forms */
			else if (c == 0xf4)
				hi = 0x8f; /* nothing above U+10FFFF */
		} else {
			return false;
		}
		if (n - i - 1 < need)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += need + 1;
	}
	return true;
}

/* reqnorm_dot_param() says whether segment seg (len bytes) is "." or ".."
 * followed by a ';' path parameter, which Tomcat-style servers read as the
 * dot segment itself. */
static bool
reqnorm_dot_param(const char *seg, size_t len)
{
	if (len >= 2 && seg[0] == '.' && seg[1] == ';')
		return true;
	return len >= 3 && seg[0] == '.' && seg[1] == '.' && seg[2] == ';';
}

/* reqnorm_path(): see reqnorm.h. */
enum su_rc
reqnorm_path(const char *raw, char *out, size_t outsz)
{
	char dec[REQNORM_PATH_MAX + 1];
	size_t rlen = 0, dlen = 0, olen = 0, i;
	bool trailing = false;
	enum su_rc rc = SU_EINVAL;

	if (out == NULL || outsz == 0)
		return SU_EINVAL;
	out[0] = '\0';
	if (raw == NULL || raw[0] != '/')
		goto out;
	/* 1. the path ends at '?' or '#' */
	while (raw[rlen] != '\0' && raw[rlen] != '?' && raw[rlen] != '#') {
		if (rlen >= REQNORM_PATH_MAX) {
			rc = SU_ETOOBIG;
			goto out;
		}
		rlen++;
	}
	/* 2., 3. raw byte checks and one percent-decoding pass */
	for (i = 0; i < rlen; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c <= 0x20 || c == 0x7f || c == '\\')
			goto out;
		if (c == '%') {
			int h1, h2;

			if (i + 2 >= rlen)
				goto out; /* "%" or "%X" at the end */
			h1 = xcrypt_hexval((unsigned char)raw[i + 1]);
			h2 = h1 < 0 ? -1 : xcrypt_hexval((unsigned char)raw[i + 2]);
			if (h1 < 0 || h2 < 0)
				goto out;
			c = (unsigned char)(h1 * 16 + h2);
			/* an encoded separator or control byte is never accepted */
			if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
				goto out;
			i += 2;
		}
		dec[dlen++] = (char)c;
	}
	dec[dlen] = '\0';
	/* 4. valid UTF-8 after decoding (raw high bytes included) */
	if (!reqnorm_utf8_ok((const unsigned char *)dec, dlen))
		goto out;
	/* 5., 6. walk the segments: skip empty ones (collapses "//"), drop ".",
	 * pop on "..", refuse ".." at the root and dot segments with params */
	for (i = 1; i <= dlen;) {
		size_t start = i, len;

		while (i < dlen && dec[i] != '/')
			i++;
		len = i - start;
		i++; /* past the '/' (or the end) */
		if (len == 0 || (len == 1 && dec[start] == '.')) {
			trailing = true;
			continue;
		}
		if (len == 2 && dec[start] == '.' && dec[start + 1] == '.') {
			if (olen == 0)
				goto out; /* above the root */
			while (olen > 0 && out[olen - 1] != '/')
				olen--;
			olen--; /* the '/' before the popped segment */
			trailing = true;
			continue;
		}
		if (reqnorm_dot_param(dec + start, len))
			goto out;
		if (olen + 1 + len + 1 > outsz) {
			rc = SU_ETOOBIG;
			goto out;
		}
		out[olen++] = '/';
		memcpy(out + olen, dec + start, len);
		olen += len;
		trailing = false;
	}
	if (olen == 0 || trailing) {
		if (olen + 2 > outsz) {
			rc = SU_ETOOBIG;
			goto out;
		}
		out[olen++] = '/';
	}
	out[olen] = '\0';
	rc = SU_OK;
out:
	if (rc != SU_OK)
		out[0] = '\0';
	return rc;
}

/* reqnorm_addr_parse() parses one X-Forwarded-For entry (s, len bytes):
 * IPv4, IPv6 or [IPv6]; no port, no zone. */
static bool
reqnorm_addr_parse(const char *s, size_t len, struct sockaddr_storage *out)
{
	char a[REQNORM_ADDR_MAX + 1];
	struct sockaddr_in *in = (struct sockaddr_in *)(void *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)out;
	bool bracket = false;

	if (len == 0 || len > REQNORM_ADDR_MAX)
		return false;
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return false;
		s++;
		len -= 2;
		bracket = true;
	}
	memcpy(a, s, len);
	a[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (!bracket && inet_pton(AF_INET, a, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, a, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* reqnorm_peer_copy() copies an AF_INET/AF_INET6 peer into out (port 0). */
static bool
reqnorm_peer_copy(const struct sockaddr *peer, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (peer->sa_family == AF_INET) {
		struct sockaddr_in *o = (struct sockaddr_in *)(void *)out;

		o->sin_family = AF_INET;
		o->sin_addr = ((const struct sockaddr_in *)(const void *)peer)->sin_addr;
		return true;
	}
	if (peer->sa_family == AF_INET6) {
		struct sockaddr_in6 *o = (struct sockaddr_in6 *)(void *)out;

		o->sin6_family = AF_INET6;
		o->sin6_addr = ((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;
		return true;
	}
	return false;
}

/* reqnorm_client_addr(): see reqnorm.h. */
enum su_rc
reqnorm_client_addr(const struct sockaddr *peer, const char *xff, const struct cfg *cfg,
		    struct sockaddr_storage *out)
{
	struct sockaddr_storage hops[REQNORM_XFF_HOPS];
	size_t n = 0, len, i, start;
	enum su_rc rc = SU_EINVAL;

	if (peer == NULL || out == NULL)
		goto out;
	if (!reqnorm_peer_copy(peer, out))
		goto out;
	if (xff == NULL || cfg == NULL || !cfg_is_trusted_proxy(cfg, peer)) {
		rc = SU_OK; /* an untrusted peer's X-Forwarded-For means nothing */
		goto out;
	}
	len = strnlen(xff, REQNORM_XFF_MAX + 1);
	if (len > REQNORM_XFF_MAX)
		goto out;
	for (i = 0; i <= len; i++) {
		size_t a, b;

		start = i;
		while (i < len && xff[i] != ',')
			i++;
		a = start;
		b = i;
		while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
			a++;
		while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
			b--;
		if (n >= REQNORM_XFF_HOPS || !reqnorm_addr_parse(xff + a, b - a, &hops[n]))
			goto out;
		n++;
	}
	/* right to left: the nearest hop that is not one of our proxies */
	for (i = n; i > 0; i--) {
		if (!cfg_is_trusted_proxy(cfg, (const struct sockaddr *)&hops[i - 1]) || i == 1) {
			*out = hops[i - 1];
			break;
		}
	}
	rc = SU_OK;
out:
	return rc;
}

/* reqnorm_has_ctl() says whether s (len bytes) holds a control byte other
 * than tab, or DEL. */
static bool
reqnorm_has_ctl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* reqnorm_ci_eqn() compares s (len bytes) ASCII case-insensitively with
 * the lowercase NUL-terminated word w. */
static bool
reqnorm_ci_eqn(const char *s, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (w[i] == '\0' || c != (unsigned char)w[i])
			return false;
	}
	return w[i] == '\0';
}

/* reqnorm_device_tags(): see reqnorm.h. */
enum su_rc
reqnorm_device_tags(const char *header, unsigned *mask)
{
	static const struct {
		const char *name;
		unsigned bit;
	} tags[] = {
		{ "compliant", POLICY_TAG_COMPLIANT },
		{ "hybrid_joined", POLICY_TAG_HYBRID_JOINED },
		{ "valid_client_cert", POLICY_TAG_VALID_CLIENT_CERT },
	};
	size_t len, i;
	unsigned m = 0;

	if (mask == NULL)
		return SU_EINVAL;
	*mask = 0;
	if (header == NULL)
		return SU_OK;
	len = strnlen(header, REQNORM_TAGS_MAX + 1);
	if (len > REQNORM_TAGS_MAX || reqnorm_has_ctl(header, len))
		return SU_EINVAL;
	for (i = 0; i <= len; i++) {
		size_t a = i, b;

		while (i < len && header[i] != ',')
			i++;
		b = i;
		while (a < b && (header[a] == ' ' || header[a] == '\t'))
			a++;
		while (b > a && (header[b - 1] == ' ' || header[b - 1] == '\t'))
			b--;
		for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
			if (reqnorm_ci_eqn(header + a, b - a, tags[t].name))
				m |= tags[t].bit;
	}
	*mask = m;
	return SU_OK;
}

/* reqnorm_list_free(): frees what reqnorm_list() made; NULL is fine. */
void
reqnorm_list_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* reqnorm_list(): see reqnorm.h. */
enum su_rc
reqnorm_list(const char *header, size_t max_items, size_t max_item, char ***out, size_t *n)
{
	char **v = NULL;
	size_t len, cnt = 0, i;
	enum su_rc rc = SU_EINVAL;

	if (out == NULL || n == NULL)
		return SU_EINVAL;
	*out = NULL;
	*n = 0;
	if (header == NULL)
		return SU_OK;
	/* no value can be longer than every item at its longest plus separators */
	len = strnlen(header, 65536 + 1);
	if (len > 65536 || reqnorm_has_ctl(header, len) ||
	    !reqnorm_utf8_ok((const unsigned char *)header, len))
		goto out;
	for (i = 0; i <= len; i++) {
		size_t a = i, b;

		while (i < len && header[i] != ',')
			i++;
		b = i;
		while (a < b && (header[a] == ' ' || header[a] == '\t'))
			a++;
		while (b > a && (header[b - 1] == ' ' || header[b - 1] == '\t'))
			b--;
		if (a == b)
			continue;
		if (b - a > max_item || cnt >= max_items)
			goto out;
		if (v == NULL) {
			v = calloc(max_items, sizeof(*v));
			if (v == NULL) {
				rc = SU_ENOMEM;
				goto out;
			}
		}
		v[cnt] = malloc(b - a + 1);
		if (v[cnt] == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		memcpy(v[cnt], header + a, b - a);
		v[cnt][b - a] = '\0';
		cnt++;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	reqnorm_list_free(v, cnt);
	return rc;
}

/* reqnorm_text_ok(): see reqnorm.h. */
bool
reqnorm_text_ok(const char *s, size_t max)
{
	size_t len;

	if (s == NULL)
		return false;
	len = strnlen(s, max + 1);
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return reqnorm_utf8_ok((const unsigned char *)s, len);
}
