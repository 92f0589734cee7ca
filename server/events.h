/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * events.h: the asynchronous policy-match recorder and alert dispatcher
 * (SPEC 2.4; docs/alerts.md). The request path hands every policy match
 * to events_match(), which copies it into a bounded in-memory queue and
 * returns: no I/O, no SQLite, one mutex. Two threads do the rest:
 *
 * - the recorder (its own store connection) drains the queue in batches
 *   (up to EVENTS_BATCH_MAX rows or EVENTS_BATCH_WAIT_MS) and writes each
 *   batch in one IMMEDIATE transaction: the policy_matches rows, and for
 *   every match of a policy with alerts on, an alert in the outbox when
 *   the policy is still under its daily limit (counted per UTC day from
 *   the outbox, so the limit survives restarts). Every minute it also
 *   marks step-up matches with no outcome after EVENTS_ABANDON_AFTER
 *   seconds as "abandoned".
 * - the deliverer (another store connection) sends due outbox rows: the
 *   webhook (JSON, HMAC-SHA256 signed) and mail (SMTP), with timeouts and
 *   retries with backoff ([alerts] retry_min .. retry_max); a failure
 *   only reschedules the row, nothing is dropped.
 *
 * A dead webhook or SMTP server therefore delays neither the request path
 * nor match recording. When the queue is full, events_match() does not
 * drop the match: it writes it synchronously on the caller's store
 * connection (slow, lossless). events_stop() drains the queue to the
 * store before it returns; pending deliveries resume on the next start.
 *
 * The module is process-wide (one recorder, one deliverer): events_start()
 * once after the store is migrated, events_stop() once after the HTTP
 * daemon has stopped. Before events_start() (CLI, tests) and after
 * events_stop(), events_match() and events_outcome() write synchronously.
 *
 * What it does not do: decide which policies match (policy.h), keep
 * anything only in memory across a stop, or see session ids in clear.
 */
#ifndef STEPUPD_EVENTS_H
#define STEPUPD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "policy.h"
#include "rc.h"
#include "store.h"

#define EVENTS_QUEUE_MAX 65536     /* queued matches and outcomes */
#define EVENTS_BATCH_MAX 512       /* rows per recorder transaction */
#define EVENTS_BATCH_WAIT_MS 50    /* how long a first row waits for company */
#define EVENTS_ABANDON_AFTER 900   /* s: a step-up match still pending is abandoned
				    * (start token 300 s + pending flow 600 s) */
#define EVENTS_KEY_LEN 32          /* hex characters of events_match_key_new() */

/*
 * One policy match of one request. Everything is borrowed for the call
 * and copied; text longer than the store's limits is cut (at a UTF-8
 * boundary; malformed UTF-8 and control bytes become '?' and ' ').
 */
struct events_match {
	const struct policy *policy;  /* the matching policy: id, name, severity, category
				       * and alerts are copied (required) */
	int64_t ts;                   /* the request's time (Unix seconds) */
	const char *session_hash;     /* lowercase hex SHA-256 of the session, or NULL */
	const char *user;             /* X-Stepup-User (or NULL) */
	const char *app;              /* X-App */
	const char *file_name;        /* X-File-Name */
	const char *file_label;       /* X-File-Label */
	const char *activity;         /* X-Activity */
	const char *path;             /* the normalised path */
	const char *decision;         /* "allow" | "block" | "step_up": the request's final
				       * decision, the same for every match of one request */
	const char *context;          /* step_up: the context asked for, else NULL */
	const char *outcome;          /* "allowed" | "blocked" | "pending" (step_up) */
	const char *match_key;        /* the same for every match of one request
				       * (events_match_key_new()); NULL: no later outcome */
};

/*
 * events_start() starts the recorder and the deliverer. Borrows cfg (the
 * [alerts] section, db_path), which must outlive events_stop(); copies
 * migrations_dir. queue_max 0 means EVENTS_QUEUE_MAX. Opens both store
 * connections before it returns, so a database that cannot be opened is
 * reported here (SU_EDB), not later. httpc_global_init() must have run.
 * SU_EINVAL when already started.
 */
enum su_rc events_start(const struct cfg *cfg, const char *migrations_dir, size_t queue_max);

/*
 * events_stop() stops taking work, waits for the recorder to write every
 * queued match and outcome (retrying a failing write a few times before
 * giving up, logged with the count lost), cancels a delivery in progress
 * (it is retried on the next start, so a receiver may see it twice: the
 * alert id is stable) and joins both threads. A no-op when not started.
 */
void events_stop(void);

/*
 * events_match() records one match (request path): copies *m into the
 * queue and wakes the recorder. When the queue is full it writes the
 * match, and its alert, synchronously on st (the caller's own store
 * connection; may be NULL only while the queue has room). SU_EINVAL for a
 * missing policy, an unknown decision or outcome, or a match_key longer
 * than 128 bytes (nothing recorded); SU_ENOMEM; a store error from the
 * synchronous path. The caller logs a failure and answers the request as
 * decided: recording never changes a decision.
 */
enum su_rc events_match(struct store *st, const struct events_match *m);

/*
 * events_outcome() sets the outcome of the matches recorded with
 * match_key that are still "pending" (the OIDC/SAML callback after a
 * successful step-up: "stepped_up"). It is queued behind the matches it
 * refers to, so it applies even when they are not written yet. When the
 * queue is full it waits for room (up to 5 s; the callback is not the
 * proxy's hot path) and then writes synchronously on st. A key that names
 * no pending match is not an error (it may have been abandoned).
 * SU_EINVAL for a NULL/empty/overlong key or an outcome other than
 * "stepped_up", "allowed", "blocked" or "abandoned".
 */
enum su_rc events_outcome(struct store *st, const char *match_key, const char *outcome);

/* events_match_key_new() writes a fresh random key (EVENTS_KEY_LEN
 * lowercase hex characters and a NUL) for the matches of one request. */
enum su_rc events_match_key_new(char out[EVENTS_KEY_LEN + 1]);

/* events_abandon_sweep() marks matches still "pending" older than
 * now - EVENTS_ABANDON_AFTER as "abandoned" on st; *count (may be NULL)
 * gets how many. The recorder runs it every minute. */
enum su_rc events_abandon_sweep(struct store *st, int64_t now, int64_t *count);

/* Counters since events_start() (tests, later /metrics). */
struct events_stats {
	uint64_t queued;            /* matches and outcomes put in the queue */
	uint64_t sync_writes;       /* written on the caller's connection (queue full / stopped) */
	uint64_t recorded;          /* match rows written (both paths) */
	uint64_t alerts;            /* alerts created */
	uint64_t alerts_over_limit; /* matches of alerting policies over their daily limit */
	uint64_t delivered;         /* deliveries sent */
	uint64_t delivery_failures; /* failed attempts (rescheduled) */
	uint64_t write_failures;    /* recorder batches that had to be retried */
	size_t depth;               /* items in the queue now */
};
void events_stats_get(struct events_stats *out);

/* events_test_hold() (tests only) makes the recorder stop taking items
 * (true) or resume (false), so a test can fill the queue. events_stop()
 * ignores the hold. */
void events_test_hold(bool hold);

/* events_signature() writes the X-Stepup-Signature value for body:
 * "sha256=" and the lowercase hex HMAC-SHA256 of body's bytes keyed with
 * secret's bytes (71 characters and a NUL). */
void events_signature(const char *secret, const char *body, size_t len, char out[72]);

#endif
