/*
 * routes.c: the route table of the API (PRODUCT.md section 9), the one
 * table, and the handlers of submissions, status and health; the other
 * handlers live by topic in routes_decide.c, routes_reviewers.c,
 * routes_agents.c, routes_admin.c, routes_audit.c and routes_record.c.
 * docs/api.md documents every line of the table (tests/cli/serve_routes.sh
 * checks that it does).
 *
 * A handler reads its request (rq->arg is the path's * segment), reads the
 * store through the listener's connection or hands a change to the writer,
 * and answers. The route's LET_* was checked before the body was read; what
 * depends on the submission (an agent sees only its own) is checked here,
 * and another agent's submission is not_found, never forbidden, so that its
 * existence does not leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mhd.h"
#include "serve.h"

/* Whether the caller may see a submission of this submitter: an agent only
 * its own; reviewers and the owner all. */
static bool may_see(const request *rq, const char *submitter, size_t len)
{
	if (rq->who.kind != WHO_AGENT)
		return true;
	return submitter != NULL && len == strlen(rq->who.name) &&
	    strncasecmp(submitter, rq->who.name, len) == 0;
}

static void h_health(server *srv, request *rq)
{
	(void)srv;
	int64_t seq;
	char hash[65];
	op_reply r;
	if (op_chain_head(rq->reader, &seq, hash, &r) != OUT_OK) {
		strbuf b = { 0 };
		sb_puts(&b, "{\"status\": \"unavailable\", \"reason\": ");
		sb_put_json_string(&b, r.message);
		sb_puts(&b, "}\n");
		answer_owned(rq, 503, "application/json", b.s, b.n);
		return;
	}
	answer(rq, 200, "application/json", "{\"status\": \"ok\"}\n", 17);
}

/* The caller as the server knows it, and the actor it acts as ("as": the
 * owner may name any reviewer, anyone else only themselves): whether that
 * actor is an enabled reviewer, and an admin. What the console shows in its
 * header and asks before it offers a decision. */
static bool status_identity(request *rq, strbuf *b)
{
	static const char *const kinds[] = { "none", "owner", "agent", "reviewer" };
	const char *actor;
	if (!acting_as(rq, query(rq, "as"), &actor))
		return false;
	sb_puts(b, ", \"identity\": {\"kind\": ");
	sb_put_json_string(b, kinds[rq->who.kind]);
	sb_puts(b, ", \"name\": ");
	sb_put_json_string(b, rq->who.name);
	sb_puts(b, "}");
	if (rq->who.kind == WHO_AGENT)
		return true;
	reviewer rv;
	int found = reviewer_get(rq->reader, actor, &rv);
	if (found < 0) {
		answer_error(rq, OUT_IO_ERROR, store_errmsg(rq->reader), 0, 0);
		return false;
	}
	bool enabled = found == 1 && !rv.disabled;
	sb_puts(b, ", \"actor\": {\"name\": ");
	sb_put_json_string(b, found == 1 ? rv.name : actor);
	sb_printf(b, ", \"reviewer\": %s, \"admin\": %s}", enabled ? "true" : "false",
	    enabled && rv.admin ? "true" : "false");
	return true;
}

