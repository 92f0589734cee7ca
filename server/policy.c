/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * policy.c: session policies (see policy.h for the contract and
 * docs/policies.md for the file format and the evaluation rules).
 *
 * What it does: strict parsing of the JSON policy format with jansson
 * (duplicate members refused at load, every member of every object
 * checked against a fixed list, every value checked for type, range and
 * form), serialisation back to the same format, the glob matcher, and the
 * pure evaluation of a set against one request.
 *
 * What it does not do: read files, touch SQLite, look at HTTP headers or
 * send alerts. The evaluation allocates only the list of matched policies.
 *
 * The ten filters are described once, in pol_fdescs[]: parsing,
 * serialisation and matching all walk that table, so a filter cannot be
 * parsed and then forgotten by the matcher.
 */
#include "policy.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define POL_ERRS_MAX 50            /* error lines policy_set_parse() reports */
#define POL_ERRS_BYTES (64 * 1024) /* and their total size */
#define POL_ACTIVITY_MAX 64        /* an activity token */
#define POL_EXT_MAX 32             /* a file extension */
#define POL_EMAIL_MAX 254          /* an e-mail address (RFC 5321 path limit) */
#define POL_CATEGORY_MAX 128
#define POL_DAILY_LIMIT_DEFAULT 100

/* How a filter's values are checked and compared. */
enum pol_kind {
	PK_DEVICE,   /* device tag names, compared as bits */
	PK_TEXT_CI,  /* free text, ASCII case-insensitive */
	PK_TEXT,     /* free text, exact */
	PK_CIDR,     /* IPv4/IPv6 ranges */
	PK_ACTIVITY, /* lowercase tokens, request value compared case-insensitively */
	PK_PATH,     /* globs on the normalised path */
	PK_FILEGLOB, /* globs on the file's base name, case-insensitive */
	PK_EXT,      /* file extensions without the dot, case-insensitive */
};

/* One filter: its JSON name, the object holding it, where it lives in
 * struct policy, and its kind. */
struct pol_fdesc {
	const char *name;
	bool file; /* in "file_filters", else in "activity_filters" */
	size_t off;
	enum pol_kind kind;
};

static const struct pol_fdesc pol_fdescs[] = {
	{ "device_tags", false, offsetof(struct policy, device_tags), PK_DEVICE },
	{ "apps", false, offsetof(struct policy, apps), PK_TEXT_CI },
	{ "users", false, offsetof(struct policy, users), PK_TEXT },
	{ "groups", false, offsetof(struct policy, groups), PK_TEXT },
	{ "ip_ranges", false, offsetof(struct policy, ip_ranges), PK_CIDR },
	{ "activities", false, offsetof(struct policy, activities), PK_ACTIVITY },
	{ "url_path", false, offsetof(struct policy, url_path), PK_PATH },
	{ "labels", true, offsetof(struct policy, labels), PK_TEXT_CI },
	{ "file_name", true, offsetof(struct policy, file_name), PK_FILEGLOB },
	{ "file_extension", true, offsetof(struct policy, file_extension), PK_EXT },
};
#define POL_NFILTERS (sizeof(pol_fdescs) / sizeof(pol_fdescs[0]))

/* A name <-> bit table entry (session controls, device tags). */
struct pol_bitname {
	const char *name;
	unsigned bit;
};

static const struct pol_bitname pol_controls[] = {
	{ "monitor_only", POLICY_CTL_MONITOR_ONLY },
	{ "block_activities", POLICY_CTL_BLOCK_ACTIVITIES },
	{ "control_file_download", POLICY_CTL_CONTROL_FILE_DOWNLOAD },
	{ "control_file_upload", POLICY_CTL_CONTROL_FILE_UPLOAD },
};

static const struct pol_bitname pol_tags[] = {
	{ "compliant", POLICY_TAG_COMPLIANT },
	{ "hybrid_joined", POLICY_TAG_HYBRID_JOINED },
	{ "valid_client_cert", POLICY_TAG_VALID_CLIENT_CERT },
};

/* The first error found inside one policy: the field (a dotted path such
 * as "activity_filters.ip_ranges.values[2]") and the message. */
struct pol_err {
	char field[128];
	char msg[256];
};

/* pol_fail() records an error and returns SU_EINVAL, so parsers can
 * `return pol_fail(...)` or `rc = pol_fail(...); goto out;`. */
static enum su_rc pol_fail(struct pol_err *e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum su_rc
pol_fail(struct pol_err *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return SU_EINVAL;
}

/* pol_clip() copies at most 60 bytes of untrusted s into dst for an error
 * message, replacing anything but printable ASCII (and '"', '\\') by '?'
 * so a hostile name cannot write escape sequences to a terminal. */
static void
pol_clip(char *dst, size_t dstsz, const char *s)
{
	size_t i = 0;

	if (dstsz == 0)
		return;
	for (; s != NULL && s[i] != '\0' && i < 60 && i + 4 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	if (s != NULL && s[i] != '\0' && i + 4 < dstsz) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

/* pol_lower() is ASCII tolower, independent of the locale. */
static unsigned char
pol_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* pol_ci_eq() compares two strings ASCII case-insensitively. */
static bool
pol_ci_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (pol_lower((unsigned char)*a) != pol_lower((unsigned char)*b))
			return false;
	return *a == *b;
}

/* pol_text_ok() checks a JSON string's bytes: min..max bytes, no control
 * byte (tab and newline allowed when multiline). jansson has already
 * refused invalid UTF-8 and \u0000. */
static bool
pol_text_ok(const char *s, size_t len, size_t min, size_t max, bool multiline)
{
	if (len < min || len > max || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x7f || (c < 0x20 && !(multiline && (c == '\n' || c == '\t'))))
			return false;
	}
	return true;
}

/* pol_strdup() is strdup that cannot be confused with the banned list. */
static char *
pol_strdup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (d != NULL)
		memcpy(d, s, n + 1);
	return d;
}

/* pol_members_check() refuses any member of o not in allowed (NULL-ended);
 * `where` names o in the error. */
