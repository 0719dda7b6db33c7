/*
 * test_expr.c: the expression language (PRODUCT.md section 3, "Expressions"):
 * literals, every operator and its precedence, field paths, the field
 * `kind`, every function and list macro, and every class of compile and
 * evaluation error with its message and position.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "../../engine/expr_impl.h"

static arena *S;        /* the evaluation's scratch arena (T.a holds the rest) */
static eval_ctx CTX;

static int setup(void **state)
{
	S = arena_new();
	memset(&CTX, 0, sizeof CTX);
	return fixture_setup(state);
}

static int teardown(void **state)
{
	arena_free(S);
	return fixture_teardown(state);
}

/* ---- helpers ---- */

static expr *compile_at(const char *src, size_t len, const node *pos)
{
	expr *e = expr_compile(T.a, src, len, "p.yaml", pos, &T.errs);
	if (e == NULL) {
		diags_print(&T.errs, stderr);
		fail_msg("does not compile: %s", src);
	}
	assert_int_equal(T.errs.n, 0);
	return e;
}

static expr *compile(const char *src)
{
	return compile_at(src, strlen(src), NULL);
}

/* Compiling src must fail with exactly one error; returns it. */
static const diag *compile_fail_at(const char *src, size_t len, const node *pos)
{
	expr *e = expr_compile(T.a, src, len, "p.yaml", pos, &T.errs);
	if (e != NULL)
		fail_msg("compiles but should not: %s", src);
	assert_int_equal(T.errs.n, 1);
	assert_string_equal(T.errs.items[0].file, "p.yaml");
	return &T.errs.items[0];
}

static const char *compile_error(const char *src)
{
	return compile_fail_at(src, strlen(src), NULL)->msg;
}

/* Sets CTX up for an evaluation against yaml (NULL: an empty map). */
static void prepare(const char *yaml, const char *kind)
{
	memset(&CTX, 0, sizeof CTX);
	CTX.doc = parse(yaml ? yaml : "{}");
	CTX.kind = kind;
	CTX.scratch = S;
}

/* The result as value_format text (strings quoted, floats always with a
 * point, so "7" is an int and "7.0" a float), or "error: MESSAGE". */
static const char *ev_kind(const char *src, const char *yaml, const char *kind)
{
	const expr *e = compile(src);
	prepare(yaml, kind);
	value v;
	if (!expr_eval(e, &CTX, &v))
		return arena_printf(T.a, "error: %s", CTX.err.msg);
	return fmt(v);
}

static const char *ev(const char *src, const char *yaml)
{
	return ev_kind(src, yaml, NULL);
}

/* Evaluation must fail; returns the message (position in CTX.err). */
static const char *ev_err(const char *src, const char *yaml)
{
	const char *r = ev(src, yaml);
	if (strncmp(r, "error: ", 7) != 0)
		fail_msg("%s evaluates to %s, expected an error", src, r);
	return r + 7;
}

/* Evaluates to a value (for checking bytes of strings). */
static value ev_value(const char *src, const char *yaml)
{
	const expr *e = compile(src);
	prepare(yaml, NULL);
	value v;
	if (!expr_eval(e, &CTX, &v))
		fail_msg("%s: %s", src, CTX.err.msg);
	return v;
}

/* A scalar node standing for the YAML scalar that holds an expression. */
static node scalar_at(int line, int col, int style)
{
	node n;
	memset(&n, 0, sizeof n);
	n.type = NODE_STRING;
	n.style = (uint8_t)style;
	n.line = (uint32_t)line;
	n.col = (uint32_t)col;
	return n;
}

/* A document `l: [0, 1, ..., n-1]`. */
static const node *big_list_doc(size_t n)
{
	size_t cap = 16 + n * 12, off = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	off += (size_t)snprintf(buf + off, cap - off, "l: [");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%zu", i ? "," : "", i);
	snprintf(buf + off, cap - off, "]\n");
	const node *d = parse(buf);
	free(buf);
	return d;
}

#define assert_ev(src, yaml, want) assert_string_equal(ev(src, yaml), want)
#define assert_ev_err(src, yaml, want) assert_string_equal(ev_err(src, yaml), want)

/* ---- literals ---- */

static void test_literal_int(void **state)
{
	(void)state;
	assert_ev("42", NULL, "42");
	assert_ev("0", NULL, "0");
	assert_ev("0xFFB0", NULL, "65456");
	assert_ev("0xffb0", NULL, "65456");
	assert_ev("0X10", NULL, "16");
	assert_ev("9223372036854775807", NULL, "9223372036854775807");
	assert_ev("0x7FFFFFFFFFFFFFFF", NULL, "9223372036854775807");
	assert_ev("-42", NULL, "-42");
}

static void test_literal_int_too_large(void **state)
{
	(void)state;
	assert_string_equal(compile_error("9223372036854775808"), "integer literal too large");
}

static void test_literal_hex_too_large(void **state)
{
	(void)state;
	assert_string_equal(compile_error("0x10000000000000000"), "integer literal too large");
}

static void test_literal_malformed_number(void **state)
{
	(void)state;
	assert_string_equal(compile_error("12abc"), "malformed number");
}

static void test_literal_float(void **state)
{
	(void)state;
	assert_ev("1.5", NULL, "1.5");
	assert_ev("2.0", NULL, "2.0");
	assert_ev("2e3", NULL, "2000.0");
	assert_ev("1.5e-1", NULL, "0.15");
	assert_ev("-0.25", NULL, "-0.25");
}

static void test_literal_strings_both_quotes(void **state)
{
	(void)state;
	assert_ev("\"s\"", NULL, "\"s\"");
	assert_ev("'s'", NULL, "\"s\"");
	assert_ev("'say \"hi\"'", NULL, "\"say \"hi\"\"");
	assert_ev("\"it's\"", NULL, "\"it's\"");
	assert_ev("''", NULL, "\"\"");
}

static void test_literal_string_escapes(void **state)
{
	(void)state;
	value v = ev_value("\"a\\nb\\tc\\\"d\\\\e\\u00e9\\r\\'\"", NULL);
	assert_int_equal(v.type, NODE_STRING);
	const char want[] = "a\nb\tc\"d\\e\xc3\xa9\r'";
	assert_int_equal(v.u.str.len, sizeof want - 1);
	assert_memory_equal(v.u.str.s, want, sizeof want - 1);
	v = ev_value("'\\u20ac'", NULL);
	assert_int_equal(v.u.str.len, 3);
	assert_memory_equal(v.u.str.s, "\xe2\x82\xac", 3);
}

static void test_literal_bool_null(void **state)
{
	(void)state;
	assert_ev("true", NULL, "true");
	assert_ev("false", NULL, "false");
	assert_ev("null", NULL, "null");
}

static void test_literal_list(void **state)
{
	(void)state;
	assert_ev("[1, 'a', true, null, 1.5]", NULL, "[1, \"a\", true, null, 1.5]");
	assert_ev("[]", NULL, "[]");
	assert_ev("[[1], [2, 3]]", NULL, "[[1], [2, 3]]");
	assert_ev("[a, b]", "a: 1\nb: x\n", "[1, \"x\"]");
	assert_ev("[a + 1, [b]]", "a: 1\nb: x\n", "[2, [\"x\"]]");
	assert_ev("[1, 2, 3][1]", NULL, "2");
}

static void test_literal_list_constant_is_built_once(void **state)
{
	(void)state;
	expr *e = compile("[1, 'a', [2]]");
	assert_int_equal(e->kind, X_LIT);
	assert_int_equal(e->lit.type, NODE_LIST);
	e = compile("[1, a]");
	assert_int_equal(e->kind, X_LIST);
}

/* ---- unary operators ---- */

static void test_not(void **state)
{
	(void)state;
	assert_ev("!true", NULL, "false");
	assert_ev("!false", NULL, "true");
	assert_ev("!!true", NULL, "true");
	assert_ev("!a", "a: false\n", "true");
}

static void test_not_needs_bool(void **state)
{
	(void)state;
	assert_ev_err("!1", NULL, "! needs a bool, not int 1");
	assert_ev_err("!nope", NULL, "! needs a bool, not null");
}

static void test_negate(void **state)
{
	(void)state;
	assert_ev("-5", NULL, "-5");
	assert_ev("-1.5", NULL, "-1.5");
	assert_ev("-a", "a: 3\n", "-3");
	assert_ev("-a", "a: 2.5\n", "-2.5");
	assert_ev("- -a", "a: 3\n", "3");
	assert_ev("--4", NULL, "4");
	assert_ev("-(2)", NULL, "-2");
}

static void test_negate_errors(void **state)
{
	(void)state;
	assert_ev_err("-'s'", NULL, "cannot negate string \"s\"");
	assert_ev_err("-nope", NULL, "cannot negate null");
	/* the one int without a negation: documents hold no such integer
	 * (doc.c keeps them within 2^53), but an expression can make it */
	assert_ev_err("-(-9223372036854775807 - 1)", NULL, "integer overflow in negation");
}

/* ---- * / % ---- */

