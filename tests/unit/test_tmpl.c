/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_tmpl.c: templates escape by construction; missing values are errors. */
#include <stdio.h>
#include <string.h>

#include "route.h"
#include "t.h"
#include "tmpl.h"

int
main(void)
{
	struct buf b;
	const struct tmpl_var v[] = { { "message", "<script>alert('x')</script> & \"q\"\x01" },
				      { "status", "400" }, { "time", "now" } };
	size_t n;
	const struct route *rt;

	T_OK(tmpl_load_dir("templates") == SU_OK, "templates load");
	buf_init(&b, 65536);
	T_OK(tmpl_page("error", "T<i>", v, 3, &b) == SU_OK, "error page renders");
	T_OK(strstr(buf_cstr(&b), "<script>") == NULL, "markup in a value is not markup");
	T_OK(strstr(buf_cstr(&b), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;&#xfffd;") != NULL,
	     "value is escaped, control byte replaced");
	T_OK(strstr(buf_cstr(&b), "T&lt;i&gt;") != NULL, "title is escaped");
	buf_reset(&b);
	T_OK(tmpl_render("error", v, 1, &b) == SU_EINVAL, "a marker without a value is an error");
	T_OK(tmpl_render("no-such", v, 3, &b) == SU_ENOTFOUND, "unknown template");
	buf_cleanup(&b);
	tmpl_unload();

	rt = route_table(&n);
	for (size_t i = 0; i < n; i++)
		if (strncmp(rt[i].path, "/api/", 5) == 0)
			T_OK(rt[i].flags & R_API, "route %s %s requires an API key", rt[i].method, rt[i].path);
	return T_DONE();
}
