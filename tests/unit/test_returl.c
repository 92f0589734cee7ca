/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_returl.c: the return-URL rules (SPEC section 5). Replays every line
 * of tests/data/open-redirect-payloads.txt (mod_auth_openidc's public
 * corpus) and asserts each one is refused, then checks good URLs are
 * accepted and each named attack form is refused with its own check, and
 * that returl_origin_normalise() normalises and refuses what it should.
 * Run from the project root.
 */
#include <stdlib.h>
#include <string.h>

#include "returl.h"
#include "t.h"

#define RETURL_PAYLOADS "tests/data/open-redirect-payloads.txt"
/* 835 payloads: `wc -l` says 834 because the last line has no newline */
#define RETURL_PAYLOADS_N 835

static const char *const test_allowed[] = {
	"https://www.stepup.example:443",
	"http://127.0.0.1:8088",
	"http://[::1]:8088",
	NULL,
};

/* the payload corpus is built around this name as the "good" host */
static const char *const test_allowed_corpus[] = {
	"https://www.stepup.example:443",
	"http://127.0.0.1:8088",
	"https://www.whitelisteddomain.tld:443",
	"http://www.whitelisteddomain.tld:80",
	NULL,
};

/* test_printable() writes s into dst with non-printable bytes as \xNN. */
static void
test_printable(const char *s, char *dst, size_t dstsz)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < dstsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '#') {
			snprintf(dst + o, dstsz - o, "\\x%02x", c);
			o += 4;
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
}

/* test_read_file() returns the whole file, NUL-terminated, or NULL. */
static char *
test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	data = malloc((size_t)n + 1);
	if (data == NULL)
		goto out;
	if (fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
		goto out;
	}
	data[n] = '\0';
	*len = (size_t)n;
out:
	fclose(f);
	return data;
}

/* test_payloads() replays the corpus against allowed; one TAP line per payload. */
static void
test_payloads(const char *const *allowed, const char *label)
{
	size_t len = 0, lines = 0, refused = 0;
	char *data = test_read_file(RETURL_PAYLOADS, &len);
	char *p, *end;

	T_OK(data != NULL, "%s: read %s", label, RETURL_PAYLOADS);
	if (data == NULL)
		return;
	p = data;
	end = data + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char err[128], shown[256];
		enum su_rc rc;

		if (nl != NULL)
			*nl = '\0';
		lines++;
		err[0] = '\0';
		rc = returl_check(p, allowed, err, sizeof(err));
		test_printable(p, shown, sizeof(shown));
		T_OK(rc == SU_EINVAL && err[0] != '\0', "%s: payload %zu refused (%s): %s", label, lines, err,
		     shown);
		if (rc == SU_EINVAL)
			refused++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	T_OK(lines == RETURL_PAYLOADS_N, "%s: corpus has %d lines (got %zu)", label, RETURL_PAYLOADS_N,
	     lines);
	T_OK(refused == lines, "%s: every payload refused (%zu of %zu)", label, refused, lines);
	free(data);
}

/* test_ok() checks that url is accepted. */
static void
test_ok(const char *url)
{
	char err[128] = "";
	enum su_rc rc = returl_check(url, test_allowed, err, sizeof(err));

	T_OK(rc == SU_OK, "accepted: %s %s", url, err);
}

/* test_bad() checks that url is refused and the reason mentions want. */
static void
test_bad(const char *url, const char *want, const char *what)
{
	char err[128] = "";
	char shown[256];
	enum su_rc rc = returl_check(url, test_allowed, err, sizeof(err));

	test_printable(url, shown, sizeof(shown));
	T_OK(rc == SU_EINVAL && strstr(err, want) != NULL, "refused %s: %s (err: %s)", what, shown, err);
}

/* test_norm() checks returl_origin_normalise(in) gives want (NULL: refused). */
static void
test_norm(const char *in, const char *want)
{
	char *out = NULL;
	enum su_rc rc = returl_origin_normalise(in, &out);

	if (want == NULL)
		T_OK(rc == SU_EINVAL && out == NULL, "normalise refuses %s", in);
	else
		T_OK(rc == SU_OK && out != NULL && strcmp(out, want) == 0, "normalise %s -> %s (got %s)",
		     in, want, out ? out : "NULL");
	free(out);
}

