/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * svgchart.c: bar charts as inline SVG (see svgchart.h). Geometry is
 * computed in doubles and written with one decimal; text goes through
 * tmpl_escape(). The colours match templates/admin.css (calm blue bars,
 * grey grid and labels); CSS may override them through the class names.
 */
#include "svgchart.h"

#include <stdbool.h>
#include <stdio.h>

#include "tmpl.h"

#define SC_LEFT 44.0     /* room for the y labels */
#define SC_RIGHT 8.0
#define SC_TOP 16.0      /* room for a value above the tallest bar */
#define SC_BOTTOM 24.0   /* room for the x labels */
#define SC_BAR_FILL "#3867d6"
#define SC_GRID "#e4e7ec"
#define SC_AXIS "#98a2b3"
#define SC_TEXT "#667085"

/* svgchart_scale(): see svgchart.h. */
void
svgchart_scale(int64_t max, int64_t *step, int64_t *top)
{
	static const int64_t mant[] = { 1, 2, 5 };
	int64_t need, s = 1;

	if (max <= 0) {
		*step = 1;
		*top = 1;
		return;
	}
	need = max / 5 + (max % 5 != 0); /* the smallest step reaching max in 5 */
	for (int64_t k = 1;; k *= 10) {
		bool found = false;

		for (size_t i = 0; i < 3; i++) {
			if (mant[i] * k >= need) {
				s = mant[i] * k;
				found = true;
				break;
			}
		}
		if (found || k > INT64_MAX / 100)
			break;
	}
	if (s < need)  /* only for values near INT64_MAX */
		s = need;
	*step = s;
	need = max / s + (max % s != 0); /* steps to reach max */
	*top = need > INT64_MAX / s ? INT64_MAX : need * s;
}

/* sc_text() writes <text ...>escaped</text> at x, y. */
static enum su_rc
sc_text(struct buf *out, double x, double y, const char *anchor, const char *cls,
	const char *text)
{
	enum su_rc rc = buf_printf(out,
				   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"12\" "
				   "fill=\"" SC_TEXT "\" class=\"%s\">",
				   x, y, anchor, cls);

	if (rc == SU_OK)
		rc = tmpl_escape(out, text);
	if (rc == SU_OK)
		rc = buf_puts(out, "</text>");
	return rc;
}

/* sc_axis() draws the horizontal grid lines and their y labels. */
static enum su_rc
sc_axis(struct buf *out, double w, double ph, int64_t step, int64_t top)
{
	enum su_rc rc = SU_OK;

	for (int64_t v = 0; v <= top && rc == SU_OK; v += step) {
		double y = SC_TOP + ph - ph * ((double)v / (double)top);
		char num[32];

		rc = buf_printf(out,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				"stroke-width=\"1\"/>",
				SC_LEFT, y, w - SC_RIGHT, y, v == 0 ? SC_AXIS : SC_GRID);
		if (rc == SU_OK) {
			snprintf(num, sizeof(num), "%lld", (long long)v);
			rc = sc_text(out, SC_LEFT - 6, y + 4, "end", "y", num);
		}
		if (top - v < step)
			break;
	}
	return rc;
}

/* sc_bar() draws bar i (value v) with its hover title, its value and label. */
static enum su_rc
sc_bar(struct buf *out, const struct svgchart *c, size_t i, double slot, double ph, int64_t top)
{
	const struct svgchart_bar *b = &c->bars[i];
	int64_t v = b->value > 0 ? b->value : 0;
	double bw = slot * 0.72, x = SC_LEFT + slot * (double)i + (slot - bw) / 2;
	double h = ph * ((double)v / (double)top), y = SC_TOP + ph - h;
	unsigned every = c->label_every > 1 ? c->label_every : 1;
	char num[32];
	enum su_rc rc = SU_OK;

	snprintf(num, sizeof(num), "%lld", (long long)v);
	if (v > 0) {
		if (h < 1.0) {
			h = 1.0;
			y = SC_TOP + ph - h;
		}
		rc = buf_printf(out,
				"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"rx=\"2\" fill=\"" SC_BAR_FILL "\"><title>",
				x, y, bw, h);
		if (rc == SU_OK)
			rc = tmpl_escape(out, b->tip ? b->tip : (b->label ? b->label : ""));
		if (rc == SU_OK)
			rc = buf_printf(out, "%s%s</title></rect>", b->tip || b->label ? ": " : "",
					num);
		if (rc == SU_OK && c->n <= 31)
			rc = sc_text(out, x + bw / 2, y - 4, "middle", "value", num);
	}
	if (rc == SU_OK && b->label != NULL && i % every == 0)
		rc = sc_text(out, x + bw / 2, SC_TOP + ph + 16, "middle", "x", b->label);
	return rc;
}

/* svgchart_bars(): see svgchart.h. */
enum su_rc
svgchart_bars(const struct svgchart *c, struct buf *out)
{
	double w, h, pw, ph, slot;
	int64_t max = 0, step, top;
	enum su_rc rc = SU_EINVAL;

	if (c == NULL || out == NULL || c->title == NULL || c->n > SVGCHART_BARS_MAX ||
	    (c->n > 0 && c->bars == NULL))
		goto out;
	w = c->width ? c->width : 600;
	h = c->height ? c->height : 190;
	if (w < 120 || h < 80 || w > 4000 || h > 4000)
		goto out;
	pw = w - SC_LEFT - SC_RIGHT;
	ph = h - SC_TOP - SC_BOTTOM;
	for (size_t i = 0; i < c->n; i++)
		if (c->bars[i].value > max)
			max = c->bars[i].value;
	svgchart_scale(max, &step, &top);
	rc = buf_printf(out,
			"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
			"width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"",
			w, h, w, h);
	if (rc == SU_OK)
		rc = tmpl_escape(out, c->title);
	if (rc == SU_OK)
		rc = buf_puts(out, "\"><title>");
	if (rc == SU_OK)
		rc = tmpl_escape(out, c->title);
	if (rc == SU_OK)
		rc = buf_puts(out, "</title>");
	if (rc == SU_OK)
		rc = sc_axis(out, w, ph, step, top);
	slot = c->n ? pw / (double)c->n : pw;
	for (size_t i = 0; i < c->n && rc == SU_OK; i++)
		rc = sc_bar(out, c, i, slot, ph, top);
	if (rc == SU_OK && max <= 0)
		rc = sc_text(out, SC_LEFT + pw / 2, SC_TOP + ph / 2, "middle", "empty",
			     c->empty ? c->empty : "No data");
	if (rc == SU_OK)
		rc = buf_puts(out, "</svg>");
out:
	return rc;
}
