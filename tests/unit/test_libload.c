/*
 * test_libload.c: libload.c, a library's functions resolved at first need:
 * a table filled in order and usable, once; a missing library and a
 * missing function refused with the reason (libcurl's and
 * libmicrohttpd's loaders then say why the client or the server cannot
 * start).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "support.h"

struct libc_fns {
	size_t (*strlen)(const char *);
	int (*strcmp)(const char *, const char *);
};

static void test_a_library_fills_its_table_once(void **state)
{
	(void)state;
	static const char *const names[] = { "strlen", "strcmp" };
	struct libc_fns fns = { 0 };
	lazy_lib l = LAZY_LIB("libc.so.6", names, fns);
	assert_true(lazy_lib_ready(&l));
	assert_int_equal(fns.strlen("four"), 4);
	assert_int_equal(fns.strcmp("a", "a"), 0);
	fns.strlen = NULL;
	assert_true(lazy_lib_ready(&l));        /* loaded once: not again */
	assert_null(fns.strlen);
}

static void test_a_missing_library_or_function_is_refused(void **state)
{
	(void)state;
	static const char *const none[] = { "strlen" };
	struct libc_fns fns = { 0 };
	lazy_lib gone = LAZY_LIB("libarbiter-no-such-library.so.0", none, fns);
	assert_false(lazy_lib_ready(&gone));
	assert_non_null(strstr(gone.why, "libarbiter-no-such-library.so.0 cannot be loaded"));
	assert_false(lazy_lib_ready(&gone));    /* and stays refused */
	static const char *const missing[] = { "strlen", "arbiter_no_such_function" };
	lazy_lib lacking = LAZY_LIB("libc.so.6", missing, fns);
	assert_false(lazy_lib_ready(&lacking));
	assert_string_equal(lacking.why, "libc.so.6 lacks arbiter_no_such_function");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_library_fills_its_table_once),
		cmocka_unit_test(test_a_missing_library_or_function_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
