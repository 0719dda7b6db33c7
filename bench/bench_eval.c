/*
 * bench_eval.c: the engine's performance figures for `make bench`.
 *
 *   bench_eval eval POLICY_DIR FILE...   evaluation of already-parsed
 *       submissions against a policy set: ns per submission (median of runs)
 *   bench_eval load N                    loading and compiling N policies
 *   bench_eval gen N                     N generated submissions as JSON Lines
 *
 * Timing uses CLOCK_MONOTONIC around many repetitions; the figures are
 * printed, never asserted: benchmarks measure, tests decide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine/engine.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct docs {
	arena *a;
	submission subs[1024];
	size_t n;
	const char *file;
};

static void collect(void *ctx, const char *text, size_t len, int line)
{
	struct docs *d = ctx;
	diags errs = { 0 };
	bool empty;
	node *root = doc_parse(d->a, d->file, text, len, line, &empty, &errs);
	if (root != NULL && d->n < 1024 && submission_from_doc(root, d->file, &d->subs[d->n], &errs))
		d->n++;
	diags_free(&errs);
}

static int bench_eval(const char *dir, int nfiles, char **files)
{
	diags errs = { 0 };
	policy_set *ps = policy_set_load(dir, NULL, &errs);
	if (ps == NULL || errs.n > 0) {
		diags_print(&errs, stderr);
		return 1;
	}
	struct docs d = { .a = arena_new() };
	for (int i = 0; i < nfiles; i++) {
		size_t len;
		char why[256];
		char *text = read_file(files[i], &len, why, sizeof why);
		if (text == NULL)
			continue;
		d.file = files[i];
		size_t n = strlen(files[i]);
		if (n > 6 && strcmp(files[i] + n - 6, ".jsonl") == 0)
			doc_split_lines(text, len, collect, &d);
		else
			doc_split_yaml(text, len, collect, &d);
		free(text);
	}
	eval_options o;
	eval_options_default(&o);
	o.now = (int64_t)time(NULL);
	arena *scratch = arena_new();
	enum { RUNS = 15 };
	/* BENCH_REPS shrinks the run for instruction counting under callgrind */
	int REPS = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 2000;
	double per[RUNS];
	size_t findings = 0;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (int k = 0; k < REPS; k++)
			for (size_t i = 0; i < d.n; i++) {
				eval_result res;
				arena_reset(scratch);
				evaluate(ps, &d.subs[i], &o, scratch, &res);
				findings += res.n;
			}
		per[r] = (now_ns() - t0) / (double)(REPS * d.n);
	}
	qsort(per, RUNS, sizeof per[0], cmp_double);
	printf("eval: %zu submissions x %zu policies: median %.0f ns per submission "
	    "(min %.0f, max %.0f; target <= 2000 ns)\n", d.n, ps->n, per[RUNS / 2], per[0],
	    per[RUNS - 1]);
	(void)findings;
	arena_free(scratch);
	arena_free(d.a);
	policy_set_free(ps);
	return 0;
}

static const char *const templates[] = {
	"  - name: p%d_expr\n    type: expression\n    actions: [\"code.*\"]\n"
	"    condition: 'has(cost_usd) && cost_usd > %d && vendor in [\"a\", \"b\"]'\n"
	"    severity: warning\n",
	"  - name: p%d_range\n    type: forbidden_range\n    severity: critical\n"
	"    ranges:\n      - {start: 0x%X, end: 0xFFFF, reason: header}\n",
	"  - name: p%d_tests\n    type: test_requirement\n    rules:\n"
	"      - {test_suite: suite_%d, min_pass_rate: 0.9}\n",
	"  - name: p%d_limits\n    type: change_constraint\n    rules:\n"
	"      - max_bytes_changed: %d\n      - allowed_banks: [0, 1, 14, 15]\n",
	"  - name: p%d_review\n    type: review_requirement\n    conditions:\n"
	"      - if: 'has(commands_executed) && commands_executed > %d'\n"
	"        then: require_log_review\n",
	"  - name: p%d_paths\n    type: protected_paths\n    patterns: [\"secrets/**\", \"*.key%d\"]\n",
	"  - name: p%d_deny\n    type: denylist\n    field: license\n    values: [\"GPL-%d\"]\n",
	"  - name: p%d_quota\n    type: quota\n    limit: %d\n    window: 24h\n    per: submitter\n",
};