static void test_multiply_divide_modulo_ints(void **state)
{
	(void)state;
	assert_ev("6 * 7", NULL, "42");
	assert_ev("7 / 2", NULL, "3");
	assert_ev("-7 / 2", NULL, "-3");
	assert_ev("7 % 3", NULL, "1");
	assert_ev("-7 % 3", NULL, "-1");
	assert_ev("0 * -1", NULL, "0");
}

static void test_multiply_divide_floats(void **state)
{
	(void)state;
	assert_ev("7.0 / 2", NULL, "3.5");
	assert_ev("7 / 2.0", NULL, "3.5");
	assert_ev("1.5 * 2", NULL, "3.0");
	assert_ev("a * 2", "a: 0.25\n", "0.5");
}

static void test_modulo_needs_ints(void **state)
{
	(void)state;
	assert_ev_err("5 % 2.0", NULL, "% needs two ints, not int and float");
	assert_ev_err("5.5 % 2", NULL, "% needs two ints, not float and int");
}

/* ---- + - ---- */

static void test_add_subtract_numbers(void **state)
{
	(void)state;
	assert_ev("1 + 2", NULL, "3");
	assert_ev("5 - 7", NULL, "-2");
	assert_ev("1 + 0.5", NULL, "1.5");
	assert_ev("0.5 - 1", NULL, "-0.5");
	assert_ev("a + b", "a: 40\nb: 2\n", "42");
}

static void test_add_concatenates_strings(void **state)
{
	(void)state;
	assert_ev("'ab' + 'cd'", NULL, "\"abcd\"");
	assert_ev("'' + ''", NULL, "\"\"");
	assert_ev("s + '!'", "s: hi\n", "\"hi!\"");
	value v = ev_value("s + t", "s: ab\nt: cd\n");
	assert_int_equal(v.u.str.len, 4);
	assert_memory_equal(v.u.str.s, "abcd", 4);
}

static void test_add_concatenates_lists(void **state)
{
	(void)state;
	assert_ev("[1] + [2, 3]", NULL, "[1, 2, 3]");
	assert_ev("[] + []", NULL, "[]");
	assert_ev("l + ['x']", "l: [1, 2]\n", "[1, 2, \"x\"]");
	assert_ev("size(l + l)", "l: [1, 2]\n", "4");
}

static void test_add_type_errors(void **state)
{
	(void)state;
	assert_ev_err("'a' + 1", NULL, "cannot apply + to string \"a\" and int 1");
	assert_ev_err("[1] + 1", NULL, "cannot apply + to list [1] and int 1");
	assert_ev_err("'a' - 'b'", NULL, "cannot apply - to string \"a\" and string \"b\"");
	assert_ev_err("[1] - [1]", NULL, "cannot apply - to list [1] and list [1]");
	assert_ev_err("true + 1", NULL, "cannot apply + to bool true and int 1");
}

/* ---- < <= > >= ---- */

static void test_compare_ints(void **state)
{
	(void)state;
	assert_ev("1 < 2", NULL, "true");
	assert_ev("2 < 2", NULL, "false");
	assert_ev("2 <= 2", NULL, "true");
	assert_ev("3 <= 2", NULL, "false");
	assert_ev("3 > 2", NULL, "true");
	assert_ev("2 > 2", NULL, "false");
	assert_ev("2 >= 2", NULL, "true");
	assert_ev("2 >= 3", NULL, "false");
	assert_ev("-1 < 0", NULL, "true");
}

static void test_compare_floats_and_mixed(void **state)
{
	(void)state;
	assert_ev("1.5 < 2.5", NULL, "true");
	assert_ev("2.5 <= 2.5", NULL, "true");
	assert_ev("1 < 1.5", NULL, "true");
	assert_ev("2 >= 2.0", NULL, "true");
	assert_ev("2.0 > 2", NULL, "false");
	assert_ev("rate >= 0.95", "rate: 1\n", "true");
}

static void test_compare_strings(void **state)
{
	(void)state;
	assert_ev("'abc' < 'abd'", NULL, "true");
	assert_ev("'ab' < 'abc'", NULL, "true");
	assert_ev("'b' > 'abc'", NULL, "true");
	assert_ev("'B' < 'a'", NULL, "true");
	assert_ev("'x' <= 'x'", NULL, "true");
	assert_ev("'x' >= 'y'", NULL, "false");
}

static void test_compare_string_with_int_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("\"lots\" > 1024", NULL, "cannot compare string \"lots\" with int 1024 using >");
	/* the operator's position: "lots" is 6 bytes, then a space */
	assert_string_equal(CTX.err.file, "p.yaml");
	assert_int_equal(CTX.err.line, 1);
	assert_int_equal(CTX.err.col, 8);
}

static void test_compare_field_type_mismatch_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("bytes_changed <= 1024", "bytes_changed: lots\n",
	    "cannot compare string \"lots\" with int 1024 using <=");
	assert_int_equal(CTX.err.col, 15);
}

static void test_compare_other_types_are_errors(void **state)
{
	(void)state;
	assert_ev_err("nope < 1", NULL, "cannot compare null with int 1 using <");
	assert_ev_err("true < false", NULL, "cannot compare bool true with bool false using <");
	assert_ev_err("[1] >= [2]", NULL, "cannot compare list [1] with list [2] using >=");
	assert_ev_err("m > 1", "m: {a: 1}\n", "cannot compare map {a: 1} with int 1 using >");
}

/* ---- == != ---- */

static void test_equal_scalars(void **state)
{
	(void)state;
	assert_ev("1 == 1", NULL, "true");
	assert_ev("1 == 2", NULL, "false");
	assert_ev("1 != 2", NULL, "true");
	assert_ev("1 == 1.0", NULL, "true");
	assert_ev("1.5 != 1.5", NULL, "false");
	assert_ev("'a' == 'a'", NULL, "true");
	assert_ev("'a' == 'ab'", NULL, "false");
	assert_ev("true == true", NULL, "true");
	assert_ev("true != false", NULL, "true");
}

static void test_equal_null(void **state)
{
	(void)state;
	assert_ev("null == null", NULL, "true");
	assert_ev("nope == null", NULL, "true");
	assert_ev("a == null", "a: ~\n", "true");
	assert_ev("1 == null", NULL, "false");
	assert_ev("null != 'x'", NULL, "true");
	assert_ev("[] == null", NULL, "false");
	assert_ev("a != null", "a: 0\n", "true");
}

static void test_equal_lists_deep(void **state)
{
	(void)state;
	assert_ev("[1, [2, 'x']] == [1, [2, 'x']]", NULL, "true");
	assert_ev("[1, 2] == [1]", NULL, "false");
	assert_ev("[1, 2] == [2, 1]", NULL, "false");
	assert_ev("[1, [2]] != [1, [3]]", NULL, "true");
	assert_ev("l == [1, 2.0, 'x']", "l: [1, 2, x]\n", "true");
	assert_ev("[] == []", NULL, "true");
}

static void test_equal_maps_deep(void **state)
{
	(void)state;
	const char *doc = "a: {x: 1, y: [1, {z: true}]}\n"
	    "b: {y: [1, {z: true}], x: 1.0}\n"
	    "c: {x: 1, y: [1, {z: false}]}\n"
	    "d: {x: 1}\n";
	assert_ev("a == b", doc, "true");
	assert_ev("a == c", doc, "false");
	assert_ev("a != d", doc, "true");
	assert_ev("a == a", doc, "true");
}

static void test_equal_incompatible_types_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("1 == '1'", NULL, "cannot compare int 1 with string \"1\" using ==");
	assert_ev_err("'a' != 1", NULL, "cannot compare string \"a\" with int 1 using !=");
	assert_ev_err("true == 1", NULL, "cannot compare bool true with int 1 using ==");
	assert_ev_err("[1] == m", "m: {a: 1}\n", "cannot compare list [1] with map {a: 1} using ==");
	assert_int_equal(CTX.err.col, 5);
}

/* ---- in ---- */

static void test_in_list(void **state)
{
	(void)state;
	assert_ev("2 in [1, 2, 3]", NULL, "true");
	assert_ev("4 in [1, 2, 3]", NULL, "false");
	assert_ev("'x' in ['x', 'y']", NULL, "true");
	assert_ev("1.0 in [1]", NULL, "true");
	assert_ev("[1] in [[1], [2]]", NULL, "true");
	assert_ev("'a' in []", NULL, "false");
	assert_ev("vendor in allowed", "vendor: acme\nallowed: [acme, initech]\n", "true");
	assert_ev("null in [1, null]", NULL, "true");
	assert_ev("'1' in [1, 2]", NULL, "false");
}

static void test_in_map(void **state)
{
	(void)state;
	const char *doc = "m: {k: 1, other: 2}\n";
	assert_ev("'k' in m", doc, "true");
	assert_ev("'z' in m", doc, "false");
	assert_ev_err("1 in m", doc, "in on a map needs a string key, not int 1");
}

