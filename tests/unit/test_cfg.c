/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_cfg.c: the config contract (SPEC section 3). Writes config files
 * into a temporary directory and checks that the SPEC example parses to
 * the right values, every default, relative path resolution, that every
 * kind of error is reported with the right FILE:LINE (and all of them,
 * not just the first), and CIDR parsing and matching.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "t.h"

static char test_dir[PATH_MAX];

/* test_path() returns test_dir/name in a static buffer (one of two). */
static const char *
test_path(const char *name)
{
	static char bufs[2][PATH_MAX + 64];
	static int which;

	which ^= 1;
	snprintf(bufs[which], sizeof(bufs[which]), "%s/%s", test_dir, name);
	return bufs[which];
}

/* test_write() writes text to test_dir/name. */
static void
test_write(const char *name, const char *text)
{
	FILE *f = fopen(test_path(name), "w");

	if (f == NULL) {
		perror(name);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

/* test_load() writes text as test_dir/name and loads it. */
static enum su_rc
test_load(const char *name, const char *text, struct cfg **c, char **errs)
{
	test_write(name, text);
	return cfg_load(test_path(name), c, errs);
}

/* test_count_lines() counts the lines of s. */
static int
test_count_lines(const char *s)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* test_flat() turns the newlines of s into '|' so it fits on one TAP line;
 * returns "" for NULL. */
static const char *
test_flat(char *s)
{
	if (s == NULL)
		return "";
	for (char *p = s; *p != '\0'; p++)
		if (*p == '\n')
			*p = '|';
	return s;
}

/* test_has_err() says whether errs has a line "FILE:LINE: ..." containing needle. */
static int
test_has_err(const char *errs, const char *file, int line, const char *needle)
{
	char prefix[PATH_MAX + 32];
	const char *p = errs;
	size_t pl;

	if (errs == NULL)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	pl = strlen(prefix);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len >= pl && strncmp(p, prefix, pl) == 0) {
			char *copy = strndup(p, len);
			int hit = copy != NULL && strstr(copy, needle) != NULL;

			free(copy);
			if (hit)
				return 1;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

/*
 * test_err() loads text (with a minimal valid preamble nowhere: text is the
 * whole file) and checks that it fails with an error at line containing
 * needle.
 */
static void
test_err(const char *what, const char *text, int line, const char *needle)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	enum su_rc rc = test_load("err.conf", text, &c, &errs);
	int ok = rc == SU_EINVAL && c == NULL && test_has_err(errs, test_path("err.conf"), line, needle);

	/* on failure, show what was reported, on one line */
	for (char *p = errs; p != NULL && *p != '\0'; p++)
		if (*p == '\n')
			*p = '|';
	T_OK(ok, "%s: error at line %d mentioning \"%s\"%s%s", what, line, needle,
	     ok ? "" : " got: ", ok ? "" : (errs ? errs : "no errors"));
	free(errs);
	cfg_free(c);
}

/* test_list_eq() says whether list l holds exactly the n strings given. */
static int
test_list_eq(cfg_list_t l, int n, ...)
{
	va_list ap;
	int ok = 1;

	if (l == NULL)
		return 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);

		if (l[i] == NULL || strcmp(l[i], want) != 0)
			ok = 0;
		if (l[i] == NULL)
			break;
	}
	va_end(ap);
	return ok && l[n] == NULL;
}

/* test_streq() compares two possibly NULL strings. */
static int
test_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* test_in() makes a sockaddr_in for addr. */
static struct sockaddr_in
test_in(const char *addr)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sa.sin_addr);
	return sa;
}

/* test_in6() makes a sockaddr_in6 for addr. */
static struct sockaddr_in6
test_in6(const char *addr)
{
	struct sockaddr_in6 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	inet_pton(AF_INET6, addr, &sa.sin6_addr);
	return sa;
}

static const char test_spec_example[] =
	"[server]\n"
	"listen = 127.0.0.1:8080\n"
	"public_url = http://127.0.0.1:8080      ; base of redirect_uri, ACS, metadata, start URLs\n"
	"trusted_proxies = 127.0.0.1/32           ; who may set X-Forwarded-*\n"
	"allowed_return_origins = http://127.0.0.1:8088 https://files.example.com\n"
	"\n"
	"[database]\n"
	"path = ./var/stepupd.db\n"
	"\n"
	"[secrets]\n"
	"key_file = ./var/secret.key              ; created (mode 0600) if missing\n"
	"\n"
	"[api]\n"
	"key_file = ./var/api.keys                ; one bearer token per line (or name:token)\n"
	"\n"
	"[provider \"op\"]\n"
	"type = oidc\n"
	"issuer = http://127.0.0.1:9400\n"
	"client_id = stepup-rp\n"
	"client_secret = stepup-secret            ; or client_secret_file / private_key_file\n"
	"token_auth = client_secret_basic         ; client_secret_post | private_key_jwt\n"
	"subject_claim = sub                      ; claim compared with the start request's user\n"
	"id_token_alg = RS256                     ; allowed ID token algorithms (space list)\n"
	"\n"
	"[provider \"idp\"]\n"
	"type = saml\n"
	"metadata_file = ./certs/idp-metadata.xml\n"
	"sp_entity_id = http://127.0.0.1:8080/saml/metadata\n"
	"sp_key_file = ./certs/sp.key\n"
	"sp_cert_file = ./certs/sp.crt\n"
	"class_ref_order = urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport "
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract\n"
	"; weakest first; subject_attribute = mail  (default: the NameID)\n"
	"\n"
	"[context \"c1\"]\n"
	"provider = op                            ; required\n"
	"acrs = c1                                ; Entra style: returned `acrs` must contain one of these\n"
	"; acr = urn:test:loa:3                   ; standard: returned `acr` must be one of these\n"
	"max_age = 0                              ; seconds (default 0 = always a fresh login)\n"
	"lifetime = 600                           ; how long the elevation lasts (default 600)\n"
	"\n"
	"[policy]\n"
	"default = allow                          ; allow | block | step_up:<context>\n"
	"\n"
	"[context \"saml-mfa\"]\n"
	"provider = idp\n"
	"class_refs = urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract\n"
	"comparison = minimum\n"
	"lifetime = 600\n";

/* a valid oidc provider + context, for tests that add one thing */
#define TEST_OP                                                                                    \
	"[provider \"op\"]\n"  /* line 1 */                                                         \
	"type = oidc\n"                                                                            \
	"issuer = https://op.example/realms/x\n"                                                   \
	"client_id = rp\n"                                                                         \
	"client_secret = s\n" /* line 5 */

