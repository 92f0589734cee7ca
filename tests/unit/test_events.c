/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_events.c: the policy-match recorder and alert outbox (events.c,
 * store_alert.c) and the mail pieces they use (smtp.c), against a SQLite
 * file in a mkdtemp() directory with the real migrations: synchronous
 * writes before start, queue -> store batches, outcome updates, refused
 * matches, text cleaning, the daily limit (also across a restart), the
 * queue-full fallback, the flush at stop, abandoned step-ups, and failed
 * deliveries kept pending with their error. Delivery to live receivers is
 * covered by tests/integration/test_alerts.sh.
 *
 * Waits poll with a generous bound; nothing asserts on time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cfg.h"
#include "events.h"
#include "httpc.h"
#include "policy.h"
#include "smtp.h"
#include "store.h"
#include "store_alert.h"
#include "t.h"

#define MIG "db/migrations"
#define DAY 86400

static char tmpdir[] = "/tmp/test_events.XXXXXX";
static char dbpath[PATH_MAX];
static const char *HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* rm_cb() removes one file of the temporary tree. */
static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* q() runs a one-number query on st (-1 on error). */
static long long
q(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* qs() runs a one-text query on st into out ("" when none). */
static void
qs(struct store *st, const char *sql, char *out, size_t outsz)
{
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(out, outsz, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* wait_count() polls until sql gives want (at most 20 s); returns the last value. */
static long long
wait_count(struct store *st, const char *sql, long long want)
{
	long long v = -1;

	for (int i = 0; i < 2000; i++) {
		v = q(st, sql);
		if (v == want)
			break;
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	}
	return v;
}

/* recorded() is the recorder's count of match rows written so far. */
static uint64_t
recorded(void)
{
	struct events_stats s;

	events_stats_get(&s);
	return s.recorded;
}

/* wait_recorded() polls until the queue is empty and the count of match
 * rows written (with their alerts) reaches want, at most 20 s. */
static bool
wait_recorded(uint64_t want)
{
	struct events_stats s;

	for (int i = 0; i < 2000; i++) {
		events_stats_get(&s);
		if (s.depth == 0 && s.recorded >= want)
			return true;
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	}
	return false;
}

/* closed_port() returns a loopback port nothing listens on. */
static int
closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static char *alert_emails[] = { (char *)"secops@example.org", (char *)"bad address@x",
				(char *)"soc@example.org" };

/* policy_init() fills a policy held by the test (static strings). */
static void
policy_init(struct policy *p, int64_t id, const char *name, bool alerts, unsigned limit)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->name = (char *)name;
	p->description = (char *)"";
	p->category = (char *)"DLP";
	p->severity = POLICY_SEV_HIGH;
	p->enabled = true;
	p->session_control = POLICY_CTL_CONTROL_FILE_DOWNLOAD;
	p->action = POLICY_ACTION_STEP_UP;
	p->context = (char *)"c1";
	p->alerts.enabled = alerts;
	p->alerts.daily_limit = limit;
	p->alerts.webhook = true;
	p->alerts.email = alert_emails;
	p->alerts.n_email = 3;
}

/* match_init() fills a step-up match of p at ts. */
static void
match_init(struct events_match *m, const struct policy *p, int64_t ts, const char *key)
{
	memset(m, 0, sizeof(*m));
	m->policy = p;
	m->ts = ts;
	m->session_hash = HASH;
	m->user = "alice";
	m->app = "files";
	m->file_name = "report.pdf";
	m->file_label = "Confidential";
	m->activity = "download";
	m->path = "/files/report.pdf";
	m->decision = "step_up";
	m->context = "c1";
	m->outcome = "pending";
	m->match_key = key;
}

/* test_smtp() checks address validation, header cleaning and the message. */
static void
test_smtp(void)
{
	static const char *good[] = { "a@b", "secops@example.org", "first.last+tag@sub.example-1.org",
				      "x!#$%&'*+/=?^_`{|}~-@example.org", ".a..b.@example.org" };
	static const char *bad[] = { "", "a", "@b", "a@", "a@@b", "a b@c", "a@b c", "<a@b>",
				     "a@b\r\nBcc: x@y", "a\n@b", "a(b)@c", "a;b@c", "a:b@c", "a\\b@c",
				     "a@-b", "a@b-", "a@b..c", "a@b_c", "a@.b", "\"q\"@b", "a@b>",
				     "a@b,c@d", "a@[127.0.0.1]" };
	char longlocal[80], longaddr[300];
	struct buf b;
	const char *s;
	bool ok;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_OK(smtp_address_ok(good[i]), "address accepted: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(!smtp_address_ok(bad[i]), "address refused #%zu", i);
	T_OK(!smtp_address_ok(NULL), "NULL address refused");
	memset(longlocal, 'a', 65);
	snprintf(longlocal + 65, sizeof(longlocal) - 65, "@b");
	T_OK(!smtp_address_ok(longlocal), "local part over 64 bytes refused");
	memset(longaddr, 'a', 250);
	memcpy(longaddr, "a@", 2);
	longaddr[250] = '\0';
	T_OK(!smtp_address_ok(longaddr), "label over 63 bytes refused");

	buf_init(&b, 4096);
	T_OK(smtp_header_value(&b, "Policy\r\nBcc: victim@example.org", 200) == SU_OK &&
		     strchr(buf_cstr(&b), '\r') == NULL && strchr(buf_cstr(&b), '\n') == NULL,
	     "CR/LF in a header value never reach the header (%s)", buf_cstr(&b));
	T_OK(strcmp(buf_cstr(&b), "Policy Bcc: victim@example.org") == 0, "and become one space");
	buf_reset(&b);
	smtp_header_value(&b, "  plain\ttext  ", 200);
	T_OK(strcmp(buf_cstr(&b), "plain text") == 0, "blanks trimmed and folded (%s)", buf_cstr(&b));
	buf_reset(&b);
	smtp_header_value(&b, "Téléchargement de fichiers étiquetés depuis un appareil non géré", 200);
	s = buf_cstr(&b);
	T_OK(strncmp(s, "=?UTF-8?B?", 10) == 0, "non-ASCII becomes RFC 2047 encoded words");
	ok = true;
	for (const char *line = s; *line != '\0';) {
		size_t len = strcspn(line, "\r");

		if (len > 76 || (line != s && line[0] != ' '))
			ok = false;
		line += len;
		if (*line == '\r') {
			if (line[1] != '\n')
				ok = false;
			line += 2;
		}
	}
	T_OK(ok && strstr(s, "\r\n ") != NULL, "encoded words are folded, lines at most 76 (%zu bytes)",
	     strlen(s));
	buf_reset(&b);
	smtp_header_value(&b, "bad \xff\xfe utf8", 200);
	T_OK(strstr(buf_cstr(&b), "=?UTF-8?B?") != NULL, "malformed UTF-8 is encoded, not passed raw");
	buf_reset(&b);
	smtp_header_value(&b, "=?UTF-8?B?Zm9v?=", 200);
	T_OK(strcmp(buf_cstr(&b), "=?UTF-8?B?Zm9v?=") != 0, "text that looks encoded is encoded again");
	buf_reset(&b);
	smtp_header_value(&b, "0123456789abcdefghij", 10);
	T_OK(strcmp(buf_cstr(&b), "0123456789") == 0, "cut at max bytes");

	buf_reset(&b);
	T_OK(smtp_message_build("alerts@stepupd.test", "soc@example.org", "Subject\nX-Evil: 1",
				"line one\nline two\r\n.\nend\x01", 0, "id-1.a", &b) == SU_OK,
	     "message built");
	s = buf_cstr(&b);
	T_OK(strstr(s, "From: <alerts@stepupd.test>\r\n") != NULL, "From header");
	T_OK(strstr(s, "To: <soc@example.org>\r\n") != NULL, "To header");
	T_OK(strstr(s, "Subject: Subject X-Evil: 1\r\n") != NULL && strstr(s, "\r\nX-Evil") == NULL,
	     "subject cannot add a header");
	T_OK(strstr(s, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != NULL, "RFC 5322 date in UTC");
	T_OK(strstr(s, "Message-ID: <id-1.a@stepupd.test>\r\n") != NULL, "Message-ID");
	T_OK(strstr(s, "\r\n\r\nline one\r\nline two\r\n.\r\nend\r\n") != NULL,
	     "body lines end in CRLF, control bytes dropped");
	T_OK(strstr(s, "Content-Transfer-Encoding: 7bit") != NULL, "ASCII body is 7bit");
	buf_reset(&b);
	T_OK(smtp_message_build("alerts@stepupd.test", "a@b\r\nRCPT TO:<x@y>", "s", "b", 0, "id",
				&b) == SU_EINVAL && b.len == 0,
	     "a recipient with CRLF is refused");
	T_OK(smtp_message_build("bad", "a@b", "s", "b", 0, "id", &b) == SU_EINVAL, "a bad sender is refused");
	T_OK(smtp_message_build("a@b", "a@b", "s", "b", 0, "id>\r\nX: y", &b) == SU_EINVAL,
	     "a bad Message-ID part is refused");
	buf_cleanup(&b);
}

/* test_signature() checks the webhook signature with RFC 4231 test case 2. */
static void
test_signature(void)
{
	char sig[72];
	const char *body = "what do ya want for nothing?";

	events_signature("Jefe", body, strlen(body), sig);
	T_OK(strcmp(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0,
	     "X-Stepup-Signature is sha256=<hex HMAC-SHA256> (RFC 4231 case 2)");
}

/* test_sync(): before events_start() a match is written at once on the
 * caller's connection; refused matches write nothing; text is cleaned. */
static void
test_sync(struct store *st)
{
	struct policy p;
	struct events_match m;
	char longpath[6000], text[5000], key[EVENTS_KEY_LEN + 1], longkey[200];
	long long before = q(st, "SELECT count(*) FROM policy_matches");

	policy_init(&p, 1, "sync policy", false, 0);
	match_init(&m, &p, (int64_t)time(NULL), "k-sync");
	T_OK(events_match(st, &m) == SU_OK, "match before start: SU_OK");
	T_OK(q(st, "SELECT count(*) FROM policy_matches") == before + 1,
	     "written synchronously (no recorder running)");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE match_key = 'k-sync' AND user = 'alice' "
		   "AND file_label = 'Confidential' AND decision = 'step_up' AND outcome = 'pending' "
		   "AND policy_id = 1 AND policy_name = 'sync policy' AND session_hash IS NOT NULL") == 1,
	     "every field stored");
	T_OK(events_outcome(st, "k-sync", "stepped_up") == SU_OK, "outcome before start: SU_OK");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE match_key = 'k-sync' AND outcome = 'stepped_up'") == 1,
	     "outcome applied synchronously");
	T_OK(events_outcome(st, "no-such-key", "stepped_up") == SU_OK,
	     "an outcome for an unknown key is not an error");

	/* refused: nothing written */
	before = q(st, "SELECT count(*) FROM policy_matches");
	m.decision = "maybe";
	T_OK(events_match(st, &m) == SU_EINVAL, "unknown decision refused");
	m.decision = "step_up";
	m.outcome = "bogus";
	T_OK(events_match(st, &m) == SU_EINVAL, "unknown outcome refused");
	m.outcome = "pending";
	m.policy = NULL;
	T_OK(events_match(st, &m) == SU_EINVAL, "no policy refused");
	m.policy = &p;
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	m.match_key = longkey;
	T_OK(events_match(st, &m) == SU_EINVAL, "match_key over 128 bytes refused");
	T_OK(events_match(st, NULL) == SU_EINVAL, "NULL match refused");
	T_OK(q(st, "SELECT count(*) FROM policy_matches") == before, "refused matches wrote nothing");
	T_OK(events_outcome(st, NULL, "stepped_up") == SU_EINVAL, "outcome without key refused");
	T_OK(events_outcome(st, "", "stepped_up") == SU_EINVAL, "outcome with empty key refused");
	T_OK(events_outcome(st, "k", "pending") == SU_EINVAL, "outcome back to pending refused");
	T_OK(events_outcome(st, "k", "won") == SU_EINVAL, "unknown outcome refused");
	T_OK(events_outcome(st, longkey, "stepped_up") == SU_EINVAL, "overlong key refused");

	/* cleaning: malformed UTF-8, control bytes, overlong text, a bad hash */
	match_init(&m, &p, (int64_t)time(NULL), "k-clean");
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	memset(text, 'u', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	m.path = longpath;
	m.app = text;
	m.user = "al\xffice\r\nX: y";
	m.file_name = "caf\xc3\xa9.pdf";
	m.session_hash = "NOT-A-HASH";
	T_OK(events_match(st, &m) == SU_OK, "a match with hostile text is recorded");
	T_OK(q(st, "SELECT length(CAST(path AS BLOB)) FROM policy_matches WHERE match_key = 'k-clean'") == 4096,
	     "path cut to 4096 bytes");
	T_OK(q(st, "SELECT length(CAST(app AS BLOB)) FROM policy_matches WHERE match_key = 'k-clean'") == 1024,
	     "app cut to 1024 bytes");
	qs(st, "SELECT user FROM policy_matches WHERE match_key = 'k-clean'", text, sizeof(text));
	T_OK(strcmp(text, "al?ice  X: y") == 0, "malformed UTF-8 -> '?', control bytes -> ' ' (%s)", text);
	qs(st, "SELECT file_name FROM policy_matches WHERE match_key = 'k-clean'", text, sizeof(text));
	T_OK(strcmp(text, "caf\xc3\xa9.pdf") == 0, "valid UTF-8 kept");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE match_key = 'k-clean' AND session_hash IS NULL") == 1,
	     "a session_hash that is not a SHA-256 hex is not stored");
	T_OK(events_match_key_new(key) == SU_OK && strlen(key) == EVENTS_KEY_LEN &&
		     strspn(key, "0123456789abcdef") == EVENTS_KEY_LEN,
	     "match keys are 32 hex characters");
}

/* test_queue(): matches and outcomes go through the recorder, in order. */
static void
test_queue(struct store *st)
{
	struct policy p;
	struct events_match m;
	struct events_stats s;
	char key[32];
	int64_t now = (int64_t)time(NULL);

	policy_init(&p, 2, "queued policy", false, 0);
	for (int i = 0; i < 600; i++) {
		snprintf(key, sizeof(key), "q-%d", i);
		match_init(&m, &p, now, key);
		if (events_match(NULL, &m) != SU_OK)
			break;
		/* outcome queued right behind its match: must find it */
		if (i % 100 == 0)
			events_outcome(NULL, key, "stepped_up");
	}
	T_OK(wait_recorded(600), "600 queued matches recorded");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE policy_id = 2") == 600,
	     "600 rows in policy_matches");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE policy_id = 2 AND outcome = 'stepped_up'") == 6,
	     "outcomes queued behind their matches applied (6)");
	events_stats_get(&s);
	T_OK(s.queued == 606 && s.sync_writes == 0, "all went through the queue (queued %llu, sync %llu)",
	     (unsigned long long)s.queued, (unsigned long long)s.sync_writes);
	T_OK(q(st, "SELECT count(*) FROM alerts WHERE policy_id = 2") == 0,
	     "a policy without alerts creates none");
}

