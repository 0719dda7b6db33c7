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

enum { RETRY_MS = 1000, RETRY_STEP_MS = 100 };

struct store_watch {
	store *s;                       /* the thread's own connection */
	int fds[2];                     /* the pipe: read end polled, write end poked */
	pthread_t thread;
	volatile sig_atomic_t stop;
	int64_t last;                   /* the last event seen (the thread's) */
};

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
	return any;
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
	free(w);
}
