/*
 * test_client.c: the server client of data/client.c, as every client
 * command uses it.
 *
 * A small HTTP server runs on a thread of the test, on a Unix socket in a
 * temporary directory: it reads each request (method, path, headers, body)
 * into a log the test reads, and answers with the next canned answer,
 * keeping the connection open between requests as a real server does. So
 * the test sees exactly what the client sent and how it read what came
 * back: methods with and without bodies, the bearer token, Retry-After and
 * the content type, keep-alive with the server_user check on a reused
 * connection, the body limit, the timeout, and the addresses and settings
 * refused before anything is sent.
 */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../data/client.h"

/* ---- the server on a thread ---- */

#define MAX_ANSWERS 8
static struct {
	char dir[40], path[64];
	int lfd;
	pthread_t thread;
	const char *answers[MAX_ANSWERS];   /* whole HTTP answers; "HANG": none */
	int nanswers, next;
	int connections;
	char log[1 << 16];                  /* the requests, one after the other */
	size_t loglen;
	pthread_mutex_t lock;
} S;

static void put(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* One request from fd into the log; false when the connection ended. */
static bool take_request(int fd)
{
	char buf[1 << 14];
	size_t n = 0;
	char *end = NULL;
	while (end == NULL) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return false;
		n += (size_t)r;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	size_t want = (size_t)(end + 4 - buf);
	const char *cl = strcasestr(buf, "\r\ncontent-length:");
	if (cl != NULL && cl < end)
		want += strtoul(cl + 17, NULL, 10);
	while (n < want) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return false;
		n += (size_t)r;
	}
	pthread_mutex_lock(&S.lock);
	if (S.loglen + n + 8 < sizeof S.log) {
		memcpy(S.log + S.loglen, buf, n);
		S.loglen += n;
		memcpy(S.log + S.loglen, "\n<end>\n", 7);
		S.loglen += 7;
		S.log[S.loglen] = '\0';
	}
	pthread_mutex_unlock(&S.lock);
	return true;
}

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(S.lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		S.connections++;
		while (S.next < S.nanswers && take_request(fd)) {
			const char *a = S.answers[S.next++];
			if (strcmp(a, "HANG") == 0)
				continue;
			put(fd, a, strlen(a));
		}
		close(fd);
	}
}

static int server_setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof S);
	pthread_mutex_init(&S.lock, NULL);
	snprintf(S.dir, sizeof S.dir, "/tmp/arbiter-client-XXXXXX");
	assert_non_null(mkdtemp(S.dir));
	snprintf(S.path, sizeof S.path, "%s/s.sock", S.dir);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", S.path);
	S.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(S.lfd >= 0);
	assert_int_equal(bind(S.lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(S.lfd, 8), 0);
	return 0;
}

static void start(void)
{
	assert_int_equal(pthread_create(&S.thread, NULL, serve, NULL), 0);
}

static int server_teardown(void **state)
{
	(void)state;
	shutdown(S.lfd, SHUT_RDWR);
	close(S.lfd);
	if (S.thread)
		pthread_cancel(S.thread), pthread_join(S.thread, NULL);
	unlink(S.path);
	rmdir(S.dir);
	return 0;
}

static char server_url[160];
static const char *url(void)
{
	snprintf(server_url, sizeof server_url, "unix:%s", S.path);
	return server_url;
}

static const char *login(void)
{
	struct passwd *pw = getpwuid(geteuid());
	assert_non_null(pw);
	return pw->pw_name;
}

/* ---- tests ---- */

static void test_refused_before_anything(void **state)
{
	(void)state;
	char err[512];
	static const char *const bad[] = { "http://192.0.2.1:80", "http://example.com",
	    "ftp://127.0.0.1/", "unix:relative", "https://u:p@127.0.0.1:1", "https://127.0.0.1/?q=1",
	    "https://127.0.0.1/#f", "", "not a url at all" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		client_options o = { .server = bad[i] };
		assert_null(client_open(&o, err, sizeof err));
		assert_true(err[0] != '\0');
	}
	static const char *const good[] = { "http://127.0.0.1:8080", "http://127.1.2.3:1",
	    "http://localhost:80", "http://[::1]:8080", "https://arbiter.example:8443/base/",
	    "unix:/run/arbiter/arbiter.sock" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		client_options o = { .server = good[i] };
		client *c = client_open(&o, err, sizeof err);
		assert_non_null(c);
		assert_string_equal(client_server(c), good[i]);
		client_close(c);
	}
	client_options pin_on_socket = { .server = "unix:/x", .tls_pin = "00" };
	assert_null(client_open(&pin_on_socket, err, sizeof err));
	assert_non_null(strstr(err, "only an https:// server"));
	client_options user_on_tcp = { .server = "https://127.0.0.1:1", .server_user = "root" };
	assert_null(client_open(&user_on_tcp, err, sizeof err));
	client_options short_pin = { .server = "https://127.0.0.1:1", .tls_pin = "abcd" };
	assert_null(client_open(&short_pin, err, sizeof err));
	client_options nobody = { .server = "unix:/x", .server_user = "no-such-user-here" };
	assert_null(client_open(&nobody, err, sizeof err));
	assert_non_null(strstr(err, "no such user"));
	client_options header = { .server = "unix:/x", .token = "abc\r\nX-Evil: 1" };
	assert_null(client_open(&header, err, sizeof err));
	assert_null(strstr(err, "Evil"));
}

