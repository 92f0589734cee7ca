/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_reqnorm.c: request normalisation (reqnorm.h). Paths: every rule,
 * the LemonLDAP CVE-2020-24660 family (`/a/../admin`, `//admin`,
 * `/%61dmin` all become `/admin`), encoded separators and NUL refused,
 * bad percent-encoding and UTF-8 refused, dot segments above the root and
 * with Tomcat path parameters refused, length caps. X-Forwarded-For:
 * trusted and untrusted peers, chains, garbage, IPv6. Device tags, comma
 * lists and text checks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "policy.h"
#include "reqnorm.h"
#include "t.h"

/* norm_is() checks that raw normalises to want. */
static void
norm_is(const char *raw, const char *want)
{
	char out[REQNORM_PATH_MAX + 1];
	enum su_rc rc = reqnorm_path(raw, out, sizeof(out));

	T_OK(rc == SU_OK && strcmp(out, want) == 0, "path '%.60s' -> '%.60s' (rc %d, got '%.60s')", raw, want,
	     (int)rc, out);
}

/* norm_refused() checks that raw is refused with rc want (and out is ""). */
static void
norm_refused(const char *raw, enum su_rc want, const char *what)
{
	char out[REQNORM_PATH_MAX + 1];
	enum su_rc rc = reqnorm_path(raw, out, sizeof(out));

	T_OK(rc == want && out[0] == '\0', "path refused: %s (rc %d)", what, (int)rc);
}

