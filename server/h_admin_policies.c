/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * h_admin_policies.c: the console's policy pages (SPEC 2.4, 2.5; docs/
 * admin.md "Pages"): the list (order, severity, action, status, matches in
 * the last day and week), the create and edit form with every field of the
 * seed's session policy form, enable/disable, and delete with a
 * confirmation page.
 *
 * What it does: turns the form into the policy file's JSON object and
 * validates it with policy_parse_one(), the same code `stepupd policy
 * import` runs (contexts checked against the running configuration), so
 * the console can store nothing the import would refuse. A refused form is
 * shown again with the admin's input (escaped) and the error next to its
 * field. Stores through store_policy_create/update/enable/delete, whose
 * version bump makes every running /check reload within a second. Every
 * change is audited with the admin's name.
 *
 * What it does not do: decide requests, check the admin session or CSRF
 * token (route_dispatch() does, from the route flags), or reorder policies
 * (the order matters only for ties; imports set it).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "handlers.h"
#include "http.h"
#include "policy.h"
#include "store.h"
#include "store_admin_views.h"
#include "store_policy.h"
#include "tmpl.h"

#define PF_FIELD_MAX (64 * 1024)  /* a form field (the body is at most 64 KiB) */
#define PF_PAGE_MAX (4 * 1024 * 1024)
#define POL_PER_PAGE 100          /* policies per page of the list */

/* The list filters of the form: form field, JSON group, JSON name. */
static const struct {
	const char *key, *group;
} pf_lists[] = {
	{ "apps", "activity_filters" },   { "users", "activity_filters" },
	{ "groups", "activity_filters" }, { "ip_ranges", "activity_filters" },
	{ "activities", "activity_filters" }, { "url_path", "activity_filters" },
	{ "labels", "file_filters" },     { "file_name", "file_filters" },
	{ "file_extension", "file_filters" },
};
#define PF_NLISTS (sizeof(pf_lists) / sizeof(pf_lists[0]))

static const char *const pf_ctl_names[4] = {
	"monitor_only", "block_activities", "control_file_download", "control_file_upload",
};
static const unsigned pf_ctl_bits[4] = {
	POLICY_CTL_MONITOR_ONLY, POLICY_CTL_BLOCK_ACTIVITIES, POLICY_CTL_CONTROL_FILE_DOWNLOAD,
	POLICY_CTL_CONTROL_FILE_UPLOAD,
};
static const char *const pf_tag_names[3] = { "compliant", "hybrid_joined", "valid_client_cert" };
static const unsigned pf_tag_bits[3] = {
	POLICY_TAG_COMPLIANT, POLICY_TAG_HYBRID_JOINED, POLICY_TAG_VALID_CLIENT_CERT,
};

/* The fields an error can be shown next to (err_<key> in the template). */
static const char *const pf_err_keys[] = {
	"name", "description", "severity", "category", "session_control", "device_tags",
	"apps", "users", "groups", "ip_ranges", "activities", "url_path", "labels", "file_name",
	"file_extension", "action", "context", "daily_limit", "email", "alerts",
};
#define PF_NERR (sizeof(pf_err_keys) / sizeof(pf_err_keys[0]))

/* The form's values, as text (owned), whether read from a POST or from a
 * stored policy; and the errors to show. */
struct pf {
	int64_t id;                       /* 0: a new policy */
	char *name, *description, *severity, *category;
	bool enabled;
	bool sc[4];
	char *dev_op;
	bool tags[3];
	char *op[PF_NLISTS], *list[PF_NLISTS];
	bool ignore_case;
	char *action, *context;
	bool alerts_enabled, alerts_webhook;
	char *daily_limit, *email;
	char *err[PF_NERR];
	char *summary;                    /* the error above the form, or NULL */
};

/* pf_cleanup() frees every string of f. */
static void
pf_cleanup(struct pf *f)
{
	char **s[] = { &f->name, &f->description, &f->severity, &f->category, &f->dev_op,
		       &f->action, &f->context, &f->daily_limit, &f->email, &f->summary };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
	for (size_t i = 0; i < PF_NLISTS; i++) {
		free(f->op[i]);
		free(f->list[i]);
	}
	for (size_t i = 0; i < PF_NERR; i++)
		free(f->err[i]);
	memset(f, 0, sizeof(*f));
}

/* pf_dup() copies s without '\r' (browsers send textarea lines as CRLF). */
static char *
pf_dup(const char *s)
{
	size_t n = strlen(s ? s : ""), j = 0;
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r')
			d[j++] = s[i];
	d[j] = '\0';
	return d;
}

/* pf_err_set() records msg for field key (the first error of a field
 * wins); an unknown key only goes to the summary. */
static void
pf_err_set(struct pf *f, const char *key, const char *msg)
{
	for (size_t i = 0; i < PF_NERR; i++) {
		if (strcmp(pf_err_keys[i], key) == 0) {
			if (f->err[i] == NULL)
				f->err[i] = strdup(msg);
			break;
		}
	}
	if (f->summary == NULL)
		f->summary = strdup("The policy was not saved: correct the fields marked below.");
}

/* pf_has_errors() says whether any error was recorded. */
static bool
pf_has_errors(const struct pf *f)
{
	return f->summary != NULL;
}

