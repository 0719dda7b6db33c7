/*
 * test_jsontext.c: stored JSON laid out for people (engine/jsontext.c): the
 * document screen's outline with each value's path, the pretty text show
 * prints, the audit browser's key=value line, and NUL kept inside strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "support.h"

static void test_outline_paths_and_leads(void **state)
{
	(void)state;
	arena *a = arena_new();
	jsontext_line *l;
	size_t n;
	assert_true(jsontext_outline(a, "{\"a\":1,\"b\":{\"c\":[true,{\"d\":\"x\"}],\"e\":[]}}", &l, &n));
	assert_int_equal(n, 7);
	/* a: 1 */
	assert_string_equal(l[0].key, "a");
	assert_string_equal(l[0].value, "1");
	assert_string_equal(l[0].path, "a");
	assert_int_equal(l[0].indent, 0);
	/* b: (header), c: (header) */
	assert_string_equal(l[1].key, "b");
	assert_null(l[1].value);
	assert_string_equal(l[2].path, "b.c");
	assert_int_equal(l[2].indent, 2);
	assert_null(l[2].value);
	/* - true, at b.c[0], two deeper than its array's header */
	assert_true(l[3].item);
	assert_null(l[3].key);
	assert_string_equal(l[3].value, "true");
	assert_string_equal(l[3].path, "b.c[0]");
	assert_int_equal(l[3].indent, 4);
	/* - (an object item's header), then d: "x" inside it */
	assert_true(l[4].item);
	assert_null(l[4].value);
	assert_string_equal(l[5].path, "b.c[1].d");
	assert_string_equal(l[5].value, "\"x\"");
	assert_int_equal(l[5].indent, 6);
	/* an empty container is a value of its own */
	assert_string_equal(l[6].path, "b.e");
	assert_string_equal(l[6].value, "[]");
	assert_false(jsontext_outline(a, "{not json", &l, &n));
	arena_free(a);
}

static void test_outline_keeps_nul(void **state)
{
	(void)state;
	arena *a = arena_new();
	jsontext_line *l;
	size_t n;
	assert_true(jsontext_outline(a, "{\"t\":\"a\\u0000b\"}", &l, &n));
	assert_int_equal(n, 1);
	assert_string_equal(l[0].value, "\"a\\u0000b\"");
	arena_free(a);
}

static void test_pretty(void **state)
{
	(void)state;
	char *t = jsontext_pretty("{\"b\":1.5,\"a\":[1]}", true, 15);
	assert_string_equal(t, "{\n  \"a\": [\n    1\n  ],\n  \"b\": 1.5\n}");
	free(t);
	t = jsontext_pretty("{\"b\":1,\"a\":2}", false, 0);
	assert_string_equal(t, "{\n  \"b\": 1,\n  \"a\": 2\n}");
	free(t);
	t = jsontext_pretty("\"s\\u0000\"", true, 15);
	assert_string_equal(t, "\"s\\u0000\"");
	free(t);
	assert_null(jsontext_pretty("nope", true, 15));
}

static void test_flat(void **state)
{
	(void)state;
	strbuf b = { 0 };
	assert_true(jsontext_flat("{\"ref\":\"r\\u0000x\",\"counts\":{\"critical\":1},\"n\":2}", &b,
	    200));
	assert_int_equal(b.n, strlen("ref=r") + 1 + strlen("x counts={critical:1} n=2"));
	assert_memory_equal(b.s, "ref=r\0x counts={critical:1} n=2", b.n);
	free(b.s);
	b = (strbuf){ 0 };
	assert_false(jsontext_flat("[1]", &b, 200));
	assert_false(jsontext_flat("x", &b, 200));
	free(b.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outline_paths_and_leads),
		cmocka_unit_test(test_outline_keeps_nul),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_flat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
