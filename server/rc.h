/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * rc.h: the one status type of stepupd. Every fallible function returns an
 * enum su_rc; SU_OK is zero so `if (rc != SU_OK) goto out;` reads naturally.
 * Predicates return bool instead.
 */
#ifndef STEPUPD_RC_H
#define STEPUPD_RC_H

enum su_rc {
	SU_OK = 0,
	SU_ENOMEM,    /* allocation failed */
	SU_EINVAL,    /* malformed or refused input */
	SU_EDENIED,   /* well-formed but not allowed (binding, subject, acr ...) */
	SU_ENOTFOUND, /* no such row / key / thing */
	SU_EEXPIRED,  /* past its lifetime */
	SU_EREPLAY,   /* single-use thing used a second time */
	SU_EDB,       /* SQLite failed */
	SU_ECRYPTO,   /* OpenSSL / cjose failed */
	SU_EIDP,      /* the identity provider answered wrongly or not at all */
	SU_EIO,       /* file or network I/O failed */
	SU_ETOOBIG,   /* a size limit was hit */
};

/* su_rc_str() returns a static English description of rc. */
const char *su_rc_str(enum su_rc rc);

#endif
