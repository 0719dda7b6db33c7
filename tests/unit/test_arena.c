/*
 * test_arena.c: arena.c's limits. A request no memory can hold (a size
 * whose rounding up to the alignment, a chunk's header added to it, an
 * array's doubling or its length in bytes, or a string's NUL, would wrap
 * around) stops the process as malloc's
 * failure does everywhere in arbiter, instead of handing back a short
 * block; ordinary sizes around the chunk size still come back usable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

/* Runs fn in a child process: true when the child was stopped by abort(). */
static bool aborts(void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		fn();
		_exit(0);
	}
	int status = 0;
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void alloc_wrapping(void)
{
	arena *a = arena_new();
	arena_alloc(a, SIZE_MAX - 3);   /* rounded up to 16, it would be 0 */
}

static void alloc_past_header(void)
{
	arena *a = arena_new();
	arena_alloc(a, SIZE_MAX - 15);  /* aligned, but a chunk's header on top wraps */
}

static void grow_wrapping(void)
{
	arena *a = arena_new();
	size_t cap = SIZE_MAX / 16 + 1;
	arena_grow(a, NULL, cap, &cap, 16, 4);  /* twice cap items of 16 bytes */
}

static void grow_doubling_wraps(void)
{
	arena *a = arena_new();
	size_t cap = SIZE_MAX / 2 + 1;
	arena_grow(a, NULL, cap, &cap, 1, 4);   /* twice cap is 0 */
}

static void strndup_wrapping(void)
{
	arena *a = arena_new();
	arena_strndup(a, "", SIZE_MAX);         /* the NUL on top wraps */
}

static void test_sizes_that_wrap_abort(void **state)
{
	(void)state;
	assert_true(aborts(alloc_wrapping));
	assert_true(aborts(alloc_past_header));
	assert_true(aborts(grow_wrapping));
	assert_true(aborts(grow_doubling_wraps));
	assert_true(aborts(strndup_wrapping));
}

static void test_ordinary_sizes_are_usable(void **state)
{
	(void)state;
	arena *a = arena_new();
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 4095, 4096, 16384, 65536, 1 << 20 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = arena_alloc(a, sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % ARENA_ALIGN, 0);
		memset(p, 0xA5, sizes[i]);
	}
	size_t cap = 0;
	int *items = NULL;
	for (size_t n = 0; n < 1000; n++) {
		items = arena_grow(a, items, n, &cap, sizeof *items, 4);
		items[n] = (int)n;
	}
	for (int n = 0; n < 1000; n++)
		assert_int_equal(items[n], n);
	arena_free(a);
}

/* A big allocation gets a block of its own; placed behind the first chunk
 * while that one still had room, it used to become the head at a reset and
 * stay for the arena's life. After a reset the arena carves from a chunk of
 * its own size again. */
static void test_a_reset_frees_a_big_block(void **state)
{
	(void)state;
	arena *a = arena_new();
	unsigned char *first = arena_alloc(a, 16);
	unsigned char *big = arena_alloc(a, 1 << 20);
	memset(big, 0x5A, 1 << 20);
	arena_reset(a);
	unsigned char *again = arena_alloc(a, 16);
	assert_ptr_equal(again, first);
	assert_ptr_not_equal(again, big);
	big = arena_alloc(a, 1 << 20);          /* and big blocks still come */
	memset(big, 0x5A, 1 << 20);
	arena_reset(a);
	assert_ptr_equal(arena_alloc(a, 16), first);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_that_wrap_abort),
		cmocka_unit_test(test_ordinary_sizes_are_usable),
		cmocka_unit_test(test_a_reset_frees_a_big_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
