/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_admin_report.c: the per-policy report (SPEC 2.4, 2.5; the seed's
 * "select the policy you've created to view the policy report"):
 * GET /admin/report?id=N (0: every policy). Matches per hour over the last
 * 24 hours and per day over the last 7 days as server-rendered SVG bar
 * charts (svgchart.h), the outcomes (stepped up, allowed, blocked,
 * abandoned, pending) for both periods, and the latest 50 matched events
 * (time, user, app, file, decision, outcome, session).
 *
 * What it does: reads store_policy_report_*() and renders; every value
 * recorded from a proxy (user, app, file name, label, path) is escaped by
 * the templates, chart text by svgchart. A deleted policy's report stays
 * readable (matches keep the policy's id and name).
 *
 * What it does not do: change anything, or compute reports itself (the
 * store counts; this file only sums hours into days).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "http.h"
#include "policy.h"
#include "store_policy.h"
#include "svgchart.h"
#include "tmpl.h"

#define REP_LATEST 50
#define REP_HOUR 3600
#define REP_DAY 86400

/* rep_fmt() formats t (UTC) with a strftime format into out. */
static void
rep_fmt(int64_t t, const char *fmt, char *out, size_t outsz)
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = '\0';
	if (gmtime_r(&tt, &tm) != NULL)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		strftime(out, outsz, fmt, &tm);
#pragma GCC diagnostic pop
}

/* rep_chart_day() renders matches per hour over the last 24 hours. */
static enum su_rc
rep_chart_day(struct req *r, int64_t id, struct buf *out)
{
	struct store_policy_bucket *b = NULL;
	struct svgchart_bar bars[24];
	char labels[24][8], tips[24][40];
	int64_t t1 = r->now - r->now % REP_HOUR + REP_HOUR, t0 = t1 - 24 * REP_HOUR;
	size_t n = 0;
	enum su_rc rc;

	rc = store_policy_report_hourly(r->store, id, t0, t1, &b, &n);
	if (rc != SU_OK)
		return rc;
	memset(bars, 0, sizeof(bars));
	for (size_t i = 0; i < 24; i++) {
		int64_t start = t0 + (int64_t)i * REP_HOUR;

		rep_fmt(start, "%H", labels[i], sizeof(labels[i]));
		rep_fmt(start, "%Y-%m-%d %H:00 UTC", tips[i], sizeof(tips[i]));
		bars[i].label = labels[i];
		bars[i].tip = tips[i];
		for (size_t k = 0; k < n; k++)
			if (b[k].start == start)
				bars[i].value = b[k].count;
	}
	{
		const struct svgchart c = {
			.title = "Matches per hour, last 24 hours", .empty = "No matches in the last 24 hours",
			.bars = bars, .n = 24, .label_every = 3,
		};

		rc = svgchart_bars(&c, out);
	}
	free(b);
	return rc;
}

/* rep_chart_week() renders matches per day over the last 7 days (hours
 * summed into UTC days). */
static enum su_rc
rep_chart_week(struct req *r, int64_t id, struct buf *out)
{
	struct store_policy_bucket *b = NULL;
	struct svgchart_bar bars[7];
	char labels[7][16], tips[7][32];
	int64_t t1 = r->now - r->now % REP_DAY + REP_DAY, t0 = t1 - 7 * REP_DAY;
	size_t n = 0;
	enum su_rc rc;

	rc = store_policy_report_hourly(r->store, id, t0, t1, &b, &n);
	if (rc != SU_OK)
		return rc;
	memset(bars, 0, sizeof(bars));
	for (size_t i = 0; i < 7; i++) {
		int64_t start = t0 + (int64_t)i * REP_DAY;

		rep_fmt(start, "%a %d", labels[i], sizeof(labels[i]));
		rep_fmt(start, "%Y-%m-%d (UTC)", tips[i], sizeof(tips[i]));
		bars[i].label = labels[i];
		bars[i].tip = tips[i];
	}
	for (size_t k = 0; k < n; k++) {
		int64_t d = (b[k].start - t0) / REP_DAY;

		if (b[k].start >= t0 && d >= 0 && d < 7)
			bars[d].value += b[k].count;
	}
	{
		const struct svgchart c = {
			.title = "Matches per day, last 7 days", .empty = "No matches in the last 7 days",
			.bars = bars, .n = 7,
		};

		rc = svgchart_bars(&c, out);
	}
	free(b);
	return rc;
}

