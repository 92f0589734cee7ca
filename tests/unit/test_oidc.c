/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_oidc.c: the authorization URL (exact encoding), discovery and token
 * response parsing, and every ID-token claims check of oidc_id_token_check()
 * with one test per failure (OIDC Core 3.1.3.7, SPEC 2.1 step 3).
 */
#include <stdlib.h>
#include <string.h>

#include "oidc.h"
#include "t.h"

#define NOW 1700000000LL

static const char *const acrs_c1[] = { "c1", NULL };
static const char *const acrs_two[] = { "c1", "c2", NULL };
static const char *const acr_loa3[] = { "urn:test:loa:3", "urn:test:loa:4", NULL };

/* authz() builds a URL from a (with defaults for the fixed fields). */
static char *
authz(struct oidc_authz *a)
{
	char *u = NULL;

	if (a->authorization_endpoint == NULL)
		a->authorization_endpoint = "https://op.example/authorize";
	a->client_id = "stepup-rp";
	a->redirect_uri = "http://127.0.0.1:8080/oidc/callback";
	a->state = "st_1";
	a->nonce = "n-1";
	a->code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	if (oidc_authz_url(a, &u) != SU_OK)
		return NULL;
	return u;
}

#define BASE "https://op.example/authorize?response_type=code&client_id=stepup-rp" \
	"&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Foidc%2Fcallback"
#define TAIL "&state=st_1&nonce=n-1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" \
	"&code_challenge_method=S256"

/* url_is() compares a built URL with the expected text. */
static void
url_is(char *got, const char *want, const char *what)
{
	int same = got != NULL && strcmp(got, want) == 0;

	if (!same)
		printf("# got  %s\n# want %s\n", got ? got : "(null)", want);
	T_OK(same, "authz URL: %s", what);
	free(got);
}

/* test_authz() checks parameters and their exact encoding. */
static void
test_authz(void)
{
	struct oidc_authz a;
	char *u;

	memset(&a, 0, sizeof(a));
	a.scope = "openid profile";
	a.acrs = acrs_c1;
	a.max_age = 0;
	a.prompt_login = true;
	url_is(authz(&a),
	       BASE "&scope=openid%20profile" TAIL
		    "&claims=%7B%22id_token%22%3A%7B%22acrs%22%3A%7B%22essential%22%3Atrue%2C%22value%22%3A%22c1%22%7D%7D%7D"
		    "&max_age=0&prompt=login",
	       "acrs only, max_age 0, prompt=login");

	memset(&a, 0, sizeof(a));
	a.scope = "profile";
	a.acrs = acrs_two;
	a.max_age = -1;
	url_is(authz(&a),
	       BASE "&scope=openid%20profile" TAIL
		    "&claims=%7B%22id_token%22%3A%7B%22acrs%22%3A%7B%22essential%22%3Atrue%2C%22values%22%3A%5B%22c1%22%2C%22c2%22%5D%7D%7D%7D",
	       "two acrs use values; openid added to scope; no max_age when < 0");

	memset(&a, 0, sizeof(a));
	a.acr = acr_loa3;
	a.max_age = 300;
	a.login_hint = "alice+x@example.com";
	url_is(authz(&a),
	       BASE "&scope=openid" TAIL "&login_hint=alice%2Bx%40example.com"
		    "&acr_values=urn%3Atest%3Aloa%3A3%20urn%3Atest%3Aloa%3A4"
		    "&claims=%7B%22id_token%22%3A%7B%22acr%22%3A%7B%22essential%22%3Atrue%2C%22values%22%3A%5B%22urn%3Atest%3Aloa%3A3%22%2C%22urn%3Atest%3Aloa%3A4%22%5D%7D%7D%7D"
		    "&max_age=300",
	       "acr only with login_hint, acr_values, max_age 300");

	memset(&a, 0, sizeof(a));
	a.scope = "openid";
	a.acrs = acrs_c1;
	a.acr = acr_loa3;
	a.max_age = -1;
	a.prompt_login = true;
	url_is(authz(&a),
	       BASE "&scope=openid" TAIL "&acr_values=urn%3Atest%3Aloa%3A3%20urn%3Atest%3Aloa%3A4"
		    "&claims=%7B%22id_token%22%3A%7B%22acrs%22%3A%7B%22essential%22%3Atrue%2C%22value%22%3A%22c1%22%7D%2C"
		    "%22acr%22%3A%7B%22essential%22%3Atrue%2C%22values%22%3A%5B%22urn%3Atest%3Aloa%3A3%22%2C%22urn%3Atest%3Aloa%3A4%22%5D%7D%7D%7D"
		    "&prompt=login",
	       "both acrs and acr");

	memset(&a, 0, sizeof(a));
	a.authorization_endpoint = "https://op.example/authorize?p=b2c_1_stepup";
	a.max_age = -1;
	u = authz(&a);
	T_OK(u != NULL && strncmp(u, "https://op.example/authorize?p=b2c_1_stepup&response_type=code&", 63) == 0,
	     "endpoint with a query: joined with &");
	T_OK(u != NULL && strstr(u, "claims=") == NULL && strstr(u, "acr_values") == NULL &&
		     strstr(u, "login_hint") == NULL && strstr(u, "max_age") == NULL &&
		     strstr(u, "prompt") == NULL,
	     "no optional parameter sent when unset");
	free(u);

	memset(&a, 0, sizeof(a));
	a.authorization_endpoint = "https://op.example/authorize?";
	a.max_age = -1;
	u = authz(&a);
	T_OK(u != NULL && strncmp(u, "https://op.example/authorize?response_type=", 43) == 0,
	     "endpoint ending in ?: no extra separator");
	free(u);

	memset(&a, 0, sizeof(a));
	a.authorization_endpoint = "https://op.example/authorize#frag";
	T_OK(authz(&a) == NULL, "endpoint with a fragment refused");
	memset(&a, 0, sizeof(a));
	a.authorization_endpoint = "/authorize";
	T_OK(authz(&a) == NULL, "relative endpoint refused");
	memset(&a, 0, sizeof(a));
	a.max_age = -1;
	a.login_hint = "a b&c=d/é";
	u = authz(&a);
	T_OK(u != NULL && strstr(u, "&login_hint=a%20b%26c%3Dd%2F%C3%A9") != NULL,
	     "reserved, space and UTF-8 bytes percent-encoded");
	free(u);
	T_OK(oidc_authz_url(NULL, &u) == SU_EINVAL, "NULL request refused");
}