static void h_status(server *srv, request *rq)
{
	int64_t seq;
	char hash[65];
	op_reply r;
	if (op_chain_head(rq->reader, &seq, hash, &r) != OUT_OK) {
		answer_error(rq, r.out, r.message, 0, 0);
		return;
	}
	pthread_mutex_lock(&srv->lock);
	int version = srv->integ.version;
	bool tampered = srv->integ.tampered;
	settings live = srv->live;
	char changed[sizeof srv->integ.what];
	memcpy(changed, srv->integ.what, sizeof changed);
	pthread_mutex_unlock(&srv->lock);
	strbuf b = { 0 };
	sb_puts(&b, "{\"version\": ");
	sb_put_json_string(&b, ARBITER_VERSION);
	sb_puts(&b, ", \"store\": ");
	sb_put_json_string(&b, store_id(rq->reader));
	sb_printf(&b, ", \"policy_version\": %d, \"head\": {\"seq\": %lld, \"hash\": \"%s\"}, "
	    "\"counts\": {", version, (long long)seq, hash);
	for (int st = ST_ALLOWED; st <= ST_EXPIRED; st++) {
		int64_t n = query_count(rq->reader, status_name(st));
		sb_printf(&b, "%s\"%s\": %lld", st ? ", " : "", status_name(st), (long long)n);
	}
	/* what a command prints when it finds the store so: enforcement off, the
	 * policy files differing from the pin and how */
	sb_printf(&b, "}, \"enforcement\": %s, \"tampered\": %s", live.enforcement ? "true" :
	    "false", tampered ? "true" : "false");
	if (tampered) {
		sb_puts(&b, ", \"changed\": ");
		sb_put_json_string(&b, changed);
	}
	/* the review settings a client's dialogs follow (none is a secret) */
	sb_printf(&b, ", \"review\": {\"approve_requires_code\": %s, \"justification_min_chars\": "
	    "%d, \"override_default_duration\": %lld, \"session_idle\": %lld}",
	    live.approve_requires_code ? "true" : "false", live.justification_min_chars,
	    (long long)live.override_default_duration, (long long)live.session_idle);
	if (!status_identity(rq, &b)) {
		free(b.s);
		return;
	}
	sb_puts(&b, "}\n");
	answer_owned(rq, 200, "application/json", b.s, b.n);
}

/* ---- POST /v1/submissions ---- */

/* Reads one document of the body (JSON, or YAML) into item; false with its
 * error set. */
static bool read_item(request *rq, const char *text, size_t len, int line, bool json,
    sub_item *it)
{
	diags errs = { 0 };
	bool empty = false;
	it->line = line;
	const node *root = json ? doc_parse_json(rq->arena, "body", text, len, line, 0, &empty, &errs)
	    : doc_parse(rq->arena, "body", text, len, line, &empty, &errs);
	if (root == NULL && empty)
		diags_add(&errs, "body", line, 1, "no document");
	if (root != NULL && submission_from_doc(root, "body", &it->sub, &errs) &&
	    (!submission_canonical(&it->sub, rq->arena) || !submission_digest(&it->sub)))
		diags_add(&errs, "body", it->sub.line, it->sub.col,
		    "the document cannot be encoded as JSON");
	if (errs.n > 0) {
		it->out = OUT_BAD_INPUT;
		it->http = root == NULL ? 400 : 422;       /* malformed, or not a submission */
		snprintf(it->err, sizeof it->err, "%s", errs.items[0].msg);
		it->line = errs.items[0].line;
		it->col = errs.items[0].col;
		diags_free(&errs);
		return false;
	}
	diags_free(&errs);
	/* through the server, the submitter is the identity; the owner's
	 * documents keep theirs */
	if (rq->who.kind != WHO_OWNER) {
		submission *s = &it->sub;
		char mine[IDENTITY_NAME_MAX + 1];
		if (!identity_name(rq->who.name, mine))        /* a reviewer named before the rule */
			snprintf(mine, sizeof mine, "%.64s", rq->who.name);
		if (s->submitter != NULL && strcmp(s->submitter_name, mine) != 0) {
			denied_request(rq->lst->srv, rq, "a document naming another submitter");
			it->out = OUT_NOT_PERMITTED;
			it->http = 422;
			snprintf(it->err, sizeof it->err, "the document names submitter \"%s\", but "
			    "this identity is %s: a submission through the server is its caller's",
			    s->submitter_name, rq->who.name);
			it->line = s->line;
			it->col = s->col;
			return false;
		}
		s->submitter = arena_strdup(rq->arena, rq->who.name);
		s->submitter_len = 0;
		memcpy(s->submitter_name, mine, sizeof mine);
	}
	it->ok = true;
	return true;
}

