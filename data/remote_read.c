/*
 * remote_read.c: the reads of ops.h, through a server.
 *
 * Each asks the route that serves the same read (GET /v1/submissions/ID,
 * /v1/submissions, /v1/stats, /v1/reviewers, /v1/status) and reads the
 * answer with the very readers that turn the SQLite store's JSON into views
 * (ops_read.c), so a view is the same whichever store filled it and the JSON
 * writers print the same bytes. Two things the answer does not say directly
 * are rebuilt the way the store reads them: show lists findings critical
 * first (the result keeps them in the order found), and a listing's page is
 * at most 1000 rows, so a longer listing is read page after page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

enum { PAGE_MAX = 1000, WAIT_MAX_S = 300 };

static arena *new_arena(void)
{
	arena *a = arena_new();
	if (a == NULL)
		abort();
	return a;
}

/* GET path; OUT_OK with the answer in a. */
static outcome get(store *s, const strbuf *path, remote_answer *a, op_reply *r)
{
	return remote_call(s, "GET", path->s, NULL, NULL, 0, a, r);
}

/* ---- one submission ---- */

static int severity_rank(const char *severity)
{
	return severity == NULL ? 2 : strcmp(severity, "critical") == 0 ? 0 :
	    strcmp(severity, "warning") == 0 ? 1 : 2;
}

/* Critical first, then warning, then the rest, each in the order found:
 * the order the store's findings table gives show. */
static void sort_findings(finding_view *f, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		finding_view x = f[i];
		size_t j = i;
		for (; j > 0 && severity_rank(f[j - 1].severity) > severity_rank(x.severity); j--)
			f[j] = f[j - 1];
		f[j] = x;
	}
}

static bool view_read(const json_t *j, submission_view *v)
{
	arena *a = v->arena = new_arena();
	row_read(a, j, &v->row);
	const json_t *doc = json_object_get(j, "document");
	if (doc != NULL && !json_is_null(doc)) {
		char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return false;
		v->row.document = arena_strdup(a, text);
		free(text);
	}
	findings_view_read(a, json_object_get(j, "findings"), &v->findings, &v->nfindings);
	sort_findings(v->findings, v->nfindings);
	decisions_view_read(a, json_object_get(j, "decisions"), &v->decisions, &v->ndecisions);
	events_view_read(a, json_object_get(j, "events"), &v->events, &v->nevents);
	const json_t *ov = json_object_get(j, "override");
	v->given = (int)json_integer_value(json_object_get(ov, "given"));
	v->required = (int)json_integer_value(json_object_get(ov, "required"));
	const json_t *evidence = json_object_get(j, "evidence");
	if (json_is_array(evidence)) {
		char *text = json_dumps(evidence, JSON_COMPACT);
		v->evidence = text ? arena_strdup(a, text) : NULL;
		free(text);
	}
	/* the result alone, as list --json prints it: what show and the API add
	 * taken off */
	json_t *result = json_copy((json_t *)j);
	static const char *const added[] = { "document", "decisions", "events", "override",
		"evidence" };
	for (size_t i = 0; i < sizeof added / sizeof added[0]; i++)
		json_object_del(result, added[i]);
	char *text = json_dumps(result, JSON_COMPACT);
	json_decref(result);
	if (text == NULL)
		return false;
	v->result = arena_strdup(a, text);
	free(text);
	return v->row.status != NULL;
}

/* GET /v1/submissions/KEY[?wait=SEC] into v. */
static outcome fetch(store *s, const char *key, size_t len, int64_t wait_s, submission_view *v,
    op_reply *r)
{
	memset(v, 0, sizeof *v);
	strbuf path = { 0 };
	sb_puts(&path, "/v1/submissions/");
	client_path_segment(&path, key, len);
	char w[24];
	snprintf(w, sizeof w, "%lld", (long long)wait_s);
	client_path_query(&path, "wait", wait_s > 0 ? w : NULL);
	remote_answer a;
	outcome o = get(s, &path, &a, r);
	free(path.s);
	const json_t *body = o == OUT_TAMPERED ? json_object_get(a.json, "result") : a.json;
	char why[320];
	if ((o == OUT_OK || (o == OUT_TAMPERED && json_is_object(body))) && !view_read(body, v)) {
		submission_view_free(v);
		snprintf(s->err, sizeof s->err, "server %.200s: the submission it sent cannot be read",
		    store_dir(s));
		o = op_say(r, OUT_IO_ERROR, "%s", s->err);
	} else if (o == OUT_TAMPERED && v->arena != NULL) {
		/* the server found its row and its signed events differ */
		const char *mismatch = json_string_value(json_object_get(json_object_get(a.json,
		    "error"), "mismatch"));
		v->tampered = arena_strdup(v->arena, mismatch ? mismatch : r->message);
	} else if (o == OUT_OK && !remote_evidence(s, a.json, NULL, why, sizeof why, r)) {
		/* the server says it may proceed; its signed events do not */
		v->tampered = arena_strdup(v->arena, why);
		o = OUT_TAMPERED;
	}
	remote_answer_free(&a);
	return o;
}

