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
	strbuf out;             /* one JSON result, reused */
} batch;

static void note(batch *b, int code)
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
		note(b, EXIT_ERROR);
		return;
	}
	eval_result r;
	evaluate(b->ps, &sub, &b->opts, b->scratch, &r);
	note(b, status_exit_code(r.status) == 0 ? EXIT_OK : EXIT_WAITING);
	if (b->json) {
		b->out.n = 0;
		result_write_json(&b->out, NULL, &sub, &r);
		sb_put(&b->out, "\n", 1);
		fwrite(b->out.s, 1, b->out.n, stdout);
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
	free(b.out.s);
	arena_free(b.scratch);
	policy_set_free(ps);
	return b.worst;
}