/* test_spec_example_parses() checks the SPEC section 3 example. */
static void
test_spec_example_parses(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	enum su_rc rc = test_load("spec.conf", test_spec_example, &c, &errs);
	const struct cfg_provider *op, *idp;
	const struct cfg_context *c1, *sm;
	char want[PATH_MAX + 64];

	T_OK(rc == SU_OK && c != NULL && errs == NULL, "SPEC example loads (%s)", test_flat(errs));
	if (c == NULL) {
		free(errs);
		return;
	}
	T_OK(test_streq(c->path, test_path("spec.conf")), "path kept as given");
	T_OK(test_streq(c->dir, test_dir), "dir is the config's directory");
	T_OK(test_streq(c->listen_host, "127.0.0.1") && c->listen_port == 8080, "listen");
	T_OK(test_streq(c->public_url, "http://127.0.0.1:8080") && !c->public_https, "public_url");
	T_OK(c->n_trusted_proxies == 1 && c->trusted_proxies[0].family == AF_INET &&
		     c->trusted_proxies[0].prefix == 32,
	     "trusted_proxies");
	T_OK(test_list_eq(c->allowed_return_origins, 2, "http://127.0.0.1:8088",
			  "https://files.example.com:443"),
	     "allowed_return_origins normalised");
	snprintf(want, sizeof(want), "%s/var/stepupd.db", test_dir);
	T_OK(test_streq(c->db_path, want), "database path %s", c->db_path);
	snprintf(want, sizeof(want), "%s/var/secret.key", test_dir);
	T_OK(test_streq(c->secret_key_file, want), "secrets key_file %s", c->secret_key_file);
	snprintf(want, sizeof(want), "%s/var/api.keys", test_dir);
	T_OK(test_streq(c->api_key_file, want), "api key_file %s", c->api_key_file);
	T_OK(c->policy_default == CFG_DEFAULT_ALLOW && c->policy_default_context == NULL,
	     "policy default allow");
	T_OK(c->n_providers == 2 && c->n_contexts == 2, "two providers, two contexts");

	op = cfg_provider_find(c, "op");
	T_OK(op != NULL && op->type == CFG_PROVIDER_OIDC && op->line == 16, "provider op is oidc at line 16");
	if (op != NULL) {
		T_OK(test_streq(op->issuer, "http://127.0.0.1:9400"), "op issuer");
		T_OK(test_streq(op->client_id, "stepup-rp"), "op client_id");
		T_OK(test_streq(op->client_secret, "stepup-secret"), "op client_secret");
		T_OK(op->token_auth == CFG_AUTH_SECRET_BASIC, "op token_auth");
		T_OK(test_streq(op->subject_claim, "sub"), "op subject_claim");
		T_OK(test_list_eq(op->id_token_algs, 1, "RS256"), "op id_token_alg");
		T_OK(test_streq(op->scope, "openid"), "op scope default");
		T_OK(op->ca_file == NULL && op->private_key_file == NULL, "op no ca_file, no key");
	}
	idp = cfg_provider_find(c, "idp");
	T_OK(idp != NULL && idp->type == CFG_PROVIDER_SAML, "provider idp is saml");
	if (idp != NULL) {
		snprintf(want, sizeof(want), "%s/certs/idp-metadata.xml", test_dir);
		T_OK(test_streq(idp->metadata_file, want), "idp metadata_file %s", idp->metadata_file);
		T_OK(test_streq(idp->sp_entity_id, "http://127.0.0.1:8080/saml/metadata"), "idp sp_entity_id");
		snprintf(want, sizeof(want), "%s/certs/sp.key", test_dir);
		T_OK(test_streq(idp->sp_key_file, want), "idp sp_key_file");
		snprintf(want, sizeof(want), "%s/certs/sp.crt", test_dir);
		T_OK(test_streq(idp->sp_cert_file, want), "idp sp_cert_file");
		T_OK(test_list_eq(idp->class_ref_order, 2,
				  "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
				  "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"),
		     "idp class_ref_order");
		T_OK(idp->subject_attribute == NULL, "idp subject_attribute unset (comment)");
	}
	c1 = cfg_context_find(c, "c1");
	T_OK(c1 != NULL && c1->provider == op && test_streq(c1->provider_name, "op"),
	     "context c1 resolves provider op");
	if (c1 != NULL) {
		T_OK(test_list_eq(c1->acrs, 1, "c1") && c1->acr == NULL, "c1 acrs, acr unset");
		T_OK(c1->max_age == 0 && c1->lifetime == 600, "c1 max_age, lifetime");
	}
	sm = cfg_context_find(c, "saml-mfa");
	T_OK(sm != NULL && sm->provider == idp, "context saml-mfa resolves provider idp");
	if (sm != NULL) {
		T_OK(test_list_eq(sm->class_refs, 1,
				  "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"),
		     "saml-mfa class_refs");
		T_OK(sm->comparison == CFG_CMP_MINIMUM && sm->lifetime == 600, "saml-mfa comparison");
	}
	T_OK(cfg_context_find(c, "nope") == NULL && cfg_provider_find(c, "nope") == NULL &&
		     cfg_context_find(NULL, "c1") == NULL && cfg_provider_find(c, NULL) == NULL,
	     "find returns NULL for unknown names");
	{
		struct sockaddr_in a = test_in("127.0.0.1"), b = test_in("10.0.0.1");

		T_OK(cfg_is_trusted_proxy(c, (struct sockaddr *)&a) &&
			     !cfg_is_trusted_proxy(c, (struct sockaddr *)&b),
		     "cfg_is_trusted_proxy");
	}
	free(errs);
	cfg_free(c);
}

