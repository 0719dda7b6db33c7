/*
 * bench_serve.c: arbiter serve's figures for `make bench`, measured from
 * outside on the server's Unix socket with libcurl's multi interface (wrk
 * reaches no Unix socket, and on TCP every request needs a bearer token).
 * One thread drives every connection; figures are printed, never asserted.
 *
 *   bench_serve load SOCKET PID CONNS SECONDS [RATE]
 *       CONNS keep-alive connections post single JSON documents, each with a
 *       ref of its own, to POST /v1/submissions for SECONDS. Without RATE
 *       each connection posts again as soon as it is answered (throughput);
 *       with RATE the requests are due at a steady RATE per second over the
 *       connections, and a request's latency counts from when it was due,
 *       so that a stalled server cannot hide its queue (no coordinated
 *       omission). Prints the rate, the latency percentiles, and the CPU
 *       time the server (PID) and this generator spent per request.
 *
 *   bench_serve wake SOCKET PID STREAMS WAITERS ID [COMMAND...]
 *       Opens STREAMS event streams (GET /v1/events) and WAITERS long-polls
 *       (GET /v1/submissions/ID?wait=60), lets them settle, then triggers a
 *       change: posts BODY to PATH itself when COMMAND is "POST PATH BODY"
 *       (a decision on ID, say), runs COMMAND otherwise, and without one
 *       posts a new submission. Prints when the last stream saw a new event
 *       or the last long-poll was answered with a final status, after the
 *       change's own answer; how long that answer took, the median wakes
 *       from the change's start, and the CPU time the server spent.
 *
 *   bench_serve disk DIR
 *       The floor under a synced commit on DIR's file system: the median of
 *       100 fdatasync calls after writing 32 KiB over a file's blocks (as
 *       a server's log is rewritten in place) and after making it longer.
 *
 *   bench_serve idle SOCKET PID STREAMS WAITERS ID SECONDS
 *       Holds STREAMS event streams and WAITERS long-polls (?wait=60, renewed
 *       when answered at their deadline, as a client would) open for SECONDS
 *       and prints the server's CPU time over that window (utime + stime of
 *       /proc/PID/stat) and its resident memory at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

extern char **environ;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_serve: %s\n", what);
	exit(1);
}

/* ---- figures ---- */

typedef struct samples {
	double *v;
	size_t n, cap;
} samples;

static void add_sample(samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		if (s->v == NULL)
			die("out of memory");
	}
	s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The p-quantile (0..1) of sorted samples, nearest rank. */
static double quantile(const samples *s, double p)
{
	if (s->n == 0)
		return 0;
	size_t i = (size_t)(p * (double)s->n + 0.5);
	if (i > 0)
		i--;
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i];
}

/* CPU seconds (utime + stime) of a process, or -1. */
static double cpu_of(long pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');      /* the command name may hold spaces */
	if (p == NULL)
		return -1;
	unsigned long long ut = 0, st = 0;
	/* after ")": state(3) ... utime is field 14, stime 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A field of /proc/PID/status in kB (VmRSS, VmHWM), or -1. */
static long status_kb(long pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long kb = -1;
	size_t n = strlen(field);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* ---- connections ---- */

enum { POST_DOC, STREAM, WAITER };

typedef struct conn {
	CURL *e;
	int kind;
	int index;
	long seq;                       /* this connection's documents so far */
	char body[256];
	double due, sent;               /* when the request was due, and sent */
	bool busy;
	/* a stream: the text of the line being read, and what it saw */
	char line[64];
	size_t line_len;
	bool opened;                    /* the stream's opening comment arrived */
	long long last_id;              /* the last event's id */
	double woke;                    /* when a new event (or the answer) came; 0: not yet */
	/* a long-poll: its answer */
	char answer[512];
	size_t answer_len;
} conn;

static const char *sock_path;
static int extra_fd = -1;               /* a timer in the loop's epoll set, not a transfer */
static double trigger_at;               /* wake: when the change began; 0: not yet */
static struct curl_slist *json_headers;
static char run_id[32];
static long first_error_shown;

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* A long-poll's answer: its first bytes are enough to find its status. */
static size_t keep_answer(char *p, size_t size, size_t n, void *ctx)
{
	conn *c = ctx;
	size_t len = size * n, room = sizeof c->answer - 1 - c->answer_len;
	size_t k = len < room ? len : room;
	memcpy(c->answer + c->answer_len, p, k);
	c->answer_len += k;
	c->answer[c->answer_len] = '\0';
	return len;
}

/* A stream's text, line by line: "id: N" lines and the opening comment. */
static size_t read_events(char *p, size_t size, size_t n, void *ctx)
{
	conn *c = ctx;
	size_t len = size * n;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n') {
			if (c->line_len < sizeof c->line - 1)
				c->line[c->line_len++] = p[i];
			continue;
		}
		c->line[c->line_len] = '\0';
		if (strncmp(c->line, ": arbiter events", 16) == 0)
			c->opened = true;
		else if (strncmp(c->line, "id: ", 4) == 0) {
			c->last_id = atoll(c->line + 4);
			if (c->woke == 0 && trigger_at > 0)
				c->woke = now_s();
		}
		c->line_len = 0;
	}
	return len;
}

