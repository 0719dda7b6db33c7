/*
 * test_doc.c: the document reader (doc.c, docio.c) and the reserved keys of
 * a submission (submission.c): typing of scalars, positions, multi-document
 * streams and JSON Lines, and every refusal of hostile input.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "support.h"

/* ---- helpers ---- */

/* Reading text must fail with exactly one error; returns it. */
static const diag *refuse_n(const char *text, size_t len)
{
	bool empty = true;
	diags_clear(&T.errs);
	node *n = doc_parse(T.a, "sub.yaml", text, len, 1, &empty, &T.errs);
	if (n != NULL)
		fail_msg("document parses but should not: %.200s", text);
	assert_false(empty);
	assert_int_equal(T.errs.n, 1);
	assert_string_equal(T.errs.items[0].file, "sub.yaml");
	return &T.errs.items[0];
}

static const diag *refuse(const char *text)
{
	return refuse_n(text, strlen(text));
}

#define assert_refused(text, line_, col_, msg_) do { \
		const diag *d_ = refuse(text); \
		assert_string_equal(d_->msg, msg_); \
		assert_int_equal(d_->line, line_); \
		assert_int_equal(d_->col, col_); \
	} while (0)

static const node *at(const node *m, const char *key)
{
	const node *n = node_get(m, key);
	if (n == NULL)
		fail_msg("no key %s", key);
	return n;
}

static void assert_str_node(const node *n, const char *s)
{
	assert_int_equal(n->type, NODE_STRING);
	assert_int_equal(n->u.str.len, strlen(s));
	assert_memory_equal(n->u.str.s, s, strlen(s));
}

static int64_t int_of(const char *yaml_value)
{
	const node *n = at(parse(arena_printf(T.a, "v: %s\n", yaml_value)), "v");
	if (n->type != NODE_INT)
		fail_msg("%s is a %s, not an int", yaml_value, node_type_name(n->type));
	return n->u.i;
}

/* Documents as doc_split_yaml and doc_split_lines hand them out. */
struct chunks {
	const char *text[16];
	size_t len[16];
	int line[16];
	int n;
};

static void collect(void *ctx, const char *text, size_t len, int line)
{
	struct chunks *c = ctx;
	assert_true(c->n < 16);
	c->text[c->n] = text;
	c->len[c->n] = len;
	c->line[c->n] = line;
	c->n++;
}

static bool sub_of(const char *yaml, submission *s)
{
	return submission_from_doc(parse(yaml), "sub.yaml", s, &T.errs);
}

/* The submission must be refused with one error; returns it. */
static const diag *sub_refused(const char *yaml)
{
	submission s;
	if (sub_of(yaml, &s))
		fail_msg("submission accepted but should not be: %s", yaml);
	assert_int_equal(T.errs.n, 1);
	return &T.errs.items[0];
}

/* ---- scalar typing ---- */

static void test_scalar_null_forms(void **state)
{
	(void)state;
	const node *r = parse("a: null\nb: ~\nc:\nd: Null\ne: NULL\n");
	const char *keys[] = { "a", "b", "c", "d", "e" };
	for (int i = 0; i < 5; i++)
		assert_int_equal(at(r, keys[i])->type, NODE_NULL);
}

static void test_scalar_bool_forms(void **state)
{
	(void)state;
	const node *r = parse("a: true\nb: false\nc: True\nd: False\ne: TRUE\nf: FALSE\n");
	assert_true(at(r, "a")->u.b);
	assert_false(at(r, "b")->u.b);
	assert_true(at(r, "c")->u.b);
	assert_false(at(r, "d")->u.b);
	assert_true(at(r, "e")->u.b);
	assert_false(at(r, "f")->u.b);
	const char *keys[] = { "a", "b", "c", "d", "e", "f" };
	for (int i = 0; i < 6; i++)
		assert_int_equal(at(r, keys[i])->type, NODE_BOOL);
}

/* YAML 1.1's yes/no/on/off are not bools here: "NO" stays a country code */
static void test_scalar_yes_no_are_strings(void **state)
{
	(void)state;
	const node *r = parse("a: yes\nb: no\nc: on\nd: off\ne: tRUE\nf: NO\n");
	assert_str_node(at(r, "a"), "yes");
	assert_str_node(at(r, "b"), "no");
	assert_str_node(at(r, "c"), "on");
	assert_str_node(at(r, "d"), "off");
	assert_str_node(at(r, "e"), "tRUE");
	assert_str_node(at(r, "f"), "NO");
}

static void test_scalar_int_decimal(void **state)
{
	(void)state;
	assert_int_equal(int_of("42"), 42);
	assert_int_equal(int_of("0"), 0);
	assert_int_equal(int_of("-17"), -17);
	assert_int_equal(int_of("+5"), 5);
	assert_int_equal(int_of("1_000_000"), 1000000);
	assert_int_equal(int_of("9007199254740991"), DOC_MAX_INT);
	assert_int_equal(int_of("-9007199254740991"), -DOC_MAX_INT);
}

static void test_scalar_int_bases(void **state)
{
	(void)state;
	assert_int_equal(int_of("0x1F"), 31);
	assert_int_equal(int_of("0XfF"), 255);
	assert_int_equal(int_of("0xFF_FF"), 65535);
	assert_int_equal(int_of("-0x10"), -16);
	assert_int_equal(int_of("0o17"), 15);
	assert_int_equal(int_of("017"), 15);
	assert_int_equal(int_of("-017"), -15);
	assert_int_equal(int_of("0b101"), 5);
	assert_int_equal(int_of("0b1111_0000"), 240);
	assert_int_equal(int_of("0x1FFFFFFFFFFFFF"), DOC_MAX_INT);
}

#define BEYOND " is beyond +-9007199254740991 (2^53 - 1), the integers JSON holds exactly " \
	"(I-JSON): quote it to keep it as text"

