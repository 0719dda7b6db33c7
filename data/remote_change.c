/*
 * remote_change.c: the changes of ops.h through a server: decisions,
 * agents, the policy pin, reevaluation, the audit key's rotation, and the
 * signed checkpoint and export (reviewers: remote_reviewer.c).
 *
 * Each sends the body of its route (docs/api.md): the actor as "as", which
 * the server takes from its owner (a reviewer acts as themselves), and the
 * code when the command has one. A change that needs a code and was sent
 * none is answered 401 with code_needed, as the operation answers on a
 * store opened here, and the command asks for the code and calls again. The
 * answer's outcome and message are the operation's; decisions add one line
 * per id. A checkpoint's and an export's files are signed by the server,
 * which holds the key: its answer carries the file and its signature, which
 * are written here where the command names them.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

/* ---- decisions ---- */

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

outcome remote_signin(store *s, const op_auth *auth, op_reply *r)
{
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, "/v1/sessions", remote_auth_body(auth), &a, r),
	    r);
	const char *token = json_string_value(json_object_get(a.json, "token"));
	if (o == OUT_OK) {
		if (token == NULL || strlen(token) >= sizeof s->remote->session) {
			o = op_say(r, OUT_IO_ERROR, "server %.200s: its sign-in answer has no session",
			    store_dir(s));
		} else {
			snprintf(s->remote->session, sizeof s->remote->session, "%s", token);
			const json_t *idle = json_object_get(a.json, "idle_seconds");
			if (json_is_integer(idle))
				s->remote->session_idle = json_integer_value(idle);
			r->code_accepted = true;
			op_say(r, OUT_OK, "signed in as %s", auth->actor);
		}
	}
	if (token != NULL)
		sodium_memzero((char *)token, strlen(token));
	remote_answer_free(&a);
	return o;
}

outcome remote_decide(store *s, const decide_request *q, decide_result *r)
{
	json_t *b = remote_auth_body(&q->auth), *ids = json_array();
	json_object_set_new(b, "decision", json_string(q->kind));
	for (int i = 0; i < q->nids; i++)
		json_array_append_new(ids, json_integer(q->ids[i]));
	json_object_set_new(b, "ids", ids);
	if (q->text != NULL)
		json_object_set_new(b, strcmp(q->kind, "approve") == 0 ? "note" :
		    strcmp(q->kind, "reject") == 0 ? "reason" : "justification", json_string(q->text));
	if (q->ack)
		json_object_set_new(b, "ack", json_true());
	if (q->expires_s > 0) {
		char d[32];
		snprintf(d, sizeof d, "%llds", (long long)q->expires_s);
		json_object_set_new(b, "expires", json_string(d));
	}
	remote_answer a;
	/* the session goes with a call made within it, never with one that
	 * brings its own code: a session the server has ended would refuse it */
	if (q->auth.session && s->remote->session[0] != '\0')
		client_set_session(s->remote->c, s->remote->session);
	outcome o = remote_answered(&a, remote_post(s, "/v1/decisions", b, &a, &r->reply),
	    &r->reply);
	client_set_session(s->remote->c, NULL);
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(a.json, "items"), i, it) {
		if (i >= OP_MAX_IDS)
			break;
		decided_item *d = &r->items[r->n++];
		d->id = json_integer_value(json_object_get(it, "id"));
		d->out = outcome_named(json_string_value(json_object_get(it, "outcome")));
		if (d->out == OUT__COUNT)
			d->out = OUT_IO_ERROR;
		const char *msg = json_string_value(json_object_get(it, "message"));
		snprintf(d->message, sizeof d->message, "%s", msg ? msg : "");
		/* a refusal of the code, or a failure, took every id back */
		if (ends_with(d->message, ": nothing was decided"))
			r->call_refused = true;
	}
	/* the call's own message, when the answer gives it apart from the ids' */
	const json_t *err = json_object_get(a.json, "error");
	const char *refusal = json_string_value(json_object_get(err ? err : a.json, "refusal"));
	if (refusal != NULL)
		snprintf(r->reply.message, sizeof r->reply.message, "%s", refusal);
	/* the server names the actor it refused: the command says it apart */
	char acting[96];
	snprintf(acting, sizeof acting, " (acting as %.64s)", q->auth.actor);
	if (r->n == 0 && o == OUT_NOT_PERMITTED && ends_with(r->reply.message, acting)) {
		r->reply.message[strlen(r->reply.message) - strlen(acting)] = '\0';
		r->actor_refused = true;
	}
	remote_answer_free(&a);
	return r->reply.out = o;
}

