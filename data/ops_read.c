/*
 * ops_read.c: the reads of the operations layer, and the JSON they print.
 *
 * Each read copies what the queries of queries.c, reviewers.c, integrity.c
 * and audit_page.c return into a result of plain C types whose strings live
 * in the result's own arena, so that a front end needs neither SQLite nor a
 * JSON library, and a result outlives the statement that read it. The JSON
 * writers rebuild the texts the front ends printed when they walked the
 * trees themselves, with the same keys, order and flags: scripts and tests
 * depend on those bytes. A read opens no transaction: SQLite's snapshot per
 * statement is what the front ends always had.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

/* A store failure of a read: nothing to roll back. */
static outcome failed(store *s, op_reply *r)
{
	int code = sqlite3_errcode(s->db) & 0xff;
	return op_say(r, code == SQLITE_BUSY || code == SQLITE_LOCKED ? OUT_BUSY : OUT_IO_ERROR, "%s",
	    s->err);
}

static arena *new_arena(void)
{
	arena *a = arena_new();
	if (a == NULL)
		abort();
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string_lossy(s, strlen(s)) : json_null();
}

static char *dup_or_null(arena *a, const char *s)
{
	return s ? arena_strdup(a, s) : NULL;
}

/* ---- a submission ---- */

static void copy_row(arena *a, sub_row *to, const sub_row *from)
{
	*to = *from;
	to->stmt = NULL;
	to->ref = from->ref ? arena_strndup(a, from->ref, from->ref_len) : NULL;
	to->title = from->title ? arena_strndup(a, from->title, from->title_len) : NULL;
	to->submitter = from->submitter ? arena_strndup(a, from->submitter, from->submitter_len) :
	    NULL;
	to->kind = dup_or_null(a, from->kind);
	to->action = dup_or_null(a, from->action);
	to->created_at = dup_or_null(a, from->created_at);
	to->decided_at = dup_or_null(a, from->decided_at);
	to->expires_at = dup_or_null(a, from->expires_at);
	to->status = dup_or_null(a, from->status);
	to->digest = dup_or_null(a, from->digest);
	to->document = dup_or_null(a, from->document);
}

/* The result as query_result's tree gives it: for a status other than the
 * one the stored result was written with, and for the test that the fast
 * path writes the same bytes. */
char *submission_result_json_tree(store *s, const sub_row *row)
{
	json_t *j = query_result(s, row);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (j != NULL && text == NULL)
		snprintf(s->err, sizeof s->err, "submission %lld cannot be encoded as JSON",
		    (long long)row->id);
	return text;
}

/* The result written straight from the stored result's text, the times
 * added behind it: the bytes json_dumps gives for query_result's tree (the
 * status the stored result carries is the row's, set in place; the times
 * are new members at the end), without reading the text back into a tree. */
char *submission_result_json(store *s, const sub_row *row)
{
	const char *status = NULL;
	char *text = store_result_json(s, row->id, &status);
	size_t n = text ? strlen(text) : 0;
	if (text == NULL || n == 0 || text[n - 1] != '}' || status == NULL ||
	    row->status == NULL || strcmp(status, row->status) != 0 || row->created_at == NULL) {
		free(text);
		return submission_result_json_tree(s, row);
	}
	strbuf b = { .s = text, .n = n - 1, .cap = n + 1 };
	sb_puts(&b, ",\"created_at\":");
	sb_put_json_string(&b, row->created_at);
	if (row->decided_at) {
		sb_puts(&b, ",\"decided_at\":");
		sb_put_json_string(&b, row->decided_at);
	}
	if (row->expires_at) {
		sb_puts(&b, ",\"expires_at\":");
		sb_put_json_string(&b, row->expires_at);
	}
	sb_puts(&b, "}");
	return b.s;
}