/* test_limit(): the daily limit, per policy and UTC day, from the outbox. */
static void
test_limit(struct store *st)
{
	struct policy p, p2;
	struct events_match m;
	struct events_stats s;
	int64_t day = ((int64_t)time(NULL) / DAY) * DAY;
	uint64_t base = recorded();

	policy_init(&p, 10, "alerting policy", true, 2);
	policy_init(&p2, 11, "other alerting policy", true, 1);
	p2.alerts.webhook = false;
	p2.alerts.n_email = 0;
	for (int i = 0; i < 5; i++) {
		match_init(&m, &p, day + 100 + i, NULL);
		events_match(NULL, &m);
	}
	match_init(&m, &p, day + DAY + 5, NULL); /* the next UTC day */
	events_match(NULL, &m);
	match_init(&m, &p, day + DAY - 1, NULL); /* the last second of the first day */
	events_match(NULL, &m);
	for (int i = 0; i < 3; i++) {
		match_init(&m, &p2, day + 200 + i, NULL);
		events_match(NULL, &m);
	}
	T_OK(wait_recorded(base + 10), "10 matches recorded");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE policy_id IN (10, 11)") == 10,
	     "every match recorded, over the limit or not");
	T_OK(q(st, "SELECT count(*) FROM alerts WHERE policy_id = 10 AND day = (SELECT min(day) FROM alerts WHERE policy_id = 10)") == 2,
	     "daily_limit 2: two alerts on the first day");
	T_OK(q(st, "SELECT count(*) FROM alerts WHERE policy_id = 10") == 3, "and one on the next day");
	T_OK(q(st, "SELECT count(*) FROM alerts WHERE policy_id = 11") == 1,
	     "another policy has its own limit (1)");
	T_OK(q(st, "SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		   "WHERE a.policy_id = 10 AND d.channel = 'webhook'") == 3,
	     "one webhook delivery per alert");
	T_OK(q(st, "SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		   "WHERE a.policy_id = 10 AND d.channel = 'email'") == 6,
	     "one mail delivery per valid recipient (the bad address skipped)");
	T_OK(q(st, "SELECT count(*) FROM alert_deliveries WHERE target = 'bad address@x'") == 0,
	     "a recipient that is not a plain address gets nothing");
	T_OK(q(st, "SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		   "WHERE a.policy_id = 11") == 0,
	     "alerts with no destination are counted but deliver nothing");
	T_OK(q(st, "SELECT count(*) FROM alerts WHERE policy_id = 10 AND json_extract(payload, '$.policy') = 'alerting policy' "
		   "AND json_extract(payload, '$.severity') = 'high' AND json_extract(payload, '$.label') = 'Confidential' "
		   "AND json_extract(payload, '$.decision') = 'step_up' AND json_extract(payload, '$.user') = 'alice' "
		   "AND json_extract(payload, '$.session') IS NULL") == 3,
	     "payload carries policy, severity, label, decision, user; no session");
	events_stats_get(&s);
	T_OK(s.alerts == 4 && s.alerts_over_limit == 6 && s.recorded == base + 10, "stats: 4 alerts, 6 over the limit (%llu, %llu)",
	     (unsigned long long)s.alerts, (unsigned long long)s.alerts_over_limit);
}

/* test_limit_restart(): the limit holds after a restart (it is counted
 * from the outbox, not kept in memory). */
static void
test_limit_restart(struct store *st, const struct cfg *c)
{
	struct policy p;
	struct events_match m;
	int64_t day = ((int64_t)time(NULL) / DAY) * DAY;

	events_stop();
	T_OK(events_start(c, MIG, 0) == SU_OK, "restarted");
	policy_init(&p, 10, "alerting policy", true, 2);
	match_init(&m, &p, day + 300, NULL);
	events_match(NULL, &m);
	T_OK(wait_recorded(1), "match after restart recorded");
	T_OK(q(st, "SELECT count(*) FROM alerts WHERE policy_id = 10") == 3,
	     "no alert over the limit after a restart");
}

/* test_overflow(): a full queue falls back to a synchronous write. */
static void
test_overflow(struct store *st, const struct cfg *c)
{
	struct policy p;
	struct events_match m;
	struct events_stats s;
	int64_t now = (int64_t)time(NULL);

	events_stop();
	T_OK(events_start(c, MIG, 4) == SU_OK, "started with a queue of 4");
	events_test_hold(true);
	policy_init(&p, 20, "overflow policy", true, 100);
	for (int i = 0; i < 4; i++) {
		match_init(&m, &p, now, NULL);
		T_OK(events_match(NULL, &m) == SU_OK, "queued %d", i + 1);
	}
	events_stats_get(&s);
	T_OK(s.depth == 4, "queue full (depth %zu)", s.depth);
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE policy_id = 20") == 0,
	     "held: nothing written yet");
	match_init(&m, &p, now, NULL);
	T_OK(events_match(NULL, &m) == SU_EINVAL, "full queue and no store connection: refused, logged");
	T_OK(events_match(st, &m) == SU_OK, "full queue: written on the caller's connection");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE policy_id = 20") == 1,
	     "the fifth match is in the store at once");
	T_OK(q(st, "SELECT count(*) FROM alerts WHERE policy_id = 20") == 1,
	     "with its alert (same write)");
	events_stats_get(&s);
	T_OK(s.sync_writes == 1, "counted as a synchronous write");
	events_test_hold(false);
	T_OK(wait_count(st, "SELECT count(*) FROM policy_matches WHERE policy_id = 20", 5) == 5,
	     "released: the queued four follow");
	T_OK(wait_count(st, "SELECT count(*) FROM alerts WHERE policy_id = 20", 5) == 5,
	     "with their alerts");
}