typedef struct splitting {
	request *rq;
	sub_item *items;
	size_t n, cap;
} splitting;

static void split_line(void *ctx, const char *text, size_t len, int line)
{
	splitting *sp = ctx;
	sp->items = arena_grow(sp->rq->arena, sp->items, sp->n, &sp->cap, sizeof *sp->items, 64);
	sub_item *it = &sp->items[sp->n++];
	memset(it, 0, sizeof *it);
	read_item(sp->rq, text, len, line, true, it);
}

static void h_submit(server *srv, request *rq)
{
	if (srv->stopping) {
		answer_error(rq, OUT_BUSY, "the server is shutting down", 0, 0);
		return;
	}
	int format = body_format(rq);
	if (format < 0) {
		answer_status(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_input", "the body must be "
		    "application/json, application/yaml or application/x-ndjson");
		return;
	}
	job *j = &rq->job;
	/* ?as=NAME: the actor the submission.create event names, as submit --as
	 * gives it; the owner's to choose, any other identity is itself */
	if (!acting_as(rq, query(rq, "as"), &j->actor))
		return;
	const char *dry = query(rq, "dry_run");
	j->dry_run = dry != NULL && (strcmp(dry, "1") == 0 || strcmp(dry, "true") == 0);
	const char *match = query(rq, "match");
	if (match != NULL && strcmp(match, "digest") != 0) {
		answer_error(rq, OUT_BAD_INPUT, "match takes only \"digest\"", 0, 0);
		return;
	}
	j->match = match != NULL;
	const char *text = rq->body ? rq->body : "";
	if (format == BODY_LINES) {
		splitting sp = { .rq = rq };
		doc_split_lines(text, rq->len, split_line, &sp);
		j->items = sp.items;
		j->nitems = sp.n;
		j->batch = true;
	} else {
		j->items = arena_alloc(rq->arena, sizeof *j->items);
		memset(j->items, 0, sizeof *j->items);
		j->nitems = 1;
		if (!read_item(rq, text, rq->len, 1, format == BODY_JSON, &j->items[0])) {
			sub_item *it = &j->items[0];
			answer_error(rq, it->out, it->err, it->line, it->col);
			rq->status = it->http;
			return;
		}
	}
	writer_submit(srv, rq);
}

/* ---- GET /v1/submissions/ID[?wait=SEC] ---- */

