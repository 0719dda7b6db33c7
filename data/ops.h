/*
 * ops.h: the operations layer, what every front end calls.
 *
 * Every state change a user can make is one function here. It runs one
 * transaction holding the change and its audit event, writes nothing to
 * stdout or stderr, and returns one outcome of PRODUCT.md section 7 with a
 * message the front end can show as it is. The CLI maps the outcome to an
 * exit code, the console to its message line, the server to an HTTP status,
 * each through the one table of outcome.c; none of them opens a transaction.
 *
 * Codes: an operation that needs the actor's TOTP code verifies it inside its
 * own write transaction, after checking everything that could refuse the
 * change, so a change that cannot be made never uses up a code. The attempt
 * is recorded before that transaction (a store that cannot record it refuses
 * the code unchecked), and a refused code is recorded (and audited) before
 * the answer (data/codes.c). The front end only
 * collects the code: when an operation needs one and none was given, it
 * answers OUT_UNAUTHENTICATED with code_needed set, and the front end asks
 * for it (a prompt, a dialog field) and calls again.
 */
#ifndef ARBITER_OPS_H
#define ARBITER_OPS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* ---- outcome.c: the outcomes and the statuses, in one table each ---- */
typedef enum outcome {
	OUT_OK, OUT_WAITING, OUT_REFUSED, OUT_BAD_INPUT, OUT_NOT_FOUND, OUT_CONFLICT, OUT_BUSY,
	OUT_IO_ERROR, OUT_RATE_LIMITED, OUT_UNAUTHENTICATED, OUT_NOT_PERMITTED,
	OUT_ALREADY_DECIDED, OUT_WRONG_STATE, OUT_CODE_REFUSED, OUT_LOCKED_OUT, OUT_TAMPERED,
	OUT__COUNT
} outcome;
typedef struct outcome_info {
	const char *name;       /* "code_refused": the API's error code */
	int exit_code;          /* 0 done, 1 error, 3 waiting, 4 refused */
	int http_status;
	const char *message;    /* the default message */
} outcome_info;
const outcome_info *outcome_of(outcome o);
int outcome_exit(outcome o);
/* The outcome an API error's code names ("code_refused"); OUT__COUNT when
 * it names none. */
outcome outcome_named(const char *name);
/* What a submission of status st (ST_*) reports: OUT_OK (it may proceed),
 * OUT_WAITING (pending, blocked) or OUT_REFUSED (rejected, expired). */
outcome status_outcome(int st);
/* Whether st is final: no reviewer decision can change it. */
bool status_final(int st);
/* ST_* of a status name ("expired" included); -1 when it is none. */
int status_parse(const char *name);
/* The exit code of a status name as a command reporting it exits (an
 * unknown name: refused). */
int status_name_exit(const char *name);

/* Every operation's answer besides its own result. */
typedef struct op_reply {
	outcome out;
	char message[512];
	bool code_needed;       /* OUT_UNAUTHENTICATED: call again with a code */
	bool code_accepted;     /* a code was given and accepted (a sign-in too) */
} op_reply;

/* Who acts and what proves it. */
typedef struct op_auth {
	const char *actor;      /* a name (PRODUCT.md section 2), compared lower-cased */
	const char *code;       /* the actor's TOTP code; NULL: none given */
	bool session;           /* signed in within review.session_idle (console) */
	/* who is trying the code, as failures are counted and lockouts hold
	 * (data/codes.c): through the server the calling identity ("reviewer
	 * bob"); NULL: this process's uid (a command on the store, or the owner
	 * through its server, which runs as the owner) */
	const char *origin;
} op_auth;

/* ---- ops_submit.c: storing submissions, one by one or in batches ---- */
typedef struct stored {
	int64_t id;
	bool existing;          /* an identical earlier submission with the same ref */
	strbuf details;         /* a new one's audit event details; reused, the caller frees it */
	int64_t seq;            /* a new one's submission.create event */
	/* an existing one whose status allows: the signed events behind it (a
	 * JSON array, op_evidence); reused, the caller frees it */
	strbuf evidence;
	char status[16];        /* OUT_TAMPERED: the status its row says */
	char tampered[320];     /* OUT_TAMPERED: how its row differs from its signed events */
} stored;
/* A writer of many submissions: they share transactions of up to
 * SUBMIT_BATCH_MAX documents or SUBMIT_BATCH_MS of work, so that a batch
 * commits once; a refused document writes nothing and the batch goes on.
 * Nothing is reported stored before its commit. A command's submit (its
 * files, directories and JSON Lines; stream set) takes up to
 * SUBMIT_STREAM_MAX or SUBMIT_STREAM_MS: each commit writes every index
 * page its documents touched, and a random digest lands on a page of its
 * own, so five times
 * the documents per commit write a little over half the log (measured:
 * 137,700 frames for 100,000 documents in batches of 1,000, 78,500 in
 * batches of 5,000) and sync a fifth as often; another writer waits for
 * the lock about as long as 5,000 documents take (0.2 to 0.4 s here); the
 * time bound is for a machine much slower than that. The server's groups
 * keep the smaller bounds, which cap how long a request waits for its
 * commit. */
