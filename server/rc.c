/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* rc.c: descriptions for enum su_rc. */
#include "rc.h"

const char *
su_rc_str(enum su_rc rc)
{
	switch (rc) {
	case SU_OK: return "ok";
	case SU_ENOMEM: return "out of memory";
	case SU_EINVAL: return "invalid input";
	case SU_EDENIED: return "denied";
	case SU_ENOTFOUND: return "not found";
	case SU_EEXPIRED: return "expired";
	case SU_EREPLAY: return "already used";
	case SU_EDB: return "database error";
	case SU_ECRYPTO: return "cryptographic error";
	case SU_EIDP: return "identity provider error";
	case SU_EIO: return "I/O error";
	case SU_ETOOBIG: return "too large";
	}
	return "unknown error";
}
