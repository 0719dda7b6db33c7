/*
 * peer.c: hostile and careless HTTP clients for the server's robustness
 * tests (tests/cli/serve_*.sh), on the server's Unix socket, which bash's
 * /dev/tcp cannot reach and which would take too many curl processes.
 *
 *   peer slow SOCK N INTERVAL_MS SECONDS
 *       N connections, each trickling one byte of a request every
 *       INTERVAL_MS (half of them in the headers, half in a POST body),
 *       for SECONDS; prints how many the server closed meanwhile.
 *   peer idle SOCK N SECONDS
 *       N connections that go quiet: one says nothing, one stops inside its
 *       headers, one inside its body, one after a whole keep-alive request
 *       was answered, and so on; waits up to SECONDS for the server to close
 *       each and prints how many it closed and when (ms after going quiet).
 *   peer time SOCK PATH COUNT GAP_MS
 *       COUNT requests for PATH, each on a new connection, GAP_MS apart;
 *       prints the median, the 90th percentile and the slowest in ms; fails
 *       unless every answer is a 200.
 *   peer cycles SOCK N
 *       N connect and disconnect cycles: connect and hang up, hang up inside
 *       the headers, hang up after a whole request without reading its
 *       answer, or read the answer; one after another.
 *   peer waiters SOCK N PATH PID
 *       N connections that each ask for PATH (a long-poll) of the server of
 *       process PID; once the server holds them all (its open descriptors,
 *       /proc/PID/fd), they hang up; prints how long until its descriptors
 *       are back where they were. Fails when any waiter is answered before
 *       it hangs up, or when the descriptors do not come back within 30 s.
 *   peer post SOCK PREFIX N [FIRST]
 *       N submissions with refs PREFIX-FIRST.. on one keep-alive connection,
 *       one after another; prints "REF STATUS ID" per answer as it comes
 *       (STATUS 0 and ID - once the connection is lost) and stops at the
 *       first lost one.
 *   peer raw SOCK
 *       sends standard input as it is and prints what comes back until the
 *       server closes the connection (at most 10 s).
 *   peer arrival SOCK FILE TITLE [AUTH-HEADER]
 *       submits a document titled TITLE, and reads what is appended to FILE
 *       (what a terminal is sent: tmux pipe-pane) until TITLE is in it; prints the ms from
 *       the server's 201 to then (0 when it was shown before the answer
 *       came). Fails after 5 s without it.
 *
 * Exit 0 when the run went as described, 1 otherwise (with a line on
 * stderr).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *sock_path;

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double ms_precise(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int die(const char *what)
{
	fprintf(stderr, "peer: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

/* A connected socket, blocking; retried for up to 2 s while the backlog is
 * full or the server is not there yet. */
static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	for (int tries = 0;; tries++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		int e = errno;
		close(fd);
		errno = e;
		if ((e != EAGAIN && e != ECONNREFUSED && e != ENOENT) || tries >= 200)
			return -1;
		sleep_ms(10);
	}
}

static bool send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads until the server closes or timeout_ms passes; the bytes in buf
 * (NUL-terminated, cut at cap). Returns the length, or -1 on a timeout. */
