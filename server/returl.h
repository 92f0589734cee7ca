/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * returl.h: the return-URL rules of SPEC section 5. A return URL is where
 * stepupd sends the browser after a step-up; an attacker who controls it
 * gets an open redirect. The rules: an absolute http or https URL, no
 * control bytes (C0, DEL) or spaces, no backslash, no user-info, a host,
 * no scheme-relative or triple-slash forms, no percent-encoded tricks in
 * the authority, length <= 2048, and the origin (scheme, lowercase host,
 * port with the default made explicit) equal to one allowed origin.
 * No I/O; fuzzed.
 */
#ifndef STEPUPD_RETURL_H
#define STEPUPD_RETURL_H

#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

#define RETURL_MAX 2048

/* returl_origin_normalise() turns "https://Files.Example.com" into
 * "https://files.example.com:443" (malloc'd in *out). SU_EINVAL if s is not
 * a bare origin (scheme://host[:port], optional trailing "/"). Used by cfg.c
 * for allowed_return_origins. */
enum su_rc returl_origin_normalise(const char *s, char **out);

/* returl_check() applies every rule to url against allowed (a
 * NULL-terminated list of normalised origins). SU_OK when allowed, else
 * SU_EINVAL with err saying which rule refused it. */
enum su_rc returl_check(const char *url, const char *const *allowed, char *err, size_t errsz);

#endif