static bool parse_count(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	if (s == NULL || *s == '\0')
		return false;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* What this listener's last reading of a submission found, for the other
 * requests on it that come at the same moment: a decision wakes every
 * long-poll on its submission at once, long-polls that began together end
 * at one deadline, and each would read (and render) the same submission.
 * It serves while nothing has changed since (change_gen), and for a second
 * at most, since an override's expiry changes what a submission reads as
 * without a change to the store; and only an ID asked by number (a ref
 * names a submission per submitter). Only the listener's polling thread
 * touches it. */
struct last_read {
	char key[sizeof ((request *)0)->arg];   /* the path's ID as asked */
	int64_t gen, at_ms;
	int64_t id;
	bool final;
	char *submitter;
	size_t submitter_len;
	char *json;                     /* the answer with its newline; NULL: not rendered */
	size_t len;
};
enum { LAST_READ_MS = 1000 };

static struct last_read *last_read(const request *rq, int64_t gen)
{
	struct last_read *lr = rq->lst->last_read;
	if (lr == NULL || lr->gen != gen || mono_ms() - lr->at_ms > LAST_READ_MS ||
	    strcmp(lr->key, rq->arg) != 0 || !may_see(rq, lr->submitter, lr->submitter_len))
		return NULL;
	return lr;
}

static void forget(struct last_read *lr)
{
	free(lr->submitter);
	free(lr->json);
	memset(lr, 0, sizeof *lr);
}

/* Keeps what the request read (json may be NULL: not rendered). */
static void remember(request *rq, int64_t gen, const sub_row *row, bool final, const char *json,
    size_t len)
{
	if (rq->arg[strspn(rq->arg, "0123456789")] != '\0')
		return;
	struct last_read *lr = rq->lst->last_read;
	if (lr == NULL && (lr = rq->lst->last_read = calloc(1, sizeof *lr)) == NULL)
		return;
	forget(lr);
	size_t n = row->submitter == NULL ? 0 : row->submitter_len ? row->submitter_len :
	    strlen(row->submitter);
	if ((row->submitter != NULL && (lr->submitter = malloc(n + 1)) == NULL) ||
	    (json != NULL && (lr->json = malloc(len)) == NULL)) {
		forget(lr);
		return;
	}
	if (lr->submitter != NULL) {
		memcpy(lr->submitter, row->submitter, n);
		lr->submitter[n] = '\0';
	}
	lr->submitter_len = n;
	if (json != NULL)
		memcpy(lr->json, json, len);
	lr->len = len;
	snprintf(lr->key, sizeof lr->key, "%s", rq->arg);
	lr->gen = gen;
	lr->at_ms = mono_ms();
	lr->id = row->id;
	lr->final = final;
}

void last_read_free(listener *l)
{
	if (l->last_read != NULL)
		forget(l->last_read);
	free(l->last_read);
	l->last_read = NULL;
}

/* A submission whose row says it may proceed while its signed events do
 * not: the writer audits it (state.tamper, once per mismatch), and the
 * answer is 409 tampered with the mismatch and the result as its row reads,
 * for a console to show. */
typedef struct tamper_ctx {
	int64_t id;
	char status[16];
	char *why, *message, *result;   /* in rq's arena */
} tamper_ctx;

static void run_tampered(server *srv, store *w, job *j)
{
	(void)srv;
	tamper_ctx *c = j->ctx;
	op_reply r;
	if (op_tamper_record(w, j->rq->who.name, c->id, c->status, c->why, &r) != OUT_OK)
		err_printf("arbiter serve: submission %lld: the mismatch could not be audited: %s\n",
		    (long long)c->id, r.message);
	strbuf b = { 0 };
	error_json(&b, outcome_of(OUT_TAMPERED)->name, c->message, 0, 0);
	b.n -= 2;                       /* reopen the error */
	sb_puts(&b, ", \"mismatch\": ");
	sb_put_json_string(&b, c->why);
	sb_puts(&b, "}, \"result\": ");
	sb_puts(&b, c->result ? c->result : "null");
	sb_puts(&b, "}\n");
	answer_owned(j->rq, outcome_of(OUT_TAMPERED)->http_status, "application/json", b.s, b.n);
}

static void answer_tampered(server *srv, request *rq, const submission_view *v, const char *message)
{
	tamper_ctx *c = arena_alloc(rq->arena, sizeof *c);
	c->id = v->row.id;
	snprintf(c->status, sizeof c->status, "%s", v->row.status);
	c->why = arena_strdup(rq->arena, v->tampered ? v->tampered : "");
	c->message = arena_strdup(rq->arena, message);
	char *json = submission_json(v);
	c->result = json ? arena_strdup(rq->arena, json) : NULL;
	free(json);
	rq->job.ctx = c;
	writer_run(srv, rq, run_tampered);
}

static void h_get(server *srv, request *rq)
{
	if (!rq->wait_set) {
		rq->wait_set = true;
		const char *w = query(rq, "wait");
		int64_t sec = 0;
		if (w != NULL && !parse_count(w, 0, 300, &sec)) {
			answer_error(rq, OUT_BAD_INPUT, "wait is a number of seconds from 0 to 300", 0, 0);
			return;
		}
		rq->deadline_ms = sec > 0 ? mono_ms() + sec * 1000 : 0;
	}
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		int64_t seen = srv->change_gen;
		bool stopping = srv->stopping;
		pthread_mutex_unlock(&srv->lock);
		bool wait = !stopping && rq->woken != WOKEN_GONE && rq->deadline_ms > mono_ms();
		struct last_read *lr = last_read(rq, seen);
		if (lr != NULL && (!lr->final && wait)) {
			rq->wait_sub = lr->id;
			if (wait_for_change(srv, rq, rq->deadline_ms, seen))
				return;
			continue;
		}
		if (lr != NULL && lr->json != NULL) {
			answer(rq, 200, "application/json", lr->json, lr->len);
			return;
		}
		submission_view v;
		op_reply r;
		outcome o = op_submission_get(rq->reader, rq->arg, &v, &r);
		if (o == OUT_BAD_INPUT && rq->who.kind == WHO_AGENT) {
			/* a ref that several submitters use names the agent's own, and
			 * says nothing of the others' */
			o = op_submission_of(rq->reader, rq->arg, rq->who.name, &v, &r);
			if (o == OUT_NOT_FOUND)
				denied_request(srv, rq, "another's submission");
		}
		if ((o == OUT_OK || o == OUT_TAMPERED) &&
		    !may_see(rq, v.row.submitter, v.row.submitter_len)) {
			submission_view_free(&v);
			denied_request(srv, rq, "another's submission");
			o = OUT_NOT_FOUND;
			snprintf(r.message, sizeof r.message, "no submission %.100s", rq->arg);
		}
		if (o == OUT_TAMPERED) {
			answer_tampered(srv, rq, &v, r.message);
			submission_view_free(&v);
			return;
		}
		if (o != OUT_OK) {
			answer_error(rq, o, r.message, 0, 0);
			return;
		}
		bool final = status_final(status_parse(v.row.status));
		if (!final && wait) {
			rq->wait_sub = v.row.id;
			remember(rq, seen, &v.row, false, NULL, 0);
			submission_view_free(&v);
			if (wait_for_change(srv, rq, rq->deadline_ms, seen))
				return;
			continue;       /* changed meanwhile: read again */
		}
		char *json = submission_answer_json(&v);
		if (json == NULL) {
			submission_view_free(&v);
			answer_error(rq, OUT_IO_ERROR, "cannot write the submission", 0, 0);
			return;
		}
		size_t n = strlen(json);
		json = realloc(json, n + 2);
		json[n] = '\n';
		json[n + 1] = '\0';
		remember(rq, seen, &v.row, final, json, n + 1);
		submission_view_free(&v);
		answer_owned(rq, 200, "application/json", json, n + 1);
		return;
	}
}