static void test_in_needs_list_or_map(void **state)
{
	(void)state;
	assert_ev_err("'a' in 'abc'", NULL, "in needs a list or map on its right, not string \"abc\"");
	assert_ev_err("'a' in nope", NULL, "in needs a list or map on its right, not null");
	assert_int_equal(CTX.err.col, 5);
}

/* ---- && || ---- */

static void test_and_or(void **state)
{
	(void)state;
	assert_ev("true && true", NULL, "true");
	assert_ev("true && false", NULL, "false");
	assert_ev("false && true", NULL, "false");
	assert_ev("false || false", NULL, "false");
	assert_ev("false || true", NULL, "true");
	assert_ev("true || false", NULL, "true");
}

static void test_and_or_short_circuit(void **state)
{
	(void)state;
	assert_ev("false && 1 / 0 == 1", NULL, "false");
	assert_ev("true || 1 / 0 == 1", NULL, "true");
	assert_ev("false && 'not a bool'", NULL, "false");
	assert_ev("true || 'not a bool'", NULL, "true");
	assert_ev("has(a) && a.b > 1", "x: 1\n", "false");
	assert_ev_err("true && 1 / 0 == 1", NULL, "division by zero");
	assert_ev_err("false || 1 / 0 == 1", NULL, "division by zero");
}

static void test_and_or_need_bools(void **state)
{
	(void)state;
	assert_ev_err("1 && true", NULL, "&& needs a bool, not int 1");
	assert_ev_err("true && 'x'", NULL, "&& needs a bool, not string \"x\"");
	assert_ev_err("false || 'x'", NULL, "|| needs a bool, not string \"x\"");
	assert_ev_err("nope || true", NULL, "|| needs a bool, not null");
}

/* ---- ?: ---- */

static void test_conditional(void **state)
{
	(void)state;
	assert_ev("true ? 1 : 2", NULL, "1");
	assert_ev("false ? 1 : 2", NULL, "2");
	assert_ev("a > 1 ? 'big' : 'small'", "a: 5\n", "\"big\"");
	assert_ev("(true ? 1 : 2) + 10", NULL, "11");
}

static void test_conditional_evaluates_one_branch(void **state)
{
	(void)state;
	assert_ev("true ? 'a' : 1 / 0", NULL, "\"a\"");
	assert_ev("false ? 1 / 0 : 'b'", NULL, "\"b\"");
}

static void test_conditional_nesting(void **state)
{
	(void)state;
	assert_ev("false ? 1 : true ? 2 : 3", NULL, "2");
	assert_ev("false ? 1 : false ? 2 : 3", NULL, "3");
	assert_ev("true ? false ? 1 : 2 : 3", NULL, "2");
	assert_ev("true ? true ? 1 : 2 : 3", NULL, "1");
}

static void test_conditional_needs_bool(void **state)
{
	(void)state;
	assert_ev_err("1 ? 2 : 3", NULL, "?: needs a bool, not int 1");
	assert_int_equal(CTX.err.col, 3);
}

/* ---- precedence ---- */

static void test_precedence_arithmetic(void **state)
{
	(void)state;
	assert_ev("1 + 2 * 3", NULL, "7");
	assert_ev("(1 + 2) * 3", NULL, "9");
	assert_ev("2 * 3 + 1", NULL, "7");
	assert_ev("10 - 4 - 3", NULL, "3");
	assert_ev("100 / 10 / 5", NULL, "2");
	assert_ev("2 * 3 % 4", NULL, "2");
	assert_ev("1 + 7 % 4", NULL, "4");
	assert_ev("-2 * 3", NULL, "-6");
	assert_ev("-a.b", "a: {b: 2}\n", "-2");
	assert_ev("1 + 1 < 3", NULL, "true");
	assert_ev("'a' + 'b' == 'ab'", NULL, "true");
}

static void test_precedence_not_binds_tighter_than_and(void **state)
{
	(void)state;
	/* (!a) && b is false; !(a && b) would be true */
	assert_ev("!a && b", "a: true\nb: false\n", "false");
	assert_ev("!a || b", "a: true\nb: false\n", "false");
}

static void test_precedence_equality_binds_tighter_than_in(void **state)
{
	(void)state;
	/* (a == b) in [true]; a == (b in [true]) would compare 1 with a bool */
	assert_ev("a == b in [true]", "a: 1\nb: 1\n", "true");
	assert_ev("a == b in [false]", "a: 1\nb: 1\n", "false");
}

static void test_precedence_relational_binds_tighter_than_equality(void **state)
{
	(void)state;
	assert_ev("1 < 2 == true", NULL, "true");
	assert_ev("2 < 1 != 3 < 4", NULL, "true");
}

static void test_precedence_logical(void **state)
{
	(void)state;
	assert_ev("true || false && false", NULL, "true");
	assert_ev("false && true || true", NULL, "true");
	assert_ev("1 in [1] && 2 in [3]", NULL, "false");
	assert_ev("false || true ? 'y' : 'n'", NULL, "\"y\"");
	assert_ev("true ? 1 : 2 + 10", NULL, "1");
}

/* ---- field paths ---- */

static void test_field_top_level(void **state)
{
	(void)state;
	assert_ev("bytes_changed", "bytes_changed: 150\n", "150");
	assert_ev("vendor", "vendor: acme\n", "\"acme\"");
	assert_ev("_x1", "_x1: 1\n", "1");
}

static void test_field_member(void **state)
{
	(void)state;
	assert_ev("a.b", "a: {b: 5}\n", "5");
	assert_ev("a.b.c", "a: {b: {c: x}}\n", "\"x\"");
	assert_ev("tests.palette_integrity", "tests: {palette_integrity: 0.99}\n", "0.99");
}

static void test_field_index(void **state)
{
	(void)state;
	const char *doc = "a: [10, 20]\ni: 1\n";
	assert_ev("a[0]", doc, "10");
	assert_ev("a[1]", doc, "20");
	assert_ev("a[i]", doc, "20");
	assert_ev("a[i - 1]", doc, "10");
}

static void test_field_index_by_string(void **state)
{
	(void)state;
	assert_ev("a[\"k\"]", "a: {k: 1}\n", "1");
	assert_ev("tests[\"smoke test\"]", "tests: {smoke test: 0.5}\n", "0.5");
	assert_ev("m['1']", "m: {1: x}\n", "\"x\"");
}

static void test_field_change_offset(void **state)
{
	(void)state;
	const char *doc = "changes:\n  - {offset: 0xFFB2, length: 4}\n  - {start: 1, end: 2}\n";
	assert_ev("changes[0].offset", doc, "65458");
	assert_ev("changes[0].length", doc, "4");
	assert_ev("changes[1].end", doc, "2");
	assert_ev("changes[1].offset", doc, "null");
}

static void test_field_missing_reads_null(void **state)
{
	(void)state;
	assert_ev("nope", NULL, "null");
	assert_ev("a.missing", "a: {b: 1}\n", "null");
	assert_ev("a['missing']", "a: {b: 1}\n", "null");
}

static void test_field_member_of_null_is_null(void **state)
{
	(void)state;
	assert_ev("nope.x", NULL, "null");
	assert_ev("nope.x.y", NULL, "null");
	assert_ev("nope[0]", NULL, "null");
	assert_ev("nope['k'].z", NULL, "null");
	assert_ev("a.b.c", "a: {b: null}\n", "null");
}

static void test_field_index_out_of_range_is_null(void **state)
{
	(void)state;
	const char *doc = "a: [10, 20]\n";
	assert_ev("a[2]", doc, "null");
	assert_ev("a[-1]", doc, "null");
	assert_ev("a[9223372036854775807]", doc, "null");
	assert_ev("[][0]", NULL, "null");
}

static void test_field_member_of_scalar_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("a.b", "a: 5\n", "cannot read field .b of int 5");
	assert_int_equal(CTX.err.col, 2);
	assert_ev_err("a.b", "a: [1]\n", "cannot read field .b of list [1]");
}

static void test_field_index_of_wrong_type_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("a['x']", "a: [1]\n", "a list index must be an int, not string \"x\"");
	assert_int_equal(CTX.err.col, 2);
	assert_ev_err("a[0.5]", "a: [1]\n", "a list index must be an int, not float 0.5");
	assert_ev_err("m[0]", "m: {a: 1}\n", "a map key must be a string, not int 0");
	assert_ev_err("s[0]", "s: abc\n", "cannot index string \"abc\"");
	assert_ev_err("n[0]", "n: 5\n", "cannot index int 5");
}

static void test_field_kind_derived(void **state)
{
	(void)state;
	assert_string_equal(ev_kind("kind", "action: export.bundle\n", "export"), "\"export\"");
	assert_string_equal(ev_kind("kind == 'export'", "action: export.bundle\n", "export"), "true");
	assert_string_equal(ev_kind("kind in ['proposal']", "action: x\n", "proposal"), "true");
}

/* `kind` is the kind the policies were selected by (the submission's own
 * kind when it gives one, which submission_from_doc then copies) */
