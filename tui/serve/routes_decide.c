/*
 * routes_decide.c: decisions and sessions (PRODUCT.md sections 4 and 9).
 *
 *   POST /v1/submissions/ID/decisions, POST /v1/decisions ("ids": [...])
 *   POST /v1/sessions
 *
 * A decision is data/ops_decide.c's op_decide, the one the CLI and the
 * console call, run as a writer job with the settings the writer holds; it
 * checks the policy files against the pin, the actor, each id, and then the
 * TOTP code, which the server checks and never logs. The handler only reads
 * the body and the session header on the polling thread; the job does the
 * rest and answers with the call's outcome (its HTTP status through the
 * outcome table) and, for each id, what happened and, when it was decided,
 * its new result as show --json gives it.
 *
 * Within a session (the X-Arbiter-Session header, from POST /v1/sessions)
 * approve and reject need no code; the server, not the body, says whether a
 * session is live. A session header that names no live session of this
 * caller is refused (401), never taken as "no session".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

#define SESSION_HEADER "X-Arbiter-Session"

typedef struct decide_ctx {
	decide_request q;
	int64_t ids[OP_MAX_IDS];
	const char *key;                /* the path's ID (an id or a ref); NULL: "ids" */
	const char *session;            /* the session header's token; NULL: none */
	bool as_given;
	char *code;                     /* in rq's arena, wiped after the job */
} decide_ctx;

/* The submission a path names, by id or ref: its id, or 0 after answering. */
static int64_t resolve(request *rq, store *s, const char *key)
{
	sub_row row;
	int found = query_get(s, key, &row);
	if (found <= 0) {
		char why[200];
		snprintf(why, sizeof why, "no submission %.100s", key);
		answer_error(rq, found == 0 ? OUT_NOT_FOUND : found == -2 ? OUT_BAD_INPUT :
		    OUT_IO_ERROR, found == 0 ? why : store_errmsg(s), 0, 0);
		return 0;
	}
	int64_t id = row.id;
	query_row_done(&row);
	return id;
}

/* The call's own message: its refusal, one id's story, or the first refusal
 * among several ids. */
static const char *call_message(const decide_result *r)
{
	if (r->n == 0 || r->call_refused)
		return r->reply.message;
	if (r->n == 1)
		return r->items[0].message;
	for (int i = 0; i < r->n; i++)
		if (r->items[i].out == r->reply.out)
			return r->items[i].message;
	return r->reply.message;
}

static void answer_decided(request *rq, store *w, const decide_request *q,
    const decide_result *r)
{
	char buf[700];
	const char *msg = call_message(r);
	if (r->actor_refused) {
		snprintf(buf, sizeof buf, "%.500s (acting as %.64s)", r->reply.message, q->auth.actor);
		msg = buf;
	}
	strbuf b = { 0 };
	int status = reply_open(&b, r->reply.out, msg, r->reply.code_needed);
	sb_puts(&b, ", \"items\": [");
	for (int i = 0; i < r->n; i++) {
		const decided_item *it = &r->items[i];
		sb_printf(&b, "%s{\"id\": %lld, \"outcome\": \"%s\", \"message\": ", i ? ",\n  " : "\n  ",
		    (long long)it->id, outcome_of(it->out)->name);
		sb_put_json_string(&b, it->message);
		if (it->out == OUT_OK || it->out == OUT_WAITING) {
			char key[24];
			snprintf(key, sizeof key, "%lld", (long long)it->id);
			submission_view v;
			op_reply rr;
			if (op_submission_get(w, key, &v, &rr) == OUT_OK) {
				char *json = submission_answer_json(&v);
				sb_puts(&b, ", \"result\": ");
				sb_puts(&b, json);
				free(json);
			}
			submission_view_free(&v);       /* read, or tampered */
		}
		sb_puts(&b, "}");
	}
	sb_puts(&b, r->n ? "\n]}\n" : "]}\n");
	if (r->reply.out == OUT_BUSY)
		rq->retry_after = 1;
	answer_owned(rq, status, "application/json", b.s, b.n);
}

static void run_decide(server *srv, store *w, job *j)
{
	decide_ctx *c = j->ctx;
	request *rq = j->rq;
	if (c->key != NULL) {
		c->ids[0] = resolve(rq, w, c->key);
		if (c->ids[0] == 0)
			goto done;
		c->q.ids = c->ids;
		c->q.nids = 1;
	}
	if (c->session != NULL) {
		const char *who = session_use(srv, &rq->who, c->session, srv->live.session_idle);
		if (who == NULL) {
			answer_error(rq, OUT_UNAUTHENTICATED, "no such session, or it has ended "
			    "(review.session_idle): sign in again with POST /v1/sessions", 0, 0);
			goto done;
		}
		if (c->as_given && strcasecmp(who, c->q.auth.actor) != 0) {
			answer_error(rq, OUT_NOT_PERMITTED, "this session is another reviewer's: act as "
			    "the reviewer who signed in", 0, 0);
			goto done;
		}
		c->q.auth.actor = who;
		c->q.auth.session = true;
	}
	decide_result *r = malloc(sizeof *r);
	if (r == NULL)
		abort();
	op_decide(w, &srv->live, &c->q, r);
	answer_decided(rq, w, &c->q, r);
	free(r);
done:
	if (c->code != NULL)
		secret_wipe(c->code, strlen(c->code));
}

