/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_admin_sessions.c: the console's session pages (SPEC 2.5, docs/admin.md
 * "Pages"): the session list (filter by user, context and state, 50 a
 * page, newest first), one session with its elevations and its timeline
 * (every step-up attempt and policy decision recorded for it), revoking
 * one session or every session of a user; and the small helpers the other
 * admin pages share (times, URL encoding, badges, notices, paging).
 *
 * What it does: reads query parameters strictly (a duplicated or broken
 * one is a 400), renders through templates only (every value from users,
 * IdPs or proxies is escaped by @@key@@; @@!key@@ only carries HTML these
 * functions rendered from other templates), changes state only in POST
 * handlers whose routes require an admin session and the CSRF token, and
 * writes an audit row for every revocation.
 *
 * What it does not do: check the admin session or CSRF token itself
 * (route_dispatch() does, from the route flags), or ever see a session id
 * in clear: sessions are named by the SHA-256 the store keeps.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "handlers.h"
#include "http.h"
#include "store.h"
#include "store_admin_views.h"
#include "tmpl.h"

#define SESS_PER_PAGE 50
#define SESS_PAGE_MAX (1 << 20)   /* pages beyond are refused (400) */
#define SESS_TIMELINE_BYTES (640 * 1024) /* rendered timeline rows, at most */
#define SESS_AMR_MAX 16                  /* amr values shown as tags, at most */

/* ---- helpers shared by the admin pages ---- */

/* h_av_time(): see handlers.h. */
void
h_av_time(int64_t t, char out[H_AV_TIME_LEN])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, H_AV_TIME_LEN, "never");
		return;
	}
	strftime(out, H_AV_TIME_LEN, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* h_av_iso(): see handlers.h. */
void
h_av_iso(int64_t t, char out[H_AV_TIME_LEN])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	strftime(out, H_AV_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* h_av_rel(): see handlers.h. */
void
h_av_rel(int64_t now, int64_t t, char out[H_AV_TIME_LEN])
{
	int64_t d = t - now, a = d < 0 ? -d : d;
	const char *unit;
	int64_t v;

	if (t <= 0) {
		snprintf(out, H_AV_TIME_LEN, "never");
		return;
	}
	if (a < 60) {
		snprintf(out, H_AV_TIME_LEN, d < 0 ? "just now" : "in under a minute");
		return;
	}
	if (a < 3600) {
		v = a / 60;
		unit = "min";
	} else if (a < 86400 * 2) {
		v = a / 3600;
		unit = v == 1 ? "hour" : "hours";
	} else {
		v = a / 86400;
		unit = "days";
	}
	if (d < 0)
		snprintf(out, H_AV_TIME_LEN, "%lld %s ago", (long long)v, unit);
	else
		snprintf(out, H_AV_TIME_LEN, "in %lld %s", (long long)v, unit);
}

/* h_av_urlenc(): see handlers.h. Unreserved characters (RFC 3986) stay,
 * everything else becomes %XX. */
enum su_rc
h_av_urlenc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	enum su_rc rc = SU_OK;

	for (; s != NULL && *s != '\0' && rc == SU_OK; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = buf_append(b, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = buf_append(b, e, 3);
		}
	}
	return rc;
}

/* h_av_query(): see handlers.h. */
bool
h_av_query(struct req *r, const char *name, size_t max, const char **val)
{
	enum su_rc rc = http_query(r, name, val);

	if (rc == SU_ENOTFOUND) {
		*val = "";
		return true;
	}
	if (rc != SU_OK || strlen(*val) > max) {
		h_admin_error(r, 400, "A query parameter is repeated, malformed or too long.");
		return false;
	}
	for (const char *p = *val; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			h_admin_error(r, 400, "A query parameter holds a control character.");
			return false;
		}
	}
	return true;
}

/* h_av_int(): see handlers.h. */
bool
h_av_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* h_av_page(): see handlers.h. */
bool
h_av_page(struct req *r, int64_t *page)
{
	const char *v;

	*page = 1;
	if (!h_av_query(r, "page", 16, &v))
		return false;
	if (v[0] != '\0' && !h_av_int(v, 1, SESS_PAGE_MAX, page)) {
		h_admin_error(r, 400, "The page number must be a whole number from 1.");
		return false;
	}
	return true;
}

/* h_av_badge(): see handlers.h. */
enum su_rc
h_av_badge(struct buf *out, const char *kind, const char *text)
{
	const struct tmpl_var v[] = { { "kind", kind }, { "text", text } };

	return tmpl_render("admin_badge", v, 2, out);
}

