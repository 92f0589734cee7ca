/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store.h: stepupd's SQLite store. One struct store is one connection;
 * each worker thread opens its own (SQLite connections are not shared
 * between threads). All statements are prepared once per connection.
 *
 * Session ids never reach this module in clear: callers pass the lowercase
 * hex SHA-256 ("session_hash", 64 chars) from xcrypt_sha256_hex().
 *
 * Tables (db/migrations/): schema_version, start_tokens (used start-URL
 * ids, single use), pending_flows (state hash -> flow, single use,
 * short-lived), sessions, elevations, audit.
 */
#ifndef STEPUPD_STORE_H
#define STEPUPD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"

struct store;

/*
 * store_open() opens (creating if needed) the database at path, sets WAL
 * mode, synchronous=NORMAL, foreign_keys=ON, busy_timeout 5000 ms, and
 * applies every migration file NNNN_*.sql in migrations_dir whose number is
 * above schema_version, each in its own IMMEDIATE transaction (safe when
 * several threads or processes open at once). The caller frees *out with
 * store_close(). path ":memory:" works (tests).
 */
enum su_rc store_open(const char *path, const char *migrations_dir, struct store **out);
void store_close(struct store *s);
/* store_schema_version() returns the applied schema version (0 if none). */
int store_schema_version(struct store *s);

/* store_start_token_use() records the single use of a start-URL token id.
 * SU_EREPLAY when that id was used before. Rows are kept until expires_at. */
enum su_rc store_start_token_use(struct store *s, const char *token_id, int64_t expires_at);

/* A pending step-up flow (SPEC 2.1 step 2). Strings are owned by the struct
 * after store_flow_take(); release with store_flow_cleanup(). */
struct store_flow {
	char *state_hash;    /* sha256 hex of the state sent to the IdP: primary key */
	char *browser_hash;  /* sha256 hex of the browser-binding cookie value */
	char *nonce;
	char *pkce_verifier;
	char *provider;      /* provider section name */
	char *context;       /* context section name */
	char *session_hash;  /* NULL or "": the start request named no session */
	char *user;          /* NULL: not named */
	char *return_to;
	char *request_id;    /* SAML AuthnRequest ID; NULL for OIDC */
	char *match_key;     /* the policy matches that asked for this step-up, or NULL */
	int64_t created_at;
	int64_t expires_at;
};

/* store_flow_put() inserts a flow. SU_EINVAL on a duplicate state_hash. */
enum su_rc store_flow_put(struct store *s, const struct store_flow *f);
/* store_flow_take() deletes the flow with this state_hash and returns it in
 * *out, in one statement (DELETE ... RETURNING), so a flow is consumed by its
 * first taker whatever happens next. SU_ENOTFOUND if there is none;
 * SU_EEXPIRED if it existed but now >= expires_at (it is deleted anyway). */
enum su_rc store_flow_take(struct store *s, const char *state_hash, int64_t now,
			   struct store_flow *out);
void store_flow_cleanup(struct store_flow *f);

/* An elevation (SPEC 2.1 step 4). */
struct store_elevation {
	int64_t id;
	char *session_hash;
	char *user;
	char *context;
	char *provider;
	char *acr;           /* the acr, the matched acrs value, or the SAML class ref */
	char *amr;           /* JSON array text, e.g. ["pwd","mfa"]; "[]" when none */
	int64_t auth_time;
	int64_t elevated_at;
	int64_t expires_at;
	int64_t revoked_at;  /* 0 = not revoked */
};

/* store_elevation_put() records an elevation and creates or refreshes the
 * sessions row (user, last elevation time), in one transaction. */
enum su_rc store_elevation_put(struct store *s, const struct store_elevation *e);
/* store_elevation_find() finds the unrevoked elevation of session_hash for
 * context with the latest expires_at > now. SU_ENOTFOUND if none. */
