/*
 * fuzz_policy.c: libFuzzer target for the policy loader.
 *
 * The input is loaded as one policy file. When it loads without errors, a few
 * fixed submissions (one per kind, with the fields the example policies read)
 * are evaluated against it, with a quota history, and the results are turned
 * into JSON as `arbiter eval --json` would. Each input gets a fresh policy set
 * and scratch arena.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_policy, and with replay.c as
 * build/asan/tests/replay_policy for `make test`.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/engine.h"

static const char subs_text[] =
	"action: rom.patch\n"
	"ref: agent/1\n"
	"title: Patch header\n"
	"submitter: agent-9\n"
	"bytes_changed: 6000\n"
	"commands_executed: 12\n"
	"test_failures: 2\n"
	"changes:\n"
	"  - {offset: 0xFFC0, length: 16}\n"
	"  - {offset: 0x0F0000, length: 4096}\n"
	"  - {start: 0x10, end: 0x20}\n"
	"banks: [0x00, 0x10]\n"
	"palettes_changed: 6\n"
	"color_indices: [0, 1, 2]\n"
	"tests: {overworld_rendering: 0.9, palette_integrity: 1.0, smoke: 0.5}\n"
	"---\n"
	"action: code.refactor\n"
	"submitter: dev\n"
	"complexity: 12\n"
	"file_size: 20000\n"
	"mode: auto\n"
	"workflow: customer-refunds\n"
	"files:\n"
	"  - src/a.c\n"
	"  - {path: ./config/app.config, op: modify}\n"
	"  - {path: .scalpel/policy.yaml, op: delete}\n"
	"  - {path: .arbiter/store.db, op: modify}\n"
	"---\n"
	"action: export.bundle\n"
	"kind: export\n"
	"title: \"Scene pack \\u00e9\"\n"
	"license: CC-BY-NC-4.0\n"
	"license_ack: false\n"
	"assets: [{name: a.png, license: MIT}, {name: b.ogg, license: null}]\n"
	"---\n"
	"action: llm.request\n"
	"tenant: acme\n"
	"tier: free\n"
	"app: public-chat\n"
	"tool: shell_exec\n"
	"agent: bot-1\n"
	"vendor: deepseek\n"
	"model: gpt-4\n"
	"cost_usd: 0.9\n"
	"region: eu-west-1\n"
	"prompt_chars: 14000\n"
	"max_output_tokens: 3000\n"
	"llm_calls: 51\n"
	"environment: prod\n"
	"latency_ms: 6000\n"
	"---\n"
	"action: import.chat\n"
	"kind: import\n"
	"nothing: null\n"
	"meta: {deep: {list: [1, [2, [3]], {x: y}]}}\n";

#define MAX_SUBS 8

static arena *subs_arena;
static submission subs[MAX_SUBS];
static int nsubs;

struct loading {
	diags errs;
};

static void on_sub(void *ctx, const char *text, size_t len, int line)
{
	struct loading *l = ctx;
	bool empty;
	node *root = doc_parse(subs_arena, "subs.yaml", text, len, line, &empty, &l->errs);
	if (root == NULL || nsubs == MAX_SUBS ||
	    !submission_from_doc(root, "subs.yaml", &subs[nsubs], &l->errs)) {
		diags_print(&l->errs, stderr);
		abort();        /* the fixed submissions must load: fix them, not the input */
	}
	nsubs++;
}

static void free_subs(void)
{
	arena_free(subs_arena);
}

static void load_subs(void)
{
	struct loading l = { { 0 } };
	subs_arena = arena_new();
	atexit(free_subs);      /* for the leak checker of the replay */
	doc_split_yaml(subs_text, sizeof subs_text - 1, on_sub, &l);
	diags_free(&l.errs);
}

static bool history(void *ctx, const quota_query *q, double *out, char *err, size_t errlen)
{
	(void)ctx;
	if (q->per_value != NULL && strcmp(q->per_value, "bot-1") == 0) {
		snprintf(err, errlen, "%s", "history unavailable");
		return false;
	}
	*out = q->since < 0 ? 1e300 : 3;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (nsubs == 0)
		load_subs();
	diags errs = { 0 };
	policy_set *ps = policy_set_new();
	policy_set_add_text(ps, "fuzz.yaml", (const char *)data, size, &errs);
	if (errs.n == 0) {
		arena *scratch = arena_new();
		history_source h = { history, NULL };
		for (int i = 0; i < nsubs; i++) {
			eval_options o;
			eval_options_default(&o);
			o.now = 1700000000;
			o.fail_closed = i % 2 == 0;
			o.history = i == 1 ? NULL : &h;
			eval_result r;
			evaluate(ps, &subs[i], &o, scratch, &r);
			json_decref(result_to_json(&subs[i], &r));
			arena_reset(scratch);
		}
		for (size_t i = 0; i < ps->n; i++)
			json_decref(policy_to_json(&ps->items[i]));
		arena_free(scratch);
	}
	diags_free(&errs);
	policy_set_free(ps);
	return 0;
}
