/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * http.c: the HTTP layer on libmicrohttpd (see http.h); the only file that
 * includes <microhttpd.h>.
 *
 * Limits: MHD refuses request headers over HTTP_HEADER_MEMORY (431), the
 * body is capped at HTTP_MAX_BODY (413), connections at
 * [server] max_connections, and each connection's idle time at
 * [server] connection_timeout. Every response gets the security headers in
 * add_security_headers().
 *
 * A response is queued on the handler's second call at the earliest (the
 * first call only sets up struct req): MHD 0.9.75 answers "Connection:
 * close" to a response queued on the first call, which costs keep-alive.
 *
 * Each worker thread opens its own store connection on its first request
 * (SQLite connections are per thread); they are registered so http_stop()
 * can close them all.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "route.h"
#include "store.h"
#include "tmpl.h"
#include "xcrypt.h"

#define HTTP_HEADER_MEMORY (32 * 1024)
#define HTTP_MAX_OUT (1024 * 1024)

#define SLOW_THREADS 4
#define SLOW_QUEUE_MAX 256

struct http_daemon {
	struct MHD_Daemon *mhd;
	const struct app *app;
	pthread_t slow[SLOW_THREADS];
	int n_slow;
};



/* the per-thread store connections, closed by http_stop() */
static pthread_mutex_t stores_mu = PTHREAD_MUTEX_INITIALIZER;
static struct store **stores;
static size_t n_stores;
static __thread struct store *tls_store;

static struct store *
thread_store(const struct app *app)
{
	struct store *s = NULL, **grown;

	if (tls_store != NULL)
		return tls_store;
	if (store_open(app->cfg->db_path, app->migrations_dir, &s) != SU_OK)
		return NULL;
	pthread_mutex_lock(&stores_mu);
	grown = realloc(stores, (n_stores + 1) * sizeof(*stores));
	if (grown != NULL) {
		stores = grown;
		stores[n_stores++] = s;
	}
	pthread_mutex_unlock(&stores_mu);
	if (grown == NULL) {
		store_close(s);
		return NULL;
	}
	tls_store = s;
	return s;
}

/*
 * The slow-work queue. Requests that wait on an identity provider (the
 * start's discovery fetch, the callback's token exchange and JWKS fetch)
 * are suspended on the daemon thread and run here, so that a slow or dead
 * IdP never holds the threads that answer /check on every proxied request.
 */
static pthread_mutex_t slow_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cv = PTHREAD_COND_INITIALIZER;
static struct req *slow_q[SLOW_QUEUE_MAX];
static size_t slow_head, slow_len;
static bool slow_stop;

static void *
slow_main(void *arg)
{
	const struct app *app = arg;

	for (;;) {
		struct req *r;

		pthread_mutex_lock(&slow_mu);
		while (slow_len == 0 && !slow_stop)
			pthread_cond_wait(&slow_cv, &slow_mu);
		if (slow_len == 0) {
			pthread_mutex_unlock(&slow_mu);
			break;
		}
		r = slow_q[slow_head];
		slow_head = (slow_head + 1) % SLOW_QUEUE_MAX;
		slow_len--;
		pthread_mutex_unlock(&slow_mu);
		r->store = thread_store(app);
		r->on_slow_thread = true;
		if (r->store == NULL)
			http_reply_text(r, 503, "store unavailable");
		else
			route_dispatch(r);
		r->done = true;
		MHD_resume_connection(r->conn);
	}
	return NULL;
}

/* slow_push() queues r; false when the queue is full (the caller answers 503). */
static bool
slow_push(struct req *r)
{
	bool ok = false;

	pthread_mutex_lock(&slow_mu);
	if (slow_len < SLOW_QUEUE_MAX && !slow_stop) {
		slow_q[(slow_head + slow_len) % SLOW_QUEUE_MAX] = r;
		slow_len++;
		ok = true;
		pthread_cond_signal(&slow_cv);
	}
	pthread_mutex_unlock(&slow_mu);
	return ok;
}

static void
req_free(struct req *r)
{
	for (size_t i = 0; i < r->n_owned; i++)
		free(r->owned[i]);
	free(r->owned);
	for (size_t i = 0; i < 2 * r->n_form; i++)
		free(r->form[i]);
	free(r->form);
	buf_cleanup(&r->body);
	buf_cleanup(&r->out);
	for (int i = 0; i < r->n_hdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r);
}

const char *
http_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct count_ctx {
	const char *name;
	const char *val;
	int n;
};

static enum MHD_Result
count_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct count_ctx *c = cls;

	(void)kind;
	if (key != NULL && strcmp(key, c->name) == 0) {
		c->n++;
		c->val = value ? value : "";
	}
	return MHD_YES;
}