static enum su_rc
pol_members_check(json_t *o, const char *const *allowed, const char *where, struct pol_err *e)
{
	const char *key;
	json_t *v;
	char clip[80];

	json_object_foreach(o, key, v) {
		bool ok = false;

		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			pol_clip(clip, sizeof(clip), key);
			return pol_fail(e, where[0] ? where : "policy", "unknown member \"%s\"", clip);
		}
	}
	return SU_OK;
}

/* pol_get_str() reads string member key of o into *out (malloc'd). Absent:
 * SU_EINVAL when required, else *out = copy of dflt (dflt NULL: *out NULL). */
static enum su_rc
pol_get_str(json_t *o, const char *key, bool required, const char *dflt, size_t min, size_t max,
	    bool multiline, char **out, struct pol_err *e)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	*out = NULL;
	if (v == NULL) {
		if (required)
			return pol_fail(e, key, "is required");
		if (dflt != NULL) {
			*out = pol_strdup(dflt);
			return *out != NULL ? SU_OK : SU_ENOMEM;
		}
		return SU_OK;
	}
	if (!json_is_string(v))
		return pol_fail(e, key, "must be a string");
	s = json_string_value(v);
	if (!pol_text_ok(s, json_string_length(v), min, max, multiline))
		return pol_fail(e, key, "must be %zu to %zu bytes without control characters", min, max);
	*out = pol_strdup(s);
	return *out != NULL ? SU_OK : SU_ENOMEM;
}

/* pol_get_bool() reads boolean member key (absent: dflt). */
static enum su_rc
pol_get_bool(json_t *o, const char *key, bool dflt, bool *out, const char *where, struct pol_err *e)
{
	json_t *v = json_object_get(o, key);
	char field[128];

	*out = dflt;
	if (v == NULL)
		return SU_OK;
	if (!json_is_boolean(v)) {
		snprintf(field, sizeof(field), "%s%s%s", where, where[0] ? "." : "", key);
		return pol_fail(e, field, "must be true or false");
	}
	*out = json_is_true(v);
	return SU_OK;
}

/* pol_bit_find() maps a name to its bit in table t (0 when unknown). */
static unsigned
pol_bit_find(const struct pol_bitname *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].bit;
	return 0;
}

/* pol_context_name_ok() checks the form of a context name: 1..256
 * printable ASCII bytes without spaces or quotes (what cfg.c accepts in
 * [context "NAME"]). */
static bool
pol_context_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/* pol_email_ok() checks an e-mail address loosely but safely: one '@', a
 * local part of 1..64 printable ASCII bytes without specials that would
 * need quoting, a domain of dot-separated labels of letters, digits and
 * '-' (no empty label, none starting or ending with '-'). */
static bool
pol_email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s), label = 0;

	if (n < 3 || n > POL_EMAIL_MAX || at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    (size_t)(at - s) > 64)
		return false;
	for (const char *p = s; p < at; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),:;<>[]\\", *p) != NULL)
			return false;
	if (at[1] == '\0')
		return false;
	for (const char *p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || p[-1] == '-')
				return false;
			if (*p == '\0')
				break;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-'))
			return false;
		if (label == 0 && *p == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

/* pol_path_glob_ok() checks a url_path pattern: it starts with '/', has no
 * backslash, no "//" and no "." or ".." segment: normalised paths never
 * contain them, so such a pattern could never match (a silent no-op). */
static bool
pol_path_glob_ok(const char *s)
{
	const char *seg;

	if (s[0] != '/' || strchr(s, '\\') != NULL || strstr(s, "//") != NULL)
		return false;
	for (seg = s + 1;; ) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (end == NULL)
			break;
		seg = end + 1;
	}
	return true;
}

/* pol_activity_ok() checks an activity token: 1..64 of [a-z0-9_-]. */
static bool
pol_activity_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POL_ACTIVITY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* pol_ext_ok() checks a file extension: 1..32 bytes, no '.', '/', '\\',
 * space or control byte. */
static bool
pol_ext_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POL_EXT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '.' || s[i] == '/' ||
		    s[i] == '\\')
			return false;
	return true;
}

/* pol_filter_get() returns the filter d describes inside p. */
static struct policy_filter *
pol_filter_get(struct policy *p, const struct pol_fdesc *d)
{
	return (struct policy_filter *)(void *)((char *)p + d->off);
}

/* pol_filter_cget() is pol_filter_get() for a const policy. */
static const struct policy_filter *
pol_filter_cget(const struct policy *p, const struct pol_fdesc *d)
{
	return (const struct policy_filter *)(const void *)((const char *)p + d->off);
}

/* pol_strs_free() frees an array of n strings. */
static void
pol_strs_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* pol_value_check() checks one value of filter d (and records what it
 * means in p: device bits, parsed ranges). */
static enum su_rc
pol_value_check(const struct pol_fdesc *d, struct policy *p, size_t i, const char *s, size_t len,
		const char *field, struct pol_err *e)
{
	unsigned bit;

	if (!pol_text_ok(s, len, 1, POLICY_VALUE_MAX, false))
		return pol_fail(e, field, "must be 1 to %d bytes without control characters",
				POLICY_VALUE_MAX);
	switch (d->kind) {
	case PK_DEVICE:
		bit = pol_bit_find(pol_tags, sizeof(pol_tags) / sizeof(pol_tags[0]), s);
		if (bit == 0)
			return pol_fail(e, field,
					"must be compliant, hybrid_joined or valid_client_cert");
		p->device_mask |= bit;
		break;
	case PK_CIDR:
		if (cfg_cidr_parse(s, &p->cidrs[i]) != SU_OK)
			return pol_fail(e, field, "is not an IPv4 or IPv6 address or CIDR range");
		break;
	case PK_ACTIVITY:
		if (!pol_activity_ok(s))
			return pol_fail(e, field, "must be a lowercase token of a-z, 0-9, '_', '-' "
					"(at most %d bytes)", POL_ACTIVITY_MAX);
		break;
	case PK_PATH:
		if (!pol_path_glob_ok(s))
			return pol_fail(e, field, "must start with '/' and hold no '\\', '//', '.' or "
					"'..' segment (paths are matched after normalisation)");
		break;
	case PK_EXT:
		if (!pol_ext_ok(s))
			return pol_fail(e, field, "must be an extension without the dot "
					"(1 to %d bytes, no '.', '/', '\\' or space)", POL_EXT_MAX);
		break;
	case PK_TEXT_CI:
	case PK_TEXT:
	case PK_FILEGLOB:
		break;
	}
	return SU_OK;
}