static void test_requests(void **state)
{
	(void)state;
	S.answers[0] = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
	    "Content-Length: 9\r\n\r\n{\"id\":42}";
	S.answers[1] = "HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 2\r\n\r\n{}";
	S.answers[2] = "HTTP/1.1 204 No Content\r\n\r\n";
	S.answers[3] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	S.nanswers = 4;
	start();
	char err[512];
	client_options o = { .server = url(), .token = "tok-EN_1.2~3+4/5==", .server_user = login() };
	client *c = client_open(&o, err, sizeof err);
	assert_non_null(c);
	client_response r;
	const char *doc = "{\"action\":\"x\"}";
	assert_int_equal(client_request(c, "POST", "/v1/submissions?match=digest", "application/json",
	    doc, strlen(doc), &r), CLIENT_OK);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body, "{\"id\":42}");
	assert_int_equal(r.len, 9);
	assert_string_equal(r.content_type, "application/json");
	assert_int_equal(r.retry_after, 0);
	client_response_free(&r);
	assert_int_equal(client_request(c, "GET", "/v1/status", NULL, NULL, 0, &r), CLIENT_OK);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.retry_after, 7);
	client_response_free(&r);
	assert_int_equal(client_request(c, "DELETE", "/v1/agents/bot", NULL, NULL, 0, &r), CLIENT_OK);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.body, "");
	client_response_free(&r);
	assert_int_equal(client_request(c, "POST", "/v1/audit/checkpoints", NULL, NULL, 0, &r),
	    CLIENT_OK);
	assert_int_equal(r.status, 200);
	client_response_free(&r);
	client_close(c);

	assert_int_equal(S.connections, 1);     /* one kept-alive connection, checked each time */
	const char *log = S.log;
	assert_non_null(strstr(log, "POST /v1/submissions?match=digest HTTP/1.1\r\n"));
	assert_non_null(strstr(log, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(log, "\r\n\r\n{\"action\":\"x\"}\n<end>"));
	assert_non_null(strstr(log, "GET /v1/status HTTP/1.1\r\n"));
	assert_non_null(strstr(log, "DELETE /v1/agents/bot HTTP/1.1\r\n"));
	assert_non_null(strstr(log, "POST /v1/audit/checkpoints HTTP/1.1\r\n"));
	const char *auth = "Authorization: Bearer tok-EN_1.2~3+4/5==\r\n";
	int tokens = 0;
	for (const char *p = log; (p = strstr(p, auth)) != NULL; p++)
		tokens++;
	assert_int_equal(tokens, 4);
	assert_null(strstr(log, "Expect:"));
}