/* ---- GET /v1/submissions?status=&kind=&... ---- */

typedef struct listing {
	request *rq;
	strbuf b;
	int n;
	bool failed;
} listing;

static bool list_row(void *ctx, const sub_row *row)
{
	listing *l = ctx;
	char *json = submission_result_json(l->rq->reader, row);
	if (json == NULL) {
		l->failed = true;
		return false;
	}
	sb_puts(&l->b, l->n++ ? ",\n  " : "\n  ");
	sb_puts(&l->b, json);
	free(json);
	return true;
}

static bool time_param(request *rq, const char *name, int64_t *ms)
{
	const char *v = query(rq, name);
	*ms = 0;
	if (v == NULL)
		return true;
	if (parse_time(v, ms))
		return true;
	char why[128];
	snprintf(why, sizeof why, "%s is not a time (RFC 3339, or a duration ago such as 24h)",
	    name);
	answer_error(rq, OUT_BAD_INPUT, why, 0, 0);
	return false;
}

static void h_list(server *srv, request *rq)
{
	(void)srv;
	sub_filter f = { .status = query(rq, "status"), .kind = query(rq, "kind"),
		.action = query(rq, "action"), .policy = query(rq, "policy"),
		.submitter = query(rq, "submitter"), .search = query(rq, "search"), .limit = 100 };
	static const char *const orders[] = { "queue", "oldest", "newest" };
	const char *order = query(rq, "order");
	for (int i = 0; order != NULL && i < 3; i++)
		if (strcmp(order, orders[i]) == 0) {
			f.order = i == 0 ? LIST_QUEUE_ORDER : i == 1 ? LIST_OLDEST_FIRST : LIST_NEWEST_FIRST;
			order = NULL;
		}
	if (order != NULL) {
		answer_error(rq, OUT_BAD_INPUT, "order is queue, oldest or newest", 0, 0);
		return;
	}
	if (f.status != NULL && !query_status_filter_valid(f.status)) {
		answer_error(rq, OUT_BAD_INPUT, "status is a status, waiting, decided or all", 0, 0);
		return;
	}
	if (f.status != NULL && strcmp(f.status, "all") == 0)
		f.status = NULL;
	const char *lim = query(rq, "limit"), *after = query(rq, "after");
	if ((lim != NULL && !parse_count(lim, 1, 1000, &f.limit)) ||
	    (after != NULL && !parse_count(after, 0, INT64_MAX, &f.after))) {
		answer_error(rq, OUT_BAD_INPUT, "limit is from 1 to 1000, after a cursor from an "
		    "earlier page", 0, 0);
		return;
	}
	if (!time_param(rq, "since", &f.since_ms) || !time_param(rq, "until", &f.until_ms))
		return;
	if (rq->who.kind == WHO_AGENT) {
		if (f.submitter != NULL && strcasecmp(f.submitter, rq->who.name) != 0) {
			answer(rq, 200, "application/json", "{\"items\": [], \"next\": null}\n", 29);
			return;
		}
		f.submitter = rq->who.name;
	}
	listing l = { .rq = rq };
	sb_puts(&l.b, "{\"items\": [");
	int64_t next = 0;
	if (!query_list(rq->reader, &f, list_row, &l, &next) || l.failed) {
		free(l.b.s);
		answer_error(rq, OUT_IO_ERROR, store_errmsg(rq->reader), 0, 0);
		return;
	}
	sb_puts(&l.b, l.n ? "\n], \"next\": " : "], \"next\": ");
	if (next > 0)
		sb_printf(&l.b, "\"%lld\"}\n", (long long)next);
	else
		sb_puts(&l.b, "null}\n");
	answer_owned(rq, 200, "application/json", l.b.s, l.b.n);
}

