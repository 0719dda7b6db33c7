/*
 * reviewer_state.c: the rows behind an admin's changes to an enrolled
 * reviewer (ops_reviewer_admin.c): enabled again, unlocked, a new secret, a
 * new role.
 *
 * Each runs in the caller's write transaction and appends its audit event
 * there, so the change and its event commit together or not at all. A new
 * secret goes to users.oath through users_add (a temporary file renamed over
 * it, mode 0600) as the last step, so that nothing after it in here can fail;
 * the caller puts the file back if the commit fails. What code checking keeps
 * about a reviewer (the failures counted towards a lockout, the lockout, the
 * time step last used) is forgotten in one place, forget_codes: a new secret
 * starts clean, and an unlock clears the count as well as the lockout, so
 * that the next wrong code does not lock the reviewer out again at once.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

/* Runs sql, one statement about reviewer name: its parameters are arg (if
 * it has two; NULL binds SQL NULL), then name. */
static bool run(store *s, const char *what, const char *sql, const char *arg, const char *name)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, what);
	int n = sqlite3_bind_parameter_count(st);
	if (n == 2)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, n, name, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, what);
	sqlite3_finalize(st);
	return ok;
}

static bool audit(store *s, const char *actor, const char *event, const char *name,
    json_t *details)
{
	bool ok = audit_append(s, actor, event, name, details);
	json_decref(details);
	return ok;
}

/* Forgets name's code failures and lockouts, from every origin (codes.c);
 * with fresh (a new secret), also the time step last used, which belonged to
 * the old secret. */
static bool forget_codes(store *s, const char *name, bool fresh)
{
	return code_forget(s, name) && (!fresh || run(s, "cannot forget the last code",
	    "UPDATE reviewers SET last_step = NULL WHERE name = ?", NULL, name));
}

bool reviewer_enable(store *s, const char *actor, const char *name, const char *token_hash,
    const unsigned char key[REVIEWER_KEY_BYTES])
{
	return run(s, "cannot enable the reviewer", "UPDATE reviewers SET disabled = 0, "
	    "token_hash = ? WHERE name = ?", token_hash, name) &&
	    forget_codes(s, name, true) &&
	    audit(s, actor, "reviewer.enable", name, json_pack("{s:s,s:b}", "name", name, "token",
	    token_hash != NULL)) &&
	    users_add(s, name, key);
}

bool reviewer_unlock(store *s, const char *actor, const char *name, const char *locked_until)
{
	return forget_codes(s, name, false) &&
	    audit(s, actor, "reviewer.unlock", name, json_pack("{s:s,s:s?}", "name", name,
	    "locked_until", locked_until));
}

bool reviewer_reset(store *s, const char *actor, const char *name,
    const unsigned char key[REVIEWER_KEY_BYTES])
{
	return forget_codes(s, name, true) &&
	    audit(s, actor, "reviewer.reset", name, json_pack("{s:s}", "name", name)) &&
	    users_add(s, name, key);
}

bool reviewer_set_role(store *s, const char *actor, const char *name, bool admin, bool was)
{
	const char *role = admin ? "admin" : "reviewer";
	return run(s, "cannot change the role", "UPDATE reviewers SET role = ? WHERE name = ?", role,
	    name) &&
	    audit(s, actor, "reviewer.role", name, json_pack("{s:s,s:s,s:s}", "name", name, "role",
	    role, "was", was ? "admin" : "reviewer"));
}