static void test_server_user(void **state)
{
	(void)state;
	S.answers[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
	S.nanswers = 1;
	start();
	char err[512];
	/* root runs this server when the test is not root, and the other way round */
	client_options o = { .server = url(), .token = "secret", .server_user =
	    geteuid() == 0 ? "65534" : "0" };
	client *c = client_open(&o, err, sizeof err);
	assert_non_null(c);
	client_response r;
	assert_int_equal(client_request(c, "GET", "/v1/status", NULL, NULL, 0, &r), CLIENT_UNTRUSTED);
	assert_non_null(strstr(client_errmsg(c), "not sending it anything"));
	assert_null(r.body);
	client_close(c);
	usleep(100000);
	assert_int_equal(S.loglen, 0);          /* nothing reached the server */
}

static void test_limits(void **state)
{
	(void)state;
	static char big[4096];
	int n = snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n");
	memset(big + n, 'x', 2000);
	S.answers[0] = big;
	S.answers[1] = "HANG";
	S.answers[2] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}";
	S.nanswers = 3;
	start();
	char err[512];
	client_options o = { .server = url(), .max_body = 1000, .timeout_ms = 300 };
	client *c = client_open(&o, err, sizeof err);
	assert_non_null(c);
	client_response r;
	assert_int_equal(client_request(c, "GET", "/big", NULL, NULL, 0, &r), CLIENT_TOO_LARGE);
	assert_non_null(strstr(client_errmsg(c), "longer than 1000 bytes"));
	assert_int_equal(client_request(c, "GET", "/hang", NULL, NULL, 0, &r), CLIENT_TIMEOUT);
	client_set_timeout(c, 2000);
	assert_int_equal(client_request(c, "GET", "/short", NULL, NULL, 0, &r), CLIENT_BROKEN);
	assert_non_null(strstr(client_errmsg(c), "broke"));
	client_close(c);

	client_options gone = { .server = "unix:/nonexistent/arbiter.sock" };
	c = client_open(&gone, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(client_request(c, "GET", "/health", NULL, NULL, 0, &r), CLIENT_UNREACHABLE);
	assert_non_null(strstr(client_errmsg(c), "cannot reach the server at unix:/nonexistent"));
	assert_int_equal(client_request(c, "GET", "health", NULL, NULL, 0, &r), CLIENT_FAILED);
	client_close(c);
}

static bool first_event(void *ctx, const char *data, size_t len)
{
	strbuf *b = ctx;
	sb_put(b, data, len);
	const char *d = strstr(b->s, "data: ");
	return d == NULL || strstr(d, "\n\n") == NULL;      /* enough once an event has ended */
}

static void test_stream(void **state)
{
	(void)state;
	/* an event stream that never ends: the reader stops it */
	S.answers[0] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1d\r\n: hi\n\nid: 7\ndata: {\"seq\":7}\n\n\r\n";
	S.nanswers = 1;
	start();
	char err[512];
	client_options o = { .server = url(), .timeout_ms = 200 };
	client *c = client_open(&o, err, sizeof err);
	assert_non_null(c);
	strbuf got = { 0 };
	client_response r;
	assert_int_equal(client_stream(c, "/v1/events?after=6", first_event, &got, NULL, &r), CLIENT_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(got.s, "id: 7\ndata: {\"seq\":7}\n\n"));
	client_response_free(&r);
	free(got.s);
	client_close(c);
	assert_non_null(strstr(S.log, "GET /v1/events?after=6 HTTP/1.1\r\n"));
	assert_non_null(strstr(S.log, "Accept: text/event-stream\r\n"));
}

static void test_conf_and_tokens(void **state)
{
	(void)state;
	client_conf conf;
	char err[512];
	const char *text = "# comment\n\nserver: 'unix:/run/a.sock' # trailing\nserver_user: arbiter\n"
	    "tls_pin: 7A:60:01:0D:F4:53:31:E3:5E:1A:8B:1A:D7:0A:0A:F0:FB:43:83:6E:64:BB:A8:0D:7F:04:43"
	    ":FB:5D:72:22:3E\npubkey: /etc/arbiter/audit.pub\nmax_wait: 2m\n";
	assert_true(client_conf_parse("c.conf", text, strlen(text), &conf, err, sizeof err));
	assert_string_equal(conf.server, "unix:/run/a.sock");
	assert_string_equal(conf.server_user, "arbiter");
	assert_string_equal(conf.pubkey, "/etc/arbiter/audit.pub");
	assert_int_equal(conf.max_wait_s, 120);
	assert_true(client_conf_parse("c.conf", "", 0, &conf, err, sizeof err));
	assert_int_equal(conf.max_wait_s, HOOK_MAX_WAIT_DEFAULT);
	assert_string_equal(conf.server, "");
	const char *twice = "max_wait: 1\nmax_wait: 2\n";
	assert_false(client_conf_parse("c.conf", twice, strlen(twice), &conf, err, sizeof err));
	assert_string_equal(err, "c.conf:2:1: max_wait is set twice (first on line 1)");

	unsigned char pin[32];
	assert_true(client_pin_parse("7a60010df45331e35e1a8b1ad70a0af0fb43836e64bba80d7f0443fb5d72223e",
	    pin));
	assert_int_equal(pin[0], 0x7a);
	assert_int_equal(pin[31], 0x3e);
	assert_false(client_pin_parse("7a6001", pin));
	assert_false(client_token_valid(""));
	assert_false(client_token_valid("a b"));
	assert_false(client_token_valid("=abc"));
	assert_true(client_token_valid("abc=="));

	char path[160], token[CLIENT_TOKEN_MAX + 1];
	snprintf(path, sizeof path, "%s/token", S.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("t0ken\r\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_true(client_token_read(path, token, sizeof token, err, sizeof err));
	assert_string_equal(token, "t0ken");
	chmod(path, 0604);
	assert_false(client_token_read(path, token, sizeof token, err, sizeof err));
	assert_non_null(strstr(err, "chmod 600"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_before_anything),
		cmocka_unit_test_setup_teardown(test_requests, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_server_user, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_limits, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_stream, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_conf_and_tokens, server_setup, server_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