outcome remote_submission_get(store *s, const char *key, submission_view *v, op_reply *r)
{
	return fetch(s, key, strlen(key), 0, v, r);
}

/* ---- listings ---- */

static void window_query(strbuf *path, const char *name, int64_t ms)
{
	if (ms == 0)
		return;
	char t[32];
	format_time(ms, t);
	client_path_query(path, name, t);
}

/* The cursor of the next page: the API writes it as a string of digits. */
static int64_t cursor(const json_t *next)
{
	if (json_is_integer(next))
		return json_integer_value(next);
	const char *t = json_string_value(next);
	return t ? strtoll(t, NULL, 10) : 0;
}

outcome remote_list(store *s, const sub_filter *f, list_visit visit, void *ctx, int64_t *next,
    op_reply *r)
{
	int64_t left = f->limit, after = f->after;
	if (next)
		*next = 0;
	for (;;) {
		int64_t want = left > 0 && left < PAGE_MAX ? left : PAGE_MAX;
		char num[24];
		strbuf path = { 0 };
		sb_puts(&path, "/v1/submissions");
		client_path_query(&path, "status", f->status);
		client_path_query(&path, "kind", f->kind);
		client_path_query(&path, "action", f->action);
		client_path_query(&path, "policy", f->policy);
		client_path_query(&path, "submitter", f->submitter);
		client_path_query(&path, "search", f->search);
		client_path_query(&path, "order", f->order == LIST_OLDEST_FIRST ? "oldest" :
		    f->order == LIST_NEWEST_FIRST ? "newest" : NULL);
		window_query(&path, "since", f->since_ms);
		window_query(&path, "until", f->until_ms);
		snprintf(num, sizeof num, "%lld", (long long)want);
		client_path_query(&path, "limit", num);
		snprintf(num, sizeof num, "%lld", (long long)after);
		client_path_query(&path, "after", after > 0 ? num : NULL);
		remote_answer a;
		outcome o = get(s, &path, &a, r);
		free(path.s);
		if (o != OUT_OK) {
			remote_answer_free(&a);
			return o;
		}
		const json_t *items = json_object_get(a.json, "items");
		int64_t more = cursor(json_object_get(a.json, "next"));
		arena *ar = new_arena();
		bool go = true;
		size_t i;
		json_t *item;
		json_array_foreach(items, i, item) {
			sub_row row;
			row_read(ar, item, &row);
			char *text = json_dumps(item, JSON_COMPACT);
			go = text != NULL && visit(ctx, &row, text);
			free(text);
			if (!go)
				break;
		}
		arena_free(ar);
		size_t got = json_array_size(items);
		remote_answer_free(&a);
		if (left > 0)
			left -= (int64_t)got;
		if (!go || more == 0 || (f->limit > 0 && left <= 0)) {
			if (next && go)
				*next = more;
			return OUT_OK;
		}
		after = more;
	}
}

/* ---- statistics, reviewers, the chain's head ---- */

outcome remote_stats(store *s, int64_t since_ms, int top, stats_view *v, op_reply *r)
{
	(void)top;              /* the server gives the ten that stats shows */
	strbuf path = { 0 };
	sb_puts(&path, "/v1/stats");
	window_query(&path, "since", since_ms);
	remote_answer a;
	outcome o = get(s, &path, &a, r);
	free(path.s);
	if (o == OUT_OK)
		stats_view_read(a.json, v);
	remote_answer_free(&a);
	return o;
}

