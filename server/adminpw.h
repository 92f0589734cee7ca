/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * adminpw.h: local admin passwords and the sign-in slowdown. Passwords are
 * hashed with Argon2id (libargon2) into the encoded PHC string
 * ($argon2id$v=19$m=65536,t=3,p=1$salt$hash) that admin_users keeps, and
 * checked against it. The slowdown is pure arithmetic on a failure count
 * and the time of the last failure. Nothing here stores, logs or keeps a
 * password; callers wipe their copies.
 */
#ifndef STEPUPD_ADMINPW_H
#define STEPUPD_ADMINPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rc.h"

/* Argon2id cost (docs/admin.md): 3 passes over 64 MiB, one lane. This is
 * RFC 9106's second recommended option (its first, 2 GiB, is too much for
 * a small server), and above OWASP's Argon2id minimums (19 MiB, t=2). One
 * lane: sign-ins run on the slow-work threads, which already run in
 * parallel; more lanes would multiply the threads a burst of sign-ins
 * takes without making a guess any dearer. */
#define ADMINPW_T_COST 3
#define ADMINPW_M_COST_KIB (64 * 1024)
#define ADMINPW_PARALLELISM 1
#define ADMINPW_SALT_LEN 16
#define ADMINPW_HASH_LEN 32
#define ADMINPW_MIN_LEN 12        /* characters (bytes) */
#define ADMINPW_MAX_LEN 1024      /* bytes; longer is refused, not cut */
#define ADMINPW_ENCODED_MAX 256   /* the encoded hash fits in this */

/* The slowdown: after ADMINPW_FREE_FAILURES failures within
 * ADMINPW_WINDOW seconds, sign-in is refused without checking the password
 * until the last failure + base * 2^(failures - ADMINPW_FREE_FAILURES),
 * capped at ADMINPW_WAIT_MAX seconds. */
#define ADMINPW_FREE_FAILURES 5
#define ADMINPW_WINDOW 900
#define ADMINPW_WAIT_MAX 900

/* adminpw_acceptable() says whether pw may be set as a password: 12 to
 * 1024 bytes, no control characters (it must survive a form field). */
bool adminpw_acceptable(const char *pw);
/* adminpw_hash() writes the encoded Argon2id hash of pw (random salt)
 * to out. */
enum su_rc adminpw_hash(const char *pw, char *out, size_t outsz);
/* adminpw_verify() checks pw against an encoded hash: SU_OK on a match,
 * SU_EDENIED on a mismatch, SU_EINVAL when encoded is not an Argon2id
 * hash stepupd accepts (costs at least the ones above). */
enum su_rc adminpw_verify(const char *encoded, const char *pw);
/* adminpw_dummy_verify() spends about the time of a verification (against
 * a fixed hash of a random password), for unknown users: SU_EDENIED, as
 * for a wrong password (anything else means the dummy hash is broken). */
enum su_rc adminpw_dummy_verify(const char *pw);
/* adminpw_wait() is how many more seconds sign-in stays refused for a key
 * with `failures` failures, the last at `last`, at `now`; 0: not throttled. */
int64_t adminpw_wait(int64_t failures, int64_t last, int64_t now, int64_t base);
/* adminpw_read() reads one line (the password) from f into buf, without
 * the line end, turning terminal echo off while it reads when f is a
 * terminal. SU_ETOOBIG for a longer line, SU_EIO at end of file. */
enum su_rc adminpw_read(FILE *f, char *buf, size_t bufsz);

#endif
