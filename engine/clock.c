/*
 * clock.c: the one clock every layer reads.
 *
 * now_ms() is "now" for everything that means a time of day: timestamps,
 * override expiries, lockouts, quota windows, TOTP steps and the console's
 * idle sign-out. Because it is the only reader of the wall clock, a test can
 * move all of them at once. mono_ms() measures how long something took or
 * how long to wait (polling, progress, the size of a batch); it is never
 * set, so a test that holds "now" still cannot stall a loop.
 *
 * The test build (compiled with ARBITER_TEST_CLOCK, which the Makefile
 * defines for build/asan and nothing else) takes "now" from the environment
 * variable ARBITER_TEST_NOW when it is set: Unix milliseconds, which hold
 * still for the whole process, or the absolute path of a file holding them,
 * read again at every call, so that a test can move the clock of a process
 * that is already running. A value that is neither stops the process: a
 * test with a broken clock must not pass on the real one. The release build
 * compiles none of this and ignores the variable; tests/cli/clock.sh checks
 * both builds.
 */
#include <time.h>

#include "engine.h"

#ifdef ARBITER_TEST_CLOCK
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Unix milliseconds in text: digits, then at most white space. */
static bool parse_ms(const char *text, int64_t *ms)
{
	int64_t v = 0;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (p == text)
		return false;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	*ms = v;
	return *p == '\0';
}

static _Noreturn void bad_clock(const char *setting, const char *why)
{
	fprintf(stderr, "arbiter (test build): ARBITER_TEST_NOW=%s: %s\n", setting, why);
	exit(70);
}

/* The time ARBITER_TEST_NOW sets; false when it is unset or empty. */
static bool test_now(int64_t *ms)
{
	const char *v = getenv("ARBITER_TEST_NOW");
	if (v == NULL || *v == '\0')
		return false;
	if (*v != '/') {
		if (!parse_ms(v, ms))
			bad_clock(v, "expected Unix milliseconds or the absolute path of a file "
			    "holding them");
		return true;
	}
	char text[32];
	int fd = open(v, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		bad_clock(v, strerror(errno));
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0)
		bad_clock(v, strerror(errno));
	text[n] = '\0';
	if (!parse_ms(text, ms))
		bad_clock(v, "the file does not hold Unix milliseconds");
	return true;
}
#endif

int64_t now_ms(void)
{
#ifdef ARBITER_TEST_CLOCK
	int64_t set;
	if (test_now(&set))
		return set;
#endif
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
