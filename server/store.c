/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store.c: stepupd's SQLite store (see store.h for the contract).
 *
 * What it does: opens one connection per struct store (SQLITE_OPEN_NOMUTEX:
 * the connection belongs to one thread and is never shared), sets WAL mode
 * and the other pragmas, applies the numbered migrations in db/migrations/
 * each in its own IMMEDIATE transaction with the schema_version bump, and
 * prepares every statement once. Each public function binds, steps, copies
 * what it returns into malloc'd strings, then resets and clears its
 * statement, so no statement ever holds a read transaction open between
 * calls. Multi-statement writes (elevation + session, purge) run in one
 * IMMEDIATE transaction and roll back entirely on any failure.
 *
 * What it does not do: it never sees a session id, state or cookie in
 * clear (callers pass lowercase hex SHA-256 values, which are checked here
 * before they are bound and again by CHECK constraints); it does not decide
 * whether a flow, token or elevation is acceptable beyond expiry and single
 * use; it logs no values, only which operation failed and SQLite's message.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "elevcache.h"
#include "log.h"
#include "store_int.h"

/* The largest migration file store_open() reads. */
#define STORE_MIGRATION_MAX (1024 * 1024)
/* The most migration files one directory may hold. */
#define STORE_MIGRATIONS_MAX 9999

/* Every statement the store uses, prepared once in store_open(). */
enum store_stmt {
	ST_BEGIN_IMMEDIATE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SCHEMA_VERSION,
	ST_START_TOKEN_INSERT,
	ST_FLOW_INSERT,
	ST_FLOW_TAKE,
	ST_SESSION_UPSERT,
	ST_ELEVATION_INSERT,
	ST_ELEVATION_FIND,
	ST_ELEVATION_CHECK,
	ST_DATA_VERSION,
	ST_ELEVATION_LIST,
	ST_SESSION_USER,
	ST_SESSION_REVOKE,
	ST_SESSION_LIST,
	ST_AUDIT_INSERT,
	ST_AUDIT_RECENT,
	ST_PURGE_FLOWS,
	ST_PURGE_TOKENS,
	ST__COUNT
};

/* The columns of an elevation row, in the order store_elevation_read() takes. */
#define STORE_ELEVATION_COLS \
	"id, session_hash, user, context, provider, acr, amr, auth_time, elevated_at, " \
	"expires_at, revoked_at"

/* The columns of a pending flow, in the order store_flow_read() takes. */
#define STORE_FLOW_COLS \
	"state_hash, browser_hash, nonce, pkce_verifier, provider, context, session_hash, " \
	"user, return_to, request_id, created_at, expires_at, match_key"

static const struct {
	const char *sql;
	bool hot; /* used per request: SQLITE_PREPARE_PERSISTENT */
} store_sql[ST__COUNT] = {
	[ST_BEGIN_IMMEDIATE] = { "BEGIN IMMEDIATE", true },
	[ST_BEGIN] = { "BEGIN", false },
	[ST_COMMIT] = { "COMMIT", true },
	[ST_ROLLBACK] = { "ROLLBACK", true },
	[ST_SCHEMA_VERSION] = { "SELECT version FROM schema_version WHERE id = 1", false },
	[ST_START_TOKEN_INSERT] = {
		"INSERT INTO start_tokens (id, expires_at) VALUES (?1, ?2)", true },
	[ST_FLOW_INSERT] = {
		"INSERT INTO pending_flows (" STORE_FLOW_COLS ") "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", true },
	[ST_FLOW_TAKE] = {
		"DELETE FROM pending_flows WHERE state_hash = ?1 RETURNING " STORE_FLOW_COLS, true },
	[ST_SESSION_UPSERT] = {
		"INSERT INTO sessions (session_hash, user, created_at, last_elevated_at) "
		"VALUES (?1, ?2, ?3, ?3) "
		"ON CONFLICT (session_hash) DO UPDATE SET user = excluded.user, "
		"last_elevated_at = max(last_elevated_at, excluded.last_elevated_at)", true },
	[ST_ELEVATION_INSERT] = {
		"INSERT INTO elevations (session_hash, user, context, provider, acr, amr, "
		"auth_time, elevated_at, expires_at, revoked_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)", true },
	[ST_ELEVATION_FIND] = {
		"SELECT " STORE_ELEVATION_COLS " FROM elevations "
		"WHERE session_hash = ?1 AND context = ?2 AND expires_at > ?3 AND revoked_at = 0 "
		"ORDER BY expires_at DESC LIMIT 1", true },
	[ST_ELEVATION_CHECK] = {
		"SELECT user, expires_at FROM elevations "
		"WHERE session_hash = ?1 AND context = ?2 AND expires_at > ?3 AND revoked_at = 0 "
		"ORDER BY expires_at DESC LIMIT 1", true },
	[ST_DATA_VERSION] = { "PRAGMA data_version", true },
	[ST_ELEVATION_LIST] = {
		"SELECT " STORE_ELEVATION_COLS " FROM elevations "
		"WHERE session_hash = ?1 AND expires_at > ?2 AND revoked_at = 0 "
		"ORDER BY elevated_at DESC, id DESC", true },
	[ST_SESSION_USER] = { "SELECT user FROM sessions WHERE session_hash = ?1", true },
	[ST_SESSION_REVOKE] = {
		"UPDATE elevations SET revoked_at = ?2 WHERE session_hash = ?1 AND revoked_at = 0",
		true },
	[ST_SESSION_LIST] = {
		"SELECT s.session_hash, s.user, s.created_at, s.last_elevated_at, "
		"(SELECT count(*) FROM elevations e WHERE e.session_hash = s.session_hash "
		" AND e.revoked_at = 0 AND e.expires_at > ?1) "
		"FROM sessions s ORDER BY s.last_elevated_at DESC, s.session_hash", false },
	[ST_AUDIT_INSERT] = {
		"INSERT INTO audit (ts, event, session_hash, user, context, provider, outcome, "
		"detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", true },
	[ST_AUDIT_RECENT] = {
		"SELECT id, ts, event, session_hash, user, context, provider, outcome, detail "
		"FROM audit ORDER BY ts DESC, id DESC LIMIT ?1", false },
	[ST_PURGE_FLOWS] = { "DELETE FROM pending_flows WHERE expires_at <= ?1", false },
	[ST_PURGE_TOKENS] = { "DELETE FROM start_tokens WHERE expires_at <= ?1", false },
};

/* The tables store_count() may count, with their fixed statements. */
static const struct {
	const char *name;
	const char *sql;
} store_count_sql[] = {
	{ "schema_version", "SELECT count(*) FROM schema_version" },
	{ "start_tokens", "SELECT count(*) FROM start_tokens" },
	{ "pending_flows", "SELECT count(*) FROM pending_flows" },
	{ "sessions", "SELECT count(*) FROM sessions" },
	{ "elevations", "SELECT count(*) FROM elevations" },
	{ "audit", "SELECT count(*) FROM audit" },
};

/* The WAL-index header: the first of its two 48-byte copies at the start of
 * the -shm file (https://www.sqlite.org/walformat.html, 2.1). Every commit
 * by any connection rewrites it (change counter, frame count, checksums). */
#define STORE_WALHDR_WORDS 12

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	/* the /check cache (store_elevation_check()), made on first use */
	struct elevcache *cache;
	uint64_t epoch;              /* raised on every change seen; 0 = unknown */
	sqlite3_int64 changes;       /* sqlite3_total_changes64() at the last look */
	int data_version;            /* PRAGMA data_version at the last look */
	bool walhdr_tried;           /* walhdr looked for (NULL: not in WAL mode) */
	const uint32_t *walhdr;      /* SQLite's own mapping of the -shm region 0 */
	uint32_t walhdr_seen[STORE_WALHDR_WORDS];
	void *ext[STORE_EXT_SLOTS]; /* statements of other store modules (store_ext_slot()) */
};

