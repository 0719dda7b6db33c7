/*
 * serve.h: arbiter serve, the HTTP server that owns the store (PRODUCT.md
 * section 9).
 *
 * Threads: libmicrohttpd's one polling thread runs every request handler and
 * reads the store through its own connection (reader); one writer thread
 * owns the write connection, the signing key and the policy set, and runs
 * every change as a job (writer.c): concurrent submissions share one
 * transaction (group commit), and each request is answered only after its
 * commit. A ticker thread ends long-polls at their deadline and sends the
 * event streams' heartbeats. The main thread waits for signals.
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
	bool lost;                      /* a failure took back its earlier items */
	strbuf out;                     /* a batch's answer lines */
	/* anything else: its own transaction */
	void (*run)(server *srv, store *w, job *j);
	bool done;
};

/* One listening socket: its daemon and the connection its polling thread
 * reads the store with. */
typedef struct listener {
	server *srv;
	struct MHD_Daemon *daemon;
	store *reader;
	bool tcp;
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
	bool answered;
	/* waiting */
	bool suspended;
	int64_t deadline_ms;            /* answer (or a heartbeat) by then, mono_ms() */
	bool waiting;                   /* listed in waiters.c, under the server's lock */
	int woken;                      /* WOKEN_*: why it was resumed */
	int fd, poll_index;             /* its socket, watched for hang-ups */
	job job;
	bool wait_set;                  /* ?wait= read: deadline_ms is the long-poll's */
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
	/* waiting requests (waiters.c), under lock */
	request *waiters;
	int nwaiting;
	bool ticker_done;
	int64_t head_seq;               /* the audit chain's last seq, after each commit */
	int64_t change_gen;             /* counts commits that may end a long-poll */
};

/* http.c: the request lifecycle over libmicrohttpd */
bool http_start(listener *l, int listen_fd, const char *cert, const char *key, char *err,
    size_t errlen);

/* reply.c: answers, and the parts of a request a handler reads */
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
const char *query(const request *rq, const char *name);
const char *header(const request *rq, const char *name);
void suspend(request *rq);
void resume(request *rq);

/* identity.c */
/* Fills rq->who from the peer (socket uid or bearer token); false when it
 * answered a refusal. */
bool identify(server *srv, request *rq);

/* events.c: GET /v1/events, the Server-Sent Events stream */
void h_events(server *srv, request *rq);

/* routes.c: the route table and its handlers */
extern const route routes[];
extern const size_t nroutes;

/* writer.c */
bool writer_start(server *srv, char *err, size_t errlen);
/* Queues j for the writer and suspends its request. */
void writer_submit(server *srv, request *rq);
void writer_run(server *srv, request *rq, void (*run)(server *, store *, job *));
/* SIGHUP: re-read config.yaml and the policies between two rounds. */
void writer_reload(server *srv);
/* Runs what is queued, then ends the thread. */
void writer_stop(server *srv);

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
void waiters_remove(server *srv, request *rq);
bool ticker_start(server *srv);
void ticker_stop(server *srv);

#endif
