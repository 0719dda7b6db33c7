/*
 * serve.h: arbiter serve, the HTTP server that owns the store (PRODUCT.md
 * section 9).
 *
 * Threads: libmicrohttpd's one polling thread runs every request handler and
 * reads the store through its own connection (reader); one writer thread
 * owns the write connection, the signing key and the policy set, and runs
 * every change as a job (writer.c): concurrent submissions share one
 * transaction (group commit), and each request is answered only after its
 * commit. A thread of the store copies the log into the database beside it
 * (store_copy_log_aside). A ticker thread ends long-polls at their deadline and
 * sends the event streams' heartbeats. Another writes the automatic audit
 * checkpoints (autocheckpoint.c). The main thread waits for signals.
 *
 * A handler that must wait (a write job, a long-poll, an event stream with
 * nothing to send) suspends its connection; whoever finishes the wait
 * resumes it, and libmicrohttpd calls the handler again, which answers.
 */
#ifndef ARBITER_SERVE_H
#define ARBITER_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../front.h"

struct MHD_Connection;
struct MHD_Daemon;
typedef struct server server;
typedef struct request request;

/* Who is calling (identity.c). */
enum { WHO_NONE, WHO_OWNER, WHO_AGENT, WHO_REVIEWER };
typedef struct caller {
	int kind;                       /* WHO_* */
	char name[72];                  /* the identity's name; the owner: its login */
	bool admin;
	int rate;                       /* an agent's requests a second; 0: no limit */
	char address[64];               /* "unix:UID" or the TCP peer's address */
} caller;

/* What a route lets in. */
enum { LET_ANYONE, LET_IDENTITY, LET_REVIEWER, LET_ADMIN };

typedef struct route {
	const char *method;
	const char *pattern;            /* a * stands for one path segment */
	int let;                        /* LET_* */
	void (*handle)(server *srv, request *rq);
} route;

/* One document of a POST /v1/submissions body. */
typedef struct sub_item {
	submission sub;
	bool ok;                        /* read; else refused with: */
	outcome out;
	int http;                       /* 400 malformed, 422 refused */
	char err[256];
	int line, col;
} sub_item;

/* A job for the writer thread: run on the write connection, then the
 * request is resumed. */
typedef struct job job;
struct job {
	job *next;
	job *next_open;                 /* in the open transaction (writer.c) */
	request *rq;
	/* submissions: read in rq's arena, stored in the shared transaction */
	sub_item *items;
	size_t nitems;
	bool batch;                     /* JSON Lines: one answer line per item */
	bool dry_run, match;
	const char *actor;              /* the submissions' actor (?as=), else the identity */
	bool lost;                      /* a failure took back its earlier items */
	strbuf out;                     /* a batch's answer lines */
	/* new submissions that allow: where the answer gets each one's signed
	 * event, once committed (writer.c), in rq's arena */
	struct proof *proofs;
	size_t nproofs, proofs_cap;
	/* anything else: its own transaction */
	void (*run)(server *srv, store *w, job *j);
	void *ctx;                      /* what the handler read for it, in rq's arena */
	bool done;
};

/* One listening socket: its daemon and the connection its polling thread
 * reads the store with. */
typedef struct listener {
	server *srv;
	struct MHD_Daemon *daemon;
	store *reader;
	bool tcp;
	struct shared_page *events;     /* events.c: the page of events streams last read */
	struct last_read *last_read;    /* routes.c: the submission last read */
} listener;

