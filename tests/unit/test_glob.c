/*
 * test_glob.c: glob patterns (glob.c), durations (duration.c), and value
 * equality and formatting (value.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "support.h"

static bool g(const char *pat, const char *s)
{
	return glob_match(pat, strlen(pat), s, strlen(s));
}

#define assert_glob(pat, s) do { if (!g(pat, s)) fail_msg("%s should match %s", pat, s); } while (0)
#define assert_no_glob(pat, s) do { if (g(pat, s)) fail_msg("%s should not match %s", pat, s); } while (0)

/* A value read from a YAML document, e.g. val("[1, 2]"). */
static value val(const char *yaml)
{
	return value_of_node(parse(yaml));
}

static bool eq(const char *a, const char *b, bool *comparable)
{
	return value_equal(val(a), val(b), comparable);
}

/* ---- glob_match ---- */

static void test_glob_literal(void **state)
{
	(void)state;
	assert_glob("abc", "abc");
	assert_no_glob("abc", "abd");
	assert_no_glob("abc", "ab");
	assert_no_glob("ab", "abc");
	assert_no_glob("ROM.*", "rom.patch");
}

static void test_glob_star_stays_in_segment(void **state)
{
	(void)state;
	assert_glob("*.bin", "rom.bin");
	assert_glob("*", "anything");
	assert_no_glob("*", "a/b");
	assert_glob("a/*", "a/b");
	assert_no_glob("a/*", "a/b/c");
	assert_no_glob("src/*.c", "src/x/y.c");
	assert_glob("src/*/*.c", "src/x/y.c");
	assert_glob("a*", "a");
	assert_glob("*b", "aab");
	assert_glob("a*b*c", "aXXbYYc");
	assert_no_glob("a*b*c", "aXXbYY");
	assert_no_glob("*.bin", "dir/rom.bin");
}

static void test_glob_double_star_crosses_segments(void **state)
{
	(void)state;
	assert_glob("**", "a/b/c");
	assert_glob("a/**", "a/b/c");
	assert_glob("secrets/**", "secrets/a/b");
	assert_no_glob("secrets/**", "secret/a");
	assert_glob("**.bin", "a/b.bin");
	assert_glob("src/**.c", "src/x/y.c");
}

static void test_glob_double_star_slash_matches_any_directory(void **state)
{
	(void)state;
	assert_glob("**/x", "x");
	assert_glob("**/x", "a/x");
	assert_glob("**/x", "a/b/x");
	assert_glob("a/**/b", "a/b");
	assert_glob("a/**/b", "a/x/b");
	assert_glob("a/**/b", "a/x/y/b");
	assert_glob("**/.env", ".env");
	assert_glob("**/.env", "app/config/.env");
}

/* `**` followed by `/` matches whole directories: no directory at all, or
 * ones ending in a slash, never part of a name. */
static void test_glob_double_star_slash_does_not_split_names(void **state)
{
	(void)state;
	assert_no_glob("**/x", "ax");
	assert_no_glob("**/x", "a/bx");
	assert_no_glob("a/**/b", "a/xb");
	assert_no_glob("**/.env", "prod.env");
	assert_no_glob("**/.env", "app/prod.env");
	assert_no_glob("secrets/**/key", "secrets/xkey");
}

static void test_glob_question_mark(void **state)
{
	(void)state;
	assert_glob("?", "a");
	assert_no_glob("?", "");
	assert_no_glob("?", "ab");
	assert_no_glob("?", "/");
	assert_glob("a?c", "abc");
	assert_no_glob("a?c", "ac");
	assert_no_glob("a?c", "abbc");
	assert_no_glob("a?c", "a/c");
}

static void test_glob_classes(void **state)
{
	(void)state;
	assert_glob("[abc]", "b");
	assert_no_glob("[abc]", "d");
	assert_glob("[a-z]x", "mx");
	assert_no_glob("[a-z]", "M");
	assert_glob("[0-9][0-9]", "42");
	assert_glob("[a-cx-z]", "y");
	assert_no_glob("[a-cx-z]", "m");
	assert_glob("file.[ch]", "file.h");
	assert_no_glob("file.[ch]", "file.o");
}

static void test_glob_negated_classes(void **state)
{
	(void)state;
	assert_glob("[!x]", "y");
	assert_no_glob("[!x]", "x");
	assert_no_glob("[!x]", "/");
	assert_glob("[^x]", "y");
	assert_no_glob("[^x]", "x");
	assert_glob("[!a-c]", "d");
	assert_no_glob("[!a-c]", "b");
}