/* ---- agents ---- */

outcome remote_agent_add(store *s, const op_auth *auth, const char *name,
    const identity_spec *spec, agent_added *r)
{
	json_t *b = remote_auth_body(auth);
	json_object_set_new(b, "name", json_string(name));
	remote_identity_body(b, spec);
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, "/v1/agents", b, &a, &r->reply), &r->reply);
	if (o == OUT_OK)
		remote_take_token(&a, r->token, sizeof r->token);
	remote_answer_wipe(&a);
	return o;
}

outcome remote_agent_revoke(store *s, const op_auth *auth, const char *name, op_reply *r)
{
	strbuf path = { 0 };
	sb_puts(&path, "/v1/agents/");
	client_path_segment(&path, name, strlen(name));
	json_t *b = remote_auth_body(auth);
	char *text = json_dumps(b, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(b);
	if (text == NULL)
		abort();
	remote_answer a;
	outcome o = remote_call(s, "DELETE", path.s, "application/json", text, strlen(text), &a, r);
	sodium_memzero(text, strlen(text));
	free(text);
	free(path.s);
	o = remote_answered(&a, o, r);
	remote_answer_free(&a);
	return o;
}

outcome remote_agents(store *s, agents_view *v, op_reply *r)
{
	remote_answer a;
	outcome o = remote_call(s, "GET", "/v1/agents", NULL, NULL, 0, &a, r);
	if (o == OUT_OK)
		agents_view_read(json_object_get(a.json, "items"), v);
	remote_answer_free(&a);
	return o;
}

/* ---- the policy pin and reevaluation ---- */

outcome remote_policy_pin(store *s, const op_auth *auth, const char *justification,
    policy_pinned *r)
{
	json_t *b = remote_auth_body(auth);
	json_object_set_new(b, "justification", json_string(justification));
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, "/v1/policy/pin", b, &a, &r->reply), &r->reply);
	if (o == OUT_OK) {
		r->was = (int)json_integer_value(json_object_get(a.json, "was"));
		const char *what = json_string_value(json_object_get(a.json, "changed"));
		r->version = what != NULL && *what != '\0' ?
		    (int)json_integer_value(json_object_get(a.json, "version")) : 0;
		snprintf(r->what, sizeof r->what, "%s", what ? what : "");
	}
	remote_answer_free(&a);
	return o;
}

outcome remote_audit_rotate_key(store *s, const op_auth *auth, key_rotated *r)
{
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, "/v1/audit/rotate-key", remote_auth_body(auth),
	    &a, &r->reply), &r->reply);
	if (o == OUT_OK) {
		r->seq = (int64_t)json_integer_value(json_object_get(a.json, "seq"));
		const char *id = json_string_value(json_object_get(a.json, "keyid"));
		const char *was = json_string_value(json_object_get(a.json, "was"));
		const char *pub = json_string_value(json_object_get(a.json, "pubkey"));
		snprintf(r->keyid, sizeof r->keyid, "%s", id ? id : "");
		snprintf(r->was, sizeof r->was, "%s", was ? was : "");
		snprintf(r->pubkey, sizeof r->pubkey, "%s", pub ? pub : "");
	}
	remote_answer_free(&a);
	return o;
}

outcome remote_reevaluate(store *s, const char *actor, int64_t id, reevaluated *r)
{
	char path[80];
	snprintf(path, sizeof path, "/v1/submissions/%lld/reevaluate", (long long)id);
	op_auth auth = { .actor = actor };
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, path, remote_auth_body(&auth), &a,
	    &r->reply), &r->reply);
	if (o == OUT_OK || o == OUT_WAITING || o == OUT_REFUSED) {
		const char *before = json_string_value(json_object_get(a.json, "before"));
		snprintf(r->before, sizeof r->before, "%s", before ? before : "");
		r->after = status_parse(json_string_value(json_object_get(a.json, "status")));
		r->version = (int)json_integer_value(json_object_get(a.json, "policy_version"));
	}
	remote_answer_free(&a);
	return o;
}

/* ---- the signed files ---- */

/* Writes len bytes to path through a temporary file renamed into place. */
static bool write_whole(const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	bool ok = f != NULL && fwrite(text, 1, len, f) == len;
	ok = f != NULL && fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return true;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	unlink(tmp);
	return false;
}

