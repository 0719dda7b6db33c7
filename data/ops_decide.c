/*
 * ops_decide.c: approve, reject and override, and the console's sign-in.
 *
 * The one place a decision happens, for the CLI, the console and the server
 * alike. Everything runs in one write transaction, in this order: the policy
 * files against the pin (no decision while they differ), the actor (an
 * enabled reviewer), each submission (decision_check), then the code, then
 * the decisions and their events. An id that cannot be decided is reported
 * and the others go on; when none can be, no code is used up. One code covers
 * every id of the call. Approving and rejecting need no code within a live
 * session (review.session_idle) or when review.approve_requires_code is off;
 * an override always needs a fresh one.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "remote.h"

bool op_decide_needs_code(const settings *cfg, const char *kind, bool session)
{
	return strcmp(kind, "override") == 0 || (cfg->approve_requires_code && !session);
}

static void describe(const decide_request *q, const decision_plan *p, decided_item *it)
{
	it->given = p->given;
	it->approvals = p->approvals;
	it->expires_ms = p->expires_ms;
	if (strcmp(q->kind, "override") != 0) {
		snprintf(it->message, sizeof it->message, "submission %lld %s by %s", (long long)p->id,
		    strcmp(q->kind, "approve") == 0 ? "approved" : "rejected", q->auth.actor);
	} else if (!p->complete) {
		it->out = OUT_WAITING;
		snprintf(it->message, sizeof it->message, "submission %lld: override %d of %d recorded "
		    "by %s; it needs a second, different reviewer",
		    (long long)p->id, p->given, p->approvals, q->auth.actor);
	} else {
		char until[32];
		format_time(p->expires_ms, until);
		snprintf(it->message, sizeof it->message, "submission %lld overridden by %s until %s",
		    (long long)p->id, q->auth.actor, until);
	}
}

/* After a refusal of the code or a failure: the ids that passed their checks
 * were not decided either. */
static outcome undecided(decide_result *r)
{
	r->call_refused = true;
	for (int i = 0; i < r->n; i++)
		if (r->items[i].out == OUT_OK || r->items[i].out == OUT_WAITING) {
			r->items[i].out = r->reply.out;
			snprintf(r->items[i].message, sizeof r->items[i].message, "submission %lld: "
			    "nothing was decided", (long long)r->items[i].id);
		}
	return r->reply.out;
}

static outcome decide(store *s, const settings *cfg, const decide_request *q, decide_result *r,
    decision_plan *plans)
{
	op_reply *rep = &r->reply;
	bool needs_code = op_decide_needs_code(cfg, q->kind, q->auth.session);
	if (op_begin_code(s, &q->auth, rep) != OUT_OK) {
		r->call_refused = true;
		return rep->out;
	}
	integrity in;
	if (!integrity_check_loaded(s, NULL, cfg, &in))
		return op_failed(s, rep);
	if (in.tampered) {
		store_rollback(s);
		return op_say(rep, OUT_TAMPERED, "no decision is accepted while the policy files differ "
		    "from the pinned version");
	}
	reviewer who;
	if (op_actor(s, q->auth.actor, false, NULL, &who, rep) != OUT_OK) {
		r->actor_refused = rep->out == OUT_NOT_PERMITTED;
		return rep->out;
	}
	decision_req dq = { .kind = q->kind, .reviewer = q->auth.actor, .reviewer_admin = who.admin,
		.ack = q->ack, .text = q->text, .expires_s = q->expires_s };
	int ok = 0;
	outcome worst = OUT_OK;
	r->n = q->nids;
	for (int i = 0; i < q->nids; i++) {
		decided_item *it = &r->items[i];
		it->id = q->ids[i];
		it->out = decision_check(s, cfg, q->ids[i], &dq, &plans[i], it->message,
		    sizeof it->message);
		if (it->out == OUT_IO_ERROR)
			return op_failed(s, rep);
		if (it->out == OUT_OK)
			ok++;
		else if (worst == OUT_OK)
			worst = it->out;
	}
	if (ok == 0) {
		store_rollback(s);
		return op_say(rep, worst, "nothing was decided");
	}
	if (needs_code && op_code(s, cfg, &q->auth, rep, NULL) != OUT_OK)
		return undecided(r);
	bool partial = false;
	for (int i = 0; i < q->nids; i++) {
		if (r->items[i].out != OUT_OK)
			continue;
		if (!decision_record(s, &dq, &plans[i])) {
			op_failed(s, rep);
			snprintf(rep->message, sizeof rep->message, "%.400s; nothing was decided", s->err);
			return undecided(r);
		}
		describe(q, &plans[i], &r->items[i]);
		partial |= r->items[i].out == OUT_WAITING;
	}
	rep->out = worst != OUT_OK ? worst : partial ? OUT_WAITING : OUT_OK;
	if (!store_commit(s)) {
		op_failed(s, rep);
		snprintf(rep->message, sizeof rep->message, "%.400s; nothing was decided", s->err);
		return undecided(r);
	}
	return rep->out;
}

outcome op_decide(store *s, const settings *cfg, const decide_request *given, decide_result *r)
{
	static decision_plan plans[OP_MAX_IDS];
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	if (given->nids <= 0 || given->nids > OP_MAX_IDS)
		return op_say(rep, OUT_BAD_INPUT, "between 1 and %d submission ids", OP_MAX_IDS);
	decide_request named = *given;
	char name[IDENTITY_NAME_MAX + 1];
	if (op_named(&given->auth, &named.auth, name, rep) != OUT_OK)
		return rep->out;
	if (s->remote)
		return remote_decide(s, &named, r);
	if (!op_decide_needs_code(cfg, named.kind, named.auth.session))
		named.auth.code = NULL;         /* given, but not checked: no attempt */
	outcome o = decide(s, cfg, &named, r, plans);
	/* a submission whose row the chain does not back is audited, whatever
	 * became of the others, once the decisions' transaction has ended */
	for (int i = 0; i < r->n; i++) {
		op_reply tr;
		if (r->items[i].out == OUT_TAMPERED &&
		    op_tamper_record(s, named.auth.actor, r->items[i].id, plans[i].status,
		    plans[i].tamper, &tr) != OUT_OK && r->reply.out == OUT_TAMPERED)
			snprintf(r->reply.message, sizeof r->reply.message, "%.250s (and it could not be "
			    "audited: %.200s)", r->items[i].message, tr.message);
	}
	return o;
}

outcome op_signin(store *s, const settings *cfg, const op_auth *given, const char *via,
    op_reply *r)
{
	memset(r, 0, sizeof *r);
	op_auth named;
	const op_auth *auth = &named;
	char name[IDENTITY_NAME_MAX + 1];
	if (op_named(given, &named, name, r) != OUT_OK)
		return r->out;
	if (s->remote)
		return remote_signin(s, auth, r);
	if (op_begin_code(s, auth, r) != OUT_OK)
		return r->out;
	if (op_code(s, cfg, auth, r, NULL) != OUT_OK)
		return r->out;
	json_t *d = json_pack("{s:s}", "via", via);
	bool ok = audit_append(s, auth->actor, "session.signin", auth->actor, d);
	json_decref(d);
	if (!ok)
		return op_failed(s, r);
	op_say(r, OUT_OK, "signed in as %s", auth->actor);
	return op_commit(s, r);
}
