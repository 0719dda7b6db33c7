/*
 * fuzz_doc.c: libFuzzer target for the document reader.
 *
 * The input is read the three ways the command line reads submissions: as a
 * YAML stream split at its document markers, as one whole document, and as
 * JSON Lines. Every root that parses goes through submission_from_doc, and
 * the submissions that validate are evaluated against a small built-in policy
 * set with one policy of each rule type, so hostile documents also reach the
 * rules. Every root's canonical JSON, written directly, must equal jansson's;
 * every root has an RFC 8785 form (canon.c), which jansson must read as JSON,
 * and every submission a digest. Everything of one input lives in one arena,
 * freed at the end.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_doc, and with replay.c as
 * build/asan/tests/replay_doc for `make test`.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/engine.h"

/* One policy of every rule type, reading the fields the corpus uses. */
static const char policies_text[] =
	"version: 1\n"
	"enabled: true\n"
	"policies:\n"
	"  - name: expr_rule\n"
	"    type: expression\n"
	"    when: 'has(action)'\n"
	"    condition: 'has(bytes_changed) && bytes_changed > 100 || size(title) > 5 ||"
	" any(files, f, has(f) && string(f) != \"\")'\n"
	"  - name: regex_rule\n"
	"    type: expression\n"
	"    when: 'has(title) && has(submitter)'\n"
	"    condition: 'matches(title, \"[a-z]+@[a-z]+\\\\.com\") || matches(submitter, \"^[a-z0-9-]+$\")'\n"
	"    severity: info\n"
	"  - name: range_rule\n"
	"    type: forbidden_range\n"
	"    actions: [\"rom.*\", \"*\"]\n"
	"    ranges:\n"
	"      - {start: 0xFFB0, end: 0xFFFF, reason: header}\n"
	"      - {start: 0, end: 16}\n"
	"    severity: critical\n"
	"  - name: test_rule\n"
	"    type: test_requirement\n"
	"    rules:\n"
	"      - {test_suite: smoke, min_pass_rate: 0.9}\n"
	"      - {test_suite: \"odd name\", min_pass_rate: 1}\n"
	"  - name: limit_rule\n"
	"    type: change_constraint\n"
	"    rules:\n"
	"      - max_bytes_changed: 1024\n"
	"      - min_commands_executed: 1\n"
	"      - allowed_banks: [0, 1, 14, 15]\n"
	"      - forbidden_tags: [bad, \"worse\"]\n"
	"      - max_files: 3\n"
	"  - name: review_rule\n"
	"    type: review_requirement\n"
	"    conditions:\n"
	"      - {if: 'has(test_failures) && test_failures > 0', then: explain, message: why}\n"
	"      - {if: 'count(changes, c, has(c.offset)) > 1', then: diff}\n"
	"  - name: paths_rule\n"
	"    type: protected_paths\n"
	"    patterns: [\"secrets/**\", \"*.env\", \"[a-c]?/x\"]\n"
	"    operations: [modify, delete]\n"
	"  - name: paths_any\n"
	"    type: protected_paths\n"
	"    field: paths\n"
	"    patterns: \"**/*.key\"\n"
	"  - name: allow_rule\n"
	"    type: allowlist\n"
	"    field: vendor\n"
	"    values: [openai, anthropic, 1, true, null]\n"
	"  - name: deny_rule\n"
	"    type: denylist\n"
	"    field: tool\n"
	"    values: [shell_exec, 3.5]\n"
	"  - name: quota_rule\n"
	"    type: quota\n"
	"    limit: 2\n"
	"    window: 1h30m\n"
	"    per: tenant\n"
	"    field: cost_usd\n"
	"  - name: quota_count\n"
	"    type: quota\n"
	"    limit: 0\n"
	"    window: 60\n"
	"  - name: modify_rule\n"
	"    type: expression\n"
	"    condition: 'has(mode) && mode != \"draft\"'\n"
	"    effect: modify\n"
	"    set: {mode: draft, level: 2}\n"
	"  - name: modify_clash\n"
	"    type: expression\n"
	"    condition: 'has(mode)'\n"
	"    effect: modify\n"
	"    set: {mode: auto}\n";