/* h_av_outcome_kind(): see handlers.h. */
const char *
h_av_outcome_kind(const char *o)
{
	static const struct { const char *word, *kind; } map[] = {
		{ "stepped_up", "ok" }, { "elevated", "ok" }, { "ok", "ok" }, { "active", "ok" },
		{ "allow", "ok" }, { "allowed", "info" }, { "step_up", "info" },
		{ "pending", "muted" }, { "expired", "muted" }, { "low", "muted" },
		{ "abandoned", "warn" }, { "medium", "warn" },
		{ "blocked", "bad" }, { "block", "bad" }, { "denied", "bad" }, { "error", "bad" },
		{ "revoked", "bad" }, { "high", "bad" }, { "refused", "bad" }, { "failed", "bad" },
	};

	for (size_t i = 0; o != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(o, map[i].word) == 0)
			return map[i].kind;
	return "muted";
}

/* h_av_words(): see handlers.h. */
const char *
h_av_words(const char *o)
{
	static const struct { const char *word, *text; } map[] = {
		{ "stepped_up", "stepped up" }, { "step_up", "step-up" },
		{ "block_activities", "block activities" }, { "monitor_only", "monitor only" },
		{ "control_file_download", "control download" },
		{ "control_file_upload", "control upload" },
	};

	for (size_t i = 0; o != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(o, map[i].word) == 0)
			return map[i].text;
	return o ? o : "";
}

/* h_av_notice(): see handlers.h. The text is one of fixed sentences, never
 * the query's text. */
enum su_rc
h_av_notice(struct req *r, struct buf *out)
{
	static const struct { const char *done, *fmt; } map[] = {
		{ "revoked", "Session revoked: %lld elevation(s) ended." },
		{ "revoked-user", "Every session of the user revoked: %lld elevation(s) ended." },
		{ "created", "Policy created. It is in force within a second." },
		{ "saved", "Policy saved. The change is in force within a second." },
		{ "enabled", "Policy enabled." },
		{ "disabled", "Policy disabled: it is kept but no longer evaluated." },
		{ "deleted", "Policy deleted. Its report stays available." },
		{ "checked", "Identity providers checked." },
	};
	const char *done = NULL, *nv = NULL;
	int64_t n = 0;
	char text[160];

	if (http_query(r, "done", &done) != SU_OK)
		return SU_OK;
	if (http_query(r, "n", &nv) == SU_OK)
		(void)h_av_int(nv, 0, 1000000000, &n);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(done, map[i].done) == 0) {
			const struct tmpl_var v[] = { { "kind", "ok" }, { "text", text } };

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(text, sizeof(text), map[i].fmt, (long long)n);
#pragma GCC diagnostic pop
			return tmpl_render("admin_notice", v, 2, out);
		}
	}
	return SU_OK;
}

/* h_av_link(): see handlers.h. */
enum su_rc
h_av_link(struct buf *out, const char *href, const char *cls, const char *text)
{
	const struct tmpl_var v[] = {
		{ "href", href }, { "class", cls ? cls : "" }, { "text", text }, { "rel", "" },
	};

	return tmpl_render("admin_link", v, 4, out);
}

/* h_av_pager(): see handlers.h. */
enum su_rc
h_av_pager(struct buf *out, const char *base, int64_t page, size_t per, size_t shown,
	   int64_t total)
{
	struct buf prev, next, href;
	char range[96];
	int64_t first = (page - 1) * (int64_t)per + 1;
	enum su_rc rc = SU_OK;

	if (page == 1 && total <= (int64_t)per && shown == (size_t)total)
		return SU_OK;   /* everything fits on one page */
	buf_init(&prev, 4096);
	buf_init(&next, 4096);
	buf_init(&href, 8192);
	if (shown > 0)
		snprintf(range, sizeof(range), "%lld–%lld of %lld", (long long)first,
			 (long long)(first + (int64_t)shown - 1), (long long)total);
	else
		snprintf(range, sizeof(range), "nothing on page %lld", (long long)page);
	if (page > 1) {
		rc = buf_printf(&href, "%spage=%lld", base, (long long)(page - 1));
		if (rc == SU_OK)
			rc = h_av_link(&prev, buf_cstr(&href), "button-link secondary", "‹ Newer");
	}
	if (rc == SU_OK && first - 1 + (int64_t)shown < total) {
		buf_reset(&href);
		rc = buf_printf(&href, "%spage=%lld", base, (long long)(page + 1));
		if (rc == SU_OK)
			rc = h_av_link(&next, buf_cstr(&href), "button-link secondary", "Older ›");
	}
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "prev", buf_cstr(&prev) }, { "next", buf_cstr(&next) }, { "range", range },
		};

		rc = tmpl_render("admin_pager", v, 3, out);
	}
	buf_cleanup(&prev);
	buf_cleanup(&next);
	buf_cleanup(&href);
	return rc;
}