/* test_stop_flush(): events_stop() writes everything queued. */
static void
test_stop_flush(struct store *st, const struct cfg *c)
{
	struct policy p;
	struct events_match m;
	struct events_stats s;
	int64_t now = (int64_t)time(NULL);
	int queued = 0;

	events_stop();
	T_OK(events_start(c, MIG, 0) == SU_OK, "started");
	events_test_hold(true);
	policy_init(&p, 30, "flush policy", false, 0);
	for (int i = 0; i < 1500; i++) {
		match_init(&m, &p, now, NULL);
		if (events_match(NULL, &m) == SU_OK)
			queued++;
	}
	events_stats_get(&s);
	T_OK(queued == 1500 && s.depth == 1500, "1500 matches held in the queue (depth %zu)", s.depth);
	events_stop();
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE policy_id = 30") == 1500,
	     "events_stop() wrote all 1500 before returning");
	events_stop();
	T_OK(true, "a second events_stop() is a no-op");
	match_init(&m, &p, now, NULL);
	T_OK(events_match(st, &m) == SU_OK &&
		     q(st, "SELECT count(*) FROM policy_matches WHERE policy_id = 30") == 1501,
	     "after stop, matches are written synchronously");
}

/* test_abandon(): pending step-ups older than EVENTS_ABANDON_AFTER. */
static void
test_abandon(struct store *st)
{
	struct policy p;
	struct events_match m;
	int64_t now = (int64_t)time(NULL), n = -1;

	policy_init(&p, 40, "abandon policy", false, 0);
	match_init(&m, &p, now - EVENTS_ABANDON_AFTER - 5, "old");
	events_match(st, &m);
	match_init(&m, &p, now - 10, "young");
	events_match(st, &m);
	match_init(&m, &p, now - EVENTS_ABANDON_AFTER - 5, "old-blocked");
	m.decision = "block";
	m.outcome = "blocked";
	events_match(st, &m);
	T_OK(events_abandon_sweep(st, now, &n) == SU_OK && n >= 1, "sweep ran (%lld)", (long long)n);
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE match_key = 'old' AND outcome = 'abandoned'") == 1,
	     "an old pending step-up is abandoned");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE match_key = 'young' AND outcome = 'pending'") == 1,
	     "a recent one stays pending");
	T_OK(q(st, "SELECT count(*) FROM policy_matches WHERE match_key = 'old-blocked' AND outcome = 'blocked'") == 1,
	     "a final outcome is never changed");
	T_OK(events_outcome(st, "old", "stepped_up") == SU_OK &&
		     q(st, "SELECT count(*) FROM policy_matches WHERE match_key = 'old' AND outcome = 'abandoned'") == 1,
	     "a late outcome does not resurrect an abandoned match");
}