static bool read_parts(store *s, submission_view *v)
{
	arena *a = v->arena;
	char *result = submission_result_json(s, &v->row);
	if (result == NULL)
		return false;
	v->result = arena_strdup(a, result);
	free(result);
	json_t *fs = query_findings(s, v->row.id), *ds = query_decisions(s, v->row.id);
	json_t *es = query_events(s, v->row.id);
	bool ok = fs && ds && es;
	if (ok) {
		findings_view_read(a, fs, &v->findings, &v->nfindings);
		decisions_view_read(a, ds, &v->decisions, &v->ndecisions);
		events_view_read(a, es, &v->events, &v->nevents);
	}
	json_decref(fs);
	json_decref(ds);
	json_decref(es);
	if (ok && strcmp(v->row.status, "blocked") == 0)
		ok = override_progress(s, v->row.id, &v->given, &v->required);
	return ok;
}

outcome op_submission_of(store *s, const char *key, const char *submitter, submission_view *v,
    op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_submission_get(s, key, v, r);
	sub_row row;
	int found = query_get_for(s, key, submitter, &row);
	if (found == -2)
		return op_say(r, OUT_BAD_INPUT, "%s", s->err);
	if (found < 0)
		return failed(s, r);
	if (found == 0)
		return op_say(r, OUT_NOT_FOUND, "no submission %s", key);
	v->arena = new_arena();
	copy_row(v->arena, &v->row, &row);
	query_row_done(&row);
	if (!read_parts(s, v)) {
		submission_view_free(v);
		return failed(s, r);
	}
	strbuf events = { 0 };
	char status[16], why[320], shown[65];
	outcome o = op_evidence(s, v->row.id, &events, status, why, sizeof why, r);
	if (o == OUT_OK && events.n > 0 && v->row.document != NULL && v->row.digest != NULL &&
	    (!document_text_digest(v->row.document, strlen(v->row.document), shown) ||
	    strcmp(shown, v->row.digest) != 0)) {
		/* the document shown beside an allow is the one its digest names,
		 * as a client holding the public key checks it */
		snprintf(why, sizeof why, "the document it shows is not the one of digest %.64s",
		    v->row.digest);
		o = evidence_refusal(r, v->row.id, why);
	}
	if (o == OUT_OK && events.n > 0)
		v->evidence = arena_strndup(v->arena, events.s, events.n);
	else if (o == OUT_TAMPERED)
		v->tampered = arena_strdup(v->arena, why);
	free(events.s);
	if (o != OUT_OK && o != OUT_TAMPERED)
		submission_view_free(v);
	return o;
}

outcome op_submission_get(store *s, const char *key, submission_view *v, op_reply *r)
{
	return op_submission_of(s, key, NULL, v, r);
}