/* ---- GET /v1/stats[?since=] ---- */

static void h_stats(server *srv, request *rq)
{
	(void)srv;
	int64_t since;
	if (!time_param(rq, "since", &since))
		return;
	stats_view v;
	op_reply r;
	if (op_stats(rq->reader, since, 10, &v, &r) != OUT_OK) {
		answer_error(rq, r.out, r.message, 0, 0);
		return;
	}
	char *json = stats_json(&v);
	stats_view_free(&v);
	size_t n = strlen(json);
	json = realloc(json, n + 2);
	json[n] = '\n';
	json[n + 1] = '\0';
	answer_owned(rq, 200, "application/json", json, n + 1);
}

/* ---- GET /v1/policies: the set the writer holds, read as a job ---- */

/* The pinned versions, oldest first, as policy list shows them. */
static void put_versions(strbuf *b, store *w)
{
	versions_view v;
	op_reply r;
	sb_puts(b, ", \"versions\": [");
	if (op_policy_versions(w, &v, &r) == OUT_OK) {
		for (size_t i = 0; i < v.n; i++) {
			const version_view *it = &v.items[i];
			sb_printf(b, "%s{\"version\": %d, \"files\": %d, \"created_at\": ", i ? ",\n  " :
			    "\n  ", it->version, it->files);
			sb_put_json_string(b, it->created_at);
			sb_puts(b, ", \"actor\": ");
			sb_put_json_string(b, it->actor);
			sb_puts(b, ", \"justification\": ");
			sb_put_json_string(b, it->justification);
			sb_puts(b, "}");
		}
		sb_puts(b, v.n ? "\n]" : "]");
		versions_view_free(&v);
	} else {
		sb_puts(b, "]");
	}
}