static void test_field_kind_is_the_selected_kind(void **state)
{
	(void)state;
	assert_string_equal(ev_kind("kind", "action: x\nkind: import\n", "import"), "\"import\"");
	assert_string_equal(ev_kind("kind", "action: x\nkind: import\n", "export"), "\"export\"");
	/* without a selected kind, the document's field */
	assert_string_equal(ev_kind("kind", "action: x\nkind: import\n", NULL), "\"import\"");
}

static void test_field_kind_without_derived_kind_is_null(void **state)
{
	(void)state;
	assert_string_equal(ev_kind("kind", "action: x\n", NULL), "null");
	/* only the top-level field is special */
	assert_string_equal(ev_kind("a.kind", "a: {}\n", "export"), "null");
}

/* ---- functions ---- */

static void test_fn_size(void **state)
{
	(void)state;
	assert_ev("size('abc')", NULL, "3");
	assert_ev("size('')", NULL, "0");
	assert_ev("size([1, 2])", NULL, "2");
	assert_ev("size([])", NULL, "0");
	assert_ev("size(m)", "m: {a: 1, b: 2}\n", "2");
	assert_ev("size(files)", "files: [{path: a}, {path: b}, {path: c}]\n", "3");
}

static void test_fn_size_counts_code_points(void **state)
{
	(void)state;
	assert_ev("size('h\xc3\xa9llo')", NULL, "5");
	assert_ev("size('\\u00e9')", NULL, "1");
	assert_ev("size(s)", "s: \"\xe2\x82\xac\xf0\x9f\x98\x80\"\n", "2");
}

static void test_fn_size_errors(void **state)
{
	(void)state;
	assert_ev_err("size(1)", NULL, "size() needs a string, list or map, not int 1");
	assert_ev_err("size(nope)", NULL, "size() needs a string, list or map, not null");
}

static void test_fn_has_one_argument(void **state)
{
	(void)state;
	const char *doc = "a: {b: 1, n: null}\nz: 0\n";
	assert_ev("has(a)", doc, "true");
	assert_ev("has(z)", doc, "true");
	assert_ev("has(nope)", doc, "false");
	assert_ev("has(a.b)", doc, "true");
	assert_ev("has(a.c)", doc, "false");
	assert_ev("has(a.n)", doc, "false");
	assert_ev("has(nope.x.y)", doc, "false");
}

static void test_fn_has_map_key(void **state)
{
	(void)state;
	const char *doc = "m: {k: 1, n: null}\n";
	assert_ev("has(m, 'k')", doc, "true");
	assert_ev("has(m, 'n')", doc, "true");
	assert_ev("has(m, 'z')", doc, "false");
	assert_ev("has(nope, 'k')", doc, "false");
	assert_ev_err("has(1, 'k')", doc, "has(map, key) needs a map and a string, not int and string");
	assert_ev_err("has(m, 1)", doc, "has(map, key) needs a map and a string, not map and int");
}

static void test_fn_glob(void **state)
{
	(void)state;
	assert_ev("glob('rom.patch', 'rom.*')", NULL, "true");
	assert_ev("glob('romx', 'rom.*')", NULL, "false");
	assert_ev("glob(action, 'export.*')", "action: export.bundle\n", "true");
	assert_ev("glob('src/a/b.c', 'src/**')", NULL, "true");
	assert_ev("glob('src/a/b.c', 'src/*')", NULL, "false");
	assert_ev_err("glob(1, '*')", NULL, "glob() needs a string, not int 1");
	assert_ev_err("glob('a', nope)", NULL, "glob() needs a string, not null");
}

static void test_fn_matches(void **state)
{
	(void)state;
	assert_ev("matches('abc123', '^[a-z]+[0-9]+$')", NULL, "true");
	assert_ev("matches('abc', '^b')", NULL, "false");
	assert_ev("matches('xabcx', 'abc')", NULL, "true");
	assert_ev("matches(s, p)", "s: abc\np: ^a\n", "true");
	assert_ev("matches(s, p)", "s: abc\np: ^b\n", "false");
	assert_ev("matches('a|b', 'a\\\\|b')", NULL, "true");
}

static void test_fn_matches_errors(void **state)
{
	(void)state;
	assert_ev_err("matches(1, 'a')", NULL, "matches() needs a string, not int 1");
	assert_ev_err("matches('a', p)", "p: 1\n", "matches() needs a string, not int 1");
	const char *msg = ev_err("matches('a', p)", "p: (\n");
	assert_true(strncmp(msg, "bad regular expression \"(\": ", 28) == 0);
}

static void test_fn_starts_ends_with(void **state)
{
	(void)state;
	assert_ev("starts_with('rom.patch', 'rom.')", NULL, "true");
	assert_ev("starts_with('rom', 'rom.patch')", NULL, "false");
	assert_ev("starts_with('abc', '')", NULL, "true");
	assert_ev("ends_with('file.bin', '.bin')", NULL, "true");
	assert_ev("ends_with('file.bin', '.exe')", NULL, "false");
	assert_ev("ends_with('a', 'ba')", NULL, "false");
	assert_ev("ends_with('a', '')", NULL, "true");
	assert_ev_err("starts_with(1, 'a')", NULL, "starts_with() needs a string, not int 1");
	assert_ev_err("ends_with('a', [])", NULL, "ends_with() needs a string, not list []");
}

static void test_fn_contains(void **state)
{
	(void)state;
	assert_ev("contains('hello', 'ell')", NULL, "true");
	assert_ev("contains('hello', 'xyz')", NULL, "false");
	assert_ev("contains('hello', '')", NULL, "true");
	assert_ev("contains('', 'a')", NULL, "false");
	assert_ev("contains([1, 2], 2)", NULL, "true");
	assert_ev("contains([1, 2], 3)", NULL, "false");
	assert_ev("contains(tags, 'gpl')", "tags: [mit, gpl]\n", "true");
	assert_ev_err("contains(1, 'a')", NULL, "contains() needs a string, not int 1");
	assert_ev_err("contains('a', 1)", NULL, "contains() needs a string, not int 1");
}

static void test_fn_lower_upper(void **state)
{
	(void)state;
	assert_ev("lower('AbC-1')", NULL, "\"abc-1\"");
	assert_ev("upper('abc-1')", NULL, "\"ABC-1\"");
	assert_ev("lower(vendor) == 'acme'", "vendor: ACME\n", "true");
	assert_ev("upper('')", NULL, "\"\"");
	assert_ev_err("lower(1)", NULL, "lower() needs a string, not int 1");
	assert_ev_err("upper(nope)", NULL, "upper() needs a string, not null");
}

static void test_fn_int(void **state)
{
	(void)state;
	assert_ev("int(7)", NULL, "7");
	assert_ev("int(3.9)", NULL, "3");
	assert_ev("int(-3.9)", NULL, "-3");
	assert_ev("int('42')", NULL, "42");
	assert_ev("int('-17')", NULL, "-17");
	assert_ev("int('0x10')", NULL, "16");
	assert_ev("int('9223372036854775807')", NULL, "9223372036854775807");
	assert_ev("int('-9223372036854775808')", NULL, "-9223372036854775808");
}

static void test_fn_int_errors(void **state)
{
	(void)state;
	assert_ev_err("int('abc')", NULL, "int() cannot read \"abc\" as an integer");
	assert_ev_err("int('')", NULL, "int() cannot read \"\" as an integer");
	assert_ev_err("int('12x')", NULL, "int() cannot read \"12x\" as an integer");
	assert_ev_err("int('9223372036854775808')", NULL,
	    "int() cannot read \"9223372036854775808\" as an integer");
	assert_ev_err("int(true)", NULL, "int() needs a number or string, not bool");
	assert_ev_err("int(nope)", NULL, "int() needs a number or string, not null");
	assert_ev_err("int(1e19)", NULL, "int() of 1e+19 is out of range");
}

static void test_fn_float(void **state)
{
	(void)state;
	assert_ev("float(2)", NULL, "2.0");
	assert_ev("float(2.5)", NULL, "2.5");
	assert_ev("float('1.5')", NULL, "1.5");
	assert_ev("float('-2')", NULL, "-2.0");
	assert_ev("float(a) / 4", "a: 1\n", "0.25");
	assert_ev_err("float('x')", NULL, "float() cannot read \"x\" as a number");
	assert_ev_err("float('')", NULL, "float() cannot read \"\" as a number");
	assert_ev_err("float('inf')", NULL, "float() cannot read \"inf\" as a number");
	assert_ev_err("float(nope)", NULL, "float() needs a number or string, not null");
}

static void test_fn_string(void **state)
{
	(void)state;
	assert_ev("string(42)", NULL, "\"42\"");
	assert_ev("string(-1.5)", NULL, "\"-1.5\"");
	assert_ev("string(3.0)", NULL, "\"3.0\"");
	assert_ev("string(true)", NULL, "\"true\"");
	assert_ev("string(null)", NULL, "\"null\"");
	assert_ev("string('s')", NULL, "\"s\"");
	assert_ev("'v' + string(2)", NULL, "\"v2\"");
	assert_ev_err("string([1])", NULL, "string() needs a scalar, not list");
	assert_ev_err("string(m)", "m: {a: 1}\n", "string() needs a scalar, not map");
}

