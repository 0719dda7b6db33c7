/*
 * remote.c: a store reached through a running server: connecting, and one
 * request with its answer.
 *
 * store_connect asks GET /v1/status first: it proves that a server answers
 * (and, through client.c's checks, that it is the one the options trust)
 * before a command relies on it, and gives the store's id and policy version.
 * An answer is JSON. An error answer carries the outcome's name and the
 * operation's message (PRODUCT.md section 9), which become the op_reply the
 * same operation gives on a store opened here; a failure to reach the server
 * or a broken answer is OUT_IO_ERROR with client.c's message, which names the
 * server. The store's err holds the last message, as store_errmsg gives it.
 *
 * The changes (remote_change.c, remote_reviewer.c) share the writing of a
 * request's body (the actor as "as", the code when given, an identity's
 * login, uid and token) and the reading of its answer (the outcome the
 * operation gave, a token or secret handed back once and wiped after).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

/* The client's timeout for requests that answer at once; a long poll adds
 * its wait. */
enum { REMOTE_TIMEOUT_MS = 30000, REMOTE_SLACK_MS = 15000 };

static outcome say(store *s, op_reply *r, outcome o, const char *msg)
{
	snprintf(s->err, sizeof s->err, "%s", msg);
	return op_say(r, o, "%s", msg);
}

/* The outcome of an error answer without an error object: by its status. */
static outcome by_status(long status)
{
	if (status == 400 || status == 413 || status == 415 || status == 422)
		return OUT_BAD_INPUT;
	for (int o = OUT_BAD_INPUT; o < OUT__COUNT; o++)
		if (outcome_of((outcome)o)->http_status == status)
			return (outcome)o;
	return OUT_IO_ERROR;
}

outcome remote_call(store *s, const char *method, const char *path, const char *ctype,
    const char *body, size_t len, remote_answer *a, op_reply *r)
{
	memset(a, 0, sizeof *a);
	memset(r, 0, sizeof *r);
	client_response resp;
	client_status st = client_request(s->remote->c, method, path, ctype, body, len, &resp);
	if (st != CLIENT_OK)
		return say(s, r, st == CLIENT_TIMEOUT ? OUT_BUSY : OUT_IO_ERROR,
		    client_errmsg(s->remote->c));
	a->status = resp.status;
	a->body = resp.body;
	a->len = resp.len;
	free(resp.headers);
	a->json = json_loadb(resp.body, resp.len, JSON_ALLOW_NUL, NULL);
	if (resp.status >= 200 && resp.status < 300) {
		if (a->json != NULL)
			return OUT_OK;
		char msg[300];
		snprintf(msg, sizeof msg, "server %.200s: its answer is not JSON",
		    client_server(s->remote->c));
		return say(s, r, OUT_IO_ERROR, msg);
	}
	const json_t *err = json_object_get(a->json, "error");
	const json_t *code = json_object_get(err, "code"), *message = json_object_get(err, "message");
	outcome o = outcome_named(json_string_value(code));
	if (o == OUT__COUNT || o == OUT_OK)
		o = by_status(resp.status);
	r->code_needed = json_is_true(json_object_get(err, "code_needed"));
	if (json_is_string(message))
		return say(s, r, o, json_string_value(message));
	char msg[300];
	snprintf(msg, sizeof msg, "server %.200s answered HTTP %ld", client_server(s->remote->c),
	    resp.status);
	return say(s, r, o, msg);
}

void remote_answer_free(remote_answer *a)
{
	json_decref(a->json);
	free(a->body);
	memset(a, 0, sizeof *a);
}

outcome remote_post(store *s, const char *path, json_t *body, remote_answer *a, op_reply *r)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (text == NULL)
		return op_say(r, OUT_BAD_INPUT, "the request cannot be written as JSON");
	outcome o = remote_call(s, "POST", path, "application/json", text, strlen(text), a, r);
	sodium_memzero(text, strlen(text));     /* it may hold a code */
	free(text);
	return o;
}

