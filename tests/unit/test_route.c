/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_route.c: the route table's preconditions for the admin console
 * (every /admin route needs an admin session except the sign-in ones; every
 * state-changing /admin route needs the CSRF token; sign-out needs both),
 * the `next` rule after sign-in, and the console frame: the signed-in
 * admin's name is text, the sign-out form carries the CSRF token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "http.h"
#include "route.h"
#include "t.h"
#include "tmpl.h"

/* sign_in_route() says whether m, p is one of the routes that must work
 * without an admin session. */
static bool
sign_in_route(const char *m, const char *p)
{
	return (strcmp(p, "/admin/login") == 0 && (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0)) ||
	       (strcmp(p, "/admin/login/oidc") == 0 && strcmp(m, "GET") == 0);
}

static void
check_table(void)
{
	size_t n, admin = 0;
	const struct route *rt = route_table(&n);
	bool logout = false, login_post = false;

	for (size_t i = 0; i < n; i++) {
		const char *m = rt[i].method, *p = rt[i].path;

		if (strncmp(p, "/admin", 6) != 0)
			continue;
		admin++;
		if (!sign_in_route(m, p))
			T_OK(rt[i].flags & R_ADMIN, "route %s %s needs an admin session", m, p);
		else
			T_OK(!(rt[i].flags & R_ADMIN), "sign-in route %s %s works without a session", m, p);
		if (strcmp(m, "GET") != 0)
			T_OK(rt[i].flags & R_CSRF, "route %s %s needs the CSRF token", m, p);
		if (strcmp(m, "*") == 0)
			T_OK(0, "route %s %s: an admin route names its method", m, p);
		if (strcmp(m, "POST") == 0 && strcmp(p, "/admin/logout") == 0)
			logout = (rt[i].flags & (R_ADMIN | R_CSRF)) == (R_ADMIN | R_CSRF);
		if (strcmp(m, "POST") == 0 && strcmp(p, "/admin/login") == 0)
			login_post = (rt[i].flags & R_CSRF) && (rt[i].flags & R_SLOW);
	}
	T_OK(admin >= 5, "the admin routes are in the table (%zu)", admin);
	T_OK(logout, "POST /admin/logout is R_ADMIN | R_CSRF");
	T_OK(login_post, "POST /admin/login checks the pre-session CSRF token and runs on a slow thread");
}

static void
check_next(void)
{
	static const char *const good[] = { "/admin", "/admin/", "/admin/sessions",
					    "/admin/sessions?user=a%20b&page=2", "/admin?x=1" };
	static const char *const bad[] = {
		"//evil", "https://evil", "/\\evil", "/admin\\evil", "/admin//evil",
		"/adminx", "/admin/../x", "/admin/..", "http://127.0.0.1/admin/", "",
		"/admin/\r\nSet-Cookie:x=1", "/admin/ space", "/admin/\x7f", "/admin/\xc3\xa9",
		"admin/", "/Admin/", "/admin/.?x",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_OK(h_admin_next_ok(good[i]), "next %s accepted", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(!h_admin_next_ok(bad[i]), "next refused: bad[%zu]", i);
	T_OK(!h_admin_next_ok(NULL), "next NULL refused");
}

static void
check_frame(void)
{
	static struct req r;
	const char *out;

	buf_init(&r.out, 1 << 20);
	r.path = "/admin/sessions";
	snprintf(r.admin_user, sizeof(r.admin_user), "%s", "<script>alert(1)</script>&co");
	snprintf(r.csrf, sizeof(r.csrf), "%s", "tok\"en");
	h_admin_page(&r, 200, "T<i>tle", "admin_home", NULL, 0);
	out = buf_cstr(&r.out);
	T_OK(r.status == 200 && strstr(out, "<!doctype html>") == out, "the frame renders");
	T_OK(strstr(out, "<script") == NULL, "no script element anywhere in a console page");
	T_OK(strstr(out, "<span class=\"admin-user\" title=\"Signed in as\">&lt;script&gt;alert(1)&lt;/script&gt;&amp;co</span>") != NULL,
	     "the admin's name in the header is escaped text");
	T_OK(strstr(out, "T&lt;i&gt;tle") != NULL, "the title is escaped");
	T_OK(strstr(out, "<form class=\"signout\" method=\"post\" action=\"/admin/logout\">\n"
			 "<input type=\"hidden\" name=\"csrf\" value=\"tok&quot;en\">") != NULL,
	     "the sign-out form posts the CSRF token");
	T_OK(strstr(out, "href=\"/admin/sessions\">Sessions<") && strstr(out, "href=\"/admin/policies\">Policies<") &&
		     strstr(out, "href=\"/admin/audit\">Audit<") &&
		     strstr(out, "href=\"/admin/idps\">Identity providers<"),
	     "the nav links the four sections");
	T_OK(strstr(out, "class=\"admin page-admin_home\"") != NULL, "the body names the page");
	T_OK(strstr(out, "style=") == NULL && strstr(out, "onclick=") == NULL &&
		     strstr(out, "onload=") == NULL && strstr(out, "onsubmit=") == NULL,
	     "no inline style or event handler");

	h_admin_error(&r, 404, "<b>not bold</b>");
	out = buf_cstr(&r.out);
	T_OK(r.status == 404 && strstr(out, "&lt;b&gt;not bold&lt;/b&gt;") != NULL && strstr(out, "<b>") == NULL,
	     "an error inside the frame is escaped");
	r.admin_user[0] = '\0';
	h_admin_error(&r, 403, "no session");
	out = buf_cstr(&r.out);
	T_OK(r.status == 403 && strstr(out, "admin/logout") == NULL,
	     "without a session the error page has no sign-out form");
	h_admin_refuse(&r, 403, "Request <refused>", "This form expired.");
	out = buf_cstr(&r.out);
	T_OK(r.status == 403 && strstr(out, "<title>Request &lt;refused&gt; · stepupd admin</title>") != NULL &&
		     strstr(out, "href=\"/admin/login\">Sign in to the console<") != NULL &&
		     strstr(out, "not elevated") == NULL,
	     "a refusal: its own title (escaped), a way to sign in, not the end user's wording");
	r.path = "/admin/api/sessions";
	h_admin_error(&r, 401, "admin session required");
	T_OK(r.status == 401 && strcmp(r.ctype, "application/json") == 0 &&
		     strcmp(buf_cstr(&r.out), "{\"error\":\"admin session required\"}") == 0,
	     "an error under /admin/api/ is JSON");
	h_admin_page(&r, 200, "x", "no-such-template", NULL, 0);
	T_OK(r.status == 500, "a missing template is a 500, not a half page");
	for (int i = 0; i < r.n_hdrs; i++) {
		free(r.hdrs[i].name);
		free(r.hdrs[i].value);
	}
	buf_cleanup(&r.out);
}

int
main(void)
{
	T_OK(tmpl_load_dir("templates") == SU_OK, "templates load");
	check_table();
	check_next();
	check_frame();
	tmpl_unload();
	return T_DONE();
}
