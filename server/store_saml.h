/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store_saml.h: the SAML assertion-ID replay store (table saml_assertions,
 * db/migrations/0004_saml.sql). An assertion ID is recorded once; a second
 * use, from any provider, is refused until the row expires. It does not
 * check anything else about an assertion (saml.c does).
 */
#ifndef STEPUPD_STORE_SAML_H
#define STEPUPD_STORE_SAML_H

#include <stdint.h>

#include "rc.h"
#include "store.h"

/*
 * store_saml_assertion_use() records the single use of assertion_id (from
 * provider) at now, kept until expires_at. SU_EREPLAY when the ID was
 * recorded before and has not been purged; SU_EINVAL for an empty or
 * over-long ID or expires_at < now.
 */
enum su_rc store_saml_assertion_use(struct store *s, const char *assertion_id, const char *provider,
				    int64_t now, int64_t expires_at);
/* store_saml_purge() forgets assertion IDs with expires_at <= now. */
enum su_rc store_saml_purge(struct store *s, int64_t now);

#endif