/* ---- from a stored policy, from a POST ---- */

/* pf_join() joins n strings with '\n' into a malloc'd string. */
static char *
pf_join(char *const *v, size_t n)
{
	struct buf b;

	buf_init(&b, POLICY_LIST_MAX * (POLICY_VALUE_MAX + 1) + 1);
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && buf_puts(&b, "\n") != SU_OK) || buf_puts(&b, v[i]) != SU_OK)
			break;
	return buf_steal(&b);
}

/* pf_filter_of() returns the policy's filter for list i. */
static const struct policy_filter *
pf_filter_of(const struct policy *p, size_t i)
{
	const struct policy_filter *f[PF_NLISTS] = {
		&p->apps, &p->users, &p->groups, &p->ip_ranges, &p->activities, &p->url_path,
		&p->labels, &p->file_name, &p->file_extension,
	};

	return f[i];
}

/* pf_from_policy() fills f from a stored (or new default) policy. */
static bool
pf_from_policy(struct pf *f, const struct policy *p)
{
	char lim[16];
	bool ok;

	memset(f, 0, sizeof(*f));
	f->id = p->id;
	f->name = strdup(p->name ? p->name : "");
	f->description = strdup(p->description ? p->description : "");
	f->category = strdup(p->category ? p->category : "");
	f->severity = strdup(policy_severity_str(p->severity));
	f->enabled = p->enabled;
	for (size_t i = 0; i < 4; i++)
		f->sc[i] = (p->session_control & pf_ctl_bits[i]) != 0;
	f->dev_op = strdup(p->device_tags.present && p->device_tags.op == POLICY_OP_NOT_IN
				   ? "not_equals"
				   : "equals");
	for (size_t i = 0; i < 3; i++)
		f->tags[i] = p->device_tags.present && (p->device_mask & pf_tag_bits[i]) != 0;
	ok = f->name && f->description && f->category && f->severity && f->dev_op;
	for (size_t i = 0; i < PF_NLISTS && ok; i++) {
		const struct policy_filter *pf = pf_filter_of(p, i);

		f->op[i] = strdup(pf->present && pf->op == POLICY_OP_NOT_IN ? "not_in" : "in");
		f->list[i] = pf->present ? pf_join(pf->values, pf->n) : strdup("");
		ok = f->op[i] != NULL && f->list[i] != NULL;
	}
	f->ignore_case = p->url_path_ignore_case;
	f->action = strdup(policy_action_str(p->action));
	f->context = strdup(p->context ? p->context : "");
	f->alerts_enabled = p->alerts.enabled;
	f->alerts_webhook = p->alerts.webhook;
	snprintf(lim, sizeof(lim), "%u", p->alerts.daily_limit ? p->alerts.daily_limit : 100);
	f->daily_limit = strdup(lim);
	f->email = pf_join(p->alerts.email, p->alerts.n_email);
	return ok && f->action && f->context && f->daily_limit && f->email;
}

/* pf_new_defaults() fills f for an empty "new policy" form: the seed's
 * shape (step-up, file download control, high severity), enabled. */
static bool
pf_new_defaults(struct req *r, struct pf *f)
{
	const struct cfg *c = r->app->cfg;
	bool ok = true;

	memset(f, 0, sizeof(*f));
	f->name = strdup("");
	f->description = strdup("");
	f->category = strdup("");
	f->severity = strdup("medium");
	f->enabled = true;
	f->sc[2] = true;
	f->dev_op = strdup("not_equals");
	for (size_t i = 0; i < PF_NLISTS; i++) {
		f->op[i] = strdup("in");
		f->list[i] = strdup("");
		ok = ok && f->op[i] && f->list[i];
	}
	f->action = strdup("step_up");
	f->context = strdup(c->n_contexts > 0 ? c->contexts[0].name : "");
	f->daily_limit = strdup("100");
	f->email = strdup("");
	return ok && f->name && f->description && f->category && f->severity && f->dev_op &&
	       f->action && f->context && f->daily_limit && f->email;
}

/* pf_read_str() reads form field name into *out (absent: ""); false when
 * the form is broken (answered). */
static bool
pf_read_str(struct req *r, const char *name, char **out)
{
	const char *v;

	if (!h_av_form(r, name, PF_FIELD_MAX, &v))
		return false;
	*out = pf_dup(v);
	if (*out == NULL) {
		h_admin_error(r, 500, "Out of memory.");
		return false;
	}
	return true;
}

/* pf_read_bool() reads a checkbox (present and non-empty: ticked). */
static bool
pf_read_bool(struct req *r, const char *name, bool *out)
{
	const char *v;

	if (!h_av_form(r, name, 16, &v))
		return false;
	*out = v[0] != '\0';
	return true;
}

/* pf_from_form() reads every field of the posted form into f. False when
 * the body is broken (already answered 400). */
