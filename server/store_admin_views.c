/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_admin_views.c: the admin console's list queries (see
 * store_admin_views.h). Each statement is fixed text with bound
 * parameters; optional filters are "?N IS NULL OR ..." so one prepared
 * statement serves every combination. Statements live in extension slots
 * 56..63 of the connection (store_ext_slot(); store_close() finalizes
 * them) and are reset after every use, with store.c's helpers
 * (store_int.h).
 *
 * What it does not do: write anything except the bulk revocation, decide
 * what a page shows, or log stored values (only which query failed).
 */
#include "store_admin_views.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_int.h"

#define SAV_SLOT0 56
#define SAV_ELEV_MAX 1000

enum sav_stmt {
	SAV_SESSIONS,
	SAV_SESSIONS_COUNT,
	SAV_ELEVATIONS,
	SAV_TIMELINE,
	SAV_REVOKE_USER,
	SAV_AUDIT,
	SAV_AUDIT_COUNT,
	SAV_POLICY_STATS,
	SAV__COUNT
};

/* The state of a session at ?1 (now), from its elevations: active when one
 * is unrevoked and unexpired, else revoked when the elevation that ended
 * last ended by revocation, else expired. */
#define SAV_STATE_SQL                                                                   \
	"CASE WHEN EXISTS (SELECT 1 FROM elevations a WHERE a.session_hash = s.session_hash " \
	"AND a.revoked_at = 0 AND a.expires_at > ?1) THEN 1 "                            \
	"WHEN (SELECT z.revoked_at > 0 FROM elevations z WHERE z.session_hash = s.session_hash " \
	"ORDER BY CASE WHEN z.revoked_at > 0 AND z.revoked_at < z.expires_at THEN z.revoked_at " \
	"ELSE z.expires_at END DESC, z.id DESC LIMIT 1) THEN 3 ELSE 2 END"

/* The session filters: ?2 user LIKE pattern, ?3 context, ?4 state, ?7
 * exact session hash (each NULL: any). */
#define SAV_SESS_WHERE                                                                  \
	"WHERE (?2 IS NULL OR s.user LIKE ?2 ESCAPE '\\') "                            \
	"AND (?3 IS NULL OR EXISTS (SELECT 1 FROM elevations x "                        \
	" WHERE x.session_hash = s.session_hash AND x.context = ?3)) "                   \
	"AND (?7 IS NULL OR s.session_hash = ?7) "                                       \
	"AND (?4 IS NULL OR (" SAV_STATE_SQL ") = ?4) "

/* The audit search: ?1 LIKE pattern anywhere, ?2 LIKE pattern prefix (hash). */
#define SAV_AUDIT_WHERE                                                                 \
	"WHERE ?1 IS NULL "                                                              \
	"OR user LIKE ?1 ESCAPE '\\' OR context LIKE ?1 ESCAPE '\\' "                 \
	"OR event LIKE ?1 ESCAPE '\\' OR outcome LIKE ?1 ESCAPE '\\' "                \
	"OR detail LIKE ?1 ESCAPE '\\' OR provider LIKE ?1 ESCAPE '\\' "              \
	"OR session_hash LIKE ?2 ESCAPE '\\' "

_Static_assert(SAV__COUNT <= 8, "store_admin_views owns extension slots 56..63 only");

