/*
 * cmd_stats.c: arbiter stats [--since T] [--json]: compliance statistics.
 *
 * Epic 4's figures: findings per policy and severity, submissions per
 * status, the override and rejection rates among decided submissions (0
 * when none is decided; an expired override counts as an override), and the
 * top submitters by count. data/queries.c computes them as one JSON object;
 * this file prints it as text or, with --json, as one line. --since takes
 * RFC 3339 ("2026-11-21", "2026-11-21T07:03:12Z") or a duration ago ("24h").
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TOP_SUBMITTERS 10

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void print_text(const json_t *st)
{
	const json_t *since = json_object_get(st, "since");
	out_printf("submissions: %lld%s%s\n", (long long)num(st, "submissions"),
	    json_is_string(since) ? " since " : "", json_is_string(since) ? json_string_value(since) : "");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)json_object_get(st, "statuses"), key, v)
		out_printf("  %-12s %8lld\n", key, (long long)json_integer_value(v));
	out_printf("decided: %lld; override rate %.1f%%, rejection rate %.1f%%\n",
	    (long long)num(st, "decided"),
	    100.0 * json_real_value(json_object_get(st, "override_rate")),
	    100.0 * json_real_value(json_object_get(st, "rejection_rate")));

	const json_t *f = json_object_get(st, "findings");
	out_printf("\nfindings: %lld (%lld critical, %lld warning, %lld info)\n",
	    (long long)num(f, "total"), (long long)num(f, "critical"), (long long)num(f, "warning"),
	    (long long)num(f, "info"));
	const json_t *policies = json_object_get(f, "policies");
	if (json_array_size(policies) > 0)
		out_printf("  %-36s %8s %8s %8s %8s\n", "POLICY", "CRITICAL", "WARNING", "INFO", "TOTAL");
	size_t i;
	json_t *p;
	json_array_foreach(policies, i, p)
		out_printf("  %-36s %8lld %8lld %8lld %8lld\n",
		    json_string_value(json_object_get(p, "policy")), (long long)num(p, "critical"),
		    (long long)num(p, "warning"), (long long)num(p, "info"), (long long)num(p, "total"));

	const json_t *subs = json_object_get(st, "top_submitters");
	out_printf("\ntop submitters: %zu\n", json_array_size(subs));
	json_array_foreach(subs, i, p) {
		/* a submitter may hold NUL: its length, not strlen */
		const json_t *who = json_object_get(p, "submitter");
		const char *name = json_is_string(who) ? json_string_value(who) : "(none)";
		size_t len = json_is_string(who) ? json_string_length(who) : strlen(name);
		out_printf("  %-36.*s %8lld\n", (int)len, name, (long long)num(p, "submissions"));
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
	json_t *st = query_stats(s, since, TOP_SUBMITTERS);
	int rc = EXIT_OK;
	if (st == NULL) {
		err_printf("arbiter: %s\n", store_errmsg(s));
		rc = EXIT_ERROR;
	} else if (arg_has(a, "--json")) {
		char *text = json_dumps(st, JSON_COMPACT | JSON_REAL_PRECISION(6));
		term_json_line(stdout, text ? text : "{}");
		free(text);
	} else {
		print_text(st);
	}
	json_decref(st);
	store_close(s);
	return rc;
}

static const char *const stats_options[] = { "--since T", "--json", NULL };
const command stats_command = { "stats", "[--since T] [--json]",
	"findings per policy, submissions per status, rates, top submitters", stats_options, cmd_stats };
