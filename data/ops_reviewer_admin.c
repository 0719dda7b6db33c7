/*
 * ops_reviewer_admin.c: an admin's changes to an enrolled reviewer
 * (PRODUCT.md section 4): disable, enable, unlock, reset and role.
 *
 * Every one runs the same steps in one write transaction: the reviewer named
 * must exist and be in a state the change fits (else a refusal that uses no
 * code); the store must keep an enabled admin (the last one can be neither
 * disabled nor demoted); then the actor must be an enabled admin and give
 * their code (its attempt recorded before the transaction, data/codes.c);
 * then the change and its audit event (reviewer_state.c). All of it is
 * checked under the write lock, so two admins acting at once cannot leave
 * the store without an admin between them. The reviewer and the actor are
 * named as names are compared (lower-cased); the rows are the ones the
 * reviewer was enrolled under. An unlock ends a lockout from every origin.
 *
 * A secret lives in users.oath only. Disable removes it, so enable cannot
 * bring the old one back: it makes a new one, as reset does, and hands it
 * back once for the admin to pass on. users.oath is rewritten before the
 * commit (still under the lock); when the commit fails, the file gets back
 * what it held, so that the secret in it is always the one the database's
 * state says: the old one after a failed reset, none for a reviewer still
 * disabled.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "remote.h"

/* A refusal before anything was written: rolled back. */
static outcome refuse(store *s, op_reply *r, outcome out, const char *fmt, ...)
    ATTR_PRINTF(4, 5);
static outcome refuse(store *s, op_reply *r, outcome out, const char *fmt, ...)
{
	store_rollback(s);
	r->out = out;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	return out;
}

/* What every change names: the reviewer and the actor as names are compared
 * (lower-cased), the actor's auth under that name and, once the write
 * transaction is open, the reviewer's row. */
typedef struct change {
	char name[IDENTITY_NAME_MAX + 1], actor[IDENTITY_NAME_MAX + 1];
	op_auth auth;
	reviewer target;
	bool remote;            /* through a server: the caller sends it there */
} change;

/* The start of every change: the names checked (a target that is no name is
 * no reviewer); then, on a store opened here, the write transaction opened
 * (the attempt of the actor's code recorded first) and the reviewer read.
 * Anything but OUT_OK: return r's outcome, or with c->remote go remote. */
static outcome begin_change(store *s, const char *given, const op_auth *by, change *c,
    op_reply *r)
{
	memset(r, 0, sizeof *r);
	memset(c, 0, sizeof *c);
	if (!identity_name(given, c->name))
		return op_say(r, OUT_NOT_FOUND, "no such reviewer (reviewer names are %s)",
		    IDENTITY_NAME_RULE);
	if (op_named(by, &c->auth, c->actor, r) != OUT_OK)
		return r->out;
	if (s->remote) {
		c->remote = true;
		return OUT__COUNT;
	}
	if (op_begin_code(s, &c->auth, r) != OUT_OK)
		return r->out;
	int known = reviewer_get(s, c->name, &c->target);
	if (known < 0)
		return op_failed(s, r);
	if (known == 0)
		return refuse(s, r, OUT_NOT_FOUND, "no such reviewer");
	return OUT_OK;
}

/* Whether target may stop being an enabled admin: only while another is. */
static outcome keep_an_admin(store *s, const reviewer *target, op_reply *r)
{
	if (!target->admin || target->disabled)
		return OUT_OK;
	int admins = reviewer_admins(s, false);
	if (admins < 0)
		return op_failed(s, r);
	if (admins <= 1)
		return refuse(s, r, OUT_NOT_PERMITTED, "%s is the last admin: add another admin first",
		    target->name);
	return OUT_OK;
}

/* The actor is an enabled admin, with their code (a refusal is committed
 * with its audit event). */
static outcome prove_admin(store *s, const settings *cfg, const op_auth *auth, op_reply *r)
{
	reviewer who;
	if (op_actor(s, auth->actor, true, "change reviewers", &who, r) != OUT_OK)
		return r->out;
	return op_code(s, cfg, auth, r, NULL);
}

/* Commits a change that wrote a new secret for name; on failure users.oath
 * gets back old (had), or loses the new line (!had). */
static outcome commit_secret(store *s, const char *name, const unsigned char *old, bool had,
    reviewer_added *r, const char *what)
{
	if (store_commit(s))
		return r->reply.out;
	op_failed(s, &r->reply);
	if (had)
		users_add(s, name, old);
	else
		users_remove(s, name);
	secret_wipe(r->key, sizeof r->key);
	secret_wipe(r->token, sizeof r->token);
	snprintf(r->reply.message, sizeof r->reply.message, "%.300s; %.64s %s", s->err, name, what);
	return r->reply.out;
}

outcome op_reviewer_disable(store *s, const settings *cfg, const op_auth *by, const char *given,
    op_reply *r)
{
	change c;
	if (begin_change(s, given, by, &c, r) != OUT_OK)
		return c.remote ? remote_reviewer_disable(s, &c.auth, c.name, r) : r->out;
	if (c.target.disabled)
		return refuse(s, r, OUT_WRONG_STATE, "that reviewer is already disabled");
	if (keep_an_admin(s, &c.target, r) != OUT_OK || prove_admin(s, cfg, &c.auth, r) != OUT_OK)
		return r->out;
	if (!reviewer_disable(s, c.auth.actor, c.target.name))
		return op_failed(s, r);
	op_say(r, OUT_OK, "disabled %s: their secret is removed from users.oath", c.name);
	return op_commit(s, r);
}