/* pol_filter_parse() parses one filter object {"op", "values"[,
 * "ignore_case"]} into p. */
static enum su_rc
pol_filter_parse(json_t *fo, const struct pol_fdesc *d, struct policy *p, struct pol_err *e)
{
	static const char *const members[] = { "op", "values", NULL };
	static const char *const members_path[] = { "op", "values", "ignore_case", NULL };
	struct policy_filter *f = pol_filter_get(p, d);
	char where[64], field[128];
	json_t *op, *vals, *v;
	const char *ops;
	size_t n, i;
	enum su_rc rc;

	snprintf(where, sizeof(where), "%s.%s", d->file ? "file_filters" : "activity_filters",
		 d->name);
	if (!json_is_object(fo))
		return pol_fail(e, where, "must be an object {\"op\": ..., \"values\": [...]}");
	rc = pol_members_check(fo, d->kind == PK_PATH ? members_path : members, where, e);
	if (rc != SU_OK)
		return rc;
	snprintf(field, sizeof(field), "%s.op", where);
	op = json_object_get(fo, "op");
	if (op == NULL)
		return pol_fail(e, field, "is required");
	ops = json_is_string(op) ? json_string_value(op) : "";
	if (d->kind == PK_DEVICE) {
		if (strcmp(ops, "equals") == 0)
			f->op = POLICY_OP_IN;
		else if (strcmp(ops, "not_equals") == 0)
			f->op = POLICY_OP_NOT_IN;
		else
			return pol_fail(e, field, "must be \"equals\" or \"not_equals\"");
	} else {
		if (strcmp(ops, "in") == 0)
			f->op = POLICY_OP_IN;
		else if (strcmp(ops, "not_in") == 0)
			f->op = POLICY_OP_NOT_IN;
		else
			return pol_fail(e, field, "must be \"in\" or \"not_in\"");
	}
	if (d->kind == PK_PATH) {
		rc = pol_get_bool(fo, "ignore_case", false, &p->url_path_ignore_case, where, e);
		if (rc != SU_OK)
			return rc;
	}
	snprintf(field, sizeof(field), "%s.values", where);
	vals = json_object_get(fo, "values");
	if (vals == NULL)
		return pol_fail(e, field, "is required");
	if (!json_is_array(vals))
		return pol_fail(e, field, "must be an array of strings");
	n = json_array_size(vals);
	if (n == 0)
		return pol_fail(e, field, "must not be empty (leave the filter out to match everything)");
	if (n > POLICY_LIST_MAX)
		return pol_fail(e, field, "has %zu entries; at most %d are allowed", n, POLICY_LIST_MAX);
	f->values = calloc(n, sizeof(*f->values));
	if (f->values == NULL)
		return SU_ENOMEM;
	if (d->kind == PK_CIDR) {
		p->cidrs = calloc(n, sizeof(*p->cidrs));
		if (p->cidrs == NULL)
			return SU_ENOMEM;
	}
	json_array_foreach(vals, i, v) {
		snprintf(field, sizeof(field), "%s.values[%zu]", where, i);
		if (!json_is_string(v))
			return pol_fail(e, field, "must be a string");
		rc = pol_value_check(d, p, i, json_string_value(v), json_string_length(v), field, e);
		if (rc != SU_OK)
			return rc;
		f->values[i] = pol_strdup(json_string_value(v));
		if (f->values[i] == NULL)
			return SU_ENOMEM;
		f->n = i + 1;
	}
	f->present = true;
	return SU_OK;
}

/* pol_filters_parse() parses "activity_filters" or "file_filters". */
static enum su_rc
pol_filters_parse(json_t *o, bool file, struct policy *p, struct pol_err *e)
{
	const char *group = file ? "file_filters" : "activity_filters";
	const char *allowed[POL_NFILTERS + 1];
	json_t *g = json_object_get(o, group), *fo;
	size_t k = 0;
	enum su_rc rc;

	if (g == NULL)
		return SU_OK;
	if (!json_is_object(g))
		return pol_fail(e, group, "must be an object");
	for (size_t i = 0; i < POL_NFILTERS; i++)
		if (pol_fdescs[i].file == file)
			allowed[k++] = pol_fdescs[i].name;
	allowed[k] = NULL;
	rc = pol_members_check(g, allowed, group, e);
	if (rc != SU_OK)
		return rc;
	for (size_t i = 0; i < POL_NFILTERS; i++) {
		if (pol_fdescs[i].file != file)
			continue;
		fo = json_object_get(g, pol_fdescs[i].name);
		if (fo == NULL)
			continue;
		rc = pol_filter_parse(fo, &pol_fdescs[i], p, e);
		if (rc != SU_OK)
			return rc;
	}
	return SU_OK;
}

/* pol_controls_parse() parses "session_control": a non-empty array of
 * distinct control names; absent: monitor_only for allow policies,
 * block_activities otherwise. Needs p->action. */
static enum su_rc
pol_controls_parse(json_t *o, struct policy *p, struct pol_err *e)
{
	json_t *a = json_object_get(o, "session_control"), *v;
	char field[64];
	size_t i;
	unsigned bit;

	if (a == NULL) {
		p->session_control = p->action == POLICY_ACTION_ALLOW ? POLICY_CTL_MONITOR_ONLY
								      : POLICY_CTL_BLOCK_ACTIVITIES;
		return SU_OK;
	}
	if (!json_is_array(a) || json_array_size(a) == 0)
		return pol_fail(e, "session_control", "must be a non-empty array of control types");
	if (json_array_size(a) > 4)
		return pol_fail(e, "session_control", "has more than 4 entries");
	json_array_foreach(a, i, v) {
		snprintf(field, sizeof(field), "session_control[%zu]", i);
		bit = json_is_string(v) ? pol_bit_find(pol_controls,
							sizeof(pol_controls) / sizeof(pol_controls[0]),
							json_string_value(v))
					: 0;
		if (bit == 0)
			return pol_fail(e, field, "must be monitor_only, block_activities, "
					"control_file_download or control_file_upload");
		if (p->session_control & bit)
			return pol_fail(e, field, "is listed twice");
		p->session_control |= bit;
	}
	if ((p->session_control & POLICY_CTL_MONITOR_ONLY) &&
	    p->session_control != POLICY_CTL_MONITOR_ONLY)
		return pol_fail(e, "session_control", "monitor_only cannot be combined with other "
				"control types");
	if ((p->session_control & POLICY_CTL_MONITOR_ONLY) && p->action != POLICY_ACTION_ALLOW)
		return pol_fail(e, "session_control", "monitor_only policies only record matches: "
				"their action must be allow");
	return SU_OK;
}