static ssize_t read_to_close(int fd, char *buf, size_t cap, int timeout_ms)
{
	size_t n = 0;
	int64_t end = ms_now() + timeout_ms;
	for (;;) {
		int left = (int)(end - ms_now());
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		char tmp[4096];
		ssize_t r = recv(fd, tmp, sizeof tmp, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r < cap - 1 - n ? (size_t)r : cap - 1 - n;
		memcpy(buf + n, tmp, take);
		n += take;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Reads one answer (headers and a Content-Length body) from a keep-alive
 * connection; its status, and its body in body (NUL-terminated). 0 when the
 * connection was lost first. */
static int read_answer(int fd, char *body, size_t cap, int timeout_ms)
{
	static char buf[1 << 16];
	size_t n = 0;
	int64_t end = ms_now() + timeout_ms;
	char *head_end = NULL;
	long want = -1;
	for (;;) {
		buf[n] = '\0';
		if (head_end == NULL && (head_end = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			want = cl != NULL && cl < head_end ? strtol(cl + 17, NULL, 10) : 0;
		}
		if (head_end != NULL && (long)(n - (size_t)(head_end + 4 - buf)) >= want)
			break;
		int left = (int)(end - ms_now());
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) <= 0 || n + 1 >= sizeof buf)
			return 0;
		ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		n += (size_t)r;
	}
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return 0;
	size_t len = (size_t)want < cap - 1 ? (size_t)want : cap - 1;
	memcpy(body, head_end + 4, len);
	body[len] = '\0';
	return status;
}

/* ---- slow ---- */

static const char *slow_text(int i)
{
	return i % 2 ? "GET /v1/status HTTP/1.1\r\nHost: arbiter\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
	    : "POST /v1/submissions HTTP/1.1\r\nHost: arbiter\r\nContent-Type: application/json\r\n"
	    "Content-Length: 60\r\n\r\n{\"action\": \"slow.peer\", \"ref\": \"never-finished-at-all\"}";
}

static int cmd_slow(int n, int interval, int seconds)
{
	int *fds = calloc((size_t)n, sizeof *fds);
	size_t *pos = calloc((size_t)n, sizeof *pos);
	int64_t *next = calloc((size_t)n, sizeof *next);
	if (fds == NULL || pos == NULL || next == NULL)
		die("calloc");
	int64_t start = ms_now();
	for (int i = 0; i < n; i++) {
		if ((fds[i] = dial()) < 0)
			die("connect");
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		next[i] = start + (int64_t)interval * i / n;    /* spread over one interval */
	}
	int closed = 0;
	size_t sent = 0;
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	while (ms_now() - start < (int64_t)seconds * 1000) {
		int64_t now = ms_now(), wake = now + 100;
		for (int i = 0; i < n; i++) {
			if (fds[i] < 0)
				continue;
			const char *t = slow_text(i);
			if (next[i] <= now && pos[i] < strlen(t) - 1) {
				if (send(fds[i], t + pos[i], 1, MSG_NOSIGNAL) == 1) {
					pos[i]++;
					sent++;
				}
				next[i] = now + interval;
			}
			if (next[i] < wake)
				wake = next[i];
		}
		int k = 0;
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		k = poll(p, (nfds_t)n, (int)(wake > now ? wake - now : 0));
		for (int i = 0; k > 0 && i < n; i++) {
			char c[256];
			if (fds[i] >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    recv(fds[i], c, sizeof c, 0) <= 0) {
				close(fds[i]);
				fds[i] = -1;
				closed++;
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	printf("slow: %d connections, %zu bytes trickled, %d closed by the server\n", n, sent,
	    closed);
	free(p);
	free(fds);
	free(pos);
	free(next);
	return 0;
}

/* ---- idle ---- */

enum { IDLE_SILENT, IDLE_HEADERS, IDLE_BODY, IDLE_KEEPALIVE, IDLE_KINDS };

static int cmd_idle(int n, int seconds)
{
	int *fds = calloc((size_t)n, sizeof *fds);
	int64_t *quiet = calloc((size_t)n, sizeof *quiet), *gone = calloc((size_t)n, sizeof *gone);
	if (fds == NULL || quiet == NULL || gone == NULL)
		die("calloc");
	static const char *text[IDLE_KINDS] = {
		"",
		"GET /v1/status HTTP/1.1\r\nHost: arb",
		"POST /v1/submissions HTTP/1.1\r\nHost: arbiter\r\nContent-Type: application/json\r\n"
		"Content-Length: 100\r\n\r\n{\"action\":",
		"GET /health HTTP/1.1\r\nHost: arbiter\r\n\r\n",
	};
	for (int i = 0; i < n; i++) {
		if ((fds[i] = dial()) < 0)
			die("connect");
		const char *t = text[i % IDLE_KINDS];
		if (!send_all(fds[i], t, strlen(t)))
			die("send");
		if (i % IDLE_KINDS == IDLE_KEEPALIVE) {
			char body[256];
			if (read_answer(fds[i], body, sizeof body, 5000) != 200) {
				fprintf(stderr, "peer: the keep-alive request was not answered 200\n");
				return 1;
			}
		}
		quiet[i] = ms_now();
	}
	int closed = 0;
	int64_t end = ms_now() + (int64_t)seconds * 1000;
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	while (closed < n && ms_now() < end) {
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (poll(p, (nfds_t)n, (int)(end - ms_now())) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			char buf[4096];
			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = recv(fds[i], buf, sizeof buf, 0);
			if (r > 0)
				continue;       /* an answer to a cut request: read on to the close */
			gone[i] = ms_now();
			close(fds[i]);
			fds[i] = -1;
			closed++;
		}
	}
	int64_t first = -1, last = -1;
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
			continue;
		}
		int64_t t = gone[i] - quiet[i];
		if (first < 0 || t < first)
			first = t;
		if (t > last)
			last = t;
	}
	printf("idle: %d of %d closed by the server, the first after %lld ms, the last after %lld ms\n",
	    closed, n, (long long)first, (long long)last);
	free(p);
	free(fds);
	free(quiet);
	free(gone);
	return 0;
}

/* ---- time ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmd_time(const char *path, int count, int gap)
{
	double *ms = calloc((size_t)count, sizeof *ms);
	char req[1024], buf[65536];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: arbiter\r\nConnection: close\r\n\r\n",
	    path);
	for (int i = 0; i < count; i++) {
		if (i > 0)
			sleep_ms(gap);
		double t0 = ms_precise();
		int fd = dial();
		if (fd < 0 || !send_all(fd, req, strlen(req)) ||
		    read_to_close(fd, buf, sizeof buf, 10000) < 0) {
			fprintf(stderr, "peer: request %d for %s was not answered\n", i + 1, path);
			return 1;
		}
		ms[i] = ms_precise() - t0;
		close(fd);
		int status = 0;
		if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status != 200) {
			fprintf(stderr, "peer: request %d for %s: %.80s\n", i + 1, path, buf);
			return 1;
		}
	}
	qsort(ms, (size_t)count, sizeof *ms, cmp_double);
	printf("time: %d requests, median %.2f ms, 90th percentile %.2f ms, slowest %.2f ms\n",
	    count, ms[count / 2], ms[(count * 9 - 1) / 10], ms[count - 1]);
	free(ms);
	return 0;
}

/* ---- cycles ---- */

static int cmd_cycles(int n)
{
	static const char get[] = "GET /v1/status HTTP/1.1\r\nHost: arbiter\r\nConnection: close\r\n\r\n";
	char buf[65536];
	for (int i = 0; i < n; i++) {
		int fd = dial();
		if (fd < 0)
			die("connect");
		switch (i % 4) {
		case 0:                 /* connect and hang up */
			break;
		case 1:                 /* hang up inside the headers */
			send_all(fd, get, 20);
			break;
		case 2:                 /* hang up without reading the answer */
			send_all(fd, get, sizeof get - 1);
			break;
		default:
			if (!send_all(fd, get, sizeof get - 1) ||
			    read_to_close(fd, buf, sizeof buf, 10000) < 0 ||
			    strncmp(buf, "HTTP/1.1 200", 12) != 0) {
				fprintf(stderr, "peer: cycle %d was not answered 200: %.80s\n", i, buf);
				return 1;
			}
		}
		close(fd);
	}
	printf("cycles: %d\n", n);
	return 0;
}

/* ---- waiters ---- */

/* The number of open file descriptors of process pid. */
static int fd_count(int pid)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	if (d == NULL)
		die(dir);
	int n = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Waits up to 30 s for the server's descriptors to reach (up) or fall back
 * to (!up) want; the ms it took, or -1. */
static int64_t await_fds(int pid, int want, bool up)
{
	int64_t start = ms_now();
	while (ms_now() - start < 30000) {
		int n = fd_count(pid);
		if (up ? n >= want : n <= want)
			return ms_now() - start;
		sleep_ms(5);
	}
	return -1;
}

static int cmd_waiters(int n, const char *path, int pid)
{
	int *fds = calloc((size_t)n, sizeof *fds);
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	if (fds == NULL || p == NULL)
		die("calloc");
	char req[1024];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: arbiter\r\n\r\n", path);
	int base = fd_count(pid);
	for (int i = 0; i < n; i++)
		if ((fds[i] = dial()) < 0 || !send_all(fds[i], req, strlen(req)))
			die("connect");
	int64_t in = await_fds(pid, base + n, true);
	if (in < 0) {
		fprintf(stderr, "peer: the server holds %d descriptors, not %d, 30 s after %d waiters "
		    "came\n", fd_count(pid), base + n, n);
		return 1;
	}
	sleep_ms(200);                  /* the last of them reach their wait */
	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	int early = poll(p, (nfds_t)n, 0);
	if (early != 0) {
		fprintf(stderr, "peer: %d of %d waiters were answered or closed before they hung up\n",
		    early, n);
		return 1;
	}
	int peak = fd_count(pid);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	int64_t out = await_fds(pid, base, false);
	if (out < 0) {
		fprintf(stderr, "peer: the server holds %d descriptors, not %d, 30 s after %d waiters "
		    "hung up\n", fd_count(pid), base, n);
		return 1;
	}
	printf("waiters: %d waiting after %lld ms (descriptors %d, then %d), all freed %lld ms after "
	    "they hung up (descriptors %d)\n", n, (long long)in, base, peak, (long long)out,
	    fd_count(pid));
	free(fds);
	free(p);
	return 0;
}

/* ---- post ---- */

static int cmd_post(const char *prefix, int n, int first)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int fd = dial();
	if (fd < 0)
		die("connect");
	for (int i = first; i < first + n; i++) {
		char doc[256], req[512], body[4096] = "";
		int dl = snprintf(doc, sizeof doc, "{\"action\": \"load.test\", \"ref\": \"%s-%d\", "
		    "\"changes\": [{\"offset\": %d, \"length\": 4}]}", prefix, i, i);
		int rl = snprintf(req, sizeof req, "POST /v1/submissions HTTP/1.1\r\nHost: arbiter\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", dl, doc);
		int status = send_all(fd, req, (size_t)rl) ? read_answer(fd, body, sizeof body, 20000)
		    : 0;
		const char *id = strstr(body, "\"id\":");
		if (status == 0) {
			printf("%s-%d 0 -\n", prefix, i);
			break;
		}
		printf("%s-%d %d %lld\n", prefix, i, status, id ? strtoll(id + 5, NULL, 10) : -1LL);
	}
	close(fd);
	return 0;
}

/* ---- arrival ---- */

static int cmd_arrival(const char *file, const char *title, const char *auth)
{
	int in = open(file, O_RDONLY);
	if (in < 0 || lseek(in, 0, SEEK_END) < 0)       /* what was on screen before */
		return die("open the terminal's file");
	char seen[8192];
	size_t n = 0;
	ssize_t r;
	int fd = dial();
	if (fd < 0)
		return die("connect");
	char doc[512], req[1024], body[4096] = "";
	int dl = snprintf(doc, sizeof doc, "{\"action\": \"code.modify\", \"ref\": \"%s\", "
	    "\"title\": \"%s\", \"files\": [{\"path\": \"src/%s.c\", \"op\": \"delete\"}]}",
	    title, title, title);
	int rl = snprintf(req, sizeof req, "POST /v1/submissions HTTP/1.1\r\nHost: arbiter\r\n%s%s"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", auth ? auth : "",
	    auth ? "\r\n" : "", dl, doc);
	double sent = ms_precise();
	int status = send_all(fd, req, (size_t)rl) ? read_answer(fd, body, sizeof body, 20000) : 0;
	double answered = ms_precise();
	close(fd);
	if (status != 201) {
		fprintf(stderr, "peer: the submission was answered %d: %s\n", status, body);
		return 1;
	}
	size_t tl = strlen(title);
	for (;;) {
		if (n >= tl && memmem(seen, n, title, tl) != NULL)
			break;
		if (n > sizeof seen / 2) {      /* keep the tail, where a title may begin */
			memmove(seen, seen + n - tl, tl);
			n = tl;
		}
		if (ms_precise() > sent + 5000) {
			fprintf(stderr, "peer: %s was not shown within 5 s\n", title);
			return 1;
		}
		r = read(in, seen + n, sizeof seen - n);
		if (r > 0)
			n += (size_t)r;
		else
			sleep_ms(1);    /* nothing more yet: a file has no end to wait on */
	}
	double shown = ms_precise() - answered;
	printf("%.0f\n", shown > 0 ? shown : 0);
	close(in);
	return 0;
}

/* ---- raw ---- */

static int cmd_raw(void)
{
	int fd = dial();
	if (fd < 0)
		die("connect");
	char buf[65536];
	ssize_t r;
	while ((r = read(0, buf, sizeof buf)) > 0)
		if (!send_all(fd, buf, (size_t)r))
			break;
	static char answer[1 << 20];
	ssize_t n = read_to_close(fd, answer, sizeof answer, 10000);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "peer: the server did not close the connection within 10 s\n");
		return 1;
	}
	fwrite(answer, 1, (size_t)n, stdout);
	return 0;
}

