/*
 * sessions.c: API sessions (POST /v1/sessions), kept in the server's memory
 * only.
 *
 * A reviewer who signs in with a code gets a random token of 256 bits (hex);
 * while it is used within review.session_idle of its last use, approve and
 * reject take it instead of a code, as after the console's sign-in; an
 * override always needs a fresh code (op_decide decides that). The server
 * keeps only the token's SHA-256, compares it in constant time, and forgets
 * every session when it stops. A session belongs to the identity that made
 * it and to the reviewer it signed in as: presented by another identity it
 * is no session at all. A reviewer disabled, enabled again or given a new
 * secret loses their sessions at once (sessions_end).
 *
 * Only the writer thread touches the table (sessions are made and used inside
 * writer jobs, where op_signin and op_decide run), so it takes no lock. It
 * holds at most SESSION_MAX sessions: a new one replaces an ended one, or
 * else the one idle longest.
 */
#include <stdlib.h>
#include <string.h>

#include "serve.h"

enum { SESSION_MAX = 1024, SESSION_TOKEN_BYTES = SESSION_TOKEN_HEX / 2 };

typedef struct session {
	unsigned char hash[32];         /* SHA-256 of the token's hex text */
	int kind;                       /* the identity that made it: WHO_* and name */
	char who[sizeof ((caller *)0)->name];
	char actor[72];                 /* the reviewer signed in */
	int64_t last_ms;                /* its last use, now_ms() */
	bool live;
} session;

struct sessions {
	session items[SESSION_MAX];
};

static struct sessions *table(server *srv)
{
	if (srv->sessions == NULL && (srv->sessions = calloc(1, sizeof *srv->sessions)) == NULL)
		abort();
	return srv->sessions;
}

void session_new(server *srv, const caller *who, const char *actor,
    char token[SESSION_TOKEN_HEX + 1])
{
	struct sessions *t = table(srv);
	session *slot = &t->items[0];
	for (int i = 0; i < SESSION_MAX; i++) {
		session *s = &t->items[i];
		if (!s->live) {
			slot = s;
			break;
		}
		if (s->last_ms < slot->last_ms)
			slot = s;
	}
	unsigned char raw[SESSION_TOKEN_BYTES];
	secret_random(raw, sizeof raw);
	secret_hex(raw, sizeof raw, token);
	secret_wipe(raw, sizeof raw);
	memset(slot, 0, sizeof *slot);
	secret_hash(token, SESSION_TOKEN_HEX, slot->hash);
	slot->kind = who->kind;
	snprintf(slot->who, sizeof slot->who, "%s", who->name);
	snprintf(slot->actor, sizeof slot->actor, "%s", actor);
	slot->last_ms = now_ms();
	slot->live = true;
}

const char *session_use(server *srv, const caller *who, const char *token, int64_t idle_s)
{
	if (token == NULL || strlen(token) != SESSION_TOKEN_HEX)
		return NULL;
	unsigned char hash[32];
	secret_hash(token, SESSION_TOKEN_HEX, hash);
	struct sessions *t = table(srv);
	int64_t now = now_ms();
	session *found = NULL;
	for (int i = 0; i < SESSION_MAX; i++) {
		session *s = &t->items[i];
		if (!s->live)
			continue;
		if (now - s->last_ms > idle_s * 1000) {
			memset(s, 0, sizeof *s);        /* ended: forgotten */
			continue;
		}
		if (secret_equal(s->hash, hash, sizeof hash))
			found = s;
	}
	if (found == NULL || found->kind != who->kind || strcmp(found->who, who->name) != 0)
		return NULL;
	found->last_ms = now;
	return found->actor;
}

void sessions_end(server *srv, const char *actor)
{
	if (srv->sessions == NULL)
		return;
	for (int i = 0; i < SESSION_MAX; i++) {
		session *s = &srv->sessions->items[i];
		if (s->live && strcmp(s->actor, actor) == 0)
			memset(s, 0, sizeof *s);
	}
}

void sessions_free(server *srv)
{
	if (srv->sessions != NULL)
		secret_wipe(srv->sessions, sizeof *srv->sessions);
	free(srv->sessions);
	srv->sessions = NULL;
}
