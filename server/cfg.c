/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cfg.c: reads stepupd.conf (SPEC section 3) into an immutable struct cfg.
 *
 * Loading runs in three steps. cfg_lex() splits the file into sections of
 * key/value pairs and reports what is wrong with the shape of the file
 * (malformed lines, unknown or duplicate sections, duplicate keys, keys
 * outside a section). cfg_apply_*() then check every key against its
 * section's table and parse every value; providers come before contexts so
 * a context can be checked against its provider's type. Last, the
 * cross-references (a context's provider, the policy's default context) and
 * required keys are checked. Every error found on the way is kept, and they
 * are reported together, sorted by line, as "FILE:LINE: message".
 *
 * The only file this module reads besides the config is client_secret_file
 * (the secret is needed in memory). Other paths are only made absolute;
 * the modules that use them open them. Nothing here logs.
 */
#include "cfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "buf.h"
#include "log.h"
#include "returl.h"
#include "smtp.h"

#define CFG_FILE_MAX (1024 * 1024)  /* a larger config is a mistake */
#define CFG_NAME_MAX 64             /* provider and context names */
#define CFG_ERR_MAX 1024            /* one error message */
#define CFG_ERRS_MAX (256 * 1024)   /* all error messages together */
#define CFG_SECRET_FILE_MAX 4096    /* client_secret_file is read up to this */
#define CFG_HOOK_SECRET_MIN 16      /* the shortest webhook HMAC key accepted */

enum cfg_sec_kind {
	CFG_SEC_SERVER,
	CFG_SEC_DATABASE,
	CFG_SEC_SECRETS,
	CFG_SEC_API,
	CFG_SEC_POLICY,
	CFG_SEC_PROVIDER,
	CFG_SEC_CONTEXT,
	CFG_SEC_ALERTS,
	CFG_SEC_ADMIN,
};

/* how a key's value is parsed */
enum cfg_vtype {
	CFG_V_STR,          /* any non-empty string */
	CFG_V_PATH,         /* a path, made absolute against the config's directory */
	CFG_V_LIST,         /* a space-separated list */
	CFG_V_UINT,         /* unsigned, in [min, max] */
	CFG_V_I64,          /* int64_t, in [min, max] */
	CFG_V_URL,          /* an absolute http(s) URL without query or fragment */
	CFG_V_LISTEN,       /* HOST:PORT or [V6]:PORT */
	CFG_V_PUBLIC_URL,   /* http(s)://host[:port][/] */
	CFG_V_PROXIES,      /* a list of CIDR ranges */
	CFG_V_ORIGINS,      /* a list of origins */
	CFG_V_LOG_LEVEL,    /* error|warn|info|debug */
	CFG_V_POLICY,       /* allow|block|step_up:<context> */
	CFG_V_PTYPE,        /* oidc|saml */
	CFG_V_TOKEN_AUTH,   /* client_secret_basic|client_secret_post|private_key_jwt */
	CFG_V_ALGS,         /* a list of JWS algorithms */
	CFG_V_SCOPE,        /* scope values, including openid */
	CFG_V_SECRET_FILE,  /* a path whose first line is the secret */
	CFG_V_COMPARISON,   /* exact|minimum|maximum|better */
	CFG_V_HOOK_URL,     /* an absolute http(s) URL; a query is allowed, no fragment */
	CFG_V_SMTP_URL,     /* smtp://host[:port] or smtps://host[:port] */
	CFG_V_EMAIL,        /* one plain mail address, local@domain */
	CFG_V_DOMAIN,       /* a DNS name for a cookie's Domain attribute */
};

/* which provider types a key applies to */
#define CFG_FOR_OIDC 1u
#define CFG_FOR_SAML 2u
#define CFG_FOR_ANY (CFG_FOR_OIDC | CFG_FOR_SAML)

struct cfg_key {
	const char *name;
	enum cfg_vtype type;
	size_t off;        /* of the field in struct cfg, cfg_provider or cfg_context */
	int64_t min, max;  /* for numbers */
	unsigned applies;  /* provider and context keys: CFG_FOR_* */
};

#define CFG_C(f) offsetof(struct cfg, f)
#define CFG_P(f) offsetof(struct cfg_provider, f)
#define CFG_X(f) offsetof(struct cfg_context, f)

