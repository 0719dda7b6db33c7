/*
 * fuzz_http.c: libFuzzer target for the server's request handling
 * (tui/serve/): the request line, the headers, the body, several requests
 * on one connection, all as the raw bytes a client sends.
 *
 * The first input starts the real server in this process, once: a store
 * made by store_init in a temporary directory, and serve_run on a thread of
 * its own, listening on the store's Unix socket (libmicrohttpd takes only a
 * listening socket, so each input needs a connection of its own). The store
 * lives in /dev/shm when there is one: a commit's sync costs nothing there,
 * so a busy disk neither slows the fuzzer nor delays an answer. Each input
 * is written to a new connection as it is; then the client shuts its
 * writing half, which ends a long-poll or an event stream it started (the
 * ticker sees the hang-up), and the answers are read until the server
 * closes. libmicrohttpd (0.9.75, edge-triggered epoll) takes a short read
 * to mean the socket is drained, so it can miss the end of a half-closed
 * connection whose last bytes came with it: a request left incomplete
 * (headers or a body cut short) then waits for server.idle_timeout, which
 * the store pins at 1 s for that (as arbiter policy pin does, with a first
 * admin enrolled for it). The server must not leave a connection quiet
 * for QUIET_MS, well beyond the timeout, without closing it (a request it
 * suspends and never resumes is never idle: that is a finding; a long
 * answer, such as the whole audit log as an event stream, may take longer
 * as long as it keeps coming), begin every answer with a status line, and
 * answer GET /health on a connection of its own after every input;
 * anything else, or a sanitizer report from any of its threads, is a
 * finding too. At exit the server is stopped as SIGTERM stops it and its
 * store removed.
 *
 * The server allocates on its own threads, across inputs: libFuzzer's
 * leak check after an input whose mallocs and frees do not pair up would
 * run after nearly every input, stopping every thread to scan the server's
 * whole heap. So LLVMFuzzerInitialize turns it off (-detect_leaks=0);
 * LeakSanitizer still checks at exit, after the server has stopped and
 * freed what it holds. It also gives an input 30 s (-timeout=30, after any
 * given): an answer may be long (the whole audit log as an event stream),
 * and QUIET_MS finds a connection that hangs.
 *
 * The server's log lines (one per request, on stderr) would drown
 * libFuzzer's own: the stream stderr names is pointed at /dev/null, while
 * file descriptor 2, where the sanitizers write, and libFuzzer's copy of the
 * stream stay as they were.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_http, and with replay.c as
 * build/asan/tests/replay_http for `make test`.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../tui/front.h"

enum { QUIET_MS = 5000 };

extern const named_text example_policies[];
extern const size_t example_policy_count;

static char dir[40], home[60], sock_path[100];
static pthread_t server_thread;
static args server_args;
static FILE *say;                       /* the stream stderr named at first */

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *serve_main(void *arg)
{
	(void)arg;
	int rc = serve_run(&server_args);
	if (rc != EXIT_OK) {
		fprintf(say, "fuzz_http: the server exited %d\n", rc);
		abort();
	}
	return NULL;
}

static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes data (stopping early when the server closes: a refused body), shuts
 * the writing half and reads everything until the server closes. The bytes
 * read, up to cap, in out; their count, or -1 when nothing moved for
 * QUIET_MS before the server closed. */
