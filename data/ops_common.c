/*
 * ops_common.c: the steps every operation of ops_*.c shares.
 *
 * An operation names its actor as names are compared (op_named), opens its
 * write transaction (op_begin, or op_begin_code when it checks a code: the
 * attempt is recorded first), checks what may refuse it, proves the actor
 * (op_actor, op_code) and makes its change; a refusal made after the
 * transaction began is either rolled back (nothing to keep) or committed (a
 * refusal audited). A refused code is recorded by codes.c in a transaction
 * of its own. Failures of the store become OUT_BUSY when the database was
 * locked and OUT_IO_ERROR otherwise, with the store's message.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

outcome op_say(op_reply *r, outcome out, const char *fmt, ...)
{
	r->out = out;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	return out;
}

outcome op_failed(store *s, op_reply *r)
{
	int code = sqlite3_errcode(s->db) & 0xff;
	store_rollback(s);
	return op_say(r, code == SQLITE_BUSY || code == SQLITE_LOCKED ? OUT_BUSY : OUT_IO_ERROR, "%s",
	    s->err);
}

outcome op_begin(store *s, op_reply *r)
{
	memset(r, 0, sizeof *r);
	if (!s->have_sk && !store_load_signing_key(s))
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	if (!store_begin(s))
		return op_failed(s, r);
	return OUT_OK;
}

outcome op_named(const op_auth *in, op_auth *out, char name[IDENTITY_NAME_MAX + 1],
    op_reply *r)
{
	*out = *in;
	if (in->actor != NULL && identity_name(in->actor, name)) {
		out->actor = name;
		return OUT_OK;
	}
	return op_say(r, OUT_BAD_INPUT, "\"%.100s\" is not a reviewer's name (%s)",
	    in->actor ? in->actor : "", IDENTITY_NAME_RULE);
}

outcome op_begin_code(store *s, const op_auth *auth, op_reply *r)
{
	if (auth->code == NULL)
		return op_begin(s, r);
	memset(r, 0, sizeof *r);
	if (!s->have_sk && !store_load_signing_key(s))
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	bool recorded;
	if (code_attempt_begin(s, auth->actor, auth->origin, &recorded))
		return OUT_OK;
	if (recorded)
		return op_failed(s, r);
	/* the same answer for a right and a wrong code: neither was looked at */
	store_rollback(s);
	return op_say(r, OUT_CODE_REFUSED, "code refused unchecked: the attempt cannot be recorded "
	    "(%.300s), and a code is checked only once a failure would count", s->err);
}

outcome op_refuse_committed(store *s, op_reply *r, outcome out)
{
	if (!store_commit(s))
		return op_failed(s, r);
	r->out = out;
	return out;
}

outcome op_actor(store *s, const char *actor, bool admin_only, const char *refusal_reason,
    reviewer *who, op_reply *r)
{
	int known = reviewer_get(s, actor, who);
	if (known < 0)
		return op_failed(s, r);
	if (known == 1 && !who->disabled && (!admin_only || who->admin))
		return OUT_OK;
	if (admin_only)
		op_say(r, OUT_NOT_PERMITTED, "only an enabled admin may %s; %s is %s (act as an admin "
		    "with --as NAME)", refusal_reason, actor, known == 0 ? "not a reviewer" :
		    who->disabled ? "disabled" : "not an admin");
	else
		op_say(r, OUT_NOT_PERMITTED, "%s", known == 0 ? "not an enrolled reviewer (an admin "
		    "adds one with arbiter reviewer add NAME)" : "this reviewer is disabled");
	char reason[160];
	snprintf(reason, sizeof reason, "%s%s", admin_only ? "not an admin: " : "",
	    admin_only ? refusal_reason : known == 0 ? "not an enrolled reviewer" :
	    "disabled reviewer");
	json_t *d = json_pack("{s:s}", "reason", reason);
	bool ok = audit_append(s, actor, "code.failure", actor, d);
	json_decref(d);
	return ok ? op_refuse_committed(s, r, OUT_NOT_PERMITTED) : op_failed(s, r);
}

outcome op_code(store *s, const settings *cfg, const op_auth *auth, op_reply *r, bool *admin)
{
	if (auth->code == NULL) {
		store_rollback(s);
		r->code_needed = true;
		return op_say(r, OUT_UNAUTHENTICATED, "%s's TOTP code is needed", auth->actor);
	}
	code_check cc;
	int v = code_verify(s, cfg, auth->actor, auth->origin, auth->code, &cc);
	if (v == CODE_OK) {
		r->code_accepted = true;
		if (admin)
			*admin = cc.admin;
		return OUT_OK;
	}
	if (v == CODE_ERROR)
		return op_failed(s, r);
	/* refused, and recorded by code_verify in a transaction of its own */
	return op_say(r, v == CODE_LOCKED ? OUT_LOCKED_OUT : v == CODE_UNKNOWN ||
	    v == CODE_DISABLED ? OUT_NOT_PERMITTED : OUT_CODE_REFUSED, "code refused: %s", cc.why);
}

outcome op_commit(store *s, op_reply *r)
{
	if (!store_commit(s))
		return op_failed(s, r);
	return r->out;
}
