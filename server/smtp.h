/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * smtp.h: sending one plain-text mail over SMTP (policy alerts), on
 * libcurl's SMTP support. smtp_message_build() makes the RFC 5322 message
 * with every header value made safe (no CR, LF or other control byte can
 * reach a header, so no header can be injected); smtp_send() hands it to
 * one server for one recipient, bounded in time, TLS verified.
 *
 * What it does not do: no queueing, no retries (events.c owns both), no
 * MIME beyond one text/plain UTF-8 part, no recipient lookups (MX): the
 * configured server is the relay.
 */
#ifndef STEPUPD_SMTP_H
#define STEPUPD_SMTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rc.h"

/* The largest message smtp_message_build() makes. */
#define SMTP_MAX_MESSAGE (64 * 1024)

/* Where and how to send (all strings borrowed). */
struct smtp_server {
	const char *url;        /* smtp://host[:port] or smtps://host[:port] */
	const char *username;   /* NULL: no AUTH */
	const char *password;   /* with username */
	const char *ca_file;    /* NULL: the system trust store */
	long timeout_ms;        /* the whole session; the connect timeout is at most this */
	const atomic_bool *cancel; /* NULL, or aborts the session within about a second */
};

/* smtp_address_ok() says whether s is one plain mail address
 * "local@domain" (a local part of at most 64 bytes of RFC 5322 atext and
 * dots, a domain of letters, digits, '-' and dots, at most 254 bytes in
 * all): nothing that could break out of "<...>" in an SMTP command or of a
 * header. */
bool smtp_address_ok(const char *s);

/* smtp_header_value() appends s to out as a safe header value: control
 * bytes (CR and LF included) become spaces, runs of blanks shrink to one,
 * at most max bytes of input are used (cut at a UTF-8 character boundary),
 * and text that is not plain ASCII is written as RFC 2047 encoded words
 * (UTF-8, base64), folded so no line is longer than 78 characters. */
enum su_rc smtp_header_value(struct buf *out, const char *s, size_t max);

/* smtp_message_build() writes into out (initialised by the caller) a
 * message From: from, To: to, with the subject and the plain-text body
 * (lines end in CRLF; control bytes other than tab and newline are
 * dropped), a Date: of date (Unix seconds) and a Message-ID built from
 * msgid_local (letters, digits, '.', '-' only; anything else is refused).
 * SU_EINVAL when from or to is not a plain address. */
enum su_rc smtp_message_build(const char *from, const char *to, const char *subject,
			      const char *body, int64_t date, const char *msgid_local,
			      struct buf *out);

/* smtp_send() sends msg (len bytes) from `from` to `to` through srv.
 * SU_OK once the server accepted the message (250 after DATA). On failure
 * a reason in err (never a password or the message) and: SU_EIO when the
 * server could not be used at all (unreachable, timeout, TLS, STARTTLS
 * missing, login refused, cancelled), so any other mail through it would
 * fail now too; SU_EDENIED when it refused this message (sender,
 * recipient or data). */
enum su_rc smtp_send(const struct smtp_server *srv, const char *from, const char *to,
		     const char *msg, size_t len, char *err, size_t errsz);

#endif