static void test_glob_class_edge_cases(void **state)
{
	(void)state;
	assert_glob("[]]", "]");
	assert_glob("[a-]", "-");
	assert_glob("[a-]", "a");
	assert_no_glob("[/]", "/");
	/* an unterminated class is a literal '[' */
	assert_glob("[abc", "[abc");
	assert_no_glob("[abc", "a");
}

static void test_glob_escapes(void **state)
{
	(void)state;
	assert_glob("\\*", "*");
	assert_no_glob("\\*", "a");
	assert_glob("a\\?", "a?");
	assert_no_glob("a\\?", "ab");
	assert_glob("\\[a]", "[a]");
	assert_no_glob("\\[a]", "a");
	assert_glob("\\\\", "\\");
	assert_glob("[\\]]", "]");
	assert_glob("[\\]a]", "a");
	assert_no_glob("[\\]]", "\\");
}

static void test_glob_actions(void **state)
{
	(void)state;
	assert_glob("rom.*", "rom.patch");
	assert_glob("rom.*", "rom.");
	assert_no_glob("rom.*", "rom");
	assert_no_glob("rom.*", "romXpatch");
	assert_no_glob("rom.*", "xrom.patch");
	assert_glob("*.patch", "rom.patch");
	assert_glob("export.*", "export.bundle");
	assert_no_glob("export.*", "import.chat");
}

static void test_glob_empty(void **state)
{
	(void)state;
	assert_glob("", "");
	assert_no_glob("", "a");
	assert_no_glob("a", "");
	assert_glob("*", "");
	assert_glob("**", "");
	assert_no_glob("?", "");
}

static void test_glob_long_pattern(void **state)
{
	(void)state;
	/* longer than the matcher's on-stack rows */
	char pat[401], s[401];
	memset(pat, 'a', 400);
	pat[400] = '\0';
	memcpy(s, pat, sizeof s);
	assert_glob(pat, s);
	pat[399] = '?';
	assert_glob(pat, s);
	pat[200] = '*';
	assert_glob(pat, s);
	s[399] = '/';
	assert_no_glob(pat, s);
}

static void test_glob_pathological_pattern_is_fast(void **state)
{
	(void)state;
	char pat[128] = "";
	for (int i = 0; i < 30; i++)
		strcat(pat, "*a");
	strcat(pat, "b");
	size_t n = 100000;
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = '\0';
	double t0 = now_seconds();
	assert_no_glob(pat, s);
	pat[strlen(pat) - 1] = '\0';
	assert_glob(pat, s);
	char dbl[200] = "";
	for (int i = 0; i < 30; i++)
		strcat(dbl, "**a");
	strcat(dbl, "b");
	assert_no_glob(dbl, s);
	assert_true(now_seconds() - t0 < 10.0);
	free(s);
}

/* ---- durations ---- */

static int64_t dur(const char *s)
{
	int64_t v = -1;
	if (!duration_parse(s, &v))
		fail_msg("duration \"%s\" does not parse", s);
	return v;
}

static void test_duration_units(void **state)
{
	(void)state;
	assert_int_equal(dur("90s"), 90);
	assert_int_equal(dur("15m"), 900);
	assert_int_equal(dur("24h"), 86400);
	assert_int_equal(dur("30d"), 2592000);
	assert_int_equal(dur("1w"), 604800);
	assert_int_equal(dur("0s"), 0);
}

static void test_duration_combinations(void **state)
{
	(void)state;
	assert_int_equal(dur("1h30m"), 5400);
	assert_int_equal(dur("1d12h"), 129600);
	assert_int_equal(dur("1w1d1h1m1s"), 694861);
	assert_int_equal(dur("2m30s"), 150);
}

static void test_duration_bad_inputs(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "5", "m", "5x", "-5m", "+5m", "5 m", " 5m", "5m ", "1.5h", "h5", "5M",
		"1h30", "1hh", "s1", "∞s",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t v = 12345;
		if (duration_parse(bad[i], &v))
			fail_msg("duration \"%s\" should not parse", bad[i]);
		assert_int_equal(v, 12345);
	}
	int64_t v;
	assert_false(duration_parse(NULL, &v));
}

static void test_duration_overflow(void **state)
{
	(void)state;
	int64_t v;
	assert_false(duration_parse("99999999999999999999s", &v));
	assert_false(duration_parse("15250284452472w", &v));
	assert_false(duration_parse("9000000000000000000s1000000000000000000s", &v));
	assert_false(duration_parse("106751991167301d", &v));
	assert_int_equal(dur("15250284452471w"), INT64_C(15250284452471) * 604800);
}

