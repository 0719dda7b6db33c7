/*
 * routes_reviewers.c: reviewer administration through the server
 * (PRODUCT.md sections 4 and 9).
 *
 *   GET /v1/reviewers, POST /v1/reviewers,
 *   POST /v1/reviewers/NAME/{disable,enable,unlock,reset,role}
 *
 * Admins and the owner (LET_ADMIN). Each change is the operation its
 * command calls (ops_reviewer.c, ops_reviewer_admin.c), run as a writer job
 * with the writer's settings; the operation checks the actor and their code
 * itself, as on the command line. A new secret (add, enable, reset) is in
 * the answer to the caller only, once, and nowhere else. A reviewer who is
 * disabled, enabled again or given a new secret loses every API session they
 * had: a session signed in with the old secret, or before the disable, does
 * not outlive it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

typedef struct reviewer_ctx {
	op_auth auth;
	char *code;
	const char *name;               /* the reviewer added or changed */
	char named[IDENTITY_NAME_MAX + 1];      /* that name lower-cased */
	bool admin;                     /* add: the role; role: the new one */
	bool token;                     /* enable: make a new bearer token */
	identity_spec spec;             /* add: how the new reviewer is reached */
	bool spec_given;
} reviewer_ctx;

/* Reads a body with the fields given into a new context; NULL after
 * answering. Whom it acts as and the code are read last, by body_auth. */
static reviewer_ctx *read_ctx(request *rq, const char *const *fields, body_doc *b)
{
	reviewer_ctx *c = arena_alloc(rq->arena, sizeof *c);
	memset(c, 0, sizeof *c);
	return body_read(rq, fields, b) ? c : NULL;
}

static void wipe_code(reviewer_ctx *c)
{
	if (c->code != NULL)
		secret_wipe(c->code, strlen(c->code));
}

static void refuse_body(request *rq, reviewer_ctx *c, const char *why)
{
	wipe_code(c);
	answer_error(rq, OUT_BAD_INPUT, why, 0, 0);
	rq->status = 422;
}

/* "admin" or "reviewer" into *admin; else refused (422). */
static bool read_role(request *rq, reviewer_ctx *c, const char *role, bool *admin)
{
	if (role != NULL && strcmp(role, "admin") != 0 && strcmp(role, "reviewer") != 0) {
		refuse_body(rq, c, "role is \"reviewer\" or \"admin\"");
		return false;
	}
	*admin = role != NULL && strcmp(role, "admin") == 0;
	return true;
}

/* The answer that hands a reviewer's new secret (and token) to the caller:
 * the operation's message, name, role, the secret in base32 and its
 * otpauth:// URI; everything secret is wiped once written. */
static void answer_secret(request *rq, const char *name, reviewer_added *r)
{
	char *b32 = totp_base32(r->key, REVIEWER_KEY_BYTES);
	secret_wipe(r->key, sizeof r->key);
	if (b32 == NULL)
		abort();
	strbuf b = { 0 };
	int status = reply_open(&b, OUT_OK, r->reply.message, false);
	sb_puts(&b, ", \"name\": ");
	sb_put_json_string(&b, name);
	sb_printf(&b, ", \"role\": \"%s\", \"secret\": \"%s\", \"uri\": \"otpauth://totp/arbiter:",
	    r->admin ? "admin" : "reviewer", b32);
	sb_puts(&b, name);      /* a name is URI-safe (identity_name) */
	sb_printf(&b, "?secret=%s&issuer=arbiter&algorithm=SHA1&digits=6&period=30\"", b32);
	secret_wipe(b32, strlen(b32));
	free(b32);
	if (r->token[0] != '\0') {
		sb_puts(&b, ", \"token\": ");
		sb_put_json_string(&b, r->token);
		secret_wipe(r->token, sizeof r->token);
	}
	sb_puts(&b, "}\n");
	answer_owned(rq, status, "application/json", b.s, b.n);
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
	reviewer_ctx *c = j->ctx;
	reviewer_added r;
	if (op_reviewer_enrol(w, &srv->live, &c->auth, c->name, c->admin,
	    c->spec_given ? &c->spec : NULL, &r) == OUT_OK)
		answer_secret(j->rq, c->name, &r);
	else
		answer_reply(j->rq, &r.reply);
	wipe_code(c);
}