static const char *const sav_sql[SAV__COUNT] = {
	/* ?1 now, ?5 limit, ?6 offset, filters as SAV_SESS_WHERE */
	[SAV_SESSIONS] =
		"SELECT s.session_hash, s.user, "
		"(SELECT group_concat(DISTINCT c.context) FROM elevations c "
		" WHERE c.session_hash = s.session_hash), "
		"s.created_at, s.last_elevated_at, "
		"(SELECT count(*) FROM elevations a WHERE a.session_hash = s.session_hash "
		" AND a.revoked_at = 0 AND a.expires_at > ?1), "
		SAV_STATE_SQL ", "
		"l.context, l.provider, l.acr, l.expires_at, l.revoked_at "
		"FROM sessions s LEFT JOIN elevations l ON l.id = "
		" (SELECT e.id FROM elevations e WHERE e.session_hash = s.session_hash "
		"  ORDER BY e.elevated_at DESC, e.id DESC LIMIT 1) "
		SAV_SESS_WHERE
		"ORDER BY s.last_elevated_at DESC, s.session_hash DESC LIMIT ?5 OFFSET ?6",
	/* the same parameters; ?5 and ?6 are not used (binding them is harmless:
	 * ?7 makes the statement take seven) */
	[SAV_SESSIONS_COUNT] = "SELECT count(*) FROM sessions s " SAV_SESS_WHERE,
	[SAV_ELEVATIONS] =
		"SELECT id, session_hash, user, context, provider, acr, amr, auth_time, "
		"elevated_at, expires_at, revoked_at FROM elevations WHERE session_hash = ?1 "
		"ORDER BY elevated_at DESC, id DESC LIMIT ?2",
	/* ?1 session hash, ?2 limit; newest first (the caller reverses). Times
	 * are whole seconds, so o orders one second's rows the way they
	 * happen: the decision that asked for a step-up (it has a match key),
	 * then the audit rows (start, callback, ...), then other decisions
	 * (allowed, blocked, a check already stepped up); id within each. */
	[SAV_TIMELINE] =
		"SELECT ts, id, 'audit', event, user, context, provider, outcome, detail, "
		"NULL, NULL, NULL, NULL, NULL, NULL, 1 AS o FROM audit WHERE session_hash = ?1 "
		"UNION ALL "
		"SELECT ts, id, 'match', policy_name, user, context, NULL, outcome, NULL, "
		"decision, app, file_name, file_label, activity, path, "
		"CASE WHEN match_key IS NULL THEN 2 ELSE 0 END AS o "
		"FROM policy_matches WHERE session_hash = ?1 "
		"ORDER BY 1 DESC, 16 DESC, 2 DESC LIMIT ?2",
	[SAV_REVOKE_USER] =
		"UPDATE elevations SET revoked_at = ?2 WHERE user = ?1 AND revoked_at = 0 "
		"AND expires_at > ?2",
	/* ?3 limit, ?4 offset, the search as SAV_AUDIT_WHERE */
	[SAV_AUDIT] =
		"SELECT id, ts, event, session_hash, user, context, provider, outcome, detail "
		"FROM audit " SAV_AUDIT_WHERE "ORDER BY ts DESC, id DESC LIMIT ?3 OFFSET ?4",
	[SAV_AUDIT_COUNT] = "SELECT count(*) FROM audit " SAV_AUDIT_WHERE,
	/* ?1 now - 86400, ?2 now - 7 * 86400 */
	[SAV_POLICY_STATS] =
		"SELECT policy_id, sum(ts >= ?1), count(*), max(ts) FROM policy_matches "
		"WHERE ts >= ?2 GROUP BY policy_id",
};

/* sav_stmt() returns statement i of this connection, preparing it on first
 * use; NULL (logged) when it cannot be prepared. */
static sqlite3_stmt *
sav_stmt(struct store *s, enum sav_stmt i)
{
	return store_ext_stmt(s, SAV_SLOT0 + (int)i, sav_sql[i]);
}

/* sav_text() binds v borrowed; NULL or "" (a filter not given) binds SQL
 * NULL, unlike store_bind_text(), for the "?N IS NULL OR ..." filters. */
static bool
sav_text(sqlite3_stmt *st, int idx, const char *v)
{
	return store_bind_text(st, idx, v != NULL && v[0] != '\0' ? v : NULL) == SU_OK;
}

/* store_admin_state_str(): see store_admin_views.h. */
const char *
store_admin_state_str(enum store_admin_state st)
{
	switch (st) {
	case STORE_ADMIN_ACTIVE: return "active";
	case STORE_ADMIN_EXPIRED: return "expired";
	case STORE_ADMIN_REVOKED: return "revoked";
	default: return "any";
	}
}