/* test_delivery_failure(): dead receivers: deliveries stay pending with
 * their attempts and last error; nothing is dropped. */
static void
test_delivery_failure(struct store *st, struct cfg *c)
{
	struct policy p;
	struct events_match m;
	struct store_alert_counts cnt;
	char url[64], smtp[64], err[600];
	long long n;

	events_stop();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook?token=sekrit", closed_port());
	snprintf(smtp, sizeof(smtp), "smtp://127.0.0.1:%d", closed_port());
	c->alert_webhook_url = url;
	c->alert_webhook_secret = (char *)"0123456789abcdef0123";
	c->alert_smtp_url = smtp;
	c->alert_smtp_from = (char *)"alerts@stepupd.test";
	c->alert_webhook_timeout = 5;
	c->alert_smtp_timeout = 5;
	c->alert_retry_min = 1;
	c->alert_retry_max = 1;
	/* only this test's deliveries are pending, so which row is tried is known */
	q(st, "UPDATE alert_deliveries SET status = 'sent' WHERE status = 'pending'");
	T_OK(events_start(c, MIG, 0) == SU_OK, "started with dead receivers");
	policy_init(&p, 50, "dead receivers", true, 10);
	match_init(&m, &p, (int64_t)time(NULL), NULL);
	T_OK(events_match(NULL, &m) == SU_OK, "match queued");
	T_OK(wait_recorded(1), "recorded although the receivers are down");
	n = wait_count(st, "SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
			   "WHERE a.policy_id = 50 AND d.status = 'pending' AND d.attempts >= 2 "
			   "AND d.last_error IS NOT NULL", 2);
	T_OK(n == 2, "the webhook and the first mail tried at least twice, still pending, with an error (%lld)",
	     n);
	T_OK(q(st, "SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		   "WHERE a.policy_id = 50 AND d.channel = 'email' AND d.status = 'pending' AND d.attempts = 0 "
		   "AND d.last_error LIKE 'not tried: the email server is down (SMTP %'") == 1,
	     "the second mail is held back while the server is down, with the reason, no attempt counted");
	T_OK(q(st, "SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		   "WHERE a.policy_id = 50") == 3,
	     "three deliveries in all (webhook, two mails)");
	qs(st, "SELECT last_error FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
	       "WHERE a.policy_id = 50 AND d.channel = 'webhook'", err, sizeof(err));
	T_OK(strstr(err, "webhook http://127.0.0.1:") != NULL, "webhook error names the receiver (%s)", err);
	T_OK(strstr(err, "sekrit") == NULL && strstr(err, "/hook") == NULL,
	     "but never the URL's path or query (tokens live there)");
	qs(st, "SELECT last_error FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
	       "WHERE a.policy_id = 50 AND d.channel = 'email' AND d.attempts > 0", err, sizeof(err));
	T_OK(strncmp(err, "SMTP smtp://127.0.0.1:", 22) == 0, "mail error names the server (%s)", err);
	T_OK(store_alert_counts(st, 50, &cnt) == SU_OK && cnt.alerts == 1 && cnt.pending == 3 &&
		     cnt.sent == 0,
	     "counts: 1 alert, 3 pending, 0 sent");
	events_stop();
	T_OK(q(st, "SELECT count(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
		   "WHERE a.policy_id = 50 AND d.status = 'pending'") == 3,
	     "stop keeps them pending for the next start");
}

/* test_store_alert(): the outbox queries directly. */
static void
test_store_alert(struct store *st)
{
	struct store_alert_new a;
	struct store_alert_delivery *v = NULL;
	const char *rcpt[] = { "x@example.org" };
	int64_t id = 0, t = 0, n = 0;
	size_t nv = 0;

	memset(&a, 0, sizeof(a));
	a.policy_id = 60;
	a.policy_name = "outbox";
	a.ts = 1000;
	a.payload = "{\"type\":\"policy_match\"}";
	a.webhook = true;
	a.emails = rcpt;
	a.n_email = 1;
	T_OK(store_alert_txn_begin(st) == SU_OK && store_alert_add(st, &a, 5000, &id) == SU_OK &&
		     store_alert_txn_commit(st) == SU_OK && id > 0,
	     "alert added in a transaction");
	T_OK(store_alert_count_day(st, 60, 0, &n) == SU_OK && n == 1, "counted on day 0");
	T_OK(store_alert_count_day(st, 60, 1, &n) == SU_OK && n == 0, "not on day 1");
	T_OK(store_alert_due(st, 4999, 10, &v, &nv) == SU_OK, "due query");
	for (size_t i = 0; i < nv; i++)
		T_OK(v[i].alert_id != id, "not due before its time");
	store_alert_delivery_list_free(v, nv);
	v = NULL;
	T_OK(store_alert_next_due(st, &t) == SU_OK && t <= 5000, "next due known");
	a.payload = "not json";
	T_OK(store_alert_txn_begin(st) == SU_OK && store_alert_add(st, &a, 5000, NULL) == SU_EINVAL,
	     "a payload that is not a JSON object is refused");
	store_alert_txn_rollback(st);
	a.payload = "[1]";
	T_OK(store_alert_add(st, &a, 5000, NULL) == SU_EINVAL, "a JSON array is refused");
	a.payload = "{}";
	a.policy_name = "";
	T_OK(store_alert_add(st, &a, 5000, NULL) == SU_EINVAL, "an empty policy name is refused");
	T_OK(store_alert_mark_failed(st, 999999, 1, 2, "x") == SU_ENOTFOUND, "unknown delivery: SU_ENOTFOUND");
	T_OK(store_alert_list(st, 60, 10, &v, &nv) == SU_OK && nv == 2, "two deliveries listed");
	if (nv == 2) {
		int64_t d0 = v[0].id;
		char longerr[1200];

		memset(longerr, 'e', sizeof(longerr) - 1);
		longerr[sizeof(longerr) - 1] = '\0';
		longerr[3] = '\n';
		T_OK(store_alert_mark_failed(st, d0, 6000, 6005, longerr) == SU_OK, "failure recorded");
		T_OK(q(st, "SELECT length(last_error) FROM alert_deliveries WHERE last_error LIKE 'eee %'") ==
			     STORE_ALERT_ERROR_MAX,
		     "last_error cut to %d bytes, newline made a space", STORE_ALERT_ERROR_MAX);
		T_OK(store_alert_mark_sent(st, d0, 6010) == SU_OK, "then sent");
		T_OK(store_alert_mark_sent(st, d0, 6011) == SU_ENOTFOUND, "sent only once");
		T_OK(store_alert_mark_failed(st, d0, 6012, 6013, "late") == SU_ENOTFOUND,
		     "a sent delivery never goes back to failed");
	}
	store_alert_delivery_list_free(v, nv);
	T_OK(store_alert_due(st, 0, 0, &v, &nv) == SU_EINVAL, "limit 0 refused");
	T_OK(store_alert_list(st, 0, 1001, &v, &nv) == SU_EINVAL, "limit over 1000 refused");
}

int
main(void)
{
	struct store *st = NULL;
	struct cfg c;

	test_smtp();
	test_signature();
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/events.db", tmpdir);
	if (store_open(dbpath, MIG, &st) != SU_OK || httpc_global_init(2000, 5000) != SU_OK) {
		printf("not ok - cannot open the store\n");
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.db_path = dbpath;
	c.alert_webhook_timeout = 10;
	c.alert_smtp_timeout = 10;
	c.alert_retry_min = 5;
	c.alert_retry_max = 86400;

	test_sync(st);
	test_store_alert(st);
	test_abandon(st);
	T_OK(events_start(&c, MIG, 0) == SU_OK, "events_start");
	T_OK(events_start(&c, MIG, 0) == SU_EINVAL, "a second events_start is refused");
	test_queue(st);
	test_limit(st);
	test_limit_restart(st, &c);
	test_overflow(st, &c);
	test_stop_flush(st, &c);
	test_delivery_failure(st, &c);
	events_stop();

	store_close(st);
	httpc_global_cleanup();
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	printf("1..%d\n", t_n);
	return T_DONE();
}