/* Integers are kept within I-JSON's exact range, in every form and through
 * a tag; 64 bits only for documents stored before (DOC_INT64). */
static void test_scalar_int_beyond_2_53_is_an_error(void **state)
{
	(void)state;
	assert_refused("a: 9007199254740992\n", 1, 4, "integer 9007199254740992" BEYOND);
	assert_refused("a: -9007199254740992\n", 1, 4, "integer -9007199254740992" BEYOND);
	assert_refused("x: 1\nlist: [1, 0x20000000000000]\n", 2, 11,
	    "integer 0x20000000000000" BEYOND);
	assert_refused("{\"a\": {\"b\": [9223372036854775807]}}", 1, 14,
	    "integer 9223372036854775807" BEYOND);
	assert_refused("a: !!int 9_007_199_254_740_993\n", 1, 4,
	    "integer 9_007_199_254_740_993" BEYOND);
	assert_refused("a: 9223372036854775808\n", 1, 4, "integer 9223372036854775808" BEYOND);
	assert_refused("a: 99_999_999_999_999_999_999\n", 1, 4,
	    "integer 99_999_999_999_999_999_999" BEYOND);
	/* a float is a double already, and so is a float-tagged integer */
	diags_clear(&T.errs);
	const node *r = parse("a: 9007199254740993.0\nb: !!float 9007199254740993\n");
	assert_int_equal(at(r, "a")->type, NODE_FLOAT);
	assert_int_equal(at(r, "b")->type, NODE_FLOAT);
	/* a stored document keeps its 64-bit integers, and only those */
	const char *old = "a: [9223372036854775807, -9223372036854775808]\n";
	bool empty;
	diags_clear(&T.errs);
	node *n = doc_parse_flags(T.a, "sub.yaml", old, strlen(old), 1, DOC_INT64, &empty, &T.errs);
	assert_non_null(n);
	assert_int_equal(at(n, "a")->u.list.items[0]->u.i, INT64_MAX);
	assert_int_equal(at(n, "a")->u.list.items[1]->u.i, INT64_MIN);
	const char *over = "a: 9223372036854775808\n";
	assert_null(doc_parse_flags(T.a, "sub.yaml", over, strlen(over), 1, DOC_INT64, &empty,
	    &T.errs));
	assert_string_equal(T.errs.items[0].msg,
	    "integer 9223372036854775808 does not fit in 64 bits");
}

static void test_scalar_not_numbers_are_strings(void **state)
{
	(void)state;
	const char *strings[] = { "08", "09", "0x", "0xG1", "12abc", "1.2.3", "0b2", "_1", "--1",
		"1e", "e5", ".", "+", "0o8", "1 2", "0x1F.5" };
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		const node *n = at(parse(arena_printf(T.a, "v: %s\n", strings[i])), "v");
		if (n->type != NODE_STRING)
			fail_msg("%s read as %s, not a string", strings[i], node_type_name(n->type));
		assert_str_node(n, strings[i]);
	}
}

