/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_svgchart.c: the server-rendered SVG bar chart (svgchart.h): the y
 * scale picks round steps; a chart has one bar per positive value with a
 * hover title, x labels (every k-th), an empty-state text when all are
 * zero; every text is escaped (a label with markup stays text); no style
 * attribute and no script ever appear; bad arguments are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "svgchart.h"
#include "t.h"

/* count() counts the occurrences of needle in hay. */
static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_scale(void)
{
	struct { int64_t max, step, top; } c[] = {
		{ 0, 1, 1 }, { -5, 1, 1 }, { 1, 1, 1 }, { 3, 1, 3 }, { 5, 1, 5 }, { 6, 2, 6 },
		{ 7, 2, 8 }, { 11, 5, 15 }, { 24, 5, 25 }, { 26, 10, 30 }, { 100, 20, 100 },
		{ 101, 50, 150 }, { 999, 200, 1000 }, { 123456, 50000, 150000 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t step = 0, top = 0;

		svgchart_scale(c[i].max, &step, &top);
		T_OK(step == c[i].step && top == c[i].top, "scale(%lld): step %lld top %lld",
		     (long long)c[i].max, (long long)step, (long long)top);
	}
	{
		int64_t step = 0, top = 0;

		svgchart_scale(INT64_MAX, &step, &top);
		T_OK(step > 0 && top >= step, "scale(INT64_MAX) stays positive");
	}
}

static void
test_render(void)
{
	struct svgchart_bar bars[24];
	char labels[24][8];
	struct svgchart c = { .title = "Matches per hour", .bars = bars, .n = 24, .label_every = 3 };
	struct buf b;
	const char *s;

	memset(bars, 0, sizeof(bars));
	for (int i = 0; i < 24; i++) {
		snprintf(labels[i], sizeof(labels[i]), "%02d", i);
		bars[i].label = labels[i];
		bars[i].value = i % 4 == 0 ? i : 0;
	}
	buf_init(&b, 256 * 1024);
	T_OK(svgchart_bars(&c, &b) == SU_OK, "a 24-bar chart renders");
	s = buf_cstr(&b);
	T_OK(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0, "it is an svg element");
	T_OK(strstr(s, "</svg>") != NULL && strcmp(s + strlen(s) - 6, "</svg>") == 0, "closed at the end");
	T_OK(strstr(s, "aria-label=\"Matches per hour\"") != NULL, "accessible name");
	/* values 4, 8, 12, 16, 20 are positive (0 at hour 0 is not) */
	T_OK(count(s, "<rect ") == 5, "one bar per positive value (%zu)", count(s, "<rect "));
	T_OK(strstr(s, "<title>04: 4</title>") != NULL, "hover title: label and value");
	T_OK(count(s, "class=\"x\"") == 8, "every 3rd x label (%zu)", count(s, "class=\"x\""));
	T_OK(strstr(s, ">20</text>") != NULL, "value printed above a bar");
	T_OK(strstr(s, "style=") == NULL, "no style attribute");
	T_OK(strstr(s, "<script") == NULL && strstr(s, " on") == NULL, "no script, no event handler");
	T_OK(strstr(s, "No data") == NULL, "no empty-state text when there is data");
	buf_cleanup(&b);
}

static void
test_escape_and_empty(void)
{
	struct svgchart_bar bars[2] = {
		{ .value = 0, .label = "<script>alert(1)</script>", .tip = "a\"b" },
		{ .value = -3, .label = "x&y", .tip = NULL },
	};
	struct svgchart c = { .title = "<b>t</b>\"'", .empty = "Nothing <here>", .bars = bars, .n = 2 };
	struct buf b;
	const char *s;

	buf_init(&b, 64 * 1024);
	T_OK(svgchart_bars(&c, &b) == SU_OK, "all-zero chart renders");
	s = buf_cstr(&b);
	T_OK(strstr(s, "<script") == NULL, "a label's markup is escaped");
	T_OK(strstr(s, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL, "the label is shown as text");
	T_OK(strstr(s, "&lt;b&gt;t&lt;/b&gt;&quot;&#39;") != NULL, "the title is escaped");
	T_OK(strstr(s, "<b>") == NULL, "no raw markup from the title");
	T_OK(strstr(s, "x&amp;y") != NULL, "& escaped");
	T_OK(strstr(s, "Nothing &lt;here&gt;") != NULL, "empty-state text, escaped");
	T_OK(count(s, "<rect ") == 0, "zero and negative values draw no bar");
	buf_cleanup(&b);

	buf_init(&b, 64 * 1024);
	c.n = 0;
	c.empty = NULL;
	T_OK(svgchart_bars(&c, &b) == SU_OK && strstr(buf_cstr(&b), "No data") != NULL,
	     "no bars: the default empty text");
	buf_cleanup(&b);
}

static void
test_refused(void)
{
	struct svgchart_bar one = { .value = 1 };
	struct svgchart c = { .title = "t", .bars = &one, .n = 1 };
	struct buf b;

	buf_init(&b, 64 * 1024);
	T_OK(svgchart_bars(NULL, &b) == SU_EINVAL, "NULL chart refused");
	c.title = NULL;
	T_OK(svgchart_bars(&c, &b) == SU_EINVAL, "no title refused");
	c.title = "t";
	c.n = SVGCHART_BARS_MAX + 1;
	T_OK(svgchart_bars(&c, &b) == SU_EINVAL, "too many bars refused");
	c.n = 1;
	c.width = 50;
	c.height = 50;
	T_OK(svgchart_bars(&c, &b) == SU_EINVAL, "too small refused");
	c.width = 0;
	c.height = 0;
	c.bars = NULL;
	T_OK(svgchart_bars(&c, &b) == SU_EINVAL, "bars NULL with n > 0 refused");
	T_OK(b.len == 0, "nothing written by refused calls");
	buf_cleanup(&b);

	buf_init(&b, 100);
	c.bars = &one;
	T_OK(svgchart_bars(&c, &b) == SU_ETOOBIG, "a buffer too small: SU_ETOOBIG");
	buf_cleanup(&b);
}

int
main(void)
{
	test_scale();
	test_render();
	test_escape_and_empty();
	test_refused();
	return T_DONE();
}
