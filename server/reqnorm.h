/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * reqnorm.h: turns what a forward-auth proxy sends about the original
 * request (SPEC 2.3) into the normalised attributes session policies match
 * on: the path the upstream will route, the real client address, the
 * device tags, comma lists and checked text values.
 *
 * What it does: pure functions on strings and addresses; each either
 * produces a normalised value or refuses (the caller then refuses the
 * request: a request stepupd cannot normalise is never allowed,
 * CVE-2021-32637 class). Path rules exist because a policy that matches
 * the raw URI while the upstream routes the decoded, dot-resolved one is
 * bypassed by `/a/../admin`, `//admin` or `/%61dmin` (CVE-2020-24660).
 *
 * What it does not do: no I/O, no header lookup (the caller passes the
 * header values, and only believes forwarded headers from trusted proxies
 * as reqnorm_client_addr() documents), no policy logic (policy.h).
 */
#ifndef STEPUPD_REQNORM_H
#define STEPUPD_REQNORM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cfg.h"
#include "rc.h"

#define REQNORM_PATH_MAX 4096     /* bytes of the raw path (before '?' / '#') */
#define REQNORM_XFF_MAX 4096      /* bytes of an X-Forwarded-For value */
#define REQNORM_XFF_HOPS 64       /* addresses in one X-Forwarded-For value */
#define REQNORM_TAGS_MAX 1024     /* bytes of an X-Device-Tags value */

/*
 * reqnorm_path() normalises the path of X-Original-URI / X-Forwarded-Uri
 * (origin form, "/..."), writing it NUL-terminated into out (outsz bytes;
 * REQNORM_PATH_MAX + 1 always suffices). In order:
 *  1. it must start with '/'; the path ends at the first '?' or '#'
 *     (query and fragment are dropped) and is at most REQNORM_PATH_MAX bytes;
 *  2. raw bytes: control bytes, space, DEL and '\' are refused;
 *  3. every %XX is decoded once (hex digits required, either case); a
 *     decoded '/', '\', NUL or control byte is refused: an encoded slash
 *     means different paths to different upstreams;
 *  4. the result must be valid UTF-8 (no overlong forms, surrogates or
 *     code points above U+10FFFF);
 *  5. repeated slashes collapse to one;
 *  6. dot segments are removed (RFC 3986 5.2.4); ".." above the root is
 *     refused; so is a segment that is "." or ".." followed by ";..."
 *     (Tomcat-style path parameters make "/..;/" mean "/../").
 * Returns SU_OK, SU_EINVAL (malformed or refused), or SU_ETOOBIG (raw path
 * or result too long). Any non-SU_OK: refuse the request. On failure out
 * holds "" (when outsz > 0).
 */
enum su_rc reqnorm_path(const char *raw, char *out, size_t outsz);

/*
 * reqnorm_client_addr() finds the client address: the peer, unless the
 * peer is a trusted proxy (cfg trusted_proxies) and xff (X-Forwarded-For,
 * may be NULL) is present: then the entries are walked right to left,
 * skipping trusted proxies; the first untrusted address is the client; if
 * every entry is trusted, the leftmost is. Entries are IPv4 or IPv6
 * addresses (IPv6 optionally in brackets), separated by commas with
 * optional spaces/tabs; no ports, no "unknown". Any malformed entry (even
 * one left of the client: it could only come from the client itself), an
 * empty value, more than REQNORM_XFF_HOPS entries or REQNORM_XFF_MAX bytes
 * -> SU_EINVAL (refuse the request). From an untrusted peer xff is ignored.
 * *out gets a sockaddr_in or sockaddr_in6 (port 0); borrows everything.
 */
enum su_rc reqnorm_client_addr(const struct sockaddr *peer, const char *xff,
			       const struct cfg *cfg, struct sockaddr_storage *out);

/*
 * reqnorm_device_tags() parses X-Device-Tags (may be NULL: *mask = 0):
 * a comma list, items trimmed of spaces/tabs and compared ASCII
 * case-insensitively with compliant, hybrid_joined, valid_client_cert
 * (POLICY_TAG_* bits in policy.h); empty and unknown items are ignored.
 * SU_EINVAL when longer than REQNORM_TAGS_MAX or holding a control byte.
 * Whether the header was present is the caller's (policy_request.device_known).
 */
enum su_rc reqnorm_device_tags(const char *header, unsigned *mask);

/*
 * reqnorm_list() splits a comma list (e.g. a groups header): items are
 * trimmed of spaces/tabs, empty items skipped. SU_EINVAL when an item is
 * longer than max_item bytes, there are more than max_items items, or the
 * value holds a control byte or invalid UTF-8. *out is a malloc'd array of
 * *n malloc'd strings (NULL when *n == 0); free with reqnorm_list_free().
 * header NULL gives *n = 0.
 */
enum su_rc reqnorm_list(const char *header, size_t max_items, size_t max_item,
			char ***out, size_t *n);
void reqnorm_list_free(char **v, size_t n);

/* reqnorm_text_ok() says whether a header value is usable as a policy
 * attribute (user, app, activity, file name, label): 1..max bytes of valid
 * UTF-8 without control bytes (< 0x20, 0x7f). NULL is not ok. */
bool reqnorm_text_ok(const char *s, size_t max);

/* reqnorm_utf8_ok() says whether the n bytes at s are valid UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
bool reqnorm_utf8_ok(const unsigned char *s, size_t n);

#endif