int
main(void)
{
	char longurl[RETURL_MAX + 64];
	char err[64];
	size_t n;

	test_payloads(test_allowed, "payloads");
	test_payloads(test_allowed_corpus, "payloads, whitelisteddomain allowed");

	/* good URLs */
	test_ok("https://www.stepup.example/a?b=c#d");
	test_ok("https://www.stepup.example:443/a?b=c#d");
	test_ok("https://WWW.StepUp.Example/");
	test_ok("HTTPS://www.stepup.example");
	test_ok("http://127.0.0.1:8088/files/report.pdf");
	test_ok("http://127.0.0.1:8088");
	test_ok("http://127.0.0.1:8088?x=1");
	test_ok("http://127.0.0.1:8088/a%20b/%E2%82%AC?q=%2F%3F#frag");
	test_ok("http://[::1]:8088/x");
	test_ok("http://[0:0::1]:8088/x");
	test_ok("https://www.stepup.example/?next=//evil.example");
	test_ok("https://www.stepup.example/#@evil.example");

	/* origin mismatches, dot-bounded */
	test_bad("https://evil.example/", "origin", "foreign origin");
	test_bad("https://evil-www.stepup.example/", "origin", "prefix trick");
	test_bad("https://www.stepup.example.evil.com/", "origin", "suffix trick");
	test_bad("https://xwww.stepup.example/", "origin", "glued prefix");
	test_bad("https://www.stepup.example./", "origin", "trailing dot");
	test_bad("http://www.stepup.example/", "origin", "scheme mismatch");
	test_bad("https://www.stepup.example:8443/", "origin", "port mismatch");
	test_bad("http://127.0.0.1/", "origin", "default port mismatch");
	test_bad("http://127.0.0.1:8089/", "origin", "neighbour port");
	test_bad("http://2130706433:8088/", "origin", "decimal IPv4");
	test_bad("http://0x7f.0.0.1:8088/", "origin", "hex IPv4");
	test_bad("http://127.1:8088/", "origin", "short IPv4");
	test_bad("http://[::2]:8088/", "origin", "other IPv6");
	test_bad("http://[::ffff:127.0.0.1]:8088/", "origin", "mapped IPv6");

	/* scheme and form */
	test_bad("", "empty", "empty URL");
	test_bad("/files/report.pdf", "relative", "relative URL");
	test_bad("//evil.example/", "scheme-relative", "scheme-relative //");
	test_bad("///evil.example/", "scheme-relative", "triple slash ///");
	test_bad("https:///evil.example/", "empty host", "https:///");
	test_bad("http:evil.example", "scheme without host", "http:host");
	test_bad("https:/evil.example", "scheme without host", "https:/host");
	test_bad("https:", "scheme without host", "bare scheme");
	test_bad("https://", "empty host", "empty authority");
	test_bad("https://:443/", "empty host", "port without host");
	test_bad("https://?x", "empty host", "query without host");
	test_bad("javascript:alert(1)", "scheme", "javascript scheme");
	test_bad("ftp://www.stepup.example/", "scheme", "ftp scheme");
	test_bad("data:text/html,x", "scheme", "data scheme");
	test_bad("www.stepup.example/a", "absolute", "no scheme");
	test_bad("1http://www.stepup.example/", "absolute", "scheme starting with a digit");

	/* bytes anywhere */
	test_bad("https://www.stepup.example/a\tb", "control", "tab in path");
	test_bad("https://www.\tstepup.example/", "control", "tab in host");
	test_bad("https://www.stepup.example/\r\nSet-Cookie: a=1", "control", "CRLF injection");
	test_bad("https://www.stepup.example/a\x01", "control", "SOH");
	test_bad("https://www.stepup.example/a\x7f", "DEL", "DEL");
	test_bad("https://www.stepup.example/a b", "space", "space in path");
	test_bad(" https://www.stepup.example/", "space", "leading space");
	test_bad("https://www.stepup.example\\@evil.example/", "backslash", "backslash in authority");
	test_bad("https://www.stepup.example/\\evil.example", "backslash", "backslash in path");
	test_bad("https:\\\\evil.example/", "backslash", "backslash slashes");
	test_bad("https://www.stepup.example/\"><script>", "not allowed", "quote and angle brackets");

	/* authority */
	test_bad("https://user@www.stepup.example/", "user-info", "userinfo");
	test_bad("https://www.stepup.example@evil.example/", "user-info", "userinfo with allowed host");
	test_bad("https://www.stepup.example:443@evil.example/", "user-info", "userinfo with port");
	test_bad("https://:@www.stepup.example/", "user-info", "empty userinfo");
	test_bad("https://www%2estepup.example/", "percent", "percent-encoded dot in host");
	test_bad("https://%77ww.stepup.example/", "percent", "percent-encoded host letter");
	test_bad("https://www.stepup.example:%34%34%33/", "percent", "percent-encoded port");
	test_bad("https://www.stepup.ex\xc3\xa4mple/", "non-ASCII", "non-ASCII in host");
	test_bad("https://\xef\xbd\x97ww.stepup.example/", "non-ASCII", "fullwidth letter in host");
	test_bad("https://www.stepup.example:/", "port", "empty port");
	test_bad("https://www.stepup.example:0443/", "port", "leading zero port");
	test_bad("https://www.stepup.example:65536/", "port", "port out of range");
	test_bad("https://www.stepup.example:443:443/", "port", "two ports");
	test_bad("https://www.stepup.example:44x/", "port", "junk in port");
	test_bad("http://[::1/", "IPv6", "unclosed IPv6");
	test_bad("http://[zz::1]:8088/", "IPv6", "bad IPv6");
	test_bad("http://[::1]x:8088/", "host", "junk after IPv6");
	test_bad("https://www.stepup_example!/", "host", "bad character in host");

	/* path, query, fragment */
	test_bad("https://www.stepup.example//evil.example", "//", "path beginning with //");
	test_bad("https://www.stepup.example/%2f/evil.example", "path begins", "path beginning with /%2f");
	test_bad("https://www.stepup.example/%2F/evil.example", "path begins", "path beginning with /%2F");
	test_bad("https://www.stepup.example/https://evil.example/", "path begins", "path beginning with /https:");
	test_bad("https://www.stepup.example/%68ttp://evil.example/", "path begins", "path beginning with /%68ttp:");
	test_bad("https://www.stepup.example/JavaScript:alert(1)", "path begins", "path beginning with /javascript:");
	test_bad("https://www.stepup.example/%00", "control", "%00");
	test_bad("https://www.stepup.example/%09/evil", "control", "%09");
	test_bad("https://www.stepup.example/?a=%0d%0aSet-Cookie:x", "control", "%0d%0a in query");
	test_bad("https://www.stepup.example/#%1F", "control", "%1F in fragment");
	test_bad("https://www.stepup.example/%7f", "control", "%7f");
	test_bad("https://www.stepup.example/%5cevil", "backslash", "%5c");
	test_bad("https://www.stepup.example/a?%5C", "backslash", "%5C in query");
	test_bad("https://www.stepup.example/%", "malformed", "lone percent");
	test_bad("https://www.stepup.example/%4", "malformed", "short percent");
	test_bad("https://www.stepup.example/%zz", "malformed", "non-hex percent");
	test_bad("https://www.stepup.example/\xe3\x80\xb1", "non-ASCII", "non-ASCII in path");

	/* length */
	n = (size_t)snprintf(longurl, sizeof(longurl), "https://www.stepup.example/");
	memset(longurl + n, 'a', RETURL_MAX - n);
	longurl[RETURL_MAX] = '\0';
	test_ok(longurl);
	longurl[RETURL_MAX] = 'a';
	longurl[RETURL_MAX + 1] = '\0';
	test_bad(longurl, "longer", "URL of RETURL_MAX + 1 bytes");

	/* API edges */
	T_OK(returl_check(NULL, test_allowed, err, sizeof(err)) == SU_EINVAL, "NULL URL refused");
	T_OK(returl_check("https://www.stepup.example/", NULL, err, sizeof(err)) == SU_EINVAL,
	     "NULL allowed list refuses everything");
	T_OK(returl_check("https://evil.example/", test_allowed, NULL, 0) == SU_EINVAL,
	     "NULL err buffer tolerated");
	T_OK(returl_check("https://www.stepup.example/", test_allowed, err, 1) == SU_OK,
	     "tiny err buffer tolerated");

	/* normalisation */
	test_norm("https://Files.Example.com", "https://files.example.com:443");
	test_norm("http://127.0.0.1:8088/", "http://127.0.0.1:8088");
	test_norm("HTTP://Example.COM", "http://example.com:80");
	test_norm("https://example.com:8443", "https://example.com:8443");
	test_norm("http://[::1]:8080", "http://[::1]:8080");
	test_norm("http://[0:0:0:0:0:0:0:1]", "http://[::1]:80");
	test_norm("https://files.example.com/path", NULL);
	test_norm("https://files.example.com/?q", NULL);
	test_norm("https://files.example.com#f", NULL);
	test_norm("https://files.example.com//", NULL);
	test_norm("https://user@files.example.com", NULL);
	test_norm("ftp://files.example.com", NULL);
	test_norm("files.example.com", NULL);
	test_norm("//files.example.com", NULL);
	test_norm("https:files.example.com", NULL);
	test_norm("https://", NULL);
	test_norm("https://files.example.com:0", NULL);
	test_norm("https://fi%6ces.example.com", NULL);
	test_norm("https://files.example.com\\", NULL);
	test_norm("https://files.example.com ", NULL);
	test_norm("", NULL);
	T_OK(returl_origin_normalise(NULL, NULL) == SU_EINVAL, "normalise NULL refused");

	return T_DONE();
}
