/*
 * remote.h: a store reached through a running server, for data/ alone.
 *
 * store_connect (remote.c) makes a store whose remote is set. Every
 * operation of ops.h a command may call begins by handing a remote store to
 * its twin here, which sends the request of the API (PRODUCT.md section 9,
 * docs/api.md) through client.c and reads the answer into the very result
 * the SQLite store fills: the same views, outcomes and messages, which the
 * JSON writers of ops_read.c turn into the same bytes. The server runs the
 * operation itself with its own store, so what an answer says (an outcome,
 * a message) is what the operation said there.
 */
#ifndef ARBITER_REMOTE_H
#define ARBITER_REMOTE_H

#include <jansson.h>

#include "client.h"
#include "ops.h"
#include "store_impl.h"

struct remote {
	client *c;
	/* GET /v1/status when the store was reached: the policy version, whether
	 * enforcement is on, and whether the files differ from the pin (how) */
	int policy_version;
	bool enforcement, tampered;
	char changed[768];
	/* the review settings the server follows, and who the server says the
	 * caller is (its identity's kind and name: "owner", "reviewer", "agent") */
	bool approve_requires_code;
	int justification_min_chars;
	int64_t override_default_duration, session_idle;
	char kind[16], name[72];
	/* the API session of the last sign-in (POST /v1/sessions); "" none. Wiped */
	char session[80];
	/* the last POST /v1/submissions answer, for op_submit_result */
	strbuf answer;
	bool answered;
	/* with the store's public key (client_options), every allow the server
	 * answers is checked here too (evidence_client.c); NULL: none */
	signed_key *key;
};

/* ---- remote.c: requests and their answers ---- */
typedef struct remote_answer {
	long status;            /* the HTTP status */
	json_t *json;           /* the body, parsed; NULL when it is not JSON */
	char *body;             /* as it came, NUL-terminated */
	size_t len;
} remote_answer;
/* One request: method, path (with its query, built by client_path.c) and a
 * body of len bytes (NULL: none) of content type ctype. A 2xx answer whose
 * body is JSON: OUT_OK with a filled. Anything else: the error's outcome and
 * message in r (code_needed from the error object), a->status kept. Free a
 * with remote_answer_free either way. */
outcome remote_call(store *s, const char *method, const char *path, const char *ctype,
    const char *body, size_t len, remote_answer *a, op_reply *r);
void remote_answer_free(remote_answer *a);
/* POST path with a JSON body (taken: freed here), written with every
 * character beyond ASCII as an escape, so that text a user gave (a reason
 * with control characters in it) reaches the server as the operation takes
 * it; the sent text is wiped (it may hold a code). */
outcome remote_post(store *s, const char *path, json_t *body, remote_answer *a, op_reply *r);
/* A change's body: the actor as "as" and, when given, the code. */
json_t *remote_auth_body(const op_auth *auth);
/* o, or for a 2xx answer (o OUT_OK) the outcome and message the answer
 * names ("outcome": "waiting"...), into r. */
outcome remote_answered(const remote_answer *a, outcome o, op_reply *r);
/* How an identity is reached, as the API's body says it: "user", "uid",
 * "token", "rate" (spec NULL: nothing). */
void remote_identity_body(json_t *b, const identity_spec *spec);
/* A new identity's token from an answer ("" when it has none). */
void remote_take_token(const remote_answer *a, char *token, size_t len);
/* remote_answer_free for an answer that held a secret or a token: wiped
 * first. */
void remote_answer_wipe(remote_answer *a);
/* Sets a long poll's time: the server answers within wait_s seconds. */
void remote_patience(store *s, int64_t wait_s);

/* ---- client_path.c: paths and queries, percent-encoded by libcurl ---- */
/* Appends s (len bytes) as one path segment. */
void client_path_segment(strbuf *b, const char *s, size_t len);
/* Appends "?name=value", or "&name=value" after the first; nothing for a
 * NULL value. */
void client_path_query(strbuf *b, const char *name, const char *v);

/* ---- views.c: views read from the JSON a store or a server gives ---- */
/* A string member of o copied into a (NULL when it is not a string). */
const char *json_member(arena *a, const json_t *o, const char *key, size_t *len);
void findings_view_read(arena *a, const json_t *list, finding_view **out, size_t *n);
void decisions_view_read(arena *a, const json_t *list, decision_view **out, size_t *n);
void events_view_read(arena *a, const json_t *list, event_view **out, size_t *n);
void stats_view_read(const json_t *st, stats_view *v);
void reviewers_view_read(const json_t *list, reviewers_view *v);
void versions_view_read(const json_t *list, versions_view *v);
void agents_view_read(const json_t *list, agents_view *v);
/* A listing's row from a result as list --json prints it (strings in a). */
void row_read(arena *a, const json_t *result, sub_row *row);

