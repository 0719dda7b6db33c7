/*
 * ops_policy.c: pinning the policy set and evaluating again under it
 * (PRODUCT.md section 5).
 *
 * A pin records the files as they are now, so it is made by an enabled admin
 * with a code and a written justification, and only when there is something
 * to pin. A reevaluation is refused while the files differ from the pin: the
 * verdict would be the tampered set's. Both compare the bytes in use with the
 * pin under the write lock.
 */
#include <stdio.h>
#include <string.h>

#include "remote.h"

outcome op_policy_pin(store *s, const settings *cfg, const op_auth *given,
    const char *justification, policy_pinned *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	op_auth named;
	const op_auth *auth = &named;
	char name[IDENTITY_NAME_MAX + 1];
	if (op_named(given, &named, name, rep) != OUT_OK)
		return rep->out;
	if (s->remote)
		return remote_policy_pin(s, auth, justification, r);
	if (op_begin_code(s, auth, rep) != OUT_OK)
		return rep->out;
	integrity in;
	if (!integrity_check(s, &in))
		return op_failed(s, rep);
	r->was = in.version;
	snprintf(r->what, sizeof r->what, "%s", in.what);
	if (!in.tampered) {
		store_rollback(s);
		return op_say(rep, OUT_OK, "the policy files are already pinned as version %d: nothing "
		    "to pin", in.version);
	}
	size_t chars = utf8_length(justification, strlen(justification));
	if ((int)chars < cfg->justification_min_chars) {
		store_rollback(s);
		return op_say(rep, OUT_NOT_PERMITTED, "the justification has %zu characters; at least "
		    "%d are required (review.justification_min_chars)", chars,
		    cfg->justification_min_chars);
	}
	reviewer who;
	if (op_actor(s, auth->actor, true, "pin policies", &who, rep) != OUT_OK ||
	    op_code(s, cfg, auth, rep, NULL) != OUT_OK)
		return rep->out;
	if (!integrity_pin(s, auth->actor, justification, "policy.pin", &r->version)) {
		op_failed(s, rep);
		snprintf(rep->message, sizeof rep->message, "%.400s; nothing was pinned", s->err);
		return rep->out;
	}
	op_say(rep, OUT_OK, "pinned the policy files as version %d (was %d: %s)", r->version,
	    r->was, r->what);
	if (op_commit(s, rep) != OUT_OK)
		snprintf(rep->message, sizeof rep->message, "%.400s; nothing was pinned", s->err);
	return rep->out;
}

outcome op_reevaluate(store *s, const settings *cfg, const policy_set *ps, const char *actor,
    int64_t id, reevaluated *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	if (s->remote)
		return remote_reevaluate(s, actor, id, r);
	if (op_begin(s, rep) != OUT_OK)
		return rep->out;
	integrity in;
	if (!integrity_check_loaded(s, ps, cfg, &in))
		return op_failed(s, rep);
	if (in.tampered) {
		store_rollback(s);
		return op_say(rep, OUT_TAMPERED, "the policy files differ from the pinned version: "
		    "nothing was evaluated again");
	}
	/* evaluated again only from the state the signed chain says */
	char status[16], why[320];
	int held = evidence_of(s, id, false, NULL, status, why, sizeof why);
	if (held == -1)
		return op_failed(s, rep);
	if (held == 0) {
		store_rollback(s);
		op_reply tr;
		op_tamper_record(s, actor, id, status, why, &tr);
		return evidence_refusal(rep, id, why);
	}
	eval_options o;
	eval_options_default(&o);
	o.now = now_ms() / 1000;
	o.enforcement = cfg->enforcement;
	o.fail_closed = cfg->fail_closed;
	r->version = store_policy_version(s);
	outcome done = store_reevaluate(s, ps, r->version, id, &o, actor, r->before, &r->result);
	if (done == OUT_IO_ERROR)
		return op_failed(s, rep);
	if (done == OUT_TAMPERED) {
		/* the document it would evaluate is not the one the chain signed */
		snprintf(why, sizeof why, "%.319s", s->err);
		store_rollback(s);
		op_reply tr;
		op_tamper_record(s, actor, id, status, why, &tr);
		return evidence_refusal(rep, id, why);
	}
	if (done != OUT_OK) {
		store_rollback(s);
		return op_say(rep, done, "%s", s->err);
	}
	r->after = r->result.status;
	op_say(rep, status_outcome(r->after), "submission %lld: %s -> %s under policy version %d",
	    (long long)id, r->before, status_name(r->after), r->version);
	return op_commit(s, rep);
}
