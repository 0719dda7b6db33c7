/*
 * cmd_submit.c: arbiter submit: evaluate and store submissions.
 *
 * Each submission is stored with its findings, its policy version and its
 * audit event by the submit operation (data/ops_submit.c), which shares one
 * transaction among a batch of them. The output is eval's, with the stored
 * id and policy version; a retry of a stored ref prints the stored result.
 * Exit codes by each submission's status, the worst of them.
 *
 * Results are held back until their batch commits, so nothing is reported
 * stored that is not; a killed process loses at most the batch it was on.
 * Through a server each document is answered after the server's commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct submitting {
	submit_batch batch;     /* the operation's batch writer */
	FILE *out;              /* their output, printed when they commit */
	char *text;
	size_t len;
	stored last;            /* the last one stored, its buffers reused */
	strbuf json;            /* its result, with --json; reused */
	bool evaluate_ahead;    /* a store of files: workers evaluate (canonical) */
} submitting;

/* On a worker: the canonical JSON the store keeps, its content hash (what
 * a retried ref is compared by) and the digest; and, for a store of files,
 * the evaluation without history (sub->ahead), of which the writing thread
 * then runs again only the quota rules, and only for a document a quota
 * rule counts. */
static bool canonical(const batch *b, submission *sub, arena *a, diags *errs)
{
	if (!submission_canonical(sub, a) || !submission_digest(sub)) {
		diags_add(errs, sub->file, sub->line, sub->col,
		    "the document cannot be encoded as JSON");
		return false;
	}
	const submitting *st = b->ctx;
	if (st->evaluate_ahead) {
		eval_options o = b->opts;
		o.history = NULL;
		eval_result *r = arena_alloc(a, sizeof *r);
		evaluate(b->ps, sub, &o, a, r);
		sub->ahead = r;
	}
	return true;
}

/* From a commit's signatures to its end the store's writer is alone, and
 * the workers read ahead meanwhile. */
static void read_ahead(void *ctx, bool alone)
{
	batch_read_ahead(ctx, alone);
}

static void pending_open(submitting *st)
{
	st->out = open_memstream(&st->text, &st->len);
	if (st->out == NULL)
		abort();
}

/* Output held back until its batch commits is dropped: those submissions
 * were not stored, or their results are out. The stream's buffer is kept
 * for the next batch (a memory stream's length is its position at a
 * flush), not grown again from nothing for each one. */
static void pending_drop(submitting *st)
{
	fflush(st->out);
	fseek(st->out, 0, SEEK_SET);
}

static void report_lost(batch *b, const submit_reply *rep)
{
	if (rep->lost > 0) {
		err_printf("arbiter: %s: the last %d submissions were not stored\n",
		    rep->reply.message, rep->lost);
		batch_note(b, EXIT_ERROR);
	}
}

/* Ends the open batch: commits it and prints its results, or reports that
 * none of them was stored. */
static bool batch_commit(batch *b, submitting *st)
{
	submit_reply rep;
	bool ok = op_submit_commit(&st->batch, &rep) == OUT_OK;
	fflush(st->out);
	if (ok)
		term_exact(stdout, st->text, st->len);   /* written through the writer already */
	report_lost(b, &rep);
	pending_drop(st);
	return ok;
}