/* show --json's object, and with evidence the API's. */
static char *view_json(const submission_view *v, bool evidence)
{
	/* a title or ref may hold \u0000 */
	json_t *j = json_loads(v->result, JSON_ALLOW_NUL, NULL);
	if (j == NULL)
		return NULL;
	json_t *doc = v->row.document ? json_loads(v->row.document, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, NULL) : NULL;
	json_object_set_new(j, "document", doc ? doc : json_null());
	json_t *ds = json_array();
	for (size_t i = 0; i < v->ndecisions; i++) {
		const decision_view *d = &v->decisions[i];
		json_t *o = json_object();
		json_object_set_new(o, "reviewer", str_or_null(d->reviewer));
		json_object_set_new(o, "decision", str_or_null(d->decision));
		json_object_set_new(o, "note", str_or_null(d->note));
		json_object_set_new(o, "at", str_or_null(d->at));
		json_object_set_new(o, "expires_at", str_or_null(d->expires_at));
		json_array_append_new(ds, o);
	}
	json_object_set_new(j, "decisions", ds);
	json_t *es = json_array();
	for (size_t i = 0; i < v->nevents; i++) {
		const event_view *e = &v->events[i];
		json_t *o = json_object();
		json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
		json_object_set_new(o, "ts", str_or_null(e->ts));
		json_object_set_new(o, "actor", str_or_null(e->actor));
		json_object_set_new(o, "event", str_or_null(e->event));
		json_t *details = json_loads(e->details, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		json_object_set_new(o, "details", details ? details : json_null());
		json_array_append_new(es, o);
	}
	json_object_set_new(j, "events", es);
	if (v->given > 0)
		json_object_set_new(j, "override", json_pack("{s:i,s:i}", "given", v->given,
		    "required", v->required));
	json_t *proof = evidence && v->evidence ? json_loads(v->evidence, JSON_ALLOW_NUL, NULL) : NULL;
	if (proof != NULL)
		json_object_set_new(j, "evidence", proof);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

char *submission_json(const submission_view *v)
{
	return view_json(v, false);
}

char *submission_answer_json(const submission_view *v)
{
	return view_json(v, true);
}

#define EVIDENCE_MEMBER ",\"evidence\":"

void result_add_evidence(strbuf *result, const char *events, size_t len)
{
	size_t end = result->n;
	while (end > 0 && result->s[end - 1] != '}')
		end--;
	if (end == 0)
		return;
	strbuf tail = { 0 };
	sb_put(&tail, result->s + end - 1, result->n - (end - 1));
	result->n = end - 1;
	sb_puts(result, EVIDENCE_MEMBER);
	sb_put(result, events, len);
	sb_put(result, tail.s, tail.n);
	free(tail.s);
}

bool result_strip_evidence(strbuf *result)
{
	size_t end = result->n;
	while (end > 0 && result->s[end - 1] != '}')
		end--;
	const size_t m = sizeof EVIDENCE_MEMBER - 1;
	/* the last member, written by result_add_evidence: its value is the
	 * rest up to the object's end, and a JSON array */
	for (size_t at = end > m ? end - 1 - m : 0; end > m && at > 0; at--) {
		if (memcmp(result->s + at, EVIDENCE_MEMBER, m) != 0)
			continue;
		json_t *array = json_loadb(result->s + at + m, end - 1 - at - m, JSON_ALLOW_NUL, NULL);
		bool is_array = json_is_array(array);
		json_decref(array);
		if (!is_array)
			return false;
		memmove(result->s + at, result->s + end - 1, result->n - (end - 1));
		result->n -= end - 1 - at;
		result->s[result->n] = '\0';
		return true;
	}
	return false;
}

/* ---- listings ---- */

typedef struct listing {
	store *s;
	bool results;
	list_visit visit;
	void *ctx;
	bool failed;
} listing;

static bool list_row(void *ctx, const sub_row *row)
{
	listing *l = ctx;
	char *result = NULL;
	if (l->results && (result = submission_result_json(l->s, row)) == NULL) {
		l->failed = true;
		return false;
	}
	bool more = l->visit(l->ctx, row, result);
	free(result);
	return more;
}

outcome op_list(store *s, const sub_filter *f, bool results, list_visit visit, void *ctx,
    int64_t *next, op_reply *r)
{
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_list(s, f, visit, ctx, next, r);
	listing l = { s, results, visit, ctx, false };
	if (!query_list(s, f, list_row, &l, next) || l.failed)
		return failed(s, r);
	return OUT_OK;
}

/* ---- statistics ---- */

outcome op_stats(store *s, int64_t since_ms, int top, stats_view *v, op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_stats(s, since_ms, top, v, r);
	json_t *st = query_stats(s, since_ms, top);
	if (st == NULL)
		return failed(s, r);
	stats_view_read(st, v);
	json_decref(st);
	return OUT_OK;
}

char *stats_json(const stats_view *v)
{
	json_t *out = json_object();
	json_object_set_new(out, "since", str_or_null(v->since));
	json_t *by = json_object();
	for (int i = 0; i <= ST_EXPIRED; i++)
		json_object_set_new(by, status_name(i), json_integer(v->statuses[i]));
	json_object_set_new(out, "submissions", json_integer(v->submissions));
	json_object_set_new(out, "statuses", by);
	json_object_set_new(out, "decided", json_integer(v->decided));
	json_object_set_new(out, "override_rate", json_real(v->override_rate));
	json_object_set_new(out, "rejection_rate", json_real(v->rejection_rate));
	json_t *ps = json_array();
	for (size_t i = 0; i < v->npolicies; i++) {
		const policy_count *p = &v->policies[i];
		json_array_append_new(ps, json_pack("{s:o,s:I,s:I,s:I,s:I}", "policy",
		    str_or_null(p->policy), "critical", (json_int_t)p->critical, "warning",
		    (json_int_t)p->warning, "info", (json_int_t)p->info, "total", (json_int_t)p->total));
	}
	json_object_set_new(out, "findings", json_pack("{s:I,s:I,s:I,s:I,s:o}", "total",
	    (json_int_t)v->findings[0], "critical", (json_int_t)v->findings[1], "warning",
	    (json_int_t)v->findings[2], "info", (json_int_t)v->findings[3], "policies", ps));
	json_t *subs = json_array();
	for (size_t i = 0; i < v->ntop; i++)
		json_array_append_new(subs, json_pack("{s:o,s:I}", "submitter",
		    json_string_lossy(v->top[i].submitter, v->top[i].len), "submissions",
		    (json_int_t)v->top[i].submissions));
	json_object_set_new(out, "top_submitters", subs);
	char *text = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(out);
	return text;
}

/* ---- reviewers and policy versions ---- */

outcome op_reviewers(store *s, reviewers_view *v, op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_reviewers(s, v, r);
	json_t *list = reviewer_list(s);
	if (list == NULL)
		return failed(s, r);
	reviewers_view_read(list, v);
	json_decref(list);
	return OUT_OK;
}

char *reviewer_json(const reviewer_view *v)
{
	json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:b}", "name", str_or_null(v->name),
	    "role", str_or_null(v->role), "enrolled", str_or_null(v->enrolled), "last_used",
	    str_or_null(v->last_used), "locked_until", str_or_null(v->locked_until), "login",
	    str_or_null(v->login), "uid", v->uid >= 0 ? json_integer(v->uid) : json_null(), "token",
	    v->token, "disabled", v->disabled);
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

outcome op_policy_versions(store *s, versions_view *v, op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_policy_versions(s, v, r);
	json_t *list = integrity_versions(s);
	if (list == NULL)
		return failed(s, r);
	versions_view_read(list, v);
	json_decref(list);
	return OUT_OK;
}

/* ---- the audit log ---- */

typedef struct page {
	audit_events *v;
	size_t cap;
} page;

static bool keep(const audit_event *e, void *ctx)
{
	page *p = ctx;
	audit_events *v = p->v;
	v->items = arena_grow(v->arena, v->items, v->n, &p->cap, sizeof *v->items, 64);
	audit_event *to = &v->items[v->n++];
	*to = *e;
	to->actor = arena_strdup(v->arena, e->actor);
	to->event = arena_strdup(v->arena, e->event);
	to->subject = arena_strdup(v->arena, e->subject);
	to->details = arena_strdup(v->arena, e->details);
	return true;
}

outcome op_audit_page(store *s, const audit_cursor *q, int64_t limit, audit_events *v,
    op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	v->arena = new_arena();
	page p = { v, 0 };
	if (s->remote) {
		audit_filter f;
		audit_cursor_filter(q, limit, &f);
		if (remote_audit_read(s, &f, keep, &p, r) != OUT_OK)
			audit_events_free(v);
		return r->out;
	}
	if (!audit_page(s, q, limit, keep, &p)) {
		audit_events_free(v);
		return failed(s, r);
	}
	return OUT_OK;
}

outcome op_audit_read(store *s, const audit_filter *f, audit_visit visit, void *ctx,
    op_reply *r)
{
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_audit_read(s, f, visit, ctx, r);
	return audit_read(s, f, visit, ctx) ? OUT_OK : failed(s, r);
}

outcome op_chain_head(store *s, int64_t *seq, char hash[65], op_reply *r)
{
	memset(r, 0, sizeof *r);
	hash[0] = '\0';
	if (s->remote)
		return remote_chain_head(s, seq, hash, r);
	if (!audit_last_seq(s, seq))
		return failed(s, r);
	if (*seq > 0 && audit_hash_at(s, *seq, hash) < 0)
		return failed(s, r);
	return OUT_OK;
}
