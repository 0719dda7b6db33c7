/*
 * fuzz_tree.c: libFuzzer target for the tree records of doc_tree.c, which
 * a store keeps of its policy files (data/policy_trees.c).
 *
 * The input is read as a record: refused, or read as a tree that, written
 * again and read back, is the same tree, each scalar written alike
 * (doc_same_tree_as_written). The input is also
 * read as a YAML document and as JSON: every tree either reader gives comes
 * back alike through its record, aliases (shared nodes) included. The
 * corpus holds records of the policy corpus's files and documents of the
 * document corpus's.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_tree, and with replay.c
 * as build/asan/tests/replay_tree for `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../engine/engine.h"

static void must_come_back(arena *a, const node *root, const char *what)
{
	strbuf b = { 0 };
	doc_tree_write(&b, root);
	node *back = doc_tree_read(a, b.s, b.n);
	char why[256];
	if (back == NULL) {
		fprintf(stderr, "%s: the record of a tree was refused\n", what);
		abort();
	}
	if (!doc_same_tree_as_written(root, back, why, sizeof why)) {
		fprintf(stderr, "%s: the tree read back differs: %s\n", what, why);
		abort();
	}
	free(b.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = arena_new();
	node *root = doc_tree_read(a, data, size);
	if (root != NULL)
		must_come_back(a, root, "a record");
	diags errs = { 0 };
	bool empty;
	const char *text = (const char *)data;
	if ((root = doc_parse(a, "fuzz.yaml", text, size, 1, &empty, &errs)) != NULL)
		must_come_back(a, root, "a YAML document");
	if ((root = doc_parse_json(a, "fuzz.json", text, size, 1, 0, &empty, &errs)) != NULL)
		must_come_back(a, root, "a JSON document");
	diags_free(&errs);
	arena_free(a);
	return 0;
}
