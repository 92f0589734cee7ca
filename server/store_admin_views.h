/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_admin_views.h: the read queries (and the one bulk revocation) the
 * admin console's pages need beyond store.h and store_policy.h: the
 * session list with filters, paging and each session's state; one
 * session's elevations and timeline; revoking every elevation of a user;
 * the searchable audit log; match counts per policy for the policy list.
 *
 * What it does: fixed statements with bound parameters only (a search
 * term is a LIKE pattern built here with its wildcards escaped, never SQL
 * text), prepared once per connection into extension slots 56..63
 * (store_ext_slot()), reset after every use so no read transaction stays
 * open. Results are malloc'd arrays the caller frees with the matching
 * *_free().
 *
 * What it does not do: render anything, judge who may call it (the
 * console's routes require an admin session), or see session ids in
 * clear (sessions are named by the hex SHA-256 the store keeps).
 */
#ifndef STEPUPD_STORE_ADMIN_VIEWS_H
#define STEPUPD_STORE_ADMIN_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"
#include "store.h"

#define STORE_ADMIN_PAGE_MAX 500        /* rows per page, at most */
#define STORE_ADMIN_OFFSET_MAX 10000000 /* deepest offset a page may start at */
#define STORE_ADMIN_TERM_MAX 256        /* bytes of a search term / filter value */
#define STORE_ADMIN_TIMELINE_MAX 1000   /* events of one session's timeline */

/* A session's state, from its elevations at `now`: ACTIVE when one is
 * unrevoked and unexpired; otherwise REVOKED when the elevation that ended
 * last (at its revocation or its expiry) ended by revocation, else EXPIRED. */
enum store_admin_state {
	STORE_ADMIN_ANY = 0,
	STORE_ADMIN_ACTIVE,
	STORE_ADMIN_EXPIRED,
	STORE_ADMIN_REVOKED,
};
const char *store_admin_state_str(enum store_admin_state st);
/* store_admin_state_parse() reads "active" | "expired" | "revoked" (and ""
 * or NULL as ANY); false for anything else. */
bool store_admin_state_parse(const char *s, enum store_admin_state *out);

/* What the session list shows filtered by. NULL or "" means "any". */
struct store_admin_session_filter {
	const char *user;              /* substring of the user, ASCII case-insensitive */
	const char *context;           /* exact: the session has an elevation in it */
	enum store_admin_state state;
};

/* One line of the session list. */
struct store_admin_session {
	char *session_hash;
	char *user;
	char *contexts;                /* distinct contexts ever elevated to, comma list */
	int64_t created_at;
	int64_t last_elevated_at;
	int64_t active;                /* unrevoked, unexpired elevations at `now` */
	enum store_admin_state state;
	/* its latest elevation */
	char *context, *provider, *acr;
	int64_t expires_at, revoked_at;
};

/*
 * store_admin_views_sessions() lists sessions matching f, newest first
 * (last elevation time, then hash), skipping offset and returning at most
 * limit (1..STORE_ADMIN_PAGE_MAX) in *out (*n of them). *total (may be
 * NULL) gets how many match in all. SU_EINVAL for a bad limit, an offset
 * past STORE_ADMIN_OFFSET_MAX or a filter longer than
 * STORE_ADMIN_TERM_MAX.
 */
enum su_rc store_admin_views_sessions(struct store *s, const struct store_admin_session_filter *f,
				      int64_t now, size_t offset, size_t limit,
				      struct store_admin_session **out, size_t *n, int64_t *total);
void store_admin_views_sessions_free(struct store_admin_session *v, size_t n);

/* store_admin_views_session_get() reads one session as a list line.
 * SU_ENOTFOUND when there is none; SU_EINVAL for a malformed hash. */
enum su_rc store_admin_views_session_get(struct store *s, const char *session_hash, int64_t now,
					 struct store_admin_session *out);

/* store_admin_views_elevations() returns every elevation of the session,
 * revoked and expired ones included, newest first (at most 1000).
 * Free with store_elevation_list_free(). */
enum su_rc store_admin_views_elevations(struct store *s, const char *session_hash,
					struct store_elevation **out, size_t *n);

/* One event of a session's timeline: an audit row (kind "audit": event,
 * outcome, detail, provider) or a policy match, i.e. a /check or
 * decisions answer (kind "match": event is the policy name, outcome the
 * match's outcome, decision, app, file, path). Absent values are NULL. */
struct store_admin_event {
	int64_t ts;
	int64_t id;                    /* the row's id in its table */
	char *kind;                    /* "audit" | "match" */
	char *event, *user, *context, *provider, *outcome, *detail;
	char *decision, *app, *file_name, *file_label, *activity, *path;
};

/* store_admin_views_timeline() returns the latest STORE_ADMIN_TIMELINE_MAX
 * (or fewer) audit rows and policy matches recorded for session_hash, in
 * time order (oldest first; within one second: a match that asked for a
 * step-up (it has a match_key), then audit rows, then the other matches;
 * by id within each).
 * *truncated (may be NULL) says whether older events were left out. */
enum su_rc store_admin_views_timeline(struct store *s, const char *session_hash,
				      struct store_admin_event **out, size_t *n, bool *truncated);
void store_admin_views_timeline_free(struct store_admin_event *v, size_t n);

/* store_admin_views_revoke_user() revokes (revoked_at = now) every
 * elevation of user that is still active at now, in every session; *count
 * (may be NULL) gets how many. SU_EINVAL for an empty or over-long user. */
enum su_rc store_admin_views_revoke_user(struct store *s, const char *user, int64_t now,
					 int *count);

/*
 * store_admin_views_audit() searches the audit log, newest first: rows
 * whose user, context, event, outcome, detail or provider contains term
 * (ASCII case-insensitive; NULL or "": every row), or whose session hash
 * starts with it. Paging and *total as for the sessions. Rows are freed
 * with store_audit_list_free().
 */
enum su_rc store_admin_views_audit(struct store *s, const char *term, size_t offset, size_t limit,
				   struct store_audit_row **out, size_t *n, int64_t *total);

/* Matches of one policy (by id) for the policy list. */
struct store_admin_policy_stat {
	int64_t policy_id;
	int64_t day;                   /* matches with ts >= now - 86400 */
	int64_t week;                  /* matches with ts >= now - 7 * 86400 */
	int64_t last_ts;               /* latest match in the week (0: none) */
};
/* store_admin_views_policy_stats() returns one entry per policy id that
 * has matches in the last 7 days (any order); free() the array. */
enum su_rc store_admin_views_policy_stats(struct store *s, int64_t now,
					  struct store_admin_policy_stat **out, size_t *n);

/* store_admin_views_like() writes the LIKE pattern "%term%" with '%', '_'
 * and '\\' escaped by '\\' (for ESCAPE '\\') into a malloc'd *out; prefix
 * only when anywhere is false ("term%"). */
enum su_rc store_admin_views_like(const char *term, bool anywhere, char **out);

#endif