/* pol_action_parse() parses "action": {"type", "context"}. */
static enum su_rc
pol_action_parse(json_t *o, const struct cfg *cfg, struct policy *p, struct pol_err *e)
{
	static const char *const members[] = { "type", "context", NULL };
	json_t *a = json_object_get(o, "action"), *t, *c;
	const char *ts;
	char clip[80];
	enum su_rc rc;

	if (a == NULL)
		return pol_fail(e, "action", "is required");
	if (!json_is_object(a))
		return pol_fail(e, "action", "must be an object {\"type\": ..., \"context\": ...}");
	rc = pol_members_check(a, members, "action", e);
	if (rc != SU_OK)
		return rc;
	t = json_object_get(a, "type");
	if (t == NULL)
		return pol_fail(e, "action.type", "is required");
	ts = json_is_string(t) ? json_string_value(t) : "";
	if (strcmp(ts, "allow") == 0)
		p->action = POLICY_ACTION_ALLOW;
	else if (strcmp(ts, "block") == 0)
		p->action = POLICY_ACTION_BLOCK;
	else if (strcmp(ts, "step_up") == 0)
		p->action = POLICY_ACTION_STEP_UP;
	else
		return pol_fail(e, "action.type", "must be \"allow\", \"block\" or \"step_up\"");
	c = json_object_get(a, "context");
	if (p->action != POLICY_ACTION_STEP_UP) {
		if (c != NULL)
			return pol_fail(e, "action.context", "is only allowed with type step_up");
		return SU_OK;
	}
	if (c == NULL)
		return pol_fail(e, "action.context", "is required for step_up");
	if (!json_is_string(c) || strlen(json_string_value(c)) != json_string_length(c) ||
	    !pol_context_name_ok(json_string_value(c)))
		return pol_fail(e, "action.context", "must be a context name");
	if (cfg != NULL && cfg_context_find(cfg, json_string_value(c)) == NULL) {
		pol_clip(clip, sizeof(clip), json_string_value(c));
		return pol_fail(e, "action.context", "no [context \"%s\"] in the configuration", clip);
	}
	p->context = pol_strdup(json_string_value(c));
	return p->context != NULL ? SU_OK : SU_ENOMEM;
}

/* pol_alerts_parse() parses "alerts" (absent: disabled). */
static enum su_rc
pol_alerts_parse(json_t *o, struct policy *p, struct pol_err *e)
{
	static const char *const members[] = { "enabled", "daily_limit", "webhook", "email", NULL };
	json_t *a = json_object_get(o, "alerts"), *lim, *em, *v;
	struct policy_alerts *al = &p->alerts;
	char field[64];
	json_int_t l;
	size_t i, n;
	enum su_rc rc;

	al->daily_limit = POL_DAILY_LIMIT_DEFAULT;
	if (a == NULL)
		return SU_OK;
	if (!json_is_object(a))
		return pol_fail(e, "alerts", "must be an object");
	rc = pol_members_check(a, members, "alerts", e);
	if (rc != SU_OK)
		return rc;
	if (json_object_get(a, "enabled") == NULL)
		return pol_fail(e, "alerts.enabled", "is required");
	rc = pol_get_bool(a, "enabled", false, &al->enabled, "alerts", e);
	if (rc == SU_OK)
		rc = pol_get_bool(a, "webhook", false, &al->webhook, "alerts", e);
	if (rc != SU_OK)
		return rc;
	lim = json_object_get(a, "daily_limit");
	if (lim != NULL) {
		if (!json_is_integer(lim))
			return pol_fail(e, "alerts.daily_limit", "must be an integer");
		l = json_integer_value(lim);
		if (l < 1 || l > POLICY_DAILY_LIMIT_MAX)
			return pol_fail(e, "alerts.daily_limit", "must be 1 to %d",
					POLICY_DAILY_LIMIT_MAX);
		al->daily_limit = (unsigned)l;
	}
	em = json_object_get(a, "email");
	if (em == NULL)
		return SU_OK;
	if (!json_is_array(em))
		return pol_fail(e, "alerts.email", "must be an array of addresses");
	n = json_array_size(em);
	if (n == 0)
		return pol_fail(e, "alerts.email", "must not be empty (leave it out for no e-mail)");
	if (n > POLICY_LIST_MAX)
		return pol_fail(e, "alerts.email", "has %zu entries; at most %d are allowed", n,
				POLICY_LIST_MAX);
	al->email = calloc(n, sizeof(*al->email));
	if (al->email == NULL)
		return SU_ENOMEM;
	json_array_foreach(em, i, v) {
		snprintf(field, sizeof(field), "alerts.email[%zu]", i);
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
		    !pol_email_ok(json_string_value(v)))
			return pol_fail(e, field, "must be an e-mail address (user@domain)");
		al->email[i] = pol_strdup(json_string_value(v));
		if (al->email[i] == NULL)
			return SU_ENOMEM;
		al->n_email = i + 1;
	}
	return SU_OK;
}

/* pol_parse_obj() parses one policy object o into *out (caller frees);
 * on failure *out is NULL and e says why. */
