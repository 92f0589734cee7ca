/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * saml.h: the SAML 2.0 service provider core of stepupd (SPEC 2.2), on
 * Lasso. It builds the signed AuthnRequest (HTTP-Redirect binding) that asks
 * the IdP for an authentication context, and it decides whether a Response
 * posted to the ACS (HTTP-POST binding) may elevate a session: every check of
 * research/lasso.md section 5, partly on stepupd's own DOM of the response
 * (pure, I/O-free: saml_doc_check()), partly by Lasso (XML-DSig with the key
 * from the IdP's metadata, never a key carried in the message).
 *
 * It does no HTTP and no SQLite: the replay store for assertion IDs is in
 * store_saml.c, the browser binding and the elevation in h_saml.c.
 *
 * Threads: saml_global_init() runs once in the main thread before any other
 * call, and before worker threads start. A struct saml_sp is built before
 * the HTTP daemon starts and never changed afterwards. Lasso's LassoServer
 * is not documented as thread-safe and writes to shared objects in
 * lasso_login_init_authn_request() (same values, but still a data race),
 * and xmlsec toggles a process global around verification; so every call
 * into Lasso is serialised by one process-wide mutex. A step-up costs about
 * 1-2 ms of Lasso time; step-ups are rare, so this is no bottleneck.
 */
#ifndef STEPUPD_SAML_H
#define STEPUPD_SAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "rc.h"

/* "_" + 32 hex digits: 128 bits from the CSPRNG */
#define SAML_REQUEST_ID_LEN 33
/* RelayState may be at most 80 bytes (SAML bindings 3.4.3, 3.5.3) */
#define SAML_RELAY_STATE_MAX 80
/* the decoded response may be at most this large */
#define SAML_RESPONSE_MAX (256 * 1024)

struct saml_sp;
struct saml_doc;

/*
 * saml_global_init() refuses to start when LASSO_FLAG is set in the
 * environment (LASSO_FLAG=no-verify-signature would switch off every
 * signature check in Lasso), initialises Lasso (lasso_init), turns
 * signature verification on explicitly and routes the log output of Lasso,
 * libxml2 and xmlsec into log.h. SU_EINVAL with a message in err when
 * LASSO_FLAG is set; SU_ECRYPTO when Lasso cannot start.
 */
enum su_rc saml_global_init(char *err, size_t errsz);
/* saml_global_cleanup() shuts Lasso down (after every saml_sp_free()). */
void saml_global_cleanup(void);

/*
 * saml_sp_new() builds the service provider of one [provider] of type saml:
 * reads sp_key_file, sp_cert_file and the IdP's metadata_file (exactly one
 * IdP EntityDescriptor with an HTTP-Redirect SingleSignOnService and a
 * signing key), generates the SP metadata (entityID sp_entity_id, ACS
 * public_url + /saml/acs with HTTP-POST, AuthnRequestsSigned="true",
 * WantAssertionsSigned="true", the certificate as signing key), builds the
 * LassoServer with RSA-SHA256 as the signature method, and signs one
 * AuthnRequest as a self-test. The caller frees *out with saml_sp_free().
 * On failure err says what is wrong.
 */
enum su_rc saml_sp_new(const struct cfg_provider *p, const char *public_url, struct saml_sp **out,
		       char *err, size_t errsz);
void saml_sp_free(struct saml_sp *sp);
/* saml_sp_metadata() returns the SP metadata XML (owned by sp). */
const char *saml_sp_metadata(const struct saml_sp *sp);
/* saml_sp_idp_entity_id() returns the IdP's entityID from its metadata. */
const char *saml_sp_idp_entity_id(const struct saml_sp *sp);
/* saml_sp_acs_url() returns public_url + "/saml/acs". */
const char *saml_sp_acs_url(const struct saml_sp *sp);

/* What one AuthnRequest asks for. */
struct saml_authn {
	const char *const *class_refs;   /* the context's class_refs (at least one) */
	enum cfg_comparison comparison;
	const char *relay_state;         /* opaque handle, 1..80 bytes */
};

/*
 * saml_authn_request() builds a signed AuthnRequest for the HTTP-Redirect
 * binding: ForceAuthn="true", IsPassive="false", ID "_" + 32 hex digits from
 * the CSPRNG, RequestedAuthnContext with a's class refs and comparison,
 * ProtocolBinding HTTP-POST, AssertionConsumerServiceURL = the ACS, and
 * RelayState. *url (the IdP's SSO URL with SAMLRequest, RelayState, SigAlg
 * and Signature) is malloc'd, the caller frees it; request_id gets the ID.
 */
enum su_rc saml_authn_request(struct saml_sp *sp, const struct saml_authn *a, char **url,
			      char request_id[SAML_REQUEST_ID_LEN + 1], char *err, size_t errsz);

/* What the response to one AuthnRequest must say. Borrowed pointers. */
struct saml_expect {
	const char *idp_entity_id;       /* Issuer of Response (when present) and Assertion */
	const char *sp_entity_id;        /* the Audience */
	const char *acs_url;             /* Destination and Recipient */
	const char *request_id;          /* InResponseTo (Response and SubjectConfirmationData) */
	const char *const *class_refs;   /* requested */
	enum cfg_comparison comparison;  /* requested */
	const char *const *class_ref_order; /* weakest first; NULL: none configured */
	const char *subject_attribute;   /* NULL: the subject is the NameID */
	const char *user;                /* NULL: the start request named no user */
	int64_t flow_created_at;         /* AuthnInstant must not be older (minus skew) */
	int64_t now;
	int64_t skew;                    /* seconds of clock skew allowed (60) */
};

/* What a response said. Strings are malloc'd; saml_result_cleanup() frees. */
struct saml_result {
	char *status;            /* the top-level StatusCode (always, when known) */
	char *status2;           /* the second-level StatusCode, or NULL */
	char *status_message;    /* StatusMessage, or NULL */
	char *assertion_id;
	char *subject;           /* NameID, or the subject_attribute value */
	char *class_ref;         /* AuthnContextClassRef */
	int64_t authn_instant;
	int64_t not_on_or_after; /* latest NotOnOrAfter of the assertion: keep its ID until then */
	int64_t session_not_on_or_after; /* AuthnStatement@SessionNotOnOrAfter, 0 when absent */
};
void saml_result_cleanup(struct saml_result *res);

/*
 * saml_doc_parse() parses a decoded Response with libxml2: no network, no
 * entity substitution, no DTD loading, and any DOCTYPE is refused
 * (XXE, entity expansion). The caller frees *out with saml_doc_free().
 */
enum su_rc saml_doc_parse(const void *xml, size_t len, struct saml_doc **out, char *err,
			  size_t errsz);
void saml_doc_free(struct saml_doc *d);

/*
 * saml_doc_check() makes every check that needs no key, on the parsed DOM
 * alone (pure: no I/O, no Lasso). In order: the root is a SAML 2.0
 * Response; its Status is Success (else SU_EIDP with res->status,
 * res->status2 and res->status_message filled: display only, as an error
 * status is not authenticated); the structure (exactly one Assertion, a
 * direct child of the Response, no EncryptedAssertion, unique IDs, at least
 * one Signature, each an enveloped direct child of the Response or the
 * Assertion with exactly one Reference to its parent's ID, only the
 * enveloped-signature and exclusive c14n transforms, no ds:Object, no SHA-1
 * or other weak SignatureMethod or DigestMethod); Destination; InResponseTo
 * (absent: unsolicited); issuers; one bearer SubjectConfirmation with
 * Recipient, InResponseTo, NotBefore and NotOnOrAfter; Conditions with
 * times and an AudienceRestriction naming us (and no unknown condition);
 * exactly one AuthnStatement with an AuthnInstant not older than the flow
 * and a class ref meeting the requested comparison; the subject (NameID
 * text only: a comment or element inside it is refused) and its binding to
 * x->user. SU_OK fills res; on failure err names the check that failed
 * (SU_EDENIED for a well-formed response that fails a check, SU_EINVAL for
 * a malformed one).
 */
enum su_rc saml_doc_check(const struct saml_doc *d, const struct saml_expect *x,
			  struct saml_result *res, char *err, size_t errsz);

/*
 * saml_response_check() checks the SAMLResponse form value (base64) as the
 * ACS receives it: decode (strictly, at most SAML_RESPONSE_MAX bytes),
 * parse, saml_doc_check(), then Lasso on the same bytes (signature by a key
 * of the IdP's metadata, issuer known), then a cross-check that Lasso read
 * the same assertion ID, class ref and NameID as the DOM checks did.
 * Returns as saml_doc_check() does; SU_ECRYPTO when the signature is
 * refused.
 */
enum su_rc saml_response_check(struct saml_sp *sp, const char *saml_response,
			       const struct saml_expect *x, struct saml_result *res, char *err,
			       size_t errsz);

/*
 * saml_class_ref_ok() says whether the returned class ref `got` meets the
 * request (SAML core 3.3.2.2.1) under `order` (weakest first, NULL: none):
 * exact: got is one of the requested; minimum: got is one of them or at
 * least as strong as one of them; maximum: got is one of them or no
 * stronger than one of them; better: got is stronger than every requested
 * one. A class ref not in `order` only ever matches by being equal.
 */
bool saml_class_ref_ok(const char *got, const char *const *requested, enum cfg_comparison cmp,
		       const char *const *order);

/* saml_time_parse() parses an xs:dateTime in UTC ("2024-05-01T10:00:00Z",
 * optional fraction) into Unix seconds; SU_EINVAL for anything else. */
enum su_rc saml_time_parse(const char *s, int64_t *out);

/*
 * saml_form_parse() reads an application/x-www-form-urlencoded body of the
 * HTTP-POST binding: SAMLResponse and RelayState, each exactly once (a
 * duplicate or a missing one is refused, SU_EINVAL with err). Other
 * parameters are ignored. *saml_response and *relay_state are malloc'd
 * (the caller frees them, also on failure where set).
 */
enum su_rc saml_form_parse(const char *body, size_t len, char **saml_response, char **relay_state,
			   char *err, size_t errsz);

#endif
