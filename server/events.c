/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * events.c: the policy-match recorder and alert dispatcher (see events.h
 * for the contract and docs/alerts.md for the design).
 *
 * Shape: a ring of pointers to self-contained items (one malloc each: the
 * item, its recipient list and all its text), guarded by one mutex.
 * Producers (request threads) copy and push; the recorder pops up to
 * EVENTS_BATCH_MAX items and writes them in one IMMEDIATE transaction
 * (matches, their alerts, outcomes, in queue order); the deliverer reads
 * due outbox rows from its own connection and sends them. Three condition
 * variables on the monotonic clock: `wake` (recorder), `space`
 * (producers waiting for room), `dwake` (deliverer).
 *
 * Ordering: the queue is FIFO and the recorder finishes a batch before it
 * takes the next, so an outcome is always written after the matches
 * queued before it. The synchronous fallback (queue full) can overtake
 * queued items; for matches that does not matter, and outcomes wait for
 * room first (events_outcome()).
 *
 * Failure handling: a batch the store refuses with a transient error
 * (busy, I/O, memory) is kept and retried with a growing pause; the queue
 * fills behind it and producers fall back to synchronous writes, which
 * report the error to their caller. A batch the store refuses as invalid
 * (a CHECK constraint; cannot happen with the cleaning below) is retried
 * item by item so one bad row costs only itself, logged. Deliveries never
 * fail a write: their state lives in the outbox rows.
 *
 * What it does not do: decide, evaluate policies, or hold anything that
 * matters only in memory across events_stop().
 */
#include "events.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "httpc.h"
#include "log.h"
#include "smtp.h"
#include "store_alert.h"
#include "store_policy.h"
#include "xcrypt.h"

#define EV_DUE_BATCH 16              /* deliveries read per query */
#define EV_SWEEP_EVERY 60            /* s between abandon sweeps */
#define EV_IDLE_WAKE 60              /* s: the deliverer looks again at least this often */
#define EV_HOOK_RESP_MAX HTTPC_MAX_BODY /* webhook response bytes read (and ignored); a
					  * larger body fails the call, so allow plenty */
#define EV_STOP_WRITE_TRIES 5        /* write attempts for the last batches at stop */
#define EV_OUTCOME_WAIT_MS 5000      /* events_outcome() waits this long for room */
#define EV_ERR_MAX 512               /* one delivery error text */
#define EV_TEXT_MAX 1024             /* user, app, file, label, activity, context */
#define EV_PATH_MAX 4096
#define EV_NAME_MAX 128              /* policy name, match key */
#define EV_ADDR_MAX 254              /* one mail address */

enum ev_kind { EV_MATCH = 1, EV_OUTCOME };

/* One queued match or outcome. All pointers point into the same
 * allocation (after the struct: the recipient array, then the text). */
struct ev_item {
	enum ev_kind kind;
	struct store_policy_match row;   /* OUTCOME: only match_key and outcome */
	bool alert;                      /* the policy has alerts on */
	unsigned daily_limit;
	bool webhook;
	const char *severity;            /* static string */
	char *category;
	char **emails;
	size_t n_email;
	/* progress, so a retried batch never writes a row twice */
	bool written;                    /* MATCH: the policy_matches row is stored */
	bool done;                       /* MATCH: its alert decided; OUTCOME: applied */
};

/* What one write did, added to the stats afterwards. */
struct ev_counts {
	uint64_t recorded, alerts, over_limit;
};

static pthread_once_t ev_once = PTHREAD_ONCE_INIT;

/* The one recorder/deliverer of the process. mu guards everything but
 * cancel (atomic: read by libcurl callbacks) and cfg (immutable). */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t wake, space, dwake;
	bool running, stopping, hold, dkick;
	struct ev_item **ring;
	size_t cap, head, n;
	struct timespec first_at;        /* monotonic time the oldest queued item arrived */
	pthread_t rec, del;
	struct store *rec_st, *del_st;
	atomic_bool cancel;
	const struct cfg *cfg;
	struct events_stats stats;
} ev = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* ev_init_conds() creates the condition variables once, on the monotonic
 * clock. They are never destroyed: a producer may still be returning from
 * a wait on `space` while events_stop() finishes. */
static void
ev_init_conds(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&ev.wake, &a);
	pthread_cond_init(&ev.space, &a);
	pthread_cond_init(&ev.dwake, &a);
	pthread_condattr_destroy(&a);
}

/* ev_after() returns the monotonic time ms milliseconds after base. */
static struct timespec
ev_after(struct timespec base, long ms)
{
	base.tv_sec += ms / 1000;
	base.tv_nsec += (ms % 1000) * 1000000L;
	if (base.tv_nsec >= 1000000000L) {
		base.tv_sec++;
		base.tv_nsec -= 1000000000L;
	}
	return base;
}

/* ev_now_mono() returns the monotonic clock. */
static struct timespec
ev_now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* ev_before() says whether a is earlier than b. */
static bool
ev_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* ev_clean() writes into dst (when not NULL) the copy of src the store and
 * the alerts get: at most max bytes, cut at a character boundary,
 * malformed UTF-8 bytes as '?', control bytes as ' '. Returns its length
 * (without the NUL dst also gets). */
static size_t
ev_clean(char *dst, const char *src, size_t max)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = 0, k;

	while (*p != '\0') {
		k = buf_utf8_len(p);
		if (k == 0) {
			if (n + 1 > max)
				break;
			if (dst != NULL)
				dst[n] = '?';
			n++;
			p++;
			continue;
		}
		if (n + k > max)
			break;
		if (dst != NULL) {
			if (k == 1 && (*p < 0x20 || *p == 0x7f))
				dst[n] = ' ';
			else
				memcpy(dst + n, p, k);
		}
		n += k;
		p += k;
	}
	if (dst != NULL)
		dst[n] = '\0';
	return n;
}

