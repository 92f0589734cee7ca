/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * policy.h: session policies (SPEC 2.4, the seed's "Require step-up
 * authentication on downloads from unmanaged devices"): their in-memory
 * form, the strict JSON format of `stepupd policy import|export`
 * (docs/policies.md), and the pure decision: which enabled policies match
 * one proxied request and which action wins.
 *
 * What it does: parse (every member checked; the first error of each
 * policy is reported with its index, name and field; any error refuses the
 * whole file), serialise back (same meaning, stable text), glob matching
 * on normalised paths and file names, and policy_evaluate().
 *
 * What it does not do: no I/O, no SQLite (store_policy.h stores sets), no
 * HTTP header parsing (reqnorm.h turns proxy headers into a struct
 * policy_request), no alerts and no match recording (the caller records
 * each match in decision.matched). It never sees a session id.
 *
 * Evaluation rules (docs/policies.md "Evaluation"):
 * - a policy matches when it is enabled and every filter it has matches
 *   (AND); an absent filter matches everything;
 * - among the matching policies the most restrictive action wins:
 *   block > step_up > allow; ties: the higher severity, then the first in
 *   set order (file order);
 * - no policy matched: decision.action == POLICY_ACTION_NONE and the caller
 *   applies [policy] default;
 * - absent attributes (the proxy did not send the header): for block and
 *   step_up policies an absent attribute is an empty value, so `in` /
 *   `equals` does not match and `not_in` / `not_equals` does (fail closed:
 *   "device tag not_equals compliant" catches a request with no
 *   X-Device-Tags); for allow policies a filter on an absent attribute
 *   never matches, whatever its op (an allow is granted only on what the
 *   proxy stated).
 */
#ifndef STEPUPD_POLICY_H
#define STEPUPD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cfg.h"
#include "rc.h"

#define POLICY_MAX 1000            /* policies in one set */
#define POLICY_LIST_MAX 256        /* entries in one filter list / email list */
#define POLICY_NAME_MAX 128        /* name: 1..128 bytes */
#define POLICY_DESC_MAX 2048       /* description: 0..2048 bytes */
#define POLICY_VALUE_MAX 256       /* one list entry, category, context name */
#define POLICY_JSON_MAX (16u * 1024u * 1024u) /* a whole policy file */
#define POLICY_DAILY_LIMIT_MAX 10000

enum policy_severity { POLICY_SEV_LOW = 1, POLICY_SEV_MEDIUM, POLICY_SEV_HIGH };

/* Session control types (a set; JSON "session_control": [...]). */
#define POLICY_CTL_MONITOR_ONLY 0x1u          /* record matches only; action must be allow */
#define POLICY_CTL_BLOCK_ACTIVITIES 0x2u      /* applies to every activity (narrowed by filters) */
#define POLICY_CTL_CONTROL_FILE_DOWNLOAD 0x4u /* applies to activity "download" */
#define POLICY_CTL_CONTROL_FILE_UPLOAD 0x8u   /* applies to activity "upload" */

/* Device tags (X-Device-Tags), as bits. */
#define POLICY_TAG_COMPLIANT 0x1u
#define POLICY_TAG_HYBRID_JOINED 0x2u
#define POLICY_TAG_VALID_CLIENT_CERT 0x4u

/* Actions, ordered by restrictiveness (a larger value wins). */
enum policy_action {
	POLICY_ACTION_NONE = 0, /* decision only: nothing matched */
	POLICY_ACTION_ALLOW,
	POLICY_ACTION_STEP_UP,
	POLICY_ACTION_BLOCK,
};

/* Filter operator. device_tags spells them "equals" / "not_equals", the
 * other filters "in" / "not_in"; the meaning is the same: IN matches when
 * the request's value (any of its values, for groups and device tags) is
 * one of the filter's values; NOT_IN when none is. */
enum policy_op { POLICY_OP_IN = 1, POLICY_OP_NOT_IN };

/* One filter: present == false means "no filter" (matches everything). */
struct policy_filter {
	bool present;
	enum policy_op op;
	char **values;          /* n strings as written in the file (owned) */
	size_t n;
};

struct policy_alerts {
	bool enabled;
	unsigned daily_limit;   /* 1..10000 alerts per policy per UTC day */
	bool webhook;           /* deliver to the configured webhook */
	char **email;           /* n_email addresses (owned) */
	size_t n_email;
};

struct policy {
	int64_t id;             /* the store's id; 0 when parsed from a file */
	char *name;             /* 1..128 bytes, unique in a set (ASCII case-insensitive) */
	char *description;      /* never NULL ("" when absent) */
	char *category;         /* never NULL ("" when absent) */
	enum policy_severity severity;
	bool enabled;
	unsigned session_control; /* POLICY_CTL_* bits, never 0 */
	/* activity filters */
	struct policy_filter device_tags;  unsigned device_mask; /* values as POLICY_TAG_* bits */
	struct policy_filter apps;         /* case-insensitive */
	struct policy_filter users;        /* exact */
	struct policy_filter groups;       /* exact */
	struct policy_filter ip_ranges;    struct cfg_cidr *cidrs; /* n parsed ranges */
	struct policy_filter activities;   /* lowercase tokens */
	struct policy_filter url_path;     bool url_path_ignore_case; /* globs on the normalised path */
	/* file filters */
	struct policy_filter labels;       /* case-insensitive */
	struct policy_filter file_name;    /* globs, case-insensitive */
	struct policy_filter file_extension; /* without the dot, case-insensitive */
	/* action */
	enum policy_action action;         /* ALLOW, STEP_UP or BLOCK */
	char *context;                     /* step_up only, else NULL */
	struct policy_alerts alerts;
};

/* A set: an ordered array of owned policies (order = file order). */
struct policy_set {
	struct policy **v;
	size_t n;
};

/*
 * The activity attributes of one proxied request (SPEC 2.3), already
 * checked and normalised by the caller (reqnorm.h). Everything is
 * borrowed; NULL (or *_known == false) means the proxy did not say.
 */
struct policy_request {
	const char *user;               /* X-Stepup-User */
	const char *const *groups;      /* X-Stepup-Groups split (reqnorm_list) */
	size_t n_groups;
	bool groups_known;              /* the groups header was present */
	const char *app;                /* X-App */
	const char *method;             /* X-Original-Method (recorded; not a filter) */
	const char *path;               /* reqnorm_path() output */
	bool addr_known;
	struct sockaddr_storage addr;   /* reqnorm_client_addr() output */
	bool device_known;              /* X-Device-Tags was present (even empty) */
	unsigned device_tags;           /* POLICY_TAG_* bits */
	const char *activity;           /* X-Activity, compared case-insensitively */
	const char *file_name;          /* X-File-Name; the extension is derived from it */
	const char *file_label;         /* X-File-Label */
};

/* The outcome of policy_evaluate(). Pointers borrow the set, which must
 * outlive the decision; release with policy_decision_cleanup(). */
struct policy_decision {
	enum policy_action action;      /* NONE: no policy matched, use [policy] default */
	const char *context;            /* STEP_UP: the winner's context, else NULL */
	const struct policy *winner;    /* NULL when nothing matched */
	const struct policy **matched;  /* every matching policy, set order (malloc'd) */
	size_t n_matched;
};

/*
 * policy_set_parse() parses a policy file ({"policies":[...]}, at most
 * POLICY_JSON_MAX bytes) into *out (caller frees with policy_set_free()).
 * When cfg is not NULL every step_up context must be a [context] of cfg;
 * when NULL, context names are only checked for form (the store reloading
 * what was validated at import). On failure *out is NULL, the return is
 * SU_EINVAL (or SU_ENOMEM/SU_ETOOBIG) and *errs (caller frees; may be
 * NULL on ENOMEM) holds one line per error:
 *   `policy N ("name"): FIELD: message` (N counts from 1), or for errors
 *   outside any policy `line L, column C: message` / `FIELD: message`.
 * At most the first error of each policy and 50 lines in all are given.
 */
enum su_rc policy_set_parse(const char *json, size_t len, const struct cfg *cfg,
			    struct policy_set **out, char **errs);

/* policy_parse_one() parses one policy object (the store's canonical text,
 * or a console form turned into JSON) with the same checks; *out is owned
 * by the caller (policy_free()); *err a one-line message (caller frees). */
enum su_rc policy_parse_one(const char *json, size_t len, const struct cfg *cfg,
			    struct policy **out, char **err);

/* policy_set_new() makes an empty set; policy_set_append() moves p into it
 * (on success the set owns p; SU_EINVAL when its name duplicates one
 * already there or the set is full, and the caller still owns p). */
enum su_rc policy_set_new(struct policy_set **out);
enum su_rc policy_set_append(struct policy_set *s, struct policy *p);
void policy_set_free(struct policy_set *s);
void policy_free(struct policy *p);

/* policy_set_to_json() writes the file format, pretty (2-space indent,
 * trailing newline), every field spelled out, ids omitted, so that
 * parse(to_json(s)) means the same as s and to_json() of that is the same
 * text. *out is malloc'd (caller frees). */
enum su_rc policy_set_to_json(const struct policy_set *s, char **out);
/* policy_to_json() writes one policy object in compact form (the store's
 * canonical text); *out is malloc'd (caller frees). */
enum su_rc policy_to_json(const struct policy *p, char **out);

/*
 * policy_evaluate() decides one request: see the rules at the top of this
 * file. Disabled policies are skipped. *out is always initialised; on
 * SU_OK the caller calls policy_decision_cleanup(). It only reads the set
 * and the request, so many threads may evaluate one set at once. Any other return
 * (SU_EINVAL for NULL arguments, SU_ENOMEM) means "no decision": the caller
 * must refuse the request (fail closed), never allow it. A STEP_UP whose
 * context is not in the running config must also be refused (block) by
 * the caller: the config may have changed since the import.
 */
enum su_rc policy_evaluate(const struct policy_set *set, const struct policy_request *req,
			   struct policy_decision *out);
void policy_decision_cleanup(struct policy_decision *d);

/* policy_glob_match() matches text against a glob: `*` is any run of bytes
 * without '/', `**` any run of bytes including '/', `?` one byte that is
 * not '/'; everything else is literal (no escapes, no classes). A pattern
 * ending in '/' then `**` also matches the text without that tail (the
 * pattern "/admin/" + "**" matches "/admin"). ignore_case compares ASCII letters case-insensitively.
 * Runs in O(len(text) * len(pattern)) without recursion; patterns longer
 * than POLICY_VALUE_MAX never match. */
bool policy_glob_match(const char *pattern, const char *text, bool ignore_case);

/* policy_file_extension() derives the extension policy filters compare:
 * the base name (after the last '/' or '\\') with trailing dots and spaces
 * removed (Windows ignores them, so "a.exe. " is an .exe), then the bytes
 * after its last '.', when that dot is not the first byte. Writes it
 * lowercased into out (NUL-terminated) and returns true; false when there
 * is none or it does not fit outsz. */
bool policy_file_extension(const char *file_name, char *out, size_t outsz);

/* Names of enum values as the JSON spells them ("block", "high", ...). */
const char *policy_action_str(enum policy_action a);
const char *policy_severity_str(enum policy_severity s);

#endif