static void test_fn_min_max_of_list(void **state)
{
	(void)state;
	assert_ev("min([3, 1, 2])", NULL, "1");
	assert_ev("max([3, 1, 2])", NULL, "3");
	assert_ev("max([1, 2.5, 2])", NULL, "2.5");
	assert_ev("min(['b', 'a', 'c'])", NULL, "\"a\"");
	assert_ev("max([7])", NULL, "7");
	assert_ev("max(l)", "l: [4, 9, 2]\n", "9");
}

static void test_fn_min_max_of_arguments(void **state)
{
	(void)state;
	assert_ev("min(3, 1, 2)", NULL, "1");
	assert_ev("max(3, 1, 2)", NULL, "3");
	assert_ev("max(1, 2.5)", NULL, "2.5");
	assert_ev("min(1, 2.5)", NULL, "1");
	assert_ev("max('a', 'b')", NULL, "\"b\"");
	assert_ev("min(a, b)", "a: 5\nb: -5\n", "-5");
}

static void test_fn_min_max_errors(void **state)
{
	(void)state;
	assert_ev_err("min([])", NULL, "min() of an empty list");
	assert_ev_err("max(1)", NULL, "max() of one argument needs a list, not int");
	assert_ev_err("max([1, 'a'])", NULL, "max() cannot order string with int");
	assert_ev_err("min([true])", NULL, "min() cannot order bool");
	assert_ev_err("max(1, 'a')", NULL, "max() cannot order string \"a\" with int 1");
	assert_ev_err("min(nope, 1)", NULL, "min() cannot order null");
}

/* ---- list macros ---- */

static void test_macro_any_all(void **state)
{
	(void)state;
	const char *doc = "l: [1, 2, 3]\n";
	assert_ev("any(l, x, x > 2)", doc, "true");
	assert_ev("any(l, x, x > 5)", doc, "false");
	assert_ev("all(l, x, x > 0)", doc, "true");
	assert_ev("all(l, x, x > 1)", doc, "false");
}

static void test_macro_count_sum(void **state)
{
	(void)state;
	const char *doc = "l: [1, 2, 3]\n";
	assert_ev("count(l, x, x >= 2)", doc, "2");
	assert_ev("count(l, x, false)", doc, "0");
	assert_ev("sum(l, x, x)", doc, "6");
	assert_ev("sum(l, x, x * 10)", doc, "60");
	assert_ev("sum(l, x, x * 1.5)", doc, "9.0");
	assert_ev("sum([1, 2.5], x, x)", NULL, "3.5");
	assert_ev("sum([2.5, 1], x, x)", NULL, "3.5");
}

static void test_macro_empty_list(void **state)
{
	(void)state;
	assert_ev("any([], x, true)", NULL, "false");
	assert_ev("all([], x, false)", NULL, "true");
	assert_ev("count([], x, true)", NULL, "0");
	assert_ev("sum([], x, x)", NULL, "0");
	assert_ev("all(l, x, x > 0)", "l: []\n", "true");
}

static void test_macro_over_objects(void **state)
{
	(void)state;
	const char *doc = "changes:\n  - {offset: 0xFFB2, length: 4}\n  - {offset: 0x100, length: 8}\n";
	assert_ev("count(changes, c, c.offset >= 0xFFB0)", doc, "1");
	assert_ev("sum(changes, c, c.length)", doc, "12");
	assert_ev("any(changes, c, c.offset + c.length > 0xFFFF)", doc, "false");
}

static void test_macro_over_map_keys(void **state)
{
	(void)state;
	const char *doc = "tests: {smoke: 1.0, palette: 0.5}\n";
	assert_ev("count(tests, k, true)", doc, "2");
	assert_ev("any(tests, k, k == 'palette')", doc, "true");
	assert_ev("all(tests, k, tests[k] >= 0.9)", doc, "false");
	assert_ev("sum(tests, k, tests[k])", doc, "1.5");
}

static void test_macro_nested(void **state)
{
	(void)state;
	const char *doc = "groups:\n  - {items: [1, 2]}\n  - {items: [3, -1]}\n";
	assert_ev("any(groups, g, all(g.items, i, i > 0))", doc, "true");
	assert_ev("all(groups, g, all(g.items, i, i > 0))", doc, "false");
	assert_ev("sum(groups, g, sum(g.items, i, i))", doc, "5");
	assert_ev("count(groups, g, any(g.items, i, i < 0))", doc, "1");
	/* the inner predicate reads the outer variable */
	assert_ev("count([1, 2, 3], x, any([2, 3], y, x == y))", NULL, "2");
}

static void test_macro_variable_scoping(void **state)
{
	(void)state;
	/* the inner x shadows the outer one */
	assert_ev("any([1], x, any([2], x, x == 2))", NULL, "true");
	/* a variable shadows a field of the same name inside, not after */
	assert_ev("any([1], x, x == 1) && x == 100", "x: 100\n", "true");
	/* the list is read before the variable exists */
	assert_ev("any(x, x, x == 3)", "x: [3]\n", "true");
}

static void test_macro_short_circuit(void **state)
{
	(void)state;
	assert_ev("any([1, 0], x, 10 / x > 1)", NULL, "true");
	assert_ev("all([0, 1], x, x > 0 && 10 / x > 1)", NULL, "false");
}

static void test_macro_errors(void **state)
{
	(void)state;
	assert_ev_err("any(5, x, true)", NULL, "any() needs a list or map, not int 5");
	assert_ev_err("all(nope, x, true)", NULL, "all() needs a list or map, not null");
	assert_ev_err("any([1], x, 1)", NULL, "any needs a bool, not int 1");
	assert_ev_err("count([1], x, 'y')", NULL, "count needs a bool, not string \"y\"");
	assert_ev_err("sum(['a'], x, x)", NULL, "sum() needs numbers, not string \"a\"");
	assert_ev_err("sum([9223372036854775807, 1], x, x)", NULL, "integer overflow in sum()");
}

static void test_macro_syntax_errors(void **state)
{
	(void)state;
	assert_string_equal(compile_error("any(l, 1, true)"), "expected a variable name, found \"1\"");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("any(l x, true)"),
	    "expected \",\" after the list, found \"x\"");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("any(l, x)"),
	    "expected \",\" after the variable, found \")\"");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("any(l, x, true"), "expected \")\", found end of expression");
}

static void test_macro_nesting_limit(void **state)
{
	(void)state;
	char src[1024] = "";
	for (int i = 0; i < 17; i++)
		snprintf(src + strlen(src), sizeof src - strlen(src), "any(l, v%d, ", i);
	strcat(src, "true");
	for (int i = 0; i < 17; i++)
		strcat(src, ")");
	assert_string_equal(compile_error(src), "list macros nested more than 16 deep");
}

/* ---- errors: arithmetic ---- */

static void test_arithmetic_on_null_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("nope + 1", NULL, "cannot apply + to null and int 1");
	assert_ev_err("2 * nope", NULL, "cannot apply * to int 2 and null");
	assert_ev_err("a.cost - 1", "a: {}\n", "cannot apply - to null and int 1");
	assert_int_equal(CTX.err.col, 8);
}

static void test_integer_overflow_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("9223372036854775807 + 1", NULL, "integer overflow in 9223372036854775807 + 1");
	assert_ev_err("-9223372036854775807 - 2", NULL,
	    "integer overflow in -9223372036854775807 - 2");
	assert_ev_err("4611686018427387904 * 2", NULL, "integer overflow in 4611686018427387904 * 2");
	assert_ev_err("(-9223372036854775807 - 1) / -1", NULL,
	    "integer overflow in -9223372036854775808 / -1");
	assert_ev_err("(-9223372036854775807 - 1) % -1", NULL,
	    "integer overflow in -9223372036854775808 % -1");
}

static void test_float_overflow_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("1e308 * 10.0", NULL, "arithmetic result is not a finite number");
}

static void test_division_by_zero_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("1 / 0", NULL, "division by zero");
	assert_int_equal(CTX.err.col, 3);
	assert_ev_err("1.5 / 0", NULL, "division by zero");
	assert_ev_err("1 / 0.0", NULL, "division by zero");
	assert_ev_err("a / b", "a: 1\nb: 0\n", "division by zero");
}

static void test_modulo_by_zero_is_an_error(void **state)
{
	(void)state;
	assert_ev_err("1 % 0", NULL, "modulo by zero");
	assert_ev_err("a % b", "a: 1\nb: 0\n", "modulo by zero");
}

/* ---- errors: conditions ---- */

static void test_eval_bool(void **state)
{
	(void)state;
	const expr *e = compile("a > 1");
	prepare("a: 2\n", NULL);
	bool hit = false;
	assert_true(expr_eval_bool(e, &CTX, &hit));
	assert_true(hit);
	prepare("a: 0\n", NULL);
	assert_true(expr_eval_bool(e, &CTX, &hit));
	assert_false(hit);
}

