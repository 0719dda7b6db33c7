/*
 * fake_server.c: a scripted HTTP server for the client's failure paths
 * (tests/cli/hook.sh), where a real server would never misbehave on cue.
 *
 *   fake_server ADDR LOG STEP...
 *
 * ADDR is unix:PATH or tcp:PORTFILE (127.0.0.1 on a free port, written to
 * PORTFILE). The server accepts one connection per STEP, in order, reads
 * one request from it (headers and a Content-Length body), appends it to
 * LOG, and answers as the step says:
 *
 *   STATUS:FILE    a whole answer: that status, FILE's bytes as a JSON body
 *   RETRY:SEC:FILE 503 with Retry-After: SEC and FILE as its body
 *   half:FILE      a 200 whose Content-Length is FILE's, then half of it
 *   raw:FILE       FILE's bytes as they are (not necessarily HTTP)
 *   close          no answer: the connection is closed
 *   hang           no answer, the connection held open until killed
 *
 * Every answer closes its connection. After the last step the server
 * exits; it also exits after 60 s whatever happens, so a failed test
 * cannot leave it behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len + 4096 > cap) {
			cap = (*len + 4096) * 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				exit(1);
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);
		if (n == 0)
			break;
		*len += n;
	}
	fclose(f);
	return buf;
}

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

/* Reads one request and appends it to log. */
static void read_request(int fd, FILE *log)
{
	char buf[1 << 16];
	size_t n = 0;
	char *end = NULL;
	while (end == NULL && n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (end == NULL)
		return;
	size_t want = (size_t)(end + 4 - buf);
	const char *cl = strcasestr(buf, "\r\ncontent-length:");
	if (cl != NULL && cl < end)
		want += strtoul(cl + 17, NULL, 10);
	while (n < want && n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	fwrite(buf, 1, n, log);
	fputs("\n=== end of request\n", log);
	fflush(log);
}

static void answer(int fd, int status, const char *extra, const char *body, size_t len,
    size_t send)
{
	char head[512];
	int h = snprintf(head, sizeof head, "HTTP/1.1 %d Whatever\r\nContent-Type: application/json"
	    "\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status, len, extra);
	put(fd, head, (size_t)h);
	put(fd, body, send);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: fake_server unix:PATH|tcp:PORTFILE LOG STEP...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	int lfd;
	if (strncmp(argv[1], "unix:", 5) == 0) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1] + 5);
		unlink(a.sun_path);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0) {
			perror("bind");
			return 1;
		}
	} else if (strncmp(argv[1], "tcp:", 4) == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t alen = sizeof a;
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
		    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
			perror("bind");
			return 1;
		}
		FILE *pf = fopen(argv[1] + 4, "w");
		if (pf == NULL) {
			perror(argv[1] + 4);
			return 1;
		}
		fprintf(pf, "%d\n", ntohs(a.sin_port));
		fclose(pf);
	} else {
		fprintf(stderr, "fake_server: %s is neither unix:PATH nor tcp:PORTFILE\n", argv[1]);
		return 2;
	}
	if (listen(lfd, 16) != 0) {
		perror("listen");
		return 1;
	}
	FILE *log = fopen(argv[2], "a");
	if (log == NULL) {
		perror(argv[2]);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			perror("accept");
			return 1;
		}
		read_request(fd, log);
		const char *step = argv[i];
		size_t len = 0;
		if (strcmp(step, "hang") == 0) {
			pause();
		} else if (strcmp(step, "close") == 0) {
			/* nothing */
		} else if (strncmp(step, "raw:", 4) == 0) {
			char *b = slurp(step + 4, &len);
			put(fd, b, len);
			free(b);
		} else if (strncmp(step, "half:", 5) == 0) {
			char *b = slurp(step + 5, &len);
			answer(fd, 200, "", b, len, len / 2);
			free(b);
		} else if (strncmp(step, "RETRY:", 6) == 0) {
			char extra[64], *file = strchr(step + 6, ':');
			if (file == NULL)
				return 2;
			snprintf(extra, sizeof extra, "Retry-After: %d\r\n", atoi(step + 6));
			char *b = slurp(file + 1, &len);
			answer(fd, 503, extra, b, len, len);
			free(b);
		} else {
			char *file = strchr(step, ':');
			if (file == NULL) {
				fprintf(stderr, "fake_server: unknown step %s\n", step);
				return 2;
			}
			char *b = slurp(file + 1, &len);
			answer(fd, atoi(step), "", b, len, len);
			free(b);
		}
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	fclose(log);
	return 0;
}
