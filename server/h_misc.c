/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* h_misc.c: the landing page, the health check, the stylesheet, and the
 * input validators the handlers share. */
#include <string.h>

#include "handlers.h"
#include "http.h"
#include "tmpl.h"

void
h_index(struct req *r)
{
	r->status = 200;
	r->ctype = "text/html; charset=utf-8";
	if (tmpl_page("index", "Step-up authentication", NULL, 0, &r->out) != SU_OK)
		http_reply_text(r, 500, "template error");
}

void
h_healthz(struct req *r)
{
	http_reply_text(r, 200, "ok");
}

void
h_static_css(struct req *r)
{
	r->status = 200;
	r->ctype = "text/css; charset=utf-8";
	if (tmpl_render("stepupd.css", NULL, 0, &r->out) != SU_OK)
		http_reply_text(r, 404, "not found");
}

bool
h_session_id_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return false;
	return n >= 1 && n <= 256;
}

bool
h_text_valid(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] == 0x7f)
			return false;
	return n >= 1 && n <= max;
}
