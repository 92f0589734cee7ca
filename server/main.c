/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * main.c: the command line (SPEC 4): stepupd [-c FILE] [serve |
 * check-config | policy import FILE | policy export | session list |
 * session revoke ID | admin passwd NAME | admin remove NAME | admin list |
 * version]. `serve` loads and checks everything before
 * it listens (config, secret key, API keys, templates, database
 * migrations), then waits for SIGTERM/SIGINT and stops cleanly.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adminpw.h"
#include "app.h"
#include "cfg.h"
#include "events.h"
#include "handlers.h"
#include "http.h"
#include "httpc.h"
#include "idp.h"
#include "log.h"
#include "policy.h"
#include "saml.h"
#include "store.h"
#include "store_admin.h"
#include "store_policy.h"
#include "tmpl.h"
#include "xcrypt.h"

#ifndef STEPUPD_VERSION
#define STEPUPD_VERSION "0.1.0"
#endif
#ifndef STEPUPD_DATADIR
#define STEPUPD_DATADIR "/usr/local/share/stepupd"
#endif

static void
usage(void)
{
	fprintf(stderr, "usage: stepupd [-c FILE] [serve | check-config | policy import FILE | policy export |\n"
			"               session list | session revoke ID | admin passwd NAME |\n"
			"               admin remove NAME | admin list | version]\n");
}

static bool
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* find_datadir() finds the directory holding templates/ and db/: $STEPUPD_DATADIR,
 * the source tree the binary was built in (its directory or its parent),
 * then the installed location. */
static char *
find_datadir(void)
{
	char exe[PATH_MAX], cand[PATH_MAX + 32];
	const char *env = getenv("STEPUPD_DATADIR");
	ssize_t n;

	if (env != NULL)
		return strdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		for (int up = 0; up < 2; up++) {
			slash = strrchr(exe, '/');
			if (slash == NULL)
				break;
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/templates", exe);
			if (is_dir(cand)) {
				snprintf(cand, sizeof(cand), "%s/db/migrations", exe);
				if (is_dir(cand))
					return strdup(exe);
			}
		}
	}
	return strdup(STEPUPD_DATADIR);
}

/* parent_dir_make() creates the directory holding path (and its parents,
 * mode 0700) when it does not exist yet: a fresh install's ./var/. */
static void
parent_dir_make(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return;
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return;
		*p = '/';
	}
}

static int
load_config(const char *path, struct cfg **c)
{
	char *errs = NULL;

	if (cfg_load(path, c, &errs) != SU_OK) {
		fprintf(stderr, "%s", errs ? errs : "configuration error\n");
		free(errs);
		return 1;
	}
	free(errs);
	return 0;
}

static int
open_store(struct app *a, struct store **st)
{
	if (store_open(a->cfg->db_path, a->migrations_dir, st) != SU_OK) {
		fprintf(stderr, "cannot open database %s\n", a->cfg->db_path);
		return 1;
	}
	return 0;
}

static int
cmd_session(struct app *a, int argc, char **argv)
{
	struct store *st = NULL;
	int rv = 1;

	if (argc < 1) {
		usage();
		return 2;
	}
	if (open_store(a, &st) != 0)
		return 1;
	if (strcmp(argv[0], "list") == 0) {
		struct store_session_row *v = NULL;
		size_t n = 0;

		if (store_session_list(st, (int64_t)time(NULL), &v, &n) != SU_OK)
			goto out;
		printf("%-64s  %-24s %-10s %s\n", "SESSION (SHA-256)", "USER", "ACTIVE", "LAST ELEVATED");
		for (size_t i = 0; i < n; i++)
			printf("%-64s  %-24s %-10d %lld\n", v[i].session_hash, v[i].user ? v[i].user : "-",
			       v[i].active_elevations, (long long)v[i].last_elevated_at);
		store_session_list_free(v, n);
		rv = 0;
	} else if (strcmp(argv[0], "revoke") == 0 && argc == 2) {
		char hash[65];
		int count = 0;
		size_t len = strlen(argv[1]);

		/* the id itself, or the SHA-256 that `session list` shows */
		xcrypt_sha256_hex(argv[1], hash);
		if (store_session_revoke(st, hash, (int64_t)time(NULL), &count) != SU_OK)
			goto out;
		if (count == 0 && len == 64 && strspn(argv[1], "0123456789abcdef") == 64 &&
		    store_session_revoke(st, argv[1], (int64_t)time(NULL), &count) != SU_OK)
			goto out;
		store_audit(st, (int64_t)time(NULL), "revoke", count ? hash : NULL, NULL, NULL, NULL, "ok",
			    "revoked from the command line");
		printf("%d elevation(s) revoked\n", count);
		rv = 0;
	} else {
		usage();
		rv = 2;
	}
out:
	store_close(st);
	return rv;
}

