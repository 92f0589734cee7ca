/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * log.h: one line per event on stderr: time, level, function, message.
 * Callers never pass session ids, tokens, codes or secrets; log_redact()
 * helps where a value must be mentioned (it keeps a short prefix only).
 * It also holds the two helpers that make error messages: log_seterr()
 * fills a caller's error buffer, log_clean() makes a printable copy of a
 * hostile value to put in one.
 */
#ifndef STEPUPD_LOG_H
#define STEPUPD_LOG_H

#include <stddef.h>

enum log_level { LOGL_ERR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

/* log_level_set() changes the most verbose level written (default LOGL_INFO). */
void log_level_set(enum log_level lvl);
/* log_level_parse() maps "error|warn|info|debug"; returns -1 if unknown. */
int log_level_parse(const char *s);
void log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOGL_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOGL_DEBUG, __func__, __VA_ARGS__)

/* log_seterr() formats a message into a caller's error buffer err (errsz
 * bytes, cut to fit); nothing when err is NULL or errsz is 0. */
void log_seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* log_clean() copies a hostile value (from a browser, proxy or IdP) into
 * out for an error message: printable ASCII only, every other byte and '"'
 * made '?', at most outsz - 1 bytes, ending "..." when cut (outsz > 4);
 * NULL gives "(none)". Returns out. */
const char *log_clean(const char *in, char *out, size_t outsz);

#endif
