/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* log.c: stderr logging with a level filter; one write(2) per line so lines
 * from worker threads never interleave. Also the error-message helpers
 * log_seterr() and log_clean() (see log.h); it keeps no state for them. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int log_max = LOGL_INFO;
static const char *const log_names[] = { "error", "warn", "info", "debug" };

void
log_level_set(enum log_level lvl)
{
	log_max = (int)lvl;
}

int
log_level_parse(const char *s)
{
	for (int i = 0; i <= LOGL_DEBUG; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	return -1;
}

void
log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
{
	char line[2048];
	size_t n;
	int k;
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if ((int)lvl > log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	k = snprintf(line + n, sizeof(line) - n, " %s %s: ", log_names[lvl], func);
	if (k > 0)
		n += (size_t)k < sizeof(line) - n ? (size_t)k : sizeof(line) - n - 1;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (k > 0)
		n += (size_t)k < sizeof(line) - n ? (size_t)k : sizeof(line) - n - 1;
	/* control bytes from hostile input never reach the terminal or log file raw */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

/* log_seterr(): see log.h. */
void
log_seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* log_clean(): see log.h. */
const char *
log_clean(const char *in, char *out, size_t outsz)
{
	size_t i, o = 0;

	if (in == NULL) {
		snprintf(out, outsz, "(none)");
		return out;
	}
	for (i = 0; in[i] != '\0' && o + 1 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	out[o] = '\0';
	if (in[i] != '\0' && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
	return out;
}
