/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_alert.h: the policy-alert outbox in the SQLite store
 * (db/migrations/0003_alerts.sql): alerts, one delivery row per
 * destination, the per-policy daily count, and the delivery thread's
 * queries (what is due, mark sent, mark failed with the next attempt).
 *
 * What it does: typed rows over prepared statements kept in the
 * connection's extension slots 16..31 (store_ext_slot()), so like the rest
 * of the store a struct store is used by one thread at a time; and the
 * IMMEDIATE transaction events.c wraps around a batch of matches and their
 * alerts.
 *
 * What it does not do: decide whether a match gets an alert (events.c
 * applies the daily limit with store_alert_count_day() inside that
 * transaction), send anything, build payloads, or delete rows: an alert
 * that cannot be delivered stays pending with its last error.
 */
#ifndef STEPUPD_STORE_ALERT_H
#define STEPUPD_STORE_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc.h"
#include "store.h"

/* The longest last_error kept (longer ones are cut at a UTF-8 boundary). */
#define STORE_ALERT_ERROR_MAX 500
/* The most recipients one alert may have (a policy's email list). */
#define STORE_ALERT_RCPT_MAX 256

/* store_alert_txn_begin() starts an IMMEDIATE transaction (the write lock
 * first, so a count made inside it stays true until commit);
 * store_alert_txn_commit() commits it; store_alert_txn_rollback() ends it
 * when anything failed (a no-op outside a transaction). */
enum su_rc store_alert_txn_begin(struct store *s);
enum su_rc store_alert_txn_commit(struct store *s);
void store_alert_txn_rollback(struct store *s);

/* store_alert_count_day() counts the alerts of policy_id on UTC day `day`
 * (Unix seconds / 86400) into *n, including rows written earlier in the
 * caller's open transaction. */
enum su_rc store_alert_count_day(struct store *s, int64_t policy_id, int64_t day, int64_t *n);

/* An alert to create (everything borrowed). */
struct store_alert_new {
	int64_t policy_id;
	const char *policy_name;      /* 1..128 bytes */
	int64_t ts;                   /* the match's time; its UTC day is stored */
	const char *match_key;        /* may be NULL */
	const char *payload;          /* a JSON object */
	bool webhook;                 /* one delivery to the configured webhook */
	const char *const *emails;    /* n_email recipients, one delivery each */
	size_t n_email;
};

/* store_alert_add() inserts the alert and its delivery rows (all due at
 * now) and puts the alert's id in *id (may be NULL). It opens no
 * transaction of its own: callers run it inside store_alert_txn_begin()
 * so the alert commits with its deliveries (and with the match rows).
 * SU_EINVAL for a refused value (bad JSON, a too-long name, too many
 * recipients). */
enum su_rc store_alert_add(struct store *s, const struct store_alert_new *a, int64_t now,
			   int64_t *id);

/* One delivery row with what sending it needs. Strings are owned. */
struct store_alert_delivery {
	int64_t id;
	int64_t alert_id;
	int64_t policy_id;
	char *policy_name;
	int64_t ts;                   /* the match's time */
	char *channel;                /* "webhook" | "email" */
	char *target;                 /* "" (webhook) or the recipient */
	char *payload;                /* the alert's JSON object */
	char *status;                 /* "pending" | "sent" */
	int64_t attempts;
	int64_t next_attempt_at;
	int64_t last_attempt_at;      /* 0: never tried */
	char *last_error;             /* NULL: none */
	int64_t sent_at;              /* 0: not sent */
};

/* store_alert_due() returns up to limit (1..1000) pending deliveries with
 * next_attempt_at <= now, earliest first, as a malloc'd array (*n entries;
 * free with store_alert_delivery_list_free()). */
enum su_rc store_alert_due(struct store *s, int64_t now, size_t limit,
			   struct store_alert_delivery **out, size_t *n);
/* store_alert_next_due() puts the earliest next_attempt_at of any pending
 * delivery in *t; SU_ENOTFOUND when nothing is pending. */
enum su_rc store_alert_next_due(struct store *s, int64_t *t);
/* store_alert_mark_sent() marks a pending delivery sent at now (attempts
 * counts this one). SU_ENOTFOUND when id is not pending. */
enum su_rc store_alert_mark_sent(struct store *s, int64_t id, int64_t now);
/* store_alert_mark_failed() records a failed attempt at now: attempts + 1,
 * last_error = err (cut to STORE_ALERT_ERROR_MAX bytes), next attempt at
 * `next`. SU_ENOTFOUND when id is not pending. */
enum su_rc store_alert_mark_failed(struct store *s, int64_t id, int64_t now, int64_t next,
				   const char *err);

/* store_alert_defer() moves a pending delivery's next attempt to `next`
 * without counting an attempt (its server was found down while another
 * delivery was tried) and records why in last_error (cut like
 * store_alert_mark_failed()). SU_ENOTFOUND when id is not pending. */
enum su_rc store_alert_defer(struct store *s, int64_t id, int64_t next, const char *why);

/* store_alert_list() returns up to limit (1..1000) deliveries of policy_id
 * (0: all), newest alert first (tests, console). */
enum su_rc store_alert_list(struct store *s, int64_t policy_id, size_t limit,
			    struct store_alert_delivery **out, size_t *n);
void store_alert_delivery_list_free(struct store_alert_delivery *v, size_t n);

/* Totals for a policy (0: all). */
struct store_alert_counts {
	int64_t alerts;               /* alert rows */
	int64_t pending;              /* delivery rows not yet sent */
	int64_t sent;                 /* delivery rows sent */
};
enum su_rc store_alert_counts(struct store *s, int64_t policy_id, struct store_alert_counts *out);

#endif