static int num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 1000000) {
		fprintf(stderr, "peer: %s is not a count\n", s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 3) {
		fprintf(stderr, "usage: peer slow|idle|time|cycles|waiters|post|raw|arrival SOCK ...\n");
		return 2;
	}
	const char *mode = argv[1];
	sock_path = argv[2];
	if (strcmp(mode, "slow") == 0 && argc == 6)
		return cmd_slow(num(argv[3]), num(argv[4]), num(argv[5]));
	if (strcmp(mode, "idle") == 0 && argc == 5)
		return cmd_idle(num(argv[3]), num(argv[4]));
	if (strcmp(mode, "time") == 0 && argc == 6)
		return cmd_time(argv[3], num(argv[4]), num(argv[5]));
	if (strcmp(mode, "cycles") == 0 && argc == 4)
		return cmd_cycles(num(argv[3]));
	if (strcmp(mode, "waiters") == 0 && argc == 6)
		return cmd_waiters(num(argv[3]), argv[4], num(argv[5]));
	if (strcmp(mode, "post") == 0 && (argc == 5 || argc == 6))
		return cmd_post(argv[3], num(argv[4]), argc == 6 ? num(argv[5]) : 1);
	if (strcmp(mode, "raw") == 0 && argc == 3)
		return cmd_raw();
	if (strcmp(mode, "arrival") == 0 && (argc == 5 || argc == 6))
		return cmd_arrival(argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	fprintf(stderr, "peer: bad arguments for %s\n", mode);
	return 2;
}