static void
test_path(void)
{
	char *big;
	char small[8];

	norm_is("/", "/");
	norm_is("/files/report.pdf", "/files/report.pdf");
	norm_is("/files/report.pdf?download=1&x=/../admin", "/files/report.pdf");
	norm_is("/files/x#frag/../..", "/files/x");
	/* CVE-2020-24660 family: every spelling of /admin is /admin */
	norm_is("/a/../admin", "/admin");
	norm_is("//admin", "/admin");
	norm_is("/%61dmin", "/admin");
	norm_is("/%2e/admin", "/admin");
	norm_is("/x/%2E%2E/admin", "/admin");
	norm_is("/./admin/.", "/admin/");
	norm_is("///admin//x///", "/admin/x/");
	norm_is("/a/b/../../admin", "/admin");
	norm_is("/a/b/..", "/a/");
	norm_is("/a/.", "/a/");
	norm_is("/a/..", "/");
	norm_is("/admin/", "/admin/");
	norm_is("/%7Euser/%41%42", "/~user/AB");
	norm_is("/caf%C3%A9", "/caf\xc3\xa9");
	norm_is("/caf\xc3\xa9", "/caf\xc3\xa9");
	norm_is("/a%3Fb", "/a?b");
	norm_is("/a%25b", "/a%b");
	norm_is("/a;b/c", "/a;b/c");
	norm_is("/...", "/...");
	norm_is("/..a/.b", "/..a/.b");
	norm_refused("/%2e%2e/", SU_EINVAL, "/%2e%2e/ above the root");
	norm_refused("/..", SU_EINVAL, "/.. above the root");
	norm_refused("/a/../..", SU_EINVAL, ".. twice above the root");
	norm_refused("/a%2Fb", SU_EINVAL, "encoded slash %2F");
	norm_refused("/a%2fb", SU_EINVAL, "encoded slash %2f");
	norm_refused("/a%5Cb", SU_EINVAL, "encoded backslash");
	norm_refused("/a\\b", SU_EINVAL, "raw backslash");
	norm_refused("/a%00b", SU_EINVAL, "%00");
	norm_refused("/a%0d%0aX: y", SU_EINVAL, "encoded CR LF");
	norm_refused("/a%7f", SU_EINVAL, "encoded DEL");
	norm_refused("/a b", SU_EINVAL, "raw space");
	norm_refused("/a\tb", SU_EINVAL, "raw tab");
	norm_refused("/a\x7f", SU_EINVAL, "raw DEL");
	norm_refused("/a%", SU_EINVAL, "% at the end");
	norm_refused("/a%4", SU_EINVAL, "%X at the end");
	norm_refused("/a%4?x", SU_EINVAL, "%X before the query");
	norm_refused("/a%zz", SU_EINVAL, "% with non-hex");
	norm_refused("/a%+1", SU_EINVAL, "% with a sign");
	norm_refused("/%C0%AF", SU_EINVAL, "overlong UTF-8 for '/'");
	norm_refused("/%ED%A0%80", SU_EINVAL, "UTF-8 surrogate");
	norm_refused("/%F4%90%80%80", SU_EINVAL, "above U+10FFFF");
	norm_refused("/%C3", SU_EINVAL, "truncated UTF-8");
	norm_refused("/\xff", SU_EINVAL, "raw invalid UTF-8");
	norm_refused("/a/..;/admin", SU_EINVAL, "Tomcat ..;");
	norm_refused("/a/.;x/admin", SU_EINVAL, "Tomcat .;");
	norm_refused("/a/%2e%2e;/admin", SU_EINVAL, "encoded ..;");
	norm_refused("admin", SU_EINVAL, "relative");
	norm_refused("", SU_EINVAL, "empty");
	norm_refused("*", SU_EINVAL, "asterisk form");
	norm_refused("http://h/admin", SU_EINVAL, "absolute form");
	norm_refused(NULL, SU_EINVAL, "NULL");
	big = malloc(REQNORM_PATH_MAX + 16);
	memset(big, 'a', REQNORM_PATH_MAX + 8);
	big[0] = '/';
	big[REQNORM_PATH_MAX] = '\0';
	norm_is(big, big);
	big[REQNORM_PATH_MAX] = 'a';
	big[REQNORM_PATH_MAX + 1] = '\0';
	norm_refused(big, SU_ETOOBIG, "path of 4097 bytes");
	{
		/* 4096 bytes of path and then a query: fine, the query is not counted */
		char *want = strndup(big, REQNORM_PATH_MAX);

		big[REQNORM_PATH_MAX] = '?';
		norm_is(big, want);
		free(want);
	}
	free(big);
	T_OK(reqnorm_path("/abcdefgh", small, sizeof(small)) == SU_ETOOBIG && small[0] == '\0',
	     "result larger than the output buffer: ETOOBIG");
	T_OK(reqnorm_path("/abc", NULL, 0) == SU_EINVAL, "no output buffer");
	/* the result is a fixed point */
	{
		char a[REQNORM_PATH_MAX + 1], b[REQNORM_PATH_MAX + 1];

		T_OK(reqnorm_path("/x/./y//%7a/../w/", a, sizeof(a)) == SU_OK &&
		     reqnorm_path(a, b, sizeof(b)) == SU_OK && strcmp(a, b) == 0 &&
		     strcmp(a, "/x/y/w/") == 0,
		     "normalising a normalised path changes nothing");
	}
}

/* load_cfg() loads a config trusting 127.0.0.1/32, 10.0.0.0/8 and ::1. */
static struct cfg *
load_cfg(void)
{
	char dir[] = "/tmp/test_reqnorm.XXXXXX", path[PATH_MAX];
	struct cfg *c = NULL;
	char *errs = NULL;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/stepupd.conf", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return NULL;
	fputs("[server]\ntrusted_proxies = 127.0.0.1/32 10.0.0.0/8 ::1\n\n"
	      "[provider \"op\"]\ntype = oidc\nissuer = http://127.0.0.1:9400\n"
	      "client_id = rp\nclient_secret = s\n",
	      f);
	fclose(f);
	if (cfg_load(path, &c, &errs) != SU_OK) {
		printf("# config: %s\n", errs ? errs : "?");
		c = NULL;
	}
	free(errs);
	unlink(path);
	rmdir(dir);
	return c;
}

/* addr() fills a sockaddr from text. */
static void
addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(4444);
	} else if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
	}
}

