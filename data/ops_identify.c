/*
 * ops_identify.c: who is calling the server (PRODUCT.md section 9).
 *
 * On the Unix socket the peer's uid is the identity: the agent or reviewer
 * mapped to it, or to its login. On TCP a bearer token is; on the socket a
 * token may name which identity is calling, but only one mapped to the
 * peer's uid, so that a token copied to another account is worth nothing
 * there, except to the store's owner, who may do anything anyway. Every doubt
 * refuses: a uid that reaches two identities, a revoked agent, a disabled
 * reviewer. Both reads open no transaction; the server audits the refusals
 * (op_access_denied), coalesced.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

static outcome read_failed(store *s, op_reply *r)
{
	int code = sqlite3_errcode(s->db) & 0xff;
	return op_say(r, code == SQLITE_BUSY || code == SQLITE_LOCKED ? OUT_BUSY : OUT_IO_ERROR, "%s",
	    s->err);
}

static const char *kind_word(int kind)
{
	return kind == ID_AGENT ? "agent" : "reviewer";
}

static outcome found(const found_identity *f, identity *id, op_reply *r)
{
	id->kind = f->kind;
	snprintf(id->name, sizeof id->name, "%s", f->name);
	id->admin = f->kind == ID_REVIEWER && f->admin;
	id->rate = f->kind == ID_AGENT ? f->rate : 0;
	return op_say(r, OUT_OK, "%s %s", kind_word(f->kind), f->name);
}

outcome op_identify_uid(store *s, long uid, identity *id, op_reply *r)
{
	memset(id, 0, sizeof *id);
	memset(r, 0, sizeof *r);
	if (uid < 0)
		return op_say(r, OUT_NOT_PERMITTED, "unknown uid %ld", uid);
	char login[256];
	login_of_uid(uid, login, sizeof login);
	found_identity f[2];
	int n = identity_by_uid(s, uid, login[0] ? login : NULL, f);
	if (n < 0)
		return read_failed(s, r);
	if (n == 0)
		return op_say(r, OUT_NOT_PERMITTED, "unknown uid %ld", uid);
	if (n > 1)
		return op_say(r, OUT_NOT_PERMITTED, "uid %ld reaches both %s %s and %s %s: refused "
		    "until an admin revokes one", uid, kind_word(f[0].kind), f[0].name,
		    kind_word(f[1].kind), f[1].name);
	if (!f[0].live)
		return op_say(r, OUT_NOT_PERMITTED, "uid %ld is reviewer %s, who is disabled", uid,
		    f[0].name);
	return found(&f[0], id, r);
}

outcome op_identify_token(store *s, const char *token, long peer_uid, identity *id,
    op_reply *r)
{
	memset(id, 0, sizeof *id);
	memset(r, 0, sizeof *r);
	if (!token_well_formed(token))
		return op_say(r, OUT_UNAUTHENTICATED, "bad token");
	found_identity f;
	int n = identity_by_token(s, token, &f);
	if (n < 0)
		return read_failed(s, r);
	if (n == 0)
		return op_say(r, OUT_UNAUTHENTICATED, "bad token");
	if (!f.live)
		return op_say(r, OUT_UNAUTHENTICATED, "bad token: %s %s is %s", kind_word(f.kind),
		    f.name, f.kind == ID_AGENT ? "revoked" : "disabled");
	if (peer_uid >= 0 && peer_uid != (long)geteuid()) {
		char login[256];
		bool maps = f.uid == peer_uid || (f.uid < 0 && f.login[0] &&
		    login_of_uid(peer_uid, login, sizeof login) && strcmp(login, f.login) == 0);
		if (!maps)
			return op_say(r, OUT_NOT_PERMITTED, "the token's %s %s is not mapped to uid %ld",
			    kind_word(f.kind), f.name, peer_uid);
	}
	return found(&f, id, r);
}