static ssize_t exchange(const uint8_t *data, size_t size, char *out, size_t cap)
{
	int fd = dial();
	if (fd < 0) {
		fprintf(say, "fuzz_http: cannot connect to the server: %s\n", strerror(errno));
		abort();
	}
	size_t sent = 0, got = 0;
	int64_t end = ms_now() + QUIET_MS;
	bool writing = true;
	for (;;) {
		if (writing && sent == size) {
			shutdown(fd, SHUT_WR);
			writing = false;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN | (writing ? POLLOUT : 0) };
		int left = (int)(end - ms_now());
		int ready = left > 0 ? poll(&p, 1, left) : 0;
		if (ready < 0 && errno == EINTR)
			continue;               /* libFuzzer's alarm, once a second */
		if (ready <= 0) {
			close(fd);
			return -1;
		}
		if (p.revents & POLLIN) {
			char buf[16384];
			ssize_t r = recv(fd, buf, sizeof buf, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			size_t take = (size_t)r < cap - got ? (size_t)r : cap - got;
			memcpy(out + got, buf, take);
			got += take;
			end = ms_now() + QUIET_MS;
		} else if (writing && (p.revents & POLLOUT)) {
			ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				sent += (size_t)w;
				end = ms_now() + QUIET_MS;
			} else if (errno != EAGAIN && errno != EINTR) {
				writing = false;        /* closed on us: read what it said */
			}
		} else if (p.revents & (POLLHUP | POLLERR)) {
			break;
		}
	}
	close(fd);
	return (ssize_t)got;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void stop_server(void)
{
	pthread_kill(server_thread, SIGTERM);
	pthread_join(server_thread, NULL);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Pins server.idle_timeout: 1s in the store's config.yaml, as arbiter
 * policy pin does, with a first admin enrolled for it. */
static bool short_idle_timeout(char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof path, "%s/config.yaml", home);
	FILE *f;
	if (chmod(path, 0644) != 0 || (f = fopen(path, "a")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	fputs("server:\n  idle_timeout: 1s\n", f);
	fclose(f);
	store *st = store_open(home, err, errlen);
	if (st == NULL)
		return false;
	settings cfg;
	diags errs = { 0 };
	bool ok = store_settings(st, &cfg, &errs);
	diags_free(&errs);
	reviewer_added added = { 0 };
	policy_pinned pinned = { 0 };
	op_auth auth = { .actor = "fuzzer" };
	char code[TOTP_DIGITS + 1];
	ok = ok && op_reviewer_add(st, &cfg, &auth, "fuzzer", true, &added) == OUT_OK &&
	    totp_code(added.key, sizeof added.key, now_ms() / 1000, TOTP_DIGITS, code);
	auth.code = code;
	ok = ok && op_policy_pin(st, &cfg, &auth, "the fuzz target times idle connections out "
	    "after a second", &pinned) == OUT_OK && pinned.version == 2;
	if (!ok)
		snprintf(err, errlen, "cannot pin server.idle_timeout: %.300s %.300s",
		    added.reply.message, pinned.reply.message);
	store_close(st);
	return ok;
}

static void start_server(void)
{
	say = stderr;
	struct stat st;
	snprintf(dir, sizeof dir, "%s/arbiter-fuzz-http-XXXXXX",
	    stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ?
	    "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	char err[768];
	if (!store_init(dir, example_policies, example_policy_count, "fuzzer", err, sizeof err)) {
		fprintf(say, "fuzz_http: %s\n", err);
		abort();
	}
	snprintf(home, sizeof home, "%s/.arbiter", dir);
	snprintf(sock_path, sizeof sock_path, "%s/arbiter.sock", home);
	if (!short_idle_timeout(err, sizeof err)) {
		fprintf(say, "fuzz_http: %s\n", err);
		abort();
	}
	server_args.opts[0].name = "--home";
	server_args.opts[0].value = home;
	server_args.nopts = 1;
	FILE *quiet = fopen("/dev/null", "w");
	if (quiet == NULL)
		abort();
	stderr = quiet;
	if (pthread_create(&server_thread, NULL, serve_main, NULL) != 0)
		abort();
	for (int i = 0; i < 500; i++) {
		int fd = dial();
		if (fd >= 0) {
			close(fd);
			atexit(stop_server);
			return;
		}
		usleep(10 * 1000);
	}
	fprintf(say, "fuzz_http: the server did not start\n");
	abort();
}

/* Every answer on the connection starts with a status line. */
static void check_answers(const char *out, size_t n)
{
	if (n > 0 && (n < 12 || memcmp(out, "HTTP/1.", 7) != 0)) {
		fprintf(say, "fuzz_http: an answer without a status line: %.40s\n", out);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *with[256];
	static char no_leak_check[] = "-detect_leaks=0", timeout[] = "-timeout=30";
	int n = *argc;
	if (n > 253)
		return 0;
	memcpy(with, *argv, (size_t)n * sizeof *with);
	with[n++] = no_leak_check;
	with[n++] = timeout;
	with[n] = NULL;
	*argc = n;
	*argv = with;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;
	static char out[1 << 20];
	if (!started) {
		start_server();
		started = true;
	}
	ssize_t n = exchange(data, size, out, sizeof out);
	if (n < 0) {
		fprintf(say, "fuzz_http: the connection went quiet for %d ms, not closed, after: ",
		    QUIET_MS);
		for (size_t i = 0; i < size && i < 200; i++)
			fputc(data[i] >= ' ' && data[i] < 127 ? data[i] : '.', say);
		fputc('\n', say);
		abort();
	}
	check_answers(out, (size_t)n);
	static const char health[] = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n";
	n = exchange((const uint8_t *)health, sizeof health - 1, out, sizeof out);
	if (n < 13 || memcmp(out, "HTTP/1.1 200 ", 13) != 0) {
		const char *what = n < 0 ? "no answer in time" : n == 0 ? "closed, no answer" : out;
		fprintf(say, "fuzz_http: the server no longer answers /health: %.*s\n",
		    n > 0 ? (int)(n > 300 ? 300 : n) : (int)strlen(what), what);
		abort();
	}
	return 0;
}