/* test_defaults() checks every default on an empty file and a minimal provider. */
static void
test_defaults(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	char want[PATH_MAX + 64];
	enum su_rc rc = test_load("empty.conf", "", &c, &errs);

	T_OK(rc == SU_OK && c != NULL, "empty file loads");
	if (c != NULL) {
		T_OK(test_streq(c->listen_host, "127.0.0.1"), "default listen host");
		T_OK(c->listen_port == 8080, "default listen port");
		T_OK(test_streq(c->public_url, "http://127.0.0.1:8080") && !c->public_https,
		     "default public_url");
		T_OK(c->n_trusted_proxies == 0, "default no trusted proxies");
		T_OK(c->allowed_return_origins != NULL && c->allowed_return_origins[0] == NULL,
		     "default allowed_return_origins empty (public_url not added)");
		T_OK(c->max_connections == 1024, "default max_connections");
		T_OK(c->connection_timeout == 30, "default connection_timeout");
		T_OK(c->threads == 2, "default threads");
		T_OK(c->idp_timeout == 10, "default idp_timeout");
		T_OK(test_streq(c->log_level, "info"), "default log_level");
		snprintf(want, sizeof(want), "%s/var/stepupd.db", test_dir);
		T_OK(test_streq(c->db_path, want), "default db path");
		snprintf(want, sizeof(want), "%s/var/secret.key", test_dir);
		T_OK(test_streq(c->secret_key_file, want), "default secret key_file");
		T_OK(c->api_key_file == NULL, "default api key_file NULL");
		T_OK(c->policy_default == CFG_DEFAULT_ALLOW, "default policy allow");
		T_OK(c->n_providers == 0 && c->n_contexts == 0, "no providers, no contexts");
	}
	cfg_free(c);
	free(errs);
	c = NULL;
	errs = NULL;

	rc = test_load("min.conf",
		       "# only comments and a provider\n"
		       "[provider \"op\"]\n"
		       "type = oidc\n"
		       "issuer = https://op.example\n"
		       "client_id = rp\n"
		       "client_secret = \"s ; not a comment\"\n"
		       "[provider \"unused\"]\n"
		       "type = saml\n"
		       "metadata_file = /etc/md.xml\n"
		       "sp_entity_id = urn:sp\n"
		       "sp_key_file = /etc/sp.key\n"
		       "sp_cert_file = /etc/sp.crt\n"
		       "[context \"c\"]\n"
		       "provider = op\n"
		       "acr = urn:loa:2 urn:loa:3\n",
		       &c, &errs);
	T_OK(rc == SU_OK && c != NULL, "minimal provider loads; provider with no context is fine (%s)",
	     test_flat(errs));
	if (c != NULL && c->n_providers == 2 && c->n_contexts == 1) {
		const struct cfg_provider *p = &c->providers[0];
		const struct cfg_context *x = &c->contexts[0];

		T_OK(p->token_auth == CFG_AUTH_SECRET_BASIC, "default token_auth client_secret_basic");
		T_OK(test_streq(p->subject_claim, "sub"), "default subject_claim sub");
		T_OK(test_list_eq(p->id_token_algs, 1, "RS256"), "default id_token_alg RS256");
		T_OK(test_streq(p->scope, "openid"), "default scope openid");
		T_OK(test_streq(p->client_secret, "s ; not a comment"), "quoted value keeps ' ; '");
		T_OK(x->comparison == CFG_CMP_EXACT, "default comparison exact");
		T_OK(x->max_age == 0, "default max_age 0");
		T_OK(x->lifetime == 600, "default lifetime 600");
		T_OK(test_list_eq(x->acr, 2, "urn:loa:2", "urn:loa:3") && x->acrs == NULL, "acr list");
		T_OK(test_streq(c->providers[1].metadata_file, "/etc/md.xml"), "absolute path kept");
	} else {
		T_OK(0, "minimal config shape");
	}
	cfg_free(c);
	free(errs);
}

/* test_values() checks non-default values of every [server] key and a few others. */
static void
test_values(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	enum su_rc rc;

	test_write("secret.txt", "  from-file-secret \r\nsecond line\n");
	rc = test_load("values.conf",
		       "[server]\n"
		       "listen = [::1]:9443\n"
		       "public_url = \"https://StepUp.Example.com/\"\n"
		       "trusted_proxies = 10.0.0.0/8 ::1 192.168.1.7\n"
		       "allowed_return_origins = https://A.example http://b.example:8080/\n"
		       "max_connections = 50\n"
		       "connection_timeout = 5 ; five seconds\n"
		       "threads = 64\n"
		       "idp_timeout = 120\n"
		       "log_level = debug\n"
		       "\t\n"
		       "[policy]\n"
		       "default = step_up:strong\n"
		       "[provider \"op\"]\n"
		       "type = oidc\n"
		       "issuer = https://op.example/tenant/v2.0/\n"
		       "client_id = rp\n"
		       "client_secret_file = secret.txt\n"
		       "token_auth = client_secret_post\n"
		       "subject_claim = preferred_username\n"
		       "id_token_alg = RS256 PS256 ES256 ES512\n"
		       "scope = openid profile\n"
		       "ca_file = ca.pem\n"
		       "[provider \"jwt\"]\n"
		       "type = oidc\n"
		       "issuer = http://127.0.0.1:9400\n"
		       "client_id = rp2\n"
		       "token_auth = private_key_jwt\n"
		       "private_key_file = keys/rp.pem\n"
		       "private_key_kid = k1\n"
		       "[context \"strong\"]\n"
		       "provider = jwt\n"
		       "acrs = c1 c2\n"
		       "max_age = 300\n"
		       "lifetime = 86400\n",
		       &c, &errs);
	T_OK(rc == SU_OK && c != NULL, "non-default values load (%s)", test_flat(errs));
	if (c != NULL) {
		char want[PATH_MAX + 64];
		const struct cfg_provider *op = cfg_provider_find(c, "op");
		const struct cfg_provider *jwt = cfg_provider_find(c, "jwt");
		const struct cfg_context *x = cfg_context_find(c, "strong");
		struct sockaddr_in a = test_in("10.200.3.4"), b = test_in("192.168.1.8");
		struct sockaddr_in6 l6 = test_in6("::1");

		T_OK(test_streq(c->listen_host, "::1") && c->listen_port == 9443, "listen [::1]:9443");
		T_OK(test_streq(c->public_url, "https://StepUp.Example.com") && c->public_https,
		     "public_url without trailing slash, https");
		T_OK(c->n_trusted_proxies == 3, "three trusted proxies");
		T_OK(cfg_is_trusted_proxy(c, (struct sockaddr *)&a) &&
			     !cfg_is_trusted_proxy(c, (struct sockaddr *)&b) &&
			     cfg_is_trusted_proxy(c, (struct sockaddr *)&l6),
		     "trusted proxy matching");
		T_OK(test_list_eq(c->allowed_return_origins, 2, "https://a.example:443",
				  "http://b.example:8080"),
		     "origins normalised");
		T_OK(c->max_connections == 50 && c->connection_timeout == 5 && c->threads == 64 &&
			     c->idp_timeout == 120,
		     "numbers (inline comment stripped)");
		T_OK(test_streq(c->log_level, "debug"), "log_level debug");
		T_OK(c->policy_default == CFG_DEFAULT_STEP_UP &&
			     test_streq(c->policy_default_context, "strong"),
		     "policy default step_up:strong");
		T_OK(op != NULL && test_streq(op->client_secret, "from-file-secret"),
		     "client_secret_file: first line, trimmed");
		T_OK(op != NULL && op->token_auth == CFG_AUTH_SECRET_POST, "token_auth post");
		T_OK(op != NULL && test_streq(op->subject_claim, "preferred_username"), "subject_claim");
		T_OK(op != NULL && test_list_eq(op->id_token_algs, 4, "RS256", "PS256", "ES256", "ES512"),
		     "id_token_alg list");
		T_OK(op != NULL && test_streq(op->scope, "openid profile"), "scope");
		T_OK(op != NULL && test_streq(op->issuer, "https://op.example/tenant/v2.0/"),
		     "issuer kept exactly");
		snprintf(want, sizeof(want), "%s/ca.pem", test_dir);
		T_OK(op != NULL && test_streq(op->ca_file, want), "ca_file resolved");
		snprintf(want, sizeof(want), "%s/keys/rp.pem", test_dir);
		T_OK(jwt != NULL && jwt->token_auth == CFG_AUTH_PRIVATE_KEY_JWT &&
			     test_streq(jwt->private_key_file, want) &&
			     test_streq(jwt->private_key_kid, "k1") && jwt->client_secret == NULL,
		     "private_key_jwt provider");
		T_OK(x != NULL && x->provider == jwt && test_list_eq(x->acrs, 2, "c1", "c2") &&
			     x->max_age == 300 && x->lifetime == 86400,
		     "context values");
	}
	cfg_free(c);
	free(errs);
}