/* test_discovery() checks the discovery document rules. */
static void
test_discovery(void)
{
	struct oidc_discovery d;
	char err[256];
	const char *good = "{\"issuer\":\"https://op.example\","
			   "\"authorization_endpoint\":\"https://op.example/authorize\","
			   "\"token_endpoint\":\"https://op.example/token\","
			   "\"jwks_uri\":\"http://127.0.0.1:9400/jwks\"}";
	const char *bad[][2] = {
		{ "{\"issuer\":\"https://op.example/\",\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"https://op.example/t\",\"jwks_uri\":\"https://op.example/j\"}",
		  "issuer with trailing slash (mismatch)" },
		{ "{\"issuer\":\"https://evil.example\",\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"https://op.example/t\",\"jwks_uri\":\"https://op.example/j\"}",
		  "foreign issuer" },
		{ "{\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"https://op.example/t\",\"jwks_uri\":\"https://op.example/j\"}",
		  "no issuer" },
		{ "{\"issuer\":\"https://op.example\",\"authorization_endpoint\":\"/authorize\","
		  "\"token_endpoint\":\"https://op.example/t\",\"jwks_uri\":\"https://op.example/j\"}",
		  "relative authorization_endpoint" },
		{ "{\"issuer\":\"https://op.example\",\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"token\",\"jwks_uri\":\"https://op.example/j\"}",
		  "relative token_endpoint" },
		{ "{\"issuer\":\"https://op.example\",\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"https://op.example/t\",\"jwks_uri\":\"//op.example/j\"}",
		  "scheme-relative jwks_uri" },
		{ "{\"issuer\":\"https://op.example\",\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"ftp://op.example/t\",\"jwks_uri\":\"https://op.example/j\"}",
		  "ftp token_endpoint" },
		{ "{\"issuer\":\"https://op.example\",\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"https://user@evil.example/t\",\"jwks_uri\":\"https://op.example/j\"}",
		  "user-info in token_endpoint" },
		{ "{\"issuer\":\"https://op.example\",\"authorization_endpoint\":\"https:///a\","
		  "\"token_endpoint\":\"https://op.example/t\",\"jwks_uri\":\"https://op.example/j\"}",
		  "endpoint without host" },
		{ "{\"issuer\":\"https://op.example\",\"authorization_endpoint\":\"https://op.example/a\","
		  "\"token_endpoint\":\"https://op.example/t\"}",
		  "no jwks_uri" },
		{ "{\"issuer\":\"https://op.example\",\"issuer\":\"https://op.example\"}", "duplicate members" },
		{ "[1]", "not an object" },
		{ "<html>", "not JSON" },
	};
	size_t i;

	T_OK(oidc_discovery_parse(good, strlen(good), "https://op.example", &d, err, sizeof(err)) ==
			     SU_OK &&
		     strcmp(d.issuer, "https://op.example") == 0 &&
		     strcmp(d.authorization_endpoint, "https://op.example/authorize") == 0 &&
		     strcmp(d.token_endpoint, "https://op.example/token") == 0 &&
		     strcmp(d.jwks_uri, "http://127.0.0.1:9400/jwks") == 0,
	     "good discovery document accepted");
	oidc_discovery_cleanup(&d);
	T_OK(oidc_discovery_parse(good, strlen(good), "https://OP.example", &d, err, sizeof(err)) ==
			     SU_EIDP &&
		     strstr(err, "does not match") != NULL && d.issuer == NULL,
	     "issuer compared exactly (%s)", err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_OK(oidc_discovery_parse(bad[i][0], strlen(bad[i][0]), "https://op.example", &d, err,
					  sizeof(err)) != SU_OK &&
			     d.issuer == NULL && d.jwks_uri == NULL && err[0] != '\0',
		     "discovery refused: %s (%s)", bad[i][1], err);
	}
	T_OK(oidc_discovery_parse("", 0, "https://op.example", &d, err, sizeof(err)) != SU_OK,
	     "empty discovery document refused");
}

