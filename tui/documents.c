/*
 * documents.c: the reading loop that eval and submit share.
 *
 * Reads each file (or standard input), splits it into documents (YAML
 * streams at their markers, JSON Lines at newlines: a .jsonl file or
 * --jsonl), validates each as a submission and hands it to the command's
 * handler. A malformed document is reported as FILE:LINE:COL and skipped;
 * the others are still handled. The exit code is the worst outcome: 1 for
 * any error, else 3 when any submission is pending or blocked, else 0.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void batch_note(batch *b, int code)
{
	if (code == EXIT_ERROR || (code == EXIT_WAITING && b->worst == EXIT_OK))
		b->worst = code;
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
		batch_note(b, EXIT_ERROR);
		return;
	}
	b->handle(b, &sub);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int batch_run(const command *c, args *a, batch *b)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission given (a file, or - for standard input)");
		return EXIT_USAGE;
	}
	b->scratch = arena_new();
	b->json = arg_has(a, "--json");
	if (b->opts.now == 0) {
		eval_options_default(&b->opts);
		b->opts.now = (int64_t)time(NULL);
	}
	for (int i = 0; i < a->npos; i++) {
		const char *path = a->pos[i];
		b->file = strcmp(path, "-") == 0 ? "<stdin>" : path;
		size_t len;
		char why[256];
		char *text = read_file(path, &len, why, sizeof why);
		if (text == NULL) {
			fprintf(stderr, "%s: %s\n", b->file, why);
			batch_note(b, EXIT_ERROR);
			continue;
		}
		if (arg_has(a, "--jsonl") || ends_with(path, ".jsonl"))
			doc_split_lines(text, len, one_document, b);
		else
			doc_split_yaml(text, len, one_document, b);
		free(text);
	}
	fflush(stdout);
	diags_free(&b->errs);
	free(b->out.s);
	arena_free(b->scratch);
	return b->worst;
}

void batch_print(batch *b, const char *prefix, const submission *sub, const eval_result *r)
{
	if (b->json) {
		b->out.n = 0;
		result_write_json(&b->out, prefix, sub, r);
		sb_put(&b->out, "\n", 1);
		fwrite(b->out.s, 1, b->out.n, stdout);
	} else {
		result_print_text(stdout, sub, r);
	}
}