/* h_av_empty_row(): see handlers.h. */
enum su_rc
h_av_empty_row(struct buf *out, const char *cols, const char *text)
{
	const struct tmpl_var v[] = { { "cols", cols }, { "text", text } };

	return tmpl_render("admin_empty_row", v, 2, out);
}

/* h_av_session_link(): see handlers.h. */
enum su_rc
h_av_session_link(struct buf *out, const char *hash)
{
	char full[65], short_hash[11];
	const struct tmpl_var v[] = { { "hash", full }, { "short", short_hash } };

	snprintf(full, sizeof(full), "%.64s", hash ? hash : "");
	snprintf(short_hash, sizeof(short_hash), "%.10s", full);
	return tmpl_render("admin_session_link", v, 2, out);
}

/* h_av_option(): see handlers.h. */
enum su_rc
h_av_option(struct buf *out, const char *value, const char *label, bool selected)
{
	const struct tmpl_var v[] = {
		{ "value", value }, { "label", label }, { "selected", selected ? "selected" : "" },
	};

	return tmpl_render("admin_option", v, 3, out);
}

/* h_av_redirect(): see handlers.h. */
void
h_av_redirect(struct req *r, const char *location)
{
	http_redirect(r, 303, location);
}

/* ---- the session list ---- */

/* sess_state_badge() renders a session state as a badge. */
static enum su_rc
sess_state_badge(struct buf *out, enum store_admin_state st)
{
	const char *w = store_admin_state_str(st);

	return h_av_badge(out, h_av_outcome_kind(w), w);
}

/* sess_revoke_button() renders the POST form that revokes one session
 * (cls: the button's classes: small in a table row). */
static enum su_rc
sess_revoke_button(struct req *r, struct buf *out, const char *hash, const char *back,
		   const char *label, const char *cls)
{
	const struct tmpl_var v[] = {
		{ "csrf", r->csrf }, { "hash", hash }, { "back", back }, { "label", label },
		{ "class", cls },
	};

	return tmpl_render("admin_revoke_button", v, 5, out);
}

/* sess_row() renders one line of the session list. */
static enum su_rc
sess_row(struct req *r, struct buf *out, const struct store_admin_session *e)
{
	struct buf state, actions, uq;
	char last[H_AV_TIME_LEN], last_iso[H_AV_TIME_LEN], last_rel[H_AV_TIME_LEN];
	char exp[H_AV_TIME_LEN], exp_iso[H_AV_TIME_LEN], exp_rel[H_AV_TIME_LEN];
	char hash_short[13];
	enum su_rc rc;

	buf_init(&state, 1024);
	buf_init(&actions, 4096);
	buf_init(&uq, 4096);
	snprintf(hash_short, sizeof(hash_short), "%.12s", e->session_hash ? e->session_hash : "");
	h_av_time(e->last_elevated_at, last);
	h_av_iso(e->last_elevated_at, last_iso);
	h_av_rel(r->now, e->last_elevated_at, last_rel);
	h_av_time(e->expires_at, exp);
	h_av_iso(e->expires_at, exp_iso);
	if (e->state == STORE_ADMIN_REVOKED)
		snprintf(exp_rel, sizeof(exp_rel), "revoked");
	else
		h_av_rel(r->now, e->expires_at, exp_rel);
	rc = sess_state_badge(&state, e->state);
	if (rc == SU_OK && e->state == STORE_ADMIN_ACTIVE)
		rc = sess_revoke_button(r, &actions, e->session_hash, "list", "Revoke", "danger small");
	if (rc == SU_OK)
		rc = h_av_urlenc(&uq, e->user);
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "user", e->user }, { "user_q", buf_cstr(&uq) },
			{ "hash", e->session_hash }, { "hash_short", hash_short },
			{ "state", buf_cstr(&state) }, { "contexts", e->contexts },
			{ "context", e->context }, { "acr", e->acr },
			{ "last", last }, { "last_iso", last_iso }, { "last_rel", last_rel },
			{ "expires", exp }, { "expires_iso", exp_iso }, { "expires_rel", exp_rel },
			{ "actions", buf_cstr(&actions) },
		};

		rc = tmpl_render("admin_sessions_row", v, sizeof(v) / sizeof(v[0]), out);
	}
	buf_cleanup(&state);
	buf_cleanup(&actions);
	buf_cleanup(&uq);
	return rc;
}