/* tr() is oidc_token_response_parse() on a C string. */
static enum su_rc
tr(long status, const char *body, char **idt, char *err, size_t errsz)
{
	return oidc_token_response_parse(status, body, strlen(body), idt, err, errsz);
}

/* test_token_response() checks the token endpoint answer rules. */
static void
test_token_response(void)
{
	char err[256], *idt = NULL;
	const char *ok = "{\"access_token\":\"at\",\"token_type\":\"bearer\",\"id_token\":\"a.b.c\"}";
	const char *e1 = "{\"error\":\"invalid_grant\",\"error_description\":\"code\\nexpired\\u0007 \\u00e9\"}";
	char longdesc[1200];
	enum su_rc rc;

	rc = oidc_token_response_parse(200, ok, strlen(ok), &idt, err, sizeof(err));
	T_OK(rc == SU_OK && idt != NULL && strcmp(idt, "a.b.c") == 0, "good token response (bearer, any case)");
	free(idt);
	idt = NULL;
	rc = tr(200, "{\"id_token\":\"x.y.z\"}", &idt, err, sizeof(err));
	T_OK(rc == SU_OK && idt != NULL, "token_type absent accepted");
	free(idt);
	idt = NULL;

	rc = oidc_token_response_parse(400, e1, strlen(e1), &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL && strstr(err, "invalid_grant") != NULL &&
		     strstr(err, "code?expired? ??") != NULL,
	     "error member reported, description sanitised (%s)", err);
	rc = tr(200, "{\"error\":\"x\",\"id_token\":\"a.b.c\"}", &idt, err,
				       sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL, "error member with status 200 refused");
	memset(longdesc, 0, sizeof(longdesc));
	memcpy(longdesc, "{\"error\":\"e\",\"error_description\":\"", 34);
	memset(longdesc + 34, 'x', 1000);
	memcpy(longdesc + 1034, "\"}", 2);
	rc = oidc_token_response_parse(400, longdesc, strlen(longdesc), &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && strlen(err) < 200 && strstr(err, "...") != NULL, "long description truncated");
	rc = tr(500, "oops", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && strstr(err, "HTTP 500") != NULL, "non-200 refused (%s)", err);
	rc = oidc_token_response_parse(302, ok, strlen(ok), &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL, "non-200 with a good body refused");
	rc = tr(200, "<html>", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP && strstr(err, "not JSON") != NULL, "not JSON refused");
	rc = tr(200, "[\"id_token\"]", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP, "non-object refused");
	rc = tr(200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\"}", &idt,
				       err, sizeof(err));
	T_OK(rc == SU_EIDP && strstr(err, "no id_token") != NULL, "no id_token refused");
	rc = tr(200, "{\"id_token\":5}", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP, "non-string id_token refused");
	rc = tr(200, "{\"id_token\":\"\"}", &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP, "empty id_token refused");
	rc = tr(200, "{\"id_token\":\"a.b.c\",\"token_type\":\"mac\"}", &idt,
				       err, sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL && strstr(err, "mac") != NULL, "token_type mac refused");
	rc = tr(200, "{\"id_token\":\"a.b.c\",\"token_type\":1}", &idt, err,
				       sizeof(err));
	T_OK(rc == SU_EIDP, "non-string token_type refused");
	rc = tr(200, "{\"id_token\":\"a\",\"id_token\":\"b\"}", &idt, err,
				       sizeof(err));
	T_OK(rc == SU_EIDP && idt == NULL, "duplicate id_token refused");
	rc = oidc_token_response_parse(200, NULL, 0, &idt, err, sizeof(err));
	T_OK(rc == SU_EIDP, "empty body refused");
}