/* cmd_admin() manages local admin accounts (docs/admin.md): `passwd NAME`
 * reads the new password as one line from stdin (no echo on a terminal;
 * never printed or logged), `remove NAME`, `list`. */
static int
cmd_admin(struct app *a, int argc, char **argv)
{
	struct store *st = NULL;
	char pw[ADMINPW_MAX_LEN + 2], hash[ADMINPW_ENCODED_MAX];
	int rv = 1;
	bool created = false;
	enum su_rc rc;

	if (argc < 1 || (strcmp(argv[0], "list") == 0 ? argc != 1 : argc != 2)) {
		usage();
		return 2;
	}
	if (argc == 2 && !h_text_valid(argv[1], 256)) {
		fprintf(stderr, "stepupd: an admin name is 1 to 256 characters without control characters\n");
		return 2;
	}
	if (strcmp(argv[0], "passwd") == 0) {
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "New password for %s (at least %d characters): ", argv[1],
				ADMINPW_MIN_LEN);
		rc = adminpw_read(stdin, pw, sizeof(pw));
		if (rc != SU_OK || strlen(pw) > ADMINPW_MAX_LEN || !adminpw_acceptable(pw)) {
			fprintf(stderr, "stepupd: %s\n",
				rc == SU_EIO ? "no password on stdin"
					     : "refused: a password has 12 to 1024 characters, none of them control characters");
			explicit_bzero(pw, sizeof(pw));
			return 1;
		}
		rc = adminpw_hash(pw, hash, sizeof(hash));
		explicit_bzero(pw, sizeof(pw));
		if (rc != SU_OK) {
			fprintf(stderr, "stepupd: the password could not be hashed\n");
			return 1;
		}
	}
	if (open_store(a, &st) != 0)
		return 1;
	if (strcmp(argv[0], "passwd") == 0) {
		if (store_admin_user_set(st, argv[1], hash, (int64_t)time(NULL), &created) != SU_OK)
			goto out;
		store_audit(st, (int64_t)time(NULL), "admin_passwd", NULL, argv[1], NULL, NULL, "ok",
			    created ? "admin created from the command line"
				    : "password changed from the command line");
		printf("%s admin %s\n", created ? "created" : "password changed for", argv[1]);
		rv = 0;
	} else if (strcmp(argv[0], "remove") == 0) {
		rc = store_admin_user_remove(st, argv[1]);
		if (rc == SU_ENOTFOUND)
			fprintf(stderr, "stepupd: no admin %s\n", argv[1]);
		if (rc != SU_OK)
			goto out;
		store_audit(st, (int64_t)time(NULL), "admin_remove", NULL, argv[1], NULL, NULL, "ok",
			    "removed from the command line");
		printf("removed admin %s\n", argv[1]);
		rv = 0;
	} else if (strcmp(argv[0], "list") == 0) {
		struct store_admin_user *v = NULL;
		size_t n = 0;

		if (store_admin_user_list(st, &v, &n) != SU_OK)
			goto out;
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i].name);
		store_admin_user_list_free(v, n);
		rv = 0;
	} else {
		usage();
		rv = 2;
	}
out:
	explicit_bzero(hash, sizeof(hash));
	store_close(st);
	return rv;
}

/* policy_file_read() reads a policy file of at most POLICY_JSON_MAX bytes
 * into a malloc'd buffer (*out, *len); prints why not. */
static int
policy_file_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n;
	int rv = 1;

	*out = NULL;
	*len = 0;
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	data = malloc((size_t)POLICY_JSON_MAX + 1);
	if (data == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	n = fread(data, 1, (size_t)POLICY_JSON_MAX + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		goto out;
	}
	if (n > POLICY_JSON_MAX) {
		fprintf(stderr, "%s: larger than %u bytes\n", path, POLICY_JSON_MAX);
		goto out;
	}
	*out = data;
	*len = n;
	data = NULL;
	rv = 0;
out:
	free(data);
	fclose(f);
	return rv;
}

/* cmd_policy() runs `policy import FILE` (validate against the config's
 * contexts, then replace the whole set in one transaction; any error
 * changes nothing) and `policy export` (the set as JSON on stdout). */