/* sess_context_options() renders the context filter's options: any, every
 * configured context, and the current value when it is not configured. */
static enum su_rc
sess_context_options(struct req *r, struct buf *out, const char *cur)
{
	const struct cfg *c = r->app->cfg;
	bool known = cur[0] == '\0';
	enum su_rc rc = h_av_option(out, "", "any", cur[0] == '\0');

	for (size_t i = 0; rc == SU_OK && i < c->n_contexts; i++) {
		bool sel = strcmp(cur, c->contexts[i].name) == 0;

		known = known || sel;
		rc = h_av_option(out, c->contexts[i].name, c->contexts[i].name, sel);
	}
	if (rc == SU_OK && !known)
		rc = h_av_option(out, cur, cur, true);
	return rc;
}

/* h_admin_sessions(): GET /admin/sessions. */
void
h_admin_sessions(struct req *r)
{
	struct store_admin_session_filter f = { 0 };
	struct store_admin_session *v = NULL;
	size_t n = 0;
	int64_t total = 0, page = 1;
	const char *user, *ctx, *state;
	struct buf rows, opts, pager, base, notice;
	char summary[128];
	enum su_rc rc;

	buf_init(&rows, 2 * 1024 * 1024);
	buf_init(&opts, 64 * 1024);
	buf_init(&pager, 16 * 1024);
	buf_init(&base, 4096);
	buf_init(&notice, 4096);
	if (!h_av_query(r, "user", STORE_ADMIN_TERM_MAX, &user) ||
	    !h_av_query(r, "context", STORE_ADMIN_TERM_MAX, &ctx) ||
	    !h_av_query(r, "state", 16, &state) || !h_av_page(r, &page))
		goto out;
	if (!store_admin_state_parse(state, &f.state)) {
		h_admin_error(r, 400, "The state must be active, expired or revoked.");
		goto out;
	}
	f.user = user;
	f.context = ctx;
	rc = store_admin_views_sessions(r->store, &f, r->now, (size_t)(page - 1) * SESS_PER_PAGE,
					SESS_PER_PAGE, &v, &n, &total);
	if (rc == SU_EINVAL) {
		h_admin_error(r, 400, "That page is too far.");
		goto out;
	}
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The sessions could not be read.");
		goto out;
	}
	for (size_t i = 0; rc == SU_OK && i < n; i++)
		rc = sess_row(r, &rows, &v[i]);
	if (rc == SU_OK && n == 0)
		rc = h_av_empty_row(&rows, "8",
				    page > 1 ? "No more sessions: go back to the first page."
					     : (user[0] || ctx[0] || state[0]
							? "No session matches these filters."
							: "No session has been elevated yet."));
	if (page == 1 || n > 0)
		snprintf(summary, sizeof(summary), "%lld session%s, most recently elevated first.",
			 (long long)total, total == 1 ? "" : "s");
	else
		snprintf(summary, sizeof(summary), "Page %lld is past the end.", (long long)page);
	/* the pager keeps the filters */
	if (rc == SU_OK)
		rc = buf_puts(&base, "/admin/sessions?user=");
	if (rc == SU_OK)
		rc = h_av_urlenc(&base, user);
	if (rc == SU_OK)
		rc = buf_puts(&base, "&context=");
	if (rc == SU_OK)
		rc = h_av_urlenc(&base, ctx);
	if (rc == SU_OK)
		rc = buf_printf(&base, "&state=%s&", state[0] ? store_admin_state_str(f.state) : "");
	if (rc == SU_OK)
		rc = h_av_pager(&pager, buf_cstr(&base), page, SESS_PER_PAGE, n, total);
	if (rc == SU_OK)
		rc = sess_context_options(r, &opts, ctx);
	if (rc == SU_OK)
		rc = h_av_notice(r, &notice);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The page could not be rendered.");
		goto out;
	}
	{
		const struct tmpl_var tv[] = {
			{ "notice", buf_cstr(&notice) }, { "user", user },
			{ "context_options", buf_cstr(&opts) },
			{ "state_any", f.state == STORE_ADMIN_ANY ? "selected" : "" },
			{ "state_active", f.state == STORE_ADMIN_ACTIVE ? "selected" : "" },
			{ "state_expired", f.state == STORE_ADMIN_EXPIRED ? "selected" : "" },
			{ "state_revoked", f.state == STORE_ADMIN_REVOKED ? "selected" : "" },
			{ "summary", summary }, { "rows", buf_cstr(&rows) },
			{ "pager", buf_cstr(&pager) },
		};

		h_admin_page(r, 200, "Sessions", "admin_sessions", tv, sizeof(tv) / sizeof(tv[0]));
	}