static const struct cfg_key cfg_keys_server[] = {
	{ "listen", CFG_V_LISTEN, 0, 0, 0, CFG_FOR_ANY },
	{ "public_url", CFG_V_PUBLIC_URL, 0, 0, 0, CFG_FOR_ANY },
	{ "trusted_proxies", CFG_V_PROXIES, 0, 0, 0, CFG_FOR_ANY },
	{ "allowed_return_origins", CFG_V_ORIGINS, 0, 0, 0, CFG_FOR_ANY },
	{ "max_connections", CFG_V_UINT, CFG_C(max_connections), 1, 1000000, CFG_FOR_ANY },
	{ "connection_timeout", CFG_V_UINT, CFG_C(connection_timeout), 1, 3600, CFG_FOR_ANY },
	{ "threads", CFG_V_UINT, CFG_C(threads), 1, 64, CFG_FOR_ANY },
	{ "idp_timeout", CFG_V_UINT, CFG_C(idp_timeout), 1, 120, CFG_FOR_ANY },
	{ "log_level", CFG_V_LOG_LEVEL, CFG_C(log_level), 0, 0, CFG_FOR_ANY },
	{ "cookie_domain", CFG_V_DOMAIN, CFG_C(cookie_domain), 0, 0, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_database[] = {
	{ "path", CFG_V_PATH, CFG_C(db_path), 0, 0, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_secrets[] = {
	{ "key_file", CFG_V_PATH, CFG_C(secret_key_file), 0, 0, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_api[] = {
	{ "key_file", CFG_V_PATH, CFG_C(api_key_file), 0, 0, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_policy[] = {
	{ "default", CFG_V_POLICY, 0, 0, 0, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_provider[] = {
	{ "type", CFG_V_PTYPE, 0, 0, 0, CFG_FOR_ANY },
	{ "issuer", CFG_V_URL, CFG_P(issuer), 0, 0, CFG_FOR_OIDC },
	{ "client_id", CFG_V_STR, CFG_P(client_id), 0, 0, CFG_FOR_OIDC },
	{ "client_secret", CFG_V_STR, CFG_P(client_secret), 0, 0, CFG_FOR_OIDC },
	{ "client_secret_file", CFG_V_SECRET_FILE, CFG_P(client_secret), 0, 0, CFG_FOR_OIDC },
	{ "private_key_file", CFG_V_PATH, CFG_P(private_key_file), 0, 0, CFG_FOR_OIDC },
	{ "private_key_kid", CFG_V_STR, CFG_P(private_key_kid), 0, 0, CFG_FOR_OIDC },
	{ "token_auth", CFG_V_TOKEN_AUTH, 0, 0, 0, CFG_FOR_OIDC },
	{ "subject_claim", CFG_V_STR, CFG_P(subject_claim), 0, 0, CFG_FOR_OIDC },
	{ "id_token_alg", CFG_V_ALGS, CFG_P(id_token_algs), 0, 0, CFG_FOR_OIDC },
	{ "scope", CFG_V_SCOPE, CFG_P(scope), 0, 0, CFG_FOR_OIDC },
	{ "ca_file", CFG_V_PATH, CFG_P(ca_file), 0, 0, CFG_FOR_OIDC },
	{ "metadata_file", CFG_V_PATH, CFG_P(metadata_file), 0, 0, CFG_FOR_SAML },
	{ "sp_entity_id", CFG_V_STR, CFG_P(sp_entity_id), 0, 0, CFG_FOR_SAML },
	{ "sp_key_file", CFG_V_PATH, CFG_P(sp_key_file), 0, 0, CFG_FOR_SAML },
	{ "sp_cert_file", CFG_V_PATH, CFG_P(sp_cert_file), 0, 0, CFG_FOR_SAML },
	{ "class_ref_order", CFG_V_LIST, CFG_P(class_ref_order), 0, 0, CFG_FOR_SAML },
	{ "subject_attribute", CFG_V_STR, CFG_P(subject_attribute), 0, 0, CFG_FOR_SAML },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_context[] = {
	{ "provider", CFG_V_STR, CFG_X(provider_name), 0, 0, CFG_FOR_ANY },
	{ "acrs", CFG_V_LIST, CFG_X(acrs), 0, 0, CFG_FOR_OIDC },
	{ "acr", CFG_V_LIST, CFG_X(acr), 0, 0, CFG_FOR_OIDC },
	{ "class_refs", CFG_V_LIST, CFG_X(class_refs), 0, 0, CFG_FOR_SAML },
	{ "comparison", CFG_V_COMPARISON, 0, 0, 0, CFG_FOR_SAML },
	{ "max_age", CFG_V_I64, CFG_X(max_age), 0, INT32_MAX, CFG_FOR_ANY },
	{ "lifetime", CFG_V_I64, CFG_X(lifetime), 1, 86400, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_alerts[] = {
	{ "webhook_url", CFG_V_HOOK_URL, CFG_C(alert_webhook_url), 0, 0, CFG_FOR_ANY },
	{ "webhook_secret_file", CFG_V_SECRET_FILE, CFG_C(alert_webhook_secret), 0, 0, CFG_FOR_ANY },
	{ "webhook_timeout", CFG_V_UINT, CFG_C(alert_webhook_timeout), 1, 300, CFG_FOR_ANY },
	{ "smtp_url", CFG_V_SMTP_URL, CFG_C(alert_smtp_url), 0, 0, CFG_FOR_ANY },
	{ "smtp_from", CFG_V_EMAIL, CFG_C(alert_smtp_from), 0, 0, CFG_FOR_ANY },
	{ "smtp_username", CFG_V_STR, CFG_C(alert_smtp_username), 0, 0, CFG_FOR_ANY },
	{ "smtp_password_file", CFG_V_SECRET_FILE, CFG_C(alert_smtp_password), 0, 0, CFG_FOR_ANY },
	{ "smtp_timeout", CFG_V_UINT, CFG_C(alert_smtp_timeout), 1, 300, CFG_FOR_ANY },
	{ "ca_file", CFG_V_PATH, CFG_C(alert_ca_file), 0, 0, CFG_FOR_ANY },
	{ "retry_min", CFG_V_UINT, CFG_C(alert_retry_min), 1, 86400, CFG_FOR_ANY },
	{ "retry_max", CFG_V_UINT, CFG_C(alert_retry_max), 1, 604800, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

static const struct cfg_key cfg_keys_admin[] = {
	{ "provider", CFG_V_STR, CFG_C(admin_provider), 0, 0, CFG_FOR_ANY },
	{ "group_claim", CFG_V_STR, CFG_C(admin_group_claim), 0, 0, CFG_FOR_ANY },
	{ "groups", CFG_V_LIST, CFG_C(admin_groups), 0, 0, CFG_FOR_ANY },
	{ "session_idle", CFG_V_I64, CFG_C(admin_session_idle), 60, 86400, CFG_FOR_ANY },
	{ "session_max", CFG_V_I64, CFG_C(admin_session_max), 60, 604800, CFG_FOR_ANY },
	{ "throttle_base", CFG_V_I64, CFG_C(admin_throttle_base), 1, 900, CFG_FOR_ANY },
	{ NULL, CFG_V_STR, 0, 0, 0, 0 },
};

/* the section kinds and their tables; all but provider and context are bare names */
static const struct {
	const char *name;
	enum cfg_sec_kind kind;
	const struct cfg_key *keys;
} cfg_sections[] = {
	{ "server", CFG_SEC_SERVER, cfg_keys_server },
	{ "database", CFG_SEC_DATABASE, cfg_keys_database },
	{ "secrets", CFG_SEC_SECRETS, cfg_keys_secrets },
	{ "api", CFG_SEC_API, cfg_keys_api },
	{ "policy", CFG_SEC_POLICY, cfg_keys_policy },
	{ "provider", CFG_SEC_PROVIDER, cfg_keys_provider },
	{ "context", CFG_SEC_CONTEXT, cfg_keys_context },
	{ "alerts", CFG_SEC_ALERTS, cfg_keys_alerts },
	{ "admin", CFG_SEC_ADMIN, cfg_keys_admin },
};

/*
 * ID token algorithms stepupd accepts: asymmetric only, so never "none" and
 * never HS* (a client secret is not a signing key the OP alone holds).
 * Kept here rather than calling jose_alg_supported() so cfg.c stays free of
 * a link dependency on cjose.
 */
static const char *const cfg_algs[] = {
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
};

struct cfg_kv {
	char *key;
	char *value;
	int line;
};

struct cfg_sec {
	enum cfg_sec_kind kind;
	char *name;        /* provider / context name, else NULL */
	int line;
	bool ignored;      /* unknown or duplicate: its keys are skipped */
	struct cfg_kv *kv;
	size_t n_kv;
};

struct cfg_err {
	int line;
	size_t seq;
	char *msg;
};

/* the state of one cfg_load() */
struct cfg_loader {
	const char *path;
	struct cfg *c;
	struct cfg_sec *secs;
	size_t n_secs;
	struct cfg_err *errs;
	size_t n_errs;
	bool oom;
	char *policy_context;   /* step_up:<context>, checked once contexts exist */
	int policy_line;
};

/* cfg_err() records one error at line. Allocation failure sets L->oom. */
static void cfg_err(struct cfg_loader *L, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
cfg_err(struct cfg_loader *L, int line, const char *fmt, ...)
{
	struct buf b;
	struct cfg_err *v;
	va_list ap;
	enum su_rc rc;

	buf_init(&b, CFG_ERR_MAX);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == SU_ETOOBIG)
		rc = buf_puts(&b, "(message too long)");
	if (rc != SU_OK)
		goto out;
	rc = SU_ENOMEM;
	v = realloc(L->errs, (L->n_errs + 1) * sizeof(*v));
	if (v == NULL)
		goto out;
	L->errs = v;
	v[L->n_errs].line = line;
	v[L->n_errs].seq = L->n_errs;
	v[L->n_errs].msg = buf_steal(&b);
	if (v[L->n_errs].msg == NULL)
		goto out;
	L->n_errs++;
	rc = SU_OK;
out:
	buf_cleanup(&b);
	if (rc != SU_OK)
		L->oom = true;
}

/* cfg_err_cmp() orders errors by line, then by the order they were found. */
static int
cfg_err_cmp(const void *a, const void *b)
{
	const struct cfg_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* cfg_errs_render() writes the sorted errors as "FILE:LINE: msg\n" lines
 * into a malloc'd string in *out (NULL if out of memory). */
static enum su_rc
cfg_errs_render(struct cfg_loader *L, char **out)
{
	enum su_rc rc = SU_ENOMEM;
	struct buf b;

	buf_init(&b, CFG_ERRS_MAX);
	*out = NULL;
	if (L->n_errs > 1)
		qsort(L->errs, L->n_errs, sizeof(*L->errs), cfg_err_cmp);
	for (size_t i = 0; i < L->n_errs; i++) {
		rc = buf_printf(&b, "%s:%d: %s\n", L->path, L->errs[i].line, L->errs[i].msg);
		if (rc == SU_ETOOBIG) {
			buf_puts(&b, "...\n");
			break;
		}
		if (rc != SU_OK)
			goto out;
	}
	if (L->oom)
		buf_puts(&b, "(out of memory while collecting errors)\n");
	*out = buf_steal(&b);
	rc = *out ? SU_OK : SU_ENOMEM;
out:
	buf_cleanup(&b);
	return rc;
}

/* cfg_is_space() says whether c is a blank (space or tab). */
static bool
cfg_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* cfg_trim() strips blanks from both ends of s in place and returns it. */
static char *
cfg_trim(char *s)
{
	size_t n;

	while (cfg_is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && cfg_is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* cfg_strip_comment() cuts an inline " ; comment" (a ';' at the start or
 * after a blank, outside double quotes) off line, in place. */
static void
cfg_strip_comment(char *line)
{
	bool quoted = false;

	for (size_t i = 0; line[i] != '\0'; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (!quoted && line[i] == ';' && (i == 0 || cfg_is_space(line[i - 1]))) {
			line[i] = '\0';
			return;
		}
	}
}

/* cfg_name_ok() says whether s is a valid provider or context name. */
static bool
cfg_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* cfg_sec_label() writes how section s is shown in messages into dst. */
static void
cfg_sec_label(const struct cfg_sec *s, char *dst, size_t dstsz)
{
	const char *kind = "?";

	for (size_t i = 0; i < sizeof(cfg_sections) / sizeof(cfg_sections[0]); i++)
		if (cfg_sections[i].kind == s->kind)
			kind = cfg_sections[i].name;
	if (s->name != NULL)
		snprintf(dst, dstsz, "[%s \"%s\"]", kind, s->name);
	else
		snprintf(dst, dstsz, "[%s]", kind);
}

/* cfg_sec_add() appends a section to L->secs; takes ownership of name. */
static enum su_rc
cfg_sec_add(struct cfg_loader *L, enum cfg_sec_kind kind, char *name, int line, bool ignored)
{
	enum su_rc rc = SU_ENOMEM;
	struct cfg_sec *v;

	v = realloc(L->secs, (L->n_secs + 1) * sizeof(*v));
	if (v == NULL)
		goto out;
	L->secs = v;
	memset(&v[L->n_secs], 0, sizeof(v[0]));
	v[L->n_secs].kind = kind;
	v[L->n_secs].name = name;
	v[L->n_secs].line = line;
	v[L->n_secs].ignored = ignored;
	L->n_secs++;
	name = NULL;
	rc = SU_OK;
out:
	free(name);
	return rc;
}

/*
 * cfg_lex_section() handles a "[...]" line: a bare section name, or
 * provider/context followed by a double-quoted name. An unknown, malformed
 * or duplicate section is reported and added as ignored, so its keys do not
 * cascade into more errors.
 */
static enum su_rc
cfg_lex_section(struct cfg_loader *L, char *s, int line)
{
	enum su_rc rc = SU_OK;
	size_t n = strlen(s);
	char *inner, *word, *rest = NULL, *name = NULL;
	bool found = false, ignored = false;
	enum cfg_sec_kind kind = CFG_SEC_SERVER;

	if (n < 2 || s[n - 1] != ']') {
		cfg_err(L, line, "malformed section header (expected [name] or [provider \"NAME\"])");
		ignored = true;
		goto add;
	}
	s[n - 1] = '\0';
	inner = cfg_trim(s + 1);
	word = inner;
	n = strcspn(inner, " \t");
	if (inner[n] != '\0') {
		inner[n] = '\0';
		rest = cfg_trim(inner + n + 1);
	}
	for (size_t i = 0; i < sizeof(cfg_sections) / sizeof(cfg_sections[0]); i++) {
		if (strcmp(word, cfg_sections[i].name) == 0) {
			kind = cfg_sections[i].kind;
			found = true;
		}
	}
	if (!found) {
		cfg_err(L, line, "unknown section [%s]", word);
		ignored = true;
		goto add;
	}
	if (kind == CFG_SEC_PROVIDER || kind == CFG_SEC_CONTEXT) {
		size_t rn = rest ? strlen(rest) : 0;

		if (rn < 3 || rest[0] != '"' || rest[rn - 1] != '"') {
			cfg_err(L, line, "section [%s] needs a name: [%s \"NAME\"]", word, word);
			ignored = true;
			goto add;
		}
		rest[rn - 1] = '\0';
		if (!cfg_name_ok(rest + 1)) {
			cfg_err(L, line, "bad %s name \"%s\" (letters, digits, '-', '_', '.'; at most %d)",
				word, rest + 1, CFG_NAME_MAX);
			ignored = true;
			goto add;
		}
		name = strdup(rest + 1);
		if (name == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
	} else if (rest != NULL) {
		cfg_err(L, line, "section [%s] takes no name", word);
		ignored = true;
		goto add;
	}
	for (size_t i = 0; i < L->n_secs; i++) {
		const struct cfg_sec *o = &L->secs[i];

		if (o->ignored || o->kind != kind)
			continue;
		if (name == NULL || strcmp(o->name, name) == 0) {
			if (name != NULL)
				cfg_err(L, line, "duplicate section [%s \"%s\"] (first at line %d)", word,
					name, o->line);
			else
				cfg_err(L, line, "duplicate section [%s] (first at line %d)", word, o->line);
			ignored = true;
			break;
		}
	}
add:
	rc = cfg_sec_add(L, kind, name, line, ignored);
	name = NULL;
out:
	free(name);
	return rc;
}

/*
 * cfg_lex_kv() handles a "key = value" line: strips optional double quotes
 * around the value, and adds the pair to the current section unless the
 * key is a duplicate or there is no section.
 */
static enum su_rc
cfg_lex_kv(struct cfg_loader *L, char *s, int line)
{
	enum su_rc rc = SU_OK;
	char *eq = strchr(s, '=');
	char *key, *value, *k = NULL, *v = NULL;
	struct cfg_sec *sec;
	struct cfg_kv *kv;
	size_t n;

	if (eq == NULL) {
		cfg_err(L, line, "malformed line (expected key = value or [section])");
		goto out;
	}
	*eq = '\0';
	key = cfg_trim(s);
	value = cfg_trim(eq + 1);
	if (key[0] == '\0') {
		cfg_err(L, line, "malformed line (no key before '=')");
		goto out;
	}
	n = strlen(value);
	if (value[0] == '"') {
		if (n < 2 || value[n - 1] != '"') {
			cfg_err(L, line, "unterminated quoted value for '%s'", key);
			goto out;
		}
		value[n - 1] = '\0';
		value++;
	}
	if (L->n_secs == 0) {
		cfg_err(L, line, "key '%s' outside any section", key);
		goto out;
	}
	sec = &L->secs[L->n_secs - 1];
	if (sec->ignored)
		goto out;
	if (value[0] == '\0') {
		cfg_err(L, line, "empty value for '%s'", key);
		goto out;
	}
	for (size_t i = 0; i < sec->n_kv; i++) {
		if (strcmp(sec->kv[i].key, key) == 0) {
			cfg_err(L, line, "duplicate key '%s' (first at line %d)", key, sec->kv[i].line);
			goto out;
		}
	}
	rc = SU_ENOMEM;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL)
		goto out;
	kv = realloc(sec->kv, (sec->n_kv + 1) * sizeof(*kv));
	if (kv == NULL)
		goto out;
	sec->kv = kv;
	kv[sec->n_kv].key = k;
	kv[sec->n_kv].value = v;
	kv[sec->n_kv].line = line;
	sec->n_kv++;
	k = NULL;
	v = NULL;
	rc = SU_OK;
out:
	free(v);
	free(k);
	return rc;
}

/* cfg_lex() splits data (NUL-terminated, modified in place) into sections. */
static enum su_rc
cfg_lex(struct cfg_loader *L, char *data, size_t len)
{
	enum su_rc rc = SU_OK;
	char *p = data, *end = data + len;
	int line = 0;

	while (p < end && rc == SU_OK) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *s;
		size_t n;
		bool bad = false;

		line++;
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = '\0';
		if (strlen(p) != n) {
			cfg_err(L, line, "NUL byte in line");
			bad = true;
		}
		for (size_t i = 0; i < n && !bad; i++) {
			unsigned char c = (unsigned char)p[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				cfg_err(L, line, "control character in line");
				bad = true;
			}
		}
		s = cfg_trim(p);
		p = nl + 1;
		if (bad || s[0] == '\0' || s[0] == '#' || s[0] == ';')
			continue;
		cfg_strip_comment(s);
		s = cfg_trim(s);
		if (s[0] == '[')
			rc = cfg_lex_section(L, s, line);
		else
			rc = cfg_lex_kv(L, s, line);
	}
	return rc;
}

/* cfg_list_free() frees a NULL-terminated list and its strings. */
static void
cfg_list_free(cfg_list_t l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; l[i] != NULL; i++)
		free(l[i]);
	free(l);
}

/* cfg_list_split() splits s on blanks into a new list in *out (at least one
 * entry when s has a non-blank). */
static enum su_rc
cfg_list_split(const char *s, cfg_list_t *out)
{
	enum su_rc rc = SU_ENOMEM;
	cfg_list_t l = NULL;
	size_t n = 0, i = 0;
	const char *p;

	*out = NULL;
	for (p = s; *p != '\0';) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		n++;
		p += strcspn(p, " \t");
	}
	l = calloc(n + 1, sizeof(*l));
	if (l == NULL)
		goto out;
	for (p = s; *p != '\0' && i < n;) {
		size_t w;

		p += strspn(p, " \t");
		w = strcspn(p, " \t");
		l[i] = strndup(p, w);
		if (l[i] == NULL)
			goto out;
		i++;
		p += w;
	}
	*out = l;
	l = NULL;
	rc = SU_OK;
out:
	cfg_list_free(l);
	return rc;
}

/* cfg_num() parses s as a decimal integer in [min, max]: digits only, no
 * sign, no blanks, no trailing junk, no overflow. */
static enum su_rc
cfg_num(const char *s, int64_t min, int64_t max, int64_t *out)
{
	enum su_rc rc = SU_EINVAL;
	char *end = NULL;
	long long v;

	if (s[0] < '0' || s[0] > '9')
		goto out;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		goto out;
	*out = (int64_t)v;
	rc = SU_OK;
out:
	return rc;
}

/* cfg_path_resolve() returns value made absolute against dir (malloc'd). */
static char *
cfg_path_resolve(const char *dir, const char *value)
{
	struct buf b;
	char *res = NULL;

	buf_init(&b, 8192);
	if (value[0] == '/') {
		res = strdup(value);
		goto out;
	}
	while (value[0] == '.' && value[1] == '/')
		value += 2 + strspn(value + 2, "/");
	if (buf_puts(&b, dir) != SU_OK ||
	    (strcmp(dir, "/") != 0 && buf_puts(&b, "/") != SU_OK) || buf_puts(&b, value) != SU_OK)
		goto out;
	res = buf_steal(&b);
out:
	buf_cleanup(&b);
	return res;
}

/* cfg_set_str() replaces the string at *field with a copy of v. */
static enum su_rc
cfg_set_str(char **field, const char *v)
{
	enum su_rc rc = SU_ENOMEM;
	char *d = strdup(v);

	if (d == NULL)
		goto out;
	free(*field);
	*field = d;
	rc = SU_OK;
out:
	return rc;
}

/* cfg_set_list() replaces the list at *field with v split on blanks. */
static enum su_rc
cfg_set_list(cfg_list_t *field, const char *v)
{
	cfg_list_t l = NULL;
	enum su_rc rc = cfg_list_split(v, &l);

	if (rc != SU_OK)
		goto out;
	cfg_list_free(*field);
	*field = l;
out:
	return rc;
}

/* cfg_alg_ok() says whether alg is an accepted ID token algorithm. */
static bool
cfg_alg_ok(const char *alg)
{
	for (size_t i = 0; i < sizeof(cfg_algs) / sizeof(cfg_algs[0]); i++)
		if (strcmp(alg, cfg_algs[i]) == 0)
			return true;
	return false;
}

/*
 * cfg_url_ok() says whether v is an absolute http(s) URL with a valid host
 * and port (the rules of returl_origin_normalise() for the origin part), no
 * query and no fragment, and no blank, control, backslash or non-ASCII byte.
 */
static bool
cfg_url_ok(const char *v)
{
	char *origin = NULL, *norm = NULL;
	const char *auth;
	bool ok = false;

	for (const char *p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '?' || c == '#')
			goto out;
	}
	if (strncasecmp(v, "http://", 7) == 0)
		auth = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		auth = v + 8;
	else
		goto out;
	origin = strndup(v, (size_t)(auth - v) + strcspn(auth, "/"));
	if (origin == NULL)
		goto out;
	if (returl_origin_normalise(origin, &norm) != SU_OK)
		goto out;
	ok = true;
out:
	free(norm);
	free(origin);
	return ok;
}

/*
 * cfg_hook_url_ok() says whether v can be a webhook URL: what cfg_url_ok()
 * accepts, optionally followed by a query (receivers often take a token
 * there), with no fragment and no blank, control, backslash or non-ASCII
 * byte anywhere.
 */
static bool
cfg_hook_url_ok(const char *v)
{
	size_t n = strcspn(v, "?");
	char *base = NULL;
	bool ok = false;

	for (const char *p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#')
			goto out;
	}
	base = strndup(v, n);
	if (base == NULL)
		goto out;
	ok = cfg_url_ok(base);
out:
	free(base);
	return ok;
}

/*
 * cfg_smtp_url_ok() says whether v is smtp://host[:port] or
 * smtps://host[:port] (an optional trailing '/'): a host name of letters,
 * digits, '.' and '-', or an IPv6 literal in brackets; no user-info, path,
 * query or fragment (credentials come from smtp_username and
 * smtp_password_file, never from the URL).
 */
static bool
cfg_smtp_url_ok(const char *v)
{
	const char *h, *end;
	unsigned char a6[16];
	char tmp[64];
	int64_t port;

	if (strncasecmp(v, "smtp://", 7) == 0)
		h = v + 7;
	else if (strncasecmp(v, "smtps://", 8) == 0)
		h = v + 8;
	else
		return false;
	if (h[0] == '[') {
		end = strchr(h, ']');
		if (end == NULL || (size_t)(end - h - 1) >= sizeof(tmp) || end == h + 1)
			return false;
		memcpy(tmp, h + 1, (size_t)(end - h - 1));
		tmp[end - h - 1] = '\0';
		if (inet_pton(AF_INET6, tmp, a6) != 1)
			return false;
		end++;
	} else {
		end = h + strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (end == h || end - h > 253 || h[0] == '.' || h[0] == '-')
			return false;
	}
	if (end[0] == ':') {
		size_t pn = strcspn(end + 1, "/");

		if (pn == 0 || pn >= 6)
			return false;
		memcpy(tmp, end + 1, pn);
		tmp[pn] = '\0';
		if (cfg_num(tmp, 1, 65535, &port) != SU_OK)
			return false;
		end += 1 + pn;
	}
	return end[0] == '\0' || (end[0] == '/' && end[1] == '\0');
}

/* cfg_listen_parse() parses "HOST:PORT" or "[V6]:PORT" into c. */
static enum su_rc
cfg_listen_parse(struct cfg *c, const char *v)
{
	enum su_rc rc = SU_EINVAL;
	char *host = NULL;
	const char *colon;
	unsigned char a6[16];
	int64_t port;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close[1] != ':')
			goto out;
		host = strndup(v + 1, (size_t)(close - v - 1));
		if (host == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		if (inet_pton(AF_INET6, host, a6) != 1)
			goto out;
		colon = close + 1;
	} else {
		colon = strchr(v, ':');
		if (colon == NULL || colon == v || strchr(colon + 1, ':') != NULL)
			goto out;
		for (const char *p = v; p < colon; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
				goto out;
		host = strndup(v, (size_t)(colon - v));
		if (host == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
	}
	if (cfg_num(colon + 1, 1, 65535, &port) != SU_OK)
		goto out;
	free(c->listen_host);
	c->listen_host = host;
	host = NULL;
	c->listen_port = (uint16_t)port;
	rc = SU_OK;
out:
	free(host);
	return rc;
}

/* cfg_apply_proxies() parses the trusted_proxies list into c; reports each
 * bad entry. */
static enum su_rc
cfg_apply_proxies(struct cfg_loader *L, const struct cfg_kv *kv)
{
	enum su_rc rc = SU_ENOMEM;
	cfg_list_t l = NULL;
	struct cfg_cidr *v = NULL;
	size_t n = 0;
	bool bad = false;

	if (cfg_list_split(kv->value, &l) != SU_OK)
		goto out;
	while (l[n] != NULL)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (v == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (cfg_cidr_parse(l[i], &v[i]) != SU_OK) {
			cfg_err(L, kv->line, "trusted_proxies: bad address or CIDR range '%s'", l[i]);
			bad = true;
		}
	}
	if (!bad) {
		free(L->c->trusted_proxies);
		L->c->trusted_proxies = v;
		L->c->n_trusted_proxies = n;
		v = NULL;
	}
	rc = SU_OK;
out:
	free(v);
	cfg_list_free(l);
	return rc;
}

/* cfg_apply_origins() normalises each allowed_return_origins entry into c;
 * reports each bad entry. */
static enum su_rc
cfg_apply_origins(struct cfg_loader *L, const struct cfg_kv *kv)
{
	enum su_rc rc = SU_ENOMEM;
	cfg_list_t l = NULL;
	bool bad = false;

	if (cfg_list_split(kv->value, &l) != SU_OK)
		goto out;
	for (size_t i = 0; l[i] != NULL; i++) {
		char *norm = NULL;
		enum su_rc r = returl_origin_normalise(l[i], &norm);

		if (r == SU_ENOMEM)
			goto out;
		if (r != SU_OK) {
			cfg_err(L, kv->line,
				"allowed_return_origins: '%s' is not an origin (http(s)://host[:port])", l[i]);
			bad = true;
			continue;
		}
		free(l[i]);
		l[i] = norm;
	}
	if (!bad) {
		cfg_list_free(L->c->allowed_return_origins);
		L->c->allowed_return_origins = l;
		l = NULL;
	}
	rc = SU_OK;
out:
	cfg_list_free(l);
	return rc;
}

/* cfg_read_secret() reads the first line of path, trimmed, into *out. */
static enum su_rc
cfg_read_secret(const char *path, char **out, const char **why)
{
	enum su_rc rc = SU_EIO;
	char data[CFG_SECRET_FILE_MAX + 1];
	FILE *f = NULL;
	size_t n;
	char *s;

	*out = NULL;
	f = fopen(path, "r");
	if (f == NULL) {
		*why = strerror(errno);
		goto out;
	}
	n = fread(data, 1, CFG_SECRET_FILE_MAX, f);
	if (ferror(f)) {
		*why = "read error";
		goto out;
	}
	data[n] = '\0';
	data[strcspn(data, "\r\n")] = '\0';
	s = cfg_trim(data);
	rc = SU_EINVAL;
	if (s[0] == '\0') {
		*why = "the first line is empty";
		goto out;
	}
	rc = SU_ENOMEM;
	*out = strdup(s);
	if (*out == NULL)
		goto out;
	rc = SU_OK;
out:
	explicit_bzero(data, sizeof(data));
	if (f != NULL)
		fclose(f);
	return rc;
}

/*
 * cfg_apply_kv() parses one key's value into base (the struct cfg,
 * cfg_provider or cfg_context the key's table describes). Bad values are
 * reported, not returned; only SU_ENOMEM is returned.
 */
static enum su_rc
cfg_apply_kv(struct cfg_loader *L, void *base, const struct cfg_key *k, const struct cfg_kv *kv)
{
	enum su_rc rc = SU_OK;
	struct cfg *c = L->c;
	struct cfg_provider *p = base;
	struct cfg_context *x = base;
	char *field_base = base;
	const char *v = kv->value;
	const char *why = NULL;
	char *s = NULL;
	int64_t num;

	switch (k->type) {
	case CFG_V_STR:
		rc = cfg_set_str((char **)(void *)(field_base + k->off), v);
		break;
	case CFG_V_PATH:
		s = cfg_path_resolve(c->dir, v);
		if (s == NULL) {
			rc = SU_ENOMEM;
			break;
		}
		free(*(char **)(void *)(field_base + k->off));
		*(char **)(void *)(field_base + k->off) = s;
		s = NULL;
		break;
	case CFG_V_LIST:
		rc = cfg_set_list((cfg_list_t *)(void *)(field_base + k->off), v);
		break;
	case CFG_V_UINT:
		if (cfg_num(v, k->min, k->max, &num) != SU_OK)
			cfg_err(L, kv->line, "%s: '%s' is not a whole number from %lld to %lld", k->name,
				v, (long long)k->min, (long long)k->max);
		else
			*(unsigned *)(void *)(field_base + k->off) = (unsigned)num;
		break;
	case CFG_V_I64:
		if (cfg_num(v, k->min, k->max, &num) != SU_OK)
			cfg_err(L, kv->line, "%s: '%s' is not a whole number from %lld to %lld", k->name,
				v, (long long)k->min, (long long)k->max);
		else
			*(int64_t *)(void *)(field_base + k->off) = num;
		break;
	case CFG_V_URL:
		if (!cfg_url_ok(v))
			cfg_err(L, kv->line,
				"%s: '%s' is not an absolute http(s) URL without query or fragment",
				k->name, v);
		else
			rc = cfg_set_str((char **)(void *)(field_base + k->off), v);
		break;
	case CFG_V_LISTEN:
		rc = cfg_listen_parse(c, v);
		if (rc == SU_EINVAL) {
			cfg_err(L, kv->line, "listen: '%s' is not HOST:PORT or [IPV6]:PORT", v);
			rc = SU_OK;
		}
		break;
	case CFG_V_PUBLIC_URL:
		rc = returl_origin_normalise(v, &s);
		if (rc == SU_EINVAL) {
			cfg_err(L, kv->line,
				"public_url: '%s' is not an http(s) URL without path (http(s)://host[:port])",
				v);
			rc = SU_OK;
			break;
		}
		if (rc != SU_OK)
			break;
		rc = cfg_set_str(&c->public_url, v);
		if (rc != SU_OK)
			break;
		/* stored without the trailing slash */
		if (c->public_url[strlen(c->public_url) - 1] == '/')
			c->public_url[strlen(c->public_url) - 1] = '\0';
		c->public_https = strncmp(s, "https:", 6) == 0;
		break;
	case CFG_V_PROXIES:
		rc = cfg_apply_proxies(L, kv);
		break;
	case CFG_V_ORIGINS:
		rc = cfg_apply_origins(L, kv);
		break;
	case CFG_V_LOG_LEVEL:
		if (log_level_parse(v) < 0)
			cfg_err(L, kv->line, "log_level: '%s' is not error, warn, info or debug", v);
		else
			rc = cfg_set_str(&c->log_level, v);
		break;
	case CFG_V_POLICY:
		if (strcmp(v, "allow") == 0) {
			c->policy_default = CFG_DEFAULT_ALLOW;
		} else if (strcmp(v, "block") == 0) {
			c->policy_default = CFG_DEFAULT_BLOCK;
		} else if (strncmp(v, "step_up:", 8) == 0 && cfg_name_ok(v + 8)) {
			c->policy_default = CFG_DEFAULT_STEP_UP;
			rc = cfg_set_str(&c->policy_default_context, v + 8);
			L->policy_line = kv->line;
		} else {
			cfg_err(L, kv->line, "default: '%s' is not allow, block or step_up:<context>", v);
		}
		break;
	case CFG_V_PTYPE:
		if (strcmp(v, "oidc") == 0)
			p->type = CFG_PROVIDER_OIDC;
		else if (strcmp(v, "saml") == 0)
			p->type = CFG_PROVIDER_SAML;
		else
			cfg_err(L, kv->line, "type: '%s' is not oidc or saml", v);
		break;
	case CFG_V_TOKEN_AUTH:
		if (strcmp(v, "client_secret_basic") == 0)
			p->token_auth = CFG_AUTH_SECRET_BASIC;
		else if (strcmp(v, "client_secret_post") == 0)
			p->token_auth = CFG_AUTH_SECRET_POST;
		else if (strcmp(v, "private_key_jwt") == 0)
			p->token_auth = CFG_AUTH_PRIVATE_KEY_JWT;
		else
			cfg_err(L, kv->line,
				"token_auth: '%s' is not client_secret_basic, client_secret_post or private_key_jwt",
				v);
		break;
	case CFG_V_ALGS: {
		cfg_list_t l = NULL;
		bool bad = false;

		rc = cfg_list_split(v, &l);
		if (rc != SU_OK)
			break;
		for (size_t i = 0; l[i] != NULL; i++) {
			if (!cfg_alg_ok(l[i])) {
				cfg_err(L, kv->line,
					"id_token_alg: '%s' is not allowed (RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512)",
					l[i]);
				bad = true;
			}
		}
		if (bad) {
			cfg_list_free(l);
		} else {
			cfg_list_free(p->id_token_algs);
			p->id_token_algs = l;
		}
		break;
	}
	case CFG_V_SCOPE: {
		cfg_list_t l = NULL;
		bool has_openid = false;

		rc = cfg_list_split(v, &l);
		if (rc != SU_OK)
			break;
		for (size_t i = 0; l[i] != NULL; i++)
			if (strcmp(l[i], "openid") == 0)
				has_openid = true;
		cfg_list_free(l);
		if (!has_openid)
			cfg_err(L, kv->line, "scope: '%s' does not include openid", v);
		else
			rc = cfg_set_str(&p->scope, v);
		break;
	}
	case CFG_V_SECRET_FILE:
		s = cfg_path_resolve(c->dir, v);
		if (s == NULL) {
			rc = SU_ENOMEM;
			break;
		}
		{
			char *secret = NULL;
			char **field = (char **)(void *)(field_base + k->off);
			enum su_rc r = cfg_read_secret(s, &secret, &why);

			if (r == SU_ENOMEM) {
				rc = r;
				break;
			}
			if (r != SU_OK) {
				cfg_err(L, kv->line, "%s: cannot use %s: %s", k->name, s, why);
				break;
			}
			if (field == &c->alert_webhook_secret && strlen(secret) < CFG_HOOK_SECRET_MIN) {
				/* a short HMAC key can be guessed; receivers would trust forged alerts */
				cfg_err(L, kv->line, "%s: the secret in %s is shorter than %d characters",
					k->name, s, CFG_HOOK_SECRET_MIN);
				explicit_bzero(secret, strlen(secret));
				free(secret);
				break;
			}
			if (*field != NULL)
				explicit_bzero(*field, strlen(*field));
			free(*field);
			*field = secret;
		}
		break;
	case CFG_V_HOOK_URL:
		if (!cfg_hook_url_ok(v))
			cfg_err(L, kv->line,
				"%s: '%s' is not an absolute http(s) URL (no fragment, blank or control byte)",
				k->name, v);
		else
			rc = cfg_set_str((char **)(void *)(field_base + k->off), v);
		break;
	case CFG_V_SMTP_URL:
		if (!cfg_smtp_url_ok(v))
			cfg_err(L, kv->line, "%s: '%s' is not smtp://host[:port] or smtps://host[:port]",
				k->name, v);
		else
			rc = cfg_set_str((char **)(void *)(field_base + k->off), v);
		break;
	case CFG_V_DOMAIN:
		/* a DNS name: labels of letters, digits and '-', at least two of
		 * them (browsers refuse a cookie for a top-level domain) */
		if (v[0] == '.')
			v++;
		if (strlen(v) > 253 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != strlen(v) ||
		    strchr(v, '.') == NULL || strstr(v, "..") != NULL || v[strlen(v) - 1] == '.' || v[0] == '-')
			cfg_err(L, kv->line, "%s: '%s' is not a domain name like example.com", k->name, kv->value);
		else
			rc = cfg_set_str((char **)(void *)(field_base + k->off), v);
		break;
	case CFG_V_EMAIL:
		if (!smtp_address_ok(v))
			cfg_err(L, kv->line, "%s: '%s' is not a plain mail address (local@domain)",
				k->name, v);
		else
			rc = cfg_set_str((char **)(void *)(field_base + k->off), v);
		break;
	case CFG_V_COMPARISON:
		if (strcmp(v, "exact") == 0)
			x->comparison = CFG_CMP_EXACT;
		else if (strcmp(v, "minimum") == 0)
			x->comparison = CFG_CMP_MINIMUM;
		else if (strcmp(v, "maximum") == 0)
			x->comparison = CFG_CMP_MAXIMUM;
		else if (strcmp(v, "better") == 0)
			x->comparison = CFG_CMP_BETTER;
		else
			cfg_err(L, kv->line, "comparison: '%s' is not exact, minimum, maximum or better", v);
		break;
	}
	free(s);
	return rc;
}

/* cfg_key_find() returns the entry for name in keys, or NULL. */
static const struct cfg_key *
cfg_key_find(const struct cfg_key *keys, const char *name)
{
	for (size_t i = 0; keys[i].name != NULL; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* cfg_kv_find() returns section s's pair for key, or NULL. */
static const struct cfg_kv *
cfg_kv_find(const struct cfg_sec *s, const char *key)
{
	for (size_t i = 0; i < s->n_kv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

/* cfg_keys_of() returns the key table of a section kind. */
static const struct cfg_key *
cfg_keys_of(enum cfg_sec_kind kind)
{
	for (size_t i = 0; i < sizeof(cfg_sections) / sizeof(cfg_sections[0]); i++)
		if (cfg_sections[i].kind == kind)
			return cfg_sections[i].keys;
	return NULL;
}

/*
 * cfg_apply_section() applies every pair of s to base. forbits is the
 * provider type the keys must apply to (CFG_FOR_*), 0 to accept any.
 * Unknown and inapplicable keys are reported.
 */
static enum su_rc
cfg_apply_section(struct cfg_loader *L, const struct cfg_sec *s, void *base, unsigned forbits,
		  const char *forname)
{
	enum su_rc rc = SU_OK;
	const struct cfg_key *keys = cfg_keys_of(s->kind);
	char label[CFG_NAME_MAX + 32];

	cfg_sec_label(s, label, sizeof(label));
	for (size_t i = 0; i < s->n_kv && rc == SU_OK; i++) {
		const struct cfg_key *k = cfg_key_find(keys, s->kv[i].key);

		if (k == NULL) {
			cfg_err(L, s->kv[i].line, "unknown key '%s' in %s", s->kv[i].key, label);
			continue;
		}
		if (forbits != 0 && (k->applies & forbits) == 0) {
			cfg_err(L, s->kv[i].line, "key '%s' does not apply to %s (%s)", k->name, label,
				forname);
			continue;
		}
		rc = cfg_apply_kv(L, base, k, &s->kv[i]);
	}
	return rc;
}

/* cfg_require() reports key as missing from s unless s has it. */
static void
cfg_require(struct cfg_loader *L, const struct cfg_sec *s, const char *key)
{
	char label[CFG_NAME_MAX + 32];

	if (cfg_kv_find(s, key) != NULL)
		return;
	cfg_sec_label(s, label, sizeof(label));
	cfg_err(L, s->line, "%s: missing required key '%s'", label, key);
}

/* cfg_provider_build() fills p from section s: defaults, keys, required keys. */
static enum su_rc
cfg_provider_build(struct cfg_loader *L, const struct cfg_sec *s, struct cfg_provider *p)
{
	enum su_rc rc = SU_ENOMEM;
	const struct cfg_kv *type = cfg_kv_find(s, "type");
	const struct cfg_kv *ta;
	unsigned forbits = 0;
	const char *forname = NULL;

	p->line = s->line;
	p->name = strdup(s->name);
	if (p->name == NULL)
		goto out;
	p->token_auth = CFG_AUTH_SECRET_BASIC;
	/* the type decides which keys apply, so it is read first */
	if (type != NULL && strcmp(type->value, "oidc") == 0) {
		forbits = CFG_FOR_OIDC;
		forname = "an oidc provider";
		p->subject_claim = strdup("sub");
		p->scope = strdup("openid");
		p->id_token_algs = calloc(2, sizeof(char *));
		if (p->subject_claim == NULL || p->scope == NULL || p->id_token_algs == NULL)
			goto out;
		p->id_token_algs[0] = strdup("RS256");
		if (p->id_token_algs[0] == NULL)
			goto out;
	} else if (type != NULL && strcmp(type->value, "saml") == 0) {
		forbits = CFG_FOR_SAML;
		forname = "a saml provider";
	}
	if (s->kv != NULL && cfg_kv_find(s, "client_secret") != NULL &&
	    cfg_kv_find(s, "client_secret_file") != NULL)
		cfg_err(L, cfg_kv_find(s, "client_secret_file")->line,
			"client_secret and client_secret_file are both set; use one");
	rc = cfg_apply_section(L, s, p, forbits, forname);
	if (rc != SU_OK)
		goto out;
	cfg_require(L, s, "type");
	if (p->type == CFG_PROVIDER_OIDC) {
		cfg_require(L, s, "issuer");
		cfg_require(L, s, "client_id");
		ta = cfg_kv_find(s, "token_auth");
		if (p->token_auth == CFG_AUTH_PRIVATE_KEY_JWT && p->private_key_file == NULL)
			cfg_err(L, ta ? ta->line : s->line,
				"[provider \"%s\"]: token_auth private_key_jwt needs private_key_file",
				p->name);
		if (p->token_auth != CFG_AUTH_PRIVATE_KEY_JWT && p->client_secret == NULL &&
		    cfg_kv_find(s, "client_secret_file") == NULL)
			cfg_err(L, ta ? ta->line : s->line,
				"[provider \"%s\"]: token_auth %s needs client_secret or client_secret_file",
				p->name,
				p->token_auth == CFG_AUTH_SECRET_POST ? "client_secret_post"
								    : "client_secret_basic");
	} else if (p->type == CFG_PROVIDER_SAML) {
		cfg_require(L, s, "metadata_file");
		cfg_require(L, s, "sp_entity_id");
		cfg_require(L, s, "sp_key_file");
		cfg_require(L, s, "sp_cert_file");
	}
	rc = SU_OK;
out:
	return rc;
}

/* cfg_context_build() fills x from section s, checking it against its provider. */
static enum su_rc
cfg_context_build(struct cfg_loader *L, const struct cfg_sec *s, struct cfg_context *x)
{
	enum su_rc rc = SU_ENOMEM;
	const struct cfg_kv *pk = cfg_kv_find(s, "provider");
	const struct cfg_provider *p = NULL;
	unsigned forbits = 0;
	const char *forname = NULL;

	x->line = s->line;
	x->name = strdup(s->name);
	if (x->name == NULL)
		goto out;
	if (strcmp(x->name, CFG_ADMIN_CONTEXT) == 0)
		cfg_err(L, s->line, "[context \"%s\"]: this name is reserved for the admin sign-in",
			x->name);
	x->comparison = CFG_CMP_EXACT;
	x->max_age = 0;
	x->lifetime = 600;
	if (pk != NULL) {
		p = cfg_provider_find(L->c, pk->value);
		if (p == NULL)
			cfg_err(L, pk->line, "[context \"%s\"]: unknown provider \"%s\"", x->name,
				pk->value);
	}
	if (p != NULL && p->type == CFG_PROVIDER_OIDC) {
		forbits = CFG_FOR_OIDC;
		forname = "a context of an oidc provider";
	} else if (p != NULL && p->type == CFG_PROVIDER_SAML) {
		forbits = CFG_FOR_SAML;
		forname = "a context of a saml provider";
	}
	rc = cfg_apply_section(L, s, x, forbits, forname);
	if (rc != SU_OK)
		goto out;
	x->provider = p;
	cfg_require(L, s, "provider");
	if (p != NULL && p->type == CFG_PROVIDER_OIDC && cfg_kv_find(s, "acrs") == NULL &&
	    cfg_kv_find(s, "acr") == NULL)
		cfg_err(L, s->line, "[context \"%s\"]: an oidc context needs acrs or acr", x->name);
	if (p != NULL && p->type == CFG_PROVIDER_SAML)
		cfg_require(L, s, "class_refs");
	rc = SU_OK;
out:
	return rc;
}

/* cfg_defaults() sets every default of SPEC section 3 on c (c->dir is set). */
static enum su_rc
cfg_defaults(struct cfg *c)
{
	enum su_rc rc = SU_ENOMEM;

	c->listen_host = strdup("127.0.0.1");
	c->listen_port = 8080;
	c->public_url = strdup("http://127.0.0.1:8080");
	c->public_https = false;
	c->allowed_return_origins = calloc(1, sizeof(char *));
	c->max_connections = 1024;
	c->connection_timeout = 30;
	c->threads = 2;
	c->idp_timeout = 10;
	c->log_level = strdup("info");
	c->db_path = cfg_path_resolve(c->dir, "var/stepupd.db");
	c->secret_key_file = cfg_path_resolve(c->dir, "var/secret.key");
	c->api_key_file = NULL;
	c->policy_default = CFG_DEFAULT_ALLOW;
	c->alert_webhook_timeout = 10;
	c->alert_smtp_timeout = 30;
	c->alert_retry_min = 5;
	c->alert_retry_max = 86400;
	c->admin_group_claim = strdup("groups");
	c->admin_session_idle = 1800;
	c->admin_session_max = 28800;
	c->admin_throttle_base = 60;
	if (c->admin_group_claim == NULL || c->listen_host == NULL || c->public_url == NULL || c->allowed_return_origins == NULL ||
	    c->log_level == NULL || c->db_path == NULL || c->secret_key_file == NULL)
		goto out;
	rc = SU_OK;
out:
	return rc;
}

/* cfg_dir_of() returns the absolute directory of path (malloc'd), or NULL. */
static char *
cfg_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL, *abs = NULL;

	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		goto out;
	abs = realpath(dir, NULL);
out:
	free(dir);
	return abs;
}

/* cfg_read_file() reads path (at most CFG_FILE_MAX bytes) into a malloc'd,
 * NUL-terminated *data. */
static enum su_rc
cfg_read_file(const char *path, char **data, size_t *len, const char **why)
{
	enum su_rc rc = SU_EIO;
	FILE *f = NULL;
	struct buf b;
	char chunk[8192];
	size_t n;

	buf_init(&b, CFG_FILE_MAX);
	*data = NULL;
	f = fopen(path, "r");
	if (f == NULL) {
		*why = strerror(errno);
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = buf_append(&b, chunk, n);
		if (rc == SU_ETOOBIG) {
			*why = "file larger than 1 MiB";
			rc = SU_EINVAL;
		}
		if (rc != SU_OK)
			goto out;
	}
	rc = SU_EIO;
	if (ferror(f)) {
		*why = "read error";
		goto out;
	}
	*len = b.len;
	*data = buf_steal(&b);
	rc = *data ? SU_OK : SU_ENOMEM;
out:
	if (f != NULL)
		fclose(f);
	buf_cleanup(&b);
	return rc;
}

/* cfg_loader_cleanup() frees what the loader holds (not L->c). */
static void
cfg_loader_cleanup(struct cfg_loader *L)
{
	for (size_t i = 0; i < L->n_secs; i++) {
		for (size_t k = 0; k < L->secs[i].n_kv; k++) {
			free(L->secs[i].kv[k].key);
			if (L->secs[i].kv[k].value != NULL)
				explicit_bzero(L->secs[i].kv[k].value, strlen(L->secs[i].kv[k].value));
			free(L->secs[i].kv[k].value);
		}
		free(L->secs[i].kv);
		free(L->secs[i].name);
	}
	free(L->secs);
	for (size_t i = 0; i < L->n_errs; i++)
		free(L->errs[i].msg);
	free(L->errs);
}

/*
 * cfg_alerts_check() checks the [alerts] keys that only make sense
 * together: a webhook is always signed (webhook_url needs
 * webhook_secret_file), mail needs a sender, SMTP credentials come in
 * pairs, and the retry bounds are ordered.
 */
static void
cfg_alerts_check(struct cfg_loader *L, const struct cfg_sec *s)
{
	const struct cfg *c = L->c;
	const struct cfg_kv *kv;

	if (c->alert_webhook_url != NULL && cfg_kv_find(s, "webhook_secret_file") == NULL)
		cfg_err(L, cfg_kv_find(s, "webhook_url")->line,
			"[alerts]: webhook_url needs webhook_secret_file (alerts are always signed)");
	kv = cfg_kv_find(s, "webhook_secret_file");
	if (kv != NULL && cfg_kv_find(s, "webhook_url") == NULL)
		cfg_err(L, kv->line, "[alerts]: webhook_secret_file without webhook_url");
	if (c->alert_smtp_url != NULL && cfg_kv_find(s, "smtp_from") == NULL)
		cfg_err(L, cfg_kv_find(s, "smtp_url")->line, "[alerts]: smtp_url needs smtp_from");
	kv = cfg_kv_find(s, "smtp_username");
	if (kv != NULL && cfg_kv_find(s, "smtp_password_file") == NULL)
		cfg_err(L, kv->line, "[alerts]: smtp_username needs smtp_password_file");
	kv = cfg_kv_find(s, "smtp_password_file");
	if (kv != NULL && cfg_kv_find(s, "smtp_username") == NULL)
		cfg_err(L, kv->line, "[alerts]: smtp_password_file needs smtp_username");
	if ((cfg_kv_find(s, "smtp_from") != NULL || cfg_kv_find(s, "smtp_username") != NULL) &&
	    cfg_kv_find(s, "smtp_url") == NULL)
		cfg_err(L, s->line, "[alerts]: smtp_from and smtp_username need smtp_url");
	kv = cfg_kv_find(s, "retry_min");
	if (c->alert_retry_min > c->alert_retry_max)
		cfg_err(L, kv != NULL ? kv->line : s->line,
			"[alerts]: retry_min (%u) is larger than retry_max (%u)", c->alert_retry_min,
			c->alert_retry_max);
}

/*
 * cfg_admin_check() checks [admin]: provider names an oidc provider and
 * comes with groups, the session bounds are ordered; it fills the admin
 * sign-in's context (no acr asked or checked, always a fresh login).
 */
static enum su_rc
cfg_admin_check(struct cfg_loader *L, const struct cfg_sec *s)
{
	struct cfg *c = L->c;
	const struct cfg_kv *kv = cfg_kv_find(s, "provider");
	const struct cfg_provider *p = NULL;

	if (kv != NULL) {
		p = cfg_provider_find(c, kv->value);
		if (p == NULL)
			cfg_err(L, kv->line, "[admin]: unknown provider \"%s\"", kv->value);
		else if (p->type != CFG_PROVIDER_OIDC)
			cfg_err(L, kv->line, "[admin]: provider \"%s\" is not an oidc provider",
				kv->value);
		if (c->admin_groups == NULL || c->admin_groups[0] == NULL)
			cfg_err(L, kv->line, "[admin]: provider needs groups (who counts as an admin)");
	} else if (cfg_kv_find(s, "groups") != NULL) {
		cfg_err(L, cfg_kv_find(s, "groups")->line, "[admin]: groups without provider");
	}
	if (c->admin_session_idle > c->admin_session_max)
		cfg_err(L, s->line, "[admin]: session_idle (%lld) is larger than session_max (%lld)",
			(long long)c->admin_session_idle, (long long)c->admin_session_max);
	if (p == NULL || p->type != CFG_PROVIDER_OIDC)
		return SU_OK;
	c->admin_context.name = strdup(CFG_ADMIN_CONTEXT);
	c->admin_context.provider_name = strdup(p->name);
	if (c->admin_context.name == NULL || c->admin_context.provider_name == NULL)
		return SU_ENOMEM;
	c->admin_context.line = s->line;
	c->admin_context.provider = p;
	c->admin_context.comparison = CFG_CMP_EXACT;
	c->admin_context.max_age = 0;
	c->admin_context.lifetime = c->admin_session_max;
	return SU_OK;
}

/*
 * cfg_build() turns the lexed sections into L->c: global sections and
 * providers first, then contexts (which need their provider), then the
 * policy's default context.
 */
static enum su_rc
cfg_build(struct cfg_loader *L)
{
	enum su_rc rc = SU_ENOMEM;
	struct cfg *c = L->c;
	size_t np = 0, nx = 0;

	for (size_t i = 0; i < L->n_secs; i++) {
		if (L->secs[i].ignored)
			continue;
		if (L->secs[i].kind == CFG_SEC_PROVIDER)
			np++;
		else if (L->secs[i].kind == CFG_SEC_CONTEXT)
			nx++;
	}
	c->providers = calloc(np ? np : 1, sizeof(*c->providers));
	c->contexts = calloc(nx ? nx : 1, sizeof(*c->contexts));
	if (c->providers == NULL || c->contexts == NULL)
		goto out;
	for (size_t i = 0; i < L->n_secs; i++) {
		const struct cfg_sec *s = &L->secs[i];

		if (s->ignored || s->kind == CFG_SEC_CONTEXT)
			continue;
		if (s->kind == CFG_SEC_PROVIDER) {
			rc = cfg_provider_build(L, s, &c->providers[c->n_providers]);
			c->n_providers++;
		} else {
			rc = cfg_apply_section(L, s, c, 0, NULL);
		}
		if (rc != SU_OK)
			goto out;
	}
	for (size_t i = 0; i < L->n_secs; i++) {
		const struct cfg_sec *s = &L->secs[i];

		if (s->ignored || s->kind != CFG_SEC_CONTEXT)
			continue;
		rc = cfg_context_build(L, s, &c->contexts[c->n_contexts]);
		c->n_contexts++;
		if (rc != SU_OK)
			goto out;
	}
	for (size_t i = 0; i < L->n_secs; i++)
		if (!L->secs[i].ignored && L->secs[i].kind == CFG_SEC_ALERTS)
			cfg_alerts_check(L, &L->secs[i]);
	for (size_t i = 0; i < L->n_secs; i++)
		if (!L->secs[i].ignored && L->secs[i].kind == CFG_SEC_ADMIN) {
			rc = cfg_admin_check(L, &L->secs[i]);
			if (rc != SU_OK)
				goto out;
		}
	if (c->policy_default == CFG_DEFAULT_STEP_UP &&
	    cfg_context_find(c, c->policy_default_context) == NULL)
		cfg_err(L, L->policy_line, "default: step_up names unknown context \"%s\"",
			c->policy_default_context);
	rc = SU_OK;
out:
	return rc;
}

/* cfg_load(): see cfg.h. */
enum su_rc
cfg_load(const char *path, struct cfg **out, char **errs)
{
	enum su_rc rc = SU_EINVAL;
	struct cfg_loader L;
	struct cfg *c = NULL;
	char *data = NULL;
	size_t len = 0;
	const char *why = NULL;

	memset(&L, 0, sizeof(L));
	if (errs != NULL)
		*errs = NULL;
	if (out == NULL || path == NULL)
		goto out;
	*out = NULL;
	L.path = path;
	rc = SU_ENOMEM;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto out;
	L.c = c;
	c->path = strdup(path);
	if (c->path == NULL)
		goto out;
	rc = cfg_read_file(path, &data, &len, &why);
	if (rc != SU_OK) {
		if (rc != SU_ENOMEM)
			cfg_err(&L, 0, "cannot read: %s", why);
		goto out;
	}
	c->dir = cfg_dir_of(path);
	if (c->dir == NULL) {
		rc = SU_EIO;
		cfg_err(&L, 0, "cannot resolve the directory of the file: %s", strerror(errno));
		goto out;
	}
	rc = cfg_defaults(c);
	if (rc != SU_OK)
		goto out;
	rc = cfg_lex(&L, data, len);
	if (rc != SU_OK)
		goto out;
	rc = cfg_build(&L);
	if (rc != SU_OK)
		goto out;
	if (L.oom) {
		rc = SU_ENOMEM;
		goto out;
	}
	if (L.n_errs > 0) {
		rc = SU_EINVAL;
		goto out;
	}
	*out = c;
	c = NULL;
	rc = SU_OK;
out:
	if (errs != NULL && (L.n_errs > 0 || L.oom))
		cfg_errs_render(&L, errs);
	cfg_loader_cleanup(&L);
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	cfg_free(c);
	return rc;
}

/* cfg_provider_cleanup() frees what p owns. */
static void
cfg_provider_cleanup(struct cfg_provider *p)
{
	free(p->name);
	free(p->issuer);
	free(p->client_id);
	if (p->client_secret != NULL)
		explicit_bzero(p->client_secret, strlen(p->client_secret));
	free(p->client_secret);
	free(p->private_key_file);
	free(p->private_key_kid);
	free(p->subject_claim);
	cfg_list_free(p->id_token_algs);
	free(p->scope);
	free(p->ca_file);
	free(p->metadata_file);
	free(p->sp_entity_id);
	free(p->sp_key_file);
	free(p->sp_cert_file);
	cfg_list_free(p->class_ref_order);
	free(p->subject_attribute);
}

/* cfg_context_cleanup() frees what x owns. */
static void
cfg_context_cleanup(struct cfg_context *x)
{
	free(x->name);
	free(x->provider_name);
	cfg_list_free(x->acrs);
	cfg_list_free(x->acr);
	cfg_list_free(x->class_refs);
}

/* cfg_free(): frees c and everything it owns; NULL is a no-op. */
void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_contexts; i++)
		cfg_context_cleanup(&c->contexts[i]);
	free(c->contexts);
	for (size_t i = 0; i < c->n_providers; i++)
		cfg_provider_cleanup(&c->providers[i]);
	free(c->providers);
	cfg_context_cleanup(&c->admin_context);
	free(c->admin_provider);
	free(c->admin_group_claim);
	cfg_list_free(c->admin_groups);
	free(c->policy_default_context);
	free(c->alert_webhook_url);
	if (c->alert_webhook_secret != NULL)
		explicit_bzero(c->alert_webhook_secret, strlen(c->alert_webhook_secret));
	free(c->alert_webhook_secret);
	free(c->alert_smtp_url);
	free(c->alert_smtp_from);
	free(c->alert_smtp_username);
	if (c->alert_smtp_password != NULL)
		explicit_bzero(c->alert_smtp_password, strlen(c->alert_smtp_password));
	free(c->alert_smtp_password);
	free(c->alert_ca_file);
	free(c->api_key_file);
	free(c->secret_key_file);
	free(c->db_path);
	free(c->log_level);
	free(c->cookie_domain);
	cfg_list_free(c->allowed_return_origins);
	free(c->trusted_proxies);
	free(c->public_url);
	free(c->listen_host);
	free(c->dir);
	free(c->path);
	free(c);
}

/* cfg_context_find(): see cfg.h; borrows c. */
const struct cfg_context *
cfg_context_find(const struct cfg *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_contexts; i++)
		if (c->contexts[i].name != NULL && strcmp(c->contexts[i].name, name) == 0)
			return &c->contexts[i];
	return NULL;
}

/* cfg_provider_find(): see cfg.h; borrows c. */
const struct cfg_provider *
cfg_provider_find(const struct cfg *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_providers; i++)
		if (c->providers[i].name != NULL && strcmp(c->providers[i].name, name) == 0)
			return &c->providers[i];
	return NULL;
}

/* the first 12 bytes of an IPv4-mapped IPv6 address, ::ffff:a.b.c.d */
static const unsigned char cfg_v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* cfg_cidr_mask() clears the bits of addr (len bytes) after prefix. */
static void
cfg_cidr_mask(unsigned char *addr, size_t len, int prefix)
{
	for (size_t i = 0; i < len; i++) {
		int keep = prefix - (int)(i * 8);

		if (keep >= 8)
			continue;
		addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
}

/* cfg_cidr_parse(): see cfg.h. Host bits after the prefix are cleared; an
 * IPv4-mapped IPv6 range of prefix >= 96 is stored as the IPv4 range. */
enum su_rc
cfg_cidr_parse(const char *s, struct cfg_cidr *out)
{
	enum su_rc rc = SU_EINVAL;
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t alen;
	int64_t prefix = -1;
	struct cfg_cidr r;

	memset(&r, 0, sizeof(r));
	if (s == NULL || out == NULL)
		goto out;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr))
		goto out;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (slash != NULL && (strlen(slash + 1) > 3 || cfg_num(slash + 1, 0, 128, &prefix) != SU_OK))
		goto out;
	if (inet_pton(AF_INET, addr, r.addr) == 1) {
		r.family = AF_INET;
		if (prefix > 32)
			goto out;
		r.prefix = prefix < 0 ? 32 : (int)prefix;
	} else if (inet_pton(AF_INET6, addr, r.addr) == 1) {
		r.family = AF_INET6;
		r.prefix = prefix < 0 ? 128 : (int)prefix;
		if (memcmp(r.addr, cfg_v4mapped, sizeof(cfg_v4mapped)) == 0 && r.prefix >= 96) {
			memmove(r.addr, r.addr + 12, 4);
			memset(r.addr + 4, 0, 12);
			r.family = AF_INET;
			r.prefix -= 96;
		}
	} else {
		goto out;
	}
	cfg_cidr_mask(r.addr, r.family == AF_INET ? 4 : 16, r.prefix);
	*out = r;
	rc = SU_OK;
out:
	return rc;
}

/* cfg_cidr_match(): see cfg.h. An IPv4-mapped IPv6 socket address is
 * matched as the IPv4 address it carries. */
bool
cfg_cidr_match(const struct cfg_cidr *r, const struct sockaddr *sa)
{
	unsigned char a[16];
	int family;
	size_t len;

	if (r == NULL || sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		memcpy(a, &in->sin_addr, 4);
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(a, &in6->sin6_addr, 16);
		family = AF_INET6;
		if (memcmp(a, cfg_v4mapped, sizeof(cfg_v4mapped)) == 0) {
			memmove(a, a + 12, 4);
			family = AF_INET;
		}
	} else {
		return false;
	}
	if (family != r->family)
		return false;
	len = family == AF_INET ? 4 : 16;
	if (r->prefix < 0 || (size_t)r->prefix > len * 8)
		return false;
	cfg_cidr_mask(a, len, r->prefix);
	return memcmp(a, r->addr, len) == 0;
}

/* cfg_is_trusted_proxy(): see cfg.h; borrows c and sa. */
bool
cfg_is_trusted_proxy(const struct cfg *c, const struct sockaddr *sa)
{
	if (c == NULL || sa == NULL)
		return false;
	for (size_t i = 0; i < c->n_trusted_proxies; i++)
		if (cfg_cidr_match(&c->trusted_proxies[i], sa))
			return true;
	return false;
}
