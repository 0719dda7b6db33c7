/*
 * routes_admin.c: administration through the server (PRODUCT.md sections 4,
 * 5 and 9).
 *
 *   GET /v1/reviewers, POST /v1/reviewers, POST /v1/reviewers/NAME/disable
 *   POST /v1/submissions/ID/reevaluate, POST /v1/policy/pin
 *
 * Each change is the operation its command calls (op_reviewer_add,
 * op_reviewer_disable, op_reevaluate, op_policy_pin), run as a writer job
 * with the writer's settings and policy set; the operation checks the actor
 * and their code itself, as on the command line. A new reviewer's secret is
 * in the answer to the caller only, once, and nowhere else. After a pin the
 * writer reads its policies and config.yaml again, so that what it
 * evaluates with is the version just pinned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

typedef struct admin_ctx {
	op_auth auth;
	char *code;
	const char *name;               /* the reviewer added or disabled */
	const char *text;               /* a pin's justification */
	bool admin;
	identity_spec spec;             /* how a new reviewer is reached */
	bool spec_given;
} admin_ctx;

/* Reads an administrative body: the fields given, "as" and "code"; NULL
 * after answering. */
static admin_ctx *read_admin(request *rq, const char *const *fields, body_doc *b)
{
	admin_ctx *c = arena_alloc(rq->arena, sizeof *c);
	memset(c, 0, sizeof *c);
	const char *as = NULL;
	if (!body_read(rq, fields, b) || !body_string(b, "as", &as))
		return NULL;
	if (!acting_as(rq, as, &c->auth.actor))
		return NULL;
	return c;
}

static void wipe_code(admin_ctx *c)
{
	if (c->code != NULL)
		secret_wipe(c->code, strlen(c->code));
}

static void refuse_body(request *rq, const char *why)
{
	answer_error(rq, OUT_BAD_INPUT, why, 0, 0);
	rq->status = 422;
}

/* ---- GET /v1/reviewers ---- */

static char *reviewer_item(const void *items, size_t i)
{
	return reviewer_json(&((const reviewer_view *)items)[i]);
}

void h_reviewers(server *srv, request *rq)
{
	(void)srv;
	reviewers_view v;
	op_reply r;
	if (op_reviewers(rq->reader, &v, &r) != OUT_OK) {
		answer_reply(rq, &r);
		return;
	}
	answer_items(rq, v.items, v.n, reviewer_item);
	reviewers_view_free(&v);
}

/* ---- POST /v1/reviewers ---- */

static void run_reviewer_add(server *srv, store *w, job *j)
{
	admin_ctx *c = j->ctx;
	reviewer_added r;
	if (op_reviewer_enrol(w, &srv->live, &c->auth, c->name, c->admin,
	    c->spec_given ? &c->spec : NULL, &r) != OUT_OK) {
		answer_reply(j->rq, &r.reply);
		wipe_code(c);
		return;
	}
	char *b32 = totp_base32(r.key, REVIEWER_KEY_BYTES);
	secret_wipe(r.key, sizeof r.key);
	if (b32 == NULL)
		abort();
	strbuf b = { 0 };
	int status = reply_open(&b, OUT_OK, r.reply.message, false);
	sb_puts(&b, ", \"name\": ");
	sb_put_json_string(&b, c->name);
	sb_printf(&b, ", \"role\": \"%s\", \"secret\": \"%s\", \"uri\": \"otpauth://totp/arbiter:",
	    c->admin ? "admin" : "reviewer", b32);
	sb_puts(&b, c->name);   /* a reviewer name is URI-safe (reviewer_name_valid) */
	sb_printf(&b, "?secret=%s&issuer=arbiter&algorithm=SHA1&digits=6&period=30\"", b32);
	secret_wipe(b32, strlen(b32));
	free(b32);
	if (r.token[0] != '\0') {
		sb_puts(&b, ", \"token\": ");
		sb_put_json_string(&b, r.token);
		secret_wipe(r.token, sizeof r.token);
	}
	sb_puts(&b, "}\n");
	answer_owned(j->rq, status, "application/json", b.s, b.n);
	wipe_code(c);
}

void h_reviewer_add(server *srv, request *rq)
{
	static const char *const fields[] = { "name", "role", "user", "uid", "token", "as", "code",
		NULL };
	body_doc b;
	const char *name = NULL, *role = NULL;
	admin_ctx *c = read_admin(rq, fields, &b);
	if (c == NULL || !body_string(&b, "name", &name) || !body_string(&b, "role", &role) ||
	    !body_identity(&b, false, &c->spec) || !body_secret(&b, "code", &c->code))
		return;
	c->spec_given = c->spec.login != NULL || c->spec.uid >= 0 || c->spec.token;
	if (name == NULL || !reviewer_name_valid(name)) {
		refuse_body(rq, name == NULL ? "a reviewer needs a name" : "name is not a reviewer "
		    "name (letters, digits, . _ - @; at most 64)");
		return;
	}
	if (role != NULL && strcmp(role, "admin") != 0 && strcmp(role, "reviewer") != 0) {
		refuse_body(rq, "role is \"reviewer\" or \"admin\"");
		return;
	}
	c->name = name;
	c->admin = role != NULL && strcmp(role, "admin") == 0;
	c->auth.code = c->code;
	rq->job.ctx = c;
	writer_run(srv, rq, run_reviewer_add);
}

/* ---- POST /v1/reviewers/NAME/disable ---- */

static void run_reviewer_disable(server *srv, store *w, job *j)
{
	admin_ctx *c = j->ctx;
	op_reply r;
	op_reviewer_disable(w, &srv->live, &c->auth, c->name, &r);
	answer_reply(j->rq, &r);
	wipe_code(c);
}

void h_reviewer_disable(server *srv, request *rq)
{
	static const char *const fields[] = { "as", "code", NULL };
	body_doc b;
	admin_ctx *c = read_admin(rq, fields, &b);
	if (c == NULL || !body_secret(&b, "code", &c->code))
		return;
	c->name = rq->arg;
	c->auth.code = c->code;
	rq->job.ctx = c;
	writer_run(srv, rq, run_reviewer_disable);
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
		char *json = submission_json(&v);
		sb_puts(&b, ", \"result\": ");
		sb_puts(&b, json);
		free(json);
		submission_view_free(&v);
	}
	sb_puts(&b, "}\n");
	answer_owned(rq, status, "application/json", b.s, b.n);
}

void h_reevaluate(server *srv, request *rq)
{
	static const char *const fields[] = { "as", NULL };
	body_doc b;
	admin_ctx *c = read_admin(rq, fields, &b);
	if (c == NULL)
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
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/policies", srv->home);
	diags errs = { 0 };
	policy_set *ps = policy_set_load(dir, "policies", &errs);
	if (ps == NULL || errs.n > 0) {
		char why[600];
		if (errs.n > 0)
			snprintf(why, sizeof why, "%s:%d:%d: %s%s", errs.items[0].file, errs.items[0].line,
			    errs.items[0].col, errs.items[0].msg, errs.n > 1 ? " (and more: arbiter "
			    "policy check)" : "");
		else
			snprintf(why, sizeof why, "cannot read %.400s", dir);
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
	    !body_secret(&b, "code", &c->code))
		return;
	if (c->text == NULL) {
		refuse_body(rq, "pinning needs a justification");
		return;
	}
	c->auth.code = c->code;
	rq->job.ctx = c;
	writer_run(srv, rq, run_pin);
}