static bool
pf_from_form(struct req *r, struct pf *f)
{
	char key[64];

	memset(f, 0, sizeof(*f));
	if (!pf_read_str(r, "name", &f->name) || !pf_read_str(r, "description", &f->description) ||
	    !pf_read_str(r, "severity", &f->severity) ||
	    !pf_read_str(r, "category", &f->category) || !pf_read_bool(r, "enabled", &f->enabled) ||
	    !pf_read_str(r, "device_tags_op", &f->dev_op) ||
	    !pf_read_bool(r, "url_path_ignore_case", &f->ignore_case) ||
	    !pf_read_str(r, "action", &f->action) || !pf_read_str(r, "context", &f->context) ||
	    !pf_read_bool(r, "alerts_enabled", &f->alerts_enabled) ||
	    !pf_read_bool(r, "alerts_webhook", &f->alerts_webhook) ||
	    !pf_read_str(r, "daily_limit", &f->daily_limit) ||
	    !pf_read_str(r, "alerts_email", &f->email))
		return false;
	for (size_t i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "sc_%s", pf_ctl_names[i]);
		if (!pf_read_bool(r, key, &f->sc[i]))
			return false;
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "tag_%s", pf_tag_names[i]);
		if (!pf_read_bool(r, key, &f->tags[i]))
			return false;
	}
	for (size_t i = 0; i < PF_NLISTS; i++) {
		snprintf(key, sizeof(key), "%s_op", pf_lists[i].key);
		if (!pf_read_str(r, key, &f->op[i]) || !pf_read_str(r, pf_lists[i].key, &f->list[i]))
			return false;
	}
	return true;
}

/* ---- the form as the policy file's JSON ---- */

/* pf_jstr() makes a JSON string of s, or records "not UTF-8" on errkey. */
static json_t *
pf_jstr(struct pf *f, const char *s, const char *errkey)
{
	json_t *j = json_string(s);

	if (j == NULL)
		pf_err_set(f, errkey, "is not valid UTF-8 text");
	return j;
}

/* pf_lines() turns a one-value-per-line text into a JSON array of the
 * trimmed, non-empty lines (strip_dot: drop one leading '.', for
 * extensions). NULL with an error recorded on errkey when a line is not
 * UTF-8; an empty array when there is no value. */