/* expect() fills the default expectations: context c1 via acrs, max_age 0. */
static void
expect(struct oidc_expect *x)
{
	memset(x, 0, sizeof(*x));
	x->issuer = "https://op.example";
	x->client_id = "stepup-rp";
	x->nonce = "nonce-123";
	x->acrs = acrs_c1;
	x->max_age = 0;
	x->flow_created_at = NOW - 10;
	x->now = NOW;
	x->skew = 60;
	x->subject_claim = "sub";
}

/* good() returns a claim set that passes expect(). */
static json_t *
good(void)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:[s], s:[s,s], s:s}", "iss",
			 "https://op.example", "aud", "stepup-rp", "exp", (json_int_t)(NOW + 300), "iat",
			 (json_int_t)(NOW - 5), "nonce", "nonce-123", "sub", "alice-sub", "auth_time",
			 (json_int_t)(NOW - 8), "acrs", "c1", "amr", "pwd", "mfa", "email",
			 "alice@example.com");
}

/* check() runs oidc_id_token_check on claims (consumed) and returns rc; err filled. */
static enum su_rc
check(const struct oidc_expect *x, json_t *claims, char *err, size_t errsz)
{
	struct oidc_result r;
	enum su_rc rc;

	err[0] = '\0';
	rc = oidc_id_token_check(x, claims, &r, err, errsz);
	if (rc == SU_OK)
		oidc_result_cleanup(&r);
	else if (r.sub != NULL || r.acr != NULL || r.amr != NULL)
		rc = SU_OK; /* a failure must leave nothing behind: make the test fail */
	json_decref(claims);
	return rc;
}

/* mod() returns good() with member k set to v (stolen), or removed when v is NULL. */
static json_t *
mod(const char *k, json_t *v)
{
	json_t *c = good();

	if (v == NULL)
		json_object_del(c, k);
	else
		json_object_set_new(c, k, v);
	return c;
}

#define FAILS(x, claims, want, what)                                                            \
	do {                                                                                    \
		char e_[256];                                                                   \
		enum su_rc rc_ = check((x), (claims), e_, sizeof(e_));                           \
		T_OK(rc_ != SU_OK && strstr(e_, (want)) != NULL, "refused: %s (%s: %s)", (what), \
		     su_rc_str(rc_), e_);                                                       \
	} while (0)

