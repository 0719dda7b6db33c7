/*
 * routes_record.c: what callers record through the server (PRODUCT.md
 * sections 6 and 9).
 *
 *   POST /v1/audit/records              {"event": "app.NAME", "subject": S,
 *                                        "details": {...}, "as": NAME}
 *   POST /v1/submissions/ID/outcome     the outcome itself, a JSON object
 *
 * Both are open to every identity at the route, since what may be recorded
 * depends on the submission: a reviewer records app.* events, an agent only
 * about a submission it submitted (op_audit_record); an outcome is its
 * submitter's (op_submission_outcome), or the owner's. The operations
 * decide, as writer jobs; a refusal of the caller is noted for
 * access.denied (denials.c) here, where refusals are coalesced. Answers:
 * 200 with the event's seq; a malformed body 400 with its position, one over
 * its limit 413, a document the operation refuses 422.
 */
#include <stdio.h>
#include <string.h>

#include "mhd.h"
#include "serve.h"

/* A refused body: 400 malformed (with its position), 413 too large, else
 * the operation's answer (422 for bad_input). */
static void answer_refusal(request *rq, const op_reply *r, bool malformed, bool too_large,
    int line, int col)
{
	if (r->out == OUT_BAD_INPUT && too_large)
		answer_status(rq, MHD_HTTP_CONTENT_TOO_LARGE, "bad_input", r->message);
	else if (r->out == OUT_BAD_INPUT && malformed)
		answer_error(rq, OUT_BAD_INPUT, r->message, line, col);
	else
		answer_reply(rq, r);
}

static void answer_seq(request *rq, const op_reply *r, int64_t seq, int64_t id)
{
	strbuf b = { 0 };
	int status = reply_open(&b, OUT_OK, r->message, false);
	if (id > 0)
		sb_printf(&b, ", \"id\": %lld", (long long)id);
	sb_printf(&b, ", \"seq\": %lld}\n", (long long)seq);
	answer_owned(rq, status, "application/json", b.s, b.n);
}

/* ---- POST /v1/audit/records ---- */

static void run_record(server *srv, store *w, job *j)
{
	app_record *q = j->ctx;
	app_recorded r;
	outcome o = op_audit_record(w, q, &r);
	if (r.refused[0] != '\0')
		denied_request(srv, j->rq, r.refused);
	if (o == OUT_OK)
		answer_seq(j->rq, &r.reply, r.seq, 0);
	else
		answer_refusal(j->rq, &r.reply, r.malformed, r.too_large, r.line, r.col);
}

void h_record(server *srv, request *rq)
{
	static const char *const fields[] = { "event", "subject", "details", "as", NULL };
	body_doc b;
	app_record *q = arena_alloc(rq->arena, sizeof *q);
	memset(q, 0, sizeof *q);
	const char *as = NULL;
	if (!body_read(rq, fields, &b) || !body_string(&b, "event", &q->event) ||
	    !body_string(&b, "subject", &q->subject) ||
	    !body_object(&b, "details", &q->details, &q->details_len) ||
	    !body_string(&b, "as", &as) || !acting_as(rq, as, &q->actor))
		return;
	if (q->event == NULL) {
		answer_error(rq, OUT_BAD_INPUT, "a record names its event: {\"event\": \"app.NAME\"}",
		    0, 0);
		rq->status = 422;
		return;
	}
	q->agent = rq->who.kind == WHO_AGENT;
	q->details_file = "details";
	rq->job.ctx = q;
	writer_run(srv, rq, run_record);
}

/* ---- POST /v1/submissions/ID/outcome ---- */

static void run_outcome(server *srv, store *w, job *j)
{
	outcome_report *q = j->ctx;
	q->ps = srv->ps;
	outcome_reported r;
	outcome o = op_submission_outcome(w, q, &r);
	if (r.others)
		denied_request(srv, j->rq, "another's submission");
	if (o == OUT_OK)
		answer_seq(j->rq, &r.reply, r.seq, r.id);
	else
		answer_refusal(j->rq, &r.reply, r.malformed, r.too_large, r.line, r.col);
}

void h_outcome(server *srv, request *rq)
{
	if (body_format(rq) != BODY_JSON) {
		answer_status(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_input", "an outcome is a JSON "
		    "object (application/json)");
		return;
	}
	outcome_report *q = arena_alloc(rq->arena, sizeof *q);
	memset(q, 0, sizeof *q);
	if (!acting_as(rq, NULL, &q->actor))
		return;
	q->key = rq->arg;
	/* the owner may report any submission's; everyone else their own */
	q->submitter = rq->who.kind == WHO_OWNER ? NULL : q->actor;
	q->agent = rq->who.kind == WHO_AGENT;
	q->text = rq->body ? rq->body : "";
	q->len = rq->body ? rq->len : 0;
	q->file = "body";
	rq->job.ctx = q;
	writer_run(srv, rq, run_outcome);
}
