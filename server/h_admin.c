/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_admin.c: the admin console's foundation (SPEC 2.5, docs/admin.md): the
 * frame every console page is rendered in, admin sessions, sign-in with a
 * local account (Argon2id, slowed down after failures) or through the
 * [admin] OIDC provider (group claim), and sign-out. It does not render
 * the console's pages (sessions, policies, audit, identity providers): those
 * live in their own h_admin_*.c files and use the helpers below.
 *
 * How to add a console page (for the pages' authors):
 *   1. Write templates/admin_NAME.html: only the page body (the frame,
 *      title, nav, user and sign-out come from admin_layout.html). Every
 *      @@key@@ is escaped; @@csrf@@ and @@admin_user@@ are always there.
 *      Forms that change anything: method="post" and
 *      <input type="hidden" name="csrf" value="@@csrf@@">. No inline
 *      script, no style attributes (CSP); CSS goes into templates/admin.css.
 *   2. Write the handler: void h_admin_NAME(struct req *r) that reads its
 *      input (http_query(), http_form(); validate every value), builds the
 *      vars, and ends with h_admin_page(r, 200, "Title", "admin_NAME", v, n)
 *      or h_admin_error(r, status, "what went wrong"). A list: render each
 *      row with tmpl_render() into a struct buf and pass it as a raw
 *      @@!rows@@ var (raw only for HTML that tmpl_render() produced).
 *   3. Declare it in handlers.h and add it to the table in route.c:
 *      GET with R_ADMIN; POST/DELETE with R_ADMIN | R_CSRF (| R_BODY for a
 *      form body). route_dispatch() then refuses requests without an admin
 *      session or with a wrong CSRF token before the handler runs, and
 *      fills r->admin_user and r->csrf. tests/unit/test_route.c fails for
 *      an /admin route without these flags.
 *   4. After a change, answer 303 to a GET page (post/redirect/get) and
 *      audit it: store_audit(r->store, r->now, "admin_...", ...,
 *      r->admin_user, ...).
 *
 * Cookies: stepup_admin (the session: 256 random bits; the database keeps
 * only its SHA-256) and stepup_admin_pre (the sign-in form's pre-session:
 * the form's CSRF token is an HMAC of it, so a login form cannot be posted
 * from another site). Both Path=/admin; HttpOnly; SameSite=Strict, Secure
 * when public_url is https.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "adminpw.h"
#include "handlers.h"
#include "http.h"
#include "idp.h"
#include "log.h"
#include "oidc.h"
#include "reqnorm.h"
#include "store.h"
#include "store_admin.h"
#include "tmpl.h"
#include "xcrypt.h"

#define ADMIN_COOKIE "stepup_admin"
#define ADMIN_PRE_COOKIE "stepup_admin_pre"
#define ADMIN_FLOW_TTL 600   /* seconds an OIDC admin sign-in may take */
#define ADMIN_NEXT_MAX 1024  /* longest `next` path */
#define ADMIN_TOKEN_LEN 43   /* base64url of 32 random bytes */

/* admin_token_ok() says whether s looks like one of our 32-byte base64url
 * tokens (so junk never reaches a hash or the database). */
static bool
admin_token_ok(const char *s)
{
	if (s == NULL || strlen(s) != ADMIN_TOKEN_LEN)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
	       ADMIN_TOKEN_LEN;
}

/* admin_cookie_set() sets one of the console's cookies: Path=/admin,
 * HttpOnly, SameSite=Strict, Secure with an https public_url; max_age < 0
 * leaves it a browser-session cookie, 0 deletes it. */
static void
admin_cookie_set(struct req *r, const char *name, const char *value, int64_t max_age)
{
	struct buf b;

	buf_init(&b, 512);
	buf_printf(&b, "%s=%s; Path=/admin; HttpOnly; SameSite=Strict", name, value);
	if (max_age >= 0)
		buf_printf(&b, "; Max-Age=%lld", (long long)max_age);
	if (r->app->cfg->public_https)
		buf_puts(&b, "; Secure");
	http_header_add(r, "Set-Cookie", buf_cstr(&b));
	buf_cleanup(&b);
}

/* admin_pre_csrf() derives the sign-in form's CSRF token from the
 * pre-session cookie value: base64url(HMAC(key, value)). */
static void
admin_pre_csrf(const struct req *r, const char *pre, char out[48])
{
	unsigned char key[XCRYPT_KEY_LEN], mac[32];

	xcrypt_derive(r->app->start_key, "admin-login-csrf", key);
	xcrypt_hmac_sha256(key, sizeof(key), pre, strlen(pre), mac);
	if (xcrypt_b64url_encode(mac, sizeof(mac), out, 48) == 0)
		out[0] = '\0';
	explicit_bzero(key, sizeof(key));
}

/* admin_purge_now() says whether this request should sweep expired admin
 * sessions and old failure counters: at most once a minute. */
static bool
admin_purge_now(int64_t now)
{
	static int64_t last;
	int64_t prev = __atomic_load_n(&last, __ATOMIC_RELAXED);

	return now - prev >= 60 &&
	       __atomic_compare_exchange_n(&last, &prev, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* h_admin_session_load(): see handlers.h. */
void
h_admin_session_load(struct req *r)
{
	const struct cfg *c = r->app->cfg;
	const char *id = http_cookie(r, ADMIN_COOKIE), *pre;
	struct store_admin_session s;
	char id_hash[65];

	r->admin_user[0] = '\0';
	r->csrf[0] = '\0';
	if (r->store == NULL)
		return;
	if (admin_purge_now(r->now)) {
		store_admin_session_purge(r->store, r->now, c->admin_session_idle);
		store_admin_fail_purge(r->store, r->now - ADMINPW_WINDOW - ADMINPW_WAIT_MAX);
	}
	if (admin_token_ok(id)) {
		xcrypt_sha256_hex(id, id_hash);
		if (store_admin_session_use(r->store, id_hash, r->now, c->admin_session_idle, &s) ==
		    SU_OK) {
			/* an OIDC admin session ends when its provider is no longer the admin one */
			if (strncmp(s.via, "oidc:", 5) == 0 &&
			    (c->admin_provider == NULL || strcmp(s.via + 5, c->admin_provider) != 0)) {
				store_admin_session_delete(r->store, id_hash);
			} else {
				snprintf(r->admin_user, sizeof(r->admin_user), "%s", s.user);
				snprintf(r->csrf, sizeof(r->csrf), "%s", s.csrf);
				return;
			}
		}
	}
	pre = http_cookie(r, ADMIN_PRE_COOKIE);
	if (admin_token_ok(pre))
		admin_pre_csrf(r, pre, r->csrf);
}

/* admin_vars() returns vars followed by csrf and admin_user (malloc'd). */
static struct tmpl_var *
admin_vars(struct req *r, const struct tmpl_var *vars, size_t n)
{
	struct tmpl_var *v = calloc(n + 2, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = vars[i];
	v[n].key = "csrf";
	v[n].value = r->csrf;
	v[n + 1].key = "admin_user";
	v[n + 1].value = r->admin_user;
	return v;
}

/* h_admin_page(): see handlers.h. */
void
h_admin_page(struct req *r, int status, const char *title, const char *tmpl_name,
	     const struct tmpl_var *vars, size_t n)
{
	struct tmpl_var *v = admin_vars(r, vars, n);
	struct buf body;
	enum su_rc rc = SU_ENOMEM;

	buf_init(&body, r->out.max);
	if (v == NULL)
		goto out;
	rc = tmpl_render(tmpl_name, v, n + 2, &body);
	if (rc != SU_OK)
		goto out;
	{
		const struct tmpl_var lv[] = {
			{ "title", title },	 { "admin_user", r->admin_user }, { "csrf", r->csrf },
			{ "page", tmpl_name }, { "body", buf_cstr(&body) },
		};

		r->status = status;
		r->ctype = "text/html; charset=utf-8";
		buf_reset(&r->out);
		rc = tmpl_render("admin_layout", lv, sizeof(lv) / sizeof(lv[0]), &r->out);
	}
out:
	if (rc != SU_OK)
		http_reply_text(r, 500, "template error");
	buf_cleanup(&body);
	free(v);
}

/* admin_public_page() answers a page of the signed-out frame
 * (admin_public.html: no nav, no user). */
static void
admin_public_page(struct req *r, int status, const char *title, const char *tmpl_name,
		  const struct tmpl_var *vars, size_t n)
{
	struct tmpl_var *v = admin_vars(r, vars, n);
	struct buf body;
	enum su_rc rc = SU_ENOMEM;

	buf_init(&body, r->out.max);
	if (v == NULL)
		goto out;
	rc = tmpl_render(tmpl_name, v, n + 2, &body);
	if (rc != SU_OK)
		goto out;
	{
		const struct tmpl_var lv[] = { { "title", title }, { "body", buf_cstr(&body) } };

		r->status = status;
		r->ctype = "text/html; charset=utf-8";
		buf_reset(&r->out);
		rc = tmpl_render("admin_public", lv, 2, &r->out);
	}
out:
	if (rc != SU_OK)
		http_reply_text(r, 500, "template error");
	buf_cleanup(&body);
	free(v);
}

/* admin_error_page() answers msg (escaped) under title: in the console
 * frame with a way back to the console when an admin is signed in, else in
 * the signed-out frame with a way to the sign-in page. */
static void
admin_error_page(struct req *r, int status, const char *title, const char *msg)
{
	bool in = r->admin_user[0] != '\0';
	const struct tmpl_var v[] = {
		{ "message", msg },
		{ "back_href", in ? "/admin/" : "/admin/login" },
		{ "back_text", in ? "Back to the console" : "Sign in to the console" },
	};

	if (in)
		h_admin_page(r, status, title, "admin_error", v, sizeof(v) / sizeof(v[0]));
	else
		admin_public_page(r, status, title, "admin_error", v, sizeof(v) / sizeof(v[0]));
}

/* h_admin_refuse(): see handlers.h. */
void
h_admin_refuse(struct req *r, int status, const char *title, const char *msg)
{
	if (strncmp(r->path, "/admin/api/", 11) == 0)
		http_reply_error_json(r, status, msg);
	else
		admin_error_page(r, status, title, msg);
}

/* h_admin_error(): see handlers.h. */
void
h_admin_error(struct req *r, int status, const char *msg)
{
	h_admin_refuse(r, status, "Error", msg);
}

/* GET /static/admin.css: the console's stylesheet (templates/admin.css). */
void
h_admin_static_css(struct req *r)
{
	r->status = 200;
	r->ctype = "text/css; charset=utf-8";
	if (tmpl_render("admin.css", NULL, 0, &r->out) != SU_OK)
		http_reply_text(r, 404, "not found");
}

/* GET /admin/: the console's home, links to its sections. */
void
h_admin_home(struct req *r)
{
	h_admin_page(r, 200, "Console", "admin_home", NULL, 0);
}

/* h_admin_next_ok(): see handlers.h. */
bool
h_admin_next_ok(const char *next)
{
	size_t n;

	if (next == NULL || strncmp(next, "/admin", 6) != 0)
		return false;
	if (next[6] != '\0' && next[6] != '/' && next[6] != '?')
		return false;
	n = strlen(next);
	if (n > ADMIN_NEXT_MAX || strstr(next, "//") != NULL || strstr(next, "/..") != NULL ||
	    strstr(next, "/.?") != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)next[i];

		/* printable ASCII only: no controls (header splitting), no
		 * backslash (browsers read it as '/'), nothing beyond 0x7e */
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return false;
	}
	return true;
}

/* admin_next() returns the page to go to after sign-in: next when it is a
 * console path, else the console's home. */
static const char *
admin_next(const char *next)
{
	if (next == NULL || strcmp(next, "/admin") == 0 || !h_admin_next_ok(next))
		return "/admin/";
	return next;
}

/* admin_urlencode() appends s percent-encoded for a query value. */
static enum su_rc
admin_urlencode(struct buf *b, const char *s)
{
	enum su_rc rc = SU_OK;

	for (; rc == SU_OK && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || c == '/')
			rc = buf_append(b, s, 1);
		else
			rc = buf_printf(b, "%%%02X", c);
	}
	return rc;
}

/* admin_login_form() answers the sign-in page with status and an optional
 * message (escaped). It makes the pre-session when there is none. */
static void
admin_login_form(struct req *r, int status, const char *next, const char *message)
{
	const struct cfg *c = r->app->cfg;
	struct buf msg, oidc, nq;
	enum su_rc rc = SU_OK;

	buf_init(&msg, 4096);
	buf_init(&oidc, 4096);
	buf_init(&nq, 4096);
	if (r->csrf[0] == '\0') {
		char pre[48];

		if (xcrypt_random_token(pre, sizeof(pre), 32) != SU_OK) {
			http_reply_text(r, 500, "no randomness available");
			goto out;
		}
		admin_cookie_set(r, ADMIN_PRE_COOKIE, pre, -1);
		admin_pre_csrf(r, pre, r->csrf);
	}
	if (message != NULL) {
		const struct tmpl_var mv[] = { { "message", message } };

		rc = tmpl_render("admin_message", mv, 1, &msg);
	}
	if (rc == SU_OK && c->admin_provider != NULL) {
		rc = admin_urlencode(&nq, next);
		if (rc == SU_OK) {
			const struct tmpl_var ov[] = { { "provider", c->admin_provider },
						       { "next_q", buf_cstr(&nq) } };

			rc = tmpl_render("admin_login_oidc", ov, 2, &oidc);
		}
	}
	if (rc != SU_OK) {
		http_reply_text(r, 500, "template error");
		goto out;
	}
	{
		const struct tmpl_var v[] = { { "next", next },
					      { "message", buf_cstr(&msg) },
					      { "oidc", buf_cstr(&oidc) } };

		admin_public_page(r, status, "Admin sign-in", "admin_login", v, 3);
	}
out:
	buf_cleanup(&msg);
	buf_cleanup(&oidc);
	buf_cleanup(&nq);
}

/* GET /admin/login: the sign-in form (or, when signed in, on to next). */
void
h_admin_login_get(struct req *r)
{
	const char *next = NULL;

	if (http_query(r, "next", &next) == SU_EINVAL)
		next = NULL;
	next = admin_next(next);
	if (r->admin_user[0] != '\0') {
		http_redirect(r, 303, next);
		return;
	}
	admin_login_form(r, 200, next, NULL);
}

/* admin_client_key() writes "ip:<client address>" (X-Forwarded-For from a
 * trusted proxy is followed); false when the address cannot be known. */
static bool
admin_client_key(struct req *r, char *out, size_t outsz)
{
	struct sockaddr_storage ss;
	char addr[INET6_ADDRSTRLEN];
	const void *a;

	if (r->peer == NULL ||
	    reqnorm_client_addr(r->peer, http_header(r, "X-Forwarded-For"), r->app->cfg, &ss) != SU_OK)
		return false;
	if (ss.ss_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)&ss)->sin6_addr;
	else
		return false;
	if (inet_ntop(ss.ss_family, a, addr, sizeof(addr)) == NULL)
		return false;
	snprintf(out, outsz, "ip:%s", addr);
	return true;
}

/* admin_session_start() makes a new admin session for user (via "local" or
 * "oidc:<provider>"): a fresh id in the cookie, the previous session of
 * this browser (if any) deleted. false (and a 500 answered) on failure. */
static bool
admin_session_start(struct req *r, const char *user, const char *via)
{
	const struct cfg *c = r->app->cfg;
	const char *old = http_cookie(r, ADMIN_COOKIE);
	char id[48], csrf[48], id_hash[65];

	if (admin_token_ok(old)) {
		xcrypt_sha256_hex(old, id_hash);
		store_admin_session_delete(r->store, id_hash);
	}
	if (xcrypt_random_token(id, sizeof(id), 32) != SU_OK ||
	    xcrypt_random_token(csrf, sizeof(csrf), 32) != SU_OK) {
		http_reply_text(r, 500, "no randomness available");
		return false;
	}
	xcrypt_sha256_hex(id, id_hash);
	if (store_admin_session_put(r->store, id_hash, user, csrf, via, r->now,
				    r->now + c->admin_session_max) != SU_OK) {
		h_admin_error(r, 500, "The admin session could not be recorded.");
		return false;
	}
	admin_cookie_set(r, ADMIN_COOKIE, id, -1);
	admin_cookie_set(r, ADMIN_PRE_COOKIE, "", 0);
	snprintf(r->admin_user, sizeof(r->admin_user), "%s", user);
	snprintf(r->csrf, sizeof(r->csrf), "%s", csrf);
	explicit_bzero(id, sizeof(id));
	return true;
}

/* admin_wipe_password() overwrites the password in the request body and in
 * the parsed form, once it has been checked. */
static void
admin_wipe_password(struct req *r)
{
	if (r->body.data != NULL)
		explicit_bzero(r->body.data, r->body.len);
	for (size_t i = 0; i < r->n_form; i++)
		if (strcmp(r->form[2 * i], "password") == 0 && r->form[2 * i + 1] != NULL)
			explicit_bzero(r->form[2 * i + 1], strlen(r->form[2 * i + 1]));
}

/* POST /admin/login: a local sign-in: the slowdown, then the password,
 * then a new session and 303 to next (CSRF checked by route_dispatch()). */
void
h_admin_login_post(struct req *r)
{
	const struct cfg *c = r->app->cfg;
	const char *user = NULL, *pw = NULL, *next = NULL;
	char ukey[300], ikey[64], msg[160];
	int64_t uf = 0, ul = 0, ifl = 0, il = 0, wait, wi;
	char *hash = NULL;
	enum su_rc rc;

	if (http_form(r, "next", &next) != SU_OK)
		next = NULL;
	next = admin_next(next);
	if (http_form(r, "user", &user) != SU_OK || http_form(r, "password", &pw) != SU_OK ||
	    !h_text_valid(user, 256) || pw[0] == '\0' || strlen(pw) > ADMINPW_MAX_LEN) {
		admin_login_form(r, 400, next, "Enter a user name and a password.");
		goto out;
	}
	if (!admin_client_key(r, ikey, sizeof(ikey))) {
		admin_login_form(r, 400, next, "Your address could not be determined (X-Forwarded-For).");
		goto out;
	}
	snprintf(ukey, sizeof(ukey), "user:%s", user);
	/* the slowdown first: while it lasts, no password is even checked */
	if (store_admin_fail_get(r->store, ukey, &uf, &ul) != SU_OK ||
	    store_admin_fail_get(r->store, ikey, &ifl, &il) != SU_OK) {
		admin_login_form(r, 500, next, "The sign-in could not be checked. Try again.");
		goto out;
	}
	wait = adminpw_wait(uf, ul, r->now, c->admin_throttle_base);
	wi = adminpw_wait(ifl, il, r->now, c->admin_throttle_base);
	if (wi > wait)
		wait = wi;
	if (wait > 0) {
		char ra[24];

		snprintf(msg, sizeof(msg), "Too many failed sign-ins. Try again in %lld seconds.",
			 (long long)wait);
		snprintf(ra, sizeof(ra), "%lld", (long long)wait);
		store_audit(r->store, r->now, "admin_login", NULL, user, NULL, NULL, "throttled",
			    wi == wait ? "local: too many failures from this address"
				       : "local: too many failures for this user");
		log_info("admin sign-in throttled for %lld s", (long long)wait);
		admin_login_form(r, 429, next, msg);
		http_header_add(r, "Retry-After", ra);
		goto out;
	}
	rc = store_admin_user_hash(r->store, user, &hash);
	if (rc == SU_ENOTFOUND) {
		/* as long as a real check, so that timing does not tell who exists */
		adminpw_dummy_verify(pw);
		rc = SU_EDENIED;
	} else if (rc == SU_OK) {
		rc = adminpw_verify(hash, pw);
	}
	admin_wipe_password(r);
	if (rc == SU_EDENIED || rc == SU_EINVAL) {
		store_admin_fail_add(r->store, ukey, r->now, ADMINPW_WINDOW);
		store_admin_fail_add(r->store, ikey, r->now, ADMINPW_WINDOW);
		store_audit(r->store, r->now, "admin_login", NULL, user, NULL, NULL, "denied",
			    "local: wrong user name or password");
		admin_login_form(r, 401, next, "Wrong user name or password.");
		goto out;
	}
	if (rc != SU_OK) {
		admin_login_form(r, 500, next, "The sign-in could not be checked. Try again.");
		goto out;
	}
	store_admin_fail_reset(r->store, ukey);
	if (!admin_session_start(r, user, "local"))
		goto out;
	store_audit(r->store, r->now, "admin_login", NULL, user, NULL, NULL, "ok", "local");
	log_info("admin signed in (local)");
	http_redirect(r, 303, next);
out:
	free(hash);
}

/* POST /admin/logout: deletes the session and its cookie, 303 to sign-in. */
void
h_admin_logout(struct req *r)
{
	const char *id = http_cookie(r, ADMIN_COOKIE);
	char id_hash[65];

	if (admin_token_ok(id)) {
		xcrypt_sha256_hex(id, id_hash);
		if (store_admin_session_delete(r->store, id_hash) != SU_OK) {
			h_admin_error(r, 500, "The session could not be ended. Try again.");
			return;
		}
	}
	store_audit(r->store, r->now, "admin_logout", NULL, r->admin_user, NULL, NULL, "ok", NULL);
	admin_cookie_set(r, ADMIN_COOKIE, "", 0);
	http_redirect(r, 303, "/admin/login");
}

/* GET /admin/login/oidc: starts an admin sign-in at the [admin] provider:
 * a pending flow of the reserved context, 302 to the authorization endpoint. */
void
h_admin_login_oidc(struct req *r)
{
	const struct cfg *c = r->app->cfg;
	const struct cfg_context *ctx = &c->admin_context;
	struct idp *idp = ctx->provider ? app_idp(r->app, ctx->provider) : NULL;
	const char *next = NULL, *hint = NULL;
	char state[48], nonce[48], verifier[48], browser[48], challenge[44];
	char state_hash[65], browser_hash[65], cookie[40], err[256], redirect_uri[1100];
	char *endpoint = NULL, *url = NULL;
	struct store_flow f;
	struct oidc_authz a;

	if (idp == NULL) {
		admin_error_page(r, 404, "Not configured",
				 "Sign-in through an identity provider is not configured ([admin] provider).");
		goto out;
	}
	if (http_query(r, "next", &next) == SU_EINVAL)
		next = NULL;
	next = admin_next(next);
	/* an optional login_hint ("sign in as"); the IdP decides who signs in */
	if (http_query(r, "user", &hint) != SU_OK || !h_text_valid(hint, 256))
		hint = NULL;
	if (idp_authorization_endpoint(idp, &endpoint, err, sizeof(err)) != SU_OK) {
		log_warn("provider %s: %s", ctx->provider->name, err);
		h_admin_error(r, 502, "The identity provider could not be reached. Try again in a moment.");
		goto out;
	}
	if (xcrypt_random_token(state, sizeof(state), 32) != SU_OK ||
	    xcrypt_random_token(nonce, sizeof(nonce), 32) != SU_OK ||
	    xcrypt_random_token(verifier, sizeof(verifier), 32) != SU_OK ||
	    xcrypt_random_token(browser, sizeof(browser), 32) != SU_OK) {
		http_reply_text(r, 500, "no randomness available");
		goto out;
	}
	xcrypt_sha256_hex(state, state_hash);
	xcrypt_sha256_hex(browser, browser_hash);
	xcrypt_pkce_s256(verifier, challenge);
	memset(&f, 0, sizeof(f));
	f.state_hash = state_hash;
	f.browser_hash = browser_hash;
	f.nonce = nonce;
	f.pkce_verifier = verifier;
	f.provider = ctx->provider->name;
	f.context = ctx->name;
	f.return_to = (char *)next;
	f.created_at = r->now;
	f.expires_at = r->now + ADMIN_FLOW_TTL;
	if (store_flow_put(r->store, &f) != SU_OK) {
		h_admin_error(r, 500, "The sign-in could not be recorded.");
		goto out;
	}
	snprintf(redirect_uri, sizeof(redirect_uri), "%s/oidc/callback", c->public_url);
	memset(&a, 0, sizeof(a));
	a.authorization_endpoint = endpoint;
	a.client_id = ctx->provider->client_id;
	a.redirect_uri = redirect_uri;
	a.scope = ctx->provider->scope;
	a.state = state;
	a.nonce = nonce;
	a.code_challenge = challenge;
	a.login_hint = hint;
	a.max_age = 0;          /* an admin signs in afresh, */
	a.prompt_login = true;  /* whatever session the IdP has */
	if (oidc_authz_url(&a, &url) != SU_OK) {
		http_reply_text(r, 500, "the request could not be built");
		goto out;
	}
	h_flow_cookie_name(state_hash, cookie);
	http_cookie_set(r, cookie, browser, "/oidc/callback", ADMIN_FLOW_TTL);
	store_audit(r->store, r->now, "admin_login", NULL, NULL, NULL, ctx->provider->name,
		    "redirected", "oidc: sent to the identity provider");
	http_redirect(r, 302, url);
out:
	free(url);
	free(endpoint);
}

/* h_admin_groups_ok(): see handlers.h. */
bool
h_admin_groups_ok(const struct cfg *c, const struct json_t *claims)
{
	json_t *v = claims ? json_object_get((const json_t *)claims, c->admin_group_claim) : NULL;
	size_t i;
	json_t *e;

	if (c->admin_groups == NULL || v == NULL)
		return false;
	for (size_t g = 0; c->admin_groups[g] != NULL; g++) {
		if (json_is_string(v) && strcmp(json_string_value(v), c->admin_groups[g]) == 0)
			return true;
		if (!json_is_array(v))
			continue;
		json_array_foreach(v, i, e)
			if (json_is_string(e) && strcmp(json_string_value(e), c->admin_groups[g]) == 0)
				return true;
	}
	return false;
}

/* h_admin_oidc_finish(): see handlers.h. */
void
h_admin_oidc_finish(struct req *r, const struct store_flow *f, const struct cfg_provider *p,
		    const char *subject, const struct json_t *claims)
{
	const struct cfg *c = r->app->cfg;
	const char *next = admin_next(f->return_to);
	char via[300];

	snprintf(via, sizeof(via), "oidc:%s", p->name);
	if (!h_admin_groups_ok(c, claims)) {
		store_audit(r->store, r->now, "admin_login", NULL, subject, NULL, p->name, "denied",
			    "oidc: not in an admin group");
		log_info("admin sign-in refused: not in an admin group");
		admin_error_page(r, 403, "Not an administrator",
				 "Your account is not in an admin group: you cannot use this console.");
		return;
	}
	if (!admin_session_start(r, subject, via))
		return;
	store_audit(r->store, r->now, "admin_login", NULL, subject, NULL, p->name, "ok", via);
	log_info("admin signed in (%s)", via);
	/* a page, not a 303: after the cross-site hop from the IdP a browser
	 * would not send the SameSite=Strict cookie along a redirect chain */
	{
		const struct tmpl_var v[] = { { "next", next }, { "admin_user", r->admin_user } };

		r->status = 200;
		r->ctype = "text/html; charset=utf-8";
		buf_reset(&r->out);
		if (tmpl_render("admin_signed_in", v, 2, &r->out) != SU_OK)
			http_reply_text(r, 500, "template error");
	}
}