static policy_set *policies;

static bool history(void *ctx, const quota_query *q, double *out, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	*out = q->per_value != NULL ? (double)strlen(q->per_value) : 1;
	return true;
}

static void free_policies(void)
{
	policy_set_free(policies);
}

static void load_policies(void)
{
	diags errs = { 0 };
	policies = policy_set_new();
	atexit(free_policies);  /* for the leak checker of the replay */
	policy_set_add_text(policies, "fuzz-policies.yaml", policies_text, sizeof policies_text - 1,
	    &errs);
	if (errs.n != 0) {
		diags_print(&errs, stderr);
		abort();        /* the built-in set must load: fix it, not the input */
	}
	diags_free(&errs);
}

struct state {
	arena *a;
	diags errs;
	int docs;
};

/* The canonical JSON written directly is jansson's text for the same tree,
 * byte for byte: stored content hashes depend on it. */
static void check_canonical(const node *root)
{
	json_t *j = node_to_json(root);
	char *expect = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) :
	    NULL;
	json_decref(j);
	strbuf b = { 0 };
	node_write_canonical(&b, root);
	if (expect != NULL && strcmp(expect, b.s) != 0) {
		fprintf(stderr, "canonical JSON differs:\n jansson: %s\n direct:  %s\n", expect, b.s);
		abort();
	}
	free(expect);
	free(b.s);
}

/* A parsed document holds nothing JSON cannot (no NaN or infinity, only
 * UTF-8), so its RFC 8785 form always exists, and is JSON. jansson, which
 * judges that, keeps no NUL in a key (a name written \u0000 is JSON all
 * the same): such a text is judged only by canon_write's own success, as
 * fuzz_json judges it. */
static void check_jcs(const node *root)
{
	strbuf b = { 0 };
	if (!canon_write(&b, root)) {
		fprintf(stderr, "no RFC 8785 form for a parsed document: %s\n", b.s ? b.s : "");
		abort();
	}
	json_error_t err;
	json_t *j = json_loadb(b.s, b.n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
	    &err);
	if (j == NULL && strstr(err.text, "NUL byte in object key") == NULL) {
		fprintf(stderr, "RFC 8785 form is not JSON (%s): %s\n", err.text, b.s);
		abort();
	}
	json_decref(j);
	free(b.s);
}

static void check_root(struct state *st, const node *root, const char *file)
{
	submission sub;
	char buf[256];
	value_format(value_of_node(root), buf, sizeof buf);
	check_canonical(root);
	check_jcs(root);
	if (!submission_from_doc(root, file, &sub, &st->errs))
		return;
	if (!submission_digest(&sub) || strlen(sub.digest) != 64)
		abort();
	eval_options o;
	eval_options_default(&o);
	o.now = 1700000000;
	history_source h = { history, NULL };
	o.history = &h;
	eval_result r;
	evaluate(policies, &sub, &o, st->a, &r);
}

static void on_chunk(void *ctx, const char *text, size_t len, int line)
{
	struct state *st = ctx;
	bool empty;
	/* a few hundred documents are plenty to reach every path */
	if (++st->docs > 256)
		return;
	node *root = doc_parse(st->a, "fuzz.yaml", text, len, line, &empty, &st->errs);
	if (root != NULL)
		check_root(st, root, "fuzz.yaml");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (policies == NULL)
		load_policies();
	const char *text = (const char *)data;
	struct state st = { .a = arena_new() };

	doc_split_yaml(text, size, on_chunk, &st);

	/* the whole input as one document, markers and all */
	bool empty;
	node *root = doc_parse(st.a, "whole.yaml", text, size, 1, &empty, &st.errs);
	if (root != NULL)
		check_root(&st, root, "whole.yaml");

	st.docs = 0;
	doc_split_lines(text, size, on_chunk, &st);

	diags_free(&st.errs);
	arena_free(st.a);
	return 0;
}