static enum su_rc
pol_parse_obj(json_t *o, const struct cfg *cfg, struct policy **out, struct pol_err *e)
{
	static const char *const members[] = {
		"name", "description", "severity", "category", "enabled", "session_control",
		"activity_filters", "file_filters", "action", "alerts", NULL,
	};
	struct policy *p = NULL;
	char *sev = NULL;
	enum su_rc rc = SU_EINVAL;
	size_t nl;

	*out = NULL;
	if (!json_is_object(o)) {
		rc = pol_fail(e, "policy", "must be a JSON object");
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rc = SU_ENOMEM;
		goto out;
	}
	rc = pol_members_check(o, members, "", e);
	if (rc != SU_OK)
		goto out;
	rc = pol_get_str(o, "name", true, NULL, 1, POLICY_NAME_MAX, false, &p->name, e);
	if (rc != SU_OK)
		goto out;
	nl = strlen(p->name);
	if (p->name[0] == ' ' || p->name[nl - 1] == ' ') {
		rc = pol_fail(e, "name", "must not begin or end with a space");
		goto out;
	}
	rc = pol_get_str(o, "description", false, "", 0, POLICY_DESC_MAX, true, &p->description, e);
	if (rc != SU_OK)
		goto out;
	rc = pol_get_str(o, "category", false, "", 0, POL_CATEGORY_MAX, false, &p->category, e);
	if (rc != SU_OK)
		goto out;
	rc = pol_get_str(o, "severity", true, NULL, 1, 16, false, &sev, e);
	if (rc != SU_OK)
		goto out;
	if (strcmp(sev, "low") == 0) {
		p->severity = POLICY_SEV_LOW;
	} else if (strcmp(sev, "medium") == 0) {
		p->severity = POLICY_SEV_MEDIUM;
	} else if (strcmp(sev, "high") == 0) {
		p->severity = POLICY_SEV_HIGH;
	} else {
		rc = pol_fail(e, "severity", "must be \"low\", \"medium\" or \"high\"");
		goto out;
	}
	rc = pol_get_bool(o, "enabled", true, &p->enabled, "", e);
	if (rc != SU_OK)
		goto out;
	rc = pol_action_parse(o, cfg, p, e);
	if (rc != SU_OK)
		goto out;
	rc = pol_controls_parse(o, p, e);
	if (rc != SU_OK)
		goto out;
	rc = pol_filters_parse(o, false, p, e);
	if (rc != SU_OK)
		goto out;
	rc = pol_filters_parse(o, true, p, e);
	if (rc != SU_OK)
		goto out;
	rc = pol_alerts_parse(o, p, e);
	if (rc != SU_OK)
		goto out;
	*out = p;
	p = NULL;
	rc = SU_OK;
out:
	if (rc == SU_ENOMEM)
		pol_fail(e, "policy", "out of memory");
	free(sev);
	policy_free(p);
	return rc;
}

/* policy_free(): frees p and everything it owns; NULL is fine. */
void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->description);
	free(p->category);
	for (size_t i = 0; i < POL_NFILTERS; i++) {
		struct policy_filter *f = pol_filter_get(p, &pol_fdescs[i]);

		pol_strs_free(f->values, f->n);
	}
	free(p->cidrs);
	free(p->context);
	pol_strs_free(p->alerts.email, p->alerts.n_email);
	free(p);
}

/* policy_set_new(): see policy.h. */
enum su_rc
policy_set_new(struct policy_set **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? SU_OK : SU_ENOMEM;
}

/* policy_set_find_name() returns the index of the policy named name (ASCII
 * case-insensitively) in s, or -1. */
static long
policy_set_find_name(const struct policy_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (pol_ci_eq(s->v[i]->name, name))
			return (long)i;
	return -1;
}

/* policy_set_append(): see policy.h. The array grows one slot at a time
 * up to POLICY_MAX; sets are small and built once. */
enum su_rc
policy_set_append(struct policy_set *s, struct policy *p)
{
	struct policy **nv;

	if (s == NULL || p == NULL || p->name == NULL || s->n >= POLICY_MAX ||
	    policy_set_find_name(s, p->name) >= 0)
		return SU_EINVAL;
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return SU_ENOMEM;
	s->v = nv;
	s->v[s->n++] = p;
	return SU_OK;
}

/* policy_set_free(): frees s and its policies; NULL is fine. */
void
policy_set_free(struct policy_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		policy_free(s->v[i]);
	free(s->v);
	free(s);
}

/* pol_err_line() appends one error line for policy index i (0-based;
 * printed from 1) named by the (untrusted) JSON element o. */
static void
pol_err_line(struct buf *b, size_t i, json_t *o, const struct pol_err *e)
{
	json_t *n = json_is_object(o) ? json_object_get(o, "name") : NULL;
	char clip[80];

	if (json_is_string(n)) {
		pol_clip(clip, sizeof(clip), json_string_value(n));
		buf_printf(b, "policy %zu (\"%s\"): %s: %s\n", i + 1, clip, e->field, e->msg);
	} else {
		buf_printf(b, "policy %zu: %s: %s\n", i + 1, e->field, e->msg);
	}
}

