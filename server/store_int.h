/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_int.h: the SQLite helpers store.c shares with the other store
 * modules. For the store_*.c modules only (store_policy.c, store_alert.c,
 * store_admin.c, store_admin_views.c, store_saml.c); nothing else includes
 * it, and the public contract stays in store.h.
 *
 * What it gives: binding (borrowed strings, NULL as SQL NULL), copying a
 * text column, growing a result array, mapping SQLite's last error to an
 * enum su_rc, preparing a module's statement into its extension slot on
 * first use (store_ext_slot()), stepping a no-row statement, and the
 * connection's BEGIN / COMMIT / ROLLBACK, all with store.c's semantics.
 *
 * What it does not do: own any module's statements or slot numbers (each
 * module keeps its SQL and slots, see store.h), or log bound values.
 */
#ifndef STEPUPD_STORE_INT_H
#define STEPUPD_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "rc.h"
#include "store.h"

/* store_hash_ok() is true when h is exactly 64 lowercase hex characters
 * (xcrypt_sha256_hex()'s form); NULL is never ok. */
bool store_hash_ok(const char *h);

/* store_done() resets st and drops its bindings (NULL is fine), so no
 * borrowed string stays bound and no read transaction stays open. */
void store_done(sqlite3_stmt *st);
/* store_bind_text() binds s borrowed (SQLITE_STATIC; the caller clears the
 * bindings with store_done() before s goes away); NULL binds SQL NULL.
 * SU_EDB when SQLite refuses. */
enum su_rc store_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* store_bind_int() binds a 64-bit integer; SU_EDB when SQLite refuses. */
enum su_rc store_bind_int(sqlite3_stmt *st, int idx, int64_t v);
/* store_col_dup() copies text column i into *out (malloc'd; NULL for SQL
 * NULL). SU_ENOMEM when the copy fails. */
enum su_rc store_col_dup(sqlite3_stmt *st, int i, char **out);
/* store_grow() returns v with room for element n (capacity *cap, doubled
 * when full; new memory zeroed), possibly moved. NULL on failure or
 * overflow, and then v is untouched and still owned by the caller. */
void *store_grow(void *v, size_t *cap, size_t n, size_t sz);

/* store_db_rc() maps the connection's last error: a constraint violation
 * is refused input (SU_EINVAL), anything else SU_EDB. */
enum su_rc store_db_rc(struct store *s);
/* store_fail() logs "what: SQLite's message" and returns store_db_rc(s)
 * (SU_EINVAL when s has no connection). */
enum su_rc store_fail(struct store *s, const char *what);

/* store_ext_stmt() returns the statement kept in extension slot which of
 * s's connection, preparing sql there (SQLITE_PREPARE_PERSISTENT) on first
 * use; NULL (logged) when s is NULL, the slot does not exist or sql does
 * not prepare. store_close() finalizes it. */
sqlite3_stmt *store_ext_stmt(struct store *s, int which, const char *sql);
/* store_ext_exec() steps st, an already bound statement that returns no
 * row, then store_done()s it. On failure it returns store_fail(s, what);
 * SU_EDB when st is NULL. *changes (may be NULL) gets the rows changed. */
enum su_rc store_ext_exec(struct store *s, sqlite3_stmt *st, const char *what, int *changes);

/* store_txn_begin() opens a transaction on s's connection: BEGIN
 * IMMEDIATE (takes the write lock now) or, with immediate false, a
 * deferred BEGIN (a consistent read snapshot). SU_EDB on failure or a NULL
 * s. store_txn_commit() commits it. store_txn_rollback() ends a failed one
 * if it is still open (SQLite rolls back by itself on some errors). */
enum su_rc store_txn_begin(struct store *s, bool immediate);
enum su_rc store_txn_commit(struct store *s);
void store_txn_rollback(struct store *s);

#endif