struct request {
	struct MHD_Connection *conn;
	listener *lst;
	store *reader;                  /* the listener's */
	const char *method, *url;
	const route *route;
	char arg[128];                  /* the path's * segment, decoded */
	caller who;
	/* the body, read whole up to its limit */
	char *body;
	size_t len, cap, limit;
	bool too_large;
	/* the answer */
	int status;
	char *answer;                   /* malloc'd */
	size_t answer_len;
	const char *content_type;
	int retry_after;                /* seconds; 0: none */
	bool close;                     /* close the connection after the answer */
	int answer_fd;                  /* >= 0: the body is this file, answer_len bytes */
	struct { const char *name; char *value; } headers[4];  /* more, malloc'd values */
	int nheaders;
	bool answered;
	/* waiting */
	bool suspended;
	int64_t deadline_ms;            /* answer (or a heartbeat) by then, mono_ms() */
	bool waiting;                   /* listed in waiters.c, under the server's lock */
	int woken;                      /* WOKEN_*: why it was resumed */
	int fd;                         /* its socket, watched for hang-ups */
	uint64_t wait_id;               /* this wait's, in the ticker's epoll set */
	job job;
	bool wait_set;                  /* ?wait= read: deadline_ms is the long-poll's */
	int64_t wait_sub;               /* the submission a long-poll waits on; 0: any change */
	void *stream;                   /* GET /v1/events: its state */
	void (*stream_free)(request *rq);
	request *next_waiter;
	/* logging */
	int64_t started_us;
	size_t sent;
	arena *arena;
};

struct server {
	listener unix_lst, tcp_lst;
	int active;                     /* requests in flight, under lock */
	int64_t ended;                  /* requests ended since the start, under lock */
	settings cfg;
	char home[4096];
	char socket_path[4200];
	bool socket_owned;              /* ours to unlink at exit */
	uid_t uid;                      /* the server's own: its peers are the owner */
	char login[72];
	bool log_json;
	store *writer;                  /* the writer thread's */
	/* the writer (writer.c) */
	pthread_t writer_thread, ticker_thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	job *queue, **queue_tail;
	policy_set *ps;
	settings live;                  /* config.yaml as the writer last read it */
	eval_options opts;
	integrity integ;
	bool reload;                    /* SIGHUP: read policies and config again */
	bool stopping;                  /* SIGTERM: answer the waiting, take nothing new */
	bool writer_done;
	bool open;                      /* the writer takes jobs (writer_open) */
	/* waiting requests (waiters.c), under lock */
	request *waiters;
	int nwaiting;
	bool ticker_done;
	int64_t ticker_next;            /* when the ticker looks at deadlines next, mono_ms() */
	uint64_t wait_ids;              /* the last wait_id given */
	/* automatic audit checkpoints (autocheckpoint.c), under lock */
	store *autocp;                  /* its thread's connection */
	pthread_t autocp_thread;
	pthread_cond_t autocp_wake;
	bool autocp_done, autocp_idle;  /* idle: asleep until the head moves */
	int64_t autocp_last_seq, autocp_last_ms, autocp_head;   /* at its start */
	int64_t head_seq;               /* the audit chain's last seq, after each commit */
	int64_t change_gen;             /* counts commits that may end a long-poll */
	struct sessions *sessions;      /* sessions.c: the writer thread's only */
	bool denials_due;               /* denials.c: refusals to audit now, under lock */
	bool denials_waiting;           /* counted refusals wait for their minute */
};

/* http.c: the request lifecycle over libmicrohttpd */
bool http_start(listener *l, int listen_fd, const char *cert, const char *key, char *err,
    size_t errlen);

/* reply.c: answers, and the parts of a request a handler reads */
/* 200 with {"items": [...]}: item(items, i) writes the i-th (malloc'd). */
void answer_items(request *rq, const void *items, size_t n, char *(*item)(const void *, size_t));
/* An answer: status and a body (copied). */
void answer(request *rq, int status, const char *content_type, const char *body, size_t len);
/* An answer taking a malloc'd body. */
void answer_owned(request *rq, int status, const char *content_type, char *body, size_t len);
/* The JSON error of outcome o with message (and a position when line > 0). */
void answer_error(request *rq, outcome o, const char *message, int line, int column);
/* An error object as answers and JSON Lines results carry it. */
void error_json(strbuf *b, const char *code, const char *message, int line, int column);
/* An error with an HTTP status of its own (404, 405, 413, 415) and code. */
void answer_status(request *rq, int status, const char *code, const char *message);
/* An operation's answer into b, left open for the caller's members and its
 * closing "}": {"outcome": NAME, "message": M when it succeeded (ok, waiting,
 * refused), else {"error": {"code", "message", and "code_needed": true when
 * it asked for a TOTP code}}. Returns the HTTP status. */
