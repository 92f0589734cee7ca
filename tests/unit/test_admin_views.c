/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_admin_views.c: the helpers of the console's pages (handlers.h,
 * h_admin_sessions.c and h_admin_idp.c): percent-encoding, strict
 * integers, times, badge kinds, and reading SAML metadata for the IdP
 * status page: validUntil (the earliest of the document's), cacheDuration,
 * signing certificates (only those for signing), and everything it must
 * refuse (a DOCTYPE or entity, broken XML, no IdP, an unreadable
 * certificate, a validUntil that is not a UTC time).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "handlers.h"
#include "t.h"

/* A throwaway self-signed P-256 certificate, CN "unit test idp", valid
 * until 2126-11-03 15:25:09 UTC (public part only; made for this test). */
#define CERT_B64                                                          \
	"MIIBhzCCAS2gAwIBAgIUdEU7oY9zJY6CnRlo6tXoHsdiQ+EwCgYIKoZIzj0EAwIw\n" \
	"GDEWMBQGA1UEAwwNdW5pdCB0ZXN0IGlkcDAgFw0yNjExMjcxNTI1MDlaGA8yMTI2\n" \
	"MTEwMzE1MjUwOVowGDEWMBQGA1UEAwwNdW5pdCB0ZXN0IGlkcDBZMBMGByqGSM49\n" \
	"AgEGCCqGSM49AwEHA0IABJ2cfnD0Zd7PZH73iGxZzVAwsxyY7pUfVNC8/nb5puQT\n" \
	"4bKTnZWCcS7F6o6TcPht8qOZlHqyG6HttOoJ+fMoA26jUzBRMB0GA1UdDgQWBBQS\n" \
	"2RMpX6ym7Gx4Xfo9Gw8RXZytrjAfBgNVHSMEGDAWgBQS2RMpX6ym7Gx4Xfo9Gw8R\n" \
	"XZytrjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIDJthVKN3jaK\n" \
	"qbKj41K9BU682OhIs5hUv6EN29cQ3YMlAiEAt0VgSUEUHAmbzbqCTcJJBZET7gYs\n" \
	"Ny0EuhioLWKsCWs="
#define CERT_NOT_AFTER 4949393109LL

#define MD_OPEN                                                                              \
	"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "             \
	"xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"https://idp.test\""
#define KD(use, b64)                                                                         \
	"<md:KeyDescriptor" use "><ds:KeyInfo><ds:X509Data><ds:X509Certificate>" b64            \
	"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"

/* meta() runs h_av_saml_meta() on a C string. */
static enum su_rc
meta(const char *xml, struct h_av_samlmeta *m)
{
	return h_av_saml_meta(xml, strlen(xml), m);
}

static void
test_saml_meta(void)
{
	struct h_av_samlmeta m;
	enum su_rc rc;

	rc = meta("<?xml version=\"1.0\"?>" MD_OPEN " validUntil=\"2030-01-02T03:04:05Z\" "
		  "cacheDuration=\"PT6H\"><md:IDPSSODescriptor protocolSupportEnumeration=\"x\" "
		  "validUntil=\"2029-06-01T00:00:00Z\">" KD(" use=\"signing\"", CERT_B64)
			  KD(" use=\"encryption\"", CERT_B64) KD("", "\n  " CERT_B64 "\n  ")
		  "</md:IDPSSODescriptor></md:EntityDescriptor>",
		  &m);
	T_OK(rc == SU_OK && m.problem[0] == '\0', "good metadata reads (%s)", m.problem);
	T_OK(m.valid_until == 1874966400LL, "validUntil: the earliest (2029-06-01), %lld",
	     (long long)m.valid_until);
	T_OK(strcmp(m.cache_duration, "PT6H") == 0, "cacheDuration");
	T_OK(m.n_certs == 2, "two signing certificates (use=signing and no use), not encryption (%zu)",
	     m.n_certs);
	T_OK(m.certs[0].not_after == CERT_NOT_AFTER && strstr(m.certs[0].subject, "unit test idp") != NULL,
	     "certificate notAfter and subject (%s)", m.certs[0].subject);

	rc = meta("<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
		  "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" validUntil=\"2031-01-01T00:00:00Z\">"
		  "<md:EntityDescriptor entityID=\"sp\"><md:SPSSODescriptor/></md:EntityDescriptor>"
		  "<md:EntityDescriptor entityID=\"idp\"><md:IDPSSODescriptor>" KD("", CERT_B64)
		  "</md:IDPSSODescriptor></md:EntityDescriptor></md:EntitiesDescriptor>",
		  &m);
	T_OK(rc == SU_OK && m.n_certs == 1 && m.valid_until == 1924992000LL,
	     "an EntitiesDescriptor: the IdP's entity and the group's validUntil");

	rc = meta(MD_OPEN "><md:IDPSSODescriptor/></md:EntityDescriptor>", &m);
	T_OK(rc == SU_OK && m.valid_until == 0 && m.n_certs == 0 &&
		     strstr(m.problem, "no signing certificate") != NULL,
	     "no validUntil, no certificate: said so");
	rc = meta(MD_OPEN " validUntil=\"tomorrow\"><md:IDPSSODescriptor>" KD("", CERT_B64)
		  "</md:IDPSSODescriptor></md:EntityDescriptor>", &m);
	T_OK(rc == SU_OK && m.valid_until == 0 && strstr(m.problem, "validUntil") != NULL,
	     "a validUntil that is not a UTC time is a problem");
	rc = meta(MD_OPEN "><md:IDPSSODescriptor>" KD("", "bm90IGEgY2VydA==")
		  "</md:IDPSSODescriptor></md:EntityDescriptor>", &m);
	T_OK(rc == SU_OK && m.n_certs == 0 && strstr(m.problem, "cannot be read") != NULL,
	     "base64 that is no certificate: a problem");
	rc = meta(MD_OPEN "><md:IDPSSODescriptor>" KD("", "!!!")
		  "</md:IDPSSODescriptor></md:EntityDescriptor>", &m);
	T_OK(rc == SU_OK && m.n_certs == 0 && m.problem[0] != '\0', "not base64: a problem");

	rc = meta("<!DOCTYPE x [<!ENTITY e \"v\">]>" MD_OPEN "/>", &m);
	T_OK(rc == SU_EINVAL && strstr(m.problem, "DOCTYPE") != NULL, "a DOCTYPE is refused");
	rc = meta(MD_OPEN "><!ENTITY x \"y\"></md:EntityDescriptor>", &m);
	T_OK(rc == SU_EINVAL, "an ENTITY anywhere is refused");
	rc = meta("<md:EntityDescriptor", &m);
	T_OK(rc == SU_EINVAL && strstr(m.problem, "well-formed") != NULL, "broken XML refused");
	rc = meta("<EntityDescriptor><IDPSSODescriptor/></EntityDescriptor>", &m);
	T_OK(rc == SU_EINVAL && strstr(m.problem, "no IdP") != NULL, "elements outside the namespace: no IdP");
	rc = meta(MD_OPEN "><md:SPSSODescriptor/></md:EntityDescriptor>", &m);
	T_OK(rc == SU_OK && m.n_certs == 0, "an SP-only entity has no IdP certificate");
	rc = h_av_saml_meta(NULL, 0, &m);
	T_OK(rc == SU_EINVAL && m.problem[0] != '\0', "no input refused");
}

static void
test_helpers(void)
{
	struct buf b;
	int64_t v = -1;
	char t[H_AV_TIME_LEN];

	buf_init(&b, 1024);
	T_OK(h_av_urlenc(&b, "a b&c=d/é~._-") == SU_OK &&
		     strcmp(buf_cstr(&b), "a%20b%26c%3Dd%2F%C3%A9~._-") == 0,
	     "urlenc: reserved and non-ASCII bytes encoded (%s)", buf_cstr(&b));
	buf_cleanup(&b);
	T_OK(h_av_int("42", 1, 100, &v) && v == 42, "int 42");
	T_OK(!h_av_int("0", 1, 100, &v), "int below min refused");
	T_OK(!h_av_int("101", 1, 100, &v), "int above max refused");
	T_OK(!h_av_int("-1", -5, 100, &v), "a sign refused");
	T_OK(!h_av_int("1e3", 0, 100000, &v) && !h_av_int(" 1", 0, 9, &v) && !h_av_int("", 0, 9, &v),
	     "anything but digits refused");
	T_OK(!h_av_int("9999999999999999999", 0, INT64_MAX, &v), "too many digits refused");
	h_av_time(0, t);
	T_OK(strcmp(t, "never") == 0, "time 0: never");
	h_av_time(1700000000, t);
	T_OK(strcmp(t, "2023-11-14 22:13:20 UTC") == 0, "time: UTC (%s)", t);
	h_av_iso(1700000000, t);
	T_OK(strcmp(t, "2023-11-14T22:13:20Z") == 0, "iso time");
	h_av_rel(1000, 1000 - 300, t);
	T_OK(strcmp(t, "5 min ago") == 0, "5 min ago (%s)", t);
	h_av_rel(1000, 1000 + 7200, t);
	T_OK(strcmp(t, "in 2 hours") == 0, "in 2 hours (%s)", t);
	h_av_rel(1000000, 1000000 - 3 * 86400, t);
	T_OK(strcmp(t, "3 days ago") == 0, "3 days ago (%s)", t);
	T_OK(strcmp(h_av_outcome_kind("blocked"), "bad") == 0 &&
		     strcmp(h_av_outcome_kind("stepped_up"), "ok") == 0 &&
		     strcmp(h_av_outcome_kind("<script>"), "muted") == 0 &&
		     strcmp(h_av_outcome_kind(NULL), "muted") == 0,
	     "badge kinds; anything unknown is muted");
	T_OK(strcmp(h_av_words("stepped_up"), "stepped up") == 0 && strcmp(h_av_words("x"), "x") == 0 &&
		     strcmp(h_av_words(NULL), "") == 0,
	     "display words");
}

int
main(void)
{
	test_saml_meta();
	test_helpers();
	return T_DONE();
}