enum { SUBMIT_BATCH_MAX = 1000, SUBMIT_BATCH_MS = 100, SUBMIT_STREAM_MAX = 5000,
	SUBMIT_STREAM_MS = 1000 };
typedef struct submit_batch {
	store *s;
	const policy_set *ps;
	const eval_options *opts;
	int version;                    /* the policy version that evaluates */
	const char *actor;
	bool stream;                    /* a command's stream: SUBMIT_STREAM_MAX and _MS */
	int pending;                    /* new submissions in the open transaction */
	int handled;                    /* documents handled in it, stored or not */
	int64_t started;                /* when it began, mono_ms() */
} submit_batch;
typedef struct submit_reply {
	op_reply reply;
	int lost;                       /* earlier submissions of the batch that a failure
	                                 * rolled back with the transaction (not stored) */
} submit_reply;
/* Evaluates and stores sub in the batch's open transaction (opening one when
 * none is). OUT_OK: stored, or out->existing; else the document is refused
 * (OUT_BAD_INPUT, OUT_CONFLICT for a ref with other content) or the store
 * failed; r->lost says what else went. An existing one whose row says it
 * may proceed is checked against its signed events (op_evidence):
 * OUT_TAMPERED when they differ, for the caller to audit (op_tamper_record,
 * once the batch is committed). */
outcome op_submit(submit_batch *b, const submission *sub, arena *scratch, eval_result *r,
    stored *out, submit_reply *rep);
/* Whether the open transaction has grown enough to commit now. */
bool op_submit_due(const submit_batch *b);
/* Commits the open transaction, if any. A failure: rep->lost were not stored. */
outcome op_submit_commit(submit_batch *b, submit_reply *rep);
/* The result of what op_submit just stored (out, r), as submit --json prints
 * it: a new one's evaluation, or an existing one's stored result with its
 * status as it reads now (*status). Written to json, emptied first; false
 * (store_errmsg) when it cannot be read. */
bool op_submit_result(submit_batch *b, const submission *sub, const eval_result *r,
    const stored *out, strbuf *json, const char **status);

/* ---- ops_prepare.c: what a change needs before it runs ---- */
typedef struct prepared {
	settings cfg;           /* config.yaml, clamped while tampered */
	integrity integ;        /* the policy files against the pin */
	policy_set *ps;         /* read when asked for; NULL through a server, which
	                         * evaluates with its own */
	diags cfg_errs;         /* what is wrong with config.yaml */
	diags policy_errs;      /* and with the policies */
	int version;            /* the pinned policy version that evaluates */
	/* config.yaml as the front end read it when it opened the store
	 * (cfg_read; cfg_ok: without errors, cfg_errs else): op_prepare uses
	 * those bytes and does not read the file again */
	bool cfg_read, cfg_ok;
} prepared;
/* Starts p empty, with the default settings; every op_prepare follows one. */
void op_prepare_begin(prepared *p);
/* Reads config.yaml unless the front end handed it over (cfg_read) and,
 * with policies, the policy set; loads the signing key and compares what
 * was read with the pinned version (p->integ: warn when tampered).
 * OUT_BAD_INPUT when config.yaml or the policies have errors (in p's
 * diags); OUT_IO_ERROR when the key or the pin cannot be read. A store
 * reached through a server holds none of this: the server checks it all,
 * and p keeps the defaults. Free with prepared_free. */
outcome op_prepare(store *s, bool policies, prepared *p, op_reply *r);
void prepared_free(prepared *p);

/* ---- ops_decide.c: approve, reject, override (PRODUCT.md section 4) ---- */
enum { OP_MAX_IDS = 256 };
typedef struct decide_request {
	const char *kind;               /* "approve", "reject" or "override" */
	op_auth auth;
	bool ack;                       /* approve: warnings acknowledged */
	const char *text;               /* the note, reason or justification */
	int64_t expires_s;              /* override: asked duration; 0 the default */
	const int64_t *ids;             /* distinct ids, at most OP_MAX_IDS */
	int nids;
} decide_request;
typedef struct decided_item {
	int64_t id;
	outcome out;                    /* OUT_OK decided, OUT_WAITING a partial override */
	char message[512];              /* what happened, or why it was refused */
	int given, approvals;           /* override: approvals with this one, needed */
	int64_t expires_ms;             /* override */
} decided_item;
typedef struct decide_result {
	op_reply reply;                 /* a refusal of the whole call, or the worst of items */
	bool call_refused;              /* the refusal is the call's, not an id's */
	bool actor_refused;             /* the actor may not decide at all */
	int n;
	decided_item items[OP_MAX_IDS];      /* one per id, in the order given */
} decide_result;
/* Decides every id that may be decided, with one code, in one transaction:
 * the policy files against the pin, the actor, each id, then the code, then
 * the decisions and their events. cfg: the settings the caller read. */