/* policy_set_parse(): see policy.h. */
enum su_rc
policy_set_parse(const char *json, size_t len, const struct cfg *cfg, struct policy_set **out,
		 char **errs)
{
	static const char *const members[] = { "policies", NULL };
	struct policy_set *set = NULL;
	struct policy *p = NULL;
	json_t *root = NULL, *arr, *o;
	json_error_t jerr;
	struct pol_err e;
	struct buf eb;
	size_t i, nerr = 0;
	long dup;
	char clip[80];
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	if (errs != NULL)
		*errs = NULL;
	buf_init(&eb, POL_ERRS_BYTES);
	memset(&e, 0, sizeof(e));
	if (json == NULL) {
		buf_puts(&eb, "no input\n");
		goto out;
	}
	if (len > POLICY_JSON_MAX) {
		buf_printf(&eb, "the file is larger than %u bytes\n", POLICY_JSON_MAX);
		rc = SU_ETOOBIG;
		goto out;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		pol_clip(clip, sizeof(clip), jerr.text);
		buf_printf(&eb, "line %d, column %d: not valid JSON: %s\n", jerr.line, jerr.column,
			   clip);
		goto out;
	}
	if (!json_is_object(root)) {
		buf_puts(&eb, "the file must be a JSON object {\"policies\": [...]}\n");
		goto out;
	}
	if (pol_members_check(root, members, "file", &e) != SU_OK) {
		buf_printf(&eb, "%s: %s\n", e.field, e.msg);
		goto out;
	}
	arr = json_object_get(root, "policies");
	if (!json_is_array(arr)) {
		buf_puts(&eb, "policies: is required and must be an array\n");
		goto out;
	}
	if (json_array_size(arr) > POLICY_MAX) {
		buf_printf(&eb, "policies: %zu policies; at most %d are allowed\n", json_array_size(arr),
			   POLICY_MAX);
		goto out;
	}
	rc = policy_set_new(&set);
	if (rc != SU_OK)
		goto out;
	json_array_foreach(arr, i, o) {
		memset(&e, 0, sizeof(e));
		rc = pol_parse_obj(o, cfg, &p, &e);
		if (rc == SU_ENOMEM)
			goto out;
		if (rc == SU_OK) {
			dup = policy_set_find_name(set, p->name);
			if (dup >= 0) {
				rc = pol_fail(&e, "name", "duplicates the name of a policy before it "
					      "(names are compared ignoring ASCII case)");
			} else {
				rc = policy_set_append(set, p);
				if (rc == SU_ENOMEM)
					goto out;
				if (rc == SU_OK)
					p = NULL;
				else
					pol_fail(&e, "policy", "cannot be added");
			}
		}
		policy_free(p);
		p = NULL;
		if (rc != SU_OK) {
			if (nerr < POL_ERRS_MAX)
				pol_err_line(&eb, i, o, &e);
			nerr++;
		}
	}
	if (nerr > POL_ERRS_MAX)
		buf_printf(&eb, "... and %zu more errors\n", nerr - POL_ERRS_MAX);
	if (nerr > 0) {
		rc = SU_EINVAL;
		goto out;
	}
	*out = set;
	set = NULL;
	rc = SU_OK;
out:
	if (rc == SU_ENOMEM)
		buf_puts(&eb, "out of memory\n");
	if (rc != SU_OK && errs != NULL)
		*errs = buf_steal(&eb);
	buf_cleanup(&eb);
	policy_free(p);
	policy_set_free(set);
	json_decref(root);
	return rc;
}

/* policy_parse_one(): see policy.h. */
enum su_rc
policy_parse_one(const char *json, size_t len, const struct cfg *cfg, struct policy **out,
		 char **err)
{
	json_t *root = NULL;
	json_error_t jerr;
	struct pol_err e;
	struct buf eb;
	char clip[80];
	enum su_rc rc = SU_EINVAL;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	buf_init(&eb, 1024);
	memset(&e, 0, sizeof(e));
	if (json == NULL || len > POLICY_JSON_MAX) {
		buf_puts(&eb, "no input or too large");
		goto out;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		pol_clip(clip, sizeof(clip), jerr.text);
		buf_printf(&eb, "not valid JSON: %s", clip);
		goto out;
	}
	rc = pol_parse_obj(root, cfg, out, &e);
	if (rc != SU_OK)
		buf_printf(&eb, "%s: %s", e.field, e.msg);
out:
	if (rc != SU_OK && err != NULL)
		*err = buf_steal(&eb);
	buf_cleanup(&eb);
	json_decref(root);
	return rc;
}

/* pol_jset() sets o[key] = v (stealing v); clears *ok on any failure. */
static void
pol_jset(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*ok = false;
}

/* pol_jstrs() makes a JSON array of n strings (NULL on failure). */
static json_t *
pol_jstrs(char *const *v, size_t n)
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* pol_bits_json() makes a JSON array of the names of the bits set in
 * mask, in table order. */
