/*
 * cmd_eval.c: arbiter eval: evaluate submissions, store nothing.
 *
 * Reads each file (or standard input), splits it into documents (YAML
 * streams at their markers, JSON Lines at newlines), and prints one result
 * per document: text for people, or one JSON object per line. A malformed
 * document is reported as FILE:LINE:COL and skipped; the others are still
 * evaluated. The exit code is the worst outcome: 1 for any input error, else
 * 3 when any submission is pending or blocked, else 0.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

typedef struct batch {
	const policy_set *ps;
	eval_options opts;
	arena *scratch;
	const char *file;
	bool json;
	int worst;              /* exit code so far */
	diags errs;
	char *out;              /* JSON output buffer */
	size_t outcap;
} batch;

static void note(batch *b, int code)
{
	if (code == EXIT_ERROR || (code == EXIT_WAITING && b->worst == EXIT_OK))
		b->worst = code;
}

static void emit_json(batch *b, json_t *j)
{
	size_t need = json_dumpb(j, NULL, 0, JSON_COMPACT);
	if (need + 1 > b->outcap) {
		b->outcap = need * 2 + 1;
		b->out = realloc(b->out, b->outcap);
		if (b->out == NULL)
			abort();
	}
	json_dumpb(j, b->out, need, JSON_COMPACT);
	b->out[need] = '\n';
	fwrite(b->out, 1, need + 1, stdout);
}

static void one_document(void *ctx, const char *text, size_t len, int line)
{
	batch *b = ctx;
	arena_reset(b->scratch);
	bool empty;
	node *root = doc_parse(b->scratch, b->file, text, len, line, &empty, &b->errs);
	submission sub;
	if (root == NULL && empty)
		return;
	if (root == NULL || !submission_from_doc(root, b->file, &sub, &b->errs)) {
		diags_print(&b->errs, stderr);
		diags_clear(&b->errs);
		note(b, EXIT_ERROR);
		return;
	}
	eval_result r;
	evaluate(b->ps, &sub, &b->opts, b->scratch, &r);
	note(b, status_exit_code(r.status) == 0 ? EXIT_OK : EXIT_WAITING);
	if (b->json) {
		json_t *j = result_to_json(&sub, &r);
		emit_json(b, j);
		json_decref(j);
	} else {
		result_print_text(stdout, &sub, &r);
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cmd_eval(const command *c, args *a)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission given (a file, or - for standard input)");
		return EXIT_USAGE;
	}
	policy_set *ps = load_policies(a);
	if (ps == NULL)
		return EXIT_ERROR;
	batch b = { .ps = ps, .scratch = arena_new(), .json = arg_has(a, "--json") };
	eval_options_default(&b.opts);
	b.opts.now = (int64_t)time(NULL);
	for (int i = 0; i < a->npos; i++) {
		const char *path = a->pos[i];
		b.file = strcmp(path, "-") == 0 ? "<stdin>" : path;
		size_t len;
		char why[256];
		char *text = read_file(path, &len, why, sizeof why);
		if (text == NULL) {
			fprintf(stderr, "%s: %s\n", b.file, why);
			note(&b, EXIT_ERROR);
			continue;
		}
		if (arg_has(a, "--jsonl") || ends_with(path, ".jsonl"))
			doc_split_lines(text, len, one_document, &b);
		else
			doc_split_yaml(text, len, one_document, &b);
		free(text);
	}
	fflush(stdout);
	diags_free(&b.errs);
	free(b.out);
	arena_free(b.scratch);
	policy_set_free(ps);
	return b.worst;
}
