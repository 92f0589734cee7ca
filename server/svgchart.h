/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * svgchart.h: a bar chart as inline SVG, rendered on the server for the
 * policy report (matches per hour, per day). The admin console runs no
 * JavaScript, so the chart is markup: <rect> bars with a <title> each
 * (the browser shows it on hover), a y axis with a few round ticks, and
 * x labels. Only presentation attributes (fill, stroke, font-size ...)
 * and class names, never a style attribute, so a strict
 * Content-Security-Policy (no 'unsafe-inline' styles) renders it as is.
 *
 * What it does: pure rendering into a struct buf; every text (title,
 * labels, tips) is HTML/XML-escaped with tmpl_escape(), numbers are
 * written by the module itself.
 *
 * What it does not do: read the store, pick time buckets or format dates
 * (the caller passes labels), or draw anything but bars.
 */
#ifndef STEPUPD_SVGCHART_H
#define STEPUPD_SVGCHART_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rc.h"

#define SVGCHART_BARS_MAX 1000

/* One bar. label (x axis) and tip (hover text) may be NULL. */
struct svgchart_bar {
	int64_t value;       /* negative values are drawn as 0 */
	const char *label;
	const char *tip;
};

struct svgchart {
	const char *title;   /* accessible name (aria-label and <title>); required */
	const char *empty;   /* shown when every value is 0 (NULL: "No data") */
	const struct svgchart_bar *bars;
	size_t n;            /* 0..SVGCHART_BARS_MAX */
	unsigned width;      /* viewBox size; 0: 600 x 190 */
	unsigned height;
	unsigned label_every;/* draw every k-th x label (0 or 1: all) */
};

/* svgchart_bars() appends the chart's <svg> element to out. SU_EINVAL for
 * a NULL/missing title, too many bars or a size under 120 x 80; the buffer's
 * own errors (SU_ETOOBIG, SU_ENOMEM) otherwise. On failure out may hold a
 * partial chart: render into a scratch buffer when that matters. */
enum su_rc svgchart_bars(const struct svgchart *c, struct buf *out);

/* svgchart_scale() picks the y axis: a step of 1, 2 or 5 times a power of
 * ten such that at most 5 steps reach max, and *top = steps * step >= max
 * (max <= 0: *step = 1, *top = 1). */
void svgchart_scale(int64_t max, int64_t *step, int64_t *top);

#endif