out:
	store_admin_views_sessions_free(v, n);
	buf_cleanup(&rows);
	buf_cleanup(&opts);
	buf_cleanup(&pager);
	buf_cleanup(&base);
	buf_cleanup(&notice);
}

/* ---- one session ---- */

/* sess_hash_valid() says whether h is 64 lowercase hex characters. */
static bool
sess_hash_valid(const char *h)
{
	size_t i = 0;

	for (; h[i] != '\0'; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return i == 64;
}

/* sess_amr_tags() renders an elevation's amr (stored as the ID token's JSON
 * array of strings, e.g. ["pwd","mfa"]) as one tag per value, escaped, at
 * most SESS_AMR_MAX; text that is not such an array is shown as it is. */
static enum su_rc
sess_amr_tags(struct buf *out, const char *amr)
{
	json_t *a = NULL, *e;
	size_t i;
	bool strings = true;
	enum su_rc rc = SU_OK;

	if (amr == NULL || amr[0] == '\0')
		goto out;
	a = json_loads(amr, JSON_REJECT_DUPLICATES, NULL);
	json_array_foreach(a, i, e)
		strings = strings && json_is_string(e);
	if (!json_is_array(a) || !strings) {
		const struct tmpl_var v[] = { { "class", "muted" }, { "text", amr } };

		rc = tmpl_render("admin_text", v, 2, out);
		goto out;
	}
	json_array_foreach(a, i, e) {
		const struct tmpl_var v[] = { { "text", i < SESS_AMR_MAX ? json_string_value(e) : "…" } };

		rc = tmpl_render("admin_tag", v, 1, out);
		if (rc != SU_OK || i == SESS_AMR_MAX)
			break;
	}
out:
	json_decref(a);
	return rc;
}

/* sess_elevation_row() renders one elevation of the session page. */
static enum su_rc
sess_elevation_row(struct req *r, struct buf *out, const struct store_elevation *e)
{
	char at[H_AV_TIME_LEN], el[H_AV_TIME_LEN], ex[H_AV_TIME_LEN];
	struct buf state, amr;
	const char *w;
	enum su_rc rc;

	buf_init(&state, 1024);
	buf_init(&amr, 64 * 1024);
	h_av_time(e->auth_time, at);
	h_av_time(e->elevated_at, el);
	h_av_time(e->expires_at, ex);
	w = e->revoked_at > 0 ? "revoked" : (e->expires_at > r->now ? "active" : "expired");
	rc = h_av_badge(&state, h_av_outcome_kind(w), w);
	if (rc == SU_OK)
		rc = sess_amr_tags(&amr, e->amr);
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "context", e->context }, { "provider", e->provider }, { "acr", e->acr },
			{ "amr", buf_cstr(&amr) },
			{ "auth_time", at }, { "elevated", el }, { "expires", ex },
			{ "state", buf_cstr(&state) },
		};

		rc = tmpl_render("admin_elevation_row", v, sizeof(v) / sizeof(v[0]), out);
	}
	buf_cleanup(&state);
	buf_cleanup(&amr);
	return rc;
}

/* sess_add() appends "label value" to a details line, separated by " · ",
 * when value is set. Plain text: the template escapes the whole line. */
static enum su_rc
sess_add(struct buf *d, const char *label, const char *value)
{
	enum su_rc rc = SU_OK;

	if (value == NULL || value[0] == '\0')
		return SU_OK;
	if (d->len > 0)
		rc = buf_puts(d, " · ");
	if (rc == SU_OK && label != NULL)
		rc = buf_printf(d, "%s ", label);
	if (rc == SU_OK)
		rc = buf_puts(d, value);
	return rc;
}

