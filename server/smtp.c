/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * smtp.c: one plain-text mail over SMTP on libcurl (see smtp.h). With
 * httpc.c it is one of the two files that use libcurl: httpc.c speaks only
 * HTTP(S), this file only SMTP(S), and each restricts its handles to its
 * own protocols.
 *
 * Transport rules: smtps:// is TLS from the first byte; smtp:// upgrades
 * with STARTTLS, which is required (CURLUSESSL_ALL) whenever credentials
 * are configured so a password is never sent in clear, and tried
 * otherwise. Certificates and host names are always verified. No proxy
 * from the environment, no signals, one timeout for the whole session.
 *
 * Message rules: every header value is built by smtp_header_value(), which
 * cannot emit CR or LF except as its own folding; addresses are checked by
 * smtp_address_ok() before they reach a header or an SMTP command. Alert
 * fields in the body are text, never headers, and cannot end the DATA
 * phase: libcurl dot-stuffs lines that begin with '.'.
 */
#include "smtp.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"

/* The longest line smtp_message_build() writes in the body (RFC 5321
 * allows 998 characters before CRLF). */
#define SMTP_LINE_MAX 990
/* Input bytes per RFC 2047 encoded word: 39 bytes are 52 base64 characters,
 * so "=?UTF-8?B?...?=" is 64 characters and fits a folded line. */
#define SMTP_WORD_BYTES 39