static void test_scalar_floats(void **state)
{
	(void)state;
	const node *r = parse("a: 1.5\nb: -0.5\nc: 1e3\nd: .5\ne: 6.02e23\nf: 1.0\ng: 1.\nh: +2.5E-1\n");
	const char *keys[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
	const double want[] = { 1.5, -0.5, 1000.0, 0.5, 6.02e23, 1.0, 1.0, 0.25 };
	for (int i = 0; i < 8; i++) {
		const node *n = at(r, keys[i]);
		assert_int_equal(n->type, NODE_FLOAT);
		assert_true(n->u.d == want[i]);
	}
}

static void test_scalar_quoted_are_strings(void **state)
{
	(void)state;
	const node *r = parse("a: \"0x10\"\nb: '42'\nc: \"true\"\nd: 'null'\ne: ''\nf: \"1.5\"\ng: \"~\"\n");
	assert_str_node(at(r, "a"), "0x10");
	assert_str_node(at(r, "b"), "42");
	assert_str_node(at(r, "c"), "true");
	assert_str_node(at(r, "d"), "null");
	assert_str_node(at(r, "e"), "");
	assert_str_node(at(r, "f"), "1.5");
	assert_str_node(at(r, "g"), "~");
	assert_int_equal(at(r, "a")->style, STYLE_QUOTED);
}

static void test_scalar_plain_strings(void **state)
{
	(void)state;
	const node *r = parse("a: hello world\nb: rom.patch\n");
	assert_str_node(at(r, "a"), "hello world");
	assert_str_node(at(r, "b"), "rom.patch");
	assert_int_equal(at(r, "a")->style, STYLE_PLAIN);
}

static void test_scalar_str_tag(void **state)
{
	(void)state;
	const node *r = parse("a: !!str 123\nb: !!str true\nc: !!str\nd: !!str 0x10\ne: !!str ~\n");
	assert_str_node(at(r, "a"), "123");
	assert_str_node(at(r, "b"), "true");
	assert_str_node(at(r, "c"), "");
	assert_str_node(at(r, "d"), "0x10");
	assert_str_node(at(r, "e"), "~");
}

static void test_scalar_typed_tags(void **state)
{
	(void)state;
	const node *r = parse("a: !!int \"12\"\nb: !!float 1\nc: !!bool true\nd: !!null ~\ne: !!float '2.5'\n");
	assert_int_equal(at(r, "a")->type, NODE_INT);
	assert_int_equal(at(r, "a")->u.i, 12);
	assert_int_equal(at(r, "b")->type, NODE_FLOAT);
	assert_true(at(r, "b")->u.d == 1.0);
	assert_int_equal(at(r, "c")->type, NODE_BOOL);
	assert_int_equal(at(r, "d")->type, NODE_NULL);
	assert_true(at(r, "e")->u.d == 2.5);
}

static void test_scalar_tag_mismatch_and_unknown_tags(void **state)
{
	(void)state;
	assert_refused("a: !!int abc\n", 1, 4, "value does not match its tag !!int");
	assert_refused("a: !!bool 1\n", 1, 4, "value does not match its tag !!bool");
	assert_refused("a: !foo x\n", 1, 4, "unsupported tag !foo");
	assert_refused("a: !!binary aGk=\n", 1, 4, "unsupported tag tag:yaml.org,2002:binary");
}

static void test_scalar_block_styles(void **state)
{
	(void)state;
	const node *r = parse("lit: |\n  one\n  two\nfold: >\n  one\n  two\n");
	assert_str_node(at(r, "lit"), "one\ntwo\n");
	assert_str_node(at(r, "fold"), "one two\n");
	assert_int_equal(at(r, "lit")->style, STYLE_BLOCK);
	assert_int_equal(at(r, "fold")->style, STYLE_BLOCK);
}

/* ---- containers and keys ---- */

static void test_lists_and_maps(void **state)
{
	(void)state;
	const node *r = parse("l: [1, two, 3.0]\nb:\n  - x\n  - {k: v}\nm: {a: 1, b: [2]}\n");
	const node *l = at(r, "l");
	assert_int_equal(l->type, NODE_LIST);
	assert_int_equal(l->u.list.n, 3);
	assert_int_equal(l->u.list.items[0]->u.i, 1);
	assert_str_node(l->u.list.items[1], "two");
	const node *b = at(r, "b");
	assert_int_equal(b->u.list.n, 2);
	assert_str_node(at(b->u.list.items[1], "k"), "v");
	const node *m = at(r, "m");
	assert_int_equal(m->type, NODE_MAP);
	assert_int_equal(m->u.map.n, 2);
	assert_int_equal(at(m, "b")->u.list.items[0]->u.i, 2);
	assert_int_equal(r->u.map.n, 3);
	/* keys in document order */
	assert_str_node(r->u.map.keys[0], "l");
	assert_str_node(r->u.map.keys[2], "m");
	assert_null(node_get(r, "missing"));
	assert_null(node_get(l, "l"));
	assert_null(node_get(NULL, "l"));
}

static void test_scalar_keys_name_fields(void **state)
{
	(void)state;
	const node *r = parse("1: a\ntrue: b\n~: c\n1.5: d\n0x10: e\n");
	assert_str_node(at(r, "1"), "a");
	assert_str_node(at(r, "true"), "b");
	assert_str_node(at(r, "null"), "c");
	assert_str_node(at(r, "1.5"), "d");
	assert_str_node(at(r, "16"), "e");
	for (size_t i = 0; i < r->u.map.n; i++)
		assert_int_equal(r->u.map.keys[i]->type, NODE_STRING);
}

static void test_node_helpers(void **state)
{
	(void)state;
	const node *r = parse("a: x\nb: 1\n");
	assert_true(node_str_eq(at(r, "a"), "x"));
	assert_false(node_str_eq(at(r, "a"), "xy"));
	assert_false(node_str_eq(at(r, "b"), "1"));
	assert_false(node_str_eq(NULL, "x"));
	assert_string_equal(node_type_name(NODE_NULL), "null");
	assert_string_equal(node_type_name(NODE_MAP), "map");
	assert_string_equal(node_type_name(99), "?");
}

/* ---- positions ---- */

static void test_positions_are_one_based(void **state)
{
	(void)state;
	const node *r = parse("a: 1\nb:\n  c: x\n  d: [1, 22]\n");
	assert_int_equal(r->line, 1);
	assert_int_equal(r->col, 1);
	assert_int_equal(r->u.map.keys[1]->line, 2);
	assert_int_equal(r->u.map.keys[1]->col, 1);
	assert_int_equal(at(r, "a")->line, 1);
	assert_int_equal(at(r, "a")->col, 4);
	const node *b = at(r, "b");
	assert_int_equal(b->line, 3);
	assert_int_equal(b->col, 3);
	assert_int_equal(at(b, "c")->line, 3);
	assert_int_equal(at(b, "c")->col, 6);
	const node *d = at(b, "d");
	assert_int_equal(d->line, 4);
	assert_int_equal(d->col, 6);
	assert_int_equal(d->u.list.items[1]->line, 4);
	assert_int_equal(d->u.list.items[1]->col, 10);
}

static void test_positions_respect_first_line(void **state)
{
	(void)state;
	const char *text = "a: 1\nb:\n  c: x\n";
	const node *r = parse_at(text, strlen(text), 10);
	assert_int_equal(r->line, 10);
	assert_int_equal(at(r, "a")->line, 10);
	assert_int_equal(at(at(r, "b"), "c")->line, 12);
	assert_int_equal(at(at(r, "b"), "c")->col, 6);
}

static void test_positions_of_errors_respect_first_line(void **state)
{
	(void)state;
	bool empty;
	const char *text = "a: 1\na: 2\n";
	assert_null(doc_parse(T.a, "sub.yaml", text, strlen(text), 20, &empty, &T.errs));
	assert_int_equal(T.errs.n, 1);
	assert_int_equal(T.errs.items[0].line, 21);
	assert_int_equal(T.errs.items[0].col, 1);
}

/* a block scalar is placed at its value: the line after the indicator, at
 * the content's indentation */
static void test_positions_of_block_scalars(void **state)
{
	(void)state;
	const node *r = parse("p:\n  lit: |\n\n      one\n      two\n  fold: >-\n    x\n  empty: |\n");
	const node *lit = at(at(r, "p"), "lit");
	assert_str_node(lit, "\none\ntwo\n");
	assert_int_equal(lit->line, 3);
	assert_int_equal(lit->col, 7);
	const node *fold = at(at(r, "p"), "fold");
	assert_int_equal(fold->line, 7);
	assert_int_equal(fold->col, 5);
}

static void test_positions_of_syntax_errors(void **state)
{
	(void)state;
	assert_refused("a: b: c\n", 1, 5, "mapping values are not allowed in this context");
	assert_refused("a: 1\nb: \"x\n", 2, 4,
	    "found unexpected end of stream while scanning a quoted scalar");
	const diag *d = refuse("a: [1, 2\n");
	assert_non_null(strstr(d->msg, "while parsing a flow sequence"));
	assert_int_equal(d->line, 1);
}

/* ---- multi-document streams ---- */

static void test_split_yaml_at_markers(void **state)
{
	(void)state;
	const char *text = "a: 1\n---\nb: 2\n...\nc: 3\n";
	struct chunks c = { .n = 0 };
	doc_split_yaml(text, strlen(text), collect, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.line[0], 1);
	assert_int_equal(c.line[1], 2);
	assert_int_equal(c.line[2], 5);
	assert_int_equal(c.len[0], 5);
	assert_memory_equal(c.text[1], "---\nb: 2\n...\n", c.len[1]);
	assert_memory_equal(c.text[2], "c: 3\n", c.len[2]);
	const node *b = parse_at(c.text[1], c.len[1], c.line[1]);
	assert_int_equal(at(b, "b")->line, 3);
	const node *c3 = parse_at(c.text[2], c.len[2], c.line[2]);
	assert_int_equal(at(c3, "c")->line, 5);
	assert_int_equal(at(c3, "c")->col, 4);
}

static void test_split_yaml_leading_marker(void **state)
{
	(void)state;
	const char *text = "---\na: 1\n---\nb: 2\n";
	struct chunks c = { .n = 0 };
	doc_split_yaml(text, strlen(text), collect, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.line[0], 1);
	assert_int_equal(c.line[1], 3);
	assert_memory_equal(c.text[0], "---\na: 1\n", c.len[0]);
	assert_int_equal(at(parse_at(c.text[0], c.len[0], c.line[0]), "a")->line, 2);
	assert_int_equal(at(parse_at(c.text[1], c.len[1], c.line[1]), "b")->line, 4);
}

static void test_split_yaml_end_marker_then_start_marker(void **state)
{
	(void)state;
	const char *text = "a: 1\n...\n---\nb: 2\n";
	struct chunks c = { .n = 0 };
	doc_split_yaml(text, strlen(text), collect, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.line[1], 3);
	assert_int_equal(at(parse_at(c.text[1], c.len[1], c.line[1]), "b")->line, 4);
}

static void test_split_yaml_markers_only_at_line_start(void **state)
{
	(void)state;
	const char *text = "a: '---'\nb: x --- y\n---x: 1\n";
	struct chunks c = { .n = 0 };
	doc_split_yaml(text, strlen(text), collect, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.len[0], strlen(text));
}

static void test_split_yaml_crlf(void **state)
{
	(void)state;
	const char *text = "a: 1\r\n---\r\nb: 2\r\n";
	struct chunks c = { .n = 0 };
	doc_split_yaml(text, strlen(text), collect, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.line[1], 2);
	assert_int_equal(at(parse_at(c.text[1], c.len[1], c.line[1]), "b")->u.i, 2);
}

static void test_split_yaml_nothing(void **state)
{
	(void)state;
	struct chunks c = { .n = 0 };
	doc_split_yaml("", 0, collect, &c);
	assert_int_equal(c.n, 0);
}

static void test_split_yaml_error_leaves_next_document_readable(void **state)
{
	(void)state;
	const char *text = "a: 1\n---\nb: [1, 2\n---\nc: 3\n";
	struct chunks c = { .n = 0 };
	doc_split_yaml(text, strlen(text), collect, &c);
	assert_int_equal(c.n, 3);
	bool empty;
	assert_null(doc_parse(T.a, "sub.yaml", c.text[1], c.len[1], c.line[1], &empty, &T.errs));
	assert_int_equal(T.errs.n, 1);
	assert_true(T.errs.items[0].line >= 2 && T.errs.items[0].line <= 4);
	diags_clear(&T.errs);
	const node *r = parse_at(c.text[2], c.len[2], c.line[2]);
	assert_int_equal(at(r, "c")->u.i, 3);
	assert_int_equal(at(r, "c")->line, 5);
}

static void test_doc_parse_refuses_two_documents(void **state)
{
	(void)state;
	assert_refused("a: 1\n---\nb: 2\n", 2, 1, "more than one document in this part of the stream");
}

static void test_split_lines(void **state)
{
	(void)state;
	const char *text = "{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}";
	struct chunks c = { .n = 0 };
	doc_split_lines(text, strlen(text), collect, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.line[0], 1);
	assert_int_equal(c.line[1], 4);
	assert_int_equal(c.line[2], 5);
	assert_int_equal(c.len[1], 7);
	assert_memory_equal(c.text[1], "{\"b\":2}", 7);
	assert_int_equal(at(parse_at(c.text[2], c.len[2], c.line[2]), "c")->line, 5);
}

/* ---- JSON ---- */

static void test_json_line(void **state)
{
	(void)state;
	const node *r = parse("{\"a\":1,\"b\":[1,2],\"c\":{\"d\":\"x\"},\"t\":true,\"n\":null,\"f\":1.5,"
	    "\"s\":\"0x10\"}");
	assert_int_equal(at(r, "a")->type, NODE_INT);
	assert_int_equal(at(r, "a")->u.i, 1);
	assert_int_equal(at(r, "b")->u.list.n, 2);
	assert_int_equal(at(r, "b")->u.list.items[1]->u.i, 2);
	assert_str_node(at(at(r, "c"), "d"), "x");
	assert_int_equal(at(r, "t")->type, NODE_BOOL);
	assert_int_equal(at(r, "n")->type, NODE_NULL);
	assert_true(at(r, "f")->u.d == 1.5);
	assert_str_node(at(r, "s"), "0x10");
}

static void test_json_escapes(void **state)
{
	(void)state;
	const node *r = parse("{\"s\":\"a\\/b\",\"u\":\"\\u00e9\",\"q\":\"\\\"\",\"nl\":\"x\\ny\",\"bs\":\"\\\\\"}");
	assert_str_node(at(r, "s"), "a/b");
	assert_str_node(at(r, "u"), "\xc3\xa9");
	assert_str_node(at(r, "q"), "\"");
	assert_str_node(at(r, "nl"), "x\ny");
	assert_str_node(at(r, "bs"), "\\");
}

/* The canonical JSON written directly equals jansson's text of the same
 * document: stored content hashes were computed over the latter. */
static void assert_canonical(const char *yaml, const char *expect)
{
	const node *r = parse(yaml);
	json_t *j = node_to_json(r);
	char *jansson = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	strbuf b = { 0 };
	node_write_canonical(&b, r);
	assert_string_equal(b.s, jansson);
	if (expect != NULL)
		assert_string_equal(b.s, expect);
	free(jansson);
	free(b.s);
}

static void test_canonical_json_is_janssons(void **state)
{
	(void)state;
	assert_canonical("{\"b\":1,\"a\":[true,false,null],\"ab\":{\"z\":\"\",\"y\":-7}}",
	    "{\"a\":[true,false,null],\"ab\":{\"y\":-7,\"z\":\"\"},\"b\":1}");
	/* reals: %.17g, a ".0" when integral, exponents without + or leading 0 */
	assert_canonical("f: [1.5, 0.1, 1.0, -0.0, 1e20, 1.5e-7, 123456789012345678.0, 0.38]",
	    "{\"f\":[1.5,0.10000000000000001,1.0,-0.0,1e20,1.4999999999999999e-7,"
	    "1.2345678901234568e17,0.38]}");
	/* YAML's .inf and .nan are read as strings: a document holds no
	 * non-finite number, which JSON could not hold */
	assert_canonical("a: .inf\nb: [1, -.inf, .nan, 2]\n",
	    "{\"a\":\".inf\",\"b\":[1,\"-.inf\",\".nan\",2]}");
	assert_canonical("i: [9007199254740991, -9007199254740991, 0x10]",
	    "{\"i\":[9007199254740991,-9007199254740991,16]}");
	assert_canonical("i: [0, -1, 10, -10, 1000000007]", "{\"i\":[0,-1,10,-10,1000000007]}");
	/* strings: escapes and UTF-8 as jansson writes them */
	assert_canonical("s: \"q\\\"b\\\\ / \\t\\n\\x01 \\u00e9 \\U0001F600 \\0 end\"", NULL);
	assert_canonical("\"\\u00e9\": 1\n\"e\": 2\n\"\\x7f\": 3\nE: 4\n\"\": 5\n", NULL);
	/* keys sorted by bytes, a prefix first */
	assert_canonical("ab: 1\na: 2\nabc: 3\nB: 4\n\"a b\": 5",
	    "{\"B\":4,\"a\":2,\"a b\":5,\"ab\":1,\"abc\":3}");
	/* the largest map sorted in place (32 keys, in reverse) and a big map
	 * (beyond the small sort buffer) with deep nesting */
	char edge[1024];
	size_t e = 0;
	for (int i = 32; i > 0; i--)
		e += (size_t)snprintf(edge + e, sizeof edge - e, "k%02d: %d\n", i, i % 3 ? i : -i);
	assert_canonical(edge, NULL);
	/* a big map (beyond the small sort buffer) and deep nesting */
	char big[4096];
	size_t n = 0;
	for (int i = 40; i > 0; i--)
		n += (size_t)snprintf(big + n, sizeof big - n, "k%02d: {x: [%d, {y: z}]}\n", i, i);
	assert_canonical(big, NULL);
}

static void test_json_positions(void **state)
{
	(void)state;
	const char *text = "{\"a\": 1, \"b\": \"x\"}";
	const node *r = parse_at(text, strlen(text), 7);
	assert_int_equal(at(r, "b")->line, 7);
	assert_int_equal(at(r, "b")->col, 15);
}

static void test_json_duplicate_keys(void **state)
{
	(void)state;
	assert_refused("{\"a\": 1, \"a\": 2}", 1, 10, "duplicate key \"a\"");
}

/* ---- hostile input ---- */

static void test_refuses_over_one_mib(void **state)
{
	(void)state;
	size_t len = DOC_MAX_BYTES + 1;
	char *text = malloc(len);
	assert_non_null(text);
	memcpy(text, "a: ", 3);
	memset(text + 3, 'x', len - 3);
	bool empty;
	assert_null(doc_parse(T.a, "sub.yaml", text, len, 3, &empty, &T.errs));
	assert_false(empty);
	assert_int_equal(T.errs.n, 1);
	assert_string_equal(T.errs.items[0].msg,
	    "document is 1048577 bytes, over the limit of 1048576 bytes (1 MiB)");
	assert_int_equal(T.errs.items[0].line, 3);
	assert_int_equal(T.errs.items[0].col, 1);
	free(text);
}

static void test_accepts_exactly_one_mib(void **state)
{
	(void)state;
	size_t len = DOC_MAX_BYTES;
	char *text = malloc(len);
	assert_non_null(text);
	memcpy(text, "a: ", 3);
	memset(text + 3, 'x', len - 4);
	text[len - 1] = '\n';
	const node *r = parse_at(text, len, 1);
	assert_int_equal(at(r, "a")->u.str.len, len - 4);
	free(text);
}

static void test_nesting_64_levels_is_read(void **state)
{
	(void)state;
	const node *r = parse(nest(64, "[", "1", "]"));
	for (int i = 1; i < 64; i++)
		r = r->u.list.items[0];
	assert_int_equal(r->type, NODE_LIST);
	assert_int_equal(r->u.list.items[0]->u.i, 1);
	parse(nest(64, "{a: ", "1", "}"));
}

static void test_nesting_over_64_levels_is_refused(void **state)
{
	(void)state;
	assert_refused(nest(65, "[", "1", "]"), 1, 65, "nesting deeper than 64 levels");
	assert_refused(nest(1000, "[", "", "]"), 1, 65, "nesting deeper than 64 levels");
	/* block maps, one level per line */
	char *text = arena_alloc(T.a, 65 * 70);
	text[0] = '\0';
	for (int i = 0; i < 65; i++)
		sprintf(text + strlen(text), "%*sk%d:\n", i, "", i);
	const diag *d = refuse(text);
	assert_string_equal(d->msg, "nesting deeper than 64 levels");
	assert_int_equal(d->line, 65);
}

static void test_billion_laughs_is_refused(void **state)
{
	(void)state;
	const char *text =
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	const diag *d = refuse(text);
	assert_string_equal(d->msg, "aliases expand to more than 10000 nodes");
	assert_int_equal(d->line, 4);
}

static void test_many_aliases_of_a_scalar_are_counted(void **state)
{
	(void)state;
	size_t n = DOC_MAX_ALIAS_NODES + 1;
	char *text = arena_alloc(T.a, 32 + n * 4);
	size_t off = (size_t)sprintf(text, "a: &x 1\nl: [");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(text + off, "%s*x", i ? "," : "");
	sprintf(text + off, "]\n");
	assert_string_equal(refuse(text)->msg, "aliases expand to more than 10000 nodes");
	/* one fewer is within the limit */
	off = (size_t)sprintf(text, "a: &x 1\nl: [");
	for (size_t i = 0; i < n - 1; i++)
		off += (size_t)sprintf(text + off, "%s*x", i ? "," : "");
	sprintf(text + off, "]\n");
	diags_clear(&T.errs);
	const node *r = parse(text);
	assert_int_equal(at(r, "l")->u.list.n, n - 1);
}

static void test_aliases_share_the_anchored_node(void **state)
{
	(void)state;
	const node *r = parse("a: &x {k: 1}\nb: *x\nc: &s 5\nd: *s\n");
	assert_ptr_equal(at(r, "a"), at(r, "b"));
	assert_int_equal(at(at(r, "b"), "k")->u.i, 1);
	assert_int_equal(at(r, "d")->u.i, 5);
}

static void test_alias_to_unknown_anchor_is_refused(void **state)
{
	(void)state;
	assert_refused("a: 1\nb: *nope\n", 2, 4, "unknown alias *nope");
	/* an anchor defined later is unknown at the alias */
	assert_refused("a: *x\nb: &x 1\n", 1, 4, "unknown alias *x");
}

static void test_recursive_alias_is_refused(void **state)
{
	(void)state;
	assert_refused("a: &x [1, *x]\n", 1, 11, "alias *x refers to itself");
	assert_refused("a: &m\n  k: *m\n", 2, 6, "alias *m refers to itself");
	assert_refused("a: &o [[*o]]\n", 1, 9, "alias *o refers to itself");
}

static void test_duplicate_keys_are_refused(void **state)
{
	(void)state;
	assert_refused("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key \"a\"");
	assert_refused("m:\n  x: 1\n  x: 2\n", 3, 3, "duplicate key \"x\"");
	assert_refused("{a: 1, b: 2, a: 1}", 1, 14, "duplicate key \"a\"");
	/* a plain 1 and a quoted '1' name the same field */
	assert_refused("1: a\n'1': b\n", 2, 1, "duplicate key \"1\"");
}

static void test_duplicate_keys_in_a_big_map_are_refused(void **state)
{
	(void)state;
	char *text = arena_alloc(T.a, 160 * 16);
	size_t off = 0;
	for (int i = 0; i < 150; i++)
		off += (size_t)sprintf(text + off, "k%d: %d\n", i, i);
	const node *r = parse(text);
	assert_int_equal(r->u.map.n, 150);
	assert_int_equal(at(r, "k149")->u.i, 149);
	sprintf(text + off, "k73: again\n");
	assert_refused(text, 151, 1, "duplicate key \"k73\"");
	/* around the size where the scan gives way to the hash map (16 keys):
	 * a map of 15 to 18 keys repeating its first, middle or last keys */
	const int repeat[] = { 0, 14, 15, 16, 17 };
	for (size_t d = 0; d < sizeof repeat / sizeof repeat[0]; d++) {
		for (int keys = 15; keys <= 18; keys++) {
			if (repeat[d] >= keys)
				continue;
			off = 0;
			for (int i = 0; i < keys; i++)
				off += (size_t)sprintf(text + off, "k%d: %d\n", i, i);
			sprintf(text + off, "k%d: again\n", repeat[d]);
			char want[32];
			snprintf(want, sizeof want, "duplicate key \"k%d\"", repeat[d]);
			assert_refused(text, keys + 1, 1, want);
		}
	}
}

static void test_same_key_in_different_maps_is_fine(void **state)
{
	(void)state;
	const node *r = parse("a: {k: 1}\nb: {k: 2}\nl: [{k: 1}, {k: 2}]\n");
	assert_int_equal(at(at(r, "b"), "k")->u.i, 2);
}

static void test_non_scalar_keys_are_refused(void **state)
{
	(void)state;
	assert_string_equal(refuse("? [1, 2]\n: v\n")->msg, "a map key must be a scalar");
	assert_string_equal(refuse("? {a: 1}\n: v\n")->msg, "a map key must be a scalar");
	assert_string_equal(refuse("{[a]: 1}")->msg, "a map key must be a scalar");
}

static void test_invalid_utf8_is_refused(void **state)
{
	(void)state;
	assert_refused("a: 1\nb: \xff\n", 2, 4, "invalid leading UTF-8 octet");
	/* at the octet that breaks the sequence */
	assert_refused("a: \xc3\xa9\xc3\x28\n", 1, 6, "invalid trailing UTF-8 octet");
	const diag *d = refuse("a: \xc3");
	assert_string_equal(d->msg, "incomplete UTF-8 octet sequence");
	/* valid UTF-8 is read as is */
	diags_clear(&T.errs);
	assert_str_node(at(parse("a: h\xc3\xa9 \xe2\x82\xac\n"), "a"), "h\xc3\xa9 \xe2\x82\xac");
}

static void test_control_characters_are_refused(void **state)
{
	(void)state;
	assert_refused("a: 1\nb: x\x01y\n", 2, 5, "control characters are not allowed");
	const char nul[] = "a: x\0y\n";
	const diag *d = refuse_n(nul, sizeof nul - 1);
	assert_int_equal(d->line, 1);
	assert_int_equal(d->col, 5);
}

static void test_empty_documents(void **state)
{
	(void)state;
	const char *texts[] = { "", "# just a comment\n", "---\n", "\n\n  \n", "--- # c\n...\n" };
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		bool empty = false;
		node *n = doc_parse(T.a, "sub.yaml", texts[i], strlen(texts[i]), 1, &empty, &T.errs);
		if (n != NULL || !empty)
			fail_msg("\"%s\" is not an empty document", texts[i]);
		assert_int_equal(T.errs.n, 0);
	}
}

