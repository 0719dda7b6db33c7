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

static bool collect(void *ctx, const sub_row *r)
{
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
	policy_set *ps = load_policies(a);
	if (ps == NULL)
		return EXIT_ERROR;
	guard g;
	if (!guard_open(a, &g)) {
		policy_set_free(ps);
		return EXIT_ERROR;
	}
	int rc = EXIT_OK;
	ids list = { 0 };
	if (all) {
		sub_filter waiting = { .status = "waiting" };
		if (!query_list(g.s, &waiting, collect, &list, NULL)) {
			err_printf("arbiter: %s\n", store_errmsg(g.s));
			rc = EXIT_ERROR;
		}
	} else {
		sub_row r;
		int found = query_get(g.s, a->pos[0], &r);
		if (found > 0) {
			collect(&list, &r);
			query_row_done(&r);
		} else {
			err_printf("arbiter: %s\n", found == 0 ? "no such submission" : store_errmsg(g.s));
			rc = found == 0 ? outcome_exit(OUT_NOT_FOUND) : EXIT_ERROR;
		}
	}
	for (size_t i = 0; i < list.n && rc != EXIT_ERROR; i++) {
		static reevaluated r;
		outcome o = op_reevaluate(g.s, &g.cfg, ps, g.actor, list.v[i], &r);
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
	policy_set_free(ps);
	return rc;
}

static const char *const reevaluate_options[] = { "--as NAME", "--pending", NULL };
const command reevaluate_command = { "reevaluate", "ID|--pending [--as NAME]",
	"evaluate waiting submissions again under the pinned policies", reevaluate_options, cmd_reevaluate };