static json_t *
pf_lines(struct pf *f, const char *text, const char *errkey, bool strip_dot)
{
	json_t *a = json_array();
	const char *p = text;

	while (a != NULL && p != NULL && *p != '\0') {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;
		char *line;
		json_t *j;

		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (strip_dot && n > 1 && *s == '.') {
			s++;
			n--;
		}
		p = e ? e + 1 : NULL;
		if (n == 0)
			continue;
		line = strndup(s, n);
		j = line ? pf_jstr(f, line, errkey) : NULL;
		free(line);
		if (j == NULL || json_array_append_new(a, j) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* pf_set() sets o[key] = v; v is consumed whatever happens (set, or
 * released when o is NULL or the set fails). False on failure. */
static bool
pf_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return false;
	if (o == NULL) {
		json_decref(v);
		return false;
	}
	return json_object_set_new(o, key, v) == 0;
}

/* pf_filters() adds the device and list filters to act / file. */
static bool
pf_filters(struct pf *f, json_t *act, json_t *file)
{
	json_t *tags = json_array();
	bool ok = tags != NULL;

	for (size_t i = 0; i < 3 && ok; i++)
		if (f->tags[i])
			ok = json_array_append_new(tags, json_string(pf_tag_names[i])) == 0;
	if (ok && json_array_size(tags) > 0) {
		json_t *o = json_object();

		ok = pf_set(o, "values", json_incref(tags)) &&
		     pf_set(o, "op", pf_jstr(f, f->dev_op, "device_tags"));
		if (ok)
			ok = pf_set(act, "device_tags", o);
		else
			json_decref(o);
	}
	json_decref(tags);
	for (size_t i = 0; i < PF_NLISTS && ok; i++) {
		const char *key = pf_lists[i].key;
		json_t *vals = pf_lines(f, f->list[i], key, strcmp(key, "file_extension") == 0);
		json_t *o;

		if (vals == NULL)
			return false;
		if (json_array_size(vals) == 0) {
			json_decref(vals);
			continue;
		}
		o = json_object();
		ok = pf_set(o, "values", vals) &&
		     pf_set(o, "op", pf_jstr(f, f->op[i][0] ? f->op[i] : "in", key));
		if (ok && strcmp(key, "url_path") == 0 && f->ignore_case)
			ok = pf_set(o, "ignore_case", json_true());
		if (ok)
			ok = pf_set(strcmp(pf_lists[i].group, "file_filters") == 0 ? file : act, key, o);
		else
			json_decref(o);
	}
	return ok;
}

/* pf_to_json() builds the policy object for policy_parse_one() into *out
 * (malloc'd). False when a field cannot be expressed (error recorded on
 * f) or on ENOMEM (summary set). */
static bool
pf_to_json(struct pf *f, char **out)
{
	json_t *o = json_object(), *act = json_object(), *file = json_object();
	json_t *ctl = json_array(), *action = json_object(), *alerts = json_object(), *email;
	int64_t lim = 0;
	bool ok;

	*out = NULL;
	ok = o && act && file && ctl && action && alerts;
	ok = ok && pf_set(o, "name", pf_jstr(f, f->name, "name")) &&
	     pf_set(o, "description", pf_jstr(f, f->description, "description")) &&
	     pf_set(o, "severity", pf_jstr(f, f->severity, "severity")) &&
	     pf_set(o, "category", pf_jstr(f, f->category, "category")) &&
	     pf_set(o, "enabled", json_boolean(f->enabled));
	for (size_t i = 0; i < 4 && ok; i++)
		if (f->sc[i])
			ok = json_array_append_new(ctl, json_string(pf_ctl_names[i])) == 0;
	if (ok && json_array_size(ctl) > 0)
		ok = pf_set(o, "session_control", json_incref(ctl));
	ok = ok && pf_filters(f, act, file);
	if (ok && json_object_size(act) > 0)
		ok = pf_set(o, "activity_filters", json_incref(act));
	if (ok && json_object_size(file) > 0)
		ok = pf_set(o, "file_filters", json_incref(file));
	/* the action: a context only with step_up (the parser refuses one elsewhere) */
	ok = ok && pf_set(action, "type", pf_jstr(f, f->action, "action"));
	if (ok && strcmp(f->action, "step_up") == 0 && f->context[0] != '\0')
		ok = pf_set(action, "context", pf_jstr(f, f->context, "context"));
	ok = ok && pf_set(o, "action", json_incref(action));
	/* alerts */
	ok = ok && pf_set(alerts, "enabled", json_boolean(f->alerts_enabled)) &&
	     pf_set(alerts, "webhook", json_boolean(f->alerts_webhook));
	if (ok && f->daily_limit[0] != '\0') {
		if (!h_av_int(f->daily_limit, 0, 1000000000, &lim)) {
			pf_err_set(f, "daily_limit", "must be a whole number from 1 to 10000");
			ok = false;
		} else {
			ok = pf_set(alerts, "daily_limit", json_integer((json_int_t)lim));
		}
	}
	if (ok) {
		email = pf_lines(f, f->email, "email", false);
		ok = email != NULL;
		if (ok && json_array_size(email) > 0)
			ok = pf_set(alerts, "email", email);
		else
			json_decref(email);
	}
	ok = ok && pf_set(o, "alerts", json_incref(alerts));
	if (ok) {
		*out = json_dumps(o, JSON_COMPACT);
		ok = *out != NULL;
	}
	if (!ok && !pf_has_errors(f))
		f->summary = strdup("The policy could not be built from the form (out of memory).");
	json_decref(o);
	json_decref(act);
	json_decref(file);
	json_decref(ctl);
	json_decref(action);
	json_decref(alerts);
	return ok;
}

/* pf_parse_error() files the parser's "FIELD: message" under its form
 * field: "activity_filters.ip_ranges.values[1]: ..." goes to ip_ranges as
 * "line 2: ...". */
static void
pf_parse_error(struct pf *f, const char *err)
{
	const char *sep = err ? strstr(err, ": ") : NULL;
	const char *field = err, *msg = sep ? sep + 2 : (err ? err : "refused");
	char key[64] = "", text[600];
	size_t klen;
	const char *idx;

	if (sep == NULL) {
		pf_err_set(f, "", msg);
		free(f->summary);
		snprintf(text, sizeof(text), "The policy was not saved: %s", msg);
		f->summary = strdup(text);
		return;
	}
	if (strncmp(field, "activity_filters.", 17) == 0)
		field += 17;
	else if (strncmp(field, "file_filters.", 13) == 0)
		field += 13;
	if (strncmp(field, "action.context", 14) == 0)
		snprintf(key, sizeof(key), "context");
	else if (strncmp(field, "alerts.daily_limit", 18) == 0)
		snprintf(key, sizeof(key), "daily_limit");
	else if (strncmp(field, "alerts.email", 12) == 0)
		snprintf(key, sizeof(key), "email");
	else {
		klen = strcspn(field, ".[:");
		snprintf(key, sizeof(key), "%.*s", (int)(klen < sizeof(key) ? klen : 0), field);
	}
	idx = strchr(field, '[');
	if (idx != NULL && idx < sep) {
		int64_t i = 0;
		char num[24];
		size_t nl = strcspn(idx + 1, "]");

		snprintf(num, sizeof(num), "%.*s", (int)(nl < sizeof(num) ? nl : 0), idx + 1);
		if (h_av_int(num, 0, 100000, &i) && strncmp(field, "session_control", 15) != 0)
			snprintf(text, sizeof(text), "Line %lld: %s", (long long)i + 1, msg);
		else
			snprintf(text, sizeof(text), "%s", msg);
	} else {
		snprintf(text, sizeof(text), "%s", msg);
	}
	pf_err_set(f, key, text);
	{
		bool known = false;

		for (size_t i = 0; i < PF_NERR; i++)
			known = known || strcmp(pf_err_keys[i], key) == 0;
		if (!known) {
			free(f->summary);
			snprintf(text, sizeof(text), "The policy was not saved: %.*s: %s",
				 (int)(sep - err), err, msg);
			f->summary = strdup(text);
		}
	}
}

/* ---- rendering ---- */

/* pf_context_options() renders the context choices: every configured
 * context (with its provider), and the form's value when it is not
 * configured (so an edit shows what is stored, and saving it explains). */
static enum su_rc
pf_context_options(struct req *r, struct buf *out, const char *cur)
{
	const struct cfg *c = r->app->cfg;
	bool known = false;
	enum su_rc rc = SU_OK;
	char label[600];

	for (size_t i = 0; rc == SU_OK && i < c->n_contexts; i++) {
		bool sel = strcmp(cur, c->contexts[i].name) == 0;

		known = known || sel;
		snprintf(label, sizeof(label), "%s (provider %s)", c->contexts[i].name,
			 c->contexts[i].provider_name ? c->contexts[i].provider_name : "?");
		rc = h_av_option(out, c->contexts[i].name, label, sel);
	}
	if (rc == SU_OK && !known && cur[0] != '\0') {
		snprintf(label, sizeof(label), "%.256s (not configured)", cur);
		rc = h_av_option(out, cur, label, true);
	}
	if (rc == SU_OK && c->n_contexts == 0 && cur[0] == '\0')
		rc = h_av_option(out, "", "no context is configured", true);
	return rc;
}

/* pf_render() answers the form page with f's values and errors. */
static void
pf_render(struct req *r, int status, struct pf *f)
{
	struct buf errs[PF_NERR], summary, ctx, extra, idbuf;
	struct tmpl_var v[96];
	char keys[PF_NERR][32], opkeys[PF_NLISTS][2][40], idtext[24];
	size_t n = 0;
	bool edit = f->id > 0;
	enum su_rc rc = SU_OK;

	buf_init(&summary, 4096);
	buf_init(&ctx, 64 * 1024);
	buf_init(&extra, 4096);
	buf_init(&idbuf, 256);
	for (size_t i = 0; i < PF_NERR; i++) {
		buf_init(&errs[i], 4096);
		if (f->err[i] != NULL && rc == SU_OK) {
			const struct tmpl_var ev[] = { { "msg", f->err[i] } };

			rc = tmpl_render("admin_field_error", ev, 1, &errs[i]);
		}
		snprintf(keys[i], sizeof(keys[i]), "err_%s", pf_err_keys[i]);
		v[n++] = (struct tmpl_var){ keys[i], buf_cstr(&errs[i]) };
	}
	if (rc == SU_OK && f->summary != NULL) {
		const struct tmpl_var nv[] = { { "kind", "bad" }, { "text", f->summary } };

		rc = tmpl_render("admin_notice", nv, 2, &summary);
	}
	if (rc == SU_OK)
		rc = pf_context_options(r, &ctx, f->context);
	snprintf(idtext, sizeof(idtext), "%lld", (long long)f->id);
	if (rc == SU_OK && edit) {
		rc = buf_printf(&idbuf, "/admin/report?id=%lld", (long long)f->id);
		if (rc == SU_OK)
			rc = h_av_link(&extra, buf_cstr(&idbuf), "button-link secondary", "Report");
		buf_reset(&idbuf);
		if (rc == SU_OK)
			rc = buf_printf(&idbuf, "/admin/policies/delete?id=%lld", (long long)f->id);
		if (rc == SU_OK)
			rc = h_av_link(&extra, buf_cstr(&idbuf), "button-link danger push-right",
				       "Delete…");
	}
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The form could not be rendered.");
		goto out;
	}
	v[n++] = (struct tmpl_var){ "errors", buf_cstr(&summary) };
	v[n++] = (struct tmpl_var){ "heading", edit ? "Edit policy" : "New policy" };
	v[n++] = (struct tmpl_var){ "form_action", edit ? "/admin/policies/edit" : "/admin/policies/new" };
	v[n++] = (struct tmpl_var){ "id", edit ? idtext : "" };
	v[n++] = (struct tmpl_var){ "submit", edit ? "Save policy" : "Create policy" };
	v[n++] = (struct tmpl_var){ "extra_links", buf_cstr(&extra) };
	v[n++] = (struct tmpl_var){ "name", f->name };
	v[n++] = (struct tmpl_var){ "description", f->description };
	v[n++] = (struct tmpl_var){ "category", f->category };
	v[n++] = (struct tmpl_var){ "sev_low", strcmp(f->severity, "low") == 0 ? "selected" : "" };
	v[n++] = (struct tmpl_var){ "sev_medium", strcmp(f->severity, "medium") == 0 ? "selected" : "" };
	v[n++] = (struct tmpl_var){ "sev_high", strcmp(f->severity, "high") == 0 ? "selected" : "" };
	v[n++] = (struct tmpl_var){ "enabled", f->enabled ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "sc_monitor_only", f->sc[0] ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "sc_block_activities", f->sc[1] ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "sc_control_file_download", f->sc[2] ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "sc_control_file_upload", f->sc[3] ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "device_tags_eq", strcmp(f->dev_op, "not_equals") != 0 ? "selected" : "" };
	v[n++] = (struct tmpl_var){ "device_tags_ne", strcmp(f->dev_op, "not_equals") == 0 ? "selected" : "" };
	v[n++] = (struct tmpl_var){ "tag_compliant", f->tags[0] ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "tag_hybrid_joined", f->tags[1] ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "tag_valid_client_cert", f->tags[2] ? "checked" : "" };
	for (size_t i = 0; i < PF_NLISTS; i++) {
		bool not_in = strcmp(f->op[i], "not_in") == 0;

		snprintf(opkeys[i][0], sizeof(opkeys[i][0]), "%s_in", pf_lists[i].key);
		snprintf(opkeys[i][1], sizeof(opkeys[i][1]), "%s_not_in", pf_lists[i].key);
		v[n++] = (struct tmpl_var){ opkeys[i][0], not_in ? "" : "selected" };
		v[n++] = (struct tmpl_var){ opkeys[i][1], not_in ? "selected" : "" };
		v[n++] = (struct tmpl_var){ pf_lists[i].key, f->list[i] };
	}
	v[n++] = (struct tmpl_var){ "url_path_ignore_case", f->ignore_case ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "act_allow", strcmp(f->action, "allow") == 0 ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "act_block", strcmp(f->action, "block") == 0 ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "act_step_up", strcmp(f->action, "step_up") == 0 ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "context_options", buf_cstr(&ctx) };
	v[n++] = (struct tmpl_var){ "alerts_enabled", f->alerts_enabled ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "alerts_webhook", f->alerts_webhook ? "checked" : "" };
	v[n++] = (struct tmpl_var){ "daily_limit", f->daily_limit };
	v[n++] = (struct tmpl_var){ "alerts_email", f->email };
	h_admin_page(r, status, edit ? "Edit policy" : "New policy", "admin_policy_form", v, n);
out:
	for (size_t i = 0; i < PF_NERR; i++)
		buf_cleanup(&errs[i]);
	buf_cleanup(&summary);
	buf_cleanup(&ctx);
	buf_cleanup(&extra);
	buf_cleanup(&idbuf);
}

/* ---- the list ---- */

/* pol_controls_text() writes the policy's control types as words. */
static void
pol_controls_text(const struct policy *p, char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < 4; i++) {
		if (!(p->session_control & pf_ctl_bits[i]))
			continue;
		len += (size_t)snprintf(out + len, len < outsz ? outsz - len : 0, "%s%s",
					len ? ", " : "", h_av_words(pf_ctl_names[i]));
		if (len >= outsz)
			break;
	}
}