static void test_eval_bool_needs_a_bool(void **state)
{
	(void)state;
	const expr *e = compile("1 + 1");
	prepare(NULL, NULL);
	bool hit;
	assert_false(expr_eval_bool(e, &CTX, &hit));
	assert_string_equal(CTX.err.msg, "the condition is int 2, not a bool");
	e = compile("nope");
	assert_false(expr_eval_bool(e, &CTX, &hit));
	assert_string_equal(CTX.err.msg, "the condition is null, not a bool");
	e = compile("s");
	prepare("s: \"yes\"\n", NULL);
	assert_false(expr_eval_bool(e, &CTX, &hit));
	assert_string_equal(CTX.err.msg, "the condition is string \"yes\", not a bool");
}

static void test_eval_bool_reports_evaluation_errors(void **state)
{
	(void)state;
	const expr *e = compile("x > 1");
	prepare("x: big\n", NULL);
	bool hit;
	assert_false(expr_eval_bool(e, &CTX, &hit));
	assert_string_equal(CTX.err.msg, "cannot compare string \"big\" with int 1 using >");
}

/* ---- errors: compile time ---- */

static void test_bad_regex_is_a_compile_error(void **state)
{
	(void)state;
	const diag *d = compile_fail_at("matches(s, '(')", 15, NULL);
	assert_true(strncmp(d->msg, "bad regular expression: ", 24) == 0);
	assert_int_equal(d->line, 1);
	assert_int_equal(d->col, 1);
	diags_clear(&T.errs);
	assert_string_equal(compile_error("matches(s, 1)"), "matches() needs a string pattern");
}

static void test_constant_regex_is_compiled_once(void **state)
{
	(void)state;
	expr *e = compile("matches(s, '^a')");
	assert_int_equal(e->kind, X_CALL);
	assert_non_null(e->re);
	e = compile("matches(s, p)");
	assert_null(e->re);
}

static void test_unknown_function(void **state)
{
	(void)state;
	const diag *d = compile_fail_at("1 + frobnicate(1)", 17, NULL);
	assert_string_equal(d->msg, "unknown function frobnicate");
	assert_int_equal(d->col, 5);
}

static void test_wrong_arity(void **state)
{
	(void)state;
	assert_string_equal(compile_error("size()"), "size() takes 1 argument, not 0");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("size(1, 2)"), "size() takes 1 argument, not 2");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("glob('a')"), "glob() takes 2 arguments, not 1");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("has()"), "has() takes 1 to 2 arguments, not 0");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("has(a, 'b', 'c')"), "has() takes 1 to 2 arguments, not 3");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("min()"), "min() takes 1 to 64 arguments, not 0");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("lower('a', 'b')"), "lower() takes 1 argument, not 2");
}

static void test_too_many_arguments(void **state)
{
	(void)state;
	char src[512] = "max(0";
	for (int i = 1; i < 65; i++)
		strcat(src, ",1");
	strcat(src, ")");
	assert_string_equal(compile_error(src), "too many arguments");
}

static void test_syntax_unterminated_string(void **state)
{
	(void)state;
	const diag *d = compile_fail_at("a == 'x", 7, NULL);
	assert_string_equal(d->msg, "unterminated string");
	assert_int_equal(d->col, 6);
	diags_clear(&T.errs);
	assert_string_equal(compile_error("\"abc\\\""), "unterminated string");
}

static void test_syntax_bad_escapes(void **state)
{
	(void)state;
	assert_string_equal(compile_error("\"\\q\""), "unknown escape \\q");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("\"\\u12\""), "\\u needs four hex digits");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("\"\\ud800\""), "\\u escape of a surrogate half");
}

static void test_syntax_unexpected_token(void **state)
{
	(void)state;
	const diag *d = compile_fail_at("1 + * 2", 7, NULL);
	assert_string_equal(d->msg, "expected a value, found \"*\"");
	assert_int_equal(d->col, 5);
	diags_clear(&T.errs);
	assert_string_equal(compile_error("1 +"), "expected a value, found end of expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("(1"), "expected \")\", found end of expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("[1, 2"), "expected \",\" or \"]\", found end of expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("size(1 2)"), "expected \",\" or \")\", found \"2\"");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("a[1"), "expected \"]\", found end of expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("true ? 1"), "expected \":\" in ?:, found end of expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("a."), "expected a field name after \".\", found end of expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("a # b"), "unexpected character \"#\"");
	diags_clear(&T.errs);
	/* the whole character, so that the message stays valid UTF-8 */
	assert_string_equal(compile_error("a \xc3\xa9 1"), "unexpected character \"\xc3\xa9\"");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("\xe2\x82\xac"), "unexpected character \"\xe2\x82\xac\"");
}

static void test_syntax_single_equals(void **state)
{
	(void)state;
	const diag *d = compile_fail_at("a = 1", 5, NULL);
	assert_string_equal(d->msg, "unexpected \"=\" (did you mean ==, && or ||?)");
	assert_int_equal(d->line, 1);
	assert_int_equal(d->col, 3);
	diags_clear(&T.errs);
	assert_string_equal(compile_error("a & b"), "unexpected \"&\" (did you mean ==, && or ||?)");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("a | b"), "unexpected \"|\" (did you mean ==, && or ||?)");
}

static void test_syntax_trailing_garbage(void **state)
{
	(void)state;
	const diag *d = compile_fail_at("1 2", 3, NULL);
	assert_string_equal(d->msg, "unexpected \"2\" after the expression");
	assert_int_equal(d->col, 3);
	diags_clear(&T.errs);
	assert_string_equal(compile_error("(1))"), "unexpected \")\" after the expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("a b"), "unexpected \"b\" after the expression");
}

static void test_syntax_empty_expression(void **state)
{
	(void)state;
	assert_string_equal(compile_error(""), "empty expression");
	diags_clear(&T.errs);
	assert_string_equal(compile_error("   \n\t"), "empty expression");
}

static void test_expression_nul_byte(void **state)
{
	(void)state;
	assert_string_equal(compile_fail_at("1\0", 2, NULL)->msg, "expression contains a NUL byte");
}

static void test_expression_longer_than_4096_bytes(void **state)
{
	(void)state;
	char *src = malloc(EXPR_MAX_BYTES + 2);
	assert_non_null(src);
	/* "1+1+...+1" of exactly 4095 bytes, then with one more space */
	size_t n = 0;
	src[n++] = '1';
	while (n + 2 <= EXPR_MAX_BYTES - 1) {
		src[n++] = '+';
		src[n++] = '1';
	}
	assert_int_equal(n, EXPR_MAX_BYTES - 1);
	src[n++] = ' ';
	src[n] = '\0';
	expr *e = compile_at(src, n, NULL);
	assert_non_null(e);
	src[n++] = ' ';
	src[n] = '\0';
	const diag *d = compile_fail_at(src, n, NULL);
	assert_string_equal(d->msg, "expression longer than 4096 bytes");
	free(src);
}

static void test_nesting_64_parentheses_compiles(void **state)
{
	(void)state;
	assert_string_equal(ev(nest(64, "(", "1", ")"), NULL), "1");
}

static void test_nesting_65_parentheses_is_a_compile_error(void **state)
{
	(void)state;
	const char *src = nest(65, "(", "1", ")");
	const diag *d = compile_fail_at(src, strlen(src), NULL);
	assert_string_equal(d->msg, "expression nested deeper than 64 levels");
	/* at the first token inside the 65th level */
	assert_int_equal(d->col, 66);
}

static void test_nesting_limit_other_constructs(void **state)
{
	(void)state;
	assert_string_equal(ev(nest(64, "!", "true", ""), NULL), "true");
	assert_string_equal(compile_error(nest(65, "!", "true", "")),
	    "expression nested deeper than 64 levels");
	diags_clear(&T.errs);
	assert_string_equal(compile_error(nest(65, "[", "1", "]")),
	    "expression nested deeper than 64 levels");
	diags_clear(&T.errs);
	assert_string_equal(compile_error(nest(65, "size(", "'a'", ")")),
	    "expression nested deeper than 64 levels");
	diags_clear(&T.errs);
	assert_string_equal(compile_error(nest(65, "a[", "0", "]")),
	    "expression nested deeper than 64 levels");
	diags_clear(&T.errs);
	assert_string_equal(compile_error(nest(65, "true ? ", "1", " : 0")),
	    "expression nested deeper than 64 levels");
	diags_clear(&T.errs);
	assert_string_equal(compile_error(nest(40, "(", nest(25, "[", "1", "]"), ")")),
	    "expression nested deeper than 64 levels");
}

/* ---- the evaluation bound ---- */

static void test_step_bound_nested_macros(void **state)
{
	(void)state;
	const expr *e = compile("count(l, x, count(l, y, x == y) > 0) > 0");
	memset(&CTX, 0, sizeof CTX);
	CTX.doc = big_list_doc(2000);
	CTX.scratch = S;
	double t0 = now_seconds();
	bool hit;
	assert_false(expr_eval_bool(e, &CTX, &hit));
	assert_string_equal(CTX.err.msg, "evaluation exceeds 1000000 steps");
	assert_true(now_seconds() - t0 < 20.0);
}