enum su_rc store_elevation_find(struct store *s, const char *session_hash, const char *context,
				int64_t now, struct store_elevation *out);
/* store_elevation_check() is the /check fast path: the same question as
 * store_elevation_find(), answering only the user (*user, malloc'd, caller
 * frees; NULL when unknown) and the expiry. Found elevations are kept in a
 * per-connection cache (elevcache.h) that is used only while the database
 * is unchanged since: any commit, by this connection or any other in any
 * process (a revocation included), invalidates it before the next call.
 * SU_ENOTFOUND if none; SU_EINVAL on a bad hash or argument; SU_EDB. */
enum su_rc store_elevation_check(struct store *s, const char *session_hash, const char *context,
				 int64_t now, char **user, int64_t *expires_at);
/* store_elevation_list() returns every unrevoked elevation with expires_at >
 * now, newest first, as a malloc'd array of *n (caller frees with
 * store_elevation_list_free()). *user is the sessions row's user (caller
 * frees; NULL when unknown). */
enum su_rc store_elevation_list(struct store *s, const char *session_hash, int64_t now,
				struct store_elevation **out, size_t *n, char **user);
void store_elevation_list_free(struct store_elevation *v, size_t n);
void store_elevation_cleanup(struct store_elevation *e);
/* store_session_revoke() sets revoked_at = now on every unrevoked elevation
 * of the session; *count (may be NULL) gets how many. */
enum su_rc store_session_revoke(struct store *s, const char *session_hash, int64_t now, int *count);

/* One line of `stepupd session list`. */
struct store_session_row {
	char *session_hash;
	char *user;
	int64_t created_at;
	int64_t last_elevated_at;
	int active_elevations;   /* unrevoked and unexpired at `now` */
};
enum su_rc store_session_list(struct store *s, int64_t now, struct store_session_row **out, size_t *n);
void store_session_list_free(struct store_session_row *v, size_t n);

/* store_audit() appends one audit row: what happened (event: "start",
 * "callback", "revoke", ...), outcome ("ok", "denied", "error", ...), and a
 * short detail naming the reason. Any pointer may be NULL. */
enum su_rc store_audit(struct store *s, int64_t ts, const char *event, const char *session_hash,
		       const char *user, const char *context, const char *provider,
		       const char *outcome, const char *detail);

/* One audit row as read back (tests, CLI, later the console). */
struct store_audit_row {
	int64_t id, ts;
	char *event, *session_hash, *user, *context, *provider, *outcome, *detail;
};
/* store_audit_recent() returns up to limit rows, newest first. */
enum su_rc store_audit_recent(struct store *s, size_t limit, struct store_audit_row **out, size_t *n);
void store_audit_list_free(struct store_audit_row *v, size_t n);

/* store_purge() deletes expired pending flows and start-token records. */
enum su_rc store_purge(struct store *s, int64_t now);

/* store_count() returns SELECT count(*) FROM table (tests; table is one of
 * the fixed names above, anything else gives -1). */
long store_count(struct store *s, const char *table);

/* For store modules in other files (store_policy.c): store_db() is the
 * connection's handle (borrowed; same thread rules as the store).
 * store_ext_slot() is the address of extension slot which (0 ..
 * STORE_EXT_SLOTS - 1; NULL otherwise), NULL-initialised, where such a
 * module keeps statements it prepared lazily on this connection.
 * store_close() finalizes every statement still prepared on the connection
 * before closing it, so slots must hold only sqlite3_stmt pointers.
 * Owners: 0..15 and 32..47 store_policy.c; 16..31 store_alert.c; 48..49 store_saml.c;
 * 50..55 store_admin.c; 56..63 the admin console pages. Those modules use
 * store.c's SQLite helpers through store_int.h (theirs only). */
#define STORE_EXT_SLOTS 64
struct sqlite3;
struct sqlite3 *store_db(struct store *s);
void **store_ext_slot(struct store *s, int which);

#endif
