/*
 * waiters.c: requests that wait: long-polls (GET /v1/submissions/ID?wait=)
 * and event streams (GET /v1/events) with nothing to send.
 *
 * A waiting request is suspended and listed here. The writer resumes them
 * after a commit (streams after every commit, long-polls after a decision),
 * and the ticker thread at their deadline (a long-poll's end, a stream's
 * next heartbeat) or when the peer hangs up: libmicrohttpd does not watch a
 * suspended connection, so the ticker polls their sockets for POLLRDHUP, and
 * a client that goes away mid-wait frees its request at once instead of at
 * its deadline. The handler, called again, answers or waits again.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

static int wake_pipe[2] = { -1, -1 };

static void poke(void)
{
	char c = 1;
	if (write(wake_pipe[1], &c, 1) < 0 && errno != EAGAIN)
		return;
}

/* Unlinks rq (under lock) and resumes it. */
static void take(server *srv, request *rq, int why)
{
	for (request **p = &srv->waiters; *p != NULL; p = &(*p)->next_waiter)
		if (*p == rq) {
			*p = rq->next_waiter;
			break;
		}
	rq->waiting = false;
	rq->woken = why;
	srv->nwaiting--;
	resume(rq);
}

bool wait_for_change(server *srv, request *rq, int64_t deadline_ms, int64_t seen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	rq->fd = ci != NULL ? ci->connect_fd : -1;
	rq->deadline_ms = deadline_ms;
	rq->woken = WOKEN_NOT;
	pthread_mutex_lock(&srv->lock);
	if ((rq->stream != NULL ? srv->head_seq : srv->change_gen) != seen || srv->stopping) {
		pthread_mutex_unlock(&srv->lock);
		return false;
	}
	suspend(rq);
	rq->waiting = true;
	rq->poll_index = -1;
	rq->next_waiter = srv->waiters;
	srv->waiters = rq;
	srv->nwaiting++;
	pthread_mutex_unlock(&srv->lock);
	poke();
	return true;
}

void waiters_wake(server *srv, int which)
{
	pthread_mutex_lock(&srv->lock);
	for (request *rq = srv->waiters, *next; rq != NULL; rq = next) {
		next = rq->next_waiter;
		if (which == WAKE_ALL || rq->stream != NULL)
			take(srv, rq, WOKEN_CHANGE);
	}
	pthread_mutex_unlock(&srv->lock);
}

void waiters_remove(server *srv, request *rq)
{
	pthread_mutex_lock(&srv->lock);
	if (rq->waiting) {
		for (request **p = &srv->waiters; *p != NULL; p = &(*p)->next_waiter)
			if (*p == rq) {
				*p = rq->next_waiter;
				break;
			}
		rq->waiting = false;
		srv->nwaiting--;
	}
	pthread_mutex_unlock(&srv->lock);
}

static void *ticker_main(void *arg)
{
	server *srv = arg;
	struct pollfd *pfds = NULL;
	size_t cap = 0;
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		if (srv->ticker_done) {
			pthread_mutex_unlock(&srv->lock);
			break;
		}
		size_t n = (size_t)srv->nwaiting + 1;
		if (n > cap) {
			cap = n * 2;
			pfds = realloc(pfds, cap * sizeof *pfds);
			if (pfds == NULL)
				abort();
		}
		pfds[0] = (struct pollfd){ .fd = wake_pipe[0], .events = POLLIN };
		size_t k = 1;
		int64_t now = mono_ms(), next = now + 1000;
		for (request *rq = srv->waiters; rq != NULL; rq = rq->next_waiter) {
			if (rq->deadline_ms < next)
				next = rq->deadline_ms;
			rq->poll_index = rq->fd >= 0 ? (int)k : -1;
			if (rq->fd >= 0)
				pfds[k++] = (struct pollfd){ .fd = rq->fd, .events = POLLRDHUP };
		}
		pthread_mutex_unlock(&srv->lock);
		int timeout = next > now ? (int)(next - now) : 0;
		int ready = poll(pfds, k, timeout);
		if (ready > 0 && (pfds[0].revents & POLLIN)) {
			char buf[64];
			while (read(wake_pipe[0], buf, sizeof buf) > 0)
				;
		}
		pthread_mutex_lock(&srv->lock);
		now = mono_ms();
		for (request *rq = srv->waiters, *nx; rq != NULL; rq = nx) {
			nx = rq->next_waiter;
			int i = rq->poll_index;
			if (ready > 0 && i > 0 && (size_t)i < k &&
			    (pfds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
				take(srv, rq, WOKEN_GONE);
			else if (rq->deadline_ms <= now)
				take(srv, rq, WOKEN_DEADLINE);
		}
		pthread_mutex_unlock(&srv->lock);
	}
	free(pfds);
	return NULL;
}

bool ticker_start(server *srv)
{
	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return false;
	return pthread_create(&srv->ticker_thread, NULL, ticker_main, srv) == 0;
}

void ticker_stop(server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->ticker_done = true;
	pthread_mutex_unlock(&srv->lock);
	poke();
	pthread_join(srv->ticker_thread, NULL);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
}