/* sess_timeline_row() renders one event of a session's timeline. */
static enum su_rc
sess_timeline_row(struct buf *out, const struct store_admin_event *e)
{
	bool match = e->kind != NULL && strcmp(e->kind, "match") == 0;
	char t[H_AV_TIME_LEN], iso[H_AV_TIME_LEN];
	struct buf kind, outcome, det, what;
	enum su_rc rc;

	buf_init(&kind, 1024);
	buf_init(&outcome, 1024);
	buf_init(&det, 16 * 1024);
	buf_init(&what, 2048);
	h_av_time(e->ts, t);
	h_av_iso(e->ts, iso);
	if (match)
		rc = h_av_badge(&kind, "info", "check");
	else if (e->event != NULL && strncmp(e->event, "admin_", 6) == 0)
		rc = h_av_badge(&kind, "warn", "admin");
	else if (e->event != NULL && strcmp(e->event, "revoke") == 0)
		rc = h_av_badge(&kind, "warn", "revocation");
	else
		rc = h_av_badge(&kind, "muted", "step-up");
	if (rc == SU_OK)
		rc = h_av_badge(&outcome, h_av_outcome_kind(e->outcome),
				h_av_words(e->outcome ? e->outcome : "—"));
	if (match) {
		if (rc == SU_OK)
			rc = buf_printf(&what, "policy “%s”", e->event ? e->event : "?");
		if (rc == SU_OK)
			rc = sess_add(&det, "decision", h_av_words(e->decision));
		if (rc == SU_OK)
			rc = sess_add(&det, "context", e->context);
		if (rc == SU_OK)
			rc = sess_add(&det, "user", e->user);
		if (rc == SU_OK)
			rc = sess_add(&det, "app", e->app);
		if (rc == SU_OK)
			rc = sess_add(&det, "activity", e->activity);
		if (rc == SU_OK)
			rc = sess_add(&det, "file", e->file_name);
		if (rc == SU_OK)
			rc = sess_add(&det, "label", e->file_label);
		if (rc == SU_OK)
			rc = sess_add(&det, "path", e->path);
	} else {
		if (rc == SU_OK)
			rc = buf_puts(&what, e->event ? e->event : "event");
		if (rc == SU_OK)
			rc = sess_add(&det, "context", e->context);
		if (rc == SU_OK)
			rc = sess_add(&det, "provider", e->provider);
		if (rc == SU_OK)
			rc = sess_add(&det, "user", e->user);
		if (rc == SU_OK)
			rc = sess_add(&det, NULL, e->detail);
	}
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "time", t }, { "iso", iso }, { "kind", buf_cstr(&kind) },
			{ "what", buf_cstr(&what) }, { "outcome", buf_cstr(&outcome) },
			{ "details", buf_cstr(&det) },
		};

		rc = tmpl_render("admin_timeline_row", v, sizeof(v) / sizeof(v[0]), out);
	}
	buf_cleanup(&kind);
	buf_cleanup(&outcome);
	buf_cleanup(&det);
	buf_cleanup(&what);
	return rc;
}

/* sess_timeline_rows() renders the timeline's rows, oldest first, keeping
 * the newest events that fit in SESS_TIMELINE_BYTES (a page answer is at
 * most 1 MiB, and recorded paths may be long): older ones are left out and
 * *truncated set. */
static enum su_rc
sess_timeline_rows(struct buf *out, const struct store_admin_event *tl, size_t n, bool *truncated)
{
	struct buf *rows = calloc(n ? n : 1, sizeof(*rows));
	size_t used = 0, first = n;
	enum su_rc rc = SU_OK;

	if (rows == NULL)
		return SU_ENOMEM;
	for (size_t i = 0; i < n; i++)
		buf_init(&rows[i], SESS_TIMELINE_BYTES);
	for (size_t i = n; rc == SU_OK && i > 0; i--) {
		rc = sess_timeline_row(&rows[i - 1], &tl[i - 1]);
		if (rc == SU_ETOOBIG || (rc == SU_OK && used + rows[i - 1].len > SESS_TIMELINE_BYTES)) {
			*truncated = true;
			rc = SU_OK;
			break;
		}
		used += rows[i - 1].len;
		first = i - 1;
	}
	for (size_t i = first; rc == SU_OK && i < n; i++)
		rc = buf_append(out, rows[i].data ? rows[i].data : "", rows[i].len);
	for (size_t i = 0; i < n; i++)
		buf_cleanup(&rows[i]);
	free(rows);
	return rc;
}