outcome op_decide(store *s, const settings *cfg, const decide_request *q, decide_result *r);

/* Whether a decision of kind needs a code: an override always; approve and
 * reject unless review.approve_requires_code is off or a session is live. */
bool op_decide_needs_code(const settings *cfg, const char *kind, bool session);

/* Verifies the actor's code and audits session.signin (details: via, e.g.
 * "console"): a sign-in. */
outcome op_signin(store *s, const settings *cfg, const op_auth *auth, const char *via,
    op_reply *r);

/* ---- identities (PRODUCT.md section 9): how an agent or a reviewer is
 * reached through the server ---- */
/* A bearer token: "arbiter_" and 32 random bytes in base64url without
 * padding. Only its SHA-256 is stored. */
enum { TOKEN_BYTES = 32, TOKEN_CHARS = 51 };
#define IDENTITY_UID_MAX 4294967294L
typedef struct identity_spec {
	const char *login;      /* a login, resolved to its uid; NULL: none */
	long uid;               /* a uid (its login recorded too, if it has one); -1: none */
	bool token;             /* make a bearer token */
	int rate;               /* agents: requests per second, 0: no limit */
} identity_spec;

/* ---- ops_reviewer.c: enrolling reviewers ---- */
/* A reviewer given a secret: enrolled, enabled again, or reset. */
typedef struct reviewer_added {
	op_reply reply;
	bool admin;                             /* the reviewer's role */
	unsigned char key[REVIEWER_KEY_BYTES];  /* the new secret: show once, then wipe */
	char token[TOKEN_CHARS + 1];            /* a new token: show once, then wipe; else "" */
} reviewer_added;
/* Enrols name, reached through the server as spec says (NULL: by their name
 * as login, which is resolved to its uid when the system has it; an
 * explicit login must exist). A login or uid reaches one identity only. The
 * first reviewer of a store must be an admin and needs no code; after that
 * the actor must be an enabled admin with their code. */
outcome op_reviewer_enrol(store *s, const settings *cfg, const op_auth *auth, const char *name,
    bool admin, const identity_spec *spec, reviewer_added *r);
/* op_reviewer_enrol with the default mapping (spec NULL). */
outcome op_reviewer_add(store *s, const settings *cfg, const op_auth *auth, const char *name,
    bool admin, reviewer_added *r);

/* ---- ops_reviewer_admin.c: an admin's changes to an enrolled reviewer ----
 * Each needs an enabled admin with their code (PRODUCT.md section 4), runs
 * in one transaction with its audit event (reviewer.disable, .enable,
 * .unlock, .reset, .role), and never leaves the store without an enabled
 * admin. An unknown name is OUT_NOT_FOUND; a change that does not fit the
 * reviewer's state (disabling a disabled one) is OUT_WRONG_STATE, answered
 * before the code is checked, so that it uses none. */
/* Disables name and removes their secret from users.oath; never the last
 * enabled admin. */
outcome op_reviewer_disable(store *s, const settings *cfg, const op_auth *auth, const char *name,
    op_reply *r);
/* Enables disabled name again with a new secret in r->key (disable removed
 * the old one), their failures and lockout forgotten. Their login or uid
 * reaches them again; a bearer token they had does not: with token, a new
 * one is made (r->token). */
outcome op_reviewer_enable(store *s, const settings *cfg, const op_auth *auth, const char *name,
    bool token, reviewer_added *r);
/* Ends enabled name's lockout, if any, and forgets their code failures. */
outcome op_reviewer_unlock(store *s, const settings *cfg, const op_auth *auth, const char *name,
    op_reply *r);
/* Gives enabled name a new secret (r->key) in users.oath: the old one gives
 * no code from the commit on. Their failures and lockout, and the time step
 * last used, belonged to the old secret and are forgotten. */
outcome op_reviewer_reset(store *s, const settings *cfg, const op_auth *auth, const char *name,
    reviewer_added *r);
/* Makes name an admin (admin) or a plain reviewer; the last enabled admin
 * stays one. A disabled reviewer's role may change too (it counts once they
 * are enabled). */