static int
cmd_policy(struct app *a, int argc, char **argv)
{
	struct store *st = NULL;
	struct policy_set *set = NULL;
	char *data = NULL, *errs = NULL, *json = NULL;
	size_t len = 0;
	int rv = 1;

	if (argc == 2 && strcmp(argv[0], "import") == 0) {
		if (policy_file_read(argv[1], &data, &len) != 0)
			goto out;
		if (policy_set_parse(data, len, a->cfg, &set, &errs) != SU_OK) {
			/* one "FILE: policy N ("name"): field: message" line per error */
			for (char *line = errs, *nl; line != NULL && *line != '\0'; line = nl) {
				nl = strchr(line, '\n');
				if (nl != NULL)
					*nl++ = '\0';
				fprintf(stderr, "%s: %s\n", argv[1], line);
			}
			if (errs == NULL)
				fprintf(stderr, "%s: cannot be parsed\n", argv[1]);
			fprintf(stderr, "%s: nothing imported; the policies in the database are unchanged\n",
				argv[1]);
			goto out;
		}
		if (open_store(a, &st) != 0)
			goto out;
		if (store_policy_import(st, set, (int64_t)time(NULL)) != SU_OK) {
			fprintf(stderr, "%s: the database refused the import; nothing changed\n", argv[1]);
			goto out;
		}
		store_audit(st, (int64_t)time(NULL), "policy-import", NULL, NULL, NULL, NULL, "ok",
			    "policies imported from the command line");
		printf("%s: %zu %s imported\n", argv[1], set->n, set->n == 1 ? "policy" : "policies");
		rv = 0;
	} else if (argc == 1 && strcmp(argv[0], "export") == 0) {
		if (open_store(a, &st) != 0)
			goto out;
		if (store_policy_export(st, &set, NULL) != SU_OK) {
			fprintf(stderr, "stepupd: cannot read the policies from the database\n");
			goto out;
		}
		if (policy_set_to_json(set, &json) != SU_OK) {
			fprintf(stderr, "stepupd: out of memory\n");
			goto out;
		}
		if (fputs(json, stdout) == EOF || fflush(stdout) != 0) {
			fprintf(stderr, "stepupd: cannot write the export\n");
			goto out;
		}
		rv = 0;
	} else {
		usage();
		rv = 2;
	}
out:
	free(json);
	free(errs);
	free(data);
	policy_set_free(set);
	store_close(st);
	return rv;
}

/* saml_start() initialises Lasso and builds one SAML SP per saml provider
 * (before any thread starts: Lasso's set-up is not thread-safe). Nothing
 * happens when no saml provider is configured. */
static int
saml_start(struct app *a)
{
	char err[512];
	bool any = false;

	for (size_t i = 0; i < a->cfg->n_providers; i++)
		any = any || a->cfg->providers[i].type == CFG_PROVIDER_SAML;
	if (!any)
		return 0;
	if (saml_global_init(err, sizeof(err)) != SU_OK) {
		log_err("%s", err);
		return 1;
	}
	a->sps = calloc(a->cfg->n_providers + 1, sizeof(*a->sps));
	if (a->sps == NULL)
		return 1;
	for (size_t i = 0; i < a->cfg->n_providers; i++) {
		const struct cfg_provider *p = &a->cfg->providers[i];

		if (p->type != CFG_PROVIDER_SAML)
			continue;
		if (saml_sp_new(p, a->cfg->public_url, &a->sps[i], err, sizeof(err)) != SU_OK) {
			log_err("provider %s: %s", p->name, err);
			return 1;
		}
		log_info("provider %s: SAML SP %s, IdP %s", p->name, p->sp_entity_id,
			 saml_sp_idp_entity_id(a->sps[i]));
	}
	return 0;
}

/* saml_stop() frees what saml_start() built and shuts Lasso down. */
static void
saml_stop(struct app *a)
{
	if (a->sps != NULL) {
		for (size_t i = 0; i < a->cfg->n_providers; i++)
			saml_sp_free(a->sps[i]);
		free(a->sps);
		a->sps = NULL;
	}
	saml_global_cleanup();
}

