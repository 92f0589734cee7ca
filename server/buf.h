/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * buf.h: the one bounded, growable byte buffer. Every buffer has a mandatory
 * maximum (like curl's dynbuf `toobig`): POST bodies, IdP responses and
 * rendered pages can never grow without limit. The data is always
 * NUL-terminated so it can be read as a C string.
 */
#ifndef STEPUPD_BUF_H
#define STEPUPD_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "rc.h"

struct buf {
	char *data;  /* NULL until the first append */
	size_t len;  /* bytes used, without the terminating NUL */
	size_t cap;  /* bytes allocated */
	size_t max;  /* the most len may ever be */
};

/* buf_init() prepares an empty buffer that may hold up to max bytes. */
void buf_init(struct buf *b, size_t max);
/* buf_append() adds n bytes. Returns SU_ETOOBIG past max (buffer unchanged) or SU_ENOMEM. */
enum su_rc buf_append(struct buf *b, const void *p, size_t n);
/* buf_puts() appends a C string (NULL appends nothing). */
enum su_rc buf_puts(struct buf *b, const char *s);
/* buf_printf() appends formatted text; never used for HTML of request data. */
enum su_rc buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum su_rc buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* buf_cstr() returns the contents as a C string, "" when empty; owned by b. */
const char *buf_cstr(const struct buf *b);
/* buf_steal() hands the contents (malloc'd, NUL-terminated, never NULL on
 * success) to the caller, who frees them; b is left empty. NULL on ENOMEM. */
char *buf_steal(struct buf *b);
/* buf_reset() empties b but keeps its memory. */
void buf_reset(struct buf *b);
/* buf_cleanup() frees b's memory; b can be reused after buf_init(). */
void buf_cleanup(struct buf *b);

/* buf_utf8_len() returns the length of the well-formed UTF-8 sequence at
 * the NUL-terminated text p (1 for ASCII), or 0 when the bytes there are
 * not one (overlong forms, surrogates, above U+10FFFF, a cut sequence).
 * It never reads past a NUL (a NUL is not a continuation byte). */
size_t buf_utf8_len(const unsigned char *p);

#endif