/* test_id_token() checks the good case and one failure per rule. */
static void
test_id_token(void)
{
	struct oidc_expect x;
	struct oidc_result r;
	char err[256];
	enum su_rc rc;
	json_t *c;

	expect(&x);
	c = good();
	rc = oidc_id_token_check(&x, c, &r, err, sizeof(err));
	T_OK(rc == SU_OK, "good claim set passes (%s)", rc == SU_OK ? "ok" : err);
	T_OK(rc == SU_OK && strcmp(r.sub, "alice-sub") == 0 && strcmp(r.subject, "alice-sub") == 0 &&
		     strcmp(r.acr, "c1") == 0 && strcmp(r.amr, "[\"pwd\",\"mfa\"]") == 0 &&
		     r.auth_time == NOW - 8,
	     "result: sub, subject, acr c1, amr JSON, auth_time");
	oidc_result_cleanup(&r);
	json_decref(c);

	FAILS(&x, mod("iss", json_string("https://evil.example")), "iss", "wrong iss");
	FAILS(&x, mod("iss", json_string("https://op.example/")), "iss", "iss with trailing slash");
	FAILS(&x, mod("iss", NULL), "iss missing", "iss missing");
	FAILS(&x, mod("aud", NULL), "aud missing", "aud missing");
	FAILS(&x, mod("aud", json_string("other-rp")), "aud", "aud wrong");
	FAILS(&x, mod("aud", json_pack("[s,s]", "a", "b")), "aud", "aud array without client_id");
	FAILS(&x, mod("aud", json_pack("[s,i]", "stepup-rp", 1)), "non-string", "aud array with a number");
	FAILS(&x, mod("aud", json_array()), "aud", "empty aud array");
	FAILS(&x, mod("aud", json_pack("[s,s]", "stepup-rp", "other")), "azp missing", "multi-aud without azp");
	c = mod("aud", json_pack("[s,s]", "stepup-rp", "other"));
	json_object_set_new(c, "azp", json_string("stepup-rp"));
	T_OK(check(&x, c, err, sizeof(err)) == SU_OK, "multi-aud with azp = client_id passes");
	c = mod("aud", json_pack("[s]", "stepup-rp"));
	T_OK(check(&x, c, err, sizeof(err)) == SU_OK, "single-element aud array passes");
	FAILS(&x, mod("azp", json_string("other")), "azp", "azp wrong");
	FAILS(&x, mod("exp", NULL), "exp missing", "exp missing");
	FAILS(&x, mod("exp", json_integer(NOW - 61)), "expired", "expired (beyond skew)");
	FAILS(&x, mod("exp", json_string("9999999999")), "exp", "exp not a number");
	FAILS(&x, mod("exp", json_real(1e300)), "exp", "exp absurdly large");
	c = mod("exp", json_integer(NOW - 30));
	T_OK(check(&x, c, err, sizeof(err)) == SU_OK, "exp within skew passes");
	FAILS(&x, mod("iat", NULL), "iat missing", "iat missing");
	FAILS(&x, mod("iat", json_integer(NOW + 61)), "iat", "iat in the future");
	FAILS(&x, mod("iat", json_integer(NOW - 10 - 600 - 61)), "iat", "iat far older than the flow");
	FAILS(&x, mod("nbf", json_integer(NOW + 120)), "nbf", "nbf in the future");
	c = mod("nbf", json_real((double)NOW - 1.5));
	T_OK(check(&x, c, err, sizeof(err)) == SU_OK, "nbf in the past (fractional) passes");
	FAILS(&x, mod("nonce", NULL), "nonce missing", "nonce missing");
	FAILS(&x, mod("nonce", json_string("nonce-124")), "nonce", "nonce wrong");
	FAILS(&x, mod("nonce", json_string("nonce-1234")), "nonce", "nonce longer");
	FAILS(&x, mod("nonce", json_integer(1)), "nonce", "nonce not a string");
	FAILS(&x, mod("sub", NULL), "sub missing", "sub missing");
	FAILS(&x, mod("sub", json_string("")), "sub", "sub empty");
	FAILS(&x, mod("sub", json_integer(42)), "sub", "sub not a string");
	c = good();
	{
		char big[300];

		memset(big, 's', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		json_object_set_new(c, "sub", json_string(big));
	}
	FAILS(&x, c, "sub", "sub longer than 255");
	FAILS(&x, mod("auth_time", NULL), "auth_time missing", "auth_time missing");
	FAILS(&x, mod("auth_time", json_integer(NOW - 10 - 61)), "auth_time",
	      "auth_time too old (max_age 0, flow created after auth_time)");
	FAILS(&x, mod("auth_time", json_integer(NOW + 120)), "auth_time", "auth_time in the future");
	FAILS(&x, mod("auth_time", json_true()), "auth_time", "auth_time not a number");
	x.max_age = 3600;
	c = mod("auth_time", json_integer(NOW - 1800));
	T_OK(check(&x, c, err, sizeof(err)) == SU_OK, "auth_time within max_age 3600 passes");
	x.max_age = -1;
	c = mod("auth_time", NULL);
	T_OK(check(&x, c, err, sizeof(err)) == SU_OK, "auth_time optional when max_age not requested");
	expect(&x);

	/* the context */
	FAILS(&x, mod("acrs", NULL), "acrs missing", "acrs missing");
	FAILS(&x, mod("acrs", json_pack("[s,s]", "c2", "c3")), "acrs does not contain c1", "acrs without the value");
	FAILS(&x, mod("acrs", json_pack("[i]", 1)), "acrs", "acrs with a non-string");
	FAILS(&x, mod("acrs", json_integer(1)), "acrs", "acrs not an array");
	c = mod("acrs", json_string("c1"));
	T_OK(check(&x, c, err, sizeof(err)) == SU_OK, "acrs as a single string passes");
	x.acrs = NULL;
	x.acr = acr_loa3;
	c = mod("acrs", NULL);
	json_object_set_new(c, "acr", json_string("urn:test:loa:4"));
	rc = oidc_id_token_check(&x, c, &r, err, sizeof(err));
	T_OK(rc == SU_OK && strcmp(r.acr, "urn:test:loa:4") == 0, "acr one of the accepted values passes");
	oidc_result_cleanup(&r);
	json_decref(c);
	FAILS(&x, mod("acr", json_string("urn:test:loa:1")), "acr urn:test:loa:1 too low", "acr too low");
	FAILS(&x, mod("acr", NULL), "acr missing", "acr missing");
	FAILS(&x, mod("acr", json_pack("[s]", "urn:test:loa:3")), "acr", "acr not a string");
	/* both lists: either satisfies */
	x.acrs = acrs_c1;
	c = mod("acrs", NULL);
	json_object_set_new(c, "acr", json_string("urn:test:loa:3"));
	rc = oidc_id_token_check(&x, c, &r, err, sizeof(err));
	T_OK(rc == SU_OK && strcmp(r.acr, "urn:test:loa:3") == 0, "context with both: acr alone satisfies");
	oidc_result_cleanup(&r);
	json_decref(c);
	c = mod("acr", json_string("urn:test:loa:1"));
	rc = oidc_id_token_check(&x, c, &r, err, sizeof(err));
	T_OK(rc == SU_OK && strcmp(r.acr, "c1") == 0, "context with both: acrs alone satisfies");
	oidc_result_cleanup(&r);
	json_decref(c);
	c = mod("acrs", json_pack("[s]", "c9"));
	json_object_set_new(c, "acr", json_string("urn:test:loa:1"));
	FAILS(&x, c, "context not reached", "context with both: neither satisfies");
	x.acrs = NULL;
	x.acr = NULL;
	FAILS(&x, good(), "no acr", "context naming nothing fails closed");
	expect(&x);

	/* amr */
	c = mod("amr", NULL);
	rc = oidc_id_token_check(&x, c, &r, err, sizeof(err));
	T_OK(rc == SU_OK && strcmp(r.amr, "[]") == 0, "amr absent gives []");
	oidc_result_cleanup(&r);
	json_decref(c);
	FAILS(&x, mod("amr", json_string("mfa")), "amr", "amr wrong type");
	FAILS(&x, mod("amr", json_pack("[s,i]", "pwd", 2)), "amr", "amr with a non-string");

	/* subject binding */
	x.user = "alice-sub";
	T_OK(check(&x, good(), err, sizeof(err)) == SU_OK, "subject binding to sub passes");
	x.user = "bob-sub";
	FAILS(&x, good(), "subject does not match the user named in the start request", "subject mismatch");
	x.user = "alice-su";
	FAILS(&x, good(), "subject does not match", "subject prefix mismatch");
	x.subject_claim = "email";
	x.user = "alice@example.com";
	c = good();
	rc = oidc_id_token_check(&x, c, &r, err, sizeof(err));
	T_OK(rc == SU_OK && strcmp(r.subject, "alice@example.com") == 0 && strcmp(r.sub, "alice-sub") == 0,
	     "subject_claim email binding works");
	oidc_result_cleanup(&r);
	json_decref(c);
	x.user = "alice-sub";
	FAILS(&x, good(), "subject does not match", "subject_claim email does not fall back to sub");
	FAILS(&x, mod("email", NULL), "email", "subject claim missing");
	x.user = NULL;
	FAILS(&x, mod("email", json_true()), "email", "subject claim not a string (no user named)");
	expect(&x);

	/* the whole set and the edges */
	rc = oidc_id_token_check(&x, NULL, &r, err, sizeof(err));
	T_OK(rc != SU_OK && r.sub == NULL, "NULL claims refused");
	c = json_array();
	T_OK(check(&x, c, err, sizeof(err)) != SU_OK, "array claims refused");
	x.nonce = NULL;
	FAILS(&x, good(), "nonce", "no expected nonce fails closed");
}

int
main(void)
{
	test_authz();
	test_discovery();
	test_token_response();
	test_id_token();
	return T_DONE();
}
