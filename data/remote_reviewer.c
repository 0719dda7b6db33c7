/*
 * remote_reviewer.c: reviewer administration through a server: enrolment
 * (POST /v1/reviewers) and the changes to an enrolled reviewer (POST
 * /v1/reviewers/NAME/{disable,enable,unlock,reset,role}).
 *
 * Each sends its route's body (docs/api.md): the actor as "as" and the code
 * when the command has one; the server runs the operation of
 * ops_reviewer*.c, whose outcome and message come back as they were said
 * there, so a command prints the same words and exits with the same code in
 * both modes. A new secret (add, enable, reset) and a new token are in the
 * answer once: they are decoded into the result and the answer is wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

/* The secret (and token) of an answer that gave a reviewer one; without a
 * secret, an error saying what happened (what) and what to do. */
static outcome take_secret(store *s, const remote_answer *a, const char *name,
    const char *what, reviewer_added *r)
{
	const char *secret = json_string_value(json_object_get(a->json, "secret"));
	const char *role = json_string_value(json_object_get(a->json, "role"));
	r->admin = role != NULL && strcmp(role, "admin") == 0;
	remote_take_token(a, r->token, sizeof r->token);
	if (secret != NULL && totp_base32_decode(secret, r->key, sizeof r->key))
		return OUT_OK;
	return op_say(&r->reply, OUT_IO_ERROR, "server %.200s: its answer holds no secret for %s "
	    "(%s: arbiter reviewer reset %s gives them another)", store_dir(s), name, what, name);
}

/* POST /v1/reviewers/NAME/ACTION with body; the answer in a. */
static outcome post_change(store *s, const char *name, const char *action, json_t *body,
    remote_answer *a, op_reply *r)
{
	strbuf path = { 0 };
	sb_puts(&path, "/v1/reviewers/");
	client_path_segment(&path, name, strlen(name));
	sb_printf(&path, "/%s", action);
	outcome o = remote_answered(a, remote_post(s, path.s, body, a, r), r);
	free(path.s);
	return o;
}

/* A change whose answer is its outcome and message alone. */
static outcome change(store *s, const char *name, const char *action, json_t *body,
    op_reply *r)
{
	remote_answer a;
	outcome o = post_change(s, name, action, body, &a, r);
	remote_answer_free(&a);
	return o;
}

outcome remote_reviewer_add(store *s, const op_auth *auth, const char *name, bool admin,
    const identity_spec *spec, reviewer_added *r)
{
	json_t *b = remote_auth_body(auth);
	json_object_set_new(b, "name", json_string(name));
	json_object_set_new(b, "role", json_string(admin ? "admin" : "reviewer"));
	remote_identity_body(b, spec);
	remote_answer a;
	outcome o = remote_answered(&a, remote_post(s, "/v1/reviewers", b, &a, &r->reply),
	    &r->reply);
	if (o == OUT_OK)
		o = take_secret(s, &a, name, "they are enrolled", r);
	remote_answer_wipe(&a);
	return o;
}

outcome remote_reviewer_disable(store *s, const op_auth *auth, const char *name, op_reply *r)
{
	return change(s, name, "disable", remote_auth_body(auth), r);
}

outcome remote_reviewer_enable(store *s, const op_auth *auth, const char *name, bool token,
    reviewer_added *r)
{
	json_t *b = remote_auth_body(auth);
	if (token)
		json_object_set_new(b, "token", json_true());
	remote_answer a;
	outcome o = post_change(s, name, "enable", b, &a, &r->reply);
	if (o == OUT_OK)
		o = take_secret(s, &a, name, "they are enabled", r);
	remote_answer_wipe(&a);
	return o;
}

outcome remote_reviewer_unlock(store *s, const op_auth *auth, const char *name, op_reply *r)
{
	return change(s, name, "unlock", remote_auth_body(auth), r);
}

outcome remote_reviewer_reset(store *s, const op_auth *auth, const char *name,
    reviewer_added *r)
{
	remote_answer a;
	outcome o = post_change(s, name, "reset", remote_auth_body(auth), &a, &r->reply);
	if (o == OUT_OK)
		o = take_secret(s, &a, name, "their old secret is dead", r);
	remote_answer_wipe(&a);
	return o;
}

outcome remote_reviewer_role(store *s, const op_auth *auth, const char *name, bool admin,
    op_reply *r)
{
	json_t *b = remote_auth_body(auth);
	json_object_set_new(b, "role", json_string(admin ? "admin" : "reviewer"));
	return change(s, name, "role", b, r);
}