static void test_step_bound_resets_per_evaluation(void **state)
{
	(void)state;
	const expr *e = compile("count(l, x, x >= 0)");
	memset(&CTX, 0, sizeof CTX);
	CTX.doc = big_list_doc(100000);
	CTX.scratch = S;
	for (int i = 0; i < 30; i++) {
		value v;
		assert_true(expr_eval(e, &CTX, &v));
		assert_int_equal(v.u.i, 100000);
	}
}

/* Work hidden inside one step (scanning a list for `in`, copying lists,
 * walking strings) counts too: a quadratic predicate over a big list stops
 * with an error instead of running for minutes. */
static void test_step_bound_counts_list_scans(void **state)
{
	(void)state;
	const char *sources[] = {
		"count(l, x, x in l) > 0",
		"count(l, x, contains(l, -1)) > 0",
		"count(l, x, size(l + l) > 0) > 0",
		"count(l, x, l == l) > 0",
	};
	memset(&CTX, 0, sizeof CTX);
	CTX.doc = big_list_doc(100000);
	CTX.scratch = S;
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		const expr *e = compile(sources[i]);
		double t0 = now_seconds();
		bool hit;
		if (expr_eval_bool(e, &CTX, &hit))
			fail_msg("%s evaluated without hitting the bound", sources[i]);
		assert_string_equal(CTX.err.msg, "evaluation exceeds 1000000 steps");
		double dt = now_seconds() - t0;
		if (dt > 20.0)
			fail_msg("%s took %.1f s", sources[i], dt);
		arena_reset(S);
	}
}

static void test_step_bound_counts_string_work(void **state)
{
	(void)state;
	/* a 512 KiB string and a 40000-item list: within the document limit */
	size_t slen = 512 * 1024, n = 40000;
	char *buf = malloc(slen + n * 3 + 64);
	assert_non_null(buf);
	size_t off = (size_t)sprintf(buf, "s: ");
	memset(buf + off, 'a', slen);
	off += slen;
	off += (size_t)sprintf(buf + off, "\nl: [");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "%s0", i ? "," : "");
	sprintf(buf + off, "]\n");
	memset(&CTX, 0, sizeof CTX);
	CTX.doc = parse(buf);
	CTX.scratch = S;
	free(buf);
	const char *sources[] = {
		"count(l, x, contains(s, 'b')) > 0",
		"count(l, x, size(s + s) > 0) > 0",
		"count(l, x, lower(s) == s) > 0",
	};
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		const expr *e = compile(sources[i]);
		double t0 = now_seconds();
		bool hit;
		if (expr_eval_bool(e, &CTX, &hit))
			fail_msg("%s evaluated without hitting the bound", sources[i]);
		assert_string_equal(CTX.err.msg, "evaluation exceeds 1000000 steps");
		double dt = now_seconds() - t0;
		if (dt > 20.0)
			fail_msg("%s took %.1f s", sources[i], dt);
		arena_reset(S);
	}
}

/* ---- positions ---- */

static void test_position_plain_scalar(void **state)
{
	(void)state;
	node at = scalar_at(10, 5, STYLE_PLAIN);
	const diag *d = compile_fail_at("a +", 3, &at);
	assert_string_equal(d->msg, "expected a value, found end of expression");
	assert_int_equal(d->line, 10);
	assert_int_equal(d->col, 8);
	diags_clear(&T.errs);
	d = compile_fail_at("a = 1", 5, &at);
	assert_int_equal(d->line, 10);
	assert_int_equal(d->col, 7);
}

static void test_position_quoted_scalar(void **state)
{
	(void)state;
	node at = scalar_at(10, 5, STYLE_QUOTED);
	const diag *d = compile_fail_at("a = 1", 5, &at);
	assert_int_equal(d->line, 10);
	assert_int_equal(d->col, 8);
}

static void test_position_evaluation_error_in_plain_scalar(void **state)
{
	(void)state;
	node at = scalar_at(10, 5, STYLE_PLAIN);
	const char *src = "\"lots\" > 1024";
	const expr *e = compile_at(src, strlen(src), &at);
	prepare(NULL, NULL);
	value v;
	assert_false(expr_eval(e, &CTX, &v));
	assert_string_equal(CTX.err.msg, "cannot compare string \"lots\" with int 1024 using >");
	assert_string_equal(CTX.err.file, "p.yaml");
	assert_int_equal(CTX.err.line, 10);
	assert_int_equal(CTX.err.col, 12);
}

static void test_position_second_line_without_scalar(void **state)
{
	(void)state;
	const diag *d = compile_fail_at("a &&\n  b = 1", 12, NULL);
	assert_int_equal(d->line, 2);
	assert_int_equal(d->col, 5);
}

/* Positions through the document reader: the column is the file's. */
static void test_position_from_document(void **state)
{
	(void)state;
	const node *root = parse("policy:\n  when: a = 1\n  cond: 'a = 1'\n");
	const node *when = node_get(node_get(root, "policy"), "when");
	const diag *d = compile_fail_at(when->u.str.s, when->u.str.len, when);
	assert_int_equal(d->line, 2);
	assert_int_equal(d->col, 11);
	diags_clear(&T.errs);
	const node *cond = node_get(node_get(root, "policy"), "cond");
	d = compile_fail_at(cond->u.str.s, cond->u.str.len, cond);
	assert_int_equal(d->line, 3);
	assert_int_equal(d->col, 12);
}

static void test_position_from_block_scalar(void **state)
{
	(void)state;
	const node *root = parse("policy:\n  when: |\n    a > 1 &&\n      b = 1\n");
	const node *when = node_get(node_get(root, "policy"), "when");
	assert_int_equal(when->style, STYLE_BLOCK);
	const diag *d = compile_fail_at(when->u.str.s, when->u.str.len, when);
	/* "      b = 1": the = is on line 4, column 9 */
	assert_int_equal(d->line, 4);
	assert_int_equal(d->col, 9);
}

/* ---- fields read, for details ---- */

static void test_describe_fields(void **state)
{
	(void)state;
	const expr *e = compile("bytes_changed > 100 && tests.smoke < 0.9 || vendor in ['x']");
	prepare("bytes_changed: 150\ntests: {smoke: 0.5}\nvendor: acme\n", NULL);
	assert_string_equal(expr_describe_fields(e, &CTX),
	    "bytes_changed = 150, tests.smoke = 0.5, vendor = \"acme\"");
}

static void test_describe_fields_paths(void **state)
{
	(void)state;
	const expr *e = compile("changes[0].offset >= 0xFFB0 && tests[\"smoke test\"] < 1 "
	    "&& tests['palette'] > 0 && size(files) > 0 && missing == null");
	prepare("changes: [{offset: 65458}]\ntests: {smoke test: 0.5, palette: 1}\nfiles: [a]\n", NULL);
	assert_string_equal(expr_describe_fields(e, &CTX),
	    "changes[0].offset = 65458, tests[\"smoke test\"] = 0.5, tests.palette = 1, "
	    "files = [\"a\"], missing = null");
}

static void test_describe_fields_once_each_and_not_variables(void **state)
{
	(void)state;
	const expr *e = compile("a > 1 && a < 5 && any(l, x, x.v > a)");
	prepare("a: 3\nl: [{v: 1}]\n", NULL);
	assert_string_equal(expr_describe_fields(e, &CTX), "a = 3, l = [{v: 1}]");
}

static void test_describe_fields_none(void **state)
{
	(void)state;
	const expr *e = compile("1 < 2");
	prepare(NULL, NULL);
	assert_string_equal(expr_describe_fields(e, &CTX), "");
}

static void test_describe_fields_dynamic_index(void **state)
{
	(void)state;
	const expr *e = compile("l[i] > 0");
	prepare("l: [5]\ni: 0\n", NULL);
	assert_string_equal(expr_describe_fields(e, &CTX), "l = [5], i = 0");
}

/* after an evaluation that used up its budget, the fields are still shown */
static void test_describe_fields_after_the_bound(void **state)
{
	(void)state;
	const expr *e = compile("count(l, x, count(l, y, x == y) > 0) > 0 || size(l) > 0");
	memset(&CTX, 0, sizeof CTX);
	CTX.doc = big_list_doc(2000);
	CTX.scratch = S;
	value v;
	assert_false(expr_eval(e, &CTX, &v));
	assert_string_equal(expr_describe_fields(e, &CTX), "l = [0, 1, 2, 3, 4, 5, 6, 7, ...]");
}

static void test_first_field(void **state)
{
	(void)state;
	assert_string_equal(expr_first_field(compile("bytes_changed > 1024")), "bytes_changed");
	assert_string_equal(expr_first_field(compile("size(files) > 0 && a")), "files");
	assert_string_equal(expr_first_field(compile("changes[0].offset")), "changes[0].offset");
	assert_string_equal(expr_first_field(compile("tests.smoke < 0.9")), "tests.smoke");
	assert_string_equal(expr_first_field(compile("1 < 2 || x")), "x");
	assert_null(expr_first_field(compile("1 < 2")));
	assert_null(expr_first_field(compile("any([1], x, x > 0)")));
}