int reply_open(strbuf *b, outcome o, const char *message, bool code_needed);
/* Answers r as it is (reply_open, closed); an operation's bad_input is 422:
 * the body was well formed, the operation refused what it says. */
void answer_reply(request *rq, const op_reply *r);
/* One more header of the answer (the value is copied). */
void answer_header(request *rq, const char *name, const char *text);
/* A query value, decoded whole (url_unescape leaves %2F and %25 to it). */
const char *query(const request *rq, const char *name);
const char *header(const request *rq, const char *name);
/* libmicrohttpd's unescaping of the path and the query, but for %2F (and
 * %25, so that a "%2F" written as %252F stays itself): an id or ref in the
 * path may hold a slash ("agent-7/1187") and still be one segment, decoded
 * by url_decode_kept once its route is found. */
size_t url_unescape(void *cls, struct MHD_Connection *c, char *s);
void url_decode_kept(char *s);
void suspend(request *rq);
void resume(request *rq);

/* body.c: the body of a request that changes something, and who acts */
/* The body's format from its Content-Type; -1 when it is none of them. */
enum { BODY_JSON, BODY_YAML, BODY_LINES };
int body_format(const request *rq);
typedef struct body_doc {
	request *rq;
	const node *root;               /* a map; NULL: an empty body */
} body_doc;
/* Reads rq's body, one JSON or YAML document, empty or a mapping whose keys
 * are among fields (NULL-terminated); false when it answered the refusal. */
bool body_read(request *rq, const char *const *fields, body_doc *b);
/* A field: false when it answered that its value is of the wrong type;
 * absent fields leave *out as it was. */
bool body_string(body_doc *b, const char *key, const char **out);
bool body_bool(body_doc *b, const char *key, bool *out);
/* A whole number from min to max. */
bool body_int(body_doc *b, const char *key, int64_t min, int64_t max, int64_t *out);
/* A field that is a JSON object, as compact JSON text (node_json_text: *len
 * bytes, in rq's arena); absent leaves *text as it was. */
bool body_object(body_doc *b, const char *key, const char **text, size_t *len);
/* How an identity is reached: "user" (a login) or "uid", "token" (true:
 * make one) and, for an agent, "rate" (requests a second). */
bool body_identity(body_doc *b, bool agent, identity_spec *spec);
/* A list of submission ids (positive integers), at most max. */
bool body_ids(body_doc *b, const char *key, int64_t *ids, int max, int *n);
/* Whom the caller acts as: itself, or (the owner only) the reviewer that
 * "as" names; false when it answered the refusal (audited as access.denied). */
bool acting_as(request *rq, const char *as, const char **actor);
/* The authority of a change that may take a code, the one way a route reads
 * one: whom the caller acts as ("as", acting_as: a reviewer's codes are
 * tried by that reviewer or the owner only), the code ("code", read last: its
 * text in the document and the body are wiped, the caller wipes *code once
 * it is used) and the origin its failures count from (the calling identity;
 * the owner's are its uid's, as its commands' on the store). false when it
 * answered the refusal, with the code wiped. */
bool body_auth(body_doc *b, op_auth *auth, char **code);

/* sessions.c: API sessions, in memory (writer thread only) */
enum { SESSION_TOKEN_HEX = 64 };
/* A new session of actor for the caller who; token gets it (hex). */
void session_new(server *srv, const caller *who, const char *actor,
    char token[SESSION_TOKEN_HEX + 1]);
/* The reviewer of who's live session token, refreshed; NULL when there is
 * none or it has been idle longer than idle_s. */
const char *session_use(server *srv, const caller *who, const char *token, int64_t idle_s);
/* Ends every session signed in as reviewer actor (disabled, enabled again,
 * or given a new secret). */
void sessions_end(server *srv, const char *actor);
void sessions_free(server *srv);

/* denials.c: access.denied, at most once a minute per who, with a count */
/* Notes a refusal of who (an identity's name, "uid N" or an address). */
void denied(server *srv, const char *who, const char *what);
/* The same for a request: its identity (or address), method and path. */
void denied_request(server *srv, const request *rq, const char *what);
/* On the writer: audits the refusals that are due (all: every one counted);
 * true when counted ones still wait. */
