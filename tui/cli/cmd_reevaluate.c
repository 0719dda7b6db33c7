/*
 * cmd_reevaluate.c: arbiter reevaluate ID|--pending.
 *
 * Evaluates waiting submissions again under the current, pinned policy
 * version (after a policy pin, say): one submission, or every pending and
 * blocked one. Refused while the policy files differ from the pinned version:
 * their verdict would be the tampered set's. Each is its own transaction with
 * its submission.reevaluate event. Exit codes as submit's: 0 when every one is
 * now allowed, 3 when any still waits, 1 on errors, 4 when refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct ids {
	int64_t *v;
	size_t n, cap;
} ids;

static bool collect(void *ctx, const sub_row *r, const char *result)
{
	(void)result;
	ids *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (l->v == NULL)
			abort();
	}
	l->v[l->n++] = r->id;
	return true;
}

static int cmd_reevaluate(const command *c, args *a)
{
	bool all = arg_has(a, "--pending");
	if ((a->npos != 1 && !all) || (a->npos > 0 && all)) {
		usage_error(c, "%s", "give one submission ID, or --pending for every waiting one");
		return EXIT_USAGE;
	}
	guard g;
	if (!guard_open(a, &g, true))
		return EXIT_ERROR;
	int rc = EXIT_OK;
	ids list = { 0 };
	op_reply rep;
	if (all) {
		sub_filter waiting = { .status = "waiting" };
		if (op_list(g.s, &waiting, false, collect, &list, NULL, &rep) != OUT_OK) {
			err_printf("arbiter: %s\n", rep.message);
			rc = EXIT_ERROR;
		}
	} else {
		submission_view v;
		outcome o = op_submission_get(g.s, a->pos[0], &v, &rep);
		if (o == OUT_OK) {
			collect(&list, &v.row, NULL);
			submission_view_free(&v);
		} else {
			op_reply audited;
			if (o == OUT_TAMPERED)
				op_tamper_record(g.s, g.actor, v.row.id, v.row.status, v.tampered, &audited);
			submission_view_free(&v);
			err_printf("arbiter: %s\n", o == OUT_NOT_FOUND ? "no such submission" : rep.message);
			rc = outcome_exit(o);
		}
	}
	for (size_t i = 0; i < list.n && rc != EXIT_ERROR; i++) {
		static reevaluated r;
		outcome o = op_reevaluate(g.s, &g.p.cfg, g.p.ps, g.actor, list.v[i], &r);
		if (o == OUT_OK || o == OUT_WAITING || o == OUT_REFUSED) {
			out_printf("%s\n", r.reply.message);
			if (o != OUT_OK && rc == EXIT_OK)
				rc = EXIT_WAITING;
			continue;
		}
		err_printf("arbiter: %s\n", r.reply.message);
		rc = outcome_exit(o);
		if (o == OUT_TAMPERED)
			break;
	}
	if (all && list.n == 0)
		out_printf("no waiting submissions\n");
	free(list.v);
	guard_close(&g);
	return rc;
}

static const char *const reevaluate_options[] = { "--as NAME", "--pending", NULL };
const command reevaluate_command = { "reevaluate", "ID|--pending [--as NAME]",
	"evaluate waiting submissions again under the pinned policies", reevaluate_options, cmd_reevaluate };
