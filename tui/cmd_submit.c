/*
 * cmd_submit.c: arbiter submit: evaluate and store submissions.
 *
 * Each submission is stored with its findings, its policy version and its
 * audit event in one transaction (data/submissions.c). The output is eval's,
 * with the stored id and policy version; a retry of a stored ref prints the
 * stored result. Exit codes as eval's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

typedef struct submitting {
	store *s;
	int version;
	const char *actor;
} submitting;

static void submit_one(batch *b, const submission *sub)
{
	submitting *st = b->ctx;
	eval_result r;
	stored out;
	if (!store_submit(st->s, b->ps, st->version, sub, &b->opts, b->scratch, st->actor, &r, &out)) {
		fprintf(stderr, "%s:%d:%d: %s\n", sub->file, sub->line, sub->col, st->s->err);
		batch_note(b, EXIT_ERROR);
		return;
	}
	if (out.existing) {
		const char *status = "pending";
		char *json = store_result_json(st->s, out.id, &status);
		int code = strcmp(status, "allowed") == 0 || strcmp(status, "approved") == 0 ||
		    strcmp(status, "overridden") == 0 ? EXIT_OK : EXIT_WAITING;
		batch_note(b, code);
		if (b->json && json)
			printf("%s\n", json);
		else
			printf("%s:%d: %s: already stored as submission %lld (%s)\n", sub->file, sub->line,
			    sub->ref, (long long)out.id, status);
		free(json);
		return;
	}
	batch_note(b, status_exit_code(r.status) == 0 ? EXIT_OK : EXIT_WAITING);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "\"id\":%lld,\"policy_version\":%d,", (long long)out.id,
	    st->version);
	batch_print(b, prefix, sub, &r);
	if (!b->json)
		printf("  stored as submission %lld\n", (long long)out.id);
}

int cmd_submit(const command *c, args *a)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission given (a file, or - for standard input)");
		return EXIT_USAGE;
	}
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s/policies", s->dir);
	diags errs = { 0 };
	policy_set *ps = policy_set_load(dir, "policies", &errs);
	batch b = { .ps = ps, .handle = submit_one };
	eval_options_default(&b.opts);
	b.opts.now = (int64_t)time(NULL);
	int rc = EXIT_ERROR;
	if (ps == NULL || errs.n > 0 || !store_config(s, &b.opts, &errs)) {
		diags_print(&errs, stderr);
		fprintf(stderr, "arbiter: the store's policies or config have errors; nothing was stored\n");
	} else if (!store_load_signing_key(s)) {
		fprintf(stderr, "arbiter: %s\n", s->err);
	} else {
		if (!b.opts.enforcement)
			fprintf(stderr, "arbiter: ENFORCEMENT IS DISABLED (config.yaml enforcement.enabled: "
			    "false): every submission is allowed\n");
		submitting st = { s, store_policy_version(s), actor_name(a) };
		b.ctx = &st;
		rc = batch_run(c, a, &b);
	}
	diags_free(&errs);
	policy_set_free(ps);
	store_close(s);
	return rc;
}