/* percent_decode() decodes %XX strictly (MHD has already turned '+' into a
 * space). NULL on a broken escape or an encoded NUL. Caller frees. */
static char *
percent_decode(const char *in)
{
	size_t n = strlen(in), o = 0;
	char *out = malloc(n + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		if (i + 2 >= n || xcrypt_hexval((unsigned char)in[i + 1]) < 0 ||
		    xcrypt_hexval((unsigned char)in[i + 2]) < 0) {
			free(out);
			return NULL;
		}
		out[o] = (char)(xcrypt_hexval((unsigned char)in[i + 1]) << 4 |
				xcrypt_hexval((unsigned char)in[i + 2]));
		if (out[o] == '\0') {
			free(out);
			return NULL;
		}
		o++;
		i += 2;
	}
	out[o] = '\0';
	return out;
}

enum su_rc
http_query(struct req *r, const char *name, const char **val)
{
	struct count_ctx c = { name, NULL, 0 };
	char *dec, **grown;

	*val = NULL;
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, count_value, &c);
	if (c.n == 0)
		return SU_ENOTFOUND;
	if (c.n > 1)
		return SU_EINVAL;
	dec = percent_decode(c.val);
	if (dec == NULL)
		return SU_EINVAL;
	grown = realloc(r->owned, (r->n_owned + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(dec);
		return SU_ENOMEM;
	}
	r->owned = grown;
	r->owned[r->n_owned++] = dec;
	*val = dec;
	return SU_OK;
}

/* form_decode() decodes one name or value of a form body: '+' is a space,
 * %XX strictly; NULL on a broken escape or an encoded NUL. Caller frees. */
static char *
form_decode(const char *in, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '+') {
			out[o++] = ' ';
		} else if (in[i] != '%') {
			if (in[i] == '\0')
				goto bad;
			out[o++] = in[i];
		} else {
			if (i + 2 >= n || xcrypt_hexval((unsigned char)in[i + 1]) < 0 ||
			    xcrypt_hexval((unsigned char)in[i + 2]) < 0)
				goto bad;
			out[o] = (char)(xcrypt_hexval((unsigned char)in[i + 1]) << 4 |
					xcrypt_hexval((unsigned char)in[i + 2]));
			if (out[o] == '\0')
				goto bad;
			o++;
			i += 2;
		}
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* form_parse() splits r->body once into r->form; r->form_state 1 (parsed)
 * or -1 (not form-encoded, or broken: every lookup then fails). */
static void
form_parse(struct req *r)
{
	const char *ct = http_header(r, "Content-Type");
	const char *p, *end;
	static const char want[] = "application/x-www-form-urlencoded";

	r->form_state = -1;
	if (r->body.len == 0 || r->body.data == NULL) {
		r->form_state = 1;
		return;
	}
	p = r->body.data;
	end = r->body.data + r->body.len;
	if (ct == NULL || strncasecmp(ct, want, sizeof(want) - 1) != 0 ||
	    (ct[sizeof(want) - 1] != '\0' && ct[sizeof(want) - 1] != ';' &&
	     ct[sizeof(want) - 1] != ' '))
		return;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *seg_end = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(seg_end - p));
		char **grown;

		if (seg_end == p) { /* an empty segment ("a=1&&b=2", a trailing '&') */
			p = seg_end + 1;
			continue;
		}
		if (eq == p)
			return; /* a field without a name */
		grown = realloc(r->form, (r->n_form + 1) * 2 * sizeof(*grown));
		if (grown == NULL)
			return;
		r->form = grown;
		r->form[2 * r->n_form] = form_decode(p, (size_t)((eq ? eq : seg_end) - p));
		r->form[2 * r->n_form + 1] =
			eq ? form_decode(eq + 1, (size_t)(seg_end - eq - 1)) : strdup("");
		r->n_form++;
		if (r->form[2 * r->n_form - 2] == NULL || r->form[2 * r->n_form - 1] == NULL)
			return;
		p = seg_end + 1;
	}
	r->form_state = 1;
}

/* http_form(): see http.h. */
enum su_rc
http_form(struct req *r, const char *name, const char **val)
{
	const char *found = NULL;

	*val = NULL;
	if (r->form_state == 0)
		form_parse(r);
	if (r->form_state != 1)
		return SU_EINVAL;
	for (size_t i = 0; i < r->n_form; i++) {
		if (strcmp(r->form[2 * i], name) != 0)
			continue;
		if (found != NULL)
			return SU_EINVAL;
		found = r->form[2 * i + 1];
	}
	if (found == NULL)
		return SU_ENOTFOUND;
	*val = found;
	return SU_OK;
}

struct qs_ctx {
	struct buf *out;
	enum su_rc rc;
	int n;
};