/* pol_row() renders one line of the policy list. */
static enum su_rc
pol_row(struct req *r, struct buf *out, const struct policy *p, size_t pos,
	const struct store_admin_policy_stat *st)
{
	struct buf sev, act, status;
	char id[24], posw[24], day[24], week[24], last[H_AV_TIME_LEN], controls[160];
	const char *a = policy_action_str(p->action);
	enum su_rc rc;

	buf_init(&sev, 1024);
	buf_init(&act, 1024);
	buf_init(&status, 1024);
	snprintf(id, sizeof(id), "%lld", (long long)p->id);
	snprintf(posw, sizeof(posw), "%zu", pos);
	snprintf(day, sizeof(day), "%lld", st ? (long long)st->day : 0LL);
	snprintf(week, sizeof(week), "%lld", st ? (long long)st->week : 0LL);
	if (st != NULL && st->last_ts > 0)
		h_av_rel(r->now, st->last_ts, last);
	else
		snprintf(last, sizeof(last), "none this week");
	pol_controls_text(p, controls, sizeof(controls));
	rc = h_av_badge(&sev, h_av_outcome_kind(policy_severity_str(p->severity)),
			policy_severity_str(p->severity));
	if (rc == SU_OK)
		rc = h_av_badge(&act, h_av_outcome_kind(a), h_av_words(a));
	if (rc == SU_OK)
		rc = h_av_badge(&status, p->enabled ? "ok" : "muted", p->enabled ? "enabled" : "disabled");
	if (rc == SU_OK) {
		const struct tmpl_var v[] = {
			{ "pos", posw }, { "id", id }, { "name", p->name }, { "category", p->category },
			{ "severity", buf_cstr(&sev) }, { "action", buf_cstr(&act) },
			{ "context", p->context ? p->context : "" }, { "controls", controls },
			{ "status", buf_cstr(&status) }, { "day", day }, { "week", week },
			{ "last", last }, { "csrf", r->csrf },
			{ "toggle_to", p->enabled ? "0" : "1" },
			{ "toggle_label", p->enabled ? "Disable" : "Enable" },
		};

		rc = tmpl_render("admin_policies_row", v, sizeof(v) / sizeof(v[0]), out);
	}
	buf_cleanup(&sev);
	buf_cleanup(&act);
	buf_cleanup(&status);
	return rc;
}