static void test_duration_format(void **state)
{
	(void)state;
	assert_string_equal(duration_format(T.a, 0), "0s");
	assert_string_equal(duration_format(T.a, 45), "45s");
	assert_string_equal(duration_format(T.a, 90), "1m30s");
	assert_string_equal(duration_format(T.a, 3600), "1h");
	assert_string_equal(duration_format(T.a, 5400), "1h30m");
	assert_string_equal(duration_format(T.a, 86400), "1d");
	assert_string_equal(duration_format(T.a, 93784), "1d2h3m4s");
}

static void test_duration_format_round_trips(void **state)
{
	(void)state;
	static const int64_t samples[] = {
		1, 59, 60, 61, 3599, 3600, 86399, 86400, 604800, 694861, 2592000, 31536000,
		INT64_C(15250284452471) * 604800,
	};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
		assert_int_equal(dur(duration_format(T.a, samples[i])), samples[i]);
}

/* ---- value_equal ---- */

static void test_value_equal_numbers(void **state)
{
	(void)state;
	bool c;
	assert_true(eq("1", "1", &c));
	assert_true(c);
	assert_false(eq("1", "2", &c));
	assert_true(c);
	assert_true(eq("1", "1.0", &c));
	assert_true(c);
	assert_true(eq("2.5", "2.5", &c));
	assert_false(eq("2.5", "2", &c));
	assert_true(c);
	assert_true(eq("0x10", "16", &c));
}

static void test_value_equal_null(void **state)
{
	(void)state;
	bool c;
	assert_true(eq("~", "null", &c));
	assert_true(c);
	assert_false(eq("~", "0", &c));
	assert_true(c);
	assert_false(eq("'x'", "~", &c));
	assert_true(c);
	assert_false(eq("[]", "~", &c));
	assert_true(c);
}

static void test_value_equal_strings_and_bools(void **state)
{
	(void)state;
	bool c;
	assert_true(eq("abc", "'abc'", &c));
	assert_false(eq("abc", "abcd", &c));
	assert_true(c);
	assert_false(eq("abc", "abd", &c));
	assert_true(eq("true", "True", &c));
	assert_false(eq("true", "false", &c));
	assert_true(c);
}

static void test_value_equal_incomparable(void **state)
{
	(void)state;
	bool c;
	assert_false(eq("'1'", "1", &c));
	assert_false(c);
	assert_false(eq("true", "1", &c));
	assert_false(c);
	assert_false(eq("[1]", "{a: 1}", &c));
	assert_false(c);
	assert_false(eq("x", "[x]", &c));
	assert_false(c);
}

static void test_value_equal_lists_deep(void **state)
{
	(void)state;
	bool c;
	assert_true(eq("[1, [2, x], {a: b}]", "[1.0, [2, 'x'], {a: b}]", &c));
	assert_true(c);
	assert_false(eq("[1, 2]", "[1]", &c));
	assert_false(eq("[1, 2]", "[2, 1]", &c));
	assert_false(eq("[1, [2]]", "[1, [3]]", &c));
	assert_true(eq("[]", "[]", &c));
	/* differently typed items are unequal, not an error */
	assert_false(eq("[1]", "['1']", &c));
	assert_true(c);
}

static void test_value_equal_maps_deep(void **state)
{
	(void)state;
	bool c;
	assert_true(eq("{a: 1, b: [x]}", "{b: [x], a: 1}", &c));
	assert_true(c);
	assert_false(eq("{a: 1}", "{a: 2}", &c));
	assert_true(c);
	assert_false(eq("{a: 1}", "{b: 1}", &c));
	assert_false(eq("{a: 1}", "{a: 1, b: 2}", &c));
	assert_true(eq("{}", "{}", &c));
}

/* one unit of budget per node compared, one per 64 bytes of string */
static void test_value_equal_within_budget(void **state)
{
	(void)state;
	bool c;
	size_t budget = 100;
	assert_true(value_equal_within(val("[1, [2, 3]]"), val("[1, [2, 3]]"), &c, &budget));
	assert_true(c);
	assert_int_equal(budget, 95);
	budget = 2;
	assert_false(value_equal_within(val("[1, [2, 3]]"), val("[1, [2, 3]]"), &c, &budget));
	assert_int_equal(budget, 0);
	char text[140];
	memset(text, 'x', 128);
	text[128] = '\0';
	value s = { .type = NODE_STRING, .u.str = { text, 128 } };
	budget = 10;
	assert_true(value_equal_within(s, s, &c, &budget));
	assert_int_equal(budget, 7);
}

/* ---- value_format ---- */

