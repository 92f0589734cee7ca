/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mock_common.h - the scaffolding tests/mock/mock_op.c and mock_saml.c
 * share: the log line and fatal-error helpers, allocation that dies on
 * failure, HTML escaping, binding the listen socket (--port 0 picks a free
 * port) and writing the --port-file.
 *
 * Each mock is a single translation unit that defines MOCK_NAME (its name
 * in log lines) and includes this file once, after _GNU_SOURCE; everything
 * here is static. It is test code only and knows nothing of either
 * protocol.
 */
#ifndef MOCK_COMMON_H
#define MOCK_COMMON_H

#ifndef MOCK_NAME
#error "define MOCK_NAME before including mock_common.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* logmsg() writes one "NAME HH:MM:SS message" line to stderr. */
static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
logmsg(const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, MOCK_NAME " %s ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* die() writes "NAME: message" to stderr and exits with status 2. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs(MOCK_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* xmalloc() allocates n bytes (at least one) or dies. */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* xstrdup() copies s ("" for NULL) or dies. */
static char *
xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		die("out of memory");
	return p;
}

/* xasprintf() formats into a new string or dies. */
static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		die("out of memory");
	return s;
}

/* html_escape() escapes s for HTML text or an attribute (malloc'd). */
static char *
html_escape(const char *s)
{
	size_t len = strlen(s);
	char *out = xmalloc(len * 6 + 1), *o = out;

	for (; *s; s++) {
		switch (*s) {
		case '<': memcpy(o, "&lt;", 4); o += 4; break;
		case '>': memcpy(o, "&gt;", 4); o += 4; break;
		case '&': memcpy(o, "&amp;", 5); o += 5; break;
		case '"': memcpy(o, "&quot;", 6); o += 6; break;
		case '\'': memcpy(o, "&#39;", 5); o += 5; break;
		default: *o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* mock_listen() resolves host, binds and listens on *port (0: any free
 * port), sets *port to the port bound and *v6 (may be NULL) to whether it
 * is IPv6, and returns the socket; it dies on failure. Binding before the daemon starts
 * lets a mock know its port (and so its URLs) before the first request. */
static int
mock_listen(const char *host, unsigned *port, bool *v6)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char portstr[8];
	int lsock, one = 1, rc;

	snprintf(portstr, sizeof portstr, "%u", *port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0 || !ai)
		die("cannot resolve --host %s: %s", host, gai_strerror(rc));
	if (v6)
		*v6 = ai->ai_family == AF_INET6;
	lsock = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 || setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(lsock, ai->ai_addr, ai->ai_addrlen) != 0 || listen(lsock, 64) != 0)
		die("cannot listen on %s:%u: %s", host, *port, strerror(errno));
	freeaddrinfo(ai);
	if (getsockname(lsock, (struct sockaddr *)&ss, &sslen) != 0)
		die("getsockname: %s", strerror(errno));
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return lsock;
}

/* mock_write_port_file() writes "PORT\n" to path through a temporary file
 * and rename(), so a test polling for the file never reads half of it. */
static void
mock_write_port_file(const char *path, unsigned port)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");

	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		die("cannot write --port-file %s: %s", path, strerror(errno));
	free(tmp);
}

#endif