/* client_is() runs reqnorm_client_addr() and checks the address it gives. */
static void
client_is(const struct cfg *c, const char *peer, const char *xff, const char *want)
{
	struct sockaddr_storage p, out;
	char got[INET6_ADDRSTRLEN] = "";
	enum su_rc rc;

	addr(peer, &p);
	rc = reqnorm_client_addr((struct sockaddr *)&p, xff, c, &out);
	if (rc == SU_OK && out.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&out)->sin_addr, got, sizeof(got));
	else if (rc == SU_OK && out.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&out)->sin6_addr, got, sizeof(got));
	T_OK(rc == SU_OK && strcmp(got, want) == 0, "peer %s, XFF '%s' -> %s (got %s)", peer,
	     xff ? xff : "(none)", want, got);
}

/* client_refused() checks that the XFF value is refused. */
static void
client_refused(const struct cfg *c, const char *peer, const char *xff, const char *what)
{
	struct sockaddr_storage p, out;

	addr(peer, &p);
	T_OK(reqnorm_client_addr((struct sockaddr *)&p, xff, c, &out) == SU_EINVAL,
	     "XFF refused: %s", what);
}

static void
test_xff(void)
{
	struct cfg *c = load_cfg();
	char big[REQNORM_XFF_MAX + 32];
	size_t k = 0;

	if (c == NULL) {
		T_OK(0, "test config loads");
		return;
	}
	client_is(c, "192.0.2.7", NULL, "192.0.2.7");
	client_is(c, "192.0.2.7", "203.0.113.9", "192.0.2.7");  /* untrusted peer: XFF ignored */
	client_is(c, "192.0.2.7", "garbage", "192.0.2.7");      /* ... even garbage */
	client_is(c, "127.0.0.1", NULL, "127.0.0.1");
	client_is(c, "127.0.0.1", "203.0.113.9", "203.0.113.9");
	client_is(c, "127.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"); /* client-set left entry */
	client_is(c, "127.0.0.1", "203.0.113.9, 10.1.1.1", "203.0.113.9"); /* skip trusted hop */
	client_is(c, "127.0.0.1", "198.51.100.1,203.0.113.9 ,\t10.2.2.2", "203.0.113.9");
	client_is(c, "127.0.0.1", "10.3.3.3, 10.1.1.1", "10.3.3.3"); /* all trusted: leftmost */
	client_is(c, "127.0.0.1", "2001:db8::1", "2001:db8::1");
	client_is(c, "127.0.0.1", "[2001:db8::2]", "2001:db8::2");
	client_is(c, "::1", "2001:db8::3, ::1", "2001:db8::3");
	client_is(c, "::ffff:127.0.0.1", "203.0.113.5", "203.0.113.5"); /* v4-mapped trusted peer */
	client_refused(c, "127.0.0.1", "", "empty value");
	client_refused(c, "127.0.0.1", "unknown", "'unknown'");
	client_refused(c, "127.0.0.1", "203.0.113.9,", "trailing comma");
	client_refused(c, "127.0.0.1", ",203.0.113.9", "leading comma");
	client_refused(c, "127.0.0.1", "203.0.113.9,,10.0.0.1", "empty entry");
	client_refused(c, "127.0.0.1", "garbage, 203.0.113.9", "garbage left of the client");
	client_refused(c, "127.0.0.1", "203.0.113.9:443", "IPv4 with a port");
	client_refused(c, "127.0.0.1", "[2001:db8::1]:443", "bracketed IPv6 with a port");
	client_refused(c, "127.0.0.1", "[203.0.113.9]", "bracketed IPv4");
	client_refused(c, "127.0.0.1", "fe80::1%eth0", "IPv6 zone");
	client_refused(c, "127.0.0.1", "1.2.3", "short IPv4");
	client_refused(c, "127.0.0.1", "1.2.3.4.5", "long IPv4");
	client_refused(c, "127.0.0.1", "203.0.113.9 10.0.0.1", "space-separated");
	client_refused(c, "127.0.0.1", "0x7f.0.0.1", "hex IPv4");
	for (int i = 0; i < REQNORM_XFF_HOPS + 1; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, "%s10.0.0.%d", i ? "," : "", i % 250);
	client_refused(c, "127.0.0.1", big, "65 hops");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + sizeof(big) - 10, "1.2.3.4", 8);
	client_refused(c, "127.0.0.1", big, "over 4096 bytes");
	{
		struct sockaddr_storage out;

		T_OK(reqnorm_client_addr(NULL, NULL, c, &out) == SU_EINVAL, "NULL peer refused");
	}
	cfg_free(c);
}