static json_t *
pol_bits_json(const struct pol_bitname *t, size_t n, unsigned mask)
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((mask & t[i].bit) && json_array_append_new(a, json_string(t[i].name)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* pol_to_jobj() builds the JSON object of p (NULL on ENOMEM). Member order
 * is fixed, so the text is stable. */
static json_t *
pol_to_jobj(const struct policy *p)
{
	json_t *o = json_object(), *af = json_object(), *ff = json_object(), *act = json_object();
	json_t *al = json_object(), *fo;
	bool ok = o != NULL && af != NULL && ff != NULL && act != NULL && al != NULL;

	if (!ok)
		goto fail;
	pol_jset(o, "name", json_string(p->name), &ok);
	pol_jset(o, "description", json_string(p->description ? p->description : ""), &ok);
	pol_jset(o, "severity", json_string(policy_severity_str(p->severity)), &ok);
	pol_jset(o, "category", json_string(p->category ? p->category : ""), &ok);
	pol_jset(o, "enabled", json_boolean(p->enabled), &ok);
	pol_jset(o, "session_control",
		 pol_bits_json(pol_controls, sizeof(pol_controls) / sizeof(pol_controls[0]),
			       p->session_control), &ok);
	for (size_t i = 0; i < POL_NFILTERS; i++) {
		const struct pol_fdesc *d = &pol_fdescs[i];
		const struct policy_filter *f = pol_filter_cget(p, d);
		bool in = f->op == POLICY_OP_IN;

		if (!f->present)
			continue;
		fo = json_object();
		if (fo == NULL) {
			ok = false;
			break;
		}
		if (d->kind == PK_DEVICE)
			pol_jset(fo, "op", json_string(in ? "equals" : "not_equals"), &ok);
		else
			pol_jset(fo, "op", json_string(in ? "in" : "not_in"), &ok);
		pol_jset(fo, "values", pol_jstrs(f->values, f->n), &ok);
		if (d->kind == PK_PATH)
			pol_jset(fo, "ignore_case", json_boolean(p->url_path_ignore_case), &ok);
		pol_jset(d->file ? ff : af, d->name, fo, &ok);
	}
	pol_jset(o, "activity_filters", af, &ok);
	af = NULL;
	pol_jset(o, "file_filters", ff, &ok);
	ff = NULL;
	pol_jset(act, "type", json_string(policy_action_str(p->action)), &ok);
	if (p->action == POLICY_ACTION_STEP_UP)
		pol_jset(act, "context", json_string(p->context ? p->context : ""), &ok);
	pol_jset(o, "action", act, &ok);
	act = NULL;
	pol_jset(al, "enabled", json_boolean(p->alerts.enabled), &ok);
	pol_jset(al, "daily_limit", json_integer((json_int_t)p->alerts.daily_limit), &ok);
	pol_jset(al, "webhook", json_boolean(p->alerts.webhook), &ok);
	if (p->alerts.n_email > 0)
		pol_jset(al, "email", pol_jstrs(p->alerts.email, p->alerts.n_email), &ok);
	pol_jset(o, "alerts", al, &ok);
	al = NULL;
	if (ok)
		return o;
fail:
	json_decref(o);
	json_decref(af);
	json_decref(ff);
	json_decref(act);
	json_decref(al);
	return NULL;
}

/* policy_to_json(): see policy.h. */
enum su_rc
policy_to_json(const struct policy *p, char **out)
{
	json_t *o;

	*out = NULL;
	if (p == NULL)
		return SU_EINVAL;
	o = pol_to_jobj(p);
	if (o == NULL)
		return SU_ENOMEM;
	*out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return *out != NULL ? SU_OK : SU_ENOMEM;
}

/* policy_set_to_json(): see policy.h. */
enum su_rc
policy_set_to_json(const struct policy_set *s, char **out)
{
	json_t *root = json_object(), *arr = json_array();
	char *text = NULL;
	size_t n;
	bool ok = root != NULL && arr != NULL;
	enum su_rc rc = SU_ENOMEM;

	*out = NULL;
	if (s == NULL) {
		rc = SU_EINVAL;
		goto out;
	}
	for (size_t i = 0; ok && i < s->n; i++)
		if (json_array_append_new(arr, pol_to_jobj(s->v[i])) != 0)
			ok = false;
	if (!ok)
		goto out;
	pol_jset(root, "policies", arr, &ok);
	arr = NULL;
	if (!ok)
		goto out;
	text = json_dumps(root, JSON_INDENT(2));
	if (text == NULL)
		goto out;
	n = strlen(text);
	*out = malloc(n + 2);
	if (*out == NULL)
		goto out;
	memcpy(*out, text, n);
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	rc = SU_OK;
out:
	free(text);
	json_decref(arr);
	json_decref(root);
	return rc;
}

/* One element of a compiled glob. */
enum pol_gtok { PG_LIT, PG_ONE, PG_STAR, PG_DSTAR };

/* pol_glob_close() adds the states reachable without input from st (k
 * tokens): past a star (which may match nothing), and past a final '/'
 * followed by `**` (which may match nothing at all, slash included). Forward edges only,
 * so one ascending pass suffices. */
static void
pol_glob_close(bool *st, const enum pol_gtok *tk, const unsigned char *lit, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		if (!st[i])
			continue;
		if (tk[i] == PG_STAR || tk[i] == PG_DSTAR)
			st[i + 1] = true;
		if (tk[i] == PG_LIT && lit[i] == '/' && i + 2 == k && tk[i + 1] == PG_DSTAR)
			st[k] = true;
	}
}

/* policy_glob_match(): see policy.h. A small NFA over the compiled
 * pattern: one bool per pattern position, advanced once per text byte. */
bool
policy_glob_match(const char *pattern, const char *text, bool ignore_case)
{
	enum pol_gtok tk[POLICY_VALUE_MAX];
	unsigned char lit[POLICY_VALUE_MAX];
	bool cur[POLICY_VALUE_MAX + 1], nxt[POLICY_VALUE_MAX + 1];
	size_t k = 0, plen;
	bool any;

	if (pattern == NULL || text == NULL)
		return false;
	plen = strnlen(pattern, POLICY_VALUE_MAX + 1);
	if (plen > POLICY_VALUE_MAX)
		return false;
	for (size_t i = 0; i < plen; i++) {
		if (pattern[i] == '*') {
			if (i + 1 < plen && pattern[i + 1] == '*') {
				while (i + 1 < plen && pattern[i + 1] == '*')
					i++;
				tk[k] = PG_DSTAR;
			} else {
				tk[k] = PG_STAR;
			}
		} else if (pattern[i] == '?') {
			tk[k] = PG_ONE;
		} else {
			tk[k] = PG_LIT;
			lit[k] = ignore_case ? pol_lower((unsigned char)pattern[i])
					     : (unsigned char)pattern[i];
		}
		k++;
	}
	memset(cur, 0, sizeof(cur));
	cur[0] = true;
	pol_glob_close(cur, tk, lit, k);
	for (const char *t = text; *t != '\0'; t++) {
		unsigned char c = ignore_case ? pol_lower((unsigned char)*t) : (unsigned char)*t;

		memset(nxt, 0, (k + 1) * sizeof(nxt[0]));
		any = false;
		for (size_t i = 0; i < k; i++) {
			if (!cur[i])
				continue;
			switch (tk[i]) {
			case PG_LIT:
				if (c == lit[i])
					nxt[i + 1] = any = true;
				break;
			case PG_ONE:
				if (c != '/')
					nxt[i + 1] = any = true;
				break;
			case PG_STAR:
				if (c != '/')
					nxt[i] = any = true;
				break;
			case PG_DSTAR:
				nxt[i] = any = true;
				break;
			}
		}
		if (!any)
			return false;
		pol_glob_close(nxt, tk, lit, k);
		memcpy(cur, nxt, (k + 1) * sizeof(cur[0]));
	}
	return cur[k];
}

/* pol_basename() returns the part of a file name after its last '/' or
 * '\\' (proxies may pass a path). */
static const char *
pol_basename(const char *s)
{
	const char *b = s;

	for (const char *p = s; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

/* policy_file_extension(): see policy.h. */
bool
policy_file_extension(const char *file_name, char *out, size_t outsz)
{
	const char *base, *dot = NULL;
	size_t len;

	if (file_name == NULL || out == NULL || outsz == 0)
		return false;
	base = pol_basename(file_name);
	len = strlen(base);
	while (len > 0 && (base[len - 1] == '.' || base[len - 1] == ' '))
		len--;
	for (size_t i = 0; i < len; i++)
		if (base[i] == '.')
			dot = base + i;
	if (dot == NULL || dot == base)
		return false;
	len -= (size_t)(dot + 1 - base);
	if (len == 0 || len + 1 > outsz)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)pol_lower((unsigned char)dot[1 + i]);
	out[len] = '\0';
	return true;
}

/* pol_value_hit() says whether the request value s matches filter value v
 * of a filter of kind d (p gives the url_path case flag). */
static bool
pol_value_hit(const struct pol_fdesc *d, const struct policy *p, const char *v, const char *s)
{
	switch (d->kind) {
	case PK_TEXT:
		return strcmp(v, s) == 0;
	case PK_TEXT_CI:
	case PK_ACTIVITY:
	case PK_EXT:
		return pol_ci_eq(v, s);
	case PK_PATH:
		return policy_glob_match(v, s, p->url_path_ignore_case);
	case PK_FILEGLOB:
		return policy_glob_match(v, s, true);
	case PK_DEVICE:
	case PK_CIDR:
		break;
	}
	return false;
}

/* pol_filter_match() evaluates one present filter on the request; see the
 * absent-attribute rule in policy.h. */
static bool
pol_filter_match(const struct policy *p, const struct pol_fdesc *d, const struct policy_filter *f,
		 const struct policy_request *r)
{
	char ext[POL_EXT_MAX + 1];
	const char *s = NULL;
	bool known, hit = false;

	switch (d->kind) {
	case PK_DEVICE:
		known = r->device_known;
		hit = known && (r->device_tags & p->device_mask) != 0;
		break;
	case PK_CIDR:
		known = r->addr_known;
		for (size_t i = 0; known && !hit && i < f->n; i++)
			hit = cfg_cidr_match(&p->cidrs[i], (const struct sockaddr *)&r->addr);
		break;
	default:
		if (d->off == offsetof(struct policy, groups)) {
			known = r->groups_known;
			for (size_t g = 0; known && !hit && g < r->n_groups; g++)
				for (size_t i = 0; !hit && r->groups[g] != NULL && i < f->n; i++)
					hit = pol_value_hit(d, p, f->values[i], r->groups[g]);
			break;
		}
		if (d->off == offsetof(struct policy, apps))
			s = r->app;
		else if (d->off == offsetof(struct policy, users))
			s = r->user;
		else if (d->off == offsetof(struct policy, activities))
			s = r->activity;
		else if (d->off == offsetof(struct policy, url_path))
			s = r->path;
		else if (d->off == offsetof(struct policy, labels))
			s = r->file_label;
		else if (d->off == offsetof(struct policy, file_name))
			s = r->file_name != NULL ? pol_basename(r->file_name) : NULL;
		else if (d->off == offsetof(struct policy, file_extension))
			s = policy_file_extension(r->file_name, ext, sizeof(ext)) ? ext : NULL;
		known = s != NULL;
		for (size_t i = 0; known && !hit && i < f->n; i++)
			hit = pol_value_hit(d, p, f->values[i], s);
		break;
	}
	if (!known)
		return p->action != POLICY_ACTION_ALLOW && f->op == POLICY_OP_NOT_IN;
	return f->op == POLICY_OP_IN ? hit : !hit;
}

/* pol_scope_match() applies the session control scope: a policy with only
 * file-control types applies to the activities they control, like an
 * implicit `activities in [download / upload]` filter (same absent rule). */
static bool
pol_scope_match(const struct policy *p, const struct policy_request *r)
{
	unsigned c = p->session_control;

	if (c & (POLICY_CTL_MONITOR_ONLY | POLICY_CTL_BLOCK_ACTIVITIES))
		return true;
	if (r->activity == NULL)
		return false;
	return ((c & POLICY_CTL_CONTROL_FILE_DOWNLOAD) && pol_ci_eq(r->activity, "download")) ||
	       ((c & POLICY_CTL_CONTROL_FILE_UPLOAD) && pol_ci_eq(r->activity, "upload"));
}

/* pol_matches() says whether enabled policy p matches request r. */
static bool
pol_matches(const struct policy *p, const struct policy_request *r)
{
	if (!pol_scope_match(p, r))
		return false;
	for (size_t i = 0; i < POL_NFILTERS; i++) {
		const struct policy_filter *f = pol_filter_cget(p, &pol_fdescs[i]);

		if (f->present && !pol_filter_match(p, &pol_fdescs[i], f, r))
			return false;
	}
	return true;
}

/* pol_beats() says whether candidate a wins over the current winner b:
 * more restrictive action, then higher severity; equal: b (earlier) stays. */
static bool
pol_beats(const struct policy *a, const struct policy *b)
{
	if (b == NULL)
		return true;
	if (a->action != b->action)
		return a->action > b->action;
	return a->severity > b->severity;
}

/* policy_evaluate(): see policy.h. */
enum su_rc
policy_evaluate(const struct policy_set *set, const struct policy_request *req,
		struct policy_decision *out)
{
	const struct policy *w = NULL;

	if (out == NULL)
		return SU_EINVAL;
	memset(out, 0, sizeof(*out));
	if (set == NULL || req == NULL)
		return SU_EINVAL;
	for (size_t i = 0; i < set->n; i++) {
		const struct policy *p = set->v[i];

		if (!p->enabled || !pol_matches(p, req))
			continue;
		if (out->matched == NULL) {
			out->matched = calloc(set->n, sizeof(*out->matched));
			if (out->matched == NULL)
				return SU_ENOMEM;
		}
		out->matched[out->n_matched++] = p;
		if (pol_beats(p, w))
			w = p;
	}
	if (w != NULL) {
		out->winner = w;
		out->action = w->action;
		out->context = w->action == POLICY_ACTION_STEP_UP ? w->context : NULL;
	}
	return SU_OK;
}

/* policy_decision_cleanup(): frees the matched list; d can be reused. */
void
policy_decision_cleanup(struct policy_decision *d)
{
	if (d == NULL)
		return;
	free(d->matched);
	memset(d, 0, sizeof(*d));
}

/* policy_action_str(): "allow", "step_up", "block" ("none" for NONE). */
const char *
policy_action_str(enum policy_action a)
{
	switch (a) {
	case POLICY_ACTION_ALLOW:
		return "allow";
	case POLICY_ACTION_STEP_UP:
		return "step_up";
	case POLICY_ACTION_BLOCK:
		return "block";
	case POLICY_ACTION_NONE:
		break;
	}
	return "none";
}

/* policy_severity_str(): "low", "medium", "high". */
const char *
policy_severity_str(enum policy_severity s)
{
	switch (s) {
	case POLICY_SEV_LOW:
		return "low";
	case POLICY_SEV_MEDIUM:
		return "medium";
	case POLICY_SEV_HIGH:
		return "high";
	}
	return "medium";
}
