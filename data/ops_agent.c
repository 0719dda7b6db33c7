/*
 * ops_agent.c: adding, listing and revoking agents, and recording refused
 * access (PRODUCT.md section 9).
 *
 * Agents are administered as reviewers are: an enabled admin with their
 * code, checked under the write lock after everything that could refuse the
 * change, so a refused change uses no code. An agent is reached by a login
 * or uid, or by a bearer token, and a login or uid by one identity only; the
 * store owner's uid by none, since the server takes every peer on it for the
 * owner (an agent there is one by its token alone). A new token is made
 * inside the transaction, handed back once in the result and wiped if the
 * commit fails; the store keeps only its SHA-256.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

enum { RATE_MAX = 1000000 };

void identity_describe(const identity_map *m, bool token, int rate, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	if (m->uid >= 0 && m->login[0])
		n += (size_t)snprintf(out + n, len - n, "uid %ld (login %s)", m->uid, m->login);
	else if (m->uid >= 0)
		n += (size_t)snprintf(out + n, len - n, "uid %ld", m->uid);
	else if (m->login[0])
		n += (size_t)snprintf(out + n, len - n, "login %s (no such account yet)", m->login);
	if (token && n < len)
		n += (size_t)snprintf(out + n, len - n, "%sa bearer token", n ? ", " : "");
	if (rate > 0 && n < len)
		snprintf(out + n, len - n, "%sat most %d requests a second", n ? ", " : "", rate);
}

outcome identity_map_check(store *s, const identity_map *m, op_reply *r)
{
	char who[128];
	int held = mapping_holder(s, m, who, sizeof who);
	if (held < 0)
		return op_failed(s, r);
	if (held == 0)
		return OUT_OK;
	store_rollback(s);
	char what[300];
	identity_describe(m, false, 0, what, sizeof what);
	return op_say(r, OUT_CONFLICT, "%s already reaches %s: a login or uid reaches one identity "
	    "only", what, who);
}

outcome op_agent_add(store *s, const settings *cfg, const op_auth *by, const char *given,
    const identity_spec *spec, agent_added *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	char name[IDENTITY_NAME_MAX + 1], actor[IDENTITY_NAME_MAX + 1];
	op_auth named;
	const op_auth *auth = &named;
	if (!identity_name(given, name))
		return op_say(rep, OUT_BAD_INPUT, "\"%s\" is not an agent name (%s)", given,
		    IDENTITY_NAME_RULE);
	if (op_named(by, &named, actor, rep) != OUT_OK)
		return rep->out;
	if (spec->login != NULL && spec->uid >= 0)
		return op_say(rep, OUT_BAD_INPUT, "give a login or a uid, not both");
	if (spec->login == NULL && spec->uid < 0 && !spec->token)
		return op_say(rep, OUT_BAD_INPUT, "an agent needs a login, a uid or a token to be "
		    "reached by (--user LOGIN, --uid N, --token)");
	if (spec->rate < 0 || spec->rate > RATE_MAX)
		return op_say(rep, OUT_BAD_INPUT, "%d is not a rate (1 to %d requests a second)",
		    spec->rate, RATE_MAX);
	if (s->remote)
		return remote_agent_add(s, auth, name, spec, r);
	identity_map m;
	char why[300];
	if (!mapping_resolve(spec->login, spec->uid, true, &m, why, sizeof why))
		return op_say(rep, OUT_BAD_INPUT, "%s", why);
	if (m.uid >= 0 && m.uid == (long)geteuid())
		return op_say(rep, OUT_BAD_INPUT, "uid %ld%s%s%s is the store owner's: the server takes "
		    "every peer on it for the owner, so an agent there is reached by its token alone "
		    "(arbiter agent add %s --token)", m.uid, m.login[0] ? " (" : "", m.login,
		    m.login[0] ? ")" : "", name);
	if (op_begin_code(s, auth, rep) != OUT_OK)
		return rep->out;
	reviewer who;
	if (op_actor(s, auth->actor, true, "change agents", &who, rep) != OUT_OK)
		return rep->out;
	char holder[32];
	int taken = name_holder(s, name, holder, sizeof holder);
	if (taken < 0)
		return op_failed(s, rep);
	if (taken > 0) {
		store_rollback(s);
		return op_say(rep, OUT_CONFLICT, "%s is already the name of %s (revoked agents keep "
		    "their name)", name, holder);
	}
	if (identity_map_check(s, &m, rep) != OUT_OK)
		return rep->out;
	if (op_code(s, cfg, auth, rep, NULL) != OUT_OK)
		return rep->out;
	if (spec->token)
		token_new(r->token, m.token_hash);
	if (!agent_insert(s, auth->actor, name, &m, spec->rate) || !store_commit(s)) {
		op_failed(s, rep);
		secret_wipe(r->token, sizeof r->token);
		return rep->out;
	}
	char what[400];
	identity_describe(&m, spec->token, spec->rate, what, sizeof what);
	return op_say(rep, OUT_OK, "added agent %s: %s", name, what);
}

outcome op_agent_revoke(store *s, const settings *cfg, const op_auth *by, const char *given,
    op_reply *r)
{
	memset(r, 0, sizeof *r);
	char name[IDENTITY_NAME_MAX + 1], actor[IDENTITY_NAME_MAX + 1];
	op_auth named;
	const op_auth *auth = &named;
	if (!identity_name(given, name))
		return op_say(r, OUT_NOT_FOUND, "no such agent (agent names are %s)",
		    IDENTITY_NAME_RULE);
	if (op_named(by, &named, actor, r) != OUT_OK)
		return r->out;
	if (s->remote)
		return remote_agent_revoke(s, auth, name, r);
	if (op_begin_code(s, auth, r) != OUT_OK)
		return r->out;
	bool revoked = false;
	int known = agent_state(s, name, &revoked);
	if (known < 0)
		return op_failed(s, r);
	if (known == 0 || revoked) {
		store_rollback(s);
		return known == 0 ? op_say(r, OUT_NOT_FOUND, "no such agent") :
		    op_say(r, OUT_WRONG_STATE, "agent %s is already revoked", name);
	}
	reviewer who;
	if (op_actor(s, auth->actor, true, "change agents", &who, r) != OUT_OK ||
	    op_code(s, cfg, auth, r, NULL) != OUT_OK)
		return r->out;
	if (!agent_revoke(s, auth->actor, name))
		return op_failed(s, r);
	op_say(r, OUT_OK, "revoked agent %s: it is refused from now on", name);
	return op_commit(s, r);
}

outcome op_agents(store *s, agents_view *v, op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_agents(s, v, r);
	v->arena = arena_new();
	if (v->arena == NULL)
		abort();
	if (agent_rows(s, v->arena, &v->items, &v->n))
		return OUT_OK;
	int code = sqlite3_errcode(s->db) & 0xff;
	return op_say(r, code == SQLITE_BUSY || code == SQLITE_LOCKED ? OUT_BUSY : OUT_IO_ERROR, "%s",
	    s->err);
}

void agents_view_free(agents_view *v)
{
	arena_free(v->arena);
	memset(v, 0, sizeof *v);
}

static json_t *text_or_null(const char *t)
{
	return t ? json_string_lossy(t, strlen(t)) : json_null();
}

char *agent_json(const agent_view *v)
{
	json_t *o = json_pack("{s:o,s:o,s:o,s:b,s:o,s:o,s:o,s:o}", "name", text_or_null(v->name),
	    "login", text_or_null(v->login), "uid", v->uid >= 0 ? json_integer(v->uid) :
	    json_null(), "token", v->token, "rate", v->rate > 0 ? json_integer(v->rate) :
	    json_null(), "created", text_or_null(v->created), "by", text_or_null(v->actor),
	    "revoked", text_or_null(v->revoked));
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

outcome op_access_denied(store *s, const char *who, const char *what, int count, op_reply *r)
{
	memset(r, 0, sizeof *r);
	if (who == NULL || who[0] == '\0' || what == NULL || what[0] == '\0' || count < 1)
		return op_say(r, OUT_BAD_INPUT, "access.denied needs who, what and a count of at "
		    "least 1");
	if (op_begin(s, r) != OUT_OK)
		return r->out;
	json_t *d = json_pack("{s:o,s:i}", "what", text_or_null(what), "count", count);
	bool ok = audit_append(s, who, "access.denied", who, d);
	json_decref(d);
	if (!ok)
		return op_failed(s, r);
	op_say(r, OUT_OK, "recorded %d refusal%s of %s", count, count == 1 ? "" : "s", who);
	return op_commit(s, r);
}
