/*
 * remote_audit.c: the audit log through a server.
 *
 * GET /v1/audit gives the matching events newest first, a page of at most
 * 1000 at a time with the cursor of the next (older) page; a listing that
 * reads oldest first (audit tail) reads the newest N that way and hands
 * them over in reverse. Following the log is GET /v1/events, the server's
 * event stream, from the last event seen: each "data:" line is an event as
 * audit list --json prints it, read back into the audit_event the SQLite
 * store gives. The policy versions come with GET /v1/policies. An app.*
 * event a user records is POST /v1/audit/records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

enum { PAGE_MAX = 1000 };

static void copy_hex(char *out, size_t len, const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	snprintf(out, len, "%s", v ? v : "");
}

/* One event of the API, its strings in a; false when it is not one. */
static bool event_read(arena *a, const json_t *o, audit_event *e)
{
	memset(e, 0, sizeof *e);
	const json_t *seq = json_object_get(o, "seq"), *details = json_object_get(o, "details");
	if (!json_is_integer(seq) || details == NULL)
		return false;
	e->seq = json_integer_value(seq);
	copy_hex(e->ts, sizeof e->ts, o, "ts");
	copy_hex(e->prev, sizeof e->prev, o, "prev");
	copy_hex(e->hash, sizeof e->hash, o, "hash");
	copy_hex(e->sig, sizeof e->sig, o, "sig");
	const char *actor = json_member(a, o, "actor", NULL), *event = json_member(a, o, "event", NULL),
	    *subject = json_member(a, o, "subject", NULL);
	e->actor = actor ? actor : "";
	e->event = event ? event : "";
	e->subject = subject ? subject : "";
	if (json_is_string(details)) {  /* details that are not JSON (a tampered log) */
		e->details = json_member(a, o, "details", NULL);
	} else {
		char *text = json_dumps(details, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return false;
		e->details = arena_strdup(a, text);
		free(text);
	}
	return true;
}

static outcome unreadable(store *s, op_reply *r)
{
	snprintf(s->err, sizeof s->err, "server %.200s: an audit event it sent cannot be read",
	    store_dir(s));
	return op_say(r, OUT_IO_ERROR, "%s", s->err);
}

outcome remote_audit_read(store *s, const audit_filter *f, audit_visit visit, void *ctx,
    op_reply *r)
{
	arena *a = arena_new();
	audit_event *kept = NULL;       /* oldest first: the page, handed over reversed */
	size_t nkept = 0, cap = 0;
	int64_t left = f->limit, before = f->before_seq, newer = f->after_seq;
	/* a walk oldest first pages forward (newer=SEQ); the rest newest first */
	bool forward = f->oldest_first && f->walk;
	outcome o = OUT_OK;
	bool go = true;
	while (go) {
		int64_t want = left > 0 && left < PAGE_MAX ? left : PAGE_MAX;
		char num[24];
		strbuf path = { 0 };
		sb_puts(&path, "/v1/audit");
		client_path_query(&path, "event", f->event);
		client_path_query(&path, "actor", f->actor);
		client_path_query(&path, "subject", f->subject);
		client_path_query(&path, "action", f->action);
		char t[32];
		if (f->since_ms != 0) {
			format_time(f->since_ms, t);
			client_path_query(&path, "since", t);
		}
		if (f->until_ms != 0) {
			format_time(f->until_ms, t);
			client_path_query(&path, "until", t);
		}
		snprintf(num, sizeof num, "%lld", (long long)want);
		client_path_query(&path, "limit", num);
		if (forward) {
			snprintf(num, sizeof num, "%lld", (long long)newer);
			client_path_query(&path, "newer", num);
		} else {
			snprintf(num, sizeof num, "%lld", (long long)before);
			client_path_query(&path, "after", before > 0 ? num : NULL);
		}
		remote_answer ans;
		o = remote_call(s, "GET", path.s, NULL, NULL, 0, &ans, r);
		free(path.s);
		if (o != OUT_OK) {
			remote_answer_free(&ans);
			break;
		}
		const json_t *items = json_object_get(ans.json, "items");
		const char *next = json_string_value(json_object_get(ans.json, "next"));
		size_t i;
		json_t *item;
		json_array_foreach(items, i, item) {
			audit_event e;
			if (!event_read(a, item, &e)) {
				o = unreadable(s, r);
				go = false;
				break;
			}
			if (!forward && e.seq <= f->after_seq) {        /* older than asked for */
				go = false;
				break;
			}
			if (f->oldest_first && !forward) {
				kept = arena_grow(a, kept, nkept, &cap, sizeof *kept, 64);
				kept[nkept++] = e;
			} else if (!visit(&e, ctx)) {
				go = false;
				break;
			}
			if (left > 0 && --left == 0)
				go = false;
		}
		before = next ? strtoll(next, NULL, 10) : 0;
		newer = before;
		remote_answer_free(&ans);
		if (before <= 0)
			go = false;
	}
	for (size_t i = nkept; o == OUT_OK && i > 0; i--)
		if (!visit(&kept[i - 1], ctx))
			break;
	arena_free(a);
	return o;
}

/* ---- following the log: GET /v1/events ---- */

typedef struct following {
	audit_visit visit;
	void *ctx;
	strbuf line;            /* the line being read */
	bool stopped, broken;
} following;

/* One whole line of the stream: only "data:" lines carry events. */
static bool stream_line(following *f, const char *line, size_t len)
{
	if (len < 5 || memcmp(line, "data:", 5) != 0)
		return true;            /* id:, event:, a ":" heartbeat, the blank line */
	line += 5, len -= 5;
	if (len > 0 && *line == ' ')
		line++, len--;
	json_t *j = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	arena *a = arena_new();
	audit_event e;
	bool ok = j != NULL && event_read(a, j, &e);
	if (!ok)
		f->broken = true;
	else if (!f->visit(&e, f->ctx))
		f->stopped = true;
	arena_free(a);
	json_decref(j);
	return ok && !f->stopped;
}

static bool stream_body(void *ctx, const char *data, size_t len)
{
	following *f = ctx;
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			sb_put(&f->line, data + i, 1);
			continue;
		}
		size_t n = f->line.n;
		if (n > 0 && f->line.s[n - 1] == '\r')
			n--;
		bool more = stream_line(f, f->line.s ? f->line.s : "", n);
		f->line.n = 0;
		if (!more)
			return false;
	}
	return true;
}