/* path.minisig, the server's signature of path. */
static outcome write_signature(store *s, const char *path, const char *minisig, size_t siglen,
    op_reply *r)
{
	char sig[PATH_MAX + 16], err[600];
	snprintf(sig, sizeof sig, "%s.minisig", path);
	if (!write_whole(sig, minisig, siglen, err, sizeof err)) {
		snprintf(s->err, sizeof s->err, "%.500s", err);
		return op_say(r, OUT_IO_ERROR, "%.500s", err);
	}
	return r->out;
}

outcome remote_audit_checkpoint(store *s, const char *actor, const char *path,
    audit_checkpointed *r)
{
	op_auth auth = { .actor = actor };
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, "/v1/audit/checkpoints",
	    remote_auth_body(&auth), &a, &r->reply), &r->reply);
	const json_t *text = json_object_get(a.json, "checkpoint"), *sig = json_object_get(a.json,
	    "minisig");
	if (o == OUT_OK && (!json_is_string(text) || !json_is_string(sig)))
		o = op_say(&r->reply, OUT_IO_ERROR, "server %.200s: its answer holds no checkpoint",
		    store_dir(s));
	if (o == OUT_OK) {
		r->seq = json_integer_value(json_object_get(a.json, "seq"));
		const char *hash = json_string_value(json_object_get(a.json, "hash"));
		snprintf(r->hash, sizeof r->hash, "%s", hash ? hash : "");
		char err[600];
		if (!write_whole(path, json_string_value(text), json_string_length(text), err,
		    sizeof err))
			o = op_say(&r->reply, OUT_IO_ERROR, "%s", err);
		else
			o = write_signature(s, path, json_string_value(sig), json_string_length(sig),
			    &r->reply);
	}
	remote_answer_free(&a);
	return o;
}

/* The export's report, streamed into its temporary file as it comes. */
typedef struct exporting {
	FILE *f;
	bool failed;
} exporting;

static bool export_body(void *ctx, const char *data, size_t len)
{
	exporting *x = ctx;
	x->failed = x->failed || fwrite(data, 1, len, x->f) != len;
	return !x->failed;
}

outcome remote_audit_export(store *s, const char *actor, const char *path, audit_exported *r)
{
	memset(r, 0, sizeof *r);
	char tmp[PATH_MAX + 32], err[600];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	exporting x = { fopen(tmp, "w"), false };
	if (x.f == NULL) {
		snprintf(err, sizeof err, "%.400s: %s", tmp, strerror(errno));
		return op_say(&r->reply, OUT_IO_ERROR, "%s", err);
	}
	static const volatile sig_atomic_t never;
	strbuf where = { 0 };
	sb_puts(&where, "/v1/audit/export");
	client_path_query(&where, "as", actor);
	client_response resp;
	client_status st = client_stream(s->remote->c, where.s, export_body, &x, &never, &resp);
	free(where.s);
	bool closed = fclose(x.f) == 0;
	outcome o = OUT_OK;
	char b64[4096] = "", msg[512] = "";
	if (st != CLIENT_OK) {
		o = op_say(&r->reply, OUT_IO_ERROR, "%s", client_errmsg(s->remote->c));
	} else if (resp.status != 200 && resp.status != 409) {
		o = op_say(&r->reply, resp.status == 403 ? OUT_NOT_PERMITTED : OUT_IO_ERROR,
		    "server %.200s answered the export with HTTP %ld", store_dir(s), resp.status);
	} else if (x.failed || !closed) {
		o = op_say(&r->reply, OUT_IO_ERROR, "%s: %s", tmp, strerror(errno));
	} else if (!client_header(&resp, "X-Arbiter-Minisig", b64, sizeof b64)) {
		o = op_say(&r->reply, OUT_IO_ERROR, "server %.200s: the export came without its "
		    "signature", store_dir(s));
	} else {
		client_header(&resp, "X-Arbiter-Message", msg, sizeof msg);
		op_say(&r->reply, resp.status == 409 ? OUT_TAMPERED : OUT_OK, "%s", msg);
		unsigned char sig[3072];
		size_t siglen;
		if (sodium_base642bin(sig, sizeof sig, b64, strlen(b64), NULL, &siglen, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0)
			o = op_say(&r->reply, OUT_IO_ERROR, "server %.200s: the export's signature is not "
			    "base64", store_dir(s));
		else if (rename(tmp, path) != 0)
			o = op_say(&r->reply, OUT_IO_ERROR, "%s: %s", path, strerror(errno));
		else
			o = write_signature(s, path, (const char *)sig, siglen, &r->reply);
	}
	if (st == CLIENT_OK)
		client_response_free(&resp);
	unlink(tmp);
	return o;
}