outcome op_reviewer_role(store *s, const settings *cfg, const op_auth *auth, const char *name,
    bool admin, op_reply *r);

/* ---- ops_agent.c: agents (PRODUCT.md section 9) ---- */
typedef struct agent_added {
	op_reply reply;
	char token[TOKEN_CHARS + 1];    /* spec->token: show once, then wipe; else "" */
} agent_added;
/* Adds agent name (PRODUCT.md's name rule; stored lower-cased), reached by
 * spec's login (which must exist) or uid, and/or its token; at least one of
 * them. A login or uid reaches one identity only, and never the store
 * owner's (this process's) uid: an agent on the owner's uid is one by its
 * token alone. An enabled admin, with their code; audited as agent.add. */
outcome op_agent_add(store *s, const settings *cfg, const op_auth *auth, const char *name,
    const identity_spec *spec, agent_added *r);
/* Revokes agent name at once (an enabled admin, with code), audited as
 * agent.revoke: it never authenticates again, and its uid may be given to
 * another identity. Its name stays taken. */
outcome op_agent_revoke(store *s, const settings *cfg, const op_auth *auth, const char *name,
    op_reply *r);

typedef struct agent_view {
	const char *name, *created, *actor;
	const char *login, *revoked;    /* NULL: none, not revoked */
	long uid;                       /* -1: none */
	bool token;
	int rate;                       /* 0: no limit */
} agent_view;
typedef struct agents_view {
	agent_view *items;              /* by name */
	size_t n;
	arena *arena;
} agents_view;
outcome op_agents(store *s, agents_view *v, op_reply *r);
void agents_view_free(agents_view *v);
/* One line of agent list --json: name, login, uid, token (true or false),
 * rate, created, by, revoked. malloc'd. */
char *agent_json(const agent_view *v);

/* Audits access.denied: who (an identity's name, or "uid N", or a peer's
 * address) was refused what, count times. The server coalesces refusals: it
 * calls this at most once a minute per who, with the refusals counted since
 * its last call for that who, so that a flood of refusals costs one event a
 * minute. */
outcome op_access_denied(store *s, const char *who, const char *what, int count, op_reply *r);

/* ---- ops_identify.c: who is calling the server ---- */
enum { ID_OWNER, ID_AGENT, ID_REVIEWER };
typedef struct identity {
	int kind;                       /* ID_*: ID_OWNER is the server's to set */
	char name[65];
	bool admin;                     /* a reviewer who is an admin */
	int rate;                       /* an agent's requests per second, 0: no limit */
} identity;
/* The identity a socket peer's uid reaches: an agent (not revoked) or an
 * enabled reviewer mapped to uid, or to its login. None, or a disabled
 * reviewer: OUT_NOT_PERMITTED ("unknown uid N"). The owner (the server's own
 * uid) is the server's to recognise before asking. */
outcome op_identify_uid(store *s, long uid, identity *id, op_reply *r);
/* The identity a bearer token names, compared in constant time. No such
 * token, a malformed one, a revoked agent's or a disabled reviewer's:
 * OUT_UNAUTHENTICATED. peer_uid is the socket peer's uid, -1 on TCP: on the
 * socket the token's identity must be mapped to that uid (or its login),
 * unless the peer is the owner (this process's uid), who may use any token:
 * else OUT_NOT_PERMITTED. */
outcome op_identify_token(store *s, const char *token, long peer_uid, identity *id,
    op_reply *r);

/* ---- ops_policy.c: pinning the policy set (PRODUCT.md section 5) ---- */
typedef struct policy_pinned {
	op_reply reply;
	int version, was;               /* the new version and the one before */
	char what[768];                 /* what differed */
} policy_pinned;
/* Records the policy files (and config.yaml) as they are now as the next
 * version: an enabled admin, with code and a justification of at least
 * review.justification_min_chars. OUT_OK with version 0: nothing to pin. */
outcome op_policy_pin(store *s, const settings *cfg, const op_auth *auth,
    const char *justification, policy_pinned *r);

/* ---- ops_keys.c: rotating the audit key (PRODUCT.md section 6) ---- */
typedef struct key_rotated {
	op_reply reply;
	int64_t seq;                    /* the key.rotate event's */
	char keyid[17], was[17];        /* the new key's id, the retired one's */
	char pubkey[57];                /* the new public key, minisign's line */
} key_rotated;
/* A new audit key pair: an enabled admin, with code. key.rotate (signed by
 * the old key) names the new public key, every later event is signed by
 * the new one; keys/audit.pub and audit.key become the new pair, the old
 * public key stays as keys/audit-OLDID.pub, the old secret is destroyed.
 * OUT_IO_ERROR after the commit: rotated, its files put into place at the
 * next open. */
