/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tmpl.c: the template engine (see tmpl.h). Templates are read once into
 * memory; rendering scans for @@...@@ markers and writes every value through
 * tmpl_escape(). It is deliberately tiny: no conditionals or loops, so what
 * a page can print is decided by C code that builds the values.
 */
#include "tmpl.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define TMPL_MAX 256
#define TMPL_FILE_MAX (256 * 1024)

struct tmpl {
	char *name; /* file name without .html */
	char *text;
};

static struct tmpl tmpls[TMPL_MAX];
static size_t n_tmpls;

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t got;

	if (f == NULL)
		return NULL;
	buf_init(&b, TMPL_FILE_MAX);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, got) != SU_OK) {
			buf_cleanup(&b);
			fclose(f);
			return NULL;
		}
	}
	fclose(f);
	return buf_steal(&b);
}

enum su_rc
tmpl_load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	enum su_rc rc = SU_OK;

	if (d == NULL) {
		log_err("cannot open template directory %s", dir);
		return SU_EIO;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char path[4096];

		bool html = len > 5 && strcmp(e->d_name + len - 5, ".html") == 0;
		bool css = len > 4 && strcmp(e->d_name + len - 4, ".css") == 0;

		if (!html && !css)
			continue;
		if (n_tmpls == TMPL_MAX) {
			rc = SU_ETOOBIG;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		tmpls[n_tmpls].text = read_file(path);
		tmpls[n_tmpls].name = strndup(e->d_name, html ? len - 5 : len);
		if (tmpls[n_tmpls].text == NULL || tmpls[n_tmpls].name == NULL) {
			log_err("cannot read template %s", path);
			free(tmpls[n_tmpls].text);
			free(tmpls[n_tmpls].name);
			rc = SU_EIO;
			break;
		}
		n_tmpls++;
	}
	closedir(d);
	return rc;
}

void
tmpl_unload(void)
{
	for (size_t i = 0; i < n_tmpls; i++) {
		free(tmpls[i].name);
		free(tmpls[i].text);
	}
	n_tmpls = 0;
}

enum su_rc
tmpl_escape(struct buf *out, const char *s)
{
	enum su_rc rc = SU_OK;

	for (; s && *s && rc == SU_OK; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': rc = buf_puts(out, "&amp;"); break;
		case '<': rc = buf_puts(out, "&lt;"); break;
		case '>': rc = buf_puts(out, "&gt;"); break;
		case '"': rc = buf_puts(out, "&quot;"); break;
		case '\'': rc = buf_puts(out, "&#39;"); break;
		default:
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				rc = buf_puts(out, "&#xfffd;");
			else
				rc = buf_append(out, s, 1);
		}
	}
	return rc;
}

static const char *
find_var(const struct tmpl_var *vars, size_t n, const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].key) == klen && memcmp(vars[i].key, key, klen) == 0)
			return vars[i].value ? vars[i].value : "";
	return NULL;
}

enum su_rc
tmpl_render(const char *name, const struct tmpl_var *vars, size_t n, struct buf *out)
{
	const char *p = NULL, *m, *end;

	for (size_t i = 0; i < n_tmpls; i++)
		if (strcmp(tmpls[i].name, name) == 0)
			p = tmpls[i].text;
	if (p == NULL) {
		log_err("no template %s", name);
		return SU_ENOTFOUND;
	}
	while ((m = strstr(p, "@@")) != NULL) {
		bool raw = false;
		const char *key, *val;
		enum su_rc rc = buf_append(out, p, (size_t)(m - p));

		if (rc != SU_OK)
			return rc;
		key = m + 2;
		if (*key == '!') {
			raw = true;
			key++;
		}
		end = strstr(key, "@@");
		if (end == NULL) {
			log_err("template %s: unterminated marker", name);
			return SU_EINVAL;
		}
		val = find_var(vars, n, key, (size_t)(end - key));
		if (val == NULL) {
			log_err("template %s: no value for %.*s", name, (int)(end - key), key);
			return SU_EINVAL;
		}
		rc = raw ? buf_puts(out, val) : tmpl_escape(out, val);
		if (rc != SU_OK)
			return rc;
		p = end + 2;
	}
	return buf_puts(out, p);
}

enum su_rc
tmpl_page(const char *name, const char *title, const struct tmpl_var *vars, size_t n,
	  struct buf *out)
{
	struct buf body;
	enum su_rc rc;

	buf_init(&body, out->max);
	rc = tmpl_render(name, vars, n, &body);
	if (rc == SU_OK) {
		const struct tmpl_var lv[] = { { "title", title }, { "body", buf_cstr(&body) } };

		rc = tmpl_render("layout", lv, 2, out);
	}
	buf_cleanup(&body);
	return rc;
}