/* One migration file found in the migrations directory. */
struct store_migration {
	int version;
	char *path;
};

/* store_hash_ok(): see store_int.h. Branch-free over the digits: a
 * SHA-256's digits are random, so a test per digit would mispredict on
 * every other one (this runs on every /check). */
bool
store_hash_ok(const char *h)
{
	unsigned bad = 0;

	if (h == NULL || strnlen(h, 65) != 64)
		return false;
	for (size_t i = 0; i < 64; i++) {
		unsigned c = (unsigned char)h[i];

		bad |= (c - '0' > 9u) & (c - 'a' > 5u);
	}
	return bad == 0;
}

/* store_opt_hash_ok() accepts NULL or "" (no session) or a valid hash. */
static bool
store_opt_hash_ok(const char *h)
{
	return h == NULL || h[0] == '\0' || store_hash_ok(h);
}

/* store_done(): see store_int.h. */
void
store_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* store_bind_text(): see store_int.h. */
enum su_rc
store_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	int r;

	if (s == NULL)
		r = sqlite3_bind_null(st, idx);
	else
		r = sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
	return r == SQLITE_OK ? SU_OK : SU_EDB;
}

/* store_bind_int(): see store_int.h. */
enum su_rc
store_bind_int(sqlite3_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(st, idx, (sqlite3_int64)v) == SQLITE_OK ? SU_OK : SU_EDB;
}

/* store_col_dup(): see store_int.h. */
enum su_rc
store_col_dup(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *t;
	int n;

	*out = NULL;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return SU_OK;
	t = sqlite3_column_text(st, i);
	if (t == NULL)
		return SU_ENOMEM;
	n = sqlite3_column_bytes(st, i);
	*out = malloc((size_t)n + 1);
	if (*out == NULL)
		return SU_ENOMEM;
	memcpy(*out, t, (size_t)n);
	(*out)[n] = '\0';
	return SU_OK;
}

/* store_db_rc(): see store_int.h. */
enum su_rc
store_db_rc(struct store *s)
{
	return (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT ? SU_EINVAL : SU_EDB;
}

/* store_fail(): see store_int.h. */
enum su_rc
store_fail(struct store *s, const char *what)
{
	if (s == NULL || s->db == NULL)
		return SU_EINVAL;
	log_err("%.60s: %s", what, sqlite3_errmsg(s->db));
	return store_db_rc(s);
}

/* store_exec_simple() steps a prepared no-result statement (BEGIN, COMMIT,
 * ROLLBACK) and resets it. */
static enum su_rc
store_exec_simple(struct store *s, enum store_stmt which)
{
	sqlite3_stmt *st = s->st[which];
	int r = sqlite3_step(st);

	store_done(st);
	if (r != SQLITE_DONE) {
		log_err("%s: %s", store_sql[which].sql, sqlite3_errmsg(s->db));
		return SU_EDB;
	}
	return SU_OK;
}

/* store_txn_begin(): see store_int.h. */
enum su_rc
store_txn_begin(struct store *s, bool immediate)
{
	if (s == NULL)
		return SU_EDB;
	return store_exec_simple(s, immediate ? ST_BEGIN_IMMEDIATE : ST_BEGIN);
}

/* store_txn_commit(): see store_int.h. */
enum su_rc
store_txn_commit(struct store *s)
{
	if (s == NULL)
		return SU_EDB;
	return store_exec_simple(s, ST_COMMIT);
}

/* store_txn_rollback(): see store_int.h. If ROLLBACK itself fails the
 * transaction may already be gone (SQLite rolls back on some errors); it is
 * logged and nothing else can be done. */
void
store_txn_rollback(struct store *s)
{
	if (s != NULL && !sqlite3_get_autocommit(s->db))
		(void)store_exec_simple(s, ST_ROLLBACK);
}

/* store_raw_exec() runs SQL text (one or more statements) on db; used only
 * during store_open(), before statements are prepared. what names the
 * operation for the log. */
static enum su_rc
store_raw_exec(sqlite3 *db, const char *sql, const char *what)
{
	char *err = NULL;
	enum su_rc rc = SU_EDB;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_err("%s: %s", what, err != NULL ? err : sqlite3_errmsg(db));
		goto out;
	}
	rc = SU_OK;
out:
	sqlite3_free(err);
	return rc;
}

/* store_raw_text() runs a one-row, one-column query and copies the text of
 * its result into buf (truncated to bufsz). */
static enum su_rc
store_raw_text(sqlite3 *db, const char *sql, char *buf, size_t bufsz)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	enum su_rc rc = SU_EDB;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	t = sqlite3_column_text(st, 0);
	snprintf(buf, bufsz, "%s", t != NULL ? (const char *)t : "");
	rc = SU_OK;
