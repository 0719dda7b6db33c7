/*
 * ops_reviewer.c: enrolling reviewers (PRODUCT.md section 4); what admins
 * change about them later is ops_reviewer_admin.c.
 *
 * Only a store that never had a reviewer enrols without a code, and then only
 * an admin; every later enrolment needs an enabled admin's code. Names are
 * enrolled lower-cased (PRODUCT.md section 2): Bob is bob. Everything is
 * checked under the write lock, so two admins at once cannot enrol one name
 * twice. A new secret goes to users.oath only (never the database), written
 * last within the transaction and removed again if the commit fails.
 *
 * A reviewer is also reached through the server (PRODUCT.md section 9): by
 * a login (their name unless told otherwise) or a uid, and optionally a
 * bearer token made here and handed back once; identities.c keeps a login
 * or uid to one identity.
 */
#include <stdio.h>
#include <string.h>

#include "remote.h"

/* The mapping of spec, or the default: the name as login, kept as a login
 * alone when the system has no such account (yet). */
static bool reviewer_mapping(const char *name, const identity_spec *spec, identity_map *m,
    op_reply *rep)
{
	char why[300];
	bool given = spec != NULL && (spec->login != NULL || spec->uid >= 0);
	if (given && spec->login != NULL && spec->uid >= 0) {
		op_say(rep, OUT_BAD_INPUT, "give a login or a uid, not both");
		return false;
	}
	if (spec != NULL && spec->rate != 0) {
		op_say(rep, OUT_BAD_INPUT, "a rate limit is for agents, not reviewers");
		return false;
	}
	if (!mapping_resolve(given ? spec->login : name, given ? spec->uid : -1, given, m, why,
	    sizeof why)) {
		op_say(rep, OUT_BAD_INPUT, "%s", why);
		return false;
	}
	return true;
}

outcome op_reviewer_enrol(store *s, const settings *cfg, const op_auth *by, const char *given,
    bool admin, const identity_spec *spec, reviewer_added *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	char name[IDENTITY_NAME_MAX + 1], actor[IDENTITY_NAME_MAX + 1];
	op_auth named;
	const op_auth *auth = &named;
	if (!identity_name(given, name))
		return op_say(rep, OUT_BAD_INPUT, "\"%s\" is not a reviewer name (%s)", given,
		    IDENTITY_NAME_RULE);
	if (op_named(by, &named, actor, rep) != OUT_OK)
		return rep->out;
	if (s->remote)
		return remote_reviewer_add(s, auth, name, admin, spec, r);
	identity_map m;
	if (!reviewer_mapping(name, spec, &m, rep))
		return rep->out;
	if (op_begin_code(s, auth, rep) != OUT_OK)
		return rep->out;
	int enrolled = reviewer_admins(s, true);
	if (enrolled < 0)
		return op_failed(s, rep);
	if (enrolled == 0 && !admin) {
		store_rollback(s);
		return op_say(rep, OUT_NOT_PERMITTED, "there is no admin yet: the first reviewer must "
		    "be one (arbiter reviewer add %s --role admin)", name);
	}
	reviewer who;
	if (enrolled > 0 && op_actor(s, auth->actor, true, "change reviewers", &who, rep) != OUT_OK)
		return rep->out;
	char holder[32];
	int taken = name_holder(s, name, holder, sizeof holder);
	if (taken < 0)
		return op_failed(s, rep);
	if (taken > 0 && strcmp(holder, "an agent") == 0) {
		store_rollback(s);
		return op_say(rep, OUT_CONFLICT, "%s is already the name of an agent", name);
	}
	reviewer existing;
	int known = reviewer_get(s, name, &existing);
	if (known < 0)
		return op_failed(s, rep);
	/* a name taken is answered after the code, as it always was; a login
	 * or uid taken, before */
	if (known == 0 && identity_map_check(s, &m, rep) != OUT_OK)
		return rep->out;
	if (enrolled > 0 && op_code(s, cfg, auth, rep, NULL) != OUT_OK)
		return rep->out;
	if (known > 0) {
		op_say(rep, OUT_WRONG_STATE, "that reviewer already exists (disabled reviewers keep "
		    "their name)");
		return op_refuse_committed(s, rep, OUT_WRONG_STATE);    /* the code was used */
	}
	r->admin = admin;
	secret_random(r->key, sizeof r->key);
	bool token = spec != NULL && spec->token;
	if (token)
		token_new(r->token, m.token_hash);
	if (!reviewer_add(s, auth->actor, name, admin, &m, r->key) || !store_commit(s)) {
		op_failed(s, rep);
		users_remove(s, name);          /* a secret written before a failed commit */
		secret_wipe(r->key, sizeof r->key);
		secret_wipe(r->token, sizeof r->token);
		snprintf(rep->message, sizeof rep->message, "%.300s; %.64s was not enrolled", s->err, name);
		return rep->out;
	}
	char what[400];
	identity_describe(&m, token, 0, what, sizeof what);
	return op_say(rep, OUT_OK, "enrolled %s as %s; the server knows them by %s", name,
	    admin ? "admin" : "reviewer", what);
}

outcome op_reviewer_add(store *s, const settings *cfg, const op_auth *auth, const char *name,
    bool admin, reviewer_added *r)
{
	return op_reviewer_enrol(s, cfg, auth, name, admin, NULL, r);
}