outcome remote_reviewers(store *s, reviewers_view *v, op_reply *r)
{
	strbuf path = { 0 };
	sb_puts(&path, "/v1/reviewers");
	remote_answer a;
	outcome o = get(s, &path, &a, r);
	free(path.s);
	if (o == OUT_OK) {
		const json_t *list = json_is_array(a.json) ? a.json : json_object_get(a.json, "items");
		reviewers_view_read(list, v);
	}
	remote_answer_free(&a);
	return o;
}

outcome remote_chain_head(store *s, int64_t *seq, char hash[65], op_reply *r)
{
	strbuf path = { 0 };
	sb_puts(&path, "/v1/status");
	remote_answer a;
	outcome o = get(s, &path, &a, r);
	free(path.s);
	if (o == OUT_OK) {
		const json_t *head = json_object_get(a.json, "head");
		*seq = json_integer_value(json_object_get(head, "seq"));
		snprintf(hash, 65, "%s", *seq > 0 && json_string_value(json_object_get(head, "hash")) ?
		    json_string_value(json_object_get(head, "hash")) : "");
	}
	remote_answer_free(&a);
	return o;
}

outcome remote_overview(store *s, const char *actor, overview *v, op_reply *r)
{
	strbuf path = { 0 };
	sb_puts(&path, "/v1/status");
	client_path_query(&path, "as", actor);
	remote_answer a;
	outcome o = get(s, &path, &a, r);
	free(path.s);
	if (o == OUT_OK) {
		remote_status_read(s->remote, a.json);
		const json_t *counts = json_object_get(a.json, "counts");
		for (int st = ST_ALLOWED; st <= ST_EXPIRED; st++)
			v->counts[st] = json_integer_value(json_object_get(counts, status_name(st)));
		v->policy_version = s->remote->policy_version;
		v->tampered = s->remote->tampered;
		if (v->tampered)
			snprintf(v->changed, sizeof v->changed, "%s", s->remote->changed);
		const json_t *who = json_object_get(a.json, "actor");
		const char *name = json_string_value(json_object_get(who, "name"));
		snprintf(v->actor, sizeof v->actor, "%s", name ? name : actor);
		v->reviewer = json_is_true(json_object_get(who, "reviewer"));
		v->admin = v->reviewer && json_is_true(json_object_get(who, "admin"));
	}
	remote_answer_free(&a);
	return o;
}

/* ---- waiting for a decision: long polls of at most 300 s each ---- */

static bool waiting(const char *status)
{
	return strcmp(status, "pending") == 0 || strcmp(status, "blocked") == 0;
}

/* A wait that ends in o: a tampered submission says which and how. */
static outcome waited_from(submission_view *v, outcome o, waited *w)
{
	if (o == OUT_TAMPERED && v->arena != NULL) {
		w->id = v->row.id;
		snprintf(w->status, sizeof w->status, "%s", v->row.status);
		snprintf(w->tampered, sizeof w->tampered, "%s", v->tampered ? v->tampered : "");
	}
	submission_view_free(v);
	return o;
}

outcome remote_wait(store *s, const char *key, int64_t timeout_ms, waited *w, op_reply *r)
{
	int64_t start = mono_ms();
	submission_view v;
	outcome o = fetch(s, key, strlen(key), 0, &v, r);
	if (o != OUT_OK)
		return waited_from(&v, o, w);
	w->id = v.row.id;
	snprintf(w->status, sizeof w->status, "%s", v.row.status);
	submission_view_free(&v);
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)w->id);
	while (waiting(w->status)) {
		int64_t wait_s = WAIT_MAX_S;
		if (timeout_ms >= 0) {
			int64_t left = timeout_ms - (mono_ms() - start);
			if (left <= 0) {
				w->timed_out = true;
				break;
			}
			/* whole seconds, rounded up: the server answers at the
			 * deadline, never before it */
			wait_s = (left + 999) / 1000 < WAIT_MAX_S ? (left + 999) / 1000 : WAIT_MAX_S;
		}
		remote_patience(s, wait_s);
		o = fetch(s, id, strlen(id), wait_s, &v, r);
		remote_patience(s, 0);
		if (o == OUT_NOT_FOUND)
			return op_say(r, OUT_IO_ERROR, "the submission disappeared");
		if (o != OUT_OK)
			return waited_from(&v, o, w);
		snprintf(w->status, sizeof w->status, "%s", v.row.status);
		submission_view_free(&v);
	}
	return OUT_OK;
}