static void test_explicit_null_is_a_document(void **state)
{
	(void)state;
	assert_int_equal(parse("~\n")->type, NODE_NULL);
	assert_int_equal(parse("null\n")->type, NODE_NULL);
	assert_int_equal(parse("--- !!str\n")->type, NODE_STRING);
}

/* ---- submissions ---- */

static void test_submission_fields(void **state)
{
	(void)state;
	submission s;
	assert_true(sub_of("action: rom.patch\nref: agent-7/1187\ntitle: Fix palette\nsubmitter: bob\n"
	    "bytes_changed: 5\n", &s));
	assert_string_equal(s.action, "rom.patch");
	assert_string_equal(s.kind, "proposal");
	assert_int_equal(s.kind_bit, KIND_PROPOSAL);
	assert_string_equal(s.ref, "agent-7/1187");
	assert_string_equal(s.title, "Fix palette");
	assert_string_equal(s.submitter, "bob");
	assert_string_equal(s.file, "sub.yaml");
	assert_int_equal(s.line, 1);
	assert_int_equal(s.col, 1);
	assert_int_equal(node_get(s.doc, "bytes_changed")->u.i, 5);
}

static void test_submission_optional_fields_absent(void **state)
{
	(void)state;
	submission s;
	assert_true(sub_of("action: tool.call\nref: ~\ntitle:\n", &s));
	assert_null(s.ref);
	assert_null(s.title);
	assert_null(s.submitter);
}

