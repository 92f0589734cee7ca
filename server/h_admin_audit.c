/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_admin_audit.c: the console's audit log (SPEC 2.5): GET
 * /admin/audit?q=TERM&page=N, newest first, 50 a page. The search term
 * matches user, context, event, outcome, detail and provider anywhere
 * (ASCII case-insensitive) or a session hash by its start; it reaches
 * SQLite only as a bound LIKE pattern with its wildcards escaped
 * (store_admin_views_audit()).
 *
 * What it does not do: change the log (it is append-only), or show
 * anything unescaped: every column comes from users, proxies or IdPs.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "http.h"
#include "store.h"
#include "store_admin_views.h"
#include "tmpl.h"

#define AUD_PER_PAGE 50

/* aud_row() renders one audit row. */
static enum su_rc
aud_row(const struct store_audit_row *a, struct buf *out)
{
	struct buf outc, sess;
	char t[H_AV_TIME_LEN], iso[H_AV_TIME_LEN];
	enum su_rc rc = SU_OK;

	buf_init(&outc, 512);
	buf_init(&sess, 1024);
	h_av_time(a->ts, t);
	h_av_iso(a->ts, iso);
	if (a->outcome != NULL)
		rc = h_av_badge(&outc, h_av_outcome_kind(a->outcome), a->outcome);
	if (rc == SU_OK && a->session_hash != NULL) {
		rc = h_av_session_link(&sess, a->session_hash);
	}
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "time", t }, { "iso", iso }, { "event", a->event },
			{ "outcome", buf_cstr(&outc) }, { "user", a->user }, { "context", a->context },
			{ "provider", a->provider }, { "session", buf_cstr(&sess) },
			{ "detail", a->detail },
		};

		rc = tmpl_render("admin_audit_row", v, sizeof(v) / sizeof(v[0]), out);
	}
	buf_cleanup(&outc);
	buf_cleanup(&sess);
	return rc;
}

/* h_admin_audit(): GET /admin/audit. */
void
h_admin_audit(struct req *r)
{
	struct store_audit_row *v = NULL;
	size_t n = 0;
	int64_t page = 1, total = 0;
	const char *q;
	char summary[160];
	struct buf rows, pager, base;
	enum su_rc rc;

	buf_init(&rows, 4 * 1024 * 1024);
	buf_init(&pager, 16 * 1024);
	buf_init(&base, 4096);
	if (!h_av_query(r, "q", STORE_ADMIN_TERM_MAX, &q) || !h_av_page(r, &page))
		goto out;
	rc = store_admin_views_audit(r->store, q, (size_t)(page - 1) * AUD_PER_PAGE, AUD_PER_PAGE,
				     &v, &n, &total);
	if (rc == SU_EINVAL) {
		h_admin_error(r, 400, "That page is too far.");
		goto out;
	}
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The audit log could not be read.");
		goto out;
	}
	for (size_t i = 0; rc == SU_OK && i < n; i++)
		rc = aud_row(&v[i], &rows);
	if (rc == SU_OK && n == 0)
		rc = h_av_empty_row(&rows, "8",
				    page > 1 ? "No more rows: go back to the first page."
					     : (q[0] ? "Nothing in the audit log matches this search."
						     : "The audit log is empty."));
	if (rc == SU_OK)
		rc = buf_puts(&base, "/admin/audit?q=");
	if (rc == SU_OK)
		rc = h_av_urlenc(&base, q);
	if (rc == SU_OK)
		rc = buf_puts(&base, "&");
	if (rc == SU_OK)
		rc = h_av_pager(&pager, buf_cstr(&base), page, AUD_PER_PAGE, n, total);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The page could not be rendered.");
		goto out;
	}
	if (n == 0 && page > 1)
		snprintf(summary, sizeof(summary), "Page %lld is past the end.", (long long)page);
	else if (q[0] != '\0')
		snprintf(summary, sizeof(summary), "%lld matching row%s, newest first.",
			 (long long)total, total == 1 ? "" : "s");
	else
		snprintf(summary, sizeof(summary), "%lld row%s, newest first.", (long long)total,
			 total == 1 ? "" : "s");
	{
		const struct tmpl_var tv[] = {
			{ "q", q }, { "summary", summary }, { "rows", buf_cstr(&rows) },
			{ "pager", buf_cstr(&pager) },
		};

		h_admin_page(r, 200, "Audit log", "admin_audit", tv, sizeof(tv) / sizeof(tv[0]));
	}
out:
	store_audit_list_free(v, n);
	buf_cleanup(&rows);
	buf_cleanup(&pager);
	buf_cleanup(&base);
}