/* rep_outcomes() renders the outcome table: one row per outcome, both periods. */
static enum su_rc
rep_outcomes(const struct store_policy_outcomes *d, const struct store_policy_outcomes *w,
	     struct buf *out)
{
	const struct { const char *word; int64_t day, week; } rows[] = {
		{ "stepped_up", d->stepped_up, w->stepped_up }, { "allowed", d->allowed, w->allowed },
		{ "blocked", d->blocked, w->blocked }, { "abandoned", d->abandoned, w->abandoned },
		{ "pending", d->pending, w->pending },
	};
	enum su_rc rc = SU_OK;

	for (size_t i = 0; rc == SU_OK && i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf badge;
		char day[24], week[24];

		buf_init(&badge, 512);
		snprintf(day, sizeof(day), "%lld", (long long)rows[i].day);
		snprintf(week, sizeof(week), "%lld", (long long)rows[i].week);
		rc = h_av_badge(&badge, h_av_outcome_kind(rows[i].word), h_av_words(rows[i].word));
		if (rc == SU_OK) {
			const struct tmpl_var v[] = {
				{ "badge", buf_cstr(&badge) }, { "day", day }, { "week", week },
			};

			rc = tmpl_render("admin_report_outcome", v, 3, out);
		}
		buf_cleanup(&badge);
	}
	return rc;
}

/* rep_row() renders one matched event. */
static enum su_rc
rep_row(const struct store_policy_match *m, bool all, struct buf *out)
{
	struct buf pol, dec, outc, sess;
	char t[H_AV_TIME_LEN], iso[H_AV_TIME_LEN], id[24];
	enum su_rc rc = SU_OK;

	buf_init(&pol, 4096);
	buf_init(&dec, 512);
	buf_init(&outc, 512);
	buf_init(&sess, 1024);
	h_av_time(m->ts, t);
	h_av_iso(m->ts, iso);
	if (all) {
		const struct tmpl_var v[] = { { "id", id }, { "name", m->policy_name } };

		snprintf(id, sizeof(id), "%lld", (long long)m->policy_id);
		rc = tmpl_render("admin_report_policy_td", v, 2, &pol);
	}
	if (rc == SU_OK)
		rc = h_av_badge(&dec, h_av_outcome_kind(m->decision), h_av_words(m->decision));
	if (rc == SU_OK)
		rc = h_av_badge(&outc, h_av_outcome_kind(m->outcome), h_av_words(m->outcome));
	if (rc == SU_OK && m->session_hash != NULL) {
		rc = h_av_session_link(&sess, m->session_hash);
	}
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "time", t }, { "iso", iso }, { "policy_td", buf_cstr(&pol) },
			{ "user", m->user ? m->user : "—" }, { "app", m->app },
			{ "file", m->file_name }, { "label", m->file_label }, { "path", m->path },
			{ "activity", m->activity }, { "decision", buf_cstr(&dec) },
			{ "context", m->context }, { "outcome", buf_cstr(&outc) },
			{ "session", buf_cstr(&sess) },
		};

		rc = tmpl_render("admin_report_row", v, sizeof(v) / sizeof(v[0]), out);
	}
	buf_cleanup(&pol);
	buf_cleanup(&dec);
	buf_cleanup(&outc);
	buf_cleanup(&sess);
	return rc;
}

