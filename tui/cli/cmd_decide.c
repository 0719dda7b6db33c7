/*
 * cmd_decide.c: arbiter approve, reject and override.
 *
 * approve ID... [--ack] [--note TEXT], reject ID... --reason TEXT, override
 * ID --justification TEXT [--expires DURATION]. One code covers every ID of
 * the call. The decision itself is data/ops_decide.c's op_decide, the same
 * the console calls; this file reads the arguments, asks for the code when
 * the decision needs one, and prints what happened to each ID. Exit by the
 * call's outcome: 0 when every ID was decided, 3 when an override still needs
 * another reviewer, 4 when anything was refused, 1 on errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool parse_id(const char *word, int64_t *id)
{
	char *end;
	long long v = strtoll(word, &end, 10);
	if (word[0] < '0' || word[0] > '9' || *end != '\0' || v <= 0)
		return false;
	*id = v;
	return true;
}

/* Prints what happened to each id; the exit code is the call's outcome's. */
static int report(const decide_result *r, const char *actor)
{
	for (int i = 0; i < r->n; i++) {
		const decided_item *it = &r->items[i];
		if (it->out == OUT_OK || it->out == OUT_WAITING)
			out_printf("%s\n", it->message);
		else
			err_printf("arbiter: %s\n", it->message);
	}
	/* the call's own refusal: the policy files, the actor, the code, a failure */
	if (r->n == 0 || r->call_refused) {
		err_printf("arbiter: %s\n", r->reply.message);
		if (r->actor_refused)
			err_printf("arbiter: acting as %s (--as NAME or the login name)\n", actor);
	}
	return outcome_exit(r->reply.out);
}

static int decide(const command *c, args *a, decide_request *q)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission ID given");
		return EXIT_USAGE;
	}
	if (a->npos > OP_MAX_IDS || (strcmp(q->kind, "override") == 0 && a->npos > 1)) {
		usage_error(c, "%s", a->npos > OP_MAX_IDS ? "too many IDs" : "override takes one ID");
		return EXIT_USAGE;
	}
	static int64_t ids[OP_MAX_IDS];
	int nids = 0;
	for (int i = 0; i < a->npos; i++) {
		int64_t id;
		if (!parse_id(a->pos[i], &id)) {
			usage_error(c, "%s is not a submission ID", a->pos[i]);
			return EXIT_USAGE;
		}
		bool seen = false;      /* an ID given twice is decided once */
		for (int j = 0; j < nids && !seen; j++)
			seen = ids[j] == id;
		if (!seen)
			ids[nids++] = id;
	}
	q->ids = ids;
	q->nids = nids;
	guard g;
	int started = guard_start(a, &g, false, &q->auth);
	if (started != EXIT_OK)
		return started;
	static decide_result r;
	/* without --code the code is asked for only when the decision needs one,
	 * and before the write lock is taken again: a prompt must never hold it */
	while (op_decide(g.s, &g.p.cfg, q, &r) == OUT_UNAUTHENTICATED &&
	    guard_code(a, &g, &r.reply, &q->auth))
		;
	int rc = g.no_code ? EXIT_USAGE : report(&r, g.actor);
	guard_close(&g);
	return rc;
}

int cmd_approve(const command *c, args *a)
{
	decide_request q = { .kind = "approve", .ack = arg_has(a, "--ack"),
		.text = arg_get(a, "--note") };
	return decide(c, a, &q);
}

static int cmd_reject(const command *c, args *a)
{
	decide_request q = { .kind = "reject", .text = arg_get(a, "--reason") };
	if (q.text == NULL || q.text[0] == '\0') {
		usage_error(c, "%s", "a rejection needs --reason TEXT");
		return EXIT_USAGE;
	}
	return decide(c, a, &q);
}

static int cmd_override(const command *c, args *a)
{
	decide_request q = { .kind = "override", .text = arg_get(a, "--justification") };
	if (q.text == NULL) {
		usage_error(c, "%s", "an override needs --justification TEXT");
		return EXIT_USAGE;
	}
	const char *exp = arg_get(a, "--expires");
	if (exp != NULL && (!duration_parse(exp, &q.expires_s) || q.expires_s <= 0)) {
		usage_error(c, "--expires %s is not a duration (such as 8h or 2d)", exp);
		return EXIT_USAGE;
	}
	return decide(c, a, &q);
}

static const char *const approve_options[] = { "--as NAME", "--code CODE", "--ack", "--note TEXT", NULL };
const command approve_command = { "approve", "ID... [--ack] [--note TEXT] [--as NAME] [--code CODE|-]",
	"approve pending submissions (--ack acknowledges warnings)", approve_options, cmd_approve };

static const char *const reject_options[] = { "--as NAME", "--code CODE", "--reason TEXT", NULL };
const command reject_command = { "reject", "ID... --reason TEXT [--as NAME] [--code CODE|-]",
	"reject pending or blocked submissions", reject_options, cmd_reject };

static const char *const override_options[] = { "--as NAME", "--code CODE", "--justification TEXT", "--expires DURATION",
	NULL };
const command override_command = { "override",
	"ID --justification TEXT [--expires DURATION] [--as NAME] [--code CODE|-]",
	"override a blocked submission, for a while, with a written justification", override_options, cmd_override };