/* test_relative_paths() loads a config in a subdirectory by a relative path. */
static void
test_relative_paths(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	char cwd[PATH_MAX], want[PATH_MAX + 64];
	enum su_rc rc;

	mkdir(test_path("sub"), 0700);
	test_write("sub/rel.conf", "[database]\n"
				   "path = db/x.db\n"
				   "[secrets]\n"
				   "key_file = ././/var/s.key\n"
				   "[api]\n"
				   "key_file = /var/lib/stepupd/api.keys\n");
	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(test_dir) != 0) {
		T_OK(0, "chdir to the temp dir");
		return;
	}
	rc = cfg_load("sub/rel.conf", &c, &errs);
	if (chdir(cwd) != 0)
		T_OK(0, "chdir back");
	T_OK(rc == SU_OK && c != NULL, "config loaded by a relative path (%s)", test_flat(errs));
	if (c != NULL) {
		snprintf(want, sizeof(want), "%s/sub", test_dir);
		T_OK(test_streq(c->dir, want), "dir made absolute: %s", c->dir);
		T_OK(test_streq(c->path, "sub/rel.conf"), "path kept as given");
		snprintf(want, sizeof(want), "%s/sub/db/x.db", test_dir);
		T_OK(test_streq(c->db_path, want), "relative path resolves: %s", c->db_path);
		snprintf(want, sizeof(want), "%s/sub/var/s.key", test_dir);
		T_OK(test_streq(c->secret_key_file, want), "./ path resolves: %s", c->secret_key_file);
		T_OK(test_streq(c->api_key_file, "/var/lib/stepupd/api.keys"), "absolute path kept");
	}
	cfg_free(c);
	free(errs);
}