outcome op_audit_rotate_key(store *s, const settings *cfg, const op_auth *auth, key_rotated *r);

/* Evaluates submission id (pending or blocked) again under ps, the pinned
 * set as the caller read it, with its submission.reevaluate event. */
typedef struct reevaluated {
	op_reply reply;                 /* OUT_OK allowed now, OUT_WAITING still waits */
	char before[16];
	int after;                      /* ST_* */
	int version;
	eval_result result;
} reevaluated;
outcome op_reevaluate(store *s, const settings *cfg, const policy_set *ps, const char *actor,
    int64_t id, reevaluated *r);

/* ---- ops_read.c: reads, each one call with its outcome ----
 * A read fills a result of plain C types whose strings belong to it (its
 * arena) until its _free; OUT_NOT_FOUND, OUT_BUSY or OUT_IO_ERROR come with
 * a message. The JSON texts the front ends print (--json) are written here
 * too, so that every front end, and a server, says the same bytes. */
typedef struct finding_view {
	const char *policy, *type, *severity, *effect, *message, *path, *source, *role;
	const char *detail;             /* NULL: none */
	bool overridable;
	int approvals;
	int64_t max_duration;
} finding_view;
typedef struct decision_view {
	const char *reviewer, *decision, *at;
	const char *note, *expires_at;  /* NULL: none */
} decision_view;
typedef struct event_view {
	int64_t seq;
	const char *ts, *actor, *event;
	const char *details;            /* compact JSON */
} event_view;
typedef struct submission_view {
	sub_row row;                    /* strings in the view; document included */
	const char *result;             /* as list --json prints it (submission_result_json) */
	int given, required;            /* blocked: override approvals given, needed */
	finding_view *findings;         /* critical first */
	decision_view *decisions;       /* oldest first */
	event_view *events;             /* the audit events whose subject is it */
	size_t nfindings, ndecisions, nevents;
	/* a status that allows: the signed events behind it, a JSON array
	 * (op_evidence); NULL: none (a status that does not allow) */
	const char *evidence;
	const char *tampered;           /* OUT_TAMPERED: how its row differs from them */
	arena *arena;
} submission_view;
/* The submission whose id (all digits) or ref is key, in full. A ref that
 * several submitters use is OUT_BAD_INPUT, the message naming their
 * submissions' ids. A status that allows comes with the signed events
 * behind it (v->evidence), or, when they do not say the same, as
 * OUT_TAMPERED with v filled all the same and v->tampered saying how: the
 * caller audits it (op_tamper_record) and reports no allow. Through a
 * server that answer is the server's, and with a public key
 * (client_options) the events are checked here too. */
outcome op_submission_get(store *s, const char *key, submission_view *v, op_reply *r);
/* The same among submitter's own submissions (NULL: anyone's): another's id
 * is OUT_NOT_FOUND, and a ref names at most one. */
outcome op_submission_of(store *s, const char *key, const char *submitter, submission_view *v,
    op_reply *r);
void submission_view_free(submission_view *v);
/* show --json: the result with document, decisions, events and, while an
 * override gathers approvals, override {given, required}. malloc'd. */
char *submission_json(const submission_view *v);
/* The same as the API answers it: with "evidence", the signed events behind
 * a status that allows. malloc'd. */
char *submission_answer_json(const submission_view *v);
/* Adds "evidence": events (a JSON array) as the last member of result, the
 * text of one JSON object (a newline after it stays after it). */
void result_add_evidence(strbuf *result, const char *events, size_t len);
/* Takes result_add_evidence's member off again (a client prints a result
 * as a store opened here gives it); false when result has none. */
bool result_strip_evidence(strbuf *result);

/* Whether submission id, when its status allows (allowed, approved,
 * overridden), is what its signed events say, under the store's key
 * (PRODUCT.md section 7): OUT_OK with those events (a JSON array) in events,
 * left empty for a status that does not allow; OUT_TAMPERED with the
 * refusal in r, the status its row says in status and the mismatch in why
 * (for op_tamper_record); OUT_NOT_FOUND, OUT_IO_ERROR. A store opened here
 * only. */
outcome op_evidence(store *s, int64_t id, strbuf *events, char status[16], char *why,
    size_t len, op_reply *r);
/* The evidence of a submission just stored and committed: its event seq
 * (stored.seq), as a JSON array of that one event. */
outcome op_evidence_event(store *s, int64_t seq, strbuf *events, op_reply *r);
/* list --json for a row of query_list: the stored result with its status,
 * created_at, decided_at and expires_at as they read now. malloc'd; NULL
 * with the reason in store_errmsg. */
