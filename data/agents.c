/*
 * agents.c: the agents table (PRODUCT.md section 9).
 *
 * An agent is a name the server knows a caller by: reached by a uid (with
 * the login it had when added), by a bearer token (its SHA-256 only), or
 * both, and optionally limited to a rate of requests per second. Each change
 * is written with its audit event in the caller's transaction; an event
 * says whether a token was made and never holds it. A revoked agent keeps
 * its row, so its name is not given again and agent list still shows it.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

bool agent_insert(store *s, const char *actor, const char *name, const identity_map *m,
    int rate)
{
	char ts[32];
	format_time(now_ms(), ts);
	const char *login = m->login[0] ? m->login : NULL;
	const char *hash = m->token_hash[0] ? m->token_hash : NULL;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO agents (name, uid, login, token_hash, rate, "
	    "created_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot add the agent");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (m->uid >= 0)
		sqlite3_bind_int64(st, 2, m->uid);
	sqlite3_bind_text(st, 3, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
	if (rate > 0)
		sqlite3_bind_int(st, 5, rate);
	sqlite3_bind_text(st, 6, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, actor, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot add the agent");
	sqlite3_finalize(st);
	if (!ok)
		return false;
	json_t *d = json_pack("{s:s,s:s?,s:o,s:b,s:o}", "name", name, "login", login, "uid",
	    m->uid >= 0 ? json_integer(m->uid) : json_null(), "token", hash != NULL, "rate",
	    rate > 0 ? json_integer(rate) : json_null());
	ok = audit_append(s, actor, "agent.add", name, d);
	json_decref(d);
	return ok;
}

int agent_state(store *s, const char *name, bool *revoked)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT revoked_at IS NOT NULL FROM agents WHERE name = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the agents"), -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*revoked = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : (store_fail(s, "cannot read the agents"), -1);
}

bool agent_revoke(store *s, const char *actor, const char *name)
{
	char ts[32];
	format_time(now_ms(), ts);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "UPDATE agents SET revoked_at = ? WHERE name = ?", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot revoke the agent");
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot revoke the agent");
	sqlite3_finalize(st);
	if (!ok)
		return false;
	json_t *d = json_pack("{s:s}", "name", name);
	ok = audit_append(s, actor, "agent.revoke", name, d);
	json_decref(d);
	return ok;
}

bool agent_rows(store *s, arena *a, agent_view **items, size_t *n)
{
	sqlite3_stmt *st;
	*items = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT name, uid, login, token_hash IS NOT NULL, "
	    "ifnull(rate, 0), created_at, actor, revoked_at FROM agents ORDER BY name", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the agents");
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*items = arena_grow(a, *items, *n, &cap, sizeof **items, 16);
		const char *login = (const char *)sqlite3_column_text(st, 2);
		const char *revoked = (const char *)sqlite3_column_text(st, 7);
		(*items)[(*n)++] = (agent_view){
			.name = arena_strdup(a, (const char *)sqlite3_column_text(st, 0)),
			.uid = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
			    (long)sqlite3_column_int64(st, 1),
			.login = login ? arena_strdup(a, login) : NULL,
			.token = sqlite3_column_int(st, 3) != 0,
			.rate = sqlite3_column_int(st, 4),
			.created = arena_strdup(a, (const char *)sqlite3_column_text(st, 5)),
			.actor = arena_strdup(a, (const char *)sqlite3_column_text(st, 6)),
			.revoked = revoked ? arena_strdup(a, revoked) : NULL,
		};
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || store_fail(s, "cannot read the agents");
}