/* h_admin_session(): GET /admin/session?h=<session hash>. */
void
h_admin_session(struct req *r)
{
	struct store_admin_session s = { 0 };
	struct store_elevation *ev = NULL;
	struct store_admin_event *tl = NULL;
	size_t n_ev = 0, n_tl = 0;
	bool truncated = false, elevated = true;
	const char *h;
	struct buf elev, tline, state, revoke, revoke_user, uq, notice;
	char created[H_AV_TIME_LEN], last[H_AV_TIME_LEN], hash_short[13], active[64];
	enum su_rc rc;

	buf_init(&elev, 1024 * 1024);
	buf_init(&tline, 4 * 1024 * 1024);
	buf_init(&state, 1024);
	buf_init(&revoke, 4096);
	buf_init(&revoke_user, 8192);
	buf_init(&uq, 4096);
	buf_init(&notice, 4096);
	if (!h_av_query(r, "h", 64, &h))
		goto out;
	if (!sess_hash_valid(h)) {
		h_admin_error(r, 400, "A session is named by its 64-character SHA-256.");
		goto out;
	}
	rc = store_admin_views_session_get(r->store, h, r->now, &s);
	if (rc == SU_ENOTFOUND) {
		/* never elevated: its timeline (refused or abandoned step-ups,
		 * policy decisions) may still be worth a page */
		elevated = false;
		rc = SU_OK;
	}
	if (rc == SU_OK && elevated)
		rc = store_admin_views_elevations(r->store, h, &ev, &n_ev);
	if (rc == SU_OK)
		rc = store_admin_views_timeline(r->store, h, &tl, &n_tl, &truncated);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The session could not be read.");
		goto out;
	}
	if (!elevated) {
		if (n_tl == 0) {
			h_admin_error(r, 404, "There is no such session: nothing is recorded for it.");
			goto out;
		}
		s.session_hash = strdup(h);
		for (size_t i = n_tl; i > 0 && s.user == NULL; i--)
			if (tl[i - 1].user != NULL && strncmp(tl[i - 1].event ? tl[i - 1].event : "",
							      "admin_", 6) != 0)
				s.user = strdup(tl[i - 1].user);
		if (s.session_hash == NULL) {
			h_admin_error(r, 500, "Out of memory.");
			goto out;
		}
	}
	for (size_t i = 0; rc == SU_OK && i < n_ev; i++)
		rc = sess_elevation_row(r, &elev, &ev[i]);
	if (rc == SU_OK && n_ev == 0)
		rc = h_av_empty_row(&elev, "7", elevated ? "No elevation." : "This session was never elevated.");
	if (rc == SU_OK)
		rc = sess_timeline_rows(&tline, tl, n_tl, &truncated);
	if (rc == SU_OK && n_tl == 0)
		rc = h_av_empty_row(&tline, "4", "Nothing recorded for this session.");
	if (rc == SU_OK)
		rc = elevated ? sess_state_badge(&state, s.state)
			      : h_av_badge(&state, "muted", "never elevated");
	if (rc == SU_OK && elevated && s.state == STORE_ADMIN_ACTIVE)
		rc = sess_revoke_button(r, &revoke, s.session_hash, "session", "Revoke this session",
					"danger");
	if (rc == SU_OK && s.user != NULL && s.user[0] != '\0') {
		const struct tmpl_var v[] = { { "csrf", r->csrf }, { "user", s.user } };

		rc = tmpl_render("admin_revoke_user_button", v, 2, &revoke_user);
	}
	if (rc == SU_OK)
		rc = h_av_urlenc(&uq, s.user);
	if (rc == SU_OK)
		rc = h_av_notice(r, &notice);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The page could not be rendered.");
		goto out;
	}
	h_av_time(s.created_at, created);
	h_av_time(s.last_elevated_at, last);
	snprintf(hash_short, sizeof(hash_short), "%.12s", s.session_hash);
	snprintf(active, sizeof(active), s.active == 1 ? "%lld active elevation" :
		 "%lld active elevations", (long long)s.active);
	{
		const struct tmpl_var tv[] = {
			{ "notice", buf_cstr(&notice) }, { "hash", s.session_hash },
			{ "hash_short", hash_short }, { "user", s.user ? s.user : "unknown" },
			{ "user_q", buf_cstr(&uq) },
			{ "state", buf_cstr(&state) }, { "active", active }, { "created", created },
			{ "last", last }, { "revoke_session", buf_cstr(&revoke) },
			{ "revoke_user", buf_cstr(&revoke_user) },
			{ "elevations", buf_cstr(&elev) }, { "timeline", buf_cstr(&tline) },
			{ "truncated", truncated ? " Older events are left out: search the audit log for them." : "" },
		};

		h_admin_page(r, 200, "Session", "admin_session", tv, sizeof(tv) / sizeof(tv[0]));
	}