static int
serve(struct app *a)
{
	struct http_daemon *d = NULL;
	struct store *st = NULL;
	sigset_t set;
	int sig = 0, rv = 1;
	char tdir[PATH_MAX + 16];

	snprintf(tdir, sizeof(tdir), "%s/templates", a->datadir);
	if (tmpl_load_dir(tdir) != SU_OK)
		goto out;
	/* apply migrations once, before any worker thread opens its connection */
	if (open_store(a, &st) != 0)
		goto out;
	store_purge(st, (int64_t)time(NULL));
	if (httpc_global_init(5000, (long)a->cfg->idp_timeout * 1000) != SU_OK)
		goto out;
	a->idps = calloc(a->cfg->n_providers + 1, sizeof(*a->idps));
	if (a->idps == NULL)
		goto out;
	for (size_t i = 0; i < a->cfg->n_providers; i++)
		if (a->cfg->providers[i].type == CFG_PROVIDER_OIDC &&
		    idp_new(&a->cfg->providers[i], &a->idps[i]) != SU_OK)
			goto out;
	if (saml_start(a) != 0)
		goto out;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* after the signal mask (its threads inherit it), before requests can match policies */
	if (events_start(a->cfg, a->migrations_dir, 0) != SU_OK)
		goto out;
	d = http_start(a);
	if (d == NULL)
		goto out;
	log_info("stepupd %s listening on %s:%u, public URL %s", STEPUPD_VERSION, a->cfg->listen_host,
		 a->cfg->listen_port, a->cfg->public_url);
	sigwait(&set, &sig);
	log_info("signal %d: stopping", sig);
	httpc_cancel_all(); /* slow-work threads waiting on an IdP end now */
	rv = 0;
out:
	http_stop(d);
	/* no request is left to queue a match: write what is queued, stop delivering */
	events_stop();
	if (a->idps) {
		for (size_t i = 0; i < a->cfg->n_providers; i++)
			idp_free(a->idps[i]);
		free(a->idps);
		a->idps = NULL;
	}
	saml_stop(a);
	store_close(st);
	httpc_global_cleanup();
	tmpl_unload();
	return rv;
}

int
main(int argc, char **argv)
{
	const char *conf = "./stepupd.conf";
	struct cfg *c = NULL;
	struct app a;
	unsigned char master[XCRYPT_KEY_LEN];
	char err[512];
	int opt, rv = 1, lvl;
	const char *cmd;

	memset(&a, 0, sizeof(a));
	while ((opt = getopt(argc, argv, "c:h")) != -1) {
		if (opt == 'c') {
			conf = optarg;
		} else {
			usage();
			return 2;
		}
	}
	cmd = optind < argc ? argv[optind++] : "serve";
	if (strcmp(cmd, "version") == 0) {
		printf("stepupd %s\n", STEPUPD_VERSION);
		return 0;
	}
	if (load_config(conf, &c) != 0)
		return 1;
	if (strcmp(cmd, "check-config") == 0) {
		printf("%s: ok (%zu providers, %zu contexts)\n", conf, c->n_providers, c->n_contexts);
		cfg_free(c);
		return 0;
	}
	lvl = log_level_parse(c->log_level ? c->log_level : "info");
	log_level_set(lvl < 0 ? LOGL_INFO : (enum log_level)lvl);
	a.cfg = c;
	a.datadir = find_datadir();
	if (a.datadir == NULL)
		goto out;
	a.migrations_dir = malloc(strlen(a.datadir) + 16);
	if (a.migrations_dir == NULL)
		goto out;
	snprintf(a.migrations_dir, strlen(a.datadir) + 16, "%s/db/migrations", a.datadir);
	if (strcmp(c->db_path, ":memory:") != 0)
		parent_dir_make(c->db_path);
	if (strcmp(cmd, "session") == 0) {
		rv = cmd_session(&a, argc - optind, argv + optind);
		goto out;
	}
	if (strcmp(cmd, "policy") == 0) {
		rv = cmd_policy(&a, argc - optind, argv + optind);
		goto out;
	}
	if (strcmp(cmd, "admin") == 0) {
		rv = cmd_admin(&a, argc - optind, argv + optind);
		goto out;
	}
	if (strcmp(cmd, "serve") != 0) {
		usage();
		rv = 2;
		goto out;
	}
	parent_dir_make(c->secret_key_file);
	if (xcrypt_key_load(c->secret_key_file, master, err, sizeof(err)) != SU_OK) {
		fprintf(stderr, "stepupd: %s\n", err);
		goto out;
	}
	xcrypt_derive(master, "start-token", a.start_key);
	explicit_bzero(master, sizeof(master));
	if (c->api_key_file && app_api_keys_load(&a, c->api_key_file, err, sizeof(err)) != SU_OK) {
		fprintf(stderr, "stepupd: %s\n", err);
		goto out;
	}
	rv = serve(&a);
out:
	if (a.api_keys) {
		for (size_t i = 0; a.api_keys[i]; i++)
			free(a.api_keys[i]);
		free(a.api_keys);
	}
	free(a.migrations_dir);
	free(a.datadir);
	cfg_free(c);
	return rv;
}
