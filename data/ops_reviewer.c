/*
 * ops_reviewer.c: enrolling and disabling reviewers (PRODUCT.md section 4).
 *
 * Only a store that never had a reviewer enrols without a code, and then only
 * an admin; every later change needs an enabled admin's code. Everything is
 * checked under the write lock, so two admins at once cannot leave the store
 * without an enabled admin, nor enrol one name twice. A new secret goes to
 * users.oath only (never the database), written last within the
 * transaction and removed again if the commit fails.
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

outcome op_reviewer_add(store *s, const settings *cfg, const op_auth *auth, const char *name,
    bool admin, reviewer_added *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	if (!reviewer_name_valid(name))
		return op_say(rep, OUT_BAD_INPUT, "\"%s\" is not a reviewer name (letters, digits, . _ "
		    "- @; at most 64)", name);
	if (op_begin(s, rep) != OUT_OK)
		return rep->out;
	int enrolled = reviewer_admins(s, true);
	if (enrolled < 0)
		return op_failed(s, rep);
	if (enrolled == 0 && !admin) {
		store_rollback(s);
		return op_say(rep, OUT_NOT_PERMITTED, "there is no admin yet: the first reviewer must "
		    "be one (arbiter reviewer add %s --role admin)", name);
	}
	if (enrolled > 0) {
		reviewer who;
		if (op_actor(s, auth->actor, true, "change reviewers", &who, rep) != OUT_OK ||
		    op_code(s, cfg, auth, rep, NULL) != OUT_OK)
			return rep->out;
	}
	reviewer existing;
	int known = reviewer_get(s, name, &existing);
	if (known < 0)
		return op_failed(s, rep);
	if (known > 0) {
		op_say(rep, OUT_WRONG_STATE, "that reviewer already exists (disabled reviewers keep "
		    "their name)");
		return op_refuse_committed(s, rep, OUT_WRONG_STATE);    /* the code was used */
	}
	secret_random(r->key, sizeof r->key);
	if (!reviewer_add(s, auth->actor, name, admin, r->key) || !store_commit(s)) {
		op_failed(s, rep);
		users_remove(s, name);          /* a secret written before a failed commit */
		secret_wipe(r->key, sizeof r->key);
		snprintf(rep->message, sizeof rep->message, "%.300s; %.64s was not enrolled", s->err, name);
		return rep->out;
	}
	return op_say(rep, OUT_OK, "enrolled %s as %s", name, admin ? "admin" : "reviewer");
}

outcome op_reviewer_disable(store *s, const settings *cfg, const op_auth *auth, const char *name,
    op_reply *r)
{
	if (op_begin(s, r) != OUT_OK)
		return r->out;
	reviewer target;
	int known = reviewer_get(s, name, &target);
	if (known < 0)
		return op_failed(s, r);
	if (known == 0 || target.disabled) {
		store_rollback(s);
		return known == 0 ? op_say(r, OUT_NOT_FOUND, "no such reviewer") :
		    op_say(r, OUT_WRONG_STATE, "that reviewer is already disabled");
	}
	int admins = target.admin ? reviewer_admins(s, false) : 2;
	if (admins < 0)
		return op_failed(s, r);
	if (admins <= 1) {
		store_rollback(s);
		return op_say(r, OUT_NOT_PERMITTED, "%s is the last admin: add another admin first",
		    name);
	}
	reviewer who;
	if (op_actor(s, auth->actor, true, "change reviewers", &who, r) != OUT_OK ||
	    op_code(s, cfg, auth, r, NULL) != OUT_OK)
		return r->out;
	if (!reviewer_disable(s, auth->actor, name))
		return op_failed(s, r);
	op_say(r, OUT_OK, "disabled %s: their secret is removed from users.oath", name);
	return op_commit(s, r);
}