static void test_submission_missing_action(void **state)
{
	(void)state;
	const diag *d = sub_refused("title: x\nbytes: 1\n");
	assert_string_equal(d->msg, "missing action (what the submission asks for, e.g. action: rom.patch)");
	assert_string_equal(d->file, "sub.yaml");
	assert_int_equal(d->line, 1);
	assert_int_equal(d->col, 1);
}

static void test_submission_action_not_a_string(void **state)
{
	(void)state;
	const diag *d = sub_refused("title: x\naction: 42\n");
	assert_string_equal(d->msg, "action must be a non-empty string, not int");
	assert_int_equal(d->line, 2);
	assert_int_equal(d->col, 9);
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action: [a]\n")->msg, "action must be a non-empty string, not list");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action:\n")->msg, "action must be a non-empty string, not null");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action: ''\n")->msg, "action must not be empty");
}

static void test_submission_not_a_map(void **state)
{
	(void)state;
	assert_string_equal(sub_refused("- action: x\n")->msg,
	    "a submission must be a map of keys to values, not a list");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("hello\n")->msg,
	    "a submission must be a map of keys to values, not a string");
	diags_clear(&T.errs);
	const diag *d = sub_refused("\n\n~\n");
	assert_string_equal(d->msg, "a submission must be a map of keys to values, not a null");
	assert_int_equal(d->line, 3);
}

