/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_policy.h: the session-policy part of the SQLite store
 * (db/migrations/0002_policies.sql): the policy set, its change counter,
 * and the record of every policy match for the per-policy reports.
 *
 * What it does: atomic replace-all import, export, single-policy CRUD,
 * the version counter that every change bumps (a server compares it to
 * the version of the set it holds and reloads when it moved), batch insert
 * of matches, outcome updates, and report queries. Statements are prepared
 * lazily once per connection and kept in the connection's extension slots
 * (store_ext_slot()), so like the rest of the store a struct store is used
 * by one thread at a time.
 *
 * What it does not do: decide anything (policy.h), validate policies
 * beyond what it stores (callers pass sets that policy_set_parse()
 * accepted), send alerts, or see session ids in clear (session_hash is the
 * lowercase hex SHA-256, or NULL).
 *
 * Policy ids: a policy keeps its id while its name (ASCII
 * case-insensitively) stays the same, through updates and imports, so its
 * report continues; ids are never reused (AUTOINCREMENT). Matches keep the
 * policy's id and name after the policy is deleted.
 */
#ifndef STEPUPD_STORE_POLICY_H
#define STEPUPD_STORE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "rc.h"
#include "store.h"

/* store_policy_import() replaces the whole policy set with set, in one
 * IMMEDIATE transaction: policies whose name is in set are updated in
 * place (same id), new names inserted, the rest deleted; order follows
 * set; the version is bumped once. Any failure rolls everything back and
 * leaves the old set untouched. Borrows set. */
enum su_rc store_policy_import(struct store *s, const struct policy_set *set, int64_t now);

/* store_policy_export() reads every policy, in set order, into a new set
 * (*out, caller frees with policy_set_free()); each policy's id is set.
 * Stored text that no longer parses gives SU_EINVAL (logged) and no set:
 * callers keep the set they had. *version (may be NULL) gets the version
 * the set was read at (same read transaction). */
enum su_rc store_policy_export(struct store *s, struct policy_set **out, int64_t *version);

/* store_policy_version() reads the change counter (0 before any change). */
enum su_rc store_policy_version(struct store *s, int64_t *version);

/* store_policy_get() reads one policy by id (SU_ENOTFOUND if none); *out is
 * the caller's (policy_free()). */
enum su_rc store_policy_get(struct store *s, int64_t id, struct policy **out);

/* store_policy_create() appends p at the end of the set; *id (may be NULL)
 * gets its new id. SU_EINVAL when the name is taken or there are already
 * POLICY_MAX policies. Borrows p (p->id is ignored). Bumps the version. */
enum su_rc store_policy_create(struct store *s, const struct policy *p, int64_t now, int64_t *id);

/* store_policy_update() replaces policy id with p (same position, same id;
 * p->id is ignored). SU_ENOTFOUND if none; SU_EINVAL when p's name belongs
 * to another policy. Bumps the version. */
enum su_rc store_policy_update(struct store *s, int64_t id, const struct policy *p, int64_t now);

/* store_policy_delete() deletes policy id (its matches stay). SU_ENOTFOUND
 * if none. Bumps the version. */
enum su_rc store_policy_delete(struct store *s, int64_t id);

/* store_policy_enable() sets enabled (in the row and its JSON). SU_ENOTFOUND
 * if none. Bumps the version (also when the value did not change). */
enum su_rc store_policy_enable(struct store *s, int64_t id, bool enabled, int64_t now);

/* Decision and outcome spellings (the CHECK constraints use the same). */
#define STORE_POLICY_DECISIONS "allow", "block", "step_up"
#define STORE_POLICY_OUTCOMES "allowed", "blocked", "pending", "stepped_up", "abandoned"

/*
 * One recorded match: one row per (request, matching policy). For insert
 * every pointer is borrowed and may be NULL except policy_name, decision
 * and outcome; id is ignored. Text limits: policy_name 128, user, app,
 * file_name, file_label, activity, context 1024, path 4096, match_key 128
 * bytes. decision: allow|block|step_up (the request's final decision, the
 * same on every row of that request); outcome: allowed|blocked|pending|
 * stepped_up|abandoned. match_key: an opaque id the caller chooses per
 * request (e.g. 32 random hex chars) to update the outcome later.
 */
struct store_policy_match {
	int64_t id;
	int64_t ts;
	int64_t policy_id;
	char *policy_name;
	char *session_hash;
	char *user;
	char *app;
	char *file_name;
	char *file_label;
	char *activity;
	char *path;
	char *decision;
	char *context;
	char *outcome;
	char *match_key;
};

/* store_policy_matches_insert_batch() inserts n rows in one transaction:
 * all or none (SU_EINVAL names a refused row in the log). Called inside a
 * transaction the caller opened, it joins it (the caller commits or rolls
 * back everything); otherwise it runs its own. n == 0 is a no-op;
 * n > 10000 is SU_ETOOBIG. */
enum su_rc store_policy_matches_insert_batch(struct store *s, const struct store_policy_match *rows,
					     size_t n);

/* store_policy_match_outcome() sets the outcome of every row with this
 * match_key whose outcome is still "pending" (e.g. pending -> stepped_up
 * when the step-up completes, -> abandoned when it never does).
 * SU_ENOTFOUND when no pending row has that key; SU_EINVAL for a bad
 * outcome. */
enum su_rc store_policy_match_outcome(struct store *s, const char *match_key, const char *outcome);

/* store_policy_matches_abandon() marks every match still "pending" with
 * ts < before as "abandoned"; *count (may be NULL) gets how many. */
enum su_rc store_policy_matches_abandon(struct store *s, int64_t before, int64_t *count);

/* Counts of matches by outcome in [t0, t1). */
struct store_policy_outcomes {
	int64_t allowed, blocked, pending, stepped_up, abandoned, total;
};

/* store_policy_report_outcomes() counts the matches of policy_id (0: every
 * policy) with t0 <= ts < t1 by outcome. */
enum su_rc store_policy_report_outcomes(struct store *s, int64_t policy_id, int64_t t0, int64_t t1,
					struct store_policy_outcomes *out);

/* One hour of a report: matches with start <= ts < start + 3600. */
struct store_policy_bucket {
	int64_t start;
	int64_t count;
};

/* store_policy_report_hourly() returns one bucket per hour from the hour
 * holding t0 to the hour holding t1 - 1 (dense: empty hours have count 0;
 * hours align on multiples of 3600 s, UTC), for policy_id (0: all). *out is
 * malloc'd (*n entries; caller frees with free()). SU_EINVAL when t1 <= t0
 * or the range covers more than 24 * 366 hours. */
enum su_rc store_policy_report_hourly(struct store *s, int64_t policy_id, int64_t t0, int64_t t1,
				      struct store_policy_bucket **out, size_t *n);

/* store_policy_report_latest() returns up to limit (1..1000) matches of
 * policy_id (0: all), newest first (ts, then id). Free with
 * store_policy_match_list_free(). */
enum su_rc store_policy_report_latest(struct store *s, int64_t policy_id, size_t limit,
				      struct store_policy_match **out, size_t *n);
void store_policy_match_list_free(struct store_policy_match *v, size_t n);

#endif