static void test_value_format_scalars(void **state)
{
	(void)state;
	assert_string_equal(fmt(val("~")), "null");
	assert_string_equal(fmt(val("true")), "true");
	assert_string_equal(fmt(val("false")), "false");
	assert_string_equal(fmt(val("-42")), "-42");
	assert_string_equal(fmt(val("1.5")), "1.5");
	assert_string_equal(fmt(val("3.0")), "3.0");
	assert_string_equal(fmt(val("1e20")), "1e+20");
	assert_string_equal(fmt(val("hi")), "\"hi\"");
	assert_string_equal(fmt(val("''")), "\"\"");
}

static void test_value_format_special_floats(void **state)
{
	(void)state;
	value v = { .type = NODE_FLOAT, .u.d = 1.0 / 0.0 };
	assert_string_equal(fmt(v), "inf");
	v.u.d = -v.u.d;
	assert_string_equal(fmt(v), "-inf");
	v.u.d = 0.1;
	assert_string_equal(fmt(v), "0.1");
}

static void test_value_format_long_string(void **state)
{
	(void)state;
	char text[101];
	memset(text, 'a', 100);
	text[100] = '\0';
	value v = { .type = NODE_STRING, .u.str = { text, 100 } };
	const char *s = fmt(v);
	assert_int_equal(strlen(s), 1 + 77 + 3 + 1);
	assert_true(strncmp(s, "\"aaa", 4) == 0);
	assert_string_equal(s + 78, "...\"");
	v.u.str.len = 80;
	assert_int_equal(strlen(fmt(v)), 82);
}

static void test_value_format_containers(void **state)
{
	(void)state;
	assert_string_equal(fmt(val("[1, a, [2], {k: true}]")), "[1, \"a\", [2], {k: true}]");
	assert_string_equal(fmt(val("{a: 1, b: [x, 2.5]}")), "{a: 1, b: [\"x\", 2.5]}");
	assert_string_equal(fmt(val("[]")), "[]");
	assert_string_equal(fmt(val("{}")), "{}");
}

static void test_value_format_abbreviates(void **state)
{
	(void)state;
	assert_string_equal(fmt(val("[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]")), "[0, 1, 2, 3, 4, 5, 6, 7, ...]");
	assert_string_equal(fmt(val("[0, 1, 2, 3, 4, 5, 6, 7]")), "[0, 1, 2, 3, 4, 5, 6, 7]");
	assert_string_equal(fmt(val("{a: 0, b: 1, c: 2, d: 3, e: 4, f: 5, g: 6, h: 7, i: 8}")),
	    "{a: 0, b: 1, c: 2, d: 3, e: 4, f: 5, g: 6, h: 7, ...}");
	assert_string_equal(fmt(val("[[[[1]]]]")), "[[[[...]]]]");
}

static void test_value_format_small_buffer(void **state)
{
	(void)state;
	value v = val("[1, 2, 3]");
	char buf[5];
	memset(buf, 'z', sizeof buf);
	size_t n = value_format(v, buf, sizeof buf);
	assert_int_equal(n, 4);
	assert_string_equal(buf, "[1, ");
	char one[1] = { 'z' };
	assert_int_equal(value_format(v, one, 1), 0);
	assert_int_equal(one[0], '\0');
	assert_int_equal(value_format(v, NULL, 0), 0);
}

static void test_value_describe(void **state)
{
	(void)state;
	assert_string_equal(value_describe(T.a, val("[1, x]")), "[1, \"x\"]");
}

#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_glob_literal),
		T_(test_glob_star_stays_in_segment),
		T_(test_glob_double_star_crosses_segments),
		T_(test_glob_double_star_slash_matches_any_directory),
		T_(test_glob_double_star_slash_does_not_split_names),
		T_(test_glob_question_mark),
		T_(test_glob_classes),
		T_(test_glob_negated_classes),
		T_(test_glob_class_edge_cases),
		T_(test_glob_escapes),
		T_(test_glob_actions),
		T_(test_glob_empty),
		T_(test_glob_long_pattern),
		T_(test_glob_pathological_pattern_is_fast),
		T_(test_duration_units),
		T_(test_duration_combinations),
		T_(test_duration_bad_inputs),
		T_(test_duration_overflow),
		T_(test_duration_format),
		T_(test_duration_format_round_trips),
		T_(test_value_equal_numbers),
		T_(test_value_equal_null),
		T_(test_value_equal_strings_and_bools),
		T_(test_value_equal_incomparable),
		T_(test_value_equal_lists_deep),
		T_(test_value_equal_maps_deep),
		T_(test_value_equal_within_budget),
		T_(test_value_format_scalars),
		T_(test_value_format_special_floats),
		T_(test_value_format_long_string),
		T_(test_value_format_containers),
		T_(test_value_format_abbreviates),
		T_(test_value_format_small_buffer),
		T_(test_value_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