static void test_submission_kind_derived_from_action(void **state)
{
	(void)state;
	static const struct { const char *action, *kind; int bit; } cases[] = {
		{ "export.bundle", "export", KIND_EXPORT },
		{ "import.chat", "import", KIND_IMPORT },
		{ "tool.call", "proposal", KIND_PROPOSAL },
		{ "rom.patch", "proposal", KIND_PROPOSAL },
		{ "export", "proposal", KIND_PROPOSAL },
		{ "exporter.x", "proposal", KIND_PROPOSAL },
		{ "code.export.x", "proposal", KIND_PROPOSAL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		submission s;
		assert_true(sub_of(arena_printf(T.a, "action: %s\n", cases[i].action), &s));
		assert_string_equal(s.kind, cases[i].kind);
		assert_int_equal(s.kind_bit, cases[i].bit);
		assert_int_equal(kind_from_action(cases[i].action), cases[i].bit);
	}
}

static void test_submission_explicit_kind(void **state)
{
	(void)state;
	submission s;
	assert_true(sub_of("action: tool.call\nkind: export\n", &s));
	assert_string_equal(s.kind, "export");
	assert_int_equal(s.kind_bit, KIND_EXPORT);
	assert_true(sub_of("action: tool.call\nkind: import\n", &s));
	assert_int_equal(s.kind_bit, KIND_IMPORT);
	assert_true(sub_of("action: export.bundle\nkind: export\n", &s));
	assert_int_equal(s.kind_bit, KIND_EXPORT);
	assert_true(sub_of("action: rom.patch\nkind: proposal\n", &s));
	assert_int_equal(s.kind_bit, KIND_PROPOSAL);
	/* null: derived */
	assert_true(sub_of("action: import.chat\nkind: ~\n", &s));
	assert_string_equal(s.kind, "import");
}

static void test_submission_kind_contradicting_action(void **state)
{
	(void)state;
	const diag *d = sub_refused("action: export.bundle\nkind: proposal\n");
	assert_string_equal(d->msg, "kind proposal contradicts action export.bundle (an export)");
	assert_int_equal(d->line, 2);
	assert_int_equal(d->col, 7);
}

static void test_submission_unknown_kind(void **state)
{
	(void)state;
	const diag *d = sub_refused("action: x\nkind: bogus\n");
	assert_string_equal(d->msg, "unknown kind \"bogus\" (expected proposal, export or import)");
	assert_int_equal(d->line, 2);
	assert_int_equal(d->col, 7);
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action: x\nkind: Proposal\n")->msg,
	    "unknown kind \"Proposal\" (expected proposal, export or import)");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action: x\nkind: 5\n")->msg, "kind must be a string, not int");
}