json_t *remote_auth_body(const op_auth *auth)
{
	json_t *b = json_object();
	json_object_set_new(b, "as", json_string(auth->actor));
	if (auth->code != NULL)
		json_object_set_new(b, "code", json_string(auth->code));
	return b;
}

outcome remote_answered(const remote_answer *a, outcome o, op_reply *r)
{
	if (o != OUT_OK)
		return o;
	outcome said = outcome_named(json_string_value(json_object_get(a->json, "outcome")));
	const char *msg = json_string_value(json_object_get(a->json, "message"));
	if (said == OUT__COUNT)
		said = OUT_OK;
	return op_say(r, said, "%s", msg ? msg : outcome_of(said)->message);
}

void remote_identity_body(json_t *b, const identity_spec *spec)
{
	if (spec == NULL)
		return;
	if (spec->login != NULL)
		json_object_set_new(b, "user", json_string(spec->login));
	if (spec->uid >= 0)
		json_object_set_new(b, "uid", json_integer(spec->uid));
	if (spec->token)
		json_object_set_new(b, "token", json_true());
	if (spec->rate > 0)
		json_object_set_new(b, "rate", json_integer(spec->rate));
}

void remote_take_token(const remote_answer *a, char *token, size_t len)
{
	const char *t = json_string_value(json_object_get(a->json, "token"));
	snprintf(token, len, "%s", t ? t : "");
}

void remote_answer_wipe(remote_answer *a)
{
	if (a->body != NULL)
		sodium_memzero(a->body, a->len);
	json_t *t = json_object_get(a->json, "token"), *k = json_object_get(a->json, "secret");
	if (json_is_string(t))
		sodium_memzero((char *)json_string_value(t), json_string_length(t));
	if (json_is_string(k))
		sodium_memzero((char *)json_string_value(k), json_string_length(k));
	remote_answer_free(a);
}

void remote_patience(store *s, int64_t wait_s)
{
	client_set_timeout(s->remote->c, REMOTE_TIMEOUT_MS + wait_s * 1000 + REMOTE_SLACK_MS);
}

/* The store's closer (store_on_close): the connection and what it kept. */
static void disconnect(store *s, void *ctx)
{
	(void)ctx;
	client_close(s->remote->c);
	sodium_memzero(s->remote->session, sizeof s->remote->session);
	free(s->remote->answer.s);
	if (s->remote->key != NULL)
		signed_key_free(s->remote->key);
	free(s->remote->key);
	free(s->remote);
	s->remote = NULL;
}

/* A store that failed to connect, before anyone else holds it. */
static store *give_up(store *s)
{
	disconnect(s, NULL);
	free(s);
	return NULL;
}

void remote_status_read(struct remote *rm, const json_t *j)
{
	rm->policy_version = (int)json_integer_value(json_object_get(j, "policy_version"));
	rm->enforcement = !json_is_false(json_object_get(j, "enforcement"));
	rm->tampered = json_is_true(json_object_get(j, "tampered"));
	const char *changed = json_string_value(json_object_get(j, "changed"));
	snprintf(rm->changed, sizeof rm->changed, "%s", changed ? changed : "policy files edited");
	/* a server that says nothing of them: the strictest (settings_default) */
	settings d;
	settings_default(&d);
	const json_t *rv = json_object_get(j, "review"), *v;
	rm->approve_requires_code = !json_is_false(json_object_get(rv, "approve_requires_code"));
	v = json_object_get(rv, "justification_min_chars");
	rm->justification_min_chars = json_is_integer(v) ? (int)json_integer_value(v) :
	    d.justification_min_chars;
	v = json_object_get(rv, "override_default_duration");
	rm->override_default_duration = json_is_integer(v) ? json_integer_value(v) :
	    d.override_default_duration;
	v = json_object_get(rv, "session_idle");
	rm->session_idle = json_is_integer(v) ? json_integer_value(v) : d.session_idle;
	const json_t *id = json_object_get(j, "identity");
	const char *kind = json_string_value(json_object_get(id, "kind"));
	const char *name = json_string_value(json_object_get(id, "name"));
	snprintf(rm->kind, sizeof rm->kind, "%s", kind ? kind : "");
	snprintf(rm->name, sizeof rm->name, "%s", name ? name : "");
}

