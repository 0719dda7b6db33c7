/*
 * watch.c: a file descriptor that becomes readable when the store changes,
 * for a front end that sleeps in poll() beside its terminal (the console).
 *
 * Every change to a store is an audit event, so following the audit log is
 * following every change. A thread of the watch's own follows it with
 * op_audit_follow on a second connection (store_again: a connection
 * serves one thread): on a store opened here that polls SQLite's
 * data_version a few times a second, reading no table while nothing
 * changes; through a server it reads the server's event stream (GET
 * /v1/events), which wakes it the moment an event is appended and costs
 * nothing between heartbeats. Each event writes a byte into a pipe whose
 * reading end the front end polls; store_watch_changed empties it.
 *
 * The thread also notes which submissions the events name (their subject,
 * a submission's id), so that a front end can read again only those:
 * store_watch_touched answers for what the last store_watch_changed
 * emptied; past TOUCHED_MAX of them, or after a break, it answers yes for
 * every one.
 *
 * When the stream breaks (the server restarts) the thread pokes the pipe,
 * so that the front end reads again and shows what it finds, and follows
 * again after a second from the last event it saw: nothing is missed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"

enum { RETRY_MS = 1000, RETRY_STEP_MS = 100, TOUCHED_MAX = 64 };

typedef struct touched {
	int64_t ids[TOUCHED_MAX];
	int n;
	bool all;
} touched;

struct store_watch {
	store *s;                       /* the thread's own connection */
	int fds[2];                     /* the pipe: read end polled, write end poked */
	pthread_t thread;
	volatile sig_atomic_t stop;
	int64_t last;                   /* the last event seen (the thread's) */
	pthread_mutex_t lock;           /* over coming */
	touched coming;                 /* named since the last store_watch_changed */
	touched taken;                  /* what it emptied (the front end's) */
};

static void note(store_watch *w, const char *subject, bool all)
{
	char *end;
	long long id = subject != NULL && *subject >= '1' && *subject <= '9' ?
	    strtoll(subject, &end, 10) : 0;
	pthread_mutex_lock(&w->lock);
	touched *t = &w->coming;
	if (all || t->n == TOUCHED_MAX)
		t->all = true;
	else if (id > 0 && *end == '\0')
		t->ids[t->n++] = id;
	pthread_mutex_unlock(&w->lock);
}

static void poke(store_watch *w)
{
	char byte = 1;
	ssize_t n;
	do
		n = write(w->fds[1], &byte, 1);
	while (n < 0 && errno == EINTR);
	/* a full pipe (EAGAIN) has a poke waiting already */
}

static bool seen(const audit_event *e, void *ctx)
{
	store_watch *w = ctx;
	w->last = e->seq;
	note(w, e->subject, false);
	poke(w);
	return true;
}

static void *follow(void *arg)
{
	store_watch *w = arg;
	while (!w->stop) {
		op_reply r;
		op_audit_follow(w->s, w->last, seen, w, &w->stop, &r);
		if (w->stop)
			break;
		note(w, NULL, true);
		poke(w);        /* broken off: the front end reads what there is now */
		for (int t = 0; t < RETRY_MS && !w->stop; t += RETRY_STEP_MS)
			nanosleep(&(struct timespec){ 0, RETRY_STEP_MS * 1000000L }, NULL);
	}
	return NULL;
}

store_watch *store_watch_start(store *s, char *err, size_t errlen)
{
	store_watch *w = calloc(1, sizeof *w);
	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->fds[0] = w->fds[1] = -1;
	pthread_mutex_init(&w->lock, NULL);
	op_reply r;
	if (op_chain_head(s, &w->last, (char[65]){ 0 }, &r) != OUT_OK) {
		snprintf(err, errlen, "%s", r.message);
		free(w);
		return NULL;
	}
	if (pipe2(w->fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		free(w);
		return NULL;
	}
	w->s = store_again(s, err, errlen);
	if (w->s != NULL && pthread_create(&w->thread, NULL, follow, w) == 0)
		return w;
	if (w->s != NULL)
		snprintf(err, errlen, "cannot start a thread");
	store_close(w->s);
	close(w->fds[0]);
	close(w->fds[1]);
	free(w);
	return NULL;
}

int store_watch_fd(const store_watch *w)
{
	return w->fds[0];
}

bool store_watch_changed(store_watch *w)
{
	char buf[256];
	bool any = false;
	ssize_t n;
	while ((n = read(w->fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		any |= n > 0;
	pthread_mutex_lock(&w->lock);
	w->taken = w->coming;
	memset(&w->coming, 0, sizeof w->coming);
	pthread_mutex_unlock(&w->lock);
	return any;
}

bool store_watch_touched(const store_watch *w, int64_t id)
{
	if (w->taken.all)
		return true;
	for (int i = 0; i < w->taken.n; i++)
		if (w->taken.ids[i] == id)
			return true;
	return false;
}

void store_watch_stop(store_watch *w)
{
	if (w == NULL)
		return;
	w->stop = 1;
	pthread_join(w->thread, NULL);
	store_close(w->s);
	close(w->fds[0]);
	close(w->fds[1]);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