static const char *const decide_fields[] = { "decision", "code", "note", "reason",
	"justification", "expires", "ack", "as", "ids", NULL };

/* Reads a decision's body into a new context; NULL after answering. */
static decide_ctx *read_decision(request *rq, bool many)
{
	decide_ctx *c = arena_alloc(rq->arena, sizeof *c);
	memset(c, 0, sizeof *c);
	body_doc b;
	const char *kind = NULL, *note = NULL, *reason = NULL, *why = NULL, *expires = NULL,
	    *as = NULL;
	bool ack = false;
	int nids = 0;
	if (!body_read(rq, decide_fields, &b) || !body_string(&b, "decision", &kind) ||
	    !body_string(&b, "note", &note) ||
	    !body_string(&b, "reason", &reason) || !body_string(&b, "justification", &why) ||
	    !body_string(&b, "expires", &expires) || !body_bool(&b, "ack", &ack) ||
	    !body_ids(&b, "ids", c->ids, OP_MAX_IDS, &nids) || !body_string(&b, "as", &as) ||
	    !body_auth(&b, &c->q.auth, &c->code))
		return NULL;
	c->as_given = as != NULL;
	const char *refusal = NULL;
	if (kind == NULL || (strcmp(kind, "approve") != 0 && strcmp(kind, "reject") != 0 &&
	    strcmp(kind, "override") != 0))
		refusal = "decision is \"approve\", \"reject\" or \"override\"";
	else if (many && nids == 0)
		refusal = "ids lists the submissions to decide";
	else if (!many && nids > 0)
		refusal = "ids goes to POST /v1/decisions; this path names its submission";
	else if ((note && strcmp(kind, "approve") != 0) || (reason && strcmp(kind, "reject") != 0) ||
	    (why && strcmp(kind, "override") != 0))
		refusal = "an approval takes a note, a rejection a reason, an override a justification";
	else if ((ack && strcmp(kind, "approve") != 0) || (expires && strcmp(kind, "override") != 0))
		refusal = "ack is an approval's, expires an override's";
	else if (strcmp(kind, "reject") == 0 && (reason == NULL || reason[0] == '\0'))
		refusal = "a rejection needs a reason";
	else if (strcmp(kind, "override") == 0 && why == NULL)
		refusal = "an override needs a justification";
	else if (strcmp(kind, "override") == 0 && nids > 1)
		refusal = "an override takes one submission";
	if (refusal == NULL && expires != NULL &&
	    (!duration_parse(expires, &c->q.expires_s) || c->q.expires_s <= 0))
		refusal = "expires is a duration, such as 8h or 2d";
	if (refusal != NULL) {
		if (c->code != NULL)
			secret_wipe(c->code, strlen(c->code));
		answer_error(rq, OUT_BAD_INPUT, refusal, 0, 0);
		rq->status = 422;
		return NULL;
	}
	c->q.kind = kind;
	c->q.ack = ack;
	c->q.text = note ? note : reason ? reason : why;
	c->q.ids = c->ids;
	c->q.nids = nids;
	const char *token = header(rq, SESSION_HEADER);
	c->session = token ? arena_strdup(rq->arena, token) : NULL;
	return c;
}

void h_decide(server *srv, request *rq)
{
	decide_ctx *c = read_decision(rq, false);
	if (c == NULL)
		return;
	c->key = rq->arg;
	rq->job.ctx = c;
	writer_run(srv, rq, run_decide);
}

void h_decide_many(server *srv, request *rq)
{
	decide_ctx *c = read_decision(rq, true);
	if (c == NULL)
		return;
	rq->job.ctx = c;
	writer_run(srv, rq, run_decide);
}

/* ---- POST /v1/sessions ---- */

typedef struct signin_ctx {
	op_auth auth;
	char *code;
} signin_ctx;

static void run_signin(server *srv, store *w, job *j)
{
	signin_ctx *c = j->ctx;
	request *rq = j->rq;
	op_reply r;
	if (op_signin(w, &srv->live, &c->auth, "api", &r) != OUT_OK) {
		answer_reply(rq, &r);
	} else {
		char token[SESSION_TOKEN_HEX + 1];
		session_new(srv, &rq->who, c->auth.actor, token);
		strbuf b = { 0 };
		int status = reply_open(&b, OUT_OK, r.message, false);
		sb_puts(&b, ", \"reviewer\": ");
		sb_put_json_string(&b, c->auth.actor);
		sb_printf(&b, ", \"token\": \"%s\", \"header\": \"" SESSION_HEADER "\", "
		    "\"idle_seconds\": %lld}\n", token, (long long)srv->live.session_idle);
		secret_wipe(token, sizeof token);
		answer_owned(rq, status, "application/json", b.s, b.n);
	}
	if (c->code != NULL)
		secret_wipe(c->code, strlen(c->code));
}

void h_signin(server *srv, request *rq)
{
	static const char *const fields[] = { "code", "as", NULL };
	signin_ctx *c = arena_alloc(rq->arena, sizeof *c);
	memset(c, 0, sizeof *c);
	body_doc b;
	if (!body_read(rq, fields, &b) || !body_auth(&b, &c->auth, &c->code))
		return;
	if (c->code == NULL) {
		answer_error(rq, OUT_BAD_INPUT, "a sign-in needs the reviewer's code", 0, 0);
		rq->status = 422;
		return;
	}
	rq->job.ctx = c;
	writer_run(srv, rq, run_signin);
}