static void test_is_path_and_source(void **state)
{
	(void)state;
	assert_true(expr_is_path(compile("changes")));
	assert_true(expr_is_path(compile("tests.smoke")));
	assert_true(expr_is_path(compile("changes[0].offset")));
	assert_false(expr_is_path(compile("a + 1")));
	assert_false(expr_is_path(compile("1")));
	assert_string_equal(expr_source(compile("a  >  1")), "a  >  1");
}

/* format_int and format_g write what printf's %lld and %g write, which the
 * details wrote before them: every integer at the edges, whole numbers on
 * both sides of a million, -0, fractions, huge and tiny values, NaN. */
static void test_number_formats_match_printf(void **state)
{
	(void)state;
	static const int64_t ints[] = { 0, 1, -1, 9, 10, -10, 13888, 999999, 1000000, -1000000,
		INT64_MAX, INT64_MIN, INT64_MIN + 1, 9007199254740993LL };
	char mine[32], theirs[32];
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		int n = format_int(ints[i], mine);
		snprintf(theirs, sizeof theirs, "%lld", (long long)ints[i]);
		assert_string_equal(mine, theirs);
		assert_int_equal(n, (int)strlen(theirs));
	}
	static const double reals[] = { 0.0, -0.0, 1.0, -1.0, 5.0, 13888.0, 999999.0, -999999.0,
		1e6, -1e6, 1e6 - 0.5, 123456.5, 0.38, 2.75, 1e-5, 1e21, 9.2e18, -9.3e18, 1e300,
		4.9e-324, 1.0 / 3, 0.1 + 0.2, NAN, INFINITY, -INFINITY };
	for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
		snprintf(theirs, sizeof theirs, "%g", reals[i]);
		assert_string_equal(format_g(reals[i], mine), theirs);
	}
	for (int64_t v = -2000000; v <= 2000000; v += 997) {
		snprintf(theirs, sizeof theirs, "%g", (double)v);
		assert_string_equal(format_g((double)v, mine), theirs);
	}
	/* short decimals m / 10^k on both sides of six digits and of the
	 * fixed notation's range, and doubles of every magnitude and bit
	 * pattern near them */
	static const double tens[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11 };
	for (int k = 0; k < 12; k++)
		for (int64_t m = -1234567; m <= 1234567; m += 7919) {
			double d = (double)m / tens[k];
			uint64_t bits;
			memcpy(&bits, &d, sizeof bits);
			for (int step = -1; step <= 1; step++) {
				uint64_t b = bits + (uint64_t)step;
				double near;
				memcpy(&near, &b, sizeof near);
				snprintf(theirs, sizeof theirs, "%g", near);
				if (strcmp(format_g(near, mine), theirs) != 0)
					fail_msg("%.17g: %s, printf %s", near, mine, theirs);
			}
		}
	static const double edges[] = { 1e-4, 9.99999e-5, 0.000123456, 0.0001234567, 999999.4,
		999999.5, 999999.6, 123456.7, 12345.67, 0.98, 0.99, 0.5, 0.1 + 0.2, 1.0 / 3, -0.75 };
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		snprintf(theirs, sizeof theirs, "%g", edges[i]);
		assert_string_equal(format_g(edges[i], mine), theirs);
	}
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_literal_int),
		T_(test_number_formats_match_printf),
		T_(test_literal_int_too_large),
		T_(test_literal_hex_too_large),
		T_(test_literal_malformed_number),
		T_(test_literal_float),
		T_(test_literal_strings_both_quotes),
		T_(test_literal_string_escapes),
		T_(test_literal_bool_null),
		T_(test_literal_list),
		T_(test_literal_list_constant_is_built_once),
		T_(test_not),
		T_(test_not_needs_bool),
		T_(test_negate),
		T_(test_negate_errors),
		T_(test_multiply_divide_modulo_ints),
		T_(test_multiply_divide_floats),
		T_(test_modulo_needs_ints),
		T_(test_add_subtract_numbers),
		T_(test_add_concatenates_strings),
		T_(test_add_concatenates_lists),
		T_(test_add_type_errors),
		T_(test_compare_ints),
		T_(test_compare_floats_and_mixed),
		T_(test_compare_strings),
		T_(test_compare_string_with_int_is_an_error),
		T_(test_compare_field_type_mismatch_is_an_error),
		T_(test_compare_other_types_are_errors),
		T_(test_equal_scalars),
		T_(test_equal_null),
		T_(test_equal_lists_deep),
		T_(test_equal_maps_deep),
		T_(test_equal_incompatible_types_is_an_error),
		T_(test_in_list),
		T_(test_in_map),
		T_(test_in_needs_list_or_map),
		T_(test_and_or),
		T_(test_and_or_short_circuit),
		T_(test_and_or_need_bools),
		T_(test_conditional),
		T_(test_conditional_evaluates_one_branch),
		T_(test_conditional_nesting),
		T_(test_conditional_needs_bool),
		T_(test_precedence_arithmetic),
		T_(test_precedence_not_binds_tighter_than_and),
		T_(test_precedence_equality_binds_tighter_than_in),
		T_(test_precedence_relational_binds_tighter_than_equality),
		T_(test_precedence_logical),
		T_(test_field_top_level),
		T_(test_field_member),
		T_(test_field_index),
		T_(test_field_index_by_string),
		T_(test_field_change_offset),
		T_(test_field_missing_reads_null),
		T_(test_field_member_of_null_is_null),
		T_(test_field_index_out_of_range_is_null),
		T_(test_field_member_of_scalar_is_an_error),
		T_(test_field_index_of_wrong_type_is_an_error),
		T_(test_field_kind_derived),
		T_(test_field_kind_is_the_selected_kind),
		T_(test_field_kind_without_derived_kind_is_null),
		T_(test_fn_size),
		T_(test_fn_size_counts_code_points),
		T_(test_fn_size_errors),
		T_(test_fn_has_one_argument),
		T_(test_fn_has_map_key),
		T_(test_fn_glob),
		T_(test_fn_matches),
		T_(test_fn_matches_errors),
		T_(test_fn_starts_ends_with),
		T_(test_fn_contains),
		T_(test_fn_lower_upper),
		T_(test_fn_int),
		T_(test_fn_int_errors),
		T_(test_fn_float),
		T_(test_fn_string),
		T_(test_fn_min_max_of_list),
		T_(test_fn_min_max_of_arguments),
		T_(test_fn_min_max_errors),
		T_(test_macro_any_all),
		T_(test_macro_count_sum),
		T_(test_macro_empty_list),
		T_(test_macro_over_objects),
		T_(test_macro_over_map_keys),
		T_(test_macro_nested),
		T_(test_macro_variable_scoping),
		T_(test_macro_short_circuit),
		T_(test_macro_errors),
		T_(test_macro_syntax_errors),
		T_(test_macro_nesting_limit),
		T_(test_arithmetic_on_null_is_an_error),
		T_(test_integer_overflow_is_an_error),
		T_(test_float_overflow_is_an_error),
		T_(test_division_by_zero_is_an_error),
		T_(test_modulo_by_zero_is_an_error),
		T_(test_eval_bool),
		T_(test_eval_bool_needs_a_bool),
		T_(test_eval_bool_reports_evaluation_errors),
		T_(test_bad_regex_is_a_compile_error),
		T_(test_constant_regex_is_compiled_once),
		T_(test_unknown_function),
		T_(test_wrong_arity),
		T_(test_too_many_arguments),
		T_(test_syntax_unterminated_string),
		T_(test_syntax_bad_escapes),
		T_(test_syntax_unexpected_token),
		T_(test_syntax_single_equals),
		T_(test_syntax_trailing_garbage),
		T_(test_syntax_empty_expression),
		T_(test_expression_nul_byte),
		T_(test_expression_longer_than_4096_bytes),
		T_(test_nesting_64_parentheses_compiles),
		T_(test_nesting_65_parentheses_is_a_compile_error),
		T_(test_nesting_limit_other_constructs),
		T_(test_step_bound_nested_macros),
		T_(test_step_bound_resets_per_evaluation),
		T_(test_step_bound_counts_list_scans),
		T_(test_step_bound_counts_string_work),
		T_(test_position_plain_scalar),
		T_(test_position_quoted_scalar),
		T_(test_position_evaluation_error_in_plain_scalar),
		T_(test_position_second_line_without_scalar),
		T_(test_position_from_document),
		T_(test_position_from_block_scalar),
		T_(test_describe_fields),
		T_(test_describe_fields_paths),
		T_(test_describe_fields_once_each_and_not_variables),
		T_(test_describe_fields_none),
		T_(test_describe_fields_dynamic_index),
		T_(test_describe_fields_after_the_bound),
		T_(test_first_field),
		T_(test_is_path_and_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