char *submission_result_json(store *s, const sub_row *row);
/* The same through query_result's jansson tree: what the direct writer must
 * equal byte for byte (tests/unit/test_store_ops.c). */
char *submission_result_json_tree(store *s, const sub_row *row);
/* A listing: calls visit for each submission matching f (query_list), with
 * its result as list --json prints it when results is set (else NULL),
 * until f->limit rows or visit returns false. next: query_list's. */
typedef bool (*list_visit)(void *ctx, const sub_row *row, const char *result);
outcome op_list(store *s, const sub_filter *f, bool results, list_visit visit, void *ctx,
    int64_t *next, op_reply *r);

/* ---- ops_match.c: an earlier decision on the same call ---- */
/* The newest submission, not allowed, of submitter (submitter_len bytes, 0:
 * strlen; NULL: none) whose digest is digest under policy_version, when it
 * still answers for the call: waiting (pending or blocked), approved or
 * rejected less than ttl_ms ago (hook.approval_ttl), or overridden and not
 * expired. OUT_OK with its *id, else OUT_NOT_FOUND (*id 0): the call is to
 * be submitted anew. Runs in the caller's transaction when one is open. */
outcome op_submission_match(store *s, const char *submitter, size_t submitter_len,
    const char *digest, int policy_version, int64_t ttl_ms, int64_t *id, op_reply *r);

typedef struct policy_count {
	const char *policy;
	int64_t critical, warning, info, total;
} policy_count;
typedef struct submitter_count {
	const char *submitter;          /* NULL: none */
	size_t len;                     /* it may hold NUL */
	int64_t submissions;
} submitter_count;
typedef struct stats_view {
	const char *since;              /* NULL: all time */
	int64_t submissions, decided;
	int64_t statuses[ST_EXPIRED + 1];       /* by ST_* */
	double override_rate, rejection_rate;
	int64_t findings[4];            /* total, critical, warning, info */
	policy_count *policies;         /* most findings first */
	submitter_count *top;           /* most submissions first */
	size_t npolicies, ntop;
	arena *arena;
} stats_view;
/* The statistics of the submissions created at or after since_ms (0: all),
 * with at most top submitters. */
outcome op_stats(store *s, int64_t since_ms, int top, stats_view *v, op_reply *r);
void stats_view_free(stats_view *v);
/* stats --json. malloc'd. */
char *stats_json(const stats_view *v);

typedef struct reviewer_view {
	const char *name, *role, *enrolled;
	const char *last_used, *locked_until;   /* NULL: never, not locked */
	bool disabled;
	const char *login;              /* the login the server knows them by; NULL: none */
	long uid;                       /* -1: none recorded */
	bool token;                     /* a bearer token is set */
} reviewer_view;
typedef struct reviewers_view {
	reviewer_view *items;           /* by name */
	size_t n;
	arena *arena;
} reviewers_view;
outcome op_reviewers(store *s, reviewers_view *v, op_reply *r);
void reviewers_view_free(reviewers_view *v);
/* One line of reviewer list --json: name, role, enrolled, last_used,
 * locked_until, login, uid, token (true or false), disabled. malloc'd. */
char *reviewer_json(const reviewer_view *v);

typedef struct version_view {
	int version, files;
	const char *created_at, *actor;
	const char *justification;      /* NULL: none */
} version_view;
typedef struct versions_view {
	version_view *items;            /* oldest first */
	size_t n;
	arena *arena;
} versions_view;
/* The pinned policy versions. */
outcome op_policy_versions(store *s, versions_view *v, op_reply *r);
void versions_view_free(versions_view *v);

typedef struct policy_view {
	const char *name, *type, *severity, *effect, *source;
	const char *description;        /* NULL: none */
	bool enabled;
	const char *json;               /* policy list --json's line */
} policy_view;
typedef struct policies_view {
	policy_view *items;             /* in the order they are read */
	size_t n;
	integrity integ;                /* the files against the pin */
	diags errs;                     /* OUT_BAD_INPUT: what is wrong with the files */
	arena *arena;
} policies_view;
/* The policy set the store evaluates with: its files, read now (with their
 * load errors), or through a server the set the server read. */
outcome op_policies(store *s, policies_view *v, op_reply *r);
void policies_view_free(policies_view *v);
/* One policy as a view (its strings in a): a set read without a store. */
void policy_view_of(const policy *p, arena *a, policy_view *out);

typedef struct audit_events {
	audit_event *items;             /* in the order read */
	size_t n;
	arena *arena;
} audit_events;
/* A page of at most limit audit events from the cursor (audit_page's keyset
 * paging: one index walk per page). */