/* test_errors() checks every kind of error and its FILE:LINE. */
static void
test_errors(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	enum su_rc rc;

	/* shape of the file */
	test_err("key outside any section", "threads = 2\n[server]\n", 1, "outside any section");
	test_err("unknown section", "[server]\n\n[bogus]\nx = 1\n", 3, "unknown section [bogus]");
	test_err("unknown key", "[server]\nthreads = 2\nbogus = 1\n", 3, "unknown key 'bogus'");
	test_err("unknown key in [database]", "[database]\nfile = x\n", 2, "unknown key 'file'");
	test_err("duplicate key", "[server]\nthreads = 2\n; c\nthreads = 3\n", 4,
		 "duplicate key 'threads' (first at line 2)");
	test_err("duplicate section", "[server]\nthreads = 2\n[database]\n[server]\nthreads = 3\n", 4,
		 "duplicate section [server] (first at line 1)");
	test_err("duplicate provider", TEST_OP "\n[provider \"op\"]\ntype = saml\n", 7,
		 "duplicate section [provider \"op\"] (first at line 1)");
	test_err("duplicate context",
		 TEST_OP "[context \"a\"]\nprovider = op\nacr = x\n[context \"a\"]\nprovider = op\n", 9,
		 "duplicate section [context \"a\"]");
	test_err("malformed line", "[server]\njust some words\n", 2, "malformed line");
	test_err("malformed section header", "[server\n", 1, "malformed section header");
	test_err("section without name", "[provider]\ntype = oidc\n", 1, "needs a name");
	test_err("bad section name", "[context \"a b\"]\n", 1, "bad context name");
	test_err("name on a bare section", "[server \"x\"]\n", 1, "takes no name");
	test_err("empty key", "[server]\n = 3\n", 2, "no key");
	test_err("empty value", "[server]\nthreads =\n", 2, "empty value for 'threads'");
	test_err("unterminated quote", "[server]\nlog_level = \"info\n", 2, "unterminated");
	test_err("control character", "[server]\nlog_level = in\x01" "fo\n", 2, "control character");

	/* bad values */
	test_err("threads 0", "[server]\nthreads = 0\n", 2, "threads: '0'");
	test_err("threads 65", "[server]\nthreads = 65\n", 2, "from 1 to 64");
	test_err("threads trailing junk", "[server]\nthreads = 2x\n", 2, "threads: '2x'");
	test_err("threads ;x glued (not a comment)", "[server]\nthreads = 4;x\n", 2, "threads: '4;x'");
	test_err("threads negative", "[server]\nthreads = -1\n", 2, "threads: '-1'");
	test_err("threads plus sign", "[server]\nthreads = +2\n", 2, "threads: '+2'");
	test_err("threads overflow", "[server]\nthreads = 99999999999999999999999\n", 2, "threads");
	test_err("threads inner space", "[server]\nthreads = 1 2\n", 2, "threads: '1 2'");
	test_err("idp_timeout 121", "[server]\nidp_timeout = 121\n", 2, "from 1 to 120");
	test_err("idp_timeout 0", "[server]\nidp_timeout = 0\n", 2, "idp_timeout");
	test_err("max_connections 0", "[server]\nmax_connections = 0\n", 2, "max_connections");
	test_err("connection_timeout hex", "[server]\nconnection_timeout = 0x10\n", 2,
		 "connection_timeout");
	test_err("listen without port", "[server]\nlisten = 127.0.0.1\n", 2, "listen");
	test_err("listen port 70000", "[server]\nlisten = 127.0.0.1:70000\n", 2, "listen");
	test_err("listen bad v6", "[server]\nlisten = [::g]:80\n", 2, "listen");
	test_err("listen bare v6", "[server]\nlisten = ::1:80\n", 2, "listen");
	test_err("public_url with path", "[server]\npublic_url = https://a.example/stepup\n", 2,
		 "public_url");
	test_err("public_url ftp", "[server]\npublic_url = ftp://a.example\n", 2, "public_url");
	test_err("public_url query", "[server]\npublic_url = https://a.example?x\n", 2, "public_url");
	test_err("public_url userinfo", "[server]\npublic_url = https://u@a.example\n", 2, "public_url");
	test_err("trusted_proxies bad entry", "[server]\ntrusted_proxies = 10.0.0.0/8 10.0.0.0/33\n", 2,
		 "'10.0.0.0/33'");
	test_err("allowed_return_origins with path",
		 "[server]\nallowed_return_origins = https://a.example https://b.example/x\n", 2,
		 "'https://b.example/x'");
	test_err("log_level", "[server]\nlog_level = loud\n", 2, "log_level: 'loud'");
	test_err("policy default", "[policy]\ndefault = maybe\n", 2, "default: 'maybe'");
	test_err("policy step_up without name", "[policy]\ndefault = step_up:\n", 2, "default");
	test_err("policy step_up unknown context", "[server]\n[policy]\ndefault = step_up:unknown\n", 3,
		 "unknown context \"unknown\"");
	test_err("provider type", "[provider \"p\"]\ntype = ldap\n", 2, "type: 'ldap'");
	test_err("token_auth", TEST_OP "token_auth = tls_client_auth\n", 6,
		 "token_auth: 'tls_client_auth'");
	test_err("issuer not a URL", "[provider \"p\"]\ntype = oidc\nissuer = op.example\nclient_id = x\nclient_secret = y\n",
		 3, "issuer");
	test_err("issuer with query",
		 "[provider \"p\"]\ntype = oidc\nissuer = https://op.example/?x=1\nclient_id = x\nclient_secret = y\n",
		 3, "issuer");
	test_err("issuer with userinfo",
		 "[provider \"p\"]\ntype = oidc\nissuer = https://u@op.example\nclient_id = x\nclient_secret = y\n",
		 3, "issuer");
	test_err("id_token_alg none", TEST_OP "id_token_alg = none\n", 6, "'none' is not allowed");
	test_err("id_token_alg HS256", TEST_OP "id_token_alg = HS256\n", 6, "'HS256' is not allowed");
	test_err("id_token_alg RS256 HS512", TEST_OP "id_token_alg = RS256 HS512\n", 6,
		 "'HS512' is not allowed");
	test_err("id_token_alg lowercase", TEST_OP "id_token_alg = rs256\n", 6, "'rs256'");
	test_err("scope without openid", TEST_OP "scope = profile email\n", 6, "openid");
	test_err("comparison", TEST_OP "[provider \"i\"]\ntype = saml\nmetadata_file = m\nsp_entity_id = e\n"
				       "sp_key_file = k\nsp_cert_file = c\n[context \"x\"]\nprovider = i\n"
				       "class_refs = a\ncomparison = most\n",
		 15, "comparison: 'most'");
	test_err("max_age -1", TEST_OP "[context \"x\"]\nprovider = op\nacr = a\nmax_age = -1\n", 9,
		 "max_age");
	test_err("lifetime 0", TEST_OP "[context \"x\"]\nprovider = op\nacr = a\nlifetime = 0\n", 9,
		 "from 1 to 86400");
	test_err("lifetime 86401", TEST_OP "[context \"x\"]\nprovider = op\nacr = a\nlifetime = 86401\n",
		 9, "lifetime");
	test_err("client_secret_file missing", TEST_OP "[provider \"p2\"]\ntype = oidc\n"
						       "issuer = https://x.example\nclient_id = a\n"
						       "client_secret_file = no-such-file\n",
		 10, "client_secret_file");
	test_write("empty-secret.txt", "\n");
	test_err("client_secret_file empty first line",
		 "[provider \"p\"]\ntype = oidc\nissuer = https://x.example\nclient_id = a\n"
		 "client_secret_file = empty-secret.txt\n",
		 5, "first line is empty");
	test_err("client_secret and client_secret_file", TEST_OP "client_secret_file = secret.txt\n", 6,
		 "both set");

	/* keys that do not apply */
	test_err("saml key in oidc provider", TEST_OP "metadata_file = m.xml\n", 6,
		 "'metadata_file' does not apply");
	test_err("oidc key in saml provider",
		 "[provider \"i\"]\ntype = saml\nmetadata_file = m\nsp_entity_id = e\nsp_key_file = k\n"
		 "sp_cert_file = c\nclient_id = x\n",
		 7, "'client_id' does not apply");
	test_err("class_refs in oidc context",
		 TEST_OP "[context \"x\"]\nprovider = op\nacr = a\nclass_refs = b\n", 9,
		 "'class_refs' does not apply");

	/* missing required keys: reported at the section header */
	test_err("provider without type", "[server]\n[provider \"p\"]\nclient_id = x\n", 2,
		 "missing required key 'type'");
	test_err("oidc without issuer", "[provider \"p\"]\ntype = oidc\nclient_id = x\nclient_secret = y\n",
		 1, "missing required key 'issuer'");
	test_err("oidc without client_id",
		 "[provider \"p\"]\ntype = oidc\nissuer = https://op.example\nclient_secret = y\n", 1,
		 "missing required key 'client_id'");
	test_err("oidc basic without secret",
		 "[provider \"p\"]\ntype = oidc\nissuer = https://op.example\nclient_id = x\n", 1,
		 "needs client_secret");
	test_err("oidc post without secret",
		 "[provider \"p\"]\ntype = oidc\nissuer = https://op.example\nclient_id = x\n"
		 "token_auth = client_secret_post\n",
		 5, "client_secret_post needs client_secret");
	test_err("private_key_jwt without key",
		 "[provider \"p\"]\ntype = oidc\nissuer = https://op.example\nclient_id = x\n"
		 "token_auth = private_key_jwt\n",
		 5, "needs private_key_file");
	test_err("saml without metadata_file",
		 "[provider \"i\"]\ntype = saml\nsp_entity_id = e\nsp_key_file = k\nsp_cert_file = c\n", 1,
		 "missing required key 'metadata_file'");
	test_err("saml without sp_entity_id",
		 "[provider \"i\"]\ntype = saml\nmetadata_file = m\nsp_key_file = k\nsp_cert_file = c\n", 1,
		 "'sp_entity_id'");
	test_err("saml without sp_key_file",
		 "[provider \"i\"]\ntype = saml\nmetadata_file = m\nsp_entity_id = e\nsp_cert_file = c\n", 1,
		 "'sp_key_file'");
	test_err("saml without sp_cert_file",
		 "[provider \"i\"]\ntype = saml\nmetadata_file = m\nsp_entity_id = e\nsp_key_file = k\n", 1,
		 "'sp_cert_file'");
	test_err("context without provider", TEST_OP "\n[context \"x\"]\nacr = a\n", 7,
		 "missing required key 'provider'");
	test_err("context unknown provider", TEST_OP "[context \"x\"]\nacr = a\nprovider = nope\n", 8,
		 "unknown provider \"nope\"");
	test_err("oidc context without acrs or acr", TEST_OP "[context \"x\"]\nprovider = op\n", 6,
		 "needs acrs or acr");
	test_err("saml context without class_refs",
		 "[provider \"i\"]\ntype = saml\nmetadata_file = m\nsp_entity_id = e\nsp_key_file = k\n"
		 "sp_cert_file = c\n[context \"x\"]\nprovider = i\n",
		 7, "missing required key 'class_refs'");

	/* several errors are all reported, in line order */
	rc = test_load("many.conf",
		       "stray = 1\n"                 /* 1: outside any section */
		       "[server]\n"
		       "threads = 0\n"               /* 3: bad value */
		       "bogus = 1\n"                 /* 4: unknown key */
		       "threads = 2\n"               /* 5: duplicate key */
		       "[nope]\n"                    /* 6: unknown section */
		       "[provider \"op\"]\n"         /* 7: missing issuer, client_id */
		       "type = oidc\n"
		       "client_secret = x\n"
		       "id_token_alg = none HS256\n" /* 10: two bad algs */
		       "[context \"c\"]\n"
		       "provider = nope\n"           /* 12: unknown provider */
		       "[policy]\n"
		       "default = step_up:missing\n" /* 14: unknown context */
		       "what is this\n",             /* 15: malformed */
		       &c, &errs);
	T_OK(rc == SU_EINVAL && c == NULL, "many errors: load fails");
	{
		const char *f = test_path("many.conf");

		T_OK(test_has_err(errs, f, 1, "outside"), "many errors: line 1");
		T_OK(test_has_err(errs, f, 3, "threads"), "many errors: line 3");
		T_OK(test_has_err(errs, f, 4, "unknown key"), "many errors: line 4");
		T_OK(test_has_err(errs, f, 5, "duplicate key"), "many errors: line 5");
		T_OK(test_has_err(errs, f, 6, "unknown section"), "many errors: line 6");
		T_OK(test_has_err(errs, f, 7, "'issuer'") && test_has_err(errs, f, 7, "'client_id'"),
		     "many errors: line 7 (two missing keys)");
		T_OK(test_has_err(errs, f, 10, "'none'") && test_has_err(errs, f, 10, "'HS256'"),
		     "many errors: line 10 (two bad algs)");
		T_OK(test_has_err(errs, f, 12, "unknown provider"), "many errors: line 12");
		T_OK(test_has_err(errs, f, 14, "unknown context"), "many errors: line 14");
		T_OK(test_has_err(errs, f, 15, "malformed"), "many errors: line 15");
		T_OK(test_count_lines(errs) == 12, "many errors: exactly 12 reported (got %d)",
		     test_count_lines(errs));
		T_OK(errs != NULL && strncmp(errs, f, strlen(f)) == 0 &&
			     strstr(errs, ":1: ") == errs + strlen(f),
		     "many errors: sorted, first is line 1");
	}
	free(errs);
	errs = NULL;
	cfg_free(c);
	c = NULL;

	/* a missing file */
	rc = cfg_load(test_path("no-such.conf"), &c, &errs);
	T_OK(rc == SU_EIO && c == NULL && test_has_err(errs, test_path("no-such.conf"), 0, "cannot read"),
	     "missing file: SU_EIO, error names the file (%s)", test_flat(errs));
	free(errs);
	errs = NULL;
	/* errs may be NULL */
	rc = test_load("err2.conf", "[bogus]\n", &c, NULL);
	T_OK(rc == SU_EINVAL && c == NULL, "errs NULL tolerated");
	T_OK(cfg_load(NULL, &c, &errs) == SU_EINVAL && errs == NULL, "NULL path refused");
	cfg_free(NULL);
}

