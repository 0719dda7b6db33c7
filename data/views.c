/*
 * views.c: the results of the reads of ops.h (submission_view, stats_view,
 * reviewers_view...), read from JSON and freed.
 *
 * The SQLite store's queries give their rows as JSON trees (queries.c,
 * reviewers.c, integrity.c) and a server gives its answers as JSON: both
 * become a view through these readers, one copy for the two, whose strings
 * live in the view's own arena. Below the reads of ops_read.c and
 * remote_read.c alike, and calling neither.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

static arena *new_arena(void)
{
	arena *a = arena_new();
	if (a == NULL)
		abort();
	return a;
}

static int64_t number(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

const char *json_member(arena *a, const json_t *o, const char *key, size_t *len)
{
	const json_t *v = json_object_get(o, key);
	if (len)
		*len = json_is_string(v) ? json_string_length(v) : 0;
	return json_is_string(v) ? arena_strndup(a, json_string_value(v), json_string_length(v)) :
	    NULL;
}

void findings_view_read(arena *a, const json_t *list, finding_view **out, size_t *n)
{
	*n = json_array_size(list);
	*out = arena_alloc(a, (*n + 1) * sizeof **out);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
		(*out)[i] = (finding_view){
			.policy = json_member(a, o, "policy", NULL), .type = json_member(a, o, "type", NULL),
			.severity = json_member(a, o, "severity", NULL),
			.effect = json_member(a, o, "effect", NULL),
			.message = json_member(a, o, "message", NULL),
			.path = json_member(a, o, "path", NULL),
			.source = json_member(a, o, "source", NULL), .role = json_member(a, o, "role", NULL),
			.detail = json_member(a, o, "detail", NULL),
			.overridable = json_is_true(json_object_get(o, "overridable")),
			.approvals = (int)number(o, "approvals"),
			.max_duration = number(o, "max_duration"),
		};
}

void decisions_view_read(arena *a, const json_t *list, decision_view **out, size_t *n)
{
	*n = json_array_size(list);
	*out = arena_alloc(a, (*n + 1) * sizeof **out);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
		(*out)[i] = (decision_view){
			.reviewer = json_member(a, o, "reviewer", NULL),
			.decision = json_member(a, o, "decision", NULL), .at = json_member(a, o, "at", NULL),
			.note = json_member(a, o, "note", NULL),
			.expires_at = json_member(a, o, "expires_at", NULL),
		};
}

void events_view_read(arena *a, const json_t *list, event_view **out, size_t *n)
{
	*n = json_array_size(list);
	*out = arena_alloc(a, (*n + 1) * sizeof **out);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o) {
		char *details = json_dumps(json_object_get(o, "details"), JSON_COMPACT | JSON_ENCODE_ANY);
		(*out)[i] = (event_view){
			.seq = number(o, "seq"), .ts = json_member(a, o, "ts", NULL),
			.actor = json_member(a, o, "actor", NULL), .event = json_member(a, o, "event", NULL),
			.details = arena_strdup(a, details ? details : ""),
		};
		free(details);
	}
}

void submission_view_free(submission_view *v)
{
	arena_free(v->arena);
	memset(v, 0, sizeof *v);
}

void row_read(arena *a, const json_t *result, sub_row *row)
{
	memset(row, 0, sizeof *row);
	row->id = number(result, "id");
	row->policy_version = (int)number(result, "policy_version");
	const json_t *counts = json_object_get(result, "counts");
	row->counts[0] = (int)number(counts, "info");
	row->counts[1] = (int)number(counts, "warning");
	row->counts[2] = (int)number(counts, "critical");
	row->ref = json_member(a, result, "ref", &row->ref_len);
	row->kind = json_member(a, result, "kind", NULL);
	row->action = json_member(a, result, "action", NULL);
	row->title = json_member(a, result, "title", &row->title_len);
	row->submitter = json_member(a, result, "submitter", &row->submitter_len);
	row->status = json_member(a, result, "status", NULL);
	row->digest = json_member(a, result, "digest", NULL);
	row->created_at = json_member(a, result, "created_at", NULL);
	row->decided_at = json_member(a, result, "decided_at", NULL);
	row->expires_at = json_member(a, result, "expires_at", NULL);
	if (row->created_at == NULL || !parse_time(row->created_at, &row->created_ms))
		row->created_ms = 0;
}

void stats_view_read(const json_t *st, stats_view *v)
{
	arena *a = v->arena = new_arena();
	v->since = json_member(a, st, "since", NULL);
	v->submissions = number(st, "submissions");
	v->decided = number(st, "decided");
	const json_t *by = json_object_get(st, "statuses");
	for (int i = 0; i <= ST_EXPIRED; i++)
		v->statuses[i] = number(by, status_name(i));
	v->override_rate = json_number_value(json_object_get(st, "override_rate"));
	v->rejection_rate = json_number_value(json_object_get(st, "rejection_rate"));
	const json_t *f = json_object_get(st, "findings");
	static const char *const sev[4] = { "total", "critical", "warning", "info" };
	for (int i = 0; i < 4; i++)
		v->findings[i] = number(f, sev[i]);
	const json_t *ps = json_object_get(f, "policies"), *subs = json_object_get(st, "top_submitters");
	v->npolicies = json_array_size(ps);
	v->policies = arena_alloc(a, (v->npolicies + 1) * sizeof *v->policies);
	size_t i;
	json_t *o;
	json_array_foreach(ps, i, o)
		v->policies[i] = (policy_count){ json_member(a, o, "policy", NULL),
			number(o, "critical"), number(o, "warning"), number(o, "info"),
			number(o, "total") };
	v->ntop = json_array_size(subs);
	v->top = arena_alloc(a, (v->ntop + 1) * sizeof *v->top);
	json_array_foreach(subs, i, o) {
		submitter_count *c = &v->top[i];
		c->submitter = json_member(a, o, "submitter", &c->len);
		c->submissions = number(o, "submissions");
	}
}

void stats_view_free(stats_view *v)
{
	arena_free(v->arena);
	memset(v, 0, sizeof *v);
}

void reviewers_view_read(const json_t *list, reviewers_view *v)
{
	arena *a = v->arena = new_arena();
	v->n = json_array_size(list);
	v->items = arena_alloc(a, (v->n + 1) * sizeof *v->items);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
		v->items[i] = (reviewer_view){
			.name = json_member(a, o, "name", NULL), .role = json_member(a, o, "role", NULL),
			.enrolled = json_member(a, o, "enrolled", NULL),
			.last_used = json_member(a, o, "last_used", NULL),
			.locked_until = json_member(a, o, "locked_until", NULL),
			.disabled = json_is_true(json_object_get(o, "disabled")),
			.login = json_member(a, o, "login", NULL),
			.uid = json_is_integer(json_object_get(o, "uid")) ? (long)number(o, "uid") : -1,
			.token = json_is_true(json_object_get(o, "token")),
		};
}

void reviewers_view_free(reviewers_view *v)
{
	arena_free(v->arena);
	memset(v, 0, sizeof *v);
}

void versions_view_read(const json_t *list, versions_view *v)
{
	arena *a = v->arena = new_arena();
	v->n = json_array_size(list);
	v->items = arena_alloc(a, (v->n + 1) * sizeof *v->items);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
		v->items[i] = (version_view){
			.version = (int)number(o, "version"), .files = (int)number(o, "files"),
			.created_at = json_member(a, o, "created_at", NULL),
			.actor = json_member(a, o, "actor", NULL),
			.justification = json_member(a, o, "justification", NULL),
		};
}

void agents_view_read(const json_t *list, agents_view *v)
{
	arena *a = v->arena = new_arena();
	v->n = json_array_size(list);
	v->items = arena_alloc(a, (v->n + 1) * sizeof *v->items);
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
		v->items[i] = (agent_view){
			.name = json_member(a, o, "name", NULL), .login = json_member(a, o, "login", NULL),
			.uid = json_is_integer(json_object_get(o, "uid")) ? (long)number(o, "uid") : -1,
			.token = json_is_true(json_object_get(o, "token")),
			.rate = (int)number(o, "rate"),
			.created = json_member(a, o, "created", NULL),
			.actor = json_member(a, o, "by", NULL),
			.revoked = json_member(a, o, "revoked", NULL),
		};
}

void versions_view_free(versions_view *v)
{
	arena_free(v->arena);
	memset(v, 0, sizeof *v);
}

void audit_events_free(audit_events *v)
{
	arena_free(v->arena);
	memset(v, 0, sizeof *v);
}