out:
	if (rc != SU_OK)
		log_err("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* store_raw_version() reads schema_version on db into *v. */
static enum su_rc
store_raw_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EDB;
	int r;

	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version WHERE id = 1", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		*v = 0;
	} else if (r == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
	} else {
		goto out;
	}
	rc = SU_OK;
out:
	if (rc != SU_OK)
		log_err("reading schema_version: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* store_migration_number() returns the version of a file named NNNN_*.sql
 * (1..9999), or 0 for any other name. */
static int
store_migration_number(const char *name)
{
	size_t len = strlen(name);
	int v = 0;

	if (len < 10 || name[4] != '_' || strcmp(name + len - 4, ".sql") != 0)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

/* store_migration_cmp() orders migrations by version for qsort(). */
static int
store_migration_cmp(const void *a, const void *b)
{
	const struct store_migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* store_migrations_free() frees a list from store_migrations_scan(). */
static void
store_migrations_free(struct store_migration *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* store_migrations_scan() lists the NNNN_*.sql files of dir sorted by
 * number into *out (*n entries; caller frees with store_migrations_free()).
 * Two files with the same number are refused (SU_EINVAL): which one ran
 * would depend on directory order. */
static enum su_rc
store_migrations_scan(const char *dir, struct store_migration **out, size_t *n)
{
	DIR *d = NULL;
	struct dirent *de;
	struct store_migration *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	enum su_rc rc = SU_EIO;
	int num, k;
	size_t plen;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (d == NULL) {
		log_err("cannot open migrations directory %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		num = store_migration_number(de->d_name);
		if (num == 0)
			continue;
		if (cnt >= STORE_MIGRATIONS_MAX) {
			rc = SU_ETOOBIG;
			goto out;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = SU_ENOMEM;
				goto out;
			}
			v = nv;
		}
		plen = strlen(dir) + strlen(de->d_name) + 2;
		v[cnt].path = malloc(plen);
		if (v[cnt].path == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		k = snprintf(v[cnt].path, plen, "%s/%s", dir, de->d_name);
		v[cnt].version = num;
		cnt++;
		if (k < 0 || (size_t)k >= plen) {
			rc = SU_EINVAL;
			goto out;
		}
	}
	if (cnt > 0)
		qsort(v, cnt, sizeof(*v), store_migration_cmp);
	for (size_t i = 1; i < cnt; i++) {
		if (v[i].version == v[i - 1].version) {
			log_err("two migrations numbered %04d: %s and %s", v[i].version,
				v[i - 1].path, v[i].path);
			rc = SU_EINVAL;
			goto out;
		}
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	store_migrations_free(v, cnt);
	if (d != NULL)
		closedir(d);
	return rc;
}

/* store_file_read() reads a whole (text) file of at most max bytes into a
 * malloc'd NUL-terminated string *out. */
static enum su_rc
store_file_read(const char *path, size_t max, char **out)
{
	FILE *f = NULL;
	char *data = NULL;
	size_t len;
	enum su_rc rc = SU_EIO;

	*out = NULL;
	f = fopen(path, "r");
	if (f == NULL) {
		log_err("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	data = malloc(max + 1);
	if (data == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	len = fread(data, 1, max + 1, f);
	if (ferror(f)) {
		log_err("cannot read %s", path);
		goto out;
	}
	if (len > max) {
		log_err("%s is larger than %d bytes", path, STORE_MIGRATION_MAX);
		rc = SU_ETOOBIG;
		goto out;
	}
	data[len] = '\0';
	if (strlen(data) != len) {
		log_err("%s contains a NUL byte", path);
		rc = SU_EINVAL;
		goto out;
	}
	*out = data;
	data = NULL;
	rc = SU_OK;
out:
	free(data);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* store_migration_apply() applies one migration if the database is still
 * below its version: BEGIN IMMEDIATE takes the write lock first, then the
 * version is read again, so when several connections open at once exactly
 * one applies each file and the others see the new version and skip it.
 * The file's SQL and the version bump commit together or not at all. */
static enum su_rc
store_migration_apply(sqlite3 *db, const struct store_migration *m)
{
	char *sql = NULL;
	char *err = NULL;
	char bump[96];
	bool in_txn = false;
	int cur = 0;
	enum su_rc rc = SU_EDB;

	rc = store_file_read(m->path, STORE_MIGRATION_MAX, &sql);
	if (rc != SU_OK)
		goto out;
	rc = SU_EDB;
	if (store_raw_exec(db, "BEGIN IMMEDIATE", "starting a migration") != SU_OK)
		goto out;
	in_txn = true;
	if (store_raw_version(db, &cur) != SU_OK)
		goto out;
	if (cur >= m->version) {
		rc = SU_OK; /* another connection applied it meanwhile */
		goto out;
	}
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_err("migration %s failed: %s", m->path, err != NULL ? err : sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_get_autocommit(db)) {
		/* the file ended the transaction itself: its effects are no longer atomic */
		log_err("migration %s must not contain BEGIN, COMMIT or ROLLBACK", m->path);
		in_txn = false;
		goto out;
	}
	snprintf(bump, sizeof(bump), "UPDATE schema_version SET version = %d WHERE id = 1",
		 m->version);
	if (store_raw_exec(db, bump, m->path) != SU_OK)
		goto out;
	if (store_raw_exec(db, "COMMIT", m->path) != SU_OK)
		goto out;
	in_txn = false;
	log_info("applied migration %s (schema version %d)", m->path, m->version);
	rc = SU_OK;
out:
	if (in_txn) {
		if (rc == SU_OK)
			rc = store_raw_exec(db, "COMMIT", m->path);
		else if (!sqlite3_get_autocommit(db))
			(void)store_raw_exec(db, "ROLLBACK", m->path);
	}
	sqlite3_free(err);
	free(sql);
	return rc;
}

/* store_migrate() creates schema_version when missing and applies every
 * migration of dir above the current version, in order. */
static enum su_rc
store_migrate(sqlite3 *db, const char *dir)
{
	struct store_migration *m = NULL;
	size_t n = 0;
	int cur = 0;
	enum su_rc rc;

	rc = store_raw_exec(db,
			    "BEGIN IMMEDIATE;"
			    "CREATE TABLE IF NOT EXISTS schema_version ("
			    " id INTEGER PRIMARY KEY CHECK (id = 1),"
			    " version INTEGER NOT NULL CHECK (version >= 0));"
			    "INSERT OR IGNORE INTO schema_version (id, version) VALUES (1, 0);"
			    "COMMIT;",
			    "creating schema_version");
	if (rc != SU_OK) {
		if (!sqlite3_get_autocommit(db))
			(void)store_raw_exec(db, "ROLLBACK", "creating schema_version");
		goto out;
	}
	rc = store_migrations_scan(dir, &m, &n);
	if (rc != SU_OK)
		goto out;
	rc = store_raw_version(db, &cur);
	if (rc != SU_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (m[i].version <= cur)
			continue;
		rc = store_migration_apply(db, &m[i]);
		if (rc != SU_OK)
			goto out;
	}
	rc = store_raw_version(db, &cur);
	if (rc != SU_OK)
		goto out;
	if (n > 0 && cur > m[n - 1].version)
		log_warn("database schema version %d is newer than the newest migration %04d in %s",
			 cur, m[n - 1].version, dir);
	rc = SU_OK;
out:
	store_migrations_free(m, n);
	return rc;
}

/* store_pragmas() sets the connection's options. busy_timeout comes first so
 * the journal-mode switch waits for other openers instead of failing. */
static enum su_rc
store_pragmas(sqlite3 *db, bool memory)
{
	char mode[16];
	enum su_rc rc = SU_EDB;

	if (sqlite3_busy_timeout(db, 5000) != SQLITE_OK)
		goto out;
	/* defensive: no writable_schema games, no double-quoted string literals.
	 * (trusted_schema stays on: the CHECK on elevations.amr uses json_valid(),
	 * which SQLite 3.40 does not mark innocuous.) */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
	if (store_raw_exec(db,
			   "PRAGMA busy_timeout = 5000;"
			   "PRAGMA foreign_keys = ON;"
			   "PRAGMA temp_store = MEMORY;",
			   "setting pragmas") != SU_OK)
		goto out;
	if (!memory) {
		if (store_raw_text(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) != SU_OK)
			goto out;
		if (strcmp(mode, "wal") != 0) {
			log_err("cannot switch the database to WAL mode (journal_mode is %s)", mode);
			goto out;
		}
	}
	/* after journal_mode: in WAL mode NORMAL is durable up to the last checkpoint
	 * and never corrupts */
	if (store_raw_exec(db, "PRAGMA synchronous = NORMAL", "setting synchronous") != SU_OK)
		goto out;
	rc = SU_OK;
out:
	return rc;
}

/* store_prepare_all() prepares every statement of store_sql[]. */
static enum su_rc
store_prepare_all(struct store *s)
{
	for (int i = 0; i < ST__COUNT; i++) {
		unsigned flags = store_sql[i].hot ? SQLITE_PREPARE_PERSISTENT : 0;

		if (sqlite3_prepare_v3(s->db, store_sql[i].sql, -1, flags, &s->st[i], NULL) !=
		    SQLITE_OK) {
			log_err("preparing \"%s\": %s", store_sql[i].sql, sqlite3_errmsg(s->db));
			return SU_EDB;
		}
	}
	return SU_OK;
}

/* store_open(): see store.h. On failure *out is NULL and nothing stays open. */
enum su_rc
store_open(const char *path, const char *migrations_dir, struct store **out)
{
	struct store *s = NULL;
	bool memory;
	int r;
	enum su_rc rc = SU_EINVAL;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (path == NULL || migrations_dir == NULL || path[0] == '\0')
		goto out;
	memory = strcmp(path, ":memory:") == 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	rc = SU_EDB;
	r = sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (r != SQLITE_OK) {
		log_err("cannot open database %s: %s", path,
			s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	rc = store_pragmas(s->db, memory);
	if (rc != SU_OK)
		goto out;
	rc = store_migrate(s->db, migrations_dir);
	if (rc != SU_OK)
		goto out;
	rc = store_prepare_all(s);
	if (rc != SU_OK)
		goto out;
	*out = s;
	s = NULL;
	rc = SU_OK;
out:
	store_close(s);
	return rc;
}

/* store_close(): finalizes every statement, then closes the connection. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	elevcache_free(s->cache);
	/* statements other store modules prepared (store_ext_slot()) */
	if (s->db != NULL) {
		sqlite3_stmt *st;

		while ((st = sqlite3_next_stmt(s->db, NULL)) != NULL)
			sqlite3_finalize(st);
	}
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_err("closing the database: %s", sqlite3_errmsg(s->db));
	free(s);
}

/* store_schema_version(): the applied version, read from the database (another
 * process may have migrated since open); -1 when it cannot be read. */
int
store_schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1, r;

	if (s == NULL)
		return -1;
	st = s->st[ST_SCHEMA_VERSION];
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else if (r == SQLITE_DONE)
		v = 0;
	else
		log_err("reading schema_version: %s", sqlite3_errmsg(s->db));
	store_done(st);
	return v;
}

/* store_start_token_use(): one INSERT; the primary key makes a second use of
 * the same id fail with a constraint error, which is SU_EREPLAY. */
enum su_rc
store_start_token_use(struct store *s, const char *token_id, int64_t expires_at)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;
	int r;

	if (s == NULL || token_id == NULL || token_id[0] == '\0' || strnlen(token_id, 257) > 256)
		goto out;
	st = s->st[ST_START_TOKEN_INSERT];
	rc = SU_EDB;
	if (store_bind_text(st, 1, token_id) != SU_OK || store_bind_int(st, 2, expires_at) != SU_OK)
		goto out;
	r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		r = sqlite3_extended_errcode(s->db);
		if (r == SQLITE_CONSTRAINT_PRIMARYKEY || r == SQLITE_CONSTRAINT_UNIQUE) {
			rc = SU_EREPLAY;
		} else {
			rc = store_db_rc(s);
			log_err("recording a start token: %s", sqlite3_errmsg(s->db));
		}
		goto out;
	}
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	return rc;
}

/* store_flow_put(): refuses malformed hashes and missing required fields
 * before binding; a duplicate state_hash (or any other constraint) is
 * SU_EINVAL. An empty session_hash is stored as NULL. */
enum su_rc
store_flow_put(struct store *s, const struct store_flow *f)
{
	sqlite3_stmt *st = NULL;
	const char *sess;
	enum su_rc rc = SU_EINVAL;

	if (s == NULL || f == NULL || !store_hash_ok(f->state_hash) ||
	    !store_hash_ok(f->browser_hash) || !store_opt_hash_ok(f->session_hash) ||
	    f->provider == NULL || f->context == NULL || f->return_to == NULL)
		goto out;
	sess = (f->session_hash != NULL && f->session_hash[0] != '\0') ? f->session_hash : NULL;
	st = s->st[ST_FLOW_INSERT];
	rc = SU_EDB;
	if (store_bind_text(st, 1, f->state_hash) != SU_OK ||
	    store_bind_text(st, 2, f->browser_hash) != SU_OK ||
	    store_bind_text(st, 3, f->nonce) != SU_OK ||
	    store_bind_text(st, 4, f->pkce_verifier) != SU_OK ||
	    store_bind_text(st, 5, f->provider) != SU_OK ||
	    store_bind_text(st, 6, f->context) != SU_OK ||
	    store_bind_text(st, 7, sess) != SU_OK ||
	    store_bind_text(st, 8, f->user) != SU_OK ||
	    store_bind_text(st, 9, f->return_to) != SU_OK ||
	    store_bind_text(st, 10, f->request_id) != SU_OK ||
	    store_bind_int(st, 11, f->created_at) != SU_OK ||
	    store_bind_int(st, 12, f->expires_at) != SU_OK ||
	    store_bind_text(st, 13, f->match_key) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_db_rc(s);
		if (rc == SU_EDB)
			log_err("storing a pending flow: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	return rc;
}

/* store_flow_read() copies the current row of a STORE_FLOW_COLS result. */
static enum su_rc
store_flow_read(sqlite3_stmt *st, struct store_flow *f)
{
	enum su_rc rc;

	if ((rc = store_col_dup(st, 0, &f->state_hash)) != SU_OK ||
	    (rc = store_col_dup(st, 1, &f->browser_hash)) != SU_OK ||
	    (rc = store_col_dup(st, 2, &f->nonce)) != SU_OK ||
	    (rc = store_col_dup(st, 3, &f->pkce_verifier)) != SU_OK ||
	    (rc = store_col_dup(st, 4, &f->provider)) != SU_OK ||
	    (rc = store_col_dup(st, 5, &f->context)) != SU_OK ||
	    (rc = store_col_dup(st, 6, &f->session_hash)) != SU_OK ||
	    (rc = store_col_dup(st, 7, &f->user)) != SU_OK ||
	    (rc = store_col_dup(st, 8, &f->return_to)) != SU_OK ||
	    (rc = store_col_dup(st, 9, &f->request_id)) != SU_OK)
		return rc;
	f->created_at = sqlite3_column_int64(st, 10);
	f->expires_at = sqlite3_column_int64(st, 11);
	return store_col_dup(st, 12, &f->match_key);
}

/* store_flow_take(): one DELETE ... RETURNING, so the row is gone whatever
 * the outcome. *out is filled only on SU_OK; on every other result it is
 * left empty (an expired flow's contents are not handed out). */
enum su_rc
store_flow_take(struct store *s, const char *state_hash, int64_t now, struct store_flow *out)
{
	sqlite3_stmt *st = NULL;
	struct store_flow f;
	enum su_rc rc = SU_EINVAL;
	int r;

	memset(&f, 0, sizeof(f));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || out == NULL || !store_hash_ok(state_hash))
		goto out;
	st = s->st[ST_FLOW_TAKE];
	rc = SU_EDB;
	if (store_bind_text(st, 1, state_hash) != SU_OK)
		goto out;
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	if (r != SQLITE_ROW) {
		log_err("taking a pending flow: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	rc = store_flow_read(st, &f);
	if (rc != SU_OK)
		goto out;
	/* finish the statement: the DELETE has run on the first step, but only a
	 * completed statement is known to have committed */
	r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		log_err("taking a pending flow: %s", sqlite3_errmsg(s->db));
		rc = SU_EDB;
		goto out;
	}
	if (now >= f.expires_at) {
		rc = SU_EEXPIRED;
		goto out;
	}
	*out = f;
	memset(&f, 0, sizeof(f));
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	store_flow_cleanup(&f);
	return rc;
}

/* store_flow_cleanup(): frees the strings and zeroes the struct. */
void
store_flow_cleanup(struct store_flow *f)
{
	if (f == NULL)
		return;
	free(f->state_hash);
	free(f->browser_hash);
	free(f->nonce);
	free(f->pkce_verifier);
	free(f->provider);
	free(f->context);
	free(f->session_hash);
	free(f->user);
	free(f->return_to);
	free(f->request_id);
	free(f->match_key);
	memset(f, 0, sizeof(*f));
}

/* store_elevation_put(): BEGIN IMMEDIATE, upsert the sessions row, insert
 * the elevation, COMMIT; any failure rolls everything back (SU_EDB). e->id
 * and e->revoked_at are ignored: a new elevation is never revoked. A NULL
 * amr is stored as "[]". */
enum su_rc
store_elevation_put(struct store *s, const struct store_elevation *e)
{
	sqlite3_stmt *st = NULL;
	bool in_txn = false;
	enum su_rc rc = SU_EINVAL;

	if (s == NULL || e == NULL || !store_hash_ok(e->session_hash) || e->user == NULL ||
	    e->context == NULL || e->context[0] == '\0' || e->provider == NULL ||
	    e->acr == NULL)
		goto out;
	rc = store_exec_simple(s, ST_BEGIN_IMMEDIATE);
	if (rc != SU_OK)
		goto out;
	in_txn = true;
	rc = SU_EDB;

	st = s->st[ST_SESSION_UPSERT];
	if (store_bind_text(st, 1, e->session_hash) != SU_OK ||
	    store_bind_text(st, 2, e->user) != SU_OK ||
	    store_bind_int(st, 3, e->elevated_at) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("recording the session: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	store_done(st);

	st = s->st[ST_ELEVATION_INSERT];
	if (store_bind_text(st, 1, e->session_hash) != SU_OK ||
	    store_bind_text(st, 2, e->user) != SU_OK ||
	    store_bind_text(st, 3, e->context) != SU_OK ||
	    store_bind_text(st, 4, e->provider) != SU_OK ||
	    store_bind_text(st, 5, e->acr) != SU_OK ||
	    store_bind_text(st, 6, e->amr != NULL ? e->amr : "[]") != SU_OK ||
	    store_bind_int(st, 7, e->auth_time) != SU_OK ||
	    store_bind_int(st, 8, e->elevated_at) != SU_OK ||
	    store_bind_int(st, 9, e->expires_at) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("recording the elevation: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	store_done(st);
	st = NULL;

	if (store_exec_simple(s, ST_COMMIT) != SU_OK)
		goto out;
	in_txn = false;
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	if (in_txn)
		store_txn_rollback(s);
	return rc;
}

/* store_elevation_read() copies the current row of a STORE_ELEVATION_COLS
 * result into e (which the caller has zeroed). */
static enum su_rc
store_elevation_read(sqlite3_stmt *st, struct store_elevation *e)
{
	enum su_rc rc;

	e->id = sqlite3_column_int64(st, 0);
	if ((rc = store_col_dup(st, 1, &e->session_hash)) != SU_OK ||
	    (rc = store_col_dup(st, 2, &e->user)) != SU_OK ||
	    (rc = store_col_dup(st, 3, &e->context)) != SU_OK ||
	    (rc = store_col_dup(st, 4, &e->provider)) != SU_OK ||
	    (rc = store_col_dup(st, 5, &e->acr)) != SU_OK ||
	    (rc = store_col_dup(st, 6, &e->amr)) != SU_OK)
		return rc;
	e->auth_time = sqlite3_column_int64(st, 7);
	e->elevated_at = sqlite3_column_int64(st, 8);
	e->expires_at = sqlite3_column_int64(st, 9);
	e->revoked_at = sqlite3_column_int64(st, 10);
	return SU_OK;
}

/* store_elevation_find(): the full elevation row. One indexed query on
 * elevations_lookup (session_hash, context, expires_at), scanned from the
 * latest expiry down. *out is filled only on SU_OK. */
enum su_rc
store_elevation_find(struct store *s, const char *session_hash, const char *context,
		     int64_t now, struct store_elevation *out)
{
	sqlite3_stmt *st = NULL;
	struct store_elevation e;
	enum su_rc rc = SU_EINVAL;
	int r;

	memset(&e, 0, sizeof(e));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || out == NULL || !store_hash_ok(session_hash) || context == NULL)
		goto out;
	st = s->st[ST_ELEVATION_FIND];
	rc = SU_EDB;
	if (store_bind_text(st, 1, session_hash) != SU_OK ||
	    store_bind_text(st, 2, context) != SU_OK || store_bind_int(st, 3, now) != SU_OK)
		goto out;
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	if (r != SQLITE_ROW) {
		log_err("looking up an elevation: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	rc = store_elevation_read(st, &e);
	if (rc != SU_OK)
		goto out;
	*out = e;
	memset(&e, 0, sizeof(e));
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	store_elevation_cleanup(&e);
	return rc;
}

/* store_walhdr_find() finds SQLite's own mapping of the first wal-index
 * region of this connection (through the VFS's xShmMap, the call SQLite
 * makes itself; bExtend 0: nothing is created or grown). Only for a file
 * database, which store_open() has put in WAL mode; a memory database or a
 * VFS without shared memory leaves s->walhdr NULL, and store_epoch() then
 * asks PRAGMA data_version instead. The mapping lives as long as the
 * connection's WAL, that is until store_close(). */
static void
store_walhdr_find(struct store *s)
{
	sqlite3_file *f = NULL;
	const char *name = sqlite3_db_filename(s->db, "main");
	void volatile *p = NULL;

	s->walhdr_tried = true;
	if (name == NULL || name[0] == '\0')
		return;
	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
	    f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
	    f->pMethods->xShmMap == NULL)
		return;
	/* 32 KiB: the wal-index page size, fixed by the file format */
	if (f->pMethods->xShmMap(f, 0, 32768, 0, &p) != SQLITE_OK || p == NULL)
		return;
	s->walhdr = (const uint32_t *)(const volatile void *)p;
}

/* store_epoch() returns the connection's change epoch: a counter raised
 * whenever the database may have changed since the previous call, by this
 * connection (sqlite3_total_changes64()) or by any other connection of any
 * process (the WAL-index header, which every commit rewrites, read without
 * a lock from shared memory; or, without one, PRAGMA data_version, which
 * costs a read transaction). Read before a lookup, it can only make a
 * cached answer look older than it is, never newer. 0 when the database
 * could not be asked (then nothing is answered from the cache). */
static uint64_t
store_epoch(struct store *s)
{
	sqlite3_int64 changes = sqlite3_total_changes64(s->db);
	bool changed = changes != s->changes || s->epoch == 0;
	uint32_t hdr[STORE_WALHDR_WORDS];

	s->changes = changes;
	if (!s->walhdr_tried)
		store_walhdr_find(s);
	if (s->walhdr != NULL) {
		for (int i = 0; i < STORE_WALHDR_WORDS; i++)
			hdr[i] = __atomic_load_n(&s->walhdr[i], __ATOMIC_ACQUIRE);
		if (memcmp(hdr, s->walhdr_seen, sizeof(hdr)) != 0) {
			memcpy(s->walhdr_seen, hdr, sizeof(hdr));
			changed = true;
		}
	} else {
		sqlite3_stmt *st = s->st[ST_DATA_VERSION];
		int r = sqlite3_step(st), v = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;

		sqlite3_reset(st);
		if (r != SQLITE_ROW) {
			s->epoch++;
			return 0;
		}
		if (v != s->data_version) {
			s->data_version = v;
			changed = true;
		}
	}
	if (changed)
		s->epoch++;
	return s->epoch;
}

/* store_elevation_check(): the /check lookup (see store.h). The epoch is
 * read before SQLite is asked, so what is cached is tagged no newer than it
 * is. A cache that cannot be allocated only makes every call a miss. */
enum su_rc
store_elevation_check(struct store *s, const char *session_hash, const char *context,
		      int64_t now, char **user, int64_t *expires_at)
{
	char cached[ELEVCACHE_USER_MAX + 1];
	sqlite3_stmt *st = NULL;
	uint64_t epoch;
	enum su_rc rc = SU_EINVAL;
	int r;

	if (user != NULL)
		*user = NULL;
	if (expires_at != NULL)
		*expires_at = 0;
	if (s == NULL || user == NULL || expires_at == NULL || !store_hash_ok(session_hash) ||
	    context == NULL)
		goto out;
	if (s->cache == NULL && elevcache_new(ELEVCACHE_ENTRIES, &s->cache) != SU_OK)
		s->cache = NULL;
	epoch = store_epoch(s);
	if (elevcache_get(s->cache, session_hash, context, epoch, now, cached, sizeof(cached),
			  expires_at) == SU_OK) {
		*user = strdup(cached);
		rc = *user != NULL ? SU_OK : SU_ENOMEM;
		goto out;
	}
	st = s->st[ST_ELEVATION_CHECK];
	rc = SU_EDB;
	if (store_bind_text(st, 1, session_hash) != SU_OK ||
	    store_bind_text(st, 2, context) != SU_OK || store_bind_int(st, 3, now) != SU_OK)
		goto out;
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		rc = SU_ENOTFOUND;
		goto out;
	}
	if (r != SQLITE_ROW) {
		log_err("looking up an elevation: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	rc = store_col_dup(st, 0, user);
	if (rc != SU_OK)
		goto out;
	*expires_at = sqlite3_column_int64(st, 1);
	if (*user != NULL)
		elevcache_put(s->cache, session_hash, context, epoch, *user, *expires_at);
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	if (rc != SU_OK && user != NULL) {
		free(*user);
		*user = NULL;
		if (expires_at != NULL)
			*expires_at = 0;
	}
	return rc;
}

/* store_grow(): see store_int.h. */
void *
store_grow(void *v, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap < *cap || ncap > SIZE_MAX / sz)
		return NULL;
	nv = realloc(v, ncap * sz);
	if (nv == NULL)
		return NULL;
	memset((char *)nv + *cap * sz, 0, (ncap - *cap) * sz);
	*cap = ncap;
	return nv;
}

/* store_elevation_list(): reads the session's user and its live elevations
 * in one read transaction (a consistent snapshot). An unknown session gives
 * SU_OK with *n = 0 and *user = NULL. */
enum su_rc
store_elevation_list(struct store *s, const char *session_hash, int64_t now,
		     struct store_elevation **out, size_t *n, char **user)
{
	sqlite3_stmt *st = NULL;
	struct store_elevation *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	char *u = NULL;
	bool in_txn = false;
	enum su_rc rc = SU_EINVAL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (user != NULL)
		*user = NULL;
	if (s == NULL || out == NULL || n == NULL || user == NULL ||
	    !store_hash_ok(session_hash))
		goto out;
	rc = store_exec_simple(s, ST_BEGIN);
	if (rc != SU_OK)
		goto out;
	in_txn = true;
	rc = SU_EDB;

	st = s->st[ST_SESSION_USER];
	if (store_bind_text(st, 1, session_hash) != SU_OK)
		goto out;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		rc = store_col_dup(st, 0, &u);
		if (rc != SU_OK)
			goto out;
		rc = SU_EDB;
	} else if (r != SQLITE_DONE) {
		log_err("reading a session: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	store_done(st);

	st = s->st[ST_ELEVATION_LIST];
	if (store_bind_text(st, 1, session_hash) != SU_OK || store_bind_int(st, 2, now) != SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		cnt++; /* counted first so a partial row is freed too */
		rc = store_elevation_read(st, &v[cnt - 1]);
		if (rc != SU_OK)
			goto out;
		rc = SU_EDB;
	}
	if (r != SQLITE_DONE) {
		log_err("listing elevations: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	store_done(st);
	st = NULL;
	if (store_exec_simple(s, ST_COMMIT) != SU_OK)
		goto out;
	in_txn = false;
	*out = v;
	*n = cnt;
	*user = u;
	v = NULL;
	cnt = 0;
	u = NULL;
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	if (in_txn)
		store_txn_rollback(s);
	free(u);
	store_elevation_list_free(v, cnt);
	return rc;
}

/* store_elevation_list_free(): frees an array from store_elevation_list(). */
void
store_elevation_list_free(struct store_elevation *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_elevation_cleanup(&v[i]);
	free(v);
}

/* store_elevation_cleanup(): frees the strings and zeroes the struct. */
void
store_elevation_cleanup(struct store_elevation *e)
{
	if (e == NULL)
		return;
	free(e->session_hash);
	free(e->user);
	free(e->context);
	free(e->provider);
	free(e->acr);
	free(e->amr);
	memset(e, 0, sizeof(*e));
}

/* store_session_revoke(): one UPDATE (atomic on its own). now must be > 0:
 * revoked_at = 0 means "not revoked", so a zero time would revoke nothing. */
enum su_rc
store_session_revoke(struct store *s, const char *session_hash, int64_t now, int *count)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (count != NULL)
		*count = 0;
	if (s == NULL || !store_hash_ok(session_hash) || now <= 0)
		goto out;
	st = s->st[ST_SESSION_REVOKE];
	rc = SU_EDB;
	if (store_bind_text(st, 1, session_hash) != SU_OK || store_bind_int(st, 2, now) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("revoking a session: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	if (count != NULL)
		*count = sqlite3_changes(s->db);
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	return rc;
}

/* store_session_list(): every sessions row, most recently elevated first,
 * with its count of live elevations at now. */
enum su_rc
store_session_list(struct store *s, int64_t now, struct store_session_row **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct store_session_row *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	enum su_rc rc = SU_EINVAL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL)
		goto out;
	st = s->st[ST_SESSION_LIST];
	rc = SU_EDB;
	if (store_bind_int(st, 1, now) != SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		cnt++;
		if ((rc = store_col_dup(st, 0, &v[cnt - 1].session_hash)) != SU_OK ||
		    (rc = store_col_dup(st, 1, &v[cnt - 1].user)) != SU_OK)
			goto out;
		v[cnt - 1].created_at = sqlite3_column_int64(st, 2);
		v[cnt - 1].last_elevated_at = sqlite3_column_int64(st, 3);
		v[cnt - 1].active_elevations = sqlite3_column_int(st, 4);
		rc = SU_EDB;
	}
	if (r != SQLITE_DONE) {
		log_err("listing sessions: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	store_session_list_free(v, cnt);
	return rc;
}

/* store_session_list_free(): frees an array from store_session_list(). */
void
store_session_list_free(struct store_session_row *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].session_hash);
		free(v[i].user);
	}
	free(v);
}

/* store_audit(): one INSERT. A session_hash that is not NULL, "" or a valid
 * hash is refused (SU_EINVAL) so a clear session id can never land in the
 * audit log; "" is stored as NULL. */
enum su_rc
store_audit(struct store *s, int64_t ts, const char *event, const char *session_hash,
	    const char *user, const char *context, const char *provider, const char *outcome,
	    const char *detail)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (s == NULL || !store_opt_hash_ok(session_hash))
		goto out;
	if (session_hash != NULL && session_hash[0] == '\0')
		session_hash = NULL;
	st = s->st[ST_AUDIT_INSERT];
	rc = SU_EDB;
	if (store_bind_int(st, 1, ts) != SU_OK || store_bind_text(st, 2, event) != SU_OK ||
	    store_bind_text(st, 3, session_hash) != SU_OK ||
	    store_bind_text(st, 4, user) != SU_OK || store_bind_text(st, 5, context) != SU_OK ||
	    store_bind_text(st, 6, provider) != SU_OK ||
	    store_bind_text(st, 7, outcome) != SU_OK || store_bind_text(st, 8, detail) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_db_rc(s);
		log_err("writing an audit row: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	return rc;
}

/* store_audit_recent(): up to limit rows, newest (ts, then id) first.
 * limit 0 gives SU_OK with no rows. */
enum su_rc
store_audit_recent(struct store *s, size_t limit, struct store_audit_row **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct store_audit_row *v = NULL, *nv, *a;
	size_t cnt = 0, cap = 0;
	enum su_rc rc = SU_EINVAL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL)
		goto out;
	st = s->st[ST_AUDIT_RECENT];
	rc = SU_EDB;
	if (store_bind_int(st, 1, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit) !=
	    SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		a = &v[cnt++];
		a->id = sqlite3_column_int64(st, 0);
		a->ts = sqlite3_column_int64(st, 1);
		if ((rc = store_col_dup(st, 2, &a->event)) != SU_OK ||
		    (rc = store_col_dup(st, 3, &a->session_hash)) != SU_OK ||
		    (rc = store_col_dup(st, 4, &a->user)) != SU_OK ||
		    (rc = store_col_dup(st, 5, &a->context)) != SU_OK ||
		    (rc = store_col_dup(st, 6, &a->provider)) != SU_OK ||
		    (rc = store_col_dup(st, 7, &a->outcome)) != SU_OK ||
		    (rc = store_col_dup(st, 8, &a->detail)) != SU_OK)
			goto out;
		rc = SU_EDB;
	}
	if (r != SQLITE_DONE) {
		log_err("reading the audit log: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	store_audit_list_free(v, cnt);
	return rc;
}

/* store_audit_list_free(): frees an array from store_audit_recent(). */
void
store_audit_list_free(struct store_audit_row *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].event);
		free(v[i].session_hash);
		free(v[i].user);
		free(v[i].context);
		free(v[i].provider);
		free(v[i].outcome);
		free(v[i].detail);
	}
	free(v);
}

/* store_purge(): deletes flows and start-token records with expires_at <=
 * now, both in one transaction. Sessions, elevations and audit rows stay. */
enum su_rc
store_purge(struct store *s, int64_t now)
{
	sqlite3_stmt *st = NULL;
	bool in_txn = false;
	enum su_rc rc = SU_EINVAL;
	static const enum store_stmt which[] = { ST_PURGE_FLOWS, ST_PURGE_TOKENS };

	if (s == NULL)
		goto out;
	rc = store_exec_simple(s, ST_BEGIN_IMMEDIATE);
	if (rc != SU_OK)
		goto out;
	in_txn = true;
	rc = SU_EDB;
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		st = s->st[which[i]];
		if (store_bind_int(st, 1, now) != SU_OK)
			goto out;
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_err("purging: %s", sqlite3_errmsg(s->db));
			goto out;
		}
		store_done(st);
		st = NULL;
	}
	if (store_exec_simple(s, ST_COMMIT) != SU_OK)
		goto out;
	in_txn = false;
	rc = SU_OK;
out:
	if (st != NULL)
		store_done(st);
	if (in_txn)
		store_txn_rollback(s);
	return rc;
}

/* store_count(): count(*) of one of the fixed tables; -1 for any other
 * name or on error. Prepared on each call (tests and diagnostics only). */
long
store_count(struct store *s, const char *table)
{
	sqlite3_stmt *st = NULL;
	const char *sql = NULL;
	long v = -1;

	if (s == NULL || table == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(store_count_sql) / sizeof(store_count_sql[0]); i++)
		if (strcmp(table, store_count_sql[i].name) == 0)
			sql = store_count_sql[i].sql;
	if (sql == NULL)
		return -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
out:
	if (v < 0)
		log_err("counting %s: %s", table, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return v;
}

/* store_db(): see store.h; borrows s. */
sqlite3 *
store_db(struct store *s)
{
	return s != NULL ? s->db : NULL;
}

/* store_ext_slot(): see store.h. */
void **
store_ext_slot(struct store *s, int which)
{
	if (s == NULL || which < 0 || which >= STORE_EXT_SLOTS)
		return NULL;
	return &s->ext[which];
}

/* store_ext_stmt(): see store_int.h. */
sqlite3_stmt *
store_ext_stmt(struct store *s, int which, const char *sql)
{
	void **slot = store_ext_slot(s, which);
	sqlite3_stmt *st = NULL;

	if (slot == NULL || s->db == NULL)
		return NULL;
	if (*slot != NULL)
		return *slot;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		log_err("preparing \"%s\": %s", sql, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return NULL;
	}
	*slot = st;
	return st;
}

/* store_ext_exec(): see store_int.h. */
enum su_rc
store_ext_exec(struct store *s, sqlite3_stmt *st, const char *what, int *changes)
{
	enum su_rc rc = SU_OK;

	if (st == NULL)
		return SU_EDB;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_fail(s, what);
	else if (changes != NULL)
		*changes = sqlite3_changes(s->db);
	store_done(st);
	return rc;
}