/* smtp_atext() says whether c may appear in a dot-atom (RFC 5322 3.2.3). */
static bool
smtp_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* smtp_address_ok(): see smtp.h. */
bool
smtp_address_ok(const char *s)
{
	const char *at, *d;
	size_t n, local, label = 0;

	if (s == NULL)
		return false;
	n = strnlen(s, 255);
	at = strchr(s, '@');
	if (n < 3 || n > 254 || at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	local = (size_t)(at - s);
	if (local == 0 || local > 64)
		return false;
	/* atext and dots; dots anywhere, as policy import accepts them (a server
	 * that wants RFC 5321 dot-strings refuses such a recipient, which is
	 * then visible in last_error rather than dropped here) */
	for (size_t i = 0; i < local; i++)
		if (s[i] != '.' && !smtp_atext((unsigned char)s[i]))
			return false;
	d = at + 1;
	if (d[0] == '\0' || d[0] == '.' || d[0] == '-')
		return false;
	for (const char *p = d; *p != '\0'; p++) {
		char c = *p;

		if (c == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

/* smtp_clean() copies at most max bytes of s into out as one line of text:
 * control bytes become a space, runs of blanks become one space, a
 * malformed UTF-8 byte becomes '?', and the cut falls on a character
 * boundary. Sets *ascii when the result is plain ASCII. */
static enum su_rc
smtp_clean(const char *s, size_t max, struct buf *out, bool *ascii)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t used = 0;
	bool blank = true; /* drops leading blanks */
	enum su_rc rc = SU_OK;

	*ascii = true;
	while (*p != '\0' && rc == SU_OK) {
		size_t n = buf_utf8_len(p);

		if (n == 0) {
			if (used + 1 > max)
				break;
			rc = buf_puts(out, "?");
			blank = false;
			*ascii = false;
			p++;
			used++;
			continue;
		}
		if (used + n > max)
			break;
		if (n == 1 && (*p < 0x20 || *p == 0x7f || *p == ' ')) {
			if (!blank)
				rc = buf_puts(out, " ");
			blank = true;
		} else {
			rc = buf_append(out, p, n);
			blank = false;
			if (n > 1)
				*ascii = false;
		}
		p += n;
		used += n;
	}
	/* no trailing blank */
	if (rc == SU_OK && out->len > 0 && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	return rc;
}

/* smtp_b64() appends the standard base64 (RFC 4648 4, padded) of n bytes. */
static enum su_rc
smtp_b64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	enum su_rc rc = SU_OK;
	char q[4];

	for (size_t i = 0; i < n && rc == SU_OK; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		rc = buf_append(out, q, 4);
	}
	return rc;
}

/* smtp_header_value(): see smtp.h. */
enum su_rc
smtp_header_value(struct buf *out, const char *s, size_t max)
{
	enum su_rc rc;
	struct buf clean;
	bool ascii = true;
	size_t i = 0;

	buf_init(&clean, max + 1);
	rc = smtp_clean(s, max, &clean, &ascii);
	if (rc != SU_OK)
		goto out;
	/* ASCII text that does not look like an encoded word goes as it is */
	if (ascii && strstr(buf_cstr(&clean), "=?") == NULL) {
		rc = buf_puts(out, buf_cstr(&clean));
		goto out;
	}
	while (i < clean.len && rc == SU_OK) {
		const unsigned char *p = (const unsigned char *)clean.data;
		size_t n = 0, k;

		/* whole characters only: a word must hold complete UTF-8 sequences */
		while (i + n < clean.len) {
			k = buf_utf8_len(p + i + n);
			if (k == 0)
				k = 1;
			if (n + k > SMTP_WORD_BYTES)
				break;
			n += k;
		}
		if (i > 0)
			rc = buf_puts(out, "\r\n ");
		if (rc == SU_OK)
			rc = buf_puts(out, "=?UTF-8?B?");
		if (rc == SU_OK)
			rc = smtp_b64(out, p + i, n);
		if (rc == SU_OK)
			rc = buf_puts(out, "?=");
		i += n;
	}
out:
	buf_cleanup(&clean);
	return rc;
}

/* smtp_body_append() appends text as a message body: LF or CRLF become
 * CRLF, other control bytes except tab are dropped, and lines longer than
 * SMTP_LINE_MAX are broken. Sets *eight when a byte >= 0x80 is present. */
static enum su_rc
smtp_body_append(struct buf *out, const char *text, bool *eight)
{
	enum su_rc rc = SU_OK;
	size_t col = 0;

	for (const unsigned char *p = (const unsigned char *)(text != NULL ? text : "");
	     *p != '\0' && rc == SU_OK; p++) {
		if (*p == '\n') {
			rc = buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			continue;
		if (col >= SMTP_LINE_MAX) {
			rc = buf_puts(out, "\r\n");
			col = 0;
			if (rc != SU_OK)
				break;
		}
		if (*p >= 0x80)
			*eight = true;
		rc = buf_append(out, p, 1);
		col++;
	}
	if (rc == SU_OK && col > 0)
		rc = buf_puts(out, "\r\n");
	return rc;
}

/* smtp_date() writes an RFC 5322 date (always UTC, English names whatever
 * the locale) into out. */
static void
smtp_date(int64_t t, char out[40])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* smtp_message_build(): see smtp.h. */
enum su_rc
smtp_message_build(const char *from, const char *to, const char *subject, const char *body,
		   int64_t date, const char *msgid_local, struct buf *out)
{
	enum su_rc rc = SU_EINVAL;
	struct buf text;
	char datebuf[40];
	bool eight = false;
	const char *at;

	buf_init(&text, SMTP_MAX_MESSAGE);
	if (!smtp_address_ok(from) || !smtp_address_ok(to) || msgid_local == NULL ||
	    msgid_local[0] == '\0' || strlen(msgid_local) > 128 ||
	    strspn(msgid_local, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		    strlen(msgid_local))
		goto out;
	rc = smtp_body_append(&text, body, &eight);
	if (rc != SU_OK)
		goto out;
	smtp_date(date, datebuf);
	at = strchr(from, '@');
	rc = buf_printf(out, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: ", datebuf, from, to);
	if (rc == SU_OK)
		rc = smtp_header_value(out, subject, 200);
	if (rc == SU_OK)
		rc = buf_printf(out,
				"\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
				"Content-Type: text/plain; charset=utf-8\r\n"
				"Content-Transfer-Encoding: %s\r\nAuto-Submitted: auto-generated\r\n\r\n",
				msgid_local, at + 1, eight ? "8bit" : "7bit");
	if (rc == SU_OK)
		rc = buf_append(out, text.data != NULL ? text.data : "", text.len);
out:
	buf_cleanup(&text);
	return rc;
}

/* The upload source for libcurl's read callback. */
struct smtp_src {
	const char *p;
	size_t left;
};

/* smtp_read_cb() hands libcurl the next piece of the message. */
static size_t
smtp_read_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct smtp_src *src = userdata;
	size_t room = size * nmemb, n = src->left < room ? src->left : room;

	memcpy(ptr, src->p, n);
	src->p += n;
	src->left -= n;
	return n;
}

/* smtp_cancel_cb() aborts the session once the caller's cancel flag is set. */
static int
smtp_cancel_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load((const atomic_bool *)clientp) ? 1 : 0;
}

/* smtp_send(): see smtp.h. */
enum su_rc
smtp_send(const struct smtp_server *srv, const char *from, const char *to, const char *msg,
	  size_t len, char *err, size_t errsz)
{
	enum su_rc rc = SU_EIO;
	CURL *h = NULL;
	struct curl_slist *rcpt = NULL;
	struct smtp_src src = { msg, len };
	char cerr[CURL_ERROR_SIZE], addr[300], nowhere[2];
	long timeout, use_ssl;
	bool setup_ok;
	CURLcode cc;

	cerr[0] = '\0';
	if (err == NULL || errsz == 0) {
		err = nowhere; /* the caller wants no reason */
		errsz = sizeof(nowhere);
	}
	err[0] = '\0';
	if (srv == NULL || srv->url == NULL || msg == NULL || !smtp_address_ok(from) ||
	    !smtp_address_ok(to)) {
		rc = SU_EINVAL;
		snprintf(err, errsz, "SMTP: no server, no message or a bad address");
		goto out;
	}
	timeout = srv->timeout_ms > 0 ? srv->timeout_ms : 30000;
	/* with credentials, STARTTLS is required; without, it is used when offered */
	use_ssl = srv->username != NULL ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY;
	snprintf(addr, sizeof(addr), "<%s>", to);
	rcpt = curl_slist_append(NULL, addr);
	h = curl_easy_init();
	if (rcpt == NULL || h == NULL) {
		rc = SU_ENOMEM;
		snprintf(err, errsz, "SMTP %s: out of memory", srv->url);
		goto out;
	}
	snprintf(addr, sizeof(addr), "<%s>", from);
	setup_ok = curl_easy_setopt(h, CURLOPT_URL, srv->url) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L) ==
			   CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_MAIL_FROM, addr) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_READFUNCTION, smtp_read_cb) == CURLE_OK &&
		   curl_easy_setopt(h, CURLOPT_READDATA, &src) == CURLE_OK;
	if (setup_ok && srv->ca_file != NULL)
		setup_ok = curl_easy_setopt(h, CURLOPT_CAINFO, srv->ca_file) == CURLE_OK;
	if (setup_ok && srv->cancel != NULL)
		setup_ok = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, smtp_cancel_cb) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)srv->cancel) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
	if (setup_ok && srv->username != NULL)
		setup_ok = curl_easy_setopt(h, CURLOPT_USERNAME, srv->username) == CURLE_OK &&
			   curl_easy_setopt(h, CURLOPT_PASSWORD,
					    srv->password != NULL ? srv->password : "") == CURLE_OK;
	if (!setup_ok) {
		snprintf(err, errsz, "SMTP %s: libcurl refused an option", srv->url);
		goto out;
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		snprintf(err, errsz, "SMTP %s: %s", srv->url,
			 cerr[0] != '\0' ? cerr : curl_easy_strerror(cc));
		/* libcurl reports a refused MAIL, RCPT or DATA as a send or upload error */
		rc = cc == CURLE_SEND_ERROR || cc == CURLE_UPLOAD_FAILED ? SU_EDENIED : SU_EIO;
		goto out;
	}
	rc = SU_OK;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(rcpt);
	return rc;
}
