/*
 * cmd_stats.c: arbiter stats [--since T] [--json]: compliance statistics.
 *
 * Epic 4's figures: findings per policy and severity, submissions per
 * status, the override and rejection rates among decided submissions (0
 * when none is decided; an expired override counts as an override), and the
 * top submitters by count. op_stats (data/ops_read.c) reads them;
 * this file prints them as text or, with --json, as stats_json's line. --since takes
 * RFC 3339 ("2026-11-21", "2026-11-21T07:03:12Z") or a duration ago ("24h").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TOP_SUBMITTERS 10

static void print_text(const stats_view *st)
{
	out_printf("submissions: %lld%s%s\n", (long long)st->submissions, st->since ? " since " : "",
	    st->since ? st->since : "");
	for (int i = 0; i <= ST_EXPIRED; i++)
		out_printf("  %-12s %8lld\n", status_name(i), (long long)st->statuses[i]);
	out_printf("decided: %lld; override rate %.1f%%, rejection rate %.1f%%\n",
	    (long long)st->decided, 100.0 * st->override_rate, 100.0 * st->rejection_rate);

	out_printf("\nfindings: %lld (%lld critical, %lld warning, %lld info)\n",
	    (long long)st->findings[0], (long long)st->findings[1], (long long)st->findings[2],
	    (long long)st->findings[3]);
	if (st->npolicies > 0)
		out_printf("  %-36s %8s %8s %8s %8s\n", "POLICY", "CRITICAL", "WARNING", "INFO", "TOTAL");
	for (size_t i = 0; i < st->npolicies; i++) {
		const policy_count *p = &st->policies[i];
		out_printf("  %-36s %8lld %8lld %8lld %8lld\n", p->policy, (long long)p->critical,
		    (long long)p->warning, (long long)p->info, (long long)p->total);
	}

	out_printf("\ntop submitters: %zu\n", st->ntop);
	for (size_t i = 0; i < st->ntop; i++) {
		/* a submitter may hold NUL: its length, not strlen */
		const submitter_count *c = &st->top[i];
		const char *name = c->submitter ? c->submitter : "(none)";
		size_t len = c->submitter ? c->len : strlen(name);
		out_printf("  %-36.*s %8lld\n", (int)len, name, (long long)c->submissions);
	}
}

static int cmd_stats(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	int64_t since = 0;
	const char *t = arg_get(a, "--since");
	if (t != NULL && (!parse_time(t, &since) || since < 0)) {
		usage_error(c, "--since takes RFC 3339 (2026-11-21T07:03:12Z) or a duration ago "
		    "(24h), not %s", t);
		return EXIT_USAGE;
	}
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	stats_view st;
	op_reply r;
	int rc = EXIT_OK;
	if (op_stats(s, since, TOP_SUBMITTERS, &st, &r) != OUT_OK) {
		err_printf("arbiter: %s\n", r.message);
		rc = EXIT_ERROR;
	} else if (arg_has(a, "--json")) {
		char *text = stats_json(&st);
		term_json_line(stdout, text ? text : "{}");
		free(text);
	} else {
		print_text(&st);
	}
	stats_view_free(&st);
	store_close(s);
	return rc;
}

static const char *const stats_options[] = { "--since T", "--json", NULL };
const command stats_command = { "stats", "[--since T] [--json]",
	"findings per policy, submissions per status, rates, top submitters", stats_options, cmd_stats };
