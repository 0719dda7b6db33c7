/*
 * test_doc_tree.c: doc_tree.c, a parsed tree as bytes and back. Every
 * document of the fuzz corpora that either reader parses comes back as the
 * same tree, each scalar written alike (doc_same_tree_as_written); a node
 * that aliases share is written once and read back shared. Bytes that are not a whole tree's record are refused, never read
 * past: every shortened record, every record with a byte changed, a back
 * reference to a node not yet finished (a cycle) or not yet begun, and what
 * doc_parse refuses: nesting past its limit, shared nodes that expand past
 * its limit, a map key that is not a string or that repeats, an integer
 * beyond +-2^53; and bytes after the record.
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

static node *round_trip(const node *root, strbuf *b)
{
	b->n = 0;
	doc_tree_write(b, root);
	return doc_tree_read(T.a, b->s, b->n);
}

static void assert_comes_back(const char *what, const node *root, strbuf *b)
{
	char why[256];
	node *back = round_trip(root, b);
	if (back == NULL)
		fail_msg("%s: its tree's bytes were refused", what);
	if (!doc_same_tree_as_written(root, back, why, sizeof why))
		fail_msg("%s: the tree read back differs: %s", what, why);
}

struct trees {
	strbuf b;
	int n;
};

static void come_back(const char *path, const char *text, size_t len, void *ctx)
{
	struct trees *t = ctx;
	diags errs = { 0 };
	bool empty;
	node *y = doc_parse(T.a, "f", text, len, 1, &empty, &errs);
	node *j = doc_parse_json(T.a, "f", text, len, 1, 0, &empty, &errs);
	if (y != NULL) {
		assert_comes_back(path, y, &t->b);
		t->n++;
	}
	if (j != NULL) {
		assert_comes_back(path, j, &t->b);
		t->n++;
	}
	diags_free(&errs);
}

static void test_corpora_come_back_alike(void **state)
{
	(void)state;
	const char *const dirs[] = { "tests/fuzz/corpus/doc", "tests/fuzz/corpus/policy",
		"tests/fuzz/corpus/json", "docs/examples/policies" };
	struct trees t = { { 0 }, 0 };
	each_corpus_file(dirs, sizeof dirs / sizeof *dirs, come_back, &t);
	assert_true(t.n > 150);
	free(t.b.s);
}

static void test_shared_nodes_stay_shared(void **state)
{
	(void)state;
	node *root = parse("base: &b {a: 1, list: [x, y]}\none: *b\ntwo: *b\nkey: &k name\n"
	    "*k : 3\n");
	strbuf b = { 0 };
	assert_comes_back("aliases", root, &b);
	node *back = round_trip(root, &b);
	const node *base = node_get(back, "base");
	assert_ptr_equal(node_get(back, "one"), base);
	assert_ptr_equal(node_get(back, "two"), base);
	assert_non_null(node_get(back, "name"));
	/* each shared node once: the record is shorter than the tree expanded */
	size_t shared = b.n;
	node *flat = parse("base: {a: 1, list: [x, y]}\none: {a: 1, list: [x, y]}\n"
	    "two: {a: 1, list: [x, y]}\nkey: name\nname: 3\n");
	b.n = 0;
	doc_tree_write(&b, flat);
	assert_true(shared < b.n);
	free(b.s);
}

static void test_every_damage_is_refused_or_read(void **state)
{
	(void)state;
	node *root = parse("name: x\nlist: [1, 2.5, true, null, \"q\", {k: v}]\nblock: |\n  a\n  b\n"
	    "anchor: &a [deep, [deeper]]\nagain: *a\n");
	strbuf b = { 0 };
	doc_tree_write(&b, root);
	/* every shortened record is refused */
	for (size_t n = 0; n < b.n; n++)
		assert_null(doc_tree_read(T.a, b.s, n));
	/* bytes after the record too */
	strbuf longer = { 0 };
	sb_put(&longer, b.s, b.n);
	sb_put(&longer, "\0", 1);
	assert_null(doc_tree_read(T.a, longer.s, longer.n));
	/* a byte changed to each value: refused, or read as some tree, never
	 * read past (ASan watches) */
	char *copy = malloc(b.n);
	assert_non_null(copy);
	int refused = 0;
	for (size_t i = 0; i < b.n; i++)
		for (int v = 0; v < 256; v += 3) {
			memcpy(copy, b.s, b.n);
			copy[i] = (char)v;
			refused += doc_tree_read(T.a, copy, b.n) == NULL;
		}
	assert_true(refused > 0);
	free(copy);
	free(longer.s);
	free(b.s);
}

/* doc_tree.c's back reference */
#define TREE_SEEN_BYTE 7

/* A record by hand: the bytes given, written as they are. */
static node *read_bytes(const unsigned char *bytes, size_t n)
{
	return doc_tree_read(T.a, bytes, n);
}