static void submit_doc(batch *b, const submission *sub)
{
	submitting *st = b->ctx;
	eval_result r;
	stored *out = &st->last;
	submit_reply rep;
	outcome o = op_submit(&st->batch, sub, b->scratch, &r, out, &rep);
	if (rep.lost > 0 || (o == OUT_IO_ERROR && !store_in_transaction(st->batch.s)))
		pending_drop(st);       /* the batch went back with this document */
	report_lost(b, &rep);
	if (o == OUT_TAMPERED) {
		/* a retry whose stored allow its signed events do not back: the
		 * batch so far is committed, and the mismatch audited in a
		 * transaction of its own */
		batch_commit(b, st);
		err_printf("%s:%d:%d: %s\n", sub->file, sub->line, sub->col, rep.reply.message);
		op_reply audited;
		if (op_tamper_record(st->batch.s, st->batch.actor, out->id, out->status, out->tampered,
		    &audited) != OUT_OK)
			err_printf("arbiter: submission %lld: the mismatch could not be audited: %s\n",
			    (long long)out->id, audited.message);
		batch_note(b, EXIT_REFUSED);
		return;
	}
	if (o != OUT_OK) {
		err_printf("%s:%d:%d: %s\n", sub->file, sub->line, sub->col, rep.reply.message);
		batch_note(b, EXIT_ERROR);
		return;
	}
	if (out->existing) {
		const char *status = "pending";
		bool have = op_submit_result(&st->batch, sub, &r, out, &st->json, &status);
		batch_note(b, status_name_exit(status));
		if (b->json && have)
			term_json_line(st->out, st->json.s);
		else
			term_printf(st->out, "%s:%d: %.*s: already stored as submission %lld (%s)\n",
			    sub->file, sub->line, (int)(sub->ref_len ? sub->ref_len : strlen(sub->ref)),
			    sub->ref, (long long)out->id, status);
		return;
	}
	batch_note(b, outcome_exit(status_outcome(r.status)));
	const char *status;
	if (b->json && op_submit_result(&st->batch, sub, &r, out, &st->json, &status)) {
		term_exact(st->out, st->json.s, st->json.n);
		term_exact(st->out, "\n", 1);
	} else {
		result_print_text(st->out, sub, &r);
		term_printf(st->out, "  stored as submission %lld\n", (long long)out->id);
	}
}

/* Before waiting for documents not yet read (a pipe that paused): the
 * open batch commits, so every answer so far is out. */
static void submit_idle(batch *b)
{
	submitting *st = b->ctx;
	if (store_in_transaction(st->batch.s))
		batch_commit(b, st);
}

/* A full batch commits before the next document is read, so that the write
 * lock is free while it is parsed: other writers get their turn. */
static void submit_one(batch *b, const submission *sub)
{
	submitting *st = b->ctx;
	submit_doc(b, sub);
	if (op_submit_due(&st->batch))
		batch_commit(b, st);
}

static int cmd_submit(const command *c, args *a)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission given (a file, or - for standard input)");
		return EXIT_USAGE;
	}
	prepared p;
	store *s = open_store_prepared(a, &p);
	if (s == NULL)
		return EXIT_ERROR;
	op_reply rep;
	outcome o = op_prepare(s, true, &p, &rep);
	batch b = { .ps = p.ps, .prepare = canonical, .handle = submit_one, .idle = submit_idle };
	eval_options_default(&b.opts);
	b.opts.now = now_ms() / 1000;
	int rc = EXIT_ERROR;
	if (o == OUT_BAD_INPUT) {
		diags_print(&p.policy_errs, stderr);
		if (p.policy_errs.n == 0)
			diags_print(&p.cfg_errs, stderr);
		err_printf("arbiter: %s; nothing was stored\n", rep.message);
	} else if (o != OUT_OK) {
		err_printf("arbiter: %s\n", rep.message);
	} else {
		/* the policies and settings in use are the bytes that were checked */
		b.opts.enforcement = p.cfg.enforcement;
		b.opts.fail_closed = p.cfg.fail_closed;
		if (p.integ.tampered) {
			integrity_warn(s, &p.integ, actor_name(a));
			b.opts.tampered = p.integ.what;
		}
		submitting st = { .batch = { .s = s, .ps = p.ps, .opts = &b.opts,
			.version = p.version, .actor = actor_name(a), .stream = true },
			.evaluate_ahead = !store_remote(s) && p.ps != NULL };
		pending_open(&st);
		store_bulk(s);
		store_on_signed(s, read_ahead, &b);
		b.ctx = &st;
		rc = batch_run(c, a, &b);
		if (!batch_commit(&b, &st))
			rc = EXIT_ERROR;
		store_on_signed(s, NULL, NULL);
		fclose(st.out);
		free(st.text);
		free(st.json.s);
		free(st.last.details.s);
		free(st.last.evidence.s);
		fflush(stdout);
	}
	prepared_free(&p);
	store_close(s);
	return rc;
}

static const char *const submit_options[] = { "--as NAME", "--json", "--jsonl", NULL };
const command submit_command = { "submit", "[--json] [--jsonl] [--as NAME] FILE...|-",
	"evaluate submissions and store them with their findings", submit_options, cmd_submit };