out:
	store_elevation_list_free(ev, n_ev);
	store_admin_views_timeline_free(tl, n_tl);
	free(s.session_hash);
	free(s.user);
	free(s.contexts);
	free(s.context);
	free(s.provider);
	free(s.acr);
	buf_cleanup(&elev);
	buf_cleanup(&tline);
	buf_cleanup(&state);
	buf_cleanup(&revoke);
	buf_cleanup(&revoke_user);
	buf_cleanup(&uq);
	buf_cleanup(&notice);
}

/* ---- revocation (POST, admin session and CSRF checked by the route) ---- */

/* h_av_form(): see handlers.h. */
bool
h_av_form(struct req *r, const char *name, size_t max, const char **val)
{
	enum su_rc rc = http_form(r, name, val);

	if (rc == SU_ENOTFOUND) {
		*val = "";
		return true;
	}
	if (rc != SU_OK) {
		h_admin_error(r, 400, "The form is malformed (a field is repeated or badly encoded).");
		return false;
	}
	if (strlen(*val) > max) {
		h_admin_error(r, 400, "A form field is too long.");
		return false;
	}
	return true;
}

/* h_admin_session_revoke(): POST /admin/sessions/revoke (h, back). */
void
h_admin_session_revoke(struct req *r)
{
	struct store_admin_session s = { 0 };
	const char *h, *back;
	char detail[400];
	int count = 0;
	struct buf loc;

	buf_init(&loc, 1024);
	if (!h_av_form(r, "h", 64, &h) || !h_av_form(r, "back", 16, &back))
		goto out;
	if (!sess_hash_valid(h)) {
		h_admin_error(r, 400, "A session is named by its 64-character SHA-256.");
		goto out;
	}
	if (store_admin_views_session_get(r->store, h, r->now, &s) != SU_OK) {
		h_admin_error(r, 404, "There is no such session.");
		goto out;
	}
	if (store_session_revoke(r->store, h, r->now, &count) != SU_OK) {
		h_admin_error(r, 500, "The session could not be revoked.");
		goto out;
	}
	snprintf(detail, sizeof(detail), "session of user %.256s: %d elevation(s) revoked", s.user,
		 count);
	store_audit(r->store, r->now, "admin_revoke", h, r->admin_user, NULL, NULL, "ok", detail);
	if (strcmp(back, "session") == 0)
		buf_printf(&loc, "/admin/session?h=%s&done=revoked&n=%d", h, count);
	else
		buf_printf(&loc, "/admin/sessions?done=revoked&n=%d", count);
	h_av_redirect(r, buf_cstr(&loc));
out:
	free(s.session_hash);
	free(s.user);
	free(s.contexts);
	free(s.context);
	free(s.provider);
	free(s.acr);
	buf_cleanup(&loc);
}

/* h_admin_session_revoke_user(): POST /admin/sessions/revoke-user (user). */
void
h_admin_session_revoke_user(struct req *r)
{
	const char *user;
	char detail[400];
	int count = 0;
	struct buf loc;

	buf_init(&loc, 8192);
	if (!h_av_form(r, "user", 1024, &user))
		goto out;
	if (!h_text_valid(user, 1024)) {
		h_admin_error(r, 400, "Name the user whose sessions to revoke (no control characters).");
		goto out;
	}
	if (store_admin_views_revoke_user(r->store, user, r->now, &count) != SU_OK) {
		h_admin_error(r, 500, "The sessions could not be revoked.");
		goto out;
	}
	snprintf(detail, sizeof(detail), "every session of user %.256s: %d elevation(s) revoked",
		 user, count);
	store_audit(r->store, r->now, "admin_revoke_user", NULL, r->admin_user, NULL, NULL, "ok",
		    detail);
	if (buf_puts(&loc, "/admin/sessions?user=") != SU_OK || h_av_urlenc(&loc, user) != SU_OK ||
	    buf_printf(&loc, "&done=revoked-user&n=%d", count) != SU_OK) {
		h_av_redirect(r, "/admin/sessions");
		goto out;
	}
	h_av_redirect(r, buf_cstr(&loc));
out:
	buf_cleanup(&loc);
}
