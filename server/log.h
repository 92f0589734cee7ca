/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * log.h: one line per event on stderr: time, level, function, message.
 * Callers never pass session ids, tokens, codes or secrets; log_redact()
 * helps where a value must be mentioned (it keeps a short prefix only).
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

#endif