bool denials_flush(store *w, bool all);

/* identity.c */
/* Fills rq->who from the peer (socket uid or bearer token); false when it
 * answered a refusal. */
bool identify(server *srv, request *rq);
/* An agent revoked while the server runs: its open streams end. */
void identity_revoked(const char *name);
bool identity_is_revoked(const char *name);

/* events.c: GET /v1/events, the Server-Sent Events stream */
void h_events(server *srv, request *rq);
void events_free(listener *l);

/* routes.c: the route table and its handlers */
extern const route routes[];
extern const size_t nroutes;
void last_read_free(listener *l);
/* The handlers of the other routes_*.c, by topic. */
void h_decide(server *srv, request *rq);         /* routes_decide.c */
void h_decide_many(server *srv, request *rq);
void h_signin(server *srv, request *rq);
void h_reviewers(server *srv, request *rq);      /* routes_reviewers.c */
void h_reviewer_add(server *srv, request *rq);
void h_reviewer_disable(server *srv, request *rq);
void h_reviewer_enable(server *srv, request *rq);
void h_reviewer_unlock(server *srv, request *rq);
void h_reviewer_reset(server *srv, request *rq);
void h_reviewer_role(server *srv, request *rq);
void h_reevaluate(server *srv, request *rq);     /* routes_admin.c */
void h_pin(server *srv, request *rq);
void h_rotate_key(server *srv, request *rq);
void h_agents(server *srv, request *rq);         /* routes_agents.c */
void h_agent_add(server *srv, request *rq);
void h_agent_revoke(server *srv, request *rq);
void h_audit(server *srv, request *rq);          /* routes_audit.c */
void h_checkpoint(server *srv, request *rq);
void h_export(server *srv, request *rq);
void h_keys(server *srv, request *rq);
void h_record(server *srv, request *rq);         /* routes_record.c */
void h_outcome(server *srv, request *rq);

/* writer.c */
/* Reads the policies and config.yaml and starts the thread, which touches
 * the store only once writer_open says so: until then the write
 * connection is the caller's. */
bool writer_start(server *srv, char *err, size_t errlen);
void writer_open(server *srv);
/* Reads config.yaml and the policies again and checks them against the pin
 * (on the writer thread: a job, or between rounds); false keeps the set in
 * use, with the reason in err. */
bool writer_load(server *srv, char *err, size_t errlen);
/* Queues j for the writer and suspends its request. */
void writer_submit(server *srv, request *rq);
void writer_run(server *srv, request *rq, void (*run)(server *, store *, job *));
/* SIGHUP: re-read config.yaml and the policies between two rounds. */
void writer_reload(server *srv);
/* Runs what is queued, then ends the thread. */
void writer_stop(server *srv);

/* autocheckpoint.c: audit checkpoints written by the server itself */
bool autocp_start(server *srv, char *err, size_t errlen);
/* After a round that moved the head (under the server's lock). */
void autocp_moved(server *srv);
void autocp_stop(server *srv);

/* waiters.c: long-polls and event streams */
enum { WOKEN_NOT, WOKEN_CHANGE, WOKEN_DEADLINE, WOKEN_GONE };
/* Suspends rq until the store changes or its deadline passes; seen is what
 * the caller read before looking (change_gen, or head_seq for a stream):
 * false, without waiting, when it has changed since. */
bool wait_for_change(server *srv, request *rq, int64_t deadline_ms, int64_t seen);
/* Resumes waiting requests after a commit: event streams only (new
 * events), or everyone (a decision: long-polls look again; stopping). */
enum { WAKE_STREAMS, WAKE_ALL };
void waiters_wake(server *srv, int which);
/* After a change to these submissions: event streams, and the long-polls on
 * one of them (or on no known one). */
void waiters_wake_subs(server *srv, const int64_t *ids, size_t n);
void waiters_remove(server *srv, request *rq);
bool ticker_start(server *srv);
void ticker_stop(server *srv);

#endif
