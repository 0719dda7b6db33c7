/*
 * waiters.c: requests that wait: long-polls (GET /v1/submissions/ID?wait=)
 * and event streams (GET /v1/events) with nothing to send.
 *
 * A waiting request is suspended and listed here. The writer resumes them
 * after a commit (streams after every commit, a long-poll after a change to
 * its submission),
 * and the ticker thread at their deadline (a long-poll's end, a stream's
 * next heartbeat) or when the peer hangs up: libmicrohttpd does not watch a
 * suspended connection, so the ticker keeps the waiting sockets in an epoll
 * set of its own (EPOLLRDHUP), and a client that goes away mid-wait frees
 * its request at once instead of at its deadline. The handler, called
 * again, answers or waits again.
 *
 * A wait costs the same however many others there are: its socket enters
 * the set when it begins and leaves it when it ends, and the ticker is woken
 * only when the new deadline comes before the one it sleeps towards. The
 * ticker walks the list only when a deadline is due or a peer hung up, so a
 * thousand quiet waiters cost nothing between their deadlines. An epoll
 * event carries the wait's id, never a pointer: the request may be gone by
 * the time the ticker looks.
 *
 * The ticker also gives memory back: the allocator keeps what a burst of
 * connections freed (a thousand waiters hold about 100 MB between them), so
 * once no request is in flight and none has ended for a second, it trims
 * the heap (malloc_trim), once per burst, and the server returns to its
 * resting size.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mhd.h"
#include "serve.h"

enum { TICK_MS = 1000, EVENTS = 256 };

static int ticker_ep = -1, ticker_poke = -1;

static void poke(void)
{
	uint64_t one = 1;
	if (write(ticker_poke, &one, sizeof one) < 0 && errno != EAGAIN)
		return;
}

/* Ends rq's wait (under lock; unlinked by the caller) and resumes it. */
static void take(server *srv, request *rq, int why)
{
	if (rq->fd >= 0)
		epoll_ctl(ticker_ep, EPOLL_CTL_DEL, rq->fd, NULL);
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
	rq->wait_id = ++srv->wait_ids;
	rq->next_waiter = srv->waiters;
	srv->waiters = rq;
	srv->nwaiting++;
	if (rq->fd >= 0) {
		struct epoll_event ev = { .events = EPOLLRDHUP, .data.u64 = rq->wait_id };
		if (epoll_ctl(ticker_ep, EPOLL_CTL_ADD, rq->fd, &ev) != 0 && errno == EEXIST)
			epoll_ctl(ticker_ep, EPOLL_CTL_MOD, rq->fd, &ev);
	}
	bool sooner = deadline_ms < srv->ticker_next;
	if (sooner)
		srv->ticker_next = deadline_ms;
	pthread_mutex_unlock(&srv->lock);
	if (sooner)
		poke();
	return true;
}

void waiters_wake(server *srv, int which)
{
	pthread_mutex_lock(&srv->lock);
	for (request **p = &srv->waiters; *p != NULL;) {
		request *rq = *p;
		if (which == WAKE_ALL || rq->stream != NULL) {
			*p = rq->next_waiter;
			take(srv, rq, WOKEN_CHANGE);
		} else {
			p = &rq->next_waiter;
		}
	}
	pthread_mutex_unlock(&srv->lock);
}

void waiters_wake_subs(server *srv, const int64_t *ids, size_t n)
{
	pthread_mutex_lock(&srv->lock);
	for (request **p = &srv->waiters; *p != NULL;) {
		request *rq = *p;
		bool wake = rq->stream != NULL || rq->wait_sub == 0;
		for (size_t i = 0; i < n && !wake; i++)
			wake = ids[i] == rq->wait_sub;
		if (wake) {
			*p = rq->next_waiter;
			take(srv, rq, WOKEN_CHANGE);
		} else {
			p = &rq->next_waiter;
		}
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
		if (rq->fd >= 0)
			epoll_ctl(ticker_ep, EPOLL_CTL_DEL, rq->fd, NULL);
		rq->waiting = false;
		srv->nwaiting--;
	}
	pthread_mutex_unlock(&srv->lock);
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Ends the waits whose peer hung up (gone, sorted) or whose deadline has
 * passed, and sets when to look next (under lock). */
static void walk(server *srv, const uint64_t *gone, size_t ngone)
{
	int64_t now = mono_ms(), next = now + TICK_MS;
	for (request **p = &srv->waiters; *p != NULL;) {
		request *rq = *p;
		bool hung_up = ngone > 0 &&
		    bsearch(&rq->wait_id, gone, ngone, sizeof *gone, cmp_id) != NULL;
		if (hung_up || rq->deadline_ms <= now) {
			*p = rq->next_waiter;
			take(srv, rq, hung_up ? WOKEN_GONE : WOKEN_DEADLINE);
			continue;
		}
		if (rq->deadline_ms < next)
			next = rq->deadline_ms;
		p = &rq->next_waiter;
	}
	srv->ticker_next = next;
}

/* Whether to trim the heap now: no request in flight and none ended for
 * TICK_MS, once after each burst (under lock). */
typedef struct quiet {
	int64_t ended;                  /* srv->ended when last seen */
	int64_t since_ms;               /* when it last changed */
	int64_t trimmed;                /* srv->ended at the last trim */
} quiet;

static bool time_to_trim(server *srv, quiet *q, int64_t now)
{
	if (srv->ended != q->ended) {
		q->ended = srv->ended;
		q->since_ms = now;
		return false;
	}
	if (srv->active != 0 || q->trimmed == q->ended || now - q->since_ms < TICK_MS)
		return false;
	q->trimmed = q->ended;
	return true;
}

static void *ticker_main(void *arg)
{
	server *srv = arg;
	struct epoll_event evs[EVENTS];
	uint64_t gone[EVENTS];
	quiet q = { 0 };
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		bool done = srv->ticker_done;
		int64_t now = mono_ms(), next = srv->ticker_next;
		bool trim = time_to_trim(srv, &q, now);
		pthread_mutex_unlock(&srv->lock);
		if (done)
			break;
		if (trim)
			malloc_trim(0);
		int n = epoll_wait(ticker_ep, evs, EVENTS, next > now ? (int)(next - now) : 0);
		size_t ngone = 0;
		for (int i = 0; i < n; i++) {
			uint64_t buf;
			if (evs[i].data.u64 == 0) {
				if (read(ticker_poke, &buf, sizeof buf) < 0 && errno != EAGAIN)
					continue;
			} else {
				gone[ngone++] = evs[i].data.u64;
			}
		}
		qsort(gone, ngone, sizeof *gone, cmp_id);
		pthread_mutex_lock(&srv->lock);
		if (ngone > 0 || mono_ms() >= srv->ticker_next)
			walk(srv, gone, ngone);
		pthread_mutex_unlock(&srv->lock);
	}
	return NULL;
}

bool ticker_start(server *srv)
{
	ticker_ep = epoll_create1(EPOLL_CLOEXEC);
	ticker_poke = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	if (ticker_ep < 0 || ticker_poke < 0 ||
	    epoll_ctl(ticker_ep, EPOLL_CTL_ADD, ticker_poke, &ev) != 0)
		return false;
	srv->ticker_next = mono_ms() + TICK_MS;
	return pthread_create(&srv->ticker_thread, NULL, ticker_main, srv) == 0;
}

void ticker_stop(server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->ticker_done = true;
	pthread_mutex_unlock(&srv->lock);
	poke();
	pthread_join(srv->ticker_thread, NULL);
	close(ticker_ep);
	close(ticker_poke);
}
