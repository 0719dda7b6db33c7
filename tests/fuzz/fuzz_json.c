/*
 * fuzz_json.c: libFuzzer target for the JSON reader (engine/json.c).
 *
 * Three readers judge each input: arbiter's JSON reader, its YAML reader
 * and jansson, which checks RFC 8259 on its own.
 * - Where the JSON and YAML readers both accept the input, the trees are
 *   the same, positions included (one document, one evaluation).
 * - Where the JSON reader accepts, jansson accepts too: nothing beyond
 *   RFC 8259 gets in.
 * - Where jansson accepts and the JSON reader refuses, the refusal is one
 *   of arbiter's own rules (nesting, an integer beyond 2^53, a number
 *   beyond a double), never a valid document lost.
 * - Every refusal is one error at a place inside the input.
 * - The strings it read without an escape, written whole (verbatim), give
 *   the bytes the escaping writers give: canonical and stored JSON alike.
 * (jansson stops at a NUL byte in the text and holds no NUL in a key; those
 * inputs are judged without it.)
 * The input is also read as JSON Lines, each line through the JSON reader.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_json, and with replay.c
 * as build/asan/tests/replay_json for `make test`; its corpus holds
 * JSONTestSuite's documents.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/engine.h"

static bool own_rule(const char *msg)
{
	return strstr(msg, "nesting deeper") != NULL || strstr(msg, "beyond +-9007199254740991") ||
	    strstr(msg, "outside the range of a double") || strstr(msg, "duplicate key") ||
	    strstr(msg, "over the limit");
}

static void check_error(const diags *errs, const char *text, size_t size, int first_line)
{
	if (errs->n != 1) {
		fprintf(stderr, "a refusal with %zu errors\n", errs->n);
		abort();
	}
	int lines = first_line;
	for (size_t i = 0; i < size; i++)       /* LF, CRLF and a lone CR end a line */
		lines += text[i] == '\n' || (text[i] == '\r' && (i + 1 == size || text[i + 1] != '\n'));
	if (errs->items[0].line < first_line || errs->items[0].line > lines ||
	    errs->items[0].col < 1) {
		fprintf(stderr, "an error outside the input: %d:%d\n", errs->items[0].line,
		    errs->items[0].col);
		abort();
	}
}

/* Strings read without an escape are written whole (node.verbatim): with
 * the mark cleared, the writers' escaping path must write the same bytes. */
static void clear_verbatim(node *n)
{
	n->verbatim = 0;
	for (size_t i = 0; n->type == NODE_LIST && i < n->u.list.n; i++)
		clear_verbatim(n->u.list.items[i]);
	for (size_t i = 0; n->type == NODE_MAP && i < n->u.map.n; i++) {
		clear_verbatim(n->u.map.keys[i]);
		clear_verbatim(n->u.map.vals[i]);
	}
}

static void check_verbatim(node *n)
{
	strbuf fast = { 0 }, slow = { 0 }, fast_stored = { 0 }, slow_stored = { 0 };
	bool fast_ok = canon_write(&fast, n);
	node_write_canonical(&fast_stored, n);
	clear_verbatim(n);
	bool slow_ok = canon_write(&slow, n);
	node_write_canonical(&slow_stored, n);
	if (fast_ok != slow_ok || fast.n != slow.n || (fast.n && memcmp(fast.s, slow.s, fast.n)) ||
	    fast_stored.n != slow_stored.n ||
	    (fast_stored.n && memcmp(fast_stored.s, slow_stored.s, fast_stored.n))) {
		fprintf(stderr, "a string written whole differs from its escaped form\n");
		abort();
	}
	free(fast.s);
	free(slow.s);
	free(fast_stored.s);
	free(slow_stored.s);
}

static void whole(arena *a, const char *text, size_t size)
{
	diags je = { 0 }, ye = { 0 };
	bool jempty, yempty;
	node *j = doc_parse_json(a, "in.json", text, size, 1, 0, &jempty, &je);
	node *y = doc_parse(a, "in.json", text, size, 1, &yempty, &ye);
	char why[256];
	if (j != NULL && y != NULL && !doc_same_tree(j, y, why, sizeof why)) {
		fprintf(stderr, "the JSON and YAML readers disagree: %s\n", why);
		abort();
	}
	if (j != NULL)
		check_verbatim(j);
	json_error_t err;
	json_t *ref = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL |
	    JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
	/* jansson stops at a NUL byte of the text and keeps no NUL in a key:
	 * neither says anything of RFC 8259 */
	bool jansson_can = memchr(text, '\0', size) == NULL;
	if (j != NULL && ref == NULL && strstr(err.text, "NUL byte in object key") == NULL) {
		fprintf(stderr, "accepted what jansson refuses: %s\n", err.text);
		abort();
	}
	if (j == NULL && !jempty) {
		check_error(&je, text, size, 1);
		if (ref != NULL && jansson_can && !own_rule(je.items[0].msg)) {
			fprintf(stderr, "refused what jansson accepts: %s\n", je.items[0].msg);
			abort();
		}
	}
	json_decref(ref);
	diags_free(&je);
	diags_free(&ye);
}

struct lines {
	arena *a;
	int count;
};

static void one_line(void *ctx, const char *text, size_t len, int line)
{
	struct lines *l = ctx;
	if (++l->count > 256)
		return;
	diags errs = { 0 };
	bool empty;
	node *n = doc_parse_json(l->a, "in.jsonl", text, len, line, 0, &empty, &errs);
	if (n == NULL && !empty)
		check_error(&errs, text, len, line);
	diags_free(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	arena *a = arena_new();
	whole(a, text, size);
	struct lines l = { .a = a };
	doc_split_lines(text, size, one_line, &l);
	arena_free(a);
	return 0;
}