/* store_admin_state_parse(): see store_admin_views.h. */
bool
store_admin_state_parse(const char *s, enum store_admin_state *out)
{
	*out = STORE_ADMIN_ANY;
	if (s == NULL || s[0] == '\0' || strcmp(s, "any") == 0)
		return true;
	if (strcmp(s, "active") == 0)
		*out = STORE_ADMIN_ACTIVE;
	else if (strcmp(s, "expired") == 0)
		*out = STORE_ADMIN_EXPIRED;
	else if (strcmp(s, "revoked") == 0)
		*out = STORE_ADMIN_REVOKED;
	else
		return false;
	return true;
}

/* store_admin_views_like(): see store_admin_views.h. */
enum su_rc
store_admin_views_like(const char *term, bool anywhere, char **out)
{
	size_t n, j = 0;
	char *p;

	*out = NULL;
	if (term == NULL)
		return SU_EINVAL;
	n = strlen(term);
	p = malloc(2 * n + 3);
	if (p == NULL)
		return SU_ENOMEM;
	if (anywhere)
		p[j++] = '%';
	for (size_t i = 0; i < n; i++) {
		if (term[i] == '%' || term[i] == '_' || term[i] == '\\')
			p[j++] = '\\';
		p[j++] = term[i];
	}
	p[j++] = '%';
	p[j] = '\0';
	*out = p;
	return SU_OK;
}

/* sav_term_ok() says whether an optional filter value is short enough. */
static bool
sav_term_ok(const char *t)
{
	return t == NULL || strlen(t) <= STORE_ADMIN_TERM_MAX;
}

/* sav_paging_ok() checks limit and offset. */
static bool
sav_paging_ok(size_t offset, size_t limit)
{
	return limit >= 1 && limit <= STORE_ADMIN_PAGE_MAX && offset <= STORE_ADMIN_OFFSET_MAX;
}

/* sav_session_cleanup() frees one list line's strings. */
static void
sav_session_cleanup(struct store_admin_session *e)
{
	free(e->session_hash);
	free(e->user);
	free(e->contexts);
	free(e->context);
	free(e->provider);
	free(e->acr);
	memset(e, 0, sizeof(*e));
}

/* store_admin_views_sessions_free(): see store_admin_views.h. */
void
store_admin_views_sessions_free(struct store_admin_session *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sav_session_cleanup(&v[i]);
	free(v);
}

/* sav_session_read() reads one row of SAV_SESSIONS into e. */
static bool
sav_session_read(sqlite3_stmt *st, struct store_admin_session *e)
{
	int state = sqlite3_column_int(st, 6);

	e->created_at = sqlite3_column_int64(st, 3);
	e->last_elevated_at = sqlite3_column_int64(st, 4);
	e->active = sqlite3_column_int64(st, 5);
	e->state = state >= 1 && state <= 3 ? (enum store_admin_state)state : STORE_ADMIN_EXPIRED;
	e->expires_at = sqlite3_column_int64(st, 10);
	e->revoked_at = sqlite3_column_int64(st, 11);
	return store_col_dup(st, 0, &e->session_hash) == SU_OK &&
	       store_col_dup(st, 1, &e->user) == SU_OK &&
	       store_col_dup(st, 2, &e->contexts) == SU_OK &&
	       store_col_dup(st, 7, &e->context) == SU_OK &&
	       store_col_dup(st, 8, &e->provider) == SU_OK &&
	       store_col_dup(st, 9, &e->acr) == SU_OK;
}

/* sav_sess_bind() binds the session filters (and paging) to st. */
static bool
sav_sess_bind(sqlite3_stmt *st, const struct store_admin_session_filter *f, const char *pat,
	      const char *hash, int64_t now, size_t offset, size_t limit)
{
	return store_bind_int(st, 1, now) == SU_OK && sav_text(st, 2, pat) &&
	       sav_text(st, 3, f != NULL ? f->context : NULL) &&
	       (f != NULL && f->state != STORE_ADMIN_ANY
			? store_bind_int(st, 4, (int64_t)f->state) == SU_OK
			: store_bind_text(st, 4, NULL) == SU_OK) &&
	       store_bind_int(st, 5, (int64_t)limit) == SU_OK &&
	       store_bind_int(st, 6, (int64_t)offset) == SU_OK && sav_text(st, 7, hash);
}

