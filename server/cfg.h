/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cfg.h: stepupd.conf, parsed and validated once into an immutable
 * struct cfg. Every error names FILE:LINE. After cfg_load() succeeds,
 * nothing writes to the struct; worker threads read it freely.
 *
 * The key names are a contract (SPEC section 3); see docs/configuration.md.
 */
#ifndef STEPUPD_CFG_H
#define STEPUPD_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"

/* a NULL-terminated array of strings, e.g. a space-separated list value */
typedef char **cfg_list_t;

enum cfg_provider_type { CFG_PROVIDER_OIDC = 1, CFG_PROVIDER_SAML };
enum cfg_token_auth { CFG_AUTH_SECRET_BASIC = 1, CFG_AUTH_SECRET_POST, CFG_AUTH_PRIVATE_KEY_JWT };
enum cfg_comparison { CFG_CMP_EXACT = 1, CFG_CMP_MINIMUM, CFG_CMP_MAXIMUM, CFG_CMP_BETTER };
enum cfg_default_action { CFG_DEFAULT_ALLOW = 1, CFG_DEFAULT_BLOCK, CFG_DEFAULT_STEP_UP };

/* the reserved context name of an admin console sign-in through OIDC */
#define CFG_ADMIN_CONTEXT "__admin__"

struct cfg_cidr {
	int family;            /* AF_INET or AF_INET6 */
	unsigned char addr[16];/* network address, network byte order (first 4 used for v4) */
	int prefix;            /* 0..32 or 0..128 */
};

struct cfg_provider {
	char *name;                  /* the section name: [provider "NAME"] */
	int line;                    /* line of the section header */
	enum cfg_provider_type type;
	/* oidc */
	char *issuer;                /* exact issuer; discovery at issuer + /.well-known/openid-configuration */
	char *client_id;
	char *client_secret;         /* from client_secret or the first line of client_secret_file */
	char *private_key_file;      /* absolute path (PEM), for private_key_jwt */
	char *private_key_kid;       /* key id put in the client assertion header (optional) */
	enum cfg_token_auth token_auth; /* default client_secret_basic */
	char *subject_claim;         /* default "sub" */
	cfg_list_t id_token_algs;    /* default { "RS256" }; never none, never HS* */
	char *scope;                 /* default "openid" */
	char *ca_file;               /* absolute path, optional: trust anchors for https to the OP */
	/* saml */
	char *metadata_file;         /* absolute path */
	char *sp_entity_id;
	char *sp_key_file;           /* absolute path */
	char *sp_cert_file;          /* absolute path */
	cfg_list_t class_ref_order;  /* weakest first */
	char *subject_attribute;     /* NULL: the NameID */
};

struct cfg_context {
	char *name;                  /* [context "NAME"] */
	int line;
	char *provider_name;
	const struct cfg_provider *provider; /* resolved after parsing */
	cfg_list_t acrs;             /* Entra style; NULL when unset */
	cfg_list_t acr;              /* standard; NULL when unset */
	cfg_list_t class_refs;       /* saml */
	enum cfg_comparison comparison; /* saml, default exact */
	int64_t max_age;             /* default 0 (always a fresh login) */
	int64_t lifetime;            /* default 600 */
};