static int bench_load(int n)
{
	size_t cap = (size_t)n * 256 + 64, off = 0;
	char *text = malloc(cap);
	off += (size_t)snprintf(text, cap, "version: 1\nenabled: true\npolicies:\n");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off, templates[i % 8], i, 1000 + i);
	enum { RUNS = 11 };
	double t[RUNS];
	for (int r = 0; r < RUNS; r++) {
		diags errs = { 0 };
		double t0 = now_ns();
		policy_set *ps = policy_set_new();
		policy_set_add_text(ps, "bench.yaml", text, off, &errs);
		t[r] = (now_ns() - t0) / 1e6;
		if (errs.n > 0) {
			diags_print(&errs, stderr);
			return 1;
		}
		policy_set_free(ps);
		diags_free(&errs);
	}
	qsort(t, RUNS, sizeof t[0], cmp_double);
	printf("load: %d policies (%zu KiB of YAML) loaded and compiled in median %.1f ms "
	    "(target < 50 ms)\n", n, off / 1024, t[RUNS / 2]);
	free(text);
	return 0;
}

/* Generated submissions: a mix of the example set's shapes. */
static int gen(int n)
{
	static const char *const actions[] = { "rom.patch", "code.modify", "export.bundle",
		"import.chat", "tool.call", "llm.request" };
	static const char *const vendors[] = { "openai", "anthropic", "acme-ai", "mistral" };
	static const char *const licenses[] = { "MIT", "CC-BY-4.0", "CC-BY-NC-4.0", "GPL-3.0" };
	unsigned s = 12345;
	for (int i = 0; i < n; i++) {
		s = s * 1103515245u + 12345u;
		unsigned r = s >> 8;
		const char *action = actions[r % 6];
		printf("{\"action\":\"%s\",\"ref\":\"gen/%d\",\"title\":\"generated %d\","
		    "\"submitter\":\"agent-%u\",\"tenant\":\"acme\",\"vendor\":\"%s\",\"model\":\"m-%u\","
		    "\"bytes_changed\":%u,\"commands_executed\":%u,\"test_failures\":%u,"
		    "\"cost_usd\":%u.%02u,\"license\":\"%s\",\"mode\":\"%s\",\"tool\":\"tool_%u\","
		    "\"changes\":[{\"offset\":%u,\"length\":%u},{\"offset\":%u,\"length\":4}],"
		    "\"banks\":[%u,%u],"
		    "\"tests\":{\"overworld_rendering\":0.%02u,\"palette_integrity\":1.0,\"dungeon_logic\":0.9%u},"
		    "\"files\":[{\"path\":\"src/mod%u.c\",\"op\":\"modify\"},{\"path\":\"docs/n%u.md\",\"op\":\"create\"}]}\n",
		    action, i, i, r % 50, vendors[(r >> 3) % 4], r % 7, (r >> 5) % 20000, (r >> 7) % 25,
		    (r >> 9) % 3, (r >> 4) % 3, r % 100, licenses[(r >> 11) % 4],
		    (r >> 2) % 2 ? "draft" : "auto", r % 9, (r >> 3) % 0x10000, (r >> 6) % 64 + 1,
		    (r >> 1) % 0x8000, (r >> 2) % 16, (r >> 5) % 16, 80 + r % 20, r % 10, r % 100, r % 40);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "eval") == 0)
		return bench_eval(argv[2], argc - 3, argv + 3);
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		return bench_load(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
		return gen(atoi(argv[2]));
	fprintf(stderr, "usage: bench_eval eval DIR FILE... | load N | gen N\n");
	return 2;
}
