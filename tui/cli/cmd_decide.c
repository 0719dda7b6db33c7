/*
 * cmd_decide.c: arbiter approve, reject and override.
 *
 * approve ID... [--ack] [--note TEXT], reject ID... --reason TEXT, override
 * ID --justification TEXT [--expires DURATION]. One code covers every ID of
 * the call. Everything happens in one write transaction: each ID is checked
 * (data/decisions.c), then, if any may be decided, the code is verified, then
 * the decisions are recorded with their audit events and committed together.
 * Exit 0 when every ID was decided, 3 when an override still needs another
 * reviewer, 4 when anything was refused, 1 on errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { MAX_IDS = 256 };

static bool parse_id(const char *word, int64_t *id)
{
	char *end;
	long long v = strtoll(word, &end, 10);
	if (word[0] < '0' || word[0] > '9' || *end != '\0' || v <= 0)
		return false;
	*id = v;
	return true;
}

static bool needs_code(const decision_req *q, const settings *c)
{
	return strcmp(q->kind, "override") == 0 || c->approve_requires_code;
}

static void report(const decision_req *q, const decision_plan *p)
{
	bool over = strcmp(q->kind, "override") == 0;
	if (!over) {
		printf("submission %lld %s by %s\n", (long long)p->id,
		    strcmp(q->kind, "approve") == 0 ? "approved" : "rejected", q->reviewer);
	} else if (!p->complete) {
		printf("submission %lld: override %d of %d recorded by %s; it stays blocked until a "
		    "second, different reviewer gives theirs\n", (long long)p->id, p->given,
		    p->approvals, q->reviewer);
	} else {
		char until[32];
		format_time(p->expires_ms, until);
		printf("submission %lld overridden by %s until %s\n", (long long)p->id, q->reviewer,
		    until);
	}
}

static int decide(const command *c, args *a, decision_req *q)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission ID given");
		return EXIT_USAGE;
	}
	if (a->npos > MAX_IDS || (strcmp(q->kind, "override") == 0 && a->npos > 1)) {
		usage_error(c, "%s", a->npos > MAX_IDS ? "too many IDs" : "override takes one ID");
		return EXIT_USAGE;
	}
	static int64_t ids[MAX_IDS];
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
	guard g;
	if (!guard_open(a, &g, true))
		return guard_exit(&g);
	q->reviewer = g.actor;
	reviewer r;
	int rc = EXIT_OK;
	int known = reviewer_get(g.s, g.actor, &r);
	if (known <= 0 || r.disabled) {
		fprintf(stderr, "arbiter: %s\n", known < 0 ? store_errmsg(g.s) : r.disabled ?
		    "this reviewer is disabled" : "not an enrolled reviewer (an admin adds one with "
		    "arbiter reviewer add NAME)");
		if (known == 0 || r.disabled) {
			fprintf(stderr, "arbiter: acting as %s (--as NAME or the login name)\n", g.actor);
			code_refusal_audit(g.s, g.actor, known == 0 ? "not an enrolled reviewer" :
			    "disabled reviewer");
		}
		guard_close(&g);
		return known < 0 ? EXIT_ERROR : EXIT_REFUSED;
	}
	q->reviewer_admin = r.admin;
	bool code = needs_code(q, &g.cfg);
	if (code && !read_code(a, g.actor, g.code, sizeof g.code)) {
		guard_close(&g);
		return EXIT_USAGE;
	}
	if (!store_begin(g.s)) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g.s));
		guard_close(&g);
		return EXIT_ERROR;
	}
	static decision_plan plans[MAX_IDS];
	int ok = 0;
	for (int i = 0; i < nids; i++) {
		char why[512];
		int d = decision_check(g.s, &g.cfg, ids[i], q, &plans[ok], why, sizeof why);
		if (d == DECIDE_OK) {
			ok++;
		} else if (d == DECIDE_REFUSED) {
			fprintf(stderr, "arbiter: %s\n", why);
			rc = EXIT_REFUSED;
		} else {
			fprintf(stderr, "arbiter: %s\n", store_errmsg(g.s));
			guard_close(&g);
			return EXIT_ERROR;
		}
	}
	if (ok == 0) {
		guard_close(&g);
		return rc;
	}
	if (code) {
		int v = guard_verify(&g);
		if (v != EXIT_OK) {
			guard_close(&g);
			return v;
		}
	}
	for (int i = 0; i < ok; i++)
		if (!decision_record(g.s, q, &plans[i])) {
			fprintf(stderr, "arbiter: %s; nothing was decided\n", store_errmsg(g.s));
			guard_close(&g);
			return EXIT_ERROR;
		}
	if (!store_commit(g.s)) {
		fprintf(stderr, "arbiter: %s; nothing was decided\n", store_errmsg(g.s));
		guard_close(&g);
		return EXIT_ERROR;
	}
	for (int i = 0; i < ok; i++) {
		report(q, &plans[i]);
		if (rc == EXIT_OK && strcmp(q->kind, "override") == 0 && !plans[i].complete)
			rc = EXIT_WAITING;
	}
	guard_close(&g);
	return rc;
}

static int cmd_approve(const command *c, args *a)
{
	decision_req q = { .kind = "approve", .ack = arg_has(a, "--ack"),
		.text = arg_get(a, "--note") };
	return decide(c, a, &q);
}

static int cmd_reject(const command *c, args *a)
{
	decision_req q = { .kind = "reject", .text = arg_get(a, "--reason") };
	if (q.text == NULL || q.text[0] == '\0') {
		usage_error(c, "%s", "a rejection needs --reason TEXT");
		return EXIT_USAGE;
	}
	return decide(c, a, &q);
}

static int cmd_override(const command *c, args *a)
{
	decision_req q = { .kind = "override", .text = arg_get(a, "--justification") };
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
const command approve_command = { "approve", "ID... [--ack] [--note TEXT] [--code CODE|-]",
	"approve pending submissions (--ack acknowledges warnings)", approve_options, cmd_approve };

static const char *const reject_options[] = { "--as NAME", "--code CODE", "--reason TEXT", NULL };
const command reject_command = { "reject", "ID... --reason TEXT [--code CODE|-]",
	"reject pending or blocked submissions", reject_options, cmd_reject };

static const char *const override_options[] = { "--as NAME", "--code CODE", "--justification TEXT", "--expires DURATION",
	NULL };
const command override_command = { "override", "ID --justification TEXT [--expires DURATION] [--code CODE|-]",
	"override a blocked submission, for a while, with a written justification", override_options, cmd_override };
