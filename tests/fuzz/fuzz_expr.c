/*
 * fuzz_expr.c: libFuzzer target for the expression language.
 *
 * The input is compiled as one expression (as a policy's `condition` would
 * be, but with no YAML position). When it compiles it is evaluated, as a value
 * and as a condition, against a fixed submission with lists, maps, strings,
 * numbers and nested fields, and its fields are described as findings do.
 * Compilation and evaluation share one arena per input.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_expr, and with replay.c as
 * build/asan/tests/replay_expr for `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/engine.h"

static const char doc_text[] =
	"action: rom.patch\n"
	"kind: proposal\n"
	"ref: agent/1\n"
	"title: \"Patch \\u00e9t\\u00e9 header\"\n"
	"submitter: agent-9\n"
	"bytes_changed: 6000\n"
	"ratio: 0.25\n"
	"big: 9223372036854775807\n"
	"small: -9223372036854775808\n"
	"zero: 0\n"
	"flag: true\n"
	"nothing: null\n"
	"empty: \"\"\n"
	"text: \"Hello, World. hello again\"\n"
	"path: ./secrets/db.env\n"
	"changes:\n"
	"  - {offset: 0xFFC0, length: 16}\n"
	"  - {offset: 0x0F0000, length: 4096, bank: 15}\n"
	"  - {start: 1, end: 2}\n"
	"banks: [0, 1, 14, 15]\n"
	"floats: [1.5, -2.25, 3]\n"
	"names: [alpha, beta, gamma, \"\"]\n"
	"mixed: [1, \"one\", 1.0, true, null, [1, 2], {a: 1}]\n"
	"lists: [[1, 2], [3], []]\n"
	"files:\n"
	"  - src/main.c\n"
	"  - {path: secrets/key.pem, op: modify}\n"
	"  - {path: .arbiter/keys, op: delete}\n"
	"tests: {smoke: 1.0, unit: 0.95, \"odd name\": 0.5}\n"
	"meta:\n"
	"  owner: {name: Ann, teams: [core, infra], level: 3}\n"
	"  tags: {}\n"
	"  list: []\n"
	"  deep: {a: {b: {c: {d: [ {e: end} ]}}}}\n";

static arena *doc_arena;
static const node *doc;

static void free_doc(void)
{
	arena_free(doc_arena);
}

static void load_doc(void)
{
	diags errs = { 0 };
	bool empty;
	doc_arena = arena_new();
	atexit(free_doc);       /* for the leak checker of the replay */
	/* read as a stored document is on reevaluation: its 64-bit extremes
	 * reach the evaluator's overflow checks */
	doc = doc_parse_flags(doc_arena, "doc.yaml", doc_text, sizeof doc_text - 1, 1, DOC_INT64,
	    &empty, &errs);
	if (doc == NULL) {
		diags_print(&errs, stderr);
		abort();        /* the fixed document must parse: fix it, not the input */
	}
	diags_free(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (doc == NULL)
		load_doc();
	arena *a = arena_new();
	diags errs = { 0 };
	expr *e = expr_compile(a, (const char *)data, size, "fuzz", NULL, &errs);
	if (e != NULL) {
		eval_ctx ctx = { .doc = doc, .kind = "proposal", .scratch = a };
		value v;
		if (expr_eval(e, &ctx, &v))
			(void)value_describe(a, v);
		bool b;
		(void)expr_eval_bool(e, &ctx, &b);
		(void)expr_describe_fields(e, &ctx);
		(void)expr_first_field(e);
		(void)expr_is_path(e);
		(void)expr_source(e);
	}
	diags_free(&errs);
	arena_free(a);
	return 0;
}