outcome op_audit_page(store *s, const audit_cursor *q, int64_t limit, audit_events *v,
    op_reply *r);
void audit_events_free(audit_events *v);
/* One event as audit list --json prints it: seq, ts, actor, event, subject,
 * details (the object itself), prev, hash, sig. malloc'd. */
char *audit_event_text(const audit_event *e);
/* The same appended to b; false (b as it was, or longer) when jansson
 * cannot write it. */
bool audit_event_write(strbuf *b, const audit_event *e);

/* The head of the audit chain: its last seq (0: empty) and hash. */
outcome op_chain_head(store *s, int64_t *seq, char hash[65], op_reply *r);
/* The audit events matching f (audit_read): newest first unless
 * f->oldest_first, each to visit until it returns false. */
outcome op_audit_read(store *s, const audit_filter *f, audit_visit visit, void *ctx,
    op_reply *r);

/* ---- ops_overview.c: what a reviewer's console shows above every screen ---- */
typedef struct overview {
	int64_t counts[ST_EXPIRED + 1];         /* submissions by ST_*, as they read now */
	int policy_version;
	bool tampered;                          /* the policy files differ from the pin */
	char changed[768];                      /* how, when tampered */
	char actor[72];                         /* the actor's name as enrolled (else as asked) */
	bool reviewer, admin;                   /* the actor is an enabled reviewer; an admin */
} overview;
/* The counts per status, the policy version and the actor's standing, in
 * one call: on a store opened here the counts and the reviewer's row, with
 * tampered false (the caller that holds the files checks them, as
 * integrity_check_loaded does); through a server, GET /v1/status, whose
 * server compared its files with the pin. */
outcome op_overview(store *s, const char *actor, overview *v, op_reply *r);
/* The submissions of v that a list --status filter (a status, waiting,
 * decided, all) shows. */
int64_t overview_count(const overview *v, const char *filter);

/* ---- ops_follow.c: reads that wait for a change ---- */
typedef struct waited {
	int64_t id;
	char status[16];        /* as it reads at the end */
	bool timed_out;         /* still pending or blocked at the deadline */
	char tampered[320];     /* OUT_TAMPERED: how its row differs from its signed events */
} waited;
/* Waits until submission key (its id, or its ref) is neither pending nor
 * blocked, or until timeout_ms has passed (-1: no limit). OUT_OK either
 * way (w says which); OUT_NOT_FOUND when there is no such submission. A
 * status that allows is checked against its signed events as
 * op_submission_get checks it: OUT_TAMPERED when they differ. */
outcome op_wait(store *s, const char *key, int64_t timeout_ms, waited *w, op_reply *r);
/* Calls visit with each audit event appended after seq after, oldest first,
 * as it comes, until visit returns false or *stop is set (looked at every
 * 200 ms at most). */
outcome op_audit_follow(store *s, int64_t after, audit_visit visit, void *ctx,
    const volatile sig_atomic_t *stop, op_reply *r);

/* ---- watch.c: being told when the store changes ---- */
typedef struct store_watch store_watch;
/* Follows every change to s (each is an audit event) from now on, on a
 * thread and a connection of its own: its fd becomes readable when one
 * comes, and when following breaks off (then it follows again a second
 * later, missing nothing). NULL with the reason in err. */
store_watch *store_watch_start(store *s, char *err, size_t errlen);
int store_watch_fd(const store_watch *w);
/* Empties the fd: whether anything came since the last call. */
bool store_watch_changed(store_watch *w);
/* Whether what that call emptied named submission id (or may have: too
 * many to keep, or following broke off meanwhile). */
bool store_watch_touched(const store_watch *w, int64_t id);
void store_watch_stop(store_watch *w);

/* ---- evidence_store.c: state against the signed chain (PRODUCT.md section 7) ---- */
/* OUT_TAMPERED in r: "submission ID: state does not match the audit chain:
 * WHY". */
outcome evidence_refusal(op_reply *r, int64_t id, const char *why);
/* Audits state.tamper about submission id (details: the status its row
 * says, and the mismatch) in a transaction of its own, which the caller
 * must not hold open; nothing when the newest state.tamper about it says
 * the same. Through a server, nothing: the server found it and audited it. */
outcome op_tamper_record(store *s, const char *actor, int64_t id, const char *status,
    const char *why, op_reply *r);

/* ---- ops_audit.c: the signed checkpoint and export report (PRODUCT.md section 6) ---- */
typedef struct audit_checkpointed {
	op_reply reply;
	int64_t seq;                    /* the head it records */
	char hash[65];
} audit_checkpointed;
/* Audits audit.checkpoint, then writes path (store id, head seq and hash,
 * time) and path.minisig, verifiable with minisign -Vm. */
