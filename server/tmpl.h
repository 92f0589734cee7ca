/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tmpl.h: HTML templates from templates/ (*.html files), loaded once at start-up.
 * A template holds text and @@key@@ markers. Every value is HTML-escaped as
 * it is written (& < > " ' and control bytes), so request, IdP and proxy
 * data can never become markup. The one exception is @@!key@@, which
 * inserts a value marked raw: only for HTML the server itself rendered
 * from another template. A marker with no value is an error, not "".
 */
#ifndef STEPUPD_TMPL_H
#define STEPUPD_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "rc.h"

struct tmpl_var {
	const char *key;
	const char *value;
};

/* tmpl_load_dir() loads every .html (named without the suffix) and .css file in dir (once, before threads). */
enum su_rc tmpl_load_dir(const char *dir);
void tmpl_unload(void);
/* tmpl_render() appends template name rendered with vars (n entries) to out. */
enum su_rc tmpl_render(const char *name, const struct tmpl_var *vars, size_t n, struct buf *out);
/* tmpl_escape() appends s HTML-escaped. */
enum su_rc tmpl_escape(struct buf *out, const char *s);
/* tmpl_page() renders `name` and wraps it in layout.html with title. */
enum su_rc tmpl_page(const char *name, const char *title, const struct tmpl_var *vars, size_t n,
		     struct buf *out);

#endif