/* h_admin_policies(): GET /admin/policies. */
void
h_admin_policies(struct req *r)
{
	const struct cfg *c = r->app->cfg;
	struct policy_set *set = NULL;
	struct store_admin_policy_stat *st = NULL;
	size_t n_st = 0, enabled = 0, first, shown = 0;
	int64_t page = 1;
	struct buf rows, notice, pager;
	char summary[128], dflt[300];
	enum su_rc rc;

	buf_init(&rows, PF_PAGE_MAX);
	buf_init(&notice, 4096);
	buf_init(&pager, 16 * 1024);
	if (!h_av_page(r, &page))
		goto out;
	rc = store_policy_export(r->store, &set, NULL);
	if (rc == SU_OK)
		rc = store_admin_views_policy_stats(r->store, r->now, &st, &n_st);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The policies could not be read.");
		goto out;
	}
	first = (size_t)(page - 1) * POL_PER_PAGE;
	for (size_t i = first; rc == SU_OK && i < set->n && i < first + POL_PER_PAGE; i++) {
		const struct store_admin_policy_stat *ps = NULL;

		for (size_t k = 0; k < n_st; k++)
			if (st[k].policy_id == set->v[i]->id)
				ps = &st[k];
		rc = pol_row(r, &rows, set->v[i], i + 1, ps);
		shown++;
	}
	for (size_t i = 0; i < set->n; i++)
		enabled += set->v[i]->enabled ? 1 : 0;
	if (rc == SU_OK)
		rc = h_av_pager(&pager, "/admin/policies?", page, POL_PER_PAGE, shown,
				(int64_t)set->n);
	if (rc == SU_OK && set->n == 0)
		rc = h_av_empty_row(&rows, "10", "No policy yet: create one, or import a file with "
						 "`stepupd policy import`.");
	else if (rc == SU_OK && shown == 0)
		rc = h_av_empty_row(&rows, "10", "No more policies: go back to the first page.");
	if (rc == SU_OK)
		rc = h_av_notice(r, &notice);
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The page could not be rendered.");
		goto out;
	}
	snprintf(summary, sizeof(summary), "%zu polic%s, %zu enabled.", set->n,
		 set->n == 1 ? "y" : "ies", enabled);
	if (c->policy_default == CFG_DEFAULT_STEP_UP)
		snprintf(dflt, sizeof(dflt), "step-up to %.256s",
			 c->policy_default_context ? c->policy_default_context : "?");
	else
		snprintf(dflt, sizeof(dflt), "%s",
			 c->policy_default == CFG_DEFAULT_BLOCK ? "block" : "allow");
	{
		const struct tmpl_var v[] = {
			{ "notice", buf_cstr(&notice) }, { "summary", summary },
			{ "rows", buf_cstr(&rows) }, { "default", dflt },
			{ "pager", buf_cstr(&pager) },
		};

		h_admin_page(r, 200, "Policies", "admin_policies", v, sizeof(v) / sizeof(v[0]));
	}