static void
test_tags_lists(void)
{
	unsigned m = 99;
	char **v = NULL;
	size_t n = 9;
	char big[REQNORM_TAGS_MAX + 8];

	T_OK(reqnorm_device_tags(NULL, &m) == SU_OK && m == 0, "no header: no tags");
	T_OK(reqnorm_device_tags("compliant", &m) == SU_OK && m == POLICY_TAG_COMPLIANT, "one tag");
	T_OK(reqnorm_device_tags(" Compliant ,\tHYBRID_JOINED,valid_client_cert", &m) == SU_OK &&
	     m == (POLICY_TAG_COMPLIANT | POLICY_TAG_HYBRID_JOINED | POLICY_TAG_VALID_CLIENT_CERT),
	     "three tags, trimmed, case-insensitive");
	T_OK(reqnorm_device_tags("managed, ,compliantx,", &m) == SU_OK && m == 0,
	     "unknown and empty items ignored");
	T_OK(reqnorm_device_tags("", &m) == SU_OK && m == 0, "empty header: no tags");
	T_OK(reqnorm_device_tags("compliant\r\nX: y", &m) == SU_EINVAL, "control bytes refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_OK(reqnorm_device_tags(big, &m) == SU_EINVAL, "over-long tags header refused");

	T_OK(reqnorm_list(NULL, 8, 16, &v, &n) == SU_OK && n == 0 && v == NULL, "no list");
	T_OK(reqnorm_list(" staff, ,contractors ,", 8, 16, &v, &n) == SU_OK && n == 2 &&
	     strcmp(v[0], "staff") == 0 && strcmp(v[1], "contractors") == 0,
	     "list split, trimmed, empty items skipped");
	reqnorm_list_free(v, n);
	T_OK(reqnorm_list("a,b,c", 2, 16, &v, &n) == SU_EINVAL && v == NULL && n == 0,
	     "too many items refused");
	T_OK(reqnorm_list("abcdefgh", 8, 4, &v, &n) == SU_EINVAL, "item too long refused");
	T_OK(reqnorm_list("a\x01", 8, 4, &v, &n) == SU_EINVAL, "control byte refused");
	T_OK(reqnorm_list("\xc3(", 8, 4, &v, &n) == SU_EINVAL, "invalid UTF-8 refused");
	T_OK(reqnorm_list("caf\xc3\xa9", 8, 8, &v, &n) == SU_OK && n == 1, "UTF-8 item accepted");
	reqnorm_list_free(v, n);

	T_OK(reqnorm_text_ok("report.pdf", 64), "text ok");
	T_OK(!reqnorm_text_ok("", 64), "empty text refused");
	T_OK(!reqnorm_text_ok(NULL, 64), "NULL text refused");
	T_OK(!reqnorm_text_ok("abc", 2), "over-long text refused");
	T_OK(!reqnorm_text_ok("a\nb", 64), "newline refused");
	T_OK(!reqnorm_text_ok("a\xc0\xaf", 64), "overlong UTF-8 refused");
	T_OK(reqnorm_utf8_ok((const unsigned char *)"\xf0\x9f\x98\x80", 4), "4-byte UTF-8 accepted");
	T_OK(!reqnorm_utf8_ok((const unsigned char *)"\xf8\x88\x80\x80\x80", 5), "5-byte form refused");
}

int
main(void)
{
	test_path();
	test_xff();
	test_tags_lists();
	return T_DONE();
}