outcome op_reviewer_enable(store *s, const settings *cfg, const op_auth *by, const char *given,
    bool token, reviewer_added *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	change c;
	if (begin_change(s, given, by, &c, rep) != OUT_OK)
		return c.remote ? remote_reviewer_enable(s, &c.auth, c.name, token, r) : rep->out;
	if (!c.target.disabled)
		return refuse(s, rep, OUT_WRONG_STATE, "%s is not disabled (a new secret: arbiter "
		    "reviewer reset %s)", c.name, c.name);
	if (prove_admin(s, cfg, &c.auth, rep) != OUT_OK)
		return rep->out;
	r->admin = c.target.admin;
	char hash[65] = "";
	if (token)
		token_new(r->token, hash);
	secret_random(r->key, sizeof r->key);
	if (!reviewer_enable(s, c.auth.actor, c.target.name, token ? hash : NULL, r->key)) {
		secret_wipe(r->key, sizeof r->key);     /* users.oath is as it was */
		secret_wipe(r->token, sizeof r->token);
		return op_failed(s, rep);
	}
	op_say(rep, OUT_OK, "enabled %s as %s with a new secret (disabling removed the old one)%s",
	    c.name, c.target.admin ? "admin" : "reviewer", token ? " and a new bearer token" : "");
	return commit_secret(s, c.target.name, NULL, false, r, "was not enabled");
}

outcome op_reviewer_unlock(store *s, const settings *cfg, const op_auth *by, const char *given,
    op_reply *r)
{
	change c;
	if (begin_change(s, given, by, &c, r) != OUT_OK)
		return c.remote ? remote_reviewer_unlock(s, &c.auth, c.name, r) : r->out;
	if (c.target.disabled)
		return refuse(s, r, OUT_WRONG_STATE, "%s is disabled (arbiter reviewer enable %s "
		    "starts them afresh)", c.name, c.name);
	if (prove_admin(s, cfg, &c.auth, r) != OUT_OK)
		return r->out;
	/* a lockout from any origin: an unlock ends them all */
	char until[32];
	int64_t until_ms;
	if (!code_lockout_end(s, c.name, &until_ms))
		return op_failed(s, r);
	bool locked = until_ms > 0;
	if (locked)
		format_time(until_ms, until);
	if (!reviewer_unlock(s, c.auth.actor, c.target.name, locked ? until : NULL))
		return op_failed(s, r);
	if (locked)
		op_say(r, OUT_OK, "unlocked %s (locked out until %s); their code failures are forgotten",
		    c.name, until);
	else
		op_say(r, OUT_OK, "%s was not locked out; their code failures are forgotten", c.name);
	return op_commit(s, r);
}

outcome op_reviewer_reset(store *s, const settings *cfg, const op_auth *by, const char *given,
    reviewer_added *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	change c;
	if (begin_change(s, given, by, &c, rep) != OUT_OK)
		return c.remote ? remote_reviewer_reset(s, &c.auth, c.name, r) : rep->out;
	if (c.target.disabled)
		return refuse(s, rep, OUT_WRONG_STATE, "%s is disabled (arbiter reviewer enable %s "
		    "gives them a new secret)", c.name, c.name);
	if (prove_admin(s, cfg, &c.auth, rep) != OUT_OK)
		return rep->out;
	r->admin = c.target.admin;
	/* what users.oath holds now, to put back if the commit fails; a line
	 * that is missing or broken is what a reset mends */
	unsigned char old[REVIEWER_KEY_BYTES];
	bool had = users_secret(s, c.target.name, old);
	secret_random(r->key, sizeof r->key);
	if (!reviewer_reset(s, c.auth.actor, c.target.name, r->key)) {
		secret_wipe(old, sizeof old);           /* users.oath is as it was */
		secret_wipe(r->key, sizeof r->key);
		return op_failed(s, rep);
	}
	op_say(rep, OUT_OK, "reset %s's secret: the old one gives no more codes", c.name);
	outcome o = commit_secret(s, c.target.name, old, had, r, "keeps the old secret");
	secret_wipe(old, sizeof old);
	return o;
}

outcome op_reviewer_role(store *s, const settings *cfg, const op_auth *by, const char *given,
    bool admin, op_reply *r)
{
	change c;
	if (begin_change(s, given, by, &c, r) != OUT_OK)
		return c.remote ? remote_reviewer_role(s, &c.auth, c.name, admin, r) : r->out;
	const char *role = admin ? "admin" : "reviewer";
	if (c.target.admin == admin)
		return refuse(s, r, OUT_WRONG_STATE, "%s is already %s %s", c.name, admin ? "an" : "a",
		    role);
	if ((!admin && keep_an_admin(s, &c.target, r) != OUT_OK) ||
	    prove_admin(s, cfg, &c.auth, r) != OUT_OK)
		return r->out;
	if (!reviewer_set_role(s, c.auth.actor, c.target.name, admin, c.target.admin))
		return op_failed(s, r);
	op_say(r, OUT_OK, "%s is now %s %s%s", c.name, admin ? "an" : "a", role,
	    c.target.disabled ? " (disabled: arbiter reviewer enable to let them act)" : "");
	return op_commit(s, r);
}
