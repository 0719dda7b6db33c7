/*
 * routes_agents.c: agents through the server (PRODUCT.md section 9).
 *
 *   GET /v1/agents, POST /v1/agents, DELETE /v1/agents/NAME
 *
 * The operations of arbiter agent add, list and revoke (data/ops_agent.c),
 * for admins with their code and the owner. A new agent's token is in the
 * answer to the caller only, once: the store keeps its SHA-256. A revoked
 * agent is refused from its next request on, and its open event streams end
 * at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

typedef struct agent_ctx {
	op_auth auth;
	char *code;
	char name[IDENTITY_NAME_MAX + 1];
	identity_spec spec;
} agent_ctx;

static void wipe_code(agent_ctx *c)
{
	if (c->code != NULL)
		secret_wipe(c->code, strlen(c->code));
}

/* ---- GET /v1/agents ---- */

static char *agent_item(const void *items, size_t i)
{
	return agent_json(&((const agent_view *)items)[i]);
}

void h_agents(server *srv, request *rq)
{
	(void)srv;
	agents_view v;
	op_reply r;
	if (op_agents(rq->reader, &v, &r) != OUT_OK) {
		answer_reply(rq, &r);
		return;
	}
	answer_items(rq, v.items, v.n, agent_item);
	agents_view_free(&v);
}

/* ---- POST /v1/agents ---- */

static void run_agent_add(server *srv, store *w, job *j)
{
	agent_ctx *c = j->ctx;
	agent_added r;
	op_agent_add(w, &srv->live, &c->auth, c->name, &c->spec, &r);
	wipe_code(c);
	if (r.reply.out != OUT_OK) {
		answer_reply(j->rq, &r.reply);
		return;
	}
	strbuf b = { 0 };
	int status = reply_open(&b, OUT_OK, r.reply.message, false);
	sb_puts(&b, ", \"name\": ");
	sb_put_json_string(&b, c->name);
	if (r.token[0] != '\0') {
		sb_puts(&b, ", \"token\": ");
		sb_put_json_string(&b, r.token);
		secret_wipe(r.token, sizeof r.token);
	}
	sb_puts(&b, "}\n");
	answer_owned(j->rq, status, "application/json", b.s, b.n);
}

void h_agent_add(server *srv, request *rq)
{
	static const char *const fields[] = { "name", "user", "uid", "token", "rate", "as", "code",
		NULL };
	agent_ctx *c = arena_alloc(rq->arena, sizeof *c);
	memset(c, 0, sizeof *c);
	body_doc b;
	const char *name = NULL;
	if (!body_read(rq, fields, &b) || !body_string(&b, "name", &name) ||
	    !body_identity(&b, true, &c->spec) || !body_auth(&b, &c->auth, &c->code))
		return;
	const char *refusal = NULL;
	if (name == NULL || !identity_name(name, c->name))
		refusal = "name is not an agent name (" IDENTITY_NAME_RULE ")";
	else if (c->spec.login == NULL && c->spec.uid < 0 && !c->spec.token)
		refusal = "an agent is reached by user, uid or token (or a uid and a token)";
	if (refusal != NULL) {
		wipe_code(c);
		answer_error(rq, OUT_BAD_INPUT, refusal, 0, 0);
		rq->status = 422;
		return;
	}
	rq->job.ctx = c;
	writer_run(srv, rq, run_agent_add);
}

/* ---- DELETE /v1/agents/NAME ---- */

static void run_agent_revoke(server *srv, store *w, job *j)
{
	agent_ctx *c = j->ctx;
	op_reply r;
	if (op_agent_revoke(w, &srv->live, &c->auth, c->name, &r) == OUT_OK)
		identity_revoked(c->name);
	wipe_code(c);
	answer_reply(j->rq, &r);
}

void h_agent_revoke(server *srv, request *rq)
{
	static const char *const fields[] = { "as", "code", NULL };
	agent_ctx *c = arena_alloc(rq->arena, sizeof *c);
	memset(c, 0, sizeof *c);
	body_doc b;
	if (!body_read(rq, fields, &b) || !body_auth(&b, &c->auth, &c->code))
		return;
	if (!identity_name(rq->arg, c->name)) {
		wipe_code(c);
		answer_error(rq, OUT_NOT_FOUND, "no such agent", 0, 0);
		return;
	}
	rq->job.ctx = c;
	writer_run(srv, rq, run_agent_revoke);
}