outcome remote_audit_follow(store *s, int64_t after, audit_visit visit, void *ctx,
    const volatile sig_atomic_t *stop, op_reply *r)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/events?after=%lld", (long long)after);
	following f = { .visit = visit, .ctx = ctx };
	client_response resp;
	client_status st = client_stream(s->remote->c, path, stream_body, &f, stop, &resp);
	free(f.line.s);
	if (st != CLIENT_OK) {
		snprintf(s->err, sizeof s->err, "%s", client_errmsg(s->remote->c));
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	}
	long status = resp.status;
	client_response_free(&resp);
	if (f.broken)
		return unreadable(s, r);
	if (status != 200) {
		snprintf(s->err, sizeof s->err, "server %.200s answered the event stream with HTTP %ld",
		    store_dir(s), status);
		return op_say(r, status == 403 ? OUT_NOT_PERMITTED : OUT_IO_ERROR, "%s", s->err);
	}
	if (!f.stopped && !*stop) {
		snprintf(s->err, sizeof s->err, "server %.200s ended the event stream (it stopped)",
		    store_dir(s));
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	}
	return OUT_OK;
}

/* ---- the policy set and its versions ---- */

outcome remote_policies(store *s, policies_view *v, op_reply *r)
{
	remote_answer ans;
	outcome o = remote_call(s, "GET", "/v1/policies", NULL, NULL, 0, &ans, r);
	if (o == OUT_OK) {
		arena *a = v->arena;
		const json_t *list = json_object_get(ans.json, "policies");
		v->n = json_array_size(list);
		v->items = arena_alloc(a, (v->n + 1) * sizeof *v->items);
		size_t i;
		json_t *p;
		json_array_foreach(list, i, p) {
			char *json = json_dumps(p, JSON_COMPACT);
			v->items[i] = (policy_view){ .name = json_member(a, p, "name", NULL),
				.type = json_member(a, p, "type", NULL),
				.severity = json_member(a, p, "severity", NULL),
				.effect = json_member(a, p, "effect", NULL),
				.source = json_member(a, p, "source", NULL),
				.description = json_member(a, p, "description", NULL),
				.enabled = json_is_true(json_object_get(p, "enabled")),
				.json = arena_strdup(a, json ? json : "{}") };
			free(json);
		}
		v->integ.version = (int)json_integer_value(json_object_get(ans.json, "version"));
		v->integ.tampered = json_is_true(json_object_get(ans.json, "tampered"));
		if (v->integ.tampered)
			snprintf(v->integ.what, sizeof v->integ.what, "%s", s->remote->changed);
	}
	remote_answer_free(&ans);
	return o;
}

outcome remote_policy_versions(store *s, versions_view *v, op_reply *r)
{
	remote_answer ans;
	outcome o = remote_call(s, "GET", "/v1/policies", NULL, NULL, 0, &ans, r);
	if (o == OUT_OK)
		versions_view_read(json_object_get(ans.json, "versions"), v);
	remote_answer_free(&ans);
	return o;
}

/* ---- an app.* event: POST /v1/audit/records ---- */

outcome remote_audit_record(store *s, const app_record *q, const json_t *details,
    app_recorded *r)
{
	op_auth auth = { .actor = q->actor };
	json_t *b = remote_auth_body(&auth);
	json_object_set_new(b, "event", json_string(q->event));
	if (q->subject != NULL && q->subject[0] != '\0')
		json_object_set_new(b, "subject", json_string(q->subject));
	if (details != NULL)
		json_object_set(b, "details", (json_t *)details);
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, "/v1/audit/records", b, &a, &r->reply),
	    &r->reply);
	if (o == OUT_OK)
		r->seq = json_integer_value(json_object_get(a.json, "seq"));
	remote_answer_free(&a);
	return o;
}