static void test_submission_ref_title_submitter_types(void **state)
{
	(void)state;
	const diag *d = sub_refused("action: x\nref: 42\n");
	assert_string_equal(d->msg, "ref must be a string, not int");
	assert_int_equal(d->line, 2);
	assert_int_equal(d->col, 6);
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action: x\ntitle: [a]\n")->msg, "title must be a string, not list");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action: x\nsubmitter: {a: 1}\n")->msg,
	    "submitter must be a string, not map");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("action: x\nsubmitter: true\n")->msg,
	    "submitter must be a string, not bool");
}

static void test_submission_quoted_ref_is_a_string(void **state)
{
	(void)state;
	submission s;
	assert_true(sub_of("action: x\nref: '42'\ntitle: !!str 1.5\n", &s));
	assert_string_equal(s.ref, "42");
	assert_string_equal(s.title, "1.5");
}

/* An escaped NUL does not cut a title, ref or submitter short: each keeps
 * its length. An action or kind with one is refused (they are matched as C
 * strings). */
static void test_submission_strings_keep_nul(void **state)
{
	(void)state;
	submission s;
	assert_true(sub_of("{\"action\": \"x\", \"title\": \"a\\u0000b\", \"ref\": \"r\\u0000\"}",
	    &s));
	assert_int_equal(s.title_len, 3);
	assert_memory_equal(s.title, "a\0b", 3);
	assert_int_equal(s.ref_len, 2);
	/* a submitter is a name, and a name holds no NUL */
	assert_string_equal(sub_refused("{\"action\": \"x\", \"submitter\": \"\\u0000s\"}")->msg,
	    "submitter is not a name (" IDENTITY_NAME_RULE ")");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("{\"action\": \"x\\u0000y\"}")->msg,
	    "action must not contain a NUL character");
	diags_clear(&T.errs);
	assert_string_equal(sub_refused("{\"action\": \"x\", \"kind\": \"export\\u0000\"}")->msg,
	    "kind must not contain a NUL character");
}