static enum MHD_Result
qs_append(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qs_ctx *q = cls;

	(void)kind;
	if (q->rc == SU_OK)
		q->rc = buf_puts(q->out, q->n++ ? "&" : "?");
	for (const char *p = key; q->rc == SU_OK && p && *p; p++)
		q->rc = buf_append(q->out, *p == ' ' ? "+" : p, 1);
	if (value != NULL && q->rc == SU_OK) {
		q->rc = buf_puts(q->out, "=");
		/* MHD turned '+' into ' '; the raw bytes are otherwise untouched */
		for (const char *p = value; q->rc == SU_OK && *p; p++)
			q->rc = buf_append(q->out, *p == ' ' ? "+" : p, 1);
	}
	return q->rc == SU_OK ? MHD_YES : MHD_NO;
}

enum su_rc
http_query_string(struct req *r, struct buf *out)
{
	struct qs_ctx q = { out, SU_OK, 0 };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, qs_append, &q);
	return q.rc;
}

const char *
http_cookie(struct req *r, const char *name)
{
	struct count_ctx c = { name, NULL, 0 };

	MHD_get_connection_values(r->conn, MHD_COOKIE_KIND, count_value, &c);
	return c.n == 1 ? c.val : NULL;
}

bool
http_peer_trusted(struct req *r)
{
	return r->peer != NULL && cfg_is_trusted_proxy(r->app->cfg, r->peer);
}

void
http_header_add(struct req *r, const char *name, const char *value)
{
	if (r->n_hdrs == HTTP_MAX_HEADERS) {
		log_err("too many response headers");
		return;
	}
	r->hdrs[r->n_hdrs].name = strdup(name);
	r->hdrs[r->n_hdrs].value = strdup(value);
	r->n_hdrs++;
}

void
http_cookie_set_domain(struct req *r, const char *name, const char *value, const char *path,
		       const char *domain, int64_t max_age)
{
	struct buf b;

	buf_init(&b, 4096);
	buf_printf(&b, "%s=%s; Path=%s; HttpOnly; SameSite=Lax", name, value, path);
	if (domain != NULL)
		buf_printf(&b, "; Domain=%s", domain);
	if (max_age >= 0)
		buf_printf(&b, "; Max-Age=%lld", (long long)max_age);
	if (r->app->cfg->public_https)
		buf_puts(&b, "; Secure");
	http_header_add(r, "Set-Cookie", buf_cstr(&b));
	buf_cleanup(&b);
}

void
http_cookie_set(struct req *r, const char *name, const char *value, const char *path,
		int64_t max_age)
{
	http_cookie_set_domain(r, name, value, path, NULL, max_age);
}

static void
reply_set(struct req *r, int status, const char *ctype)
{
	r->status = status;
	r->ctype = ctype;
	buf_reset(&r->out);
}

void
http_reply_text(struct req *r, int status, const char *text)
{
	reply_set(r, status, "text/plain; charset=utf-8");
	buf_puts(&r->out, text);
	buf_puts(&r->out, "\n");
}

/* http_reply_empty(): see http.h. ctype stays NULL: send_reply() knows the
 * answer by that. */
void
http_reply_empty(struct req *r, int status)
{
	reply_set(r, status, NULL);
}

void
http_reply_json(struct req *r, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	reply_set(r, status, "application/json");
	if (s == NULL) {
		r->status = 500;
		buf_puts(&r->out, "{\"error\":\"internal error\"}");
	} else {
		buf_puts(&r->out, s);
	}
	free(s);
	json_decref(j);
}

void
http_reply_error_json(struct req *r, int status, const char *msg)
{
	http_reply_json(r, status, json_pack("{s:s}", "error", msg));
}

void
http_reply_error_page(struct req *r, int status, const char *title, const char *msg)
{
	char st[16], when[32];
	time_t t = (time_t)r->now;
	struct tm tm;
	const struct tmpl_var v[] = { { "message", msg }, { "status", st }, { "time", when } };

	snprintf(st, sizeof(st), "%d", status);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	reply_set(r, status, "text/html; charset=utf-8");
	if (tmpl_page("error", title, v, 3, &r->out) != SU_OK) {
		reply_set(r, status, "text/plain; charset=utf-8");
		buf_puts(&r->out, title);
		buf_puts(&r->out, "\n");
	}
}

void
http_redirect(struct req *r, int status, const char *location)
{
	reply_set(r, status, "text/plain; charset=utf-8");
	http_header_add(r, "Location", location);
}