/* h_admin_report(): GET /admin/report?id=N. */
void
h_admin_report(struct req *r)
{
	struct policy *p = NULL;
	struct store_policy_match *m = NULL;
	struct store_policy_outcomes od, ow;
	size_t n = 0;
	int64_t id = 0;
	const char *idq;
	char *name = NULL, subtitle[400], dt[24], wt[24], wsu[24], wbl[24];
	struct buf day, week, outc, latest, links, th, href;
	enum su_rc rc;

	buf_init(&day, 256 * 1024);
	buf_init(&week, 256 * 1024);
	buf_init(&outc, 16 * 1024);
	buf_init(&latest, 2 * 1024 * 1024);
	buf_init(&links, 4096);
	buf_init(&th, 256);
	buf_init(&href, 256);
	if (!h_av_query(r, "id", 20, &idq))
		goto out;
	if (idq[0] != '\0' && !h_av_int(idq, 0, INT64_MAX / 2, &id)) {
		h_admin_error(r, 400, "Name the policy by its id (0 for every policy).");
		goto out;
	}
	rc = store_policy_report_latest(r->store, id, REP_LATEST, &m, &n);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The report could not be read.");
		goto out;
	}
	subtitle[0] = '\0';
	if (id == 0) {
		name = strdup("All policies");
		snprintf(subtitle, sizeof(subtitle), "Every recorded match, whichever policy it was.");
	} else {
		rc = store_policy_get(r->store, id, &p);
		if (rc == SU_OK) {
			name = strdup(p->name);
			if (p->action == POLICY_ACTION_STEP_UP)
				snprintf(subtitle, sizeof(subtitle), "%s severity · step-up to %.256s · %s",
					 policy_severity_str(p->severity), p->context ? p->context : "?",
					 p->enabled ? "enabled" : "disabled");
			else
				snprintf(subtitle, sizeof(subtitle), "%s severity · %s · %s",
					 policy_severity_str(p->severity), policy_action_str(p->action),
					 p->enabled ? "enabled" : "disabled");
		} else if (rc == SU_ENOTFOUND && n > 0) {
			name = strdup(m[0].policy_name);
			snprintf(subtitle, sizeof(subtitle), "This policy was deleted; its matches remain.");
		} else if (rc == SU_ENOTFOUND) {
			h_admin_error(r, 404, "There is no such policy and no match recorded for it.");
			goto out;
		} else {
			h_admin_error(r, 500, "The policy could not be read.");
			goto out;
		}
	}
	if (name == NULL) {
		h_admin_error(r, 500, "Out of memory.");
		goto out;
	}
	rc = store_policy_report_outcomes(r->store, id, r->now - REP_DAY, r->now + 1, &od);
	if (rc == SU_OK)
		rc = store_policy_report_outcomes(r->store, id, r->now - 7 * REP_DAY, r->now + 1, &ow);
	if (rc == SU_OK)
		rc = rep_chart_day(r, id, &day);
	if (rc == SU_OK)
		rc = rep_chart_week(r, id, &week);
	if (rc == SU_OK)
		rc = rep_outcomes(&od, &ow, &outc);
	for (size_t i = 0; rc == SU_OK && i < n; i++)
		rc = rep_row(&m[i], id == 0, &latest);
	if (rc == SU_OK && n == 0)
		rc = h_av_empty_row(&latest, id == 0 ? "9" : "8",
				    "No match recorded yet. Matches appear within a second of the "
				    "proxy's request.");
	if (rc == SU_OK && id == 0) {
		const struct tmpl_var v[] = { { "text", "Policy" } };

		rc = tmpl_render("admin_th", v, 1, &th);
	}
	if (rc == SU_OK && id > 0 && p != NULL) {
		rc = buf_printf(&href, "/admin/policies/edit?id=%lld", (long long)id);
		if (rc == SU_OK)
			rc = h_av_link(&links, buf_cstr(&href), "button-link secondary", "Edit policy");
	}
	if (rc == SU_OK && id > 0)
		rc = h_av_link(&links, "/admin/report?id=0", "button-link secondary", "All policies");
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The report could not be rendered.");
		goto out;
	}
	snprintf(dt, sizeof(dt), "%lld", (long long)od.total);
	snprintf(wt, sizeof(wt), "%lld", (long long)ow.total);
	snprintf(wsu, sizeof(wsu), "%lld", (long long)ow.stepped_up);
	snprintf(wbl, sizeof(wbl), "%lld", (long long)ow.blocked);
	{
		const struct tmpl_var v[] = {
			{ "name", name }, { "subtitle", subtitle }, { "links", buf_cstr(&links) },
			{ "day_total", dt }, { "week_total", wt }, { "week_stepped_up", wsu },
			{ "week_blocked", wbl }, { "chart_day", buf_cstr(&day) },
			{ "chart_week", buf_cstr(&week) }, { "outcomes", buf_cstr(&outc) },
			{ "policy_th", buf_cstr(&th) }, { "latest", buf_cstr(&latest) },
		};

		h_admin_page(r, 200, "Policy report", "admin_report", v, sizeof(v) / sizeof(v[0]));
	}
out:
	policy_free(p);
	store_policy_match_list_free(m, n);
	free(name);
	buf_cleanup(&day);
	buf_cleanup(&week);
	buf_cleanup(&outc);
	buf_cleanup(&latest);
	buf_cleanup(&links);
	buf_cleanup(&th);
	buf_cleanup(&href);
}