/* ev_size() is the arena bytes ev_put() needs for src. */
static size_t
ev_size(const char *src, size_t max)
{
	return src != NULL ? ev_clean(NULL, src, max) + 1 : 0;
}

/* ev_put() copies the cleaned src at *pos and advances it; NULL stays NULL. */
static char *
ev_put(char **pos, const char *src, size_t max)
{
	char *d = *pos;

	if (src == NULL)
		return NULL;
	*pos += ev_clean(d, src, max) + 1;
	return d;
}

/* ev_one_of() returns the entry of list (NULL-terminated) equal to s, or
 * NULL: the stored spelling is always one of ours. */
static const char *
ev_one_of(const char *s, const char *const *list)
{
	for (size_t i = 0; s != NULL && list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return list[i];
	return NULL;
}

static const char *const ev_decisions[] = { "allow", "block", "step_up", NULL };
static const char *const ev_outcomes[] = { "allowed", "blocked", "pending", "stepped_up",
					   "abandoned", NULL };

/* ev_hash_ok() says whether h is 64 lowercase hex characters. */
static bool
ev_hash_ok(const char *h)
{
	if (h == NULL || strnlen(h, 65) != 64)
		return false;
	return strspn(h, "0123456789abcdef") == 64;
}

/* ev_item_match_new() copies m into one new allocation (*out; caller
 * frees with free()). SU_EINVAL for what events_match() refuses. */
static enum su_rc
ev_item_match_new(const struct events_match *m, struct ev_item **out)
{
	enum su_rc rc = SU_EINVAL;
	const struct policy *p;
	const char *decision, *outcome, *session, *key;
	struct ev_item *it = NULL;
	size_t n_email = 0, size;
	char *pos;

	*out = NULL;
	if (m == NULL || m->policy == NULL || m->policy->name == NULL || m->policy->name[0] == '\0')
		goto out;
	p = m->policy;
	decision = ev_one_of(m->decision, ev_decisions);
	outcome = ev_one_of(m->outcome, ev_outcomes);
	if (decision == NULL || outcome == NULL) {
		log_err("policy match refused: decision or outcome not known");
		goto out;
	}
	key = m->match_key != NULL && m->match_key[0] != '\0' ? m->match_key : NULL;
	if (key != NULL && strnlen(key, EV_NAME_MAX + 1) > EV_NAME_MAX)
		goto out;
	session = m->session_hash;
	if (session != NULL && !ev_hash_ok(session)) {
		/* a caller bug, never a session id in clear: record without it */
		log_warn("policy match: session_hash is not a SHA-256 hex; recorded without it");
		session = NULL;
	}
	if (p->alerts.enabled) {
		for (size_t i = 0; i < p->alerts.n_email && i < STORE_ALERT_RCPT_MAX; i++)
			if (smtp_address_ok(p->alerts.email[i]))
				n_email++;
	}
	size = sizeof(*it) + n_email * sizeof(char *) + ev_size(p->name, EV_NAME_MAX) +
	       ev_size(session, 64) + ev_size(m->user, EV_TEXT_MAX) + ev_size(m->app, EV_TEXT_MAX) +
	       ev_size(m->file_name, EV_TEXT_MAX) + ev_size(m->file_label, EV_TEXT_MAX) +
	       ev_size(m->activity, EV_TEXT_MAX) + ev_size(m->path, EV_PATH_MAX) +
	       ev_size(decision, 16) + ev_size(m->context, EV_TEXT_MAX) + ev_size(outcome, 16) +
	       ev_size(key, EV_NAME_MAX) + ev_size(p->category, POLICY_VALUE_MAX);
	if (p->alerts.enabled)
		for (size_t i = 0; i < p->alerts.n_email && i < STORE_ALERT_RCPT_MAX; i++)
			if (smtp_address_ok(p->alerts.email[i]))
				size += ev_size(p->alerts.email[i], EV_ADDR_MAX);
	rc = SU_ENOMEM;
	it = calloc(1, size);
	if (it == NULL)
		goto out;
	it->kind = EV_MATCH;
	it->emails = (char **)(void *)(it + 1);
	pos = (char *)(it->emails + n_email);
	it->row.ts = m->ts;
	it->row.policy_id = p->id;
	it->row.policy_name = ev_put(&pos, p->name, EV_NAME_MAX);
	it->row.session_hash = ev_put(&pos, session, 64);
	it->row.user = ev_put(&pos, m->user, EV_TEXT_MAX);
	it->row.app = ev_put(&pos, m->app, EV_TEXT_MAX);
	it->row.file_name = ev_put(&pos, m->file_name, EV_TEXT_MAX);
	it->row.file_label = ev_put(&pos, m->file_label, EV_TEXT_MAX);
	it->row.activity = ev_put(&pos, m->activity, EV_TEXT_MAX);
	it->row.path = ev_put(&pos, m->path, EV_PATH_MAX);
	it->row.decision = ev_put(&pos, decision, 16);
	it->row.context = ev_put(&pos, m->context, EV_TEXT_MAX);
	it->row.outcome = ev_put(&pos, outcome, 16);
	it->row.match_key = ev_put(&pos, key, EV_NAME_MAX);
	it->category = ev_put(&pos, p->category, POLICY_VALUE_MAX);
	it->severity = policy_severity_str(p->severity);
	it->alert = p->alerts.enabled;
	it->daily_limit = p->alerts.daily_limit;
	it->webhook = p->alerts.enabled && p->alerts.webhook;
	if (p->alerts.enabled) {
		for (size_t i = 0; i < p->alerts.n_email && i < STORE_ALERT_RCPT_MAX; i++) {
			if (!smtp_address_ok(p->alerts.email[i])) {
				log_warn("policy \"%s\": skipping a recipient that is not a plain address",
					 it->row.policy_name);
				continue;
			}
			it->emails[it->n_email++] = ev_put(&pos, p->alerts.email[i], EV_ADDR_MAX);
		}
	}
	*out = it;
	it = NULL;
	rc = SU_OK;
out:
	free(it);
	return rc;
}

/* ev_item_outcome_new() makes an outcome item (*out; caller frees). */
static enum su_rc
ev_item_outcome_new(const char *key, const char *outcome, struct ev_item **out)
{
	enum su_rc rc = SU_EINVAL;
	struct ev_item *it = NULL;
	const char *o = ev_one_of(outcome, ev_outcomes);
	char *pos;
	size_t klen;

	*out = NULL;
	if (key == NULL || key[0] == '\0' || o == NULL || strcmp(o, "pending") == 0)
		goto out;
	klen = strnlen(key, EV_NAME_MAX + 1);
	if (klen > EV_NAME_MAX)
		goto out;
	rc = SU_ENOMEM;
	it = calloc(1, sizeof(*it) + klen + 1 + strlen(o) + 1);
	if (it == NULL)
		goto out;
	it->kind = EV_OUTCOME;
	pos = (char *)(it + 1);
	memcpy(pos, key, klen + 1);
	it->row.match_key = pos;
	pos += klen + 1;
	memcpy(pos, o, strlen(o) + 1);
	it->row.outcome = pos;
	*out = it;
	it = NULL;
	rc = SU_OK;
out:
	free(it);
	return rc;
}

/* ev_time_str() writes t as RFC 3339 UTC ("2025-01-31T12:00:00Z"). */
static void
ev_time_str(int64_t t, char out[64])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ev_json_str() sets key to s (cleaned valid UTF-8) or null. */
static bool
ev_json_str(json_t *o, const char *key, const char *s)
{
	json_t *v = s != NULL ? json_string(s) : json_null();

	return v != NULL && json_object_set_new(o, key, v) == 0;
}

/* ev_payload() builds the alert's JSON object (the webhook body without
 * alert_id and sent_at) as a malloc'd string; NULL on ENOMEM. */
static char *
ev_payload(const struct ev_item *it)
{
	json_t *o = json_object();
	char when[64], *text = NULL;
	bool ok;

	if (o == NULL)
		return NULL;
	ev_time_str(it->row.ts, when);
	ok = ev_json_str(o, "type", "policy_match") && ev_json_str(o, "policy", it->row.policy_name) &&
	     json_object_set_new(o, "policy_id", json_integer((json_int_t)it->row.policy_id)) == 0 &&
	     ev_json_str(o, "severity", it->severity) && ev_json_str(o, "category", it->category) &&
	     ev_json_str(o, "user", it->row.user) && ev_json_str(o, "app", it->row.app) &&
	     ev_json_str(o, "file", it->row.file_name) && ev_json_str(o, "label", it->row.file_label) &&
	     ev_json_str(o, "activity", it->row.activity) && ev_json_str(o, "path", it->row.path) &&
	     ev_json_str(o, "decision", it->row.decision) && ev_json_str(o, "context", it->row.context) &&
	     ev_json_str(o, "outcome", it->row.outcome) && ev_json_str(o, "time", when) &&
	     json_object_set_new(o, "ts", json_integer((json_int_t)it->row.ts)) == 0;
	if (ok)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* ev_day() is the UTC day number of t (floor division). */
static int64_t
ev_day(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* ev_alert() creates the alert of one match inside the caller's
 * transaction when the policy alerts and is under its daily limit. */
static enum su_rc
ev_alert(struct store *st, const struct ev_item *it, int64_t now, struct ev_counts *cnt)
{
	enum su_rc rc = SU_OK;
	struct store_alert_new a;
	int64_t have = 0;
	char *payload = NULL;

	if (!it->alert)
		goto out;
	rc = store_alert_count_day(st, it->row.policy_id, ev_day(it->row.ts), &have);
	if (rc != SU_OK)
		goto out;
	if (have >= (int64_t)it->daily_limit) {
		cnt->over_limit++;
		goto out;
	}
	rc = SU_ENOMEM;
	payload = ev_payload(it);
	if (payload == NULL)
		goto out;
	memset(&a, 0, sizeof(a));
	a.policy_id = it->row.policy_id;
	a.policy_name = it->row.policy_name;
	a.ts = it->row.ts;
	a.match_key = it->row.match_key;
	a.payload = payload;
	a.webhook = it->webhook;
	a.emails = (const char *const *)it->emails;
	a.n_email = it->n_email;
	rc = store_alert_add(st, &a, now, NULL);
	if (rc != SU_OK)
		goto out;
	cnt->alerts++;
out:
	free(payload);
	return rc;
}

/*
 * ev_write() writes n items in one IMMEDIATE transaction, all or nothing:
 * the policy_matches rows of every match, then the alerts of those
 * matches (daily limit counted inside it) and the outcomes, in queue
 * order. A failure rolls everything back, so a retry writes the same items
 * again and nothing twice. *cnt gets what was written.
 */
static enum su_rc
ev_write(struct store *st, struct ev_item *const *items, size_t n, struct ev_counts *cnt)
{
	enum su_rc rc = SU_ENOMEM;
	struct store_policy_match *rows = NULL;
	struct ev_counts c2;
	int64_t now = (int64_t)time(NULL);
	size_t k = 0;
	bool in_txn = false;

	memset(cnt, 0, sizeof(*cnt));
	memset(&c2, 0, sizeof(c2));
	if (n == 0)
		return SU_OK;
	rows = malloc(n * sizeof(*rows));
	if (rows == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (items[i]->kind == EV_MATCH && !items[i]->written)
			rows[k++] = items[i]->row;
	rc = store_alert_txn_begin(st);
	if (rc != SU_OK)
		goto out;
	in_txn = true;
	if (k > 0) {
		/* joins this transaction */
		rc = store_policy_matches_insert_batch(st, rows, k);
		if (rc != SU_OK)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (items[i]->done)
			continue;
		if (items[i]->kind == EV_MATCH) {
			rc = ev_alert(st, items[i], now, &c2);
		} else {
			rc = store_policy_match_outcome(st, items[i]->row.match_key, items[i]->row.outcome);
			if (rc == SU_ENOTFOUND)
				rc = SU_OK; /* already final (abandoned), or the key named nothing */
		}
		if (rc != SU_OK)
			goto out;
	}
	rc = store_alert_txn_commit(st);
	if (rc != SU_OK)
		goto out;
	in_txn = false;
	for (size_t i = 0; i < n; i++) {
		if (items[i]->kind == EV_MATCH)
			items[i]->written = true;
		items[i]->done = true;
	}
	cnt->recorded = k;
	cnt->alerts = c2.alerts;
	cnt->over_limit = c2.over_limit;
out:
	if (rc != SU_OK && in_txn)
		store_alert_txn_rollback(st);
	free(rows);
	return rc;
}

/* ev_count() adds a write's counts to the stats and wakes the deliverer
 * when alerts were created. */
static void
ev_count(const struct ev_counts *c, bool sync)
{
	pthread_mutex_lock(&ev.mu);
	ev.stats.recorded += c->recorded;
	ev.stats.alerts += c->alerts;
	ev.stats.alerts_over_limit += c->over_limit;
	if (sync)
		ev.stats.sync_writes++;
	if (c->alerts > 0 && ev.running) {
		ev.dkick = true;
		pthread_cond_signal(&ev.dwake);
	}
	pthread_mutex_unlock(&ev.mu);
}

/* ev_write_items() writes a batch for the recorder. A refused batch
 * (SU_EINVAL) is written again one item at a time, so only the refused
 * item is lost (logged). Transient errors are returned for a retry. */
static enum su_rc
ev_write_items(struct store *st, struct ev_item *const *items, size_t n)
{
	struct ev_counts c;
	enum su_rc rc = ev_write(st, items, n, &c);

	ev_count(&c, false);
	if (rc == SU_OK)
		return SU_OK;
	if (rc != SU_EINVAL || n == 1) {
		if (rc == SU_EINVAL)
			log_err("a policy %s for \"%s\" was refused by the store and not recorded",
				items[0]->kind == EV_MATCH ? "match" : "outcome",
				items[0]->row.policy_name != NULL ? items[0]->row.policy_name : "-");
		return rc == SU_EINVAL ? SU_OK : rc;
	}
	for (size_t i = 0; i < n; i++) {
		rc = ev_write_items(st, &items[i], 1);
		if (rc != SU_OK)
			return rc;
	}
	return SU_OK;
}

/* ev_write_sync() writes one item on the caller's connection (queue full,
 * or no recorder running) and frees it. */
static enum su_rc
ev_write_sync(struct store *st, struct ev_item *it)
{
	struct ev_counts c;
	enum su_rc rc = SU_EINVAL;

	if (st == NULL) {
		log_err("policy %s not recorded: the queue is full or stopped and no store connection was given",
			it->kind == EV_MATCH ? "match" : "outcome");
		goto out;
	}
	rc = ev_write(st, &it, 1, &c);
	if (rc != SU_OK && it->written) {
		/* the record is stored; its alert or outcome step failed: try once more */
		struct ev_counts c2;

		if (ev_write(st, &it, 1, &c2) == SU_OK)
			rc = SU_OK;
		c.alerts += c2.alerts;
		c.over_limit += c2.over_limit;
	}
	ev_count(&c, rc == SU_OK);
out:
	free(it);
	return rc;
}

/*
 * ev_enqueue() puts it in the queue and wakes the recorder; the queue then
 * owns it. When the queue is full it waits up to wait_ms for room (0: not
 * at all). Returns false (caller still owns it) when the queue is full or
 * no recorder runs.
 */
static bool
ev_enqueue(struct ev_item *it, long wait_ms)
{
	bool queued = false;
	struct timespec until = ev_after(ev_now_mono(), wait_ms);

	pthread_mutex_lock(&ev.mu);
	while (ev.running && !ev.stopping && ev.n == ev.cap && wait_ms > 0) {
		if (pthread_cond_timedwait(&ev.space, &ev.mu, &until) != 0)
			break;
	}
	if (!ev.running || ev.stopping || ev.n == ev.cap)
		goto out;
	if (ev.n == 0)
		ev.first_at = ev_now_mono();
	ev.ring[(ev.head + ev.n) % ev.cap] = it;
	ev.n++;
	ev.stats.queued++;
	pthread_cond_signal(&ev.wake);
	queued = true;
out:
	pthread_mutex_unlock(&ev.mu);
	return queued;
}

/* events_match(): see events.h. */
enum su_rc
events_match(struct store *st, const struct events_match *m)
{
	struct ev_item *it = NULL;
	enum su_rc rc = ev_item_match_new(m, &it);

	if (rc != SU_OK)
		return rc;
	if (ev_enqueue(it, 0))
		return SU_OK;
	return ev_write_sync(st, it);
}

/* events_outcome(): see events.h. */
enum su_rc
events_outcome(struct store *st, const char *match_key, const char *outcome)
{
	struct ev_item *it = NULL;
	enum su_rc rc = ev_item_outcome_new(match_key, outcome, &it);

	if (rc != SU_OK)
		return rc;
	if (ev_enqueue(it, EV_OUTCOME_WAIT_MS))
		return SU_OK;
	return ev_write_sync(st, it);
}

/* events_match_key_new(): see events.h. */
enum su_rc
events_match_key_new(char out[EVENTS_KEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[EVENTS_KEY_LEN / 2];
	enum su_rc rc = xcrypt_random(r, sizeof(r));

	out[0] = '\0';
	if (rc != SU_OK)
		return rc;
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 0x0f];
	}
	out[EVENTS_KEY_LEN] = '\0';
	return SU_OK;
}

/* events_abandon_sweep(): see events.h. */
enum su_rc
events_abandon_sweep(struct store *st, int64_t now, int64_t *count)
{
	return store_policy_matches_abandon(st, now - EVENTS_ABANDON_AFTER, count);
}

/* ev_sweep() runs the abandon sweep for the recorder, logging its result. */
static void
ev_sweep(struct store *st)
{
	int64_t n = 0;

	if (events_abandon_sweep(st, (int64_t)time(NULL), &n) != SU_OK)
		log_warn("marking abandoned step-ups failed; will try again");
	else if (n > 0)
		log_info("%lld step-up match(es) abandoned", (long long)n);
}

/*
 * ev_recorder() is the recorder thread: wait for items, give a first item
 * EVENTS_BATCH_WAIT_MS to gather company, take up to EVENTS_BATCH_MAX,
 * write them (retrying transient failures; at stop a bounded number of
 * times), sweep abandoned step-ups every EV_SWEEP_EVERY seconds. Exits
 * when stopping and the queue is empty.
 */
static void *
ev_recorder(void *arg)
{
	struct store *st = arg;
	struct ev_item *batch[EVENTS_BATCH_MAX];
	struct timespec next_sweep = ev_now_mono(), until;
	size_t k;
	long pause_ms;
	int tries;
	enum su_rc rc;

	pthread_mutex_lock(&ev.mu);
	for (;;) {
		while (!ev.stopping && (ev.n == 0 || ev.hold) && ev_before(ev_now_mono(), next_sweep))
			pthread_cond_timedwait(&ev.wake, &ev.mu, &next_sweep);
		/* let a lone item gather company (never at stop) */
		until = ev_after(ev.first_at, EVENTS_BATCH_WAIT_MS);
		while (!ev.stopping && !ev.hold && ev.n > 0 && ev.n < EVENTS_BATCH_MAX &&
		       ev_before(ev_now_mono(), until))
			pthread_cond_timedwait(&ev.wake, &ev.mu, &until);
		k = 0;
		if (!ev.hold || ev.stopping) {
			while (k < EVENTS_BATCH_MAX && ev.n > 0) {
				batch[k++] = ev.ring[ev.head];
				ev.ring[ev.head] = NULL;
				ev.head = (ev.head + 1) % ev.cap;
				ev.n--;
			}
			if (ev.n > 0)
				ev.first_at = ev_now_mono();
			if (k > 0)
				pthread_cond_broadcast(&ev.space);
		}
		pthread_mutex_unlock(&ev.mu);

		pause_ms = 100;
		for (tries = 1; k > 0; tries++) {
			rc = ev_write_items(st, batch, k);
			if (rc == SU_OK)
				break;
			pthread_mutex_lock(&ev.mu);
			ev.stats.write_failures++;
			bool stopping = ev.stopping;
			pthread_mutex_unlock(&ev.mu);
			if (stopping && tries >= EV_STOP_WRITE_TRIES) {
				log_err("stopping: %zu queued policy match record(s) could not be written (%s)",
					k, su_rc_str(rc));
				break;
			}
			log_warn("writing %zu policy match record(s) failed (%s); retrying", k,
				 su_rc_str(rc));
			nanosleep(&(struct timespec){ pause_ms / 1000, (pause_ms % 1000) * 1000000L },
				  NULL);
			if (pause_ms < 5000)
				pause_ms *= 2;
		}
		for (size_t i = 0; i < k; i++)
			free(batch[i]);
		if (!ev_before(ev_now_mono(), next_sweep)) {
			ev_sweep(st);
			next_sweep = ev_after(ev_now_mono(), EV_SWEEP_EVERY * 1000L);
		}
		pthread_mutex_lock(&ev.mu);
		if (ev.stopping && ev.n == 0)
			break;
	}
	pthread_mutex_unlock(&ev.mu);
	return NULL;
}

/* events_signature(): see events.h. */
void
events_signature(const char *secret, const char *body, size_t len, char out[72])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[32];

	xcrypt_hmac_sha256((const unsigned char *)(secret != NULL ? secret : ""),
			   secret != NULL ? strlen(secret) : 0, body != NULL ? body : "", len, mac);
	memcpy(out, "sha256=", 7);
	for (size_t i = 0; i < sizeof(mac); i++) {
		out[7 + 2 * i] = hex[mac[i] >> 4];
		out[7 + 2 * i + 1] = hex[mac[i] & 0x0f];
	}
	out[71] = '\0';
}

/* ev_backoff() is the wait after the attempts-th failed attempt:
 * retry_min * 6^(attempts-1), at most retry_max (5 s, 30 s, 3 min, 18 min,
 * 1.8 h, 10.8 h, then 24 h with the defaults). */
static int64_t
ev_backoff(const struct cfg *c, int64_t attempts)
{
	int64_t max = c->alert_retry_max > 0 ? c->alert_retry_max : 86400;
	int64_t d = c->alert_retry_min > 0 ? c->alert_retry_min : 5;

	for (int64_t i = 1; i < attempts && d < max; i++)
		d *= 6;
	return d < max ? d : max;
}

/* ev_origin() writes the scheme://host[:port] part of url into out: what
 * logs and last_error show of a webhook URL, whose path or query often
 * carries a token. */
static void
ev_origin(const char *url, char *out, size_t outsz)
{
	const char *p = strstr(url, "://");
	size_t n = p != NULL ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strlen(url);

	snprintf(out, outsz, "%.*s", (int)(n < outsz ? n : outsz - 1), url);
}

/* ev_send_webhook() posts one alert to the configured webhook: the stored
 * payload plus alert_id and sent_at, signed. */
static enum su_rc
ev_send_webhook(const struct store_alert_delivery *d, int64_t now, char *err, size_t errsz)
{
	const struct cfg *c = ev.cfg;
	enum su_rc rc = SU_EINVAL;
	json_t *o = NULL;
	char *body = NULL, sig[72], sighdr[96], tshdr[64], idhdr[64], origin[300];
	char herr[EV_ERR_MAX];
	const char *hdrs[4];
	struct httpc_resp resp;
	bool have_resp = false;

	if (c->alert_webhook_url == NULL || c->alert_webhook_secret == NULL) {
		snprintf(err, errsz, "no webhook_url in [alerts]");
		goto out;
	}
	ev_origin(c->alert_webhook_url, origin, sizeof(origin));
	o = json_loads(d->payload, 0, NULL);
	if (o == NULL || !json_is_object(o) ||
	    json_object_set_new(o, "alert_id", json_integer((json_int_t)d->alert_id)) != 0 ||
	    json_object_set_new(o, "sent_at", json_integer((json_int_t)now)) != 0) {
		snprintf(err, errsz, "the stored alert is not a JSON object");
		goto out;
	}
	body = json_dumps(o, JSON_COMPACT);
	if (body == NULL) {
		rc = SU_ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	events_signature(c->alert_webhook_secret, body, strlen(body), sig);
	snprintf(sighdr, sizeof(sighdr), "X-Stepup-Signature: %s", sig);
	snprintf(tshdr, sizeof(tshdr), "X-Stepup-Timestamp: %lld", (long long)now);
	snprintf(idhdr, sizeof(idhdr), "X-Stepup-Alert-Id: %lld", (long long)d->alert_id);
	hdrs[0] = sighdr;
	hdrs[1] = tshdr;
	hdrs[2] = idhdr;
	hdrs[3] = NULL;
	rc = httpc_post_json(c->alert_webhook_url, c->alert_ca_file, body, hdrs,
			     (long)c->alert_webhook_timeout * 1000L, &ev.cancel, EV_HOOK_RESP_MAX, &resp,
			     herr, sizeof(herr));
	have_resp = true;
	if (rc != SU_OK) {
		/* httpc names the URL; keep only its origin */
		const char *why = strstr(herr, c->alert_webhook_url);

		why = why != NULL ? why + strlen(c->alert_webhook_url) : herr;
		log_seterr(err, errsz, "webhook %s%s%s", origin, why == herr ? ": " : "", why);
		rc = SU_EIO;
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		snprintf(err, errsz, "webhook %s answered HTTP %ld", origin, resp.status);
		rc = SU_EIO;
		goto out;
	}
	rc = SU_OK;
out:
	if (have_resp)
		httpc_resp_cleanup(&resp);
	free(body);
	json_decref(o);
	return rc;
}

/* ev_line() appends "Name:  value\n" to b with value cleaned to one line
 * (control bytes such as CR and LF become spaces, so a value can never
 * forge another line of the mail). NULL values are skipped. */
static enum su_rc
ev_line(struct buf *b, const char *name, const char *value)
{
	char clean[EV_PATH_MAX + 1];

	if (value == NULL || value[0] == '\0')
		return SU_OK;
	ev_clean(clean, value, EV_PATH_MAX);
	return buf_printf(b, "%-10s %s\n", name, clean);
}

/* ev_json_get() returns the string member key of o, or NULL. */
static const char *
ev_json_get(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ev_send_email() mails one alert to d->target through [alerts] smtp_url. */
static enum su_rc
ev_send_email(const struct store_alert_delivery *d, int64_t now, char *err, size_t errsz)
{
	const struct cfg *c = ev.cfg;
	enum su_rc rc = SU_EINVAL;
	json_t *o = NULL;
	struct buf text, msg, subject;
	struct smtp_server srv;
	unsigned char rnd[8];
	char msgid[96], idtext[32];
	const char *sev, *ctx;

	buf_init(&text, SMTP_MAX_MESSAGE / 2);
	buf_init(&msg, SMTP_MAX_MESSAGE);
	buf_init(&subject, 512);
	if (c->alert_smtp_url == NULL || c->alert_smtp_from == NULL) {
		snprintf(err, errsz, "no smtp_url in [alerts]");
		goto out;
	}
	o = json_loads(d->payload, 0, NULL);
	if (o == NULL || !json_is_object(o)) {
		snprintf(err, errsz, "the stored alert is not a JSON object");
		goto out;
	}
	sev = ev_json_get(o, "severity");
	ctx = ev_json_get(o, "context");
	snprintf(idtext, sizeof(idtext), "%lld", (long long)d->alert_id);
	rc = buf_printf(&subject, "[stepupd] %s alert: %s", sev != NULL ? sev : "policy",
			d->policy_name);
	if (rc == SU_OK)
		rc = buf_puts(&text, "A stepupd session policy matched a request.\n\n");
	if (rc == SU_OK)
		rc = ev_line(&text, "Policy:", d->policy_name);
	if (rc == SU_OK)
		rc = ev_line(&text, "Severity:", sev);
	if (rc == SU_OK)
		rc = ev_line(&text, "Category:", ev_json_get(o, "category"));
	if (rc == SU_OK)
		rc = ev_line(&text, "Decision:", ev_json_get(o, "decision"));
	if (rc == SU_OK)
		rc = ev_line(&text, "Context:", ctx);
	if (rc == SU_OK)
		rc = ev_line(&text, "User:", ev_json_get(o, "user"));
	if (rc == SU_OK)
		rc = ev_line(&text, "App:", ev_json_get(o, "app"));
	if (rc == SU_OK)
		rc = ev_line(&text, "Activity:", ev_json_get(o, "activity"));
	if (rc == SU_OK)
		rc = ev_line(&text, "File:", ev_json_get(o, "file"));
	if (rc == SU_OK)
		rc = ev_line(&text, "Label:", ev_json_get(o, "label"));
	if (rc == SU_OK)
		rc = ev_line(&text, "Path:", ev_json_get(o, "path"));
	if (rc == SU_OK)
		rc = ev_line(&text, "Time:", ev_json_get(o, "time"));
	if (rc == SU_OK)
		rc = ev_line(&text, "Alert id:", idtext);
	if (rc == SU_OK)
		rc = buf_puts(&text, "\nAt most the policy's daily limit of alerts is sent per UTC day.\n");
	if (rc == SU_OK)
		rc = xcrypt_random(rnd, sizeof(rnd));
	if (rc != SU_OK) {
		snprintf(err, errsz, "building the message: %s", su_rc_str(rc));
		goto out;
	}
	snprintf(msgid, sizeof(msgid), "stepupd-alert-%lld-%lld-%02x%02x%02x%02x%02x%02x%02x%02x",
		 (long long)d->alert_id, (long long)d->id, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
		 rnd[5], rnd[6], rnd[7]);
	rc = smtp_message_build(c->alert_smtp_from, d->target, buf_cstr(&subject), buf_cstr(&text),
				now, msgid, &msg);
	if (rc != SU_OK) {
		snprintf(err, errsz, "building the message: %s", su_rc_str(rc));
		goto out;
	}
	memset(&srv, 0, sizeof(srv));
	srv.url = c->alert_smtp_url;
	srv.username = c->alert_smtp_username;
	srv.password = c->alert_smtp_password;
	srv.ca_file = c->alert_ca_file;
	srv.timeout_ms = (long)c->alert_smtp_timeout * 1000L;
	srv.cancel = &ev.cancel;
	rc = smtp_send(&srv, c->alert_smtp_from, d->target, msg.data, msg.len, err, errsz);
out:
	json_decref(o);
	buf_cleanup(&subject);
	buf_cleanup(&msg);
	buf_cleanup(&text);
	return rc;
}

/* ev_deliver_one() sends one delivery and records the result. A send cut
 * short by events_stop() is not recorded: the row stays due. Returns 0, or
 * the time of the next attempt when the failure means the channel's server
 * is down (any webhook failure; an SMTP server that cannot be used at all)
 * so the caller holds back that channel's other rows until then; the
 * reason is then in why (whysz bytes). */
static int64_t
ev_deliver_one(struct store *st, const struct store_alert_delivery *d, char *why, size_t whysz)
{
	char err[EV_ERR_MAX];
	int64_t now = (int64_t)time(NULL), next;
	enum su_rc rc;
	bool email = strcmp(d->channel, "email") == 0;

	err[0] = '\0';
	if (email)
		rc = ev_send_email(d, now, err, sizeof(err));
	else if (strcmp(d->channel, "webhook") == 0)
		rc = ev_send_webhook(d, now, err, sizeof(err));
	else {
		snprintf(err, sizeof(err), "unknown channel");
		rc = SU_EINVAL;
	}
	if (rc != SU_OK && atomic_load(&ev.cancel))
		return 0;
	now = (int64_t)time(NULL);
	pthread_mutex_lock(&ev.mu);
	if (rc == SU_OK)
		ev.stats.delivered++;
	else
		ev.stats.delivery_failures++;
	pthread_mutex_unlock(&ev.mu);
	if (rc == SU_OK) {
		if (store_alert_mark_sent(st, d->id, now) != SU_OK)
			log_err("alert %lld: sent, but marking it sent failed (it may be sent again)",
				(long long)d->alert_id);
		return 0;
	}
	next = now + ev_backoff(ev.cfg, d->attempts + 1);
	log_warn("alert %lld (%s, policy \"%s\"): attempt %lld failed: %s; next in %lld s",
		 (long long)d->alert_id, d->channel, d->policy_name, (long long)d->attempts + 1, err,
		 (long long)(next - now));
	if (store_alert_mark_failed(st, d->id, now, next, err) != SU_OK)
		log_err("alert %lld: recording the failed attempt failed", (long long)d->alert_id);
	if (email && rc != SU_EIO && rc != SU_EINVAL)
		return 0;
	snprintf(why, whysz, "not tried: the %s server is down (%s)", d->channel, err);
	return next;
}

/*
 * ev_deliverer() is the delivery thread: send what is due, then sleep
 * until the next row is due (at most EV_IDLE_WAKE s), new alerts arrive
 * or events_stop() cancels. Its sends never block the recorder: they run
 * on another thread and another connection. When a channel's server is
 * found down, that channel's other due rows are deferred to the same
 * retry time without an attempt (a circuit breaker), so a dead SMTP server
 * costs one timeout per retry, not one per mail, and does not starve the
 * webhook.
 */
static void *
ev_deliverer(void *arg)
{
	struct store *st = arg;
	struct store_alert_delivery *v;
	struct timespec until;
	size_t n;
	int64_t next, wait, down_until[2] = { 0, 0 }; /* [0] webhook, [1] email */
	char down_why[2][EV_ERR_MAX + 64];
	enum su_rc rc;

	while (!atomic_load(&ev.cancel)) {
		v = NULL;
		n = 0;
		rc = store_alert_due(st, (int64_t)time(NULL), EV_DUE_BATCH, &v, &n);
		for (size_t i = 0; rc == SU_OK && i < n && !atomic_load(&ev.cancel); i++) {
			int ch = strcmp(v[i].channel, "email") == 0 ? 1 : 0;

			if (down_until[ch] > (int64_t)time(NULL)) {
				if (store_alert_defer(st, v[i].id, down_until[ch], down_why[ch]) != SU_OK)
					log_err("alert %lld: deferring failed", (long long)v[i].alert_id);
				continue;
			}
			down_until[ch] = ev_deliver_one(st, &v[i], down_why[ch], sizeof(down_why[ch]));
		}
		store_alert_delivery_list_free(v, n);
		if (rc == SU_OK && n == EV_DUE_BATCH)
			continue;
		wait = EV_IDLE_WAKE;
		if (rc == SU_OK && store_alert_next_due(st, &next) == SU_OK) {
			wait = next - (int64_t)time(NULL);
			wait = wait < 0 ? 0 : (wait > EV_IDLE_WAKE ? EV_IDLE_WAKE : wait);
		}
		if (rc != SU_OK)
			wait = 1; /* the store failed: look again soon */
		until = ev_after(ev_now_mono(), (long)wait * 1000L);
		pthread_mutex_lock(&ev.mu);
		while (!ev.dkick && !atomic_load(&ev.cancel) && ev_before(ev_now_mono(), until))
			pthread_cond_timedwait(&ev.dwake, &ev.mu, &until);
		ev.dkick = false;
		pthread_mutex_unlock(&ev.mu);
	}
	return NULL;
}

/* events_start(): see events.h. */
enum su_rc
events_start(const struct cfg *cfg, const char *migrations_dir, size_t queue_max)
{
	enum su_rc rc = SU_EINVAL;
	struct store *rs = NULL, *ds = NULL;
	struct ev_item **ring = NULL;
	bool rec_started = false;

	pthread_once(&ev_once, ev_init_conds);
	if (cfg == NULL || cfg->db_path == NULL || migrations_dir == NULL)
		return SU_EINVAL;
	pthread_mutex_lock(&ev.mu);
	if (ev.running) {
		pthread_mutex_unlock(&ev.mu);
		return SU_EINVAL;
	}
	pthread_mutex_unlock(&ev.mu);
	if (queue_max == 0)
		queue_max = EVENTS_QUEUE_MAX;
	rc = store_open(cfg->db_path, migrations_dir, &rs);
	if (rc == SU_OK)
		rc = store_open(cfg->db_path, migrations_dir, &ds);
	if (rc != SU_OK)
		goto out;
	rc = SU_ENOMEM;
	ring = calloc(queue_max, sizeof(*ring));
	if (ring == NULL)
		goto out;
	pthread_mutex_lock(&ev.mu);
	ev.ring = ring;
	ev.cap = queue_max;
	ev.head = 0;
	ev.n = 0;
	ev.cfg = cfg;
	ev.running = true;
	ev.stopping = false;
	ev.hold = false;
	ev.dkick = true;
	memset(&ev.stats, 0, sizeof(ev.stats));
	atomic_store(&ev.cancel, false);
	ev.rec_st = rs;
	ev.del_st = ds;
	pthread_mutex_unlock(&ev.mu);
	ring = NULL;
	rc = SU_EIO;
	if (pthread_create(&ev.rec, NULL, ev_recorder, rs) != 0)
		goto out;
	rec_started = true;
	if (pthread_create(&ev.del, NULL, ev_deliverer, ds) != 0)
		goto out;
	rs = NULL;
	ds = NULL;
	rc = SU_OK;
out:
	if (rc != SU_OK) {
		pthread_mutex_lock(&ev.mu);
		ev.stopping = true;
		pthread_cond_broadcast(&ev.wake);
		pthread_mutex_unlock(&ev.mu);
		if (rec_started)
			pthread_join(ev.rec, NULL);
		pthread_mutex_lock(&ev.mu);
		if (ev.ring != NULL && ev.running) {
			free(ev.ring);
			ev.ring = NULL;
		}
		ev.running = false;
		ev.rec_st = ev.del_st = NULL;
		pthread_mutex_unlock(&ev.mu);
		store_close(rs);
		store_close(ds);
		free(ring);
		log_err("cannot start the policy event recorder: %s", su_rc_str(rc));
	}
	return rc;
}

/* events_stop(): see events.h. */
void
events_stop(void)
{
	pthread_once(&ev_once, ev_init_conds);
	pthread_mutex_lock(&ev.mu);
	if (!ev.running || ev.stopping) {
		pthread_mutex_unlock(&ev.mu);
		return;
	}
	ev.stopping = true;
	pthread_cond_broadcast(&ev.wake);
	pthread_cond_broadcast(&ev.space);
	pthread_mutex_unlock(&ev.mu);
	/* the recorder writes everything queued before it returns */
	pthread_join(ev.rec, NULL);
	atomic_store(&ev.cancel, true);
	pthread_mutex_lock(&ev.mu);
	pthread_cond_broadcast(&ev.dwake);
	pthread_mutex_unlock(&ev.mu);
	pthread_join(ev.del, NULL);
	pthread_mutex_lock(&ev.mu);
	store_close(ev.rec_st);
	store_close(ev.del_st);
	ev.rec_st = ev.del_st = NULL;
	for (size_t i = 0; i < ev.n; i++)
		free(ev.ring[(ev.head + i) % ev.cap]);
	free(ev.ring);
	ev.ring = NULL;
	ev.cap = ev.n = ev.head = 0;
	ev.running = false;
	ev.stopping = false;
	pthread_mutex_unlock(&ev.mu);
}

/* events_stats_get(): see events.h. */
void
events_stats_get(struct events_stats *out)
{
	pthread_mutex_lock(&ev.mu);
	*out = ev.stats;
	out->depth = ev.n;
	pthread_mutex_unlock(&ev.mu);
}

/* events_test_hold(): see events.h. */
void
events_test_hold(bool hold)
{
	pthread_once(&ev_once, ev_init_conds);
	pthread_mutex_lock(&ev.mu);
	ev.hold = hold;
	pthread_cond_broadcast(&ev.wake);
	pthread_mutex_unlock(&ev.mu);
}
