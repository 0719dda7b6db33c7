/*
 * cmd_eval.c: arbiter eval: evaluate submissions, store nothing. With --json
 * each result carries the submission's digest, as submit's do.
 */

#include "cli.h"

/* On a worker, for --json: the digest every result carries. */
static bool digest(const batch *b, submission *sub, arena *a, diags *errs)
{
	(void)b;
	(void)a;
	if (submission_digest(sub))
		return true;
	diags_add(errs, sub->file, sub->line, sub->col, "the document cannot be encoded as JSON");
	return false;
}

/* On a worker, for --json: the evaluation and its result line. */
static int evaluate_json(const batch *b, const submission *sub, arena *a, strbuf *out)
{
	eval_result r;
	evaluate(b->ps, sub, &b->opts, a, &r);
	result_write_json(out, NULL, sub, &r);
	sb_put(out, "\n", 1);
	return outcome_exit(status_outcome(r.status));
}

static void evaluate_one(batch *b, const submission *sub)
{
	eval_result r;
	evaluate(b->ps, sub, &b->opts, b->scratch, &r);
	batch_note(b, outcome_exit(status_outcome(r.status)));
	batch_print(b, NULL, sub, &r);
}

static int cmd_eval(const command *c, args *a)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission given (a file, or - for standard input)");
		return EXIT_USAGE;
	}
	policy_set *ps = load_policies(a);
	if (ps == NULL)
		return EXIT_ERROR;
	bool json = arg_has(a, "--json");
	batch b = { .ps = ps, .handle = evaluate_one, .prepare = json ? digest : NULL,
		.work = json ? evaluate_json : NULL };
	eval_options_default(&b.opts);
	b.opts.now = now_ms() / 1000;
	b.opts.tampered = store_policies_tampered(a);
	int rc = batch_run(c, a, &b);
	policy_set_free(ps);
	return rc;
}

static const char *const eval_command_options[] = { "--policies DIR", "--json", "--jsonl", NULL };
const command eval_command = { "eval", "[--policies DIR] [--json] [--jsonl] FILE...|-",
	"evaluate submissions against the policies; store nothing", eval_command_options, cmd_eval };