out:
	policy_set_free(set);
	free(st);
	buf_cleanup(&rows);
	buf_cleanup(&notice);
	buf_cleanup(&pager);
}

/* ---- create, edit ---- */

/* pol_query_id() reads ?id= (a positive policy id); false answered 400. */
static bool
pol_query_id(struct req *r, int64_t *id)
{
	const char *v;

	if (!h_av_query(r, "id", 20, &v))
		return false;
	if (!h_av_int(v, 1, INT64_MAX / 2, id)) {
		h_admin_error(r, 400, "Name the policy by its id (a positive number).");
		return false;
	}
	return true;
}

/* pol_form_id() reads the form's id field (a positive policy id). */
static bool
pol_form_id(struct req *r, int64_t *id)
{
	const char *v;

	if (!h_av_form(r, "id", 20, &v))
		return false;
	if (!h_av_int(v, 1, INT64_MAX / 2, id)) {
		h_admin_error(r, 400, "Name the policy by its id (a positive number).");
		return false;
	}
	return true;
}

/* pol_audit() records a policy change by the signed-in admin. */
static void
pol_audit(struct req *r, const char *event, int64_t id, const char *name, const char *what)
{
	char detail[512];

	snprintf(detail, sizeof(detail), "policy \"%.128s\" (id %lld) %s", name ? name : "?",
		 (long long)id, what);
	store_audit(r->store, r->now, event, NULL, r->admin_user, NULL, NULL, "ok", detail);
}

/* pol_name_taken() says whether another policy (id != self) has name
 * (ASCII case-insensitively), to explain a refused store write. */
static bool
pol_name_taken(struct req *r, const char *name, int64_t self)
{
	struct policy_set *set = NULL;
	bool taken = false;

	if (store_policy_export(r->store, &set, NULL) != SU_OK)
		return false;
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i]->id != self && strcasecmp(set->v[i]->name, name) == 0)
			taken = true;
	policy_set_free(set);
	return taken;
}

/* h_admin_policy_new(): GET /admin/policies/new. */
void
h_admin_policy_new(struct req *r)
{
	struct pf f;

	if (!pf_new_defaults(r, &f)) {
		h_admin_error(r, 500, "Out of memory.");
	} else {
		pf_render(r, 200, &f);
	}
	pf_cleanup(&f);
}

/* h_admin_policy_edit(): GET /admin/policies/edit?id=N. */
void
h_admin_policy_edit(struct req *r)
{
	struct policy *p = NULL;
	struct pf f;
	int64_t id;
	enum su_rc rc;

	memset(&f, 0, sizeof(f));
	if (!pol_query_id(r, &id))
		goto out;
	rc = store_policy_get(r->store, id, &p);
	if (rc == SU_ENOTFOUND) {
		h_admin_error(r, 404, "There is no such policy (it may have been deleted).");
		goto out;
	}
	if (rc != SU_OK || !pf_from_policy(&f, p)) {
		h_admin_error(r, 500, "The policy could not be read.");
		goto out;
	}
	f.id = id;
	pf_render(r, 200, &f);
out:
	policy_free(p);
	pf_cleanup(&f);
}