/* test_comments() checks comment and whitespace handling. */
static void
test_comments(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	enum su_rc rc = test_load("comments.conf",
				  "# hash comment\n"
				  "; semicolon comment\n"
				  "   ; indented comment\n"
				  "\r\n"
				  "[server] ; section comment\r\n"
				  "\tthreads\t=\t3\t\n"
				  "log_level = warn;not-a-comment-start-so-bad\n",
				  &c, &errs);

	T_OK(rc == SU_EINVAL && test_has_err(errs, test_path("comments.conf"), 7, "log_level") &&
		     test_count_lines(errs) == 1,
	     "';' glued to a value is not a comment (%s)", test_flat(errs));
	free(errs);
	errs = NULL;
	cfg_free(c);
	c = NULL;
	rc = test_load("comments2.conf",
		       "# hash comment\n"
		       "; semicolon comment\n"
		       "[server] ; section comment\r\n"
		       "\tthreads\t=\t3\t\n"
		       "log_level = \"warn\" ; quoted then comment\n",
		       &c, &errs);
	T_OK(rc == SU_OK && c != NULL && c->threads == 3 && test_streq(c->log_level, "warn"),
	     "comments, tabs, CRLF and quotes (%s)", test_flat(errs));
	cfg_free(c);
	free(errs);
}

/* test_cidr() checks cfg_cidr_parse() and cfg_cidr_match(). */
static void
test_cidr(void)
{
	struct cfg_cidr r;
	struct sockaddr_in a;
	struct sockaddr_in6 b;
	static const char *const bad[] = {
		"10.0.0.0/33", "1.2.3", "::1/129", "", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
		"/8", "abc", "10.0.0.0/+8", "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8/8",
		"1.2.3.4.5", "::1/1280", "fe80::1%eth0", "256.0.0.0/8",
	};

	T_OK(cfg_cidr_parse("10.0.0.0/8", &r) == SU_OK && r.family == AF_INET && r.prefix == 8,
	     "parse 10.0.0.0/8");
	a = test_in("10.1.2.3");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&a), "10.1.2.3 in 10.0.0.0/8");
	a = test_in("11.0.0.1");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&a), "11.0.0.1 not in 10.0.0.0/8");
	b = test_in6("::ffff:10.1.2.3");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&b), "mapped ::ffff:10.1.2.3 in 10.0.0.0/8");
	b = test_in6("::ffff:11.1.2.3");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&b), "mapped ::ffff:11.1.2.3 not in 10.0.0.0/8");
	b = test_in6("::a01:203");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&b), "compatible ::10.1.2.3 is not mapped");

	T_OK(cfg_cidr_parse("192.168.1.7", &r) == SU_OK && r.family == AF_INET && r.prefix == 32,
	     "bare IPv4 is /32");
	a = test_in("192.168.1.7");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&a), "exact IPv4 match");
	a = test_in("192.168.1.6");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&a), "neighbour IPv4 no match");

	T_OK(cfg_cidr_parse("10.1.2.3/8", &r) == SU_OK && r.addr[0] == 10 && r.addr[1] == 0 &&
		     r.addr[3] == 0,
	     "host bits cleared");
	T_OK(cfg_cidr_parse("172.16.0.0/12", &r) == SU_OK, "parse 172.16.0.0/12");
	a = test_in("172.31.255.255");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&a), "172.31.255.255 in /12");
	a = test_in("172.32.0.0");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&a), "172.32.0.0 not in /12");
	T_OK(cfg_cidr_parse("0.0.0.0/0", &r) == SU_OK, "parse 0.0.0.0/0");
	a = test_in("203.0.113.9");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&a), "anything in 0.0.0.0/0");
	b = test_in6("2001:db8::1");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&b), "IPv6 not in 0.0.0.0/0");

	T_OK(cfg_cidr_parse("::1/128", &r) == SU_OK && r.family == AF_INET6 && r.prefix == 128,
	     "parse ::1/128");
	b = test_in6("::1");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&b), "::1 in ::1/128");
	b = test_in6("::2");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&b), "::2 not in ::1/128");
	a = test_in("127.0.0.1");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&a), "IPv4 not in ::1/128");
	T_OK(cfg_cidr_parse("::1", &r) == SU_OK && r.prefix == 128, "bare IPv6 is /128");
	T_OK(cfg_cidr_parse("2001:db8::/32", &r) == SU_OK && r.prefix == 32, "parse 2001:db8::/32");
	b = test_in6("2001:db8:ffff::1");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&b), "2001:db8:ffff::1 in /32");
	b = test_in6("2001:db9::1");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&b), "2001:db9::1 not in /32");
	T_OK(cfg_cidr_parse("2001:db8::/33", &r) == SU_OK, "parse odd prefix /33");
	b = test_in6("2001:db8:7fff::1");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&b), "2001:db8:7fff::1 in /33");
	b = test_in6("2001:db8:8000::1");
	T_OK(!cfg_cidr_match(&r, (struct sockaddr *)&b), "2001:db8:8000::1 not in /33");

	T_OK(cfg_cidr_parse("::ffff:192.168.0.0/112", &r) == SU_OK && r.family == AF_INET &&
		     r.prefix == 16,
	     "mapped range becomes IPv4 /16");
	a = test_in("192.168.5.5");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&a), "IPv4 in mapped range");
	b = test_in6("::ffff:192.168.5.5");
	T_OK(cfg_cidr_match(&r, (struct sockaddr *)&b), "mapped IPv6 in mapped range");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(cfg_cidr_parse(bad[i], &r) == SU_EINVAL, "refuses '%s'", bad[i]);
	T_OK(cfg_cidr_parse(NULL, &r) == SU_EINVAL, "refuses NULL");
	{
		struct sockaddr un;

		memset(&un, 0, sizeof(un));
		un.sa_family = AF_UNIX;
		cfg_cidr_parse("0.0.0.0/0", &r);
		T_OK(!cfg_cidr_match(&r, &un) && !cfg_cidr_match(&r, NULL) &&
			     !cfg_cidr_match(NULL, (struct sockaddr *)&a),
		     "AF_UNIX and NULL never match");
		T_OK(!cfg_is_trusted_proxy(NULL, (struct sockaddr *)&a), "NULL cfg trusts nobody");
	}
}