void h_reviewer_add(server *srv, request *rq)
{
	static const char *const fields[] = { "name", "role", "user", "uid", "token", "as", "code",
		NULL };
	body_doc b;
	const char *name = NULL, *role = NULL;
	reviewer_ctx *c = read_ctx(rq, fields, &b);
	if (c == NULL || !body_string(&b, "name", &name) || !body_string(&b, "role", &role) ||
	    !body_identity(&b, false, &c->spec) || !body_auth(&b, &c->auth, &c->code))
		return;
	c->spec_given = c->spec.login != NULL || c->spec.uid >= 0 || c->spec.token;
	if (name == NULL || !identity_name(name, c->named)) {
		refuse_body(rq, c, name == NULL ? "a reviewer needs a name" : "name is not a reviewer "
		    "name (" IDENTITY_NAME_RULE ")");
		return;
	}
	if (!read_role(rq, c, role, &c->admin))
		return;
	c->name = c->named;
	rq->job.ctx = c;
	writer_run(srv, rq, run_reviewer_add);
}

/* ---- POST /v1/reviewers/NAME/{disable,enable,unlock,reset,role} ---- */

static void run_reviewer_disable(server *srv, store *w, job *j)
{
	reviewer_ctx *c = j->ctx;
	op_reply r;
	if (op_reviewer_disable(w, &srv->live, &c->auth, c->name, &r) == OUT_OK)
		sessions_end(srv, c->name);
	answer_reply(j->rq, &r);
	wipe_code(c);
}

static void run_reviewer_enable(server *srv, store *w, job *j)
{
	reviewer_ctx *c = j->ctx;
	reviewer_added r;
	if (op_reviewer_enable(w, &srv->live, &c->auth, c->name, c->token, &r) == OUT_OK) {
		sessions_end(srv, c->name);
		answer_secret(j->rq, c->name, &r);
	} else {
		answer_reply(j->rq, &r.reply);
	}
	wipe_code(c);
}

static void run_reviewer_unlock(server *srv, store *w, job *j)
{
	reviewer_ctx *c = j->ctx;
	op_reply r;
	op_reviewer_unlock(w, &srv->live, &c->auth, c->name, &r);
	answer_reply(j->rq, &r);
	wipe_code(c);
}

static void run_reviewer_reset(server *srv, store *w, job *j)
{
	reviewer_ctx *c = j->ctx;
	reviewer_added r;
	if (op_reviewer_reset(w, &srv->live, &c->auth, c->name, &r) == OUT_OK) {
		sessions_end(srv, c->name);
		answer_secret(j->rq, c->name, &r);
	} else {
		answer_reply(j->rq, &r.reply);
	}
	wipe_code(c);
}

static void run_reviewer_role(server *srv, store *w, job *j)
{
	reviewer_ctx *c = j->ctx;
	op_reply r;
	op_reviewer_role(w, &srv->live, &c->auth, c->name, c->admin, &r);
	answer_reply(j->rq, &r);
	wipe_code(c);
}

/* A change to reviewer rq->arg with the body's fields: the run of the
 * route, once the fields that are neither whom the caller acts as nor the
 * code (extra) and then those two (body_auth) are read. */
static void change(server *srv, request *rq, const char *const *fields,
    bool (*extra)(request *, body_doc *, reviewer_ctx *), void (*run)(server *, store *, job *))
{
	body_doc b;
	reviewer_ctx *c = read_ctx(rq, fields, &b);
	if (c == NULL || (extra != NULL && !extra(rq, &b, c)) ||
	    !body_auth(&b, &c->auth, &c->code))
		return;
	/* as names are compared (and sessions ended); one that is no name is
	 * the operation's to refuse */
	c->name = identity_name(rq->arg, c->named) ? c->named : rq->arg;
	rq->job.ctx = c;
	writer_run(srv, rq, run);
}

static const char *const auth_fields[] = { "as", "code", NULL };

void h_reviewer_disable(server *srv, request *rq)
{
	change(srv, rq, auth_fields, NULL, run_reviewer_disable);
}

static bool enable_fields(request *rq, body_doc *b, reviewer_ctx *c)
{
	(void)rq;
	return body_bool(b, "token", &c->token);
}

void h_reviewer_enable(server *srv, request *rq)
{
	static const char *const fields[] = { "token", "as", "code", NULL };
	change(srv, rq, fields, enable_fields, run_reviewer_enable);
}

void h_reviewer_unlock(server *srv, request *rq)
{
	change(srv, rq, auth_fields, NULL, run_reviewer_unlock);
}

void h_reviewer_reset(server *srv, request *rq)
{
	change(srv, rq, auth_fields, NULL, run_reviewer_reset);
}

static bool role_fields(request *rq, body_doc *b, reviewer_ctx *c)
{
	const char *role = NULL;
	if (!body_string(b, "role", &role))
		return false;
	if (role == NULL) {
		refuse_body(rq, c, "role is \"reviewer\" or \"admin\"");
		return false;
	}
	return read_role(rq, c, role, &c->admin);
}

void h_reviewer_role(server *srv, request *rq)
{
	static const char *const fields[] = { "role", "as", "code", NULL };
	change(srv, rq, fields, role_fields, run_reviewer_role);
}