/* pol_save() validates the posted form and creates (id 0) or updates the
 * policy: 303 to the list, or the form again with its errors (400). */
static void
pol_save(struct req *r, int64_t id)
{
	struct policy *p = NULL;
	struct pf f;
	char *json = NULL, *err = NULL;
	int64_t new_id = 0;
	enum su_rc rc;

	if (!pf_from_form(r, &f))
		goto out;
	f.id = id;
	if (!pf_to_json(&f, &json)) {
		pf_render(r, 400, &f);
		goto out;
	}
	rc = policy_parse_one(json, strlen(json), r->app->cfg, &p, &err);
	if (rc != SU_OK) {
		pf_parse_error(&f, err ? err : "the policy is refused");
		pf_render(r, 400, &f);
		goto out;
	}
	rc = id > 0 ? store_policy_update(r->store, id, p, r->now)
		    : store_policy_create(r->store, p, r->now, &new_id);
	if (rc == SU_ENOTFOUND) {
		h_admin_error(r, 404, "There is no such policy (it may have been deleted meanwhile).");
		goto out;
	}
	if (rc == SU_EINVAL) {
		bool taken = pol_name_taken(r, p->name, id);

		if (taken)
			pf_err_set(&f, "name", "Another policy already has this name.");
		free(f.summary);
		f.summary = strdup(taken ? "The policy was not saved: the name is taken."
					 : "The policy was not saved: there are already 1000 policies.");
		pf_render(r, 400, &f);
		goto out;
	}
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The policy could not be stored.");
		goto out;
	}
	pol_audit(r, id > 0 ? "admin_policy_update" : "admin_policy_create", id > 0 ? id : new_id, p->name,
		  id > 0 ? "changed" : "created");
	h_av_redirect(r, id > 0 ? "/admin/policies?done=saved" : "/admin/policies?done=created");
out:
	policy_free(p);
	free(json);
	free(err);
	pf_cleanup(&f);
}

/* h_admin_policy_create(): POST /admin/policies/new. */
void
h_admin_policy_create(struct req *r)
{
	pol_save(r, 0);
}

/* h_admin_policy_update(): POST /admin/policies/edit (id in the form). */
void
h_admin_policy_update(struct req *r)
{
	int64_t id;

	if (pol_form_id(r, &id))
		pol_save(r, id);
}

/* ---- enable/disable, delete ---- */

/* h_admin_policy_enable(): POST /admin/policies/enable (id, enabled=1|0). */
void
h_admin_policy_enable(struct req *r)
{
	struct policy *p = NULL;
	const char *en;
	int64_t id;
	bool on;
	enum su_rc rc;

	if (!pol_form_id(r, &id) || !h_av_form(r, "enabled", 4, &en))
		goto out;
	if (strcmp(en, "1") != 0 && strcmp(en, "0") != 0) {
		h_admin_error(r, 400, "enabled must be 1 or 0.");
		goto out;
	}
	on = en[0] == '1';
	rc = store_policy_get(r->store, id, &p);
	if (rc == SU_OK)
		rc = store_policy_enable(r->store, id, on, r->now);
	if (rc == SU_ENOTFOUND) {
		h_admin_error(r, 404, "There is no such policy.");
		goto out;
	}
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The policy could not be changed.");
		goto out;
	}
	pol_audit(r, on ? "admin_policy_enable" : "admin_policy_disable", id, p->name,
		  on ? "enabled" : "disabled");
	h_av_redirect(r, on ? "/admin/policies?done=enabled" : "/admin/policies?done=disabled");
out:
	policy_free(p);
}

/* h_admin_policy_delete_confirm(): GET /admin/policies/delete?id=N. */
void
h_admin_policy_delete_confirm(struct req *r)
{
	struct policy *p = NULL;
	char id_text[24];
	int64_t id;
	enum su_rc rc;

	if (!pol_query_id(r, &id))
		return;
	rc = store_policy_get(r->store, id, &p);
	if (rc == SU_ENOTFOUND) {
		h_admin_error(r, 404, "There is no such policy.");
		return;
	}
	if (rc != SU_OK) {
		h_admin_error(r, 500, "The policy could not be read.");
		return;
	}
	snprintf(id_text, sizeof(id_text), "%lld", (long long)id);
	{
		const struct tmpl_var v[] = { { "name", p->name }, { "id", id_text } };

		h_admin_page(r, 200, "Delete policy", "admin_policy_delete", v, 2);
	}
	policy_free(p);
}

/* h_admin_policy_delete(): POST /admin/policies/delete (id). */
void
h_admin_policy_delete(struct req *r)
{
	struct policy *p = NULL;
	int64_t id;
	enum su_rc rc;

	if (!pol_form_id(r, &id))
		return;
	rc = store_policy_get(r->store, id, &p);
	if (rc == SU_OK)
		rc = store_policy_delete(r->store, id);
	if (rc == SU_ENOTFOUND) {
		h_admin_error(r, 404, "There is no such policy.");
	} else if (rc != SU_OK) {
		h_admin_error(r, 500, "The policy could not be deleted.");
	} else {
		pol_audit(r, "admin_policy_delete", id, p->name, "deleted");
		h_av_redirect(r, "/admin/policies?done=deleted");
	}
	policy_free(p);
}