/* sav_count() steps a bound count statement into *total. */
static enum su_rc
sav_count(struct store *s, sqlite3_stmt *st, int64_t *total)
{
	enum su_rc rc = SU_EDB;

	if (sqlite3_step(st) == SQLITE_ROW) {
		*total = sqlite3_column_int64(st, 0);
		rc = SU_OK;
	} else {
		log_err("admin count: %s", sqlite3_errmsg(store_db(s)));
	}
	store_done(st);
	return rc;
}

/* sav_sessions() runs SAV_SESSIONS (and SAV_SESSIONS_COUNT when total is
 * wanted) with every parameter given. */
static enum su_rc
sav_sessions(struct store *s, const struct store_admin_session_filter *f, const char *hash,
	     int64_t now, size_t offset, size_t limit, struct store_admin_session **out,
	     size_t *n, int64_t *total)
{
	sqlite3_stmt *st = NULL, *ct;
	struct store_admin_session *v = NULL;
	size_t cnt = 0, cap = 0;
	void *nv;
	char *pat = NULL;
	enum su_rc rc = SU_EINVAL;
	int r;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (f != NULL && f->user != NULL && f->user[0] != '\0' &&
	    store_admin_views_like(f->user, true, &pat) != SU_OK) {
		rc = SU_ENOMEM;
		goto out;
	}
	rc = SU_EDB;
	st = sav_stmt(s, SAV_SESSIONS);
	if (st == NULL || !sav_sess_bind(st, f, pat, hash, now, offset, limit))
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		if (!sav_session_read(st, &v[cnt++])) {
			rc = SU_ENOMEM;
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		log_err("admin session list: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	store_done(st);
	if (total != NULL) {
		ct = sav_stmt(s, SAV_SESSIONS_COUNT);
		if (ct == NULL || !sav_sess_bind(ct, f, pat, hash, now, offset, limit)) {
			store_done(ct);
			goto out;
		}
		rc = sav_count(s, ct, total);
		if (rc != SU_OK)
			goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	store_done(st);
	free(pat);
	store_admin_views_sessions_free(v, cnt);
	return rc;
}

/* store_admin_views_sessions(): see store_admin_views.h. */
enum su_rc
store_admin_views_sessions(struct store *s, const struct store_admin_session_filter *f,
			   int64_t now, size_t offset, size_t limit,
			   struct store_admin_session **out, size_t *n, int64_t *total)
{
	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (s == NULL || !sav_paging_ok(offset, limit) ||
	    (f != NULL && (!sav_term_ok(f->user) || !sav_term_ok(f->context) ||
			   f->state > STORE_ADMIN_REVOKED)))
		return SU_EINVAL;
	return sav_sessions(s, f, NULL, now, offset, limit, out, n, total);
}

/* store_admin_views_session_get(): see store_admin_views.h. */
enum su_rc
store_admin_views_session_get(struct store *s, const char *session_hash, int64_t now,
			      struct store_admin_session *out)
{
	struct store_admin_session *v = NULL;
	size_t n = 0;
	enum su_rc rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL || !store_hash_ok(session_hash))
		return SU_EINVAL;
	rc = sav_sessions(s, NULL, session_hash, now, 0, 1, &v, &n, NULL);
	if (rc == SU_OK && n == 0)
		rc = SU_ENOTFOUND;
	if (rc == SU_OK) {
		*out = v[0];
		memset(&v[0], 0, sizeof(v[0]));
	}
	store_admin_views_sessions_free(v, n);
	return rc;
}

/* store_admin_views_elevations(): see store_admin_views.h. */
enum su_rc
store_admin_views_elevations(struct store *s, const char *session_hash,
			     struct store_elevation **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct store_elevation *v = NULL;
	size_t cnt = 0, cap = 0;
	void *nv;
	enum su_rc rc = SU_EINVAL;
	int r;

	*out = NULL;
	*n = 0;
	if (s == NULL || !store_hash_ok(session_hash))
		goto out;
	rc = SU_EDB;
	st = sav_stmt(s, SAV_ELEVATIONS);
	if (st == NULL || !sav_text(st, 1, session_hash) ||
	    store_bind_int(st, 2, SAV_ELEV_MAX) != SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_elevation *e;

		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		e = &v[cnt++];
		e->id = sqlite3_column_int64(st, 0);
		e->auth_time = sqlite3_column_int64(st, 7);
		e->elevated_at = sqlite3_column_int64(st, 8);
		e->expires_at = sqlite3_column_int64(st, 9);
		e->revoked_at = sqlite3_column_int64(st, 10);
		if (store_col_dup(st, 1, &e->session_hash) != SU_OK ||
		    store_col_dup(st, 2, &e->user) != SU_OK ||
		    store_col_dup(st, 3, &e->context) != SU_OK ||
		    store_col_dup(st, 4, &e->provider) != SU_OK ||
		    store_col_dup(st, 5, &e->acr) != SU_OK ||
		    store_col_dup(st, 6, &e->amr) != SU_OK) {
			rc = SU_ENOMEM;
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		log_err("admin elevation list: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	store_done(st);
	store_elevation_list_free(v, cnt);
	return rc;
}

/* sav_event_cleanup() frees one timeline event's strings. */
static void
sav_event_cleanup(struct store_admin_event *e)
{
	char **f[] = { &e->kind, &e->event, &e->user, &e->context, &e->provider, &e->outcome,
		       &e->detail, &e->decision, &e->app, &e->file_name, &e->file_label,
		       &e->activity, &e->path };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		free(*f[i]);
	memset(e, 0, sizeof(*e));
}

/* store_admin_views_timeline_free(): see store_admin_views.h. */
void
store_admin_views_timeline_free(struct store_admin_event *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sav_event_cleanup(&v[i]);
	free(v);
}

/* sav_event_read() reads one row of SAV_TIMELINE into e. */
static bool
sav_event_read(sqlite3_stmt *st, struct store_admin_event *e)
{
	char **f[] = { &e->kind, &e->event, &e->user, &e->context, &e->provider, &e->outcome,
		       &e->detail, &e->decision, &e->app, &e->file_name, &e->file_label,
		       &e->activity, &e->path };

	e->ts = sqlite3_column_int64(st, 0);
	e->id = sqlite3_column_int64(st, 1);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (store_col_dup(st, 2 + (int)i, f[i]) != SU_OK)
			return false;
	return true;
}

/* store_admin_views_timeline(): see store_admin_views.h. */
enum su_rc
store_admin_views_timeline(struct store *s, const char *session_hash,
			   struct store_admin_event **out, size_t *n, bool *truncated)
{
	sqlite3_stmt *st = NULL;
	struct store_admin_event *v = NULL;
	size_t cnt = 0, cap = 0;
	void *nv;
	enum su_rc rc = SU_EINVAL;
	int r;

	*out = NULL;
	*n = 0;
	if (truncated != NULL)
		*truncated = false;
	if (s == NULL || !store_hash_ok(session_hash))
		goto out;
	rc = SU_EDB;
	st = sav_stmt(s, SAV_TIMELINE);
	if (st == NULL || !sav_text(st, 1, session_hash) ||
	    store_bind_int(st, 2, STORE_ADMIN_TIMELINE_MAX + 1) != SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == STORE_ADMIN_TIMELINE_MAX) {
			if (truncated != NULL)
				*truncated = true;
			continue;
		}
		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		if (!sav_event_read(st, &v[cnt++])) {
			rc = SU_ENOMEM;
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		log_err("admin session timeline: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	/* newest first from the query; the page reads oldest first */
	for (size_t i = 0; i < cnt / 2; i++) {
		struct store_admin_event t = v[i];

		v[i] = v[cnt - 1 - i];
		v[cnt - 1 - i] = t;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	store_done(st);
	store_admin_views_timeline_free(v, cnt);
	return rc;
}

/* store_admin_views_revoke_user(): one UPDATE (atomic on its own). */
enum su_rc
store_admin_views_revoke_user(struct store *s, const char *user, int64_t now, int *count)
{
	sqlite3_stmt *st = NULL;
	enum su_rc rc = SU_EINVAL;

	if (count != NULL)
		*count = 0;
	if (s == NULL || user == NULL || user[0] == '\0' || strlen(user) > 1024 || now <= 0)
		goto out;
	rc = SU_EDB;
	st = sav_stmt(s, SAV_REVOKE_USER);
	if (st == NULL || !sav_text(st, 1, user) || store_bind_int(st, 2, now) != SU_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("admin revoke by user: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	if (count != NULL)
		*count = sqlite3_changes(store_db(s));
	rc = SU_OK;
out:
	store_done(st);
	return rc;
}

/* store_admin_views_audit(): see store_admin_views.h. */
enum su_rc
store_admin_views_audit(struct store *s, const char *term, size_t offset, size_t limit,
			struct store_audit_row **out, size_t *n, int64_t *total)
{
	sqlite3_stmt *st = NULL;
	struct store_audit_row *v = NULL;
	size_t cnt = 0, cap = 0;
	void *nv;
	char *any = NULL, *prefix = NULL;
	enum su_rc rc = SU_EINVAL;
	int r;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (s == NULL || !sav_paging_ok(offset, limit) || !sav_term_ok(term))
		goto out;
	if (term != NULL && term[0] != '\0' &&
	    (store_admin_views_like(term, true, &any) != SU_OK ||
	     store_admin_views_like(term, false, &prefix) != SU_OK)) {
		rc = SU_ENOMEM;
		goto out;
	}
	rc = SU_EDB;
	st = sav_stmt(s, SAV_AUDIT);
	if (st == NULL || !sav_text(st, 1, any) || !sav_text(st, 2, prefix) ||
	    store_bind_int(st, 3, (int64_t)limit) != SU_OK ||
	    store_bind_int(st, 4, (int64_t)offset) != SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit_row *a;

		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		a = &v[cnt++];
		a->id = sqlite3_column_int64(st, 0);
		a->ts = sqlite3_column_int64(st, 1);
		if (store_col_dup(st, 2, &a->event) != SU_OK ||
		    store_col_dup(st, 3, &a->session_hash) != SU_OK ||
		    store_col_dup(st, 4, &a->user) != SU_OK ||
		    store_col_dup(st, 5, &a->context) != SU_OK ||
		    store_col_dup(st, 6, &a->provider) != SU_OK ||
		    store_col_dup(st, 7, &a->outcome) != SU_OK ||
		    store_col_dup(st, 8, &a->detail) != SU_OK) {
			rc = SU_ENOMEM;
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		log_err("admin audit search: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	store_done(st);
	if (total != NULL) {
		sqlite3_stmt *ct = sav_stmt(s, SAV_AUDIT_COUNT);

		if (ct == NULL || !sav_text(ct, 1, any) || !sav_text(ct, 2, prefix)) {
			store_done(ct);
			goto out;
		}
		rc = sav_count(s, ct, total);
		if (rc != SU_OK)
			goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = SU_OK;
out:
	store_done(st);
	free(any);
	free(prefix);
	store_audit_list_free(v, cnt);
	return rc;
}

/* store_admin_views_policy_stats(): see store_admin_views.h. */
enum su_rc
store_admin_views_policy_stats(struct store *s, int64_t now,
			       struct store_admin_policy_stat **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct store_admin_policy_stat *v = NULL;
	size_t cnt = 0, cap = 0;
	void *nv;
	enum su_rc rc = SU_EINVAL;
	int r;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		goto out;
	rc = SU_EDB;
	st = sav_stmt(s, SAV_POLICY_STATS);
	if (st == NULL || store_bind_int(st, 1, now - 86400) != SU_OK ||
	    store_bind_int(st, 2, now - 7 * 86400) != SU_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		nv = store_grow(v, &cap, cnt, sizeof(*v));
		if (nv == NULL) {
			rc = SU_ENOMEM;
			goto out;
		}
		v = nv;
		v[cnt].policy_id = sqlite3_column_int64(st, 0);
		v[cnt].day = sqlite3_column_int64(st, 1);
		v[cnt].week = sqlite3_column_int64(st, 2);
		v[cnt].last_ts = sqlite3_column_int64(st, 3);
		cnt++;
	}
	if (r != SQLITE_DONE) {
		log_err("admin policy stats: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	rc = SU_OK;
out:
	store_done(st);
	free(v);
	return rc;
}