static void run_policies(server *srv, store *w, job *j)
{
	strbuf b = { 0 };
	sb_printf(&b, "{\"version\": %d, \"tampered\": %s, \"policies\": [", srv->integ.version,
	    srv->integ.tampered ? "true" : "false");
	for (size_t i = 0; i < srv->ps->n; i++) {
		char *p = policy_json(&srv->ps->items[i]);
		sb_puts(&b, i ? ",\n  " : "\n  ");
		sb_puts(&b, p);
		free(p);
	}
	sb_puts(&b, srv->ps->n ? "\n]" : "]");
	put_versions(&b, w);
	sb_puts(&b, "}\n");
	answer_owned(j->rq, 200, "application/json", b.s, b.n);
}

static void h_policies(server *srv, request *rq)
{
	writer_run(srv, rq, run_policies);
}

const route routes[] = {
	{ "GET", "/health", LET_ANYONE, h_health },
	{ "GET", "/v1/status", LET_IDENTITY, h_status },
	{ "POST", "/v1/submissions", LET_IDENTITY, h_submit },
	{ "GET", "/v1/submissions", LET_IDENTITY, h_list },
	{ "GET", "/v1/submissions/*", LET_IDENTITY, h_get },
	{ "GET", "/v1/events", LET_IDENTITY, h_events },
	{ "GET", "/v1/policies", LET_IDENTITY, h_policies },
	{ "GET", "/v1/stats", LET_REVIEWER, h_stats },
	{ "POST", "/v1/submissions/*/decisions", LET_REVIEWER, h_decide },
	{ "POST", "/v1/decisions", LET_REVIEWER, h_decide_many },
	{ "POST", "/v1/sessions", LET_REVIEWER, h_signin },
	{ "POST", "/v1/submissions/*/reevaluate", LET_REVIEWER, h_reevaluate },
	{ "POST", "/v1/submissions/*/outcome", LET_IDENTITY, h_outcome },
	{ "POST", "/v1/policy/pin", LET_REVIEWER, h_pin },
	{ "GET", "/v1/audit", LET_REVIEWER, h_audit },
	{ "POST", "/v1/audit/records", LET_IDENTITY, h_record },
	{ "POST", "/v1/audit/checkpoints", LET_REVIEWER, h_checkpoint },
	{ "GET", "/v1/audit/export", LET_REVIEWER, h_export },
	{ "POST", "/v1/audit/rotate-key", LET_REVIEWER, h_rotate_key },
	{ "GET", "/v1/keys", LET_IDENTITY, h_keys },
	{ "GET", "/v1/reviewers", LET_ADMIN, h_reviewers },
	{ "POST", "/v1/reviewers", LET_ADMIN, h_reviewer_add },
	{ "POST", "/v1/reviewers/*/disable", LET_ADMIN, h_reviewer_disable },
	{ "POST", "/v1/reviewers/*/enable", LET_ADMIN, h_reviewer_enable },
	{ "POST", "/v1/reviewers/*/unlock", LET_ADMIN, h_reviewer_unlock },
	{ "POST", "/v1/reviewers/*/reset", LET_ADMIN, h_reviewer_reset },
	{ "POST", "/v1/reviewers/*/role", LET_ADMIN, h_reviewer_role },
	{ "GET", "/v1/agents", LET_ADMIN, h_agents },
	{ "POST", "/v1/agents", LET_ADMIN, h_agent_add },
	{ "DELETE", "/v1/agents/*", LET_ADMIN, h_agent_revoke },
};
const size_t nroutes = sizeof routes / sizeof routes[0];