store *store_again(const store *s, char *err, size_t errlen)
{
	if (s->remote == NULL)
		return store_open(s->dir, err, errlen);
	client *c = client_again(s->remote->c, err, errlen);
	if (c == NULL)
		return NULL;
	store *t = calloc(1, sizeof *t);
	struct remote *rm = calloc(1, sizeof *rm);
	if (t == NULL || rm == NULL)
		abort();
	*rm = *s->remote;
	rm->c = c;
	rm->session[0] = '\0';
	rm->answer = (strbuf){ 0 };
	rm->answered = false;
	if (s->remote->key != NULL) {
		/* the same first key; the rotations are asked for again */
		rm->key = calloc(1, sizeof *rm->key);
		if (rm->key == NULL)
			abort();
		memcpy(rm->key->pk, s->remote->key->pk, sizeof rm->key->pk);
		memcpy(rm->key->keyid, s->remote->key->keyid, sizeof rm->key->keyid);
	}
	t->remote = rm;
	memcpy(t->id, s->id, sizeof t->id);
	memcpy(t->dir, s->dir, sizeof t->dir);
	store_on_close(t, disconnect, NULL);
	return t;
}

bool store_remote(const store *s)
{
	return s->remote != NULL;
}

const char *store_caller(const store *s)
{
	return s->remote != NULL && s->remote->name[0] != '\0' ? s->remote->name : NULL;
}

store *store_connect(const client_options *o, bool *silent, char *err, size_t errlen)
{
	*silent = false;
	client_options opts = *o;
	if (opts.timeout_ms == 0)
		opts.timeout_ms = REMOTE_TIMEOUT_MS;
	client *c = client_open(&opts, err, errlen);
	if (c == NULL)
		return NULL;
	store *s = calloc(1, sizeof *s);
	struct remote *rm = calloc(1, sizeof *rm);
	if (s == NULL || rm == NULL)
		abort();
	s->remote = rm;
	rm->c = c;
	store_on_close(s, disconnect, NULL);
	if (o->pubkey != NULL) {
		char why[512];
		if ((rm->key = calloc(1, sizeof *rm->key)) == NULL)
			abort();
		if (!keys_load_public(o->pubkey, rm->key->pk, rm->key->keyid, why, sizeof why)) {
			snprintf(err, errlen, "the public key %s cannot be read: %s", o->pubkey, why);
			return give_up(s);
		}
	}
	client_response resp;
	client_status st = client_request(c, "GET", "/v1/status", NULL, NULL, 0, &resp);
	if (st != CLIENT_OK) {
		*silent = st == CLIENT_UNREACHABLE;
		snprintf(err, errlen, "%s", client_errmsg(c));
		return give_up(s);
	}
	json_t *j = json_loadb(resp.body, resp.len, 0, NULL);
	const json_t *id = json_object_get(j, "store");
	if (resp.status != 200 || !json_is_string(id)) {
		const char *why = json_string_value(json_object_get(json_object_get(j, "error"),
		    "message"));
		snprintf(err, errlen, "server %s: %s", client_server(c), why ? why :
		    "it does not answer GET /v1/status as an arbiter server does");
		json_decref(j);
		client_response_free(&resp);
		return give_up(s);
	}
	snprintf(s->id, sizeof s->id, "%s", json_string_value(id));
	snprintf(s->dir, sizeof s->dir, "%s", client_server(c));
	remote_status_read(rm, j);
	json_decref(j);
	client_response_free(&resp);
	return s;
}

bool remote_evidence(store *s, const json_t *answer, const char *digest, char *why, size_t len,
    op_reply *r)
{
	struct remote *rm = s->remote;
	if (rm->key == NULL || evidence_answer_holds(rm->c, rm->key, 0, answer, digest, why, len))
		return true;
	evidence_refusal(r, json_integer_value(json_object_get(answer, "id")), why);
	snprintf(s->err, sizeof s->err, "%s", r->message);
	return false;
}
