/*
 * bench_console.c: the console's responsiveness, measured from outside as a
 * terminal sees it.
 *
 * arbiter tui runs on a pseudo-terminal (forkpty) at 100x30. The first frame
 * is the time from the fork to the byte that completes the first screen (the
 * footer's key list); a key press costs the time from writing the key to the
 * last byte of the redraw it causes (the output then stays quiet for 50 ms).
 * Resident memory is the process's peak (VmHWM) at the end.
 *
 *   bench_console ARBITER STORE_DIR
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char seen[1 << 20];
static size_t nseen;

/* Reads what is there within wait_ms; returns bytes read, updates *last. */
static size_t drain(int fd, int wait_ms, double *last)
{
	size_t total = 0;
	struct pollfd p = { fd, POLLIN, 0 };
	while (poll(&p, 1, wait_ms) > 0) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		*last = now_ms();
		total += (size_t)n;
		if (nseen + (size_t)n < sizeof seen) {
			memcpy(seen + nseen, buf, (size_t)n);
			nseen += (size_t)n;
		}
	}
	return total;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_console ARBITER STORE_DIR\n");
		return 2;
	}
	struct winsize ws = { .ws_row = 30, .ws_col = 100 };
	int fd;
	double t0 = now_ms();
	pid_t pid = forkpty(&fd, NULL, NULL, &ws);
	if (pid < 0) {
		perror("forkpty");
		return 1;
	}
	if (pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		execl(argv[1], argv[1], "--home", argv[2], "tui", (char *)NULL);
		_exit(127);
	}
	/* the first frame ends with the footer's key list (PgDn ...) */
	double last = t0, first = -1;
	while (first < 0 && now_ms() - t0 < 10000) {
		drain(fd, 20, &last);
		seen[nseen] = '\0';
		if (strstr(seen, "Waiting") && strstr(seen, "PgDn"))
			first = last - t0;
	}
	drain(fd, 300, &last);          /* let it settle */
	enum { KEYS = 60 };
	static const char *const keys[] = { "j", "j", "k", "\033[6~", "\033[5~", "G", "g", "j" };
	double t[KEYS];
	int n = 0;
	for (int i = 0; i < KEYS; i++) {
		const char *k = keys[i % (int)(sizeof keys / sizeof keys[0])];
		double sent = now_ms();
		if (write(fd, k, strlen(k)) < 0)
			break;
		last = sent;
		if (drain(fd, 50, &last) > 0)
			t[n++] = last - sent;
	}
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	long hwm = -1;
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			hwm = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	if (write(fd, "q", 1) < 0)
		kill(pid, SIGTERM);
	drain(fd, 200, &last);
	int status;
	waitpid(pid, &status, 0);
	qsort(t, (size_t)n, sizeof t[0], cmp);
	printf("console first frame: %.1f ms (target < 100 ms)\n", first);
	if (n > 0)
		printf("console key press to finished redraw: median %.2f ms, worst %.2f ms over %d keys "
		    "(j, k, PgDn, PgUp, G, g; target < 5 ms)\n", t[n / 2], t[n - 1], n);
	printf("console resident memory: peak %.1f MB (target < 32 MB)\n", hwm / 1024.0);
	return first < 0 || n == 0;
}