static void
add_security_headers(struct MHD_Response *resp, const struct app *app)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; img-src 'self'; "
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	if (app->cfg->public_https)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->out.len, r->out.data ? r->out.data : (void *)"",
					       MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	/* every answer carries the security headers, the empty ones of
	 * http_reply_empty() too (a body-less 2xx: nginx's auth_request never
	 * reads a check's body and drops the upstream connection when there is
	 * one, so /check's 200 has none) */
	add_security_headers(resp, r->app);
	if (r->ctype)
		MHD_add_response_header(resp, "Content-Type", r->ctype);
	for (int i = 0; i < r->n_hdrs; i++)
		if (r->hdrs[i].name && r->hdrs[i].value)
			MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
	ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	       const char *version, const char *upload_data, size_t *upload_data_size,
	       void **req_cls)
{
	const struct app *app = cls;
	struct req *r = *req_cls;
	const union MHD_ConnectionInfo *ci;
	struct timespec ts;

	(void)version;
	if (r == NULL) {
		const char *cl;

		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		r->conn = conn;
		r->app = app;
		r->method = method;
		r->path = url;
		clock_gettime(CLOCK_REALTIME, &ts);
		r->now = ts.tv_sec;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		r->peer = ci ? ci->client_addr : NULL;
		buf_init(&r->body, HTTP_MAX_BODY);
		buf_init(&r->out, HTTP_MAX_OUT);
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl != NULL && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
			r->body_too_big = true;
		*req_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!r->body_too_big && buf_append(&r->body, upload_data, *upload_data_size) != SU_OK)
			r->body_too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->done)
		return send_reply(conn, r); /* resumed after a slow handler */
	if (r->body_too_big) {
		http_reply_text(r, 413, "request body too large");
		return send_reply(conn, r);
	}
	r->store = thread_store(app);
	if (r->store == NULL) {
		http_reply_text(r, 503, "store unavailable");
		return send_reply(conn, r);
	}
	route_dispatch(r);
	if (r->defer) {
		r->store = NULL; /* the slow thread uses its own connection */
		MHD_suspend_connection(conn);
		if (slow_push(r))
			return MHD_YES;
		MHD_resume_connection(conn);
		http_reply_text(r, 503, "busy, try again");
		return send_reply(conn, r);
	}
	if (r->status == 0)
		http_reply_text(r, 500, "internal error");
	return send_reply(conn, r);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	if (*req_cls != NULL)
		req_free(*req_cls);
	*req_cls = NULL;
}

/* keep_escaped() replaces libmicrohttpd's unescaping of the path and the
 * query: the path stays exactly as sent, query values are decoded strictly
 * by http_query(). */
static size_t
keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("libmicrohttpd: %s", msg);
}

struct http_daemon *
http_start(const struct app *app)
{
	const struct cfg *c = app->cfg;
	struct http_daemon *d = NULL;
	struct addrinfo hints, *ai = NULL;
	char port[8];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ERROR_LOG |
			MHD_ALLOW_SUSPEND_RESUME;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", c->listen_port);
	if (getaddrinfo(c->listen_host, port, &hints, &ai) != 0 || ai == NULL) {
		log_err("cannot use listen address %s:%u", c->listen_host, c->listen_port);
		return NULL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		goto out;
	d->app = app;
	d->mhd = MHD_start_daemon(flags, c->listen_port, NULL, NULL, access_handler, (void *)app,
				  /* first, so that every message of MHD reaches our log */
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->connection_timeout,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_HEADER_MEMORY,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				  MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
				  MHD_OPTION_END);
	if (d->mhd == NULL) {
		log_err("cannot listen on %s:%u", c->listen_host, c->listen_port);
		free(d);
		d = NULL;
		goto out;
	}
	slow_stop = false;
	for (d->n_slow = 0; d->n_slow < SLOW_THREADS; d->n_slow++)
		if (pthread_create(&d->slow[d->n_slow], NULL, slow_main, (void *)app) != 0)
			break;
	if (d->n_slow == 0) {
		/* slow requests would wait forever: refuse to run like that */
		log_err("cannot start the slow-work threads");
		MHD_stop_daemon(d->mhd);
		free(d);
		d = NULL;
	}
out:
	freeaddrinfo(ai);
	return d;
}

void
http_stop(struct http_daemon *d)
{
	if (d == NULL)
		return;
	/* finish the slow work first: its connections are resumed into the daemon */
	pthread_mutex_lock(&slow_mu);
	slow_stop = true;
	pthread_cond_broadcast(&slow_cv);
	pthread_mutex_unlock(&slow_mu);
	for (int i = 0; i < d->n_slow; i++)
		pthread_join(d->slow[i], NULL);
	MHD_stop_daemon(d->mhd);
	pthread_mutex_lock(&stores_mu);
	for (size_t i = 0; i < n_stores; i++)
		store_close(stores[i]);
	free(stores);
	stores = NULL;
	n_stores = 0;
	pthread_mutex_unlock(&stores_mu);
	free(d);
}