#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_scalar_null_forms),
		T_(test_scalar_bool_forms),
		T_(test_scalar_yes_no_are_strings),
		T_(test_scalar_int_decimal),
		T_(test_scalar_int_bases),
		T_(test_scalar_int_beyond_2_53_is_an_error),
		T_(test_scalar_not_numbers_are_strings),
		T_(test_scalar_floats),
		T_(test_scalar_quoted_are_strings),
		T_(test_scalar_plain_strings),
		T_(test_scalar_str_tag),
		T_(test_scalar_typed_tags),
		T_(test_scalar_tag_mismatch_and_unknown_tags),
		T_(test_scalar_block_styles),
		T_(test_lists_and_maps),
		T_(test_scalar_keys_name_fields),
		T_(test_node_helpers),
		T_(test_positions_are_one_based),
		T_(test_positions_respect_first_line),
		T_(test_positions_of_errors_respect_first_line),
		T_(test_positions_of_block_scalars),
		T_(test_positions_of_syntax_errors),
		T_(test_split_yaml_at_markers),
		T_(test_split_yaml_leading_marker),
		T_(test_split_yaml_end_marker_then_start_marker),
		T_(test_split_yaml_markers_only_at_line_start),
		T_(test_split_yaml_crlf),
		T_(test_split_yaml_nothing),
		T_(test_split_yaml_error_leaves_next_document_readable),
		T_(test_doc_parse_refuses_two_documents),
		T_(test_split_lines),
		T_(test_json_line),
		T_(test_json_escapes),
		T_(test_canonical_json_is_janssons),
		T_(test_json_positions),
		T_(test_json_duplicate_keys),
		T_(test_refuses_over_one_mib),
		T_(test_accepts_exactly_one_mib),
		T_(test_nesting_64_levels_is_read),
		T_(test_nesting_over_64_levels_is_refused),
		T_(test_billion_laughs_is_refused),
		T_(test_many_aliases_of_a_scalar_are_counted),
		T_(test_aliases_share_the_anchored_node),
		T_(test_alias_to_unknown_anchor_is_refused),
		T_(test_recursive_alias_is_refused),
		T_(test_duplicate_keys_are_refused),
		T_(test_duplicate_keys_in_a_big_map_are_refused),
		T_(test_same_key_in_different_maps_is_fine),
		T_(test_non_scalar_keys_are_refused),
		T_(test_invalid_utf8_is_refused),
		T_(test_control_characters_are_refused),
		T_(test_empty_documents),
		T_(test_explicit_null_is_a_document),
		T_(test_submission_fields),
		T_(test_submission_optional_fields_absent),
		T_(test_submission_missing_action),
		T_(test_submission_action_not_a_string),
		T_(test_submission_not_a_map),
		T_(test_submission_kind_derived_from_action),
		T_(test_submission_explicit_kind),
		T_(test_submission_kind_contradicting_action),
		T_(test_submission_unknown_kind),
		T_(test_submission_ref_title_submitter_types),
		T_(test_submission_strings_keep_nul),
		T_(test_submission_quoted_ref_is_a_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