static void setup(conn *c, int kind, int index)
{
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->index = index;
	c->e = curl_easy_init();
	if (c->e == NULL)
		die("curl_easy_init failed");
	curl_easy_setopt(c->e, CURLOPT_UNIX_SOCKET_PATH, sock_path);
	curl_easy_setopt(c->e, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->e, CURLOPT_NOSIGNAL, 1L);
	if (kind == POST_DOC) {         /* only the body changes from one request to the next */
		curl_easy_setopt(c->e, CURLOPT_URL, "http://arbiter/v1/submissions");
		curl_easy_setopt(c->e, CURLOPT_HTTPHEADER, json_headers);
		curl_easy_setopt(c->e, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(c->e, CURLOPT_WRITEFUNCTION, discard);
	}
}

/* Prepares the next request of c. */
static void arm(conn *c, const char *wait_id)
{
	if (c->kind == POST_DOC) {
		int n = snprintf(c->body, sizeof c->body, "{\"action\": \"code.modify\", \"ref\": "
		    "\"bench/%s/%d/%ld\", \"submitter\": \"bench-agent\", \"title\": \"bench\", "
		    "\"bytes_changed\": 10}", run_id, c->index, c->seq++);
		curl_easy_setopt(c->e, CURLOPT_POSTFIELDSIZE, (long)n);
	} else if (c->kind == STREAM) {
		curl_easy_setopt(c->e, CURLOPT_URL, "http://arbiter/v1/events");
		curl_easy_setopt(c->e, CURLOPT_WRITEFUNCTION, read_events);
		curl_easy_setopt(c->e, CURLOPT_WRITEDATA, c);
	} else {
		char url[128];
		/* a long-poll is armed with the id it waits on, never NULL */
		snprintf(url, sizeof url, "http://arbiter/v1/submissions/%s?wait=60",
		    wait_id ? wait_id : "");
		curl_easy_setopt(c->e, CURLOPT_URL, url);
		curl_easy_setopt(c->e, CURLOPT_WRITEFUNCTION, keep_answer);
		curl_easy_setopt(c->e, CURLOPT_WRITEDATA, c);
		c->answer_len = 0;
		c->answer[0] = '\0';
	}
}

static void start(CURLM *m, conn *c, double due)
{
	c->due = due;
	c->sent = now_s();
	c->busy = true;
	if (curl_multi_add_handle(m, c->e) != CURLM_OK)
		die("curl_multi_add_handle failed");
}

/* The transfers are driven by their sockets (curl_multi_socket_action on
 * an epoll set), so that a loop costs what is ready, not what is open: a
 * thousand idle long-polls must not slow the measurement of the few that
 * are answered. */
static int loop_ep = -1;
static double loop_deadline = -1;       /* libcurl's timeout, now_s(); -1: none */

static int on_socket(CURL *e, curl_socket_t fd, int what, void *ctx, void *sock_ctx)
{
	(void)e;
	(void)ctx;
	(void)sock_ctx;
	struct epoll_event ev = { .data.fd = fd };
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(loop_ep, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(loop_ep, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
		epoll_ctl(loop_ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static int on_timer(CURLM *m, long ms, void *ctx)
{
	(void)m;
	(void)ctx;
	loop_deadline = ms < 0 ? -1 : now_s() + (double)ms / 1e3;
	return 0;
}

static CURLM *new_multi(long conns)
{
	CURLM *m = curl_multi_init();
	if (m == NULL)
		die("curl_multi_init failed");
	if (loop_ep < 0 && (loop_ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1 failed");
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conns);
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	return m;
}

/* Runs the transfers for at most timeout_ms (less when extra_fd, added to
 * the set by the caller, is ready); calls done for each finished one. */
typedef void (*on_done)(CURLM *m, conn *c, CURLcode rc, long status, void *ctx);

static void pump(CURLM *m, int timeout_ms, on_done done, void *ctx)
{
	int running;
	int wait = timeout_ms;
	if (loop_deadline >= 0) {
		double left = (loop_deadline - now_s()) * 1e3;
		wait = left <= 0 ? 0 : left < wait ? (int)left + 1 : wait;
	}
	struct epoll_event evs[256];
	int n = epoll_wait(loop_ep, evs, 256, wait);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == extra_fd)
			continue;
		int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
		    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
		    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(m, evs[i].data.fd, flags, &running);
	}
	if (loop_deadline >= 0 && now_s() >= loop_deadline) {
		loop_deadline = -1;
		curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *e = msg->easy_handle;
		CURLcode rc = msg->data.result;
		conn *c;
		long status = 0;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&c);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(m, e);
		c->busy = false;
		done(m, c, rc, status, ctx);
	}
}

/* ---- load ---- */

typedef struct load_run {
	samples lat;                    /* seconds */
	long ok, other, failed;
	double end;                     /* no new requests from then on */
	bool steady;
	const char *wait_id;
} load_run;

static void load_done(CURLM *m, conn *c, CURLcode rc, long status, void *ctx)
{
	load_run *r = ctx;
	double t = now_s();
	if (rc != CURLE_OK) {
		r->failed++;
		if (first_error_shown++ == 0)
			fprintf(stderr, "bench_serve: a request failed: %s\n", curl_easy_strerror(rc));
	} else if (status >= 200 && status < 300) {
		r->ok++;
		add_sample(&r->lat, t - (r->steady ? c->due : c->sent));
	} else {
		r->other++;
		if (first_error_shown++ == 0)
			fprintf(stderr, "bench_serve: HTTP %ld\n", status);
	}
	if (!r->steady && t < r->end) {
		arm(c, NULL);
		start(m, c, t);
	}
}

static int load(long pid, long conns, double seconds, double rate)
{
	conn *cs = calloc((size_t)conns, sizeof *cs);
	if (cs == NULL)
		die("out of memory");
	CURLM *m = new_multi(conns);
	load_run r = { .steady = rate > 0 };
	for (long i = 0; i < conns; i++)
		setup(&cs[i], POST_DOC, (int)i);
	double cpu0 = cpu_of(pid), self0 = cpu_of((long)getpid());
	double t0 = now_s();
	r.end = t0 + seconds;
	if (!r.steady) {
		for (long i = 0; i < conns; i++) {
			arm(&cs[i], NULL);
			start(m, &cs[i], t0);
		}
		for (;;) {
			bool any = false;
			for (long i = 0; i < conns && !any; i++)
				any = cs[i].busy;
			if (!any)
				break;
			pump(m, 100, load_done, &r);
		}
	} else {
		/* requests fall due every 1/rate s; a due request waits for a free
		 * connection, and its latency counts from when it fell due */
		int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (tfd < 0)
			die("timerfd_create failed");
		long total = (long)(seconds * rate), issued = 0;
		struct epoll_event tev = { .events = EPOLLIN, .data.fd = tfd };
		extra_fd = tfd;
		if (epoll_ctl(loop_ep, EPOLL_CTL_ADD, tfd, &tev) != 0)
			die("epoll_ctl failed");
		for (;;) {
			double t = now_s();
			while (issued < total && t0 + (double)issued / rate <= t) {
				conn *c = NULL;
				for (long i = 0; i < conns && c == NULL; i++)
					if (!cs[i].busy)
						c = &cs[i];
				if (c == NULL)
					break;
				arm(c, NULL);
				start(m, c, t0 + (double)issued / rate);
				issued++;
			}
			bool any = false;
			for (long i = 0; i < conns && !any; i++)
				any = cs[i].busy;
			if (issued == total && !any)
				break;
			/* the timer wakes the loop when the next request falls due; one
			 * already due waits for an answer instead (all connections busy) */
			struct itimerspec its = { 0 };
			double next = t0 + (double)issued / rate;
			if (issued < total && next > now_s()) {
				its.it_value.tv_sec = (time_t)next;
				its.it_value.tv_nsec = (long)((next - (double)(time_t)next) * 1e9);
			}
			timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
			pump(m, 100, load_done, &r);
			unsigned long long ticks;
			if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
				die("timerfd read failed");
		}
		close(tfd);
		extra_fd = -1;
	}
	double wall = now_s() - t0;
	double cpu1 = cpu_of(pid), self1 = cpu_of((long)getpid());
	qsort(r.lat.v, r.lat.n, sizeof *r.lat.v, cmp_double);
	long n = r.ok;
	printf("%ld connections, %s: %ld answered 2xx in %.1f s: %.0f/s",
	    conns, r.steady ? "steady rate" : "as fast as answered", n, wall, (double)n / wall);
	if (r.steady)
		printf(" (asked %.0f/s)", rate);
	if (r.other || r.failed)
		printf(" (%ld other statuses, %ld failed)", r.other, r.failed);
	printf("; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
	    quantile(&r.lat, 0.5) * 1e3, quantile(&r.lat, 0.9) * 1e3, quantile(&r.lat, 0.99) * 1e3,
	    quantile(&r.lat, 0.999) * 1e3, r.lat.n ? r.lat.v[r.lat.n - 1] * 1e3 : 0.0);
	if (cpu0 >= 0 && cpu1 >= 0 && n > 0) {
		double server = (cpu1 - cpu0) / (double)n, self = (self1 - self0) / (double)n;
		printf("; CPU per request: server %.0f us, generator %.0f us", server * 1e6, self * 1e6);
		if (!r.steady && server + self > 0)     /* what the machine's cores could do alone */
			printf(" (%ld idle cores: at most %.0f/s)", sysconf(_SC_NPROCESSORS_ONLN),
			    (double)sysconf(_SC_NPROCESSORS_ONLN) / (server + self));
	}
	printf("\n");
	for (long i = 0; i < conns; i++)
		curl_easy_cleanup(cs[i].e);
	curl_multi_cleanup(m);
	free(cs);
	free(r.lat.v);
	return n > 0 ? 0 : 1;
}

/* ---- waiters and streams ---- */

typedef struct wait_run {
	const char *wait_id;
	bool renew;                     /* idle: a long-poll answered is asked again */
	long renewed, failed;
	double trigger;                 /* when the change began; 0: not yet */
} wait_run;

static void wait_done(CURLM *m, conn *c, CURLcode rc, long status, void *ctx)
{
	wait_run *r = ctx;
	if (c->kind == POST_DOC) {      /* the change: waiters wake only if it was made */
		if (rc != CURLE_OK || status < 200 || status >= 300)
			fprintf(stderr, "bench_serve: the change was answered %s, HTTP %ld\n",
			    curl_easy_strerror(rc), status);
		return;
	}
	if (rc != CURLE_OK || status != 200) {
		r->failed++;
		if (first_error_shown++ == 0)
			fprintf(stderr, "bench_serve: a %s ended: %s, HTTP %ld\n",
			    c->kind == STREAM ? "stream" : "long-poll", curl_easy_strerror(rc), status);
		return;
	}
	if (c->kind == WAITER && r->trigger > 0 && c->woke == 0 &&
	    strstr(c->answer, "\"pending\"") == NULL)
		c->woke = now_s();
	if (r->renew || (c->kind == WAITER && c->woke == 0)) {
		r->renewed++;
		arm(c, r->wait_id);
		start(m, c, now_s());
	}
}

/* Opens the streams and long-polls; returns when every stream is open. */
static conn *open_waiting(CURLM *m, long streams, long waiters, wait_run *r)
{
	conn *cs = calloc((size_t)(streams + waiters + 1), sizeof *cs);
	if (cs == NULL)
		die("out of memory");
	for (long i = 0; i < streams + waiters; i++) {
		setup(&cs[i], i < streams ? STREAM : WAITER, (int)i);
		arm(&cs[i], r->wait_id);
		start(m, &cs[i], now_s());
	}
	double give_up = now_s() + 30;
	for (;;) {
		long open = 0;
		for (long i = 0; i < streams; i++)
			open += cs[i].opened;
		if (open == streams)
			break;
		if (now_s() > give_up || r->failed > 0) {
			fprintf(stderr, "bench_serve: %ld of %ld streams opened\n", open, streams);
			exit(1);
		}
		pump(m, 50, wait_done, r);
	}
	/* a long-poll says nothing until it is answered: give them time to be
	 * read and suspended */
	double settle = now_s() + 1;
	while (now_s() < settle)
		pump(m, 50, wait_done, r);
	return cs;
}

/* The median wake of cs[from, to) after t0, in ms; *last: the latest. */
static double wakes(conn *cs, long from, long to, double t0, double *last, size_t *n)
{
	samples s = { 0 };
	for (long i = from; i < to; i++)
		if (cs[i].woke > 0)
			add_sample(&s, cs[i].woke - t0);
	qsort(s.v, s.n, sizeof *s.v, cmp_double);
	double median = quantile(&s, 0.5) * 1e3;
	if (s.n > 0 && s.v[s.n - 1] * 1e3 > *last)
		*last = s.v[s.n - 1] * 1e3;
	*n += s.n;
	free(s.v);
	return median;
}

static int wake(long pid, long streams, long waiters, const char *id, char **command)
{
	long total = streams + waiters;
	CURLM *m = new_multi(total + 1);
	wait_run r = { .wait_id = id };
	conn *cs = open_waiting(m, streams, waiters, &r);
	pid_t child = 0;
	conn *post = &cs[total];
	bool posting = command == NULL || command[0] == NULL || strcmp(command[0], "POST") == 0;
	double cpu0 = cpu_of(pid);
	r.trigger = trigger_at = now_s();
	if (!posting) {
		if (posix_spawnp(&child, command[0], NULL, NULL, command, environ) != 0)
			die("cannot run the trigger command");
	} else {
		setup(post, POST_DOC, (int)total);
		arm(post, NULL);
		if (command != NULL && command[0] != NULL) {    /* POST PATH BODY */
			char url[512];
			snprintf(url, sizeof url, "http://arbiter%s", command[1] ? command[1] : "/");
			curl_easy_setopt(post->e, CURLOPT_URL, url);
			curl_easy_setopt(post->e, CURLOPT_POSTFIELDS, command[1] ? command[2] : "");
			curl_easy_setopt(post->e, CURLOPT_POSTFIELDSIZE,
			    (long)(command[1] && command[2] ? strlen(command[2]) : 0));
		}
		start(m, post, r.trigger);
	}
	double give_up = r.trigger + 10, trigger_done = 0;
	for (;;) {
		long woken = 0;
		for (long i = 0; i < total; i++)
			woken += cs[i].woke > 0;
		if (child > 0) {
			int st;
			if (waitpid(child, &st, WNOHANG) == child) {
				child = 0;
				trigger_done = now_s();
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					fprintf(stderr, "bench_serve: the trigger command failed\n");
			}
		} else if (posting && !post->busy && trigger_done == 0) {
			trigger_done = now_s();
		}
		if ((woken == total && trigger_done > 0) || now_s() > give_up)
			break;
		pump(m, 5, wait_done, &r);
	}
	double cpu1 = cpu_of(pid), last = 0;
	size_t n = 0;
	double ms = wakes(cs, 0, streams, r.trigger, &last, &n);
	double mw = wakes(cs, streams, total, r.trigger, &last, &n);
	double answered = trigger_done > 0 ? (trigger_done - r.trigger) * 1e3 : -1.0;
	printf("%ld event streams and %ld long-polls: %zu woken, the last %.1f ms after the change "
	    "was answered (which took %.1f ms; from its start, streams woke at median %.1f ms, "
	    "long-polls at %.1f ms); server CPU meanwhile %.0f ms\n", streams, waiters, n,
	    last - answered, answered, ms, mw, (cpu1 - cpu0) * 1e3);
	if (child > 0)
		kill(child, SIGTERM);
	for (long i = 0; i <= total; i++)
		if (cs[i].e != NULL) {
			if (cs[i].busy)
				curl_multi_remove_handle(m, cs[i].e);
			curl_easy_cleanup(cs[i].e);
		}
	curl_multi_cleanup(m);
	free(cs);
	return 0;
}

static int idle(long pid, long streams, long waiters, const char *id, double seconds)
{
	long total = streams + waiters;
	CURLM *m = new_multi(total);
	wait_run r = { .wait_id = id, .renew = true };
	conn *cs = open_waiting(m, streams, waiters, &r);
	r.renewed = 0;
	double cpu0 = cpu_of(pid), t0 = now_s();
	if (cpu0 < 0)
		die("cannot read the server's /proc/PID/stat");
	while (now_s() < t0 + seconds)
		pump(m, 1000, wait_done, &r);
	double cpu1 = cpu_of(pid), wall = now_s() - t0;
	long open = 0;
	for (long i = 0; i < total; i++)
		open += cs[i].busy;
	printf("%ld event streams and %ld long-polls (?wait=60) held open for %.0f s: server CPU "
	    "%.2f%% of one core (%.0f ms), RSS %.1f MiB (peak %.1f MiB); %ld long-polls answered at "
	    "their deadline and asked again, %ld of %ld still open at the end\n",
	    streams, waiters, wall, (cpu1 - cpu0) / wall * 100, (cpu1 - cpu0) * 1e3,
	    (double)status_kb(pid, "VmRSS") / 1024, (double)status_kb(pid, "VmHWM") / 1024,
	    r.renewed, open, total);
	for (long i = 0; i < total; i++) {
		if (cs[i].busy)
			curl_multi_remove_handle(m, cs[i].e);
		curl_easy_cleanup(cs[i].e);
	}
	curl_multi_cleanup(m);
	free(cs);
	return 0;
}

/* The median ms of 100 fdatasyncs after 32 KiB written at offset(i). */
static double sync_ms(int fd, bool append)
{
	static char block[32768];
	samples s = { 0 };
	for (int i = 0; i < 100; i++) {
		off_t at = append ? (off_t)(100 + i) * (off_t)sizeof block : (off_t)(i % 10) *
		    (off_t)sizeof block;
		if (pwrite(fd, block, sizeof block, at) != (ssize_t)sizeof block)
			die("cannot write the test file");
		double t = now_s();
		if (fdatasync(fd) != 0)
			die("fdatasync failed");
		add_sample(&s, now_s() - t);
	}
	qsort(s.v, s.n, sizeof *s.v, cmp_double);
	double ms = quantile(&s, 0.5) * 1e3;
	free(s.v);
	return ms;
}

static int disk(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/bench_serve.sync", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("cannot create the test file");
	static char zero[32768 * 10];
	if (write(fd, zero, sizeof zero) != (ssize_t)sizeof zero || fsync(fd) != 0)
		die("cannot write the test file");
	double over = sync_ms(fd, false), grow = sync_ms(fd, true);
	close(fd);
	unlink(path);
	printf("fdatasync after a 32 KiB write: median %.2f ms over blocks the file has, %.2f ms "
	    "making it longer\n", over, grow);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_serve load SOCKET PID CONNS SECONDS [RATE]\n"
	    "       bench_serve wake SOCKET PID STREAMS WAITERS ID [COMMAND...]\n"
	    "       bench_serve disk DIR\n"
	    "       bench_serve idle SOCKET PID STREAMS WAITERS ID SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	sock_path = argv[2];
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("curl_global_init failed");
	json_headers = curl_slist_append(NULL, "Content-Type: application/json");
	json_headers = curl_slist_append(json_headers, "Expect:");
	snprintf(run_id, sizeof run_id, "%ld-%ld", (long)getpid(), (long)time(NULL));
	int rc;
	if (strcmp(argv[1], "load") == 0 && (argc == 6 || argc == 7))
		rc = load(atol(argv[3]), atol(argv[4]), atof(argv[5]), argc == 7 ? atof(argv[6]) : 0);
	else if (strcmp(argv[1], "wake") == 0 && argc >= 7)
		rc = wake(atol(argv[3]), atol(argv[4]), atol(argv[5]), argv[6],
		    argc > 7 ? argv + 7 : NULL);
	else if (strcmp(argv[1], "disk") == 0 && argc == 3)
		rc = disk(argv[2]);
	else if (strcmp(argv[1], "idle") == 0 && argc == 8)
		rc = idle(atol(argv[3]), atol(argv[4]), atol(argv[5]), argv[6], atof(argv[7]));
	else
		usage();
	curl_slist_free_all(json_headers);
	curl_global_cleanup();
	return rc;
}