outcome op_audit_checkpoint(store *s, const char *actor, const char *path,
    audit_checkpointed *r);
typedef struct audit_exported {
	op_reply reply;                 /* OUT_TAMPERED: written, and it records the failure */
	verify_result verify;           /* the verification the report records */
} audit_exported;
/* Audits audit.export, then writes the JSON report of one snapshot of the log
 * to path (through a temporary file renamed into place) and path.minisig.
 * progress (or NULL) hears of the two passes over the log. */
outcome op_audit_export(store *s, const char *actor, const char *path,
    audit_progress progress, void *ctx, audit_exported *r);

/* ---- ops_record.c: events users record, app.* (PRODUCT.md section 6) ---- */
enum { APP_NAME_MAX = 64, APP_SUBJECT_MAX = 200, APP_DETAILS_MAX = 64 * 1024 };
typedef struct app_record {
	const char *actor;      /* who records it: a name (op_named's rule) */
	/* actor is an agent (through the server): it records only about its
	 * own submissions, so subject must be the id of one it submitted;
	 * else actor must be an enabled reviewer */
	bool agent;
	const char *event;      /* "app." and 1 to APP_NAME_MAX of [a-z0-9_.-] */
	const char *subject;    /* NULL or "": none; else at most APP_SUBJECT_MAX bytes
	                         * of UTF-8 text without control characters */
	const char *details;    /* a JSON object's text (NULL: {}), at most
	                         * APP_DETAILS_MAX bytes as the event keeps it */
	size_t details_len;
	const char *details_file;       /* what a position in details names ("--details") */
	/* a refusal of the actor is audited here, as access.denied in its own
	 * commit (a command); the server audits its refusals itself, coalesced */
	bool audit_refusal;
} app_record;
typedef struct app_recorded {
	op_reply reply;
	int64_t seq;                    /* OUT_OK: the event's */
	int line, col;                  /* OUT_BAD_INPUT in the details: where; else 0 */
	bool malformed, too_large;      /* OUT_BAD_INPUT: the details are not a JSON object;
	                                 * over APP_DETAILS_MAX */
	/* OUT_NOT_PERMITTED, OUT_NOT_FOUND: the refusal as access.denied says
	 * it, shortly ("mallory is not a reviewer"); "" when it was no refusal
	 * of the actor */
	char refused[120];
} app_recorded;
/* Appends q->event in a transaction of its own. OUT_BAD_INPUT: the name,
 * subject or details are wrong (nothing touched the store); OUT_NOT_PERMITTED:
 * the actor is no enabled reviewer, or an agent named no submission;
 * OUT_NOT_FOUND: an agent named a submission that is not its own (or none). */
outcome op_audit_record(store *s, const app_record *q, app_recorded *r);

/* ---- ops_outcome.c: what happened after a submission ran (PRODUCT.md section 9) ---- */
enum { OUTCOME_MAX = 4096 };
typedef struct outcome_report {
	const char *key;                /* the submission: its id, or a ref of submitter's */
	/* the submitter reporting it (its name, as an identity's); NULL: the
	 * store's owner, who may report any submission's */
	const char *submitter;
	bool agent;                     /* submitter is an agent: another's submission is
	                                 * OUT_NOT_FOUND, as its reads say, not forbidden */
	const char *actor;              /* the event's actor */
	const char *text;               /* the outcome: a JSON object, at most OUTCOME_MAX bytes */
	size_t len;
	const char *file;               /* what a position in text names ("body") */
	const policy_set *ps;           /* the quota policies actual amounts count for; NULL: none */
} outcome_report;
typedef struct outcome_reported {
	op_reply reply;
	int64_t id, seq;                /* OUT_OK: the submission and its submission.outcome */
	int line, col;                  /* OUT_BAD_INPUT in text: where; else 0 */
	bool malformed, too_large;      /* OUT_BAD_INPUT: text is not a JSON object; over
	                                 * OUTCOME_MAX (else a member is wrong) */
	bool others;                    /* refused: the submission is another's */
} outcome_reported;
/* Records q's outcome of its submission once (again: OUT_CONFLICT), audited as
 * submission.outcome with the object as its details, in one transaction.
 * Members actual_F (non-negative numbers) count for the quotas that sum F:
 * the submission then uses max(estimate, actual) of them. A store opened
 * here only: no command reports outcomes. */
outcome op_submission_outcome(store *s, const outcome_report *q, outcome_reported *r);

/* Audits one event of the caller's own (server.start, server.stop): details
 * is a compact JSON object with its keys sorted, or NULL for {}. */
outcome op_record(store *s, const char *actor, const char *event, const char *subject,
    const char *details, op_reply *r);

#endif
