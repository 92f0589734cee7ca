/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bare.c: the ceiling for `make bench`. A libmicrohttpd responder that does
 * nothing but answer 200, configured like stepupd's daemon in server/http.c:
 * an internal polling thread per pool member, epoll, a pool of two
 * threads, the same connection limit, timeout and memory limit, and
 * the response queued on the handler's second call (MHD 0.9.75 answers
 * "Connection: close" to a response queued on the first).
 *
 * The answer has an empty body: nginx's auth_request never reads the body
 * of a check's answer, and an upstream connection whose answer body was
 * not read is closed instead of kept alive, so a body of any length costs
 * nginx a new TCP connection per check (see docs/performance.md).
 *
 * What it does not do: it reads no header, sets no header beyond what MHD
 * adds (Content-Length, Date), looks nothing up and allocates nothing of its
 * own per request beyond the response object. It is not part of stepupd and
 * is never installed.
 *
 * usage: bare PORT [THREADS]   (listens on 127.0.0.1; SIGTERM/SIGINT stops it)
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* handler() marks the first call and answers on the second. */
static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	static int first_call_marker;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* parse_uint() reads a decimal in [lo, hi]; false otherwise. */
static int
parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end = NULL;

	*v = strtoul(s, &end, 10);
	return end != s && *end == '\0' && *v >= lo && *v <= hi;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	unsigned long port, threads = 2;
	sigset_t set;
	int sig = 0;

	if (argc < 2 || argc > 3 || !parse_uint(argv[1], 1, 65535, &port) ||
	    (argc == 3 && !parse_uint(argv[2], 1, 64, &threads))) {
		fprintf(stderr, "usage: bare PORT [THREADS]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* the same flags and limits as http_start() with stepupd's defaults */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
				     MHD_USE_ERROR_LOG,
			     (unsigned short)port, NULL, NULL, handler, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
			     MHD_OPTION_CONNECTION_LIMIT, 1024U,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30U,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
			     MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "bare: cannot listen on 127.0.0.1:%lu\n", port);
		return 1;
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