/* test_alerts() checks the [alerts] section: defaults, every key, the
 * secret files, and each kind of bad value or missing partner key. */
static void
test_alerts(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	char want[PATH_MAX + 64];
	enum su_rc rc;

	rc = test_load("noalerts.conf", "[server]\n", &c, &errs);
	T_OK(rc == SU_OK && c != NULL, "no [alerts]: loads");
	if (c != NULL) {
		T_OK(c->alert_webhook_url == NULL && c->alert_webhook_secret == NULL &&
			     c->alert_smtp_url == NULL && c->alert_smtp_from == NULL &&
			     c->alert_smtp_username == NULL && c->alert_smtp_password == NULL &&
			     c->alert_ca_file == NULL,
		     "alerts: nothing configured by default");
		T_OK(c->alert_webhook_timeout == 10 && c->alert_smtp_timeout == 30 &&
			     c->alert_retry_min == 5 && c->alert_retry_max == 86400,
		     "alerts: default timeouts 10/30 s, retries 5 s .. 24 h");
	}
	cfg_free(c);
	c = NULL;
	free(errs);
	errs = NULL;

	test_write("hook.secret", "  0123456789abcdef-hook \r\nignored second line\n");
	test_write("smtp.pass", "mail-pass\n");
	test_write("short.secret", "too-short\n");
	rc = test_load("alerts.conf",
		       "[alerts]\n"
		       "webhook_url = https://hooks.example.org/services/T1/B2?token=x&y=1\n"
		       "webhook_secret_file = hook.secret\n"
		       "webhook_timeout = 7\n"
		       "smtp_url = smtps://mail.example.org:465\n"
		       "smtp_from = stepupd@example.org\n"
		       "smtp_username = stepupd\n"
		       "smtp_password_file = ./smtp.pass\n"
		       "smtp_timeout = 20\n"
		       "ca_file = ca.pem\n"
		       "retry_min = 1\n"
		       "retry_max = 60\n",
		       &c, &errs);
	T_OK(rc == SU_OK && c != NULL, "full [alerts] loads (%s)", test_flat(errs));
	if (c != NULL) {
		T_OK(test_streq(c->alert_webhook_url,
				"https://hooks.example.org/services/T1/B2?token=x&y=1"),
		     "webhook_url kept with its query");
		T_OK(test_streq(c->alert_webhook_secret, "0123456789abcdef-hook"),
		     "webhook secret: first line, trimmed");
		T_OK(test_streq(c->alert_smtp_url, "smtps://mail.example.org:465"), "smtp_url");
		T_OK(test_streq(c->alert_smtp_from, "stepupd@example.org"), "smtp_from");
		T_OK(test_streq(c->alert_smtp_username, "stepupd") &&
			     test_streq(c->alert_smtp_password, "mail-pass"),
		     "smtp credentials, password from its file");
		snprintf(want, sizeof(want), "%s/ca.pem", test_dir);
		T_OK(test_streq(c->alert_ca_file, want), "ca_file made absolute");
		T_OK(c->alert_webhook_timeout == 7 && c->alert_smtp_timeout == 20 &&
			     c->alert_retry_min == 1 && c->alert_retry_max == 60,
		     "timeouts and retry bounds");
	}
	cfg_free(c);
	c = NULL;
	free(errs);
	errs = NULL;
	rc = test_load("alerts2.conf", "[alerts]\nsmtp_url = smtp://[::1]:2525/\nsmtp_from = a@b\n", &c,
		       &errs);
	T_OK(rc == SU_OK && c != NULL, "smtp:// with an IPv6 literal and a trailing slash loads");
	cfg_free(c);
	c = NULL;
	free(errs);
	errs = NULL;

#define TEST_HOOK "[alerts]\nwebhook_secret_file = hook.secret\n"
	test_err("webhook_url ftp", TEST_HOOK "webhook_url = ftp://h/x\n", 3, "not an absolute http(s) URL");
	test_err("webhook_url fragment", TEST_HOOK "webhook_url = https://h/x#frag\n", 3,
		 "not an absolute http(s) URL");
	test_err("webhook_url blank inside", TEST_HOOK "webhook_url = https://h/a b\n", 3,
		 "not an absolute http(s) URL");
	test_err("webhook_url user-info", TEST_HOOK "webhook_url = https://u:p@h/x\n", 3,
		 "not an absolute http(s) URL");
	test_err("webhook_url backslash", TEST_HOOK "webhook_url = https://h\\@evil/x\n", 3,
		 "not an absolute http(s) URL");
	test_err("webhook_url without secret", "[alerts]\nwebhook_url = https://h/x\n", 2,
		 "needs webhook_secret_file");
	test_err("webhook secret too short",
		 "[alerts]\nwebhook_url = https://h/x\nwebhook_secret_file = short.secret\n", 3,
		 "shorter than 16");
	test_err("webhook secret file missing",
		 "[alerts]\nwebhook_url = https://h/x\nwebhook_secret_file = nope.secret\n", 3,
		 "webhook_secret_file: cannot use");
	test_err("webhook secret without url", TEST_HOOK, 2, "webhook_secret_file without webhook_url");
	test_err("webhook_timeout 0", "[alerts]\nwebhook_timeout = 0\n", 2, "from 1 to 300");
	test_err("smtp_timeout 301", "[alerts]\nsmtp_timeout = 301\n", 2, "from 1 to 300");
	test_err("retry_min 0", "[alerts]\nretry_min = 0\n", 2, "from 1 to 86400");
	test_err("retry_min > retry_max", "[alerts]\nretry_min = 60\nretry_max = 30\n", 2,
		 "larger than retry_max");
#define TEST_SMTP_FROM "[alerts]\nsmtp_from = a@b\n"
	test_err("smtp_url http", TEST_SMTP_FROM "smtp_url = http://mail\n", 3, "is not smtp://");
	test_err("smtp_url user-info", TEST_SMTP_FROM "smtp_url = smtp://u:p@mail\n", 3, "is not smtp://");
	test_err("smtp_url path", TEST_SMTP_FROM "smtp_url = smtp://mail/x\n", 3, "is not smtp://");
	test_err("smtp_url query", TEST_SMTP_FROM "smtp_url = smtp://mail?x\n", 3, "is not smtp://");
	test_err("smtp_url port 0", TEST_SMTP_FROM "smtp_url = smtp://mail:0\n", 3, "is not smtp://");
	test_err("smtp_url port 65536", TEST_SMTP_FROM "smtp_url = smtp://mail:65536\n", 3,
		 "is not smtp://");
	test_err("smtp_url no host", TEST_SMTP_FROM "smtp_url = smtp://:25\n", 3, "is not smtp://");
	test_err("smtp_url bad v6", TEST_SMTP_FROM "smtp_url = smtp://[zz]:25\n", 3, "is not smtp://");
	test_err("smtp_url without smtp_from", "[alerts]\nsmtp_url = smtp://mail\n", 2,
		 "smtp_url needs smtp_from");
	test_err("smtp_from not an address", "[alerts]\nsmtp_url = smtp://mail\nsmtp_from = nobody\n",
		 3, "not a plain mail address");
	test_err("smtp_from in brackets", "[alerts]\nsmtp_url = smtp://mail\nsmtp_from = <a@b>\n", 3,
		 "not a plain mail address");
	test_err("smtp_from with a name",
		 "[alerts]\nsmtp_url = smtp://mail\nsmtp_from = Alerts a@b\n", 3,
		 "not a plain mail address");
	test_err("smtp_from without smtp_url", "[alerts]\nsmtp_from = a@b\n", 1, "need smtp_url");
	test_err("smtp_username without password",
		 "[alerts]\nsmtp_url = smtp://mail\nsmtp_from = a@b\nsmtp_username = u\n", 4,
		 "needs smtp_password_file");
	test_err("smtp_password_file without username",
		 "[alerts]\nsmtp_url = smtp://mail\nsmtp_from = a@b\nsmtp_password_file = smtp.pass\n",
		 4, "needs smtp_username");
	test_err("unknown key in [alerts]", "[alerts]\nwebhook = https://h/x\n", 2,
		 "unknown key 'webhook' in [alerts]");
	test_err("duplicate [alerts]", "[alerts]\n[alerts]\n", 2, "duplicate section [alerts]");
	test_err("[alerts] takes no name", "[alerts \"x\"]\n", 1, "takes no name");
#undef TEST_HOOK
#undef TEST_SMTP_FROM
}