struct cfg {
	char *path;                  /* the config file as given */
	char *dir;                   /* its directory; relative paths resolve against it */
	/* [server] */
	char *listen_host;           /* from listen = HOST:PORT (IPv6 as [::1]:PORT); default 127.0.0.1 */
	uint16_t listen_port;        /* default 8080 */
	char *public_url;            /* no trailing slash; default http://127.0.0.1:8080 */
	bool public_https;           /* public_url is https: cookies get Secure */
	struct cfg_cidr *trusted_proxies; size_t n_trusted_proxies;
	cfg_list_t allowed_return_origins; /* normalised "scheme://host:port" strings */
	unsigned max_connections;    /* default 1024 */
	unsigned connection_timeout; /* seconds, default 30 */
	unsigned threads;            /* worker threads, default 2 */
	unsigned idp_timeout;        /* seconds for each outbound call to an IdP, default 10 */
	char *cookie_domain;         /* Domain of the stepup_session cookie; NULL: host-only */
	char *log_level;             /* default "info" */
	/* [database] */
	char *db_path;               /* absolute; default <dir>/var/stepupd.db */
	/* [secrets] */
	char *secret_key_file;       /* absolute; default <dir>/var/secret.key */
	/* [api] */
	char *api_key_file;          /* absolute; NULL: no API keys, /api/v1 answers 401 */
	/* [policy] */
	enum cfg_default_action policy_default; /* default allow */
	char *policy_default_context;           /* for step_up:<context> */
	/* [alerts] (docs/alerts.md): where policy alerts go */
	char *alert_webhook_url;     /* http(s) URL; NULL: no webhook */
	char *alert_webhook_secret;  /* HMAC-SHA256 key: first line of webhook_secret_file */
	char *alert_smtp_url;        /* smtp://host[:port] or smtps://host[:port]; NULL: no email */
	char *alert_smtp_from;       /* envelope and From: address */
	char *alert_smtp_username;   /* NULL: no SMTP AUTH */
	char *alert_smtp_password;   /* first line of smtp_password_file */
	char *alert_ca_file;         /* absolute path, optional: trust anchors for https / smtps */
	unsigned alert_webhook_timeout; /* seconds per webhook call, default 10 */
	unsigned alert_smtp_timeout;    /* seconds per SMTP session, default 30 */
	unsigned alert_retry_min;    /* seconds before the first retry, default 5 */
	unsigned alert_retry_max;    /* longest wait between retries, default 86400 */
	/* [admin] (docs/admin.md): who may sign in to the admin console */
	char *admin_provider;        /* an oidc provider for admin sign-in; NULL: local accounts only */
	char *admin_group_claim;     /* default "groups" */
	cfg_list_t admin_groups;     /* the claim must contain one; required with admin_provider */
	int64_t admin_session_idle;  /* seconds, default 1800 */
	int64_t admin_session_max;   /* seconds, default 28800 */
	int64_t admin_throttle_base; /* seconds, default 60: the first wait after 5 failed sign-ins */
	/* the admin OIDC flow's context (name CFG_ADMIN_CONTEXT, no acr, max_age
	 * 0); provider NULL without admin_provider. cfg_context_find() never
	 * returns it, and no [context] may take its name. */
	struct cfg_context admin_context;
	/* providers and contexts, in file order */
	struct cfg_provider *providers; size_t n_providers;
	struct cfg_context *contexts; size_t n_contexts;
};

/*
 * cfg_load() reads and validates path. On success *out is a new struct cfg
 * the caller frees with cfg_free(). On failure it returns SU_EINVAL (or
 * SU_EIO/SU_ENOMEM) and has written every error it found, one per line as
 * "FILE:LINE: message", to errs (a malloc'd string the caller frees; may
 * be NULL-checked). It checks every key, every value, required keys, and
 * that each context names a provider that exists.
 */
enum su_rc cfg_load(const char *path, struct cfg **out, char **errs);
void cfg_free(struct cfg *c);

/* cfg_context_find() / cfg_provider_find() look up by name; NULL if none. */
const struct cfg_context *cfg_context_find(const struct cfg *c, const char *name);
const struct cfg_provider *cfg_provider_find(const struct cfg *c, const char *name);

/* cfg_cidr_parse() parses "10.0.0.0/8", "::1/128" or a bare address (full prefix). */
enum su_rc cfg_cidr_parse(const char *s, struct cfg_cidr *out);
/* cfg_cidr_match() says whether the sockaddr's address lies in the range. */
struct sockaddr;
bool cfg_cidr_match(const struct cfg_cidr *r, const struct sockaddr *sa);
/* cfg_is_trusted_proxy() says whether sa is in trusted_proxies. */
bool cfg_is_trusted_proxy(const struct cfg *c, const struct sockaddr *sa);

#endif