static void test_hand_made_records(void **state)
{
	(void)state;
	/* a list holding itself: a back reference to the node still being read */
	const unsigned char cycle[] = { NODE_LIST, 0, 0, 1, 1, 1, TREE_SEEN_BYTE, 0 };
	assert_null(read_bytes(cycle, sizeof cycle));
	/* a back reference to a node not yet begun */
	const unsigned char ahead[] = { NODE_LIST, 0, 0, 1, 1, 1, TREE_SEEN_BYTE, 5 };
	assert_null(read_bytes(ahead, sizeof ahead));
	/* the same list of two, the second a reference to the first: read */
	const unsigned char twice[] = { NODE_LIST, 0, 0, 1, 1, 2, NODE_NULL, 0, 0, 1, 1, TREE_SEEN_BYTE,
		1 };
	node *n = read_bytes(twice, sizeof twice);
	assert_non_null(n);
	assert_ptr_equal(n->u.list.items[0], n->u.list.items[1]);
	/* a map whose key repeats, and one whose keys differ */
	const unsigned char twice_a[] = { NODE_MAP, 0, 0, 1, 1, 2, NODE_STRING, 0, 0, 1, 1, 1, 'a',
		NODE_NULL, 0, 0, 1, 1, NODE_STRING, 0, 0, 1, 1, 1, 'a', NODE_NULL, 0, 0, 1, 1 };
	assert_null(read_bytes(twice_a, sizeof twice_a));
	unsigned char a_b[sizeof twice_a];
	memcpy(a_b, twice_a, sizeof a_b);
	a_b[24] = 'b';
	n = read_bytes(a_b, sizeof a_b);
	assert_non_null(n);
	assert_non_null(node_get(n, "b"));
	/* integers up to 2^53 - 1 either way, and no further */
	unsigned char big[] = { NODE_INT, 0, 0, 1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0 };
	assert_non_null(read_bytes(big, sizeof big));
	big[5] = 0;
	big[12] = 0;
	big[11] = 0x20;         /* 2^53 */
	assert_null(read_bytes(big, sizeof big));
	/* a map key that is not a string */
	const unsigned char int_key[] = { NODE_MAP, 0, 0, 1, 1, 1, NODE_NULL, 0, 0, 1, 1,
		NODE_NULL, 0, 0, 1, 1 };
	assert_null(read_bytes(int_key, sizeof int_key));
	/* a count beyond what is left, an unknown type, style or verbatim flag */
	const unsigned char too_many[] = { NODE_LIST, 0, 0, 1, 1, 0xFF, 0xFF, 0x03 };
	assert_null(read_bytes(too_many, sizeof too_many));
	const unsigned char type8[] = { 8, 0, 0, 1, 1 };
	assert_null(read_bytes(type8, sizeof type8));
	const unsigned char style9[] = { NODE_NULL, 9, 0, 1, 1 };
	assert_null(read_bytes(style9, sizeof style9));
	const unsigned char verbatim2[] = { NODE_NULL, 0, 2, 1, 1 };
	assert_null(read_bytes(verbatim2, sizeof verbatim2));
	/* a bool is 0 or 1; a line past 32 bits is refused */
	const unsigned char bool2[] = { NODE_BOOL, 0, 0, 1, 1, 2 };
	assert_null(read_bytes(bool2, sizeof bool2));
	const unsigned char far_line[] = { NODE_NULL, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 1 };
	assert_null(read_bytes(far_line, sizeof far_line));
	/* a varint longer than 64 bits */
	const unsigned char long_varint[] = { NODE_NULL, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x80, 0x01, 1 };
	assert_null(read_bytes(long_varint, sizeof long_varint));
}

/* Lists nested depth deep, the innermost empty. */
static strbuf nested(int depth)
{
	strbuf b = { 0 };
	for (int i = 0; i < depth; i++) {
		const char list[] = { NODE_LIST, 0, 0, 1, 1, i + 1 < depth ? 1 : 0 };
		sb_put(&b, list, sizeof list);
	}
	return b;
}

static void test_nesting_as_deep_as_the_readers_allow(void **state)
{
	(void)state;
	/* DOC_MAX_DEPTH containers: the deepest document doc_parse accepts */
	strbuf ok = nested(DOC_MAX_DEPTH);
	assert_non_null(doc_tree_read(T.a, ok.s, ok.n));
	char *yaml = nest(DOC_MAX_DEPTH, "[", "1", "]");
	node *deepest = parse(yaml);
	strbuf b = { 0 };
	assert_comes_back("the deepest document", deepest, &b);
	bool empty;
	assert_null(doc_parse(T.a, "deeper", nest(DOC_MAX_DEPTH + 1, "[", "", "]"),
	    strlen(nest(DOC_MAX_DEPTH + 1, "[", "", "]")), 1, &empty, &T.errs));
	strbuf deeper = nested(DOC_MAX_DEPTH + 1);
	assert_null(doc_tree_read(T.a, deeper.s, deeper.n));
	free(ok.s);
	free(deeper.s);
	free(b.s);
}

/* Shared nodes doubling at each level, as aliases of aliases: the record
 * is short, the tree it stands for is 2^levels nodes. */
static strbuf doubling(int levels)
{
	strbuf b = { 0 };
	const char root[] = { NODE_LIST, 0, 0, 1, 1, (char)(levels + 1) };
	const char leaf[] = { NODE_NULL, 0, 0, 1, 1 };
	sb_put(&b, root, sizeof root);
	sb_put(&b, leaf, sizeof leaf);  /* node 1 */
	for (int i = 0; i < levels; i++) {
		/* node i + 2: a list of node i + 1 twice */
		const char pair[] = { NODE_LIST, 0, 0, 1, 1, 2, TREE_SEEN_BYTE, (char)(i + 1),
			TREE_SEEN_BYTE, (char)(i + 1) };
		sb_put(&b, pair, sizeof pair);
	}
	return b;
}

static void test_shared_nodes_expand_no_further_than_aliases(void **state)
{
	(void)state;
	/* the back references of 11 levels stand for 8,166 nodes: within
	 * 10,000, as doc_parse counts aliases; of 12 levels, 16,356 */
	strbuf within = doubling(11), past = doubling(12);
	assert_non_null(doc_tree_read(T.a, within.s, within.n));
	assert_null(doc_tree_read(T.a, past.s, past.n));
	free(within.s);
	free(past.s);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_corpora_come_back_alike),
		T_(test_shared_nodes_stay_shared),
		T_(test_every_damage_is_refused_or_read),
		T_(test_hand_made_records),
		T_(test_nesting_as_deep_as_the_readers_allow),
		T_(test_shared_nodes_expand_no_further_than_aliases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