/* test_admin() checks the [admin] section (docs/admin.md): defaults, the
 * OIDC provider and its groups, the session bounds, and the reserved
 * context name of the admin sign-in. */
static void
test_admin(void)
{
	struct cfg *c = NULL;
	char *errs = NULL;
	enum su_rc rc;

#define TEST_ADMIN_OP "[provider \"op\"]\ntype = oidc\nissuer = https://op.example\nclient_id = a\nclient_secret = b\n"
	rc = test_load("noadmin.conf", "[server]\n", &c, &errs);
	T_OK(rc == SU_OK && c != NULL && c->admin_provider == NULL &&
		     test_streq(c->admin_group_claim, "groups") && c->admin_groups == NULL &&
		     c->admin_session_idle == 1800 && c->admin_session_max == 28800 &&
		     c->admin_throttle_base == 60 && c->admin_context.provider == NULL,
	     "admin: defaults (local accounts only, groups claim, 30 min idle, 8 h, 60 s base)");
	cfg_free(c);
	free(errs);
	c = NULL;
	errs = NULL;
	rc = test_load("admin.conf",
		       TEST_ADMIN_OP "[admin]\nprovider = op\ngroup_claim = roles\n"
			       "groups = stepupd-admins ops\nsession_idle = 600\nsession_max = 3600\n"
			       "throttle_base = 1\n",
		       &c, &errs);
	T_OK(rc == SU_OK && c != NULL, "full [admin] loads (%s)", test_flat(errs));
	if (c != NULL) {
		T_OK(test_streq(c->admin_provider, "op") && test_streq(c->admin_group_claim, "roles") &&
			     test_list_eq(c->admin_groups, 2, "stepupd-admins", "ops") &&
			     c->admin_session_idle == 600 && c->admin_session_max == 3600 &&
			     c->admin_throttle_base == 1,
		     "admin: every key read");
		T_OK(c->admin_context.provider == cfg_provider_find(c, "op") &&
			     test_streq(c->admin_context.name, CFG_ADMIN_CONTEXT) &&
			     c->admin_context.acr == NULL && c->admin_context.acrs == NULL &&
			     c->admin_context.max_age == 0,
		     "admin: the sign-in context: the provider, no acr, always a fresh login");
		T_OK(cfg_context_find(c, CFG_ADMIN_CONTEXT) == NULL,
		     "admin: the sign-in context is not a step-up context");
	}
	cfg_free(c);
	free(errs);
	test_err("admin provider unknown", "[admin]\nprovider = nope\ngroups = a\n", 2,
		 "unknown provider \"nope\"");
	test_err("admin provider saml",
		 "[provider \"idp\"]\ntype = saml\nmetadata_file = m.xml\nsp_entity_id = x\n"
		 "sp_key_file = k\nsp_cert_file = c\n[admin]\nprovider = idp\ngroups = a\n",
		 8, "not an oidc provider");
	test_err("admin provider without groups", TEST_ADMIN_OP "[admin]\nprovider = op\n", 7,
		 "provider needs groups");
	test_err("admin groups without provider", "[admin]\ngroups = a\n", 2,
		 "groups without provider");
	test_err("admin session_idle > session_max",
		 "[admin]\nsession_idle = 7200\nsession_max = 3600\n", 1, "larger than session_max");
	test_err("admin session_idle 59", "[admin]\nsession_idle = 59\n", 2, "from 60 to 86400");
	test_err("admin throttle_base 0", "[admin]\nthrottle_base = 0\n", 2, "from 1 to 900");
	test_err("admin unknown key", "[admin]\npassword = x\n", 2, "unknown key 'password' in [admin]");
	test_err("a context may not take the admin sign-in's name",
		 TEST_ADMIN_OP "[context \"__admin__\"]\nprovider = op\nacr = x\n", 6, "reserved");
#undef TEST_ADMIN_OP
}

/* test_rm() removes one entry for nftw(). */
static int
test_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	char tmpl[] = "/tmp/stepupd-test-cfg-XXXXXX";

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, test_dir) == NULL) {
		printf("not ok 1 - mkdtemp\n");
		return 1;
	}
	test_spec_example_parses();
	test_defaults();
	test_values();
	test_relative_paths();
	test_errors();
	test_comments();
	test_cidr();
	test_alerts();
	test_admin();
	nftw(test_dir, test_rm, 16, FTW_DEPTH | FTW_PHYS);
	return T_DONE();
}
