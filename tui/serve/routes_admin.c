/*
 * routes_admin.c: administration through the server (PRODUCT.md sections 5
 * and 9); reviewers have routes_reviewers.c.
 *
 *   POST /v1/submissions/ID/reevaluate, POST /v1/policy/pin,
 *   POST /v1/audit/rotate-key
 *
 * Each change is the operation its command calls (op_reevaluate,
 * op_policy_pin, op_audit_rotate_key), run as a writer job with the
 * writer's settings and policy set; the operation checks the actor and
 * their code itself, as on the command line. After a pin the writer reads
 * its policies and config.yaml again, so that what it evaluates with is the version just pinned. A key
 * rotation switches the writer's key as it commits; the server's other
 * connections load the new key before their next write (ops_keys.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

typedef struct admin_ctx {
	op_auth auth;
	char *code;
	const char *text;               /* a pin's justification */
} admin_ctx;

/* Reads an administrative body with the fields given into a new context;
 * NULL after answering. Whom it acts as and the code are read last, by
 * body_auth. */
static admin_ctx *read_admin(request *rq, const char *const *fields, body_doc *b)
{
	admin_ctx *c = arena_alloc(rq->arena, sizeof *c);
	memset(c, 0, sizeof *c);
	return body_read(rq, fields, b) ? c : NULL;
}

static void wipe_code(admin_ctx *c)
{
	if (c->code != NULL)
		secret_wipe(c->code, strlen(c->code));
}

static void refuse_body(request *rq, admin_ctx *c, const char *why)
{
	wipe_code(c);
	answer_error(rq, OUT_BAD_INPUT, why, 0, 0);
	rq->status = 422;
}

/* ---- POST /v1/submissions/ID/reevaluate ---- */

static void run_reevaluate(server *srv, store *w, job *j)
{
	admin_ctx *c = j->ctx;
	request *rq = j->rq;
	sub_row row;
	int found = query_get(w, rq->arg, &row);
	if (found <= 0) {
		char why[200];
		snprintf(why, sizeof why, "no submission %.100s", rq->arg);
		answer_error(rq, found == 0 ? OUT_NOT_FOUND : found == -2 ? OUT_BAD_INPUT :
		    OUT_IO_ERROR, found == 0 ? why : store_errmsg(w), 0, 0);
		return;
	}
	int64_t id = row.id;
	query_row_done(&row);
	reevaluated *r = malloc(sizeof *r);
	if (r == NULL)
		abort();
	outcome o = op_reevaluate(w, &srv->live, srv->ps, c->auth.actor, id, r);
	if (o != OUT_OK && o != OUT_WAITING && o != OUT_REFUSED) {
		answer_reply(rq, &r->reply);
		free(r);
		return;
	}
	strbuf b = { 0 };
	int status = reply_open(&b, o, r->reply.message, false);
	sb_printf(&b, ", \"id\": %lld, \"before\": \"%s\", \"status\": \"%s\", "
	    "\"policy_version\": %d", (long long)id, r->before, status_name(r->after), r->version);
	free(r);
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	submission_view v;
	op_reply rr;
	if (op_submission_get(w, key, &v, &rr) == OUT_OK) {
		char *json = submission_answer_json(&v);
		sb_puts(&b, ", \"result\": ");
		sb_puts(&b, json);
		free(json);
	}
	submission_view_free(&v);       /* read, or tampered */
	sb_puts(&b, "}\n");
	answer_owned(rq, status, "application/json", b.s, b.n);
}

void h_reevaluate(server *srv, request *rq)
{
	static const char *const fields[] = { "as", NULL };
	body_doc b;
	const char *as = NULL;
	admin_ctx *c = read_admin(rq, fields, &b);
	if (c == NULL || !body_string(&b, "as", &as) || !acting_as(rq, as, &c->auth.actor))
		return;
	rq->job.ctx = c;
	writer_run(srv, rq, run_reevaluate);
}

/* ---- POST /v1/policy/pin ---- */

static void run_pin(server *srv, store *w, job *j)
{
	admin_ctx *c = j->ctx;
	request *rq = j->rq;
	/* as the command: the files must load without errors before they are
	 * pinned */
	diags errs = { 0 };
	policy_set *ps = store_policies_load(w, &errs);
	if (ps == NULL || errs.n > 0) {
		char why[600];
		if (errs.n > 0)
			snprintf(why, sizeof why, "%s:%d:%d: %s%s", errs.items[0].file, errs.items[0].line,
			    errs.items[0].col, errs.items[0].msg, errs.n > 1 ? " (and more: arbiter "
			    "policy check)" : "");
		else
			snprintf(why, sizeof why, "cannot read %.400s/policies", store_dir(w));
		answer_error(rq, OUT_BAD_INPUT, why, 0, 0);
		rq->status = 422;
		diags_free(&errs);
		policy_set_free(ps);
		wipe_code(c);
		return;
	}
	diags_free(&errs);
	policy_set_free(ps);
	policy_pinned r;
	op_policy_pin(w, &srv->live, &c->auth, c->text, &r);
	wipe_code(c);
	if (r.reply.out != OUT_OK) {
		answer_reply(rq, &r.reply);
		return;
	}
	char err[512] = "";
	bool reloaded = r.version == 0 || writer_load(srv, err, sizeof err);
	strbuf b = { 0 };
	int status = reply_open(&b, OUT_OK, r.reply.message, false);
	sb_printf(&b, ", \"version\": %d, \"was\": %d, \"changed\": ", r.version ? r.version :
	    r.was, r.was);
	sb_put_json_string(&b, r.version ? r.what : "");
	if (!reloaded) {
		sb_puts(&b, ", \"reload_error\": ");
		sb_put_json_string(&b, err);
	}
	sb_puts(&b, "}\n");
	answer_owned(rq, status, "application/json", b.s, b.n);
}

void h_pin(server *srv, request *rq)
{
	static const char *const fields[] = { "justification", "as", "code", NULL };
	body_doc b;
	admin_ctx *c = read_admin(rq, fields, &b);
	if (c == NULL || !body_string(&b, "justification", &c->text) ||
	    !body_auth(&b, &c->auth, &c->code))
		return;
	if (c->text == NULL) {
		refuse_body(rq, c, "pinning needs a justification");
		return;
	}
	rq->job.ctx = c;
	writer_run(srv, rq, run_pin);
}

/* ---- POST /v1/audit/rotate-key ---- */

static void run_rotate_key(server *srv, store *w, job *j)
{
	admin_ctx *c = j->ctx;
	request *rq = j->rq;
	key_rotated r;
	op_audit_rotate_key(w, &srv->live, &c->auth, &r);
	wipe_code(c);
	if (r.reply.out != OUT_OK) {
		answer_reply(rq, &r.reply);
		return;
	}
	strbuf b = { 0 };
	int status = reply_open(&b, OUT_OK, r.reply.message, false);
	sb_printf(&b, ", \"seq\": %lld, \"keyid\": \"%s\", \"was\": \"%s\", \"pubkey\": \"%s\"}\n",
	    (long long)r.seq, r.keyid, r.was, r.pubkey);
	answer_owned(rq, status, "application/json", b.s, b.n);
}

void h_rotate_key(server *srv, request *rq)
{
	static const char *const fields[] = { "as", "code", NULL };
	body_doc b;
	admin_ctx *c = read_admin(rq, fields, &b);
	if (c == NULL || !body_auth(&b, &c->auth, &c->code))
		return;
	rq->job.ctx = c;
	writer_run(srv, rq, run_rotate_key);
}