/* Whether answer (a submission's result), when it allows, is proven by its
 * signed events under the public key s was reached with (nothing to check
 * without one), for the document of digest (NULL: the answer's own): false
 * with the refusal (OUT_TAMPERED, evidence_refusal) in r and the mismatch
 * in why. */
bool remote_evidence(store *s, const json_t *answer, const char *digest, char *why, size_t len,
    op_reply *r);

/* ---- remote_read.c: the reads ---- */
outcome remote_submission_get(store *s, const char *key, submission_view *v, op_reply *r);
outcome remote_list(store *s, const sub_filter *f, list_visit visit, void *ctx, int64_t *next,
    op_reply *r);
outcome remote_stats(store *s, int64_t since_ms, int top, stats_view *v, op_reply *r);
outcome remote_reviewers(store *s, reviewers_view *v, op_reply *r);
outcome remote_chain_head(store *s, int64_t *seq, char hash[65], op_reply *r);
outcome remote_overview(store *s, const char *actor, overview *v, op_reply *r);
/* What GET /v1/status says of the store besides its id (store_connect and
 * remote_overview): the policy version, enforcement, integrity, the review
 * settings and the caller's identity. */
void remote_status_read(struct remote *rm, const json_t *status);

outcome remote_wait(store *s, const char *key, int64_t timeout_ms, waited *w, op_reply *r);

/* ---- remote_audit.c: the audit log and the policy versions ---- */
outcome remote_audit_read(store *s, const audit_filter *f, audit_visit visit, void *ctx,
    op_reply *r);
outcome remote_audit_follow(store *s, int64_t after, audit_visit visit, void *ctx,
    const volatile sig_atomic_t *stop, op_reply *r);
outcome remote_policy_versions(store *s, versions_view *v, op_reply *r);
/* POST /v1/audit/records: q's event with details (NULL: none), as checked
 * by op_audit_record. */
outcome remote_audit_record(store *s, const app_record *q, const json_t *details,
    app_recorded *r);
outcome remote_policies(store *s, policies_view *v, op_reply *r);

/* ---- remote_change.c: the changes ---- */
outcome remote_decide(store *s, const decide_request *q, decide_result *r);
outcome remote_signin(store *s, const op_auth *auth, op_reply *r);
outcome remote_agent_add(store *s, const op_auth *auth, const char *name,
    const identity_spec *spec, agent_added *r);
outcome remote_agent_revoke(store *s, const op_auth *auth, const char *name, op_reply *r);
outcome remote_agents(store *s, agents_view *v, op_reply *r);
outcome remote_policy_pin(store *s, const op_auth *auth, const char *justification,
    policy_pinned *r);
outcome remote_reevaluate(store *s, const char *actor, int64_t id, reevaluated *r);
outcome remote_audit_checkpoint(store *s, const char *actor, const char *path,
    audit_checkpointed *r);
outcome remote_audit_export(store *s, const char *actor, const char *path, audit_exported *r);
outcome remote_audit_rotate_key(store *s, const op_auth *auth, key_rotated *r);

/* ---- remote_reviewer.c: reviewer administration ---- */
outcome remote_reviewer_add(store *s, const op_auth *auth, const char *name, bool admin,
    const identity_spec *spec, reviewer_added *r);
outcome remote_reviewer_disable(store *s, const op_auth *auth, const char *name, op_reply *r);
outcome remote_reviewer_enable(store *s, const op_auth *auth, const char *name, bool token,
    reviewer_added *r);
outcome remote_reviewer_unlock(store *s, const op_auth *auth, const char *name, op_reply *r);
outcome remote_reviewer_reset(store *s, const op_auth *auth, const char *name,
    reviewer_added *r);
outcome remote_reviewer_role(store *s, const op_auth *auth, const char *name, bool admin,
    op_reply *r);

/* ---- remote_submit.c: submissions ---- */
outcome remote_submit(submit_batch *b, const submission *sub, arena *scratch, eval_result *r,
    stored *out, submit_reply *rep);
bool remote_submit_result(submit_batch *b, strbuf *json, const char **status);
/* A result as the API gives it (section 3's fields) read back into an
 * evaluation, its strings in a: the status, counts, findings and
 * modifications result_print_text shows. */
bool result_read(arena *a, const json_t *result, eval_result *r);

#endif
