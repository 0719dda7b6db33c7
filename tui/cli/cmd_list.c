/*
 * cmd_list.c: arbiter list: the submissions, filtered by status, kind,
 * action, policy, submitter and time.
 *
 * The rows stream from the store's listing (data/list.c), which walks
 * indexes and stops at --limit: nothing is loaded beyond it, so the listing
 * stays instant with a million submissions. The waiting statuses (pending,
 * blocked, waiting) list oldest first, the order a reviewer works the queue;
 * every other filter lists newest first. --after ID goes on from a page's
 * last row, and the text listing ends with the cursor when more rows match.
 * --json prints one result object per line (section 3's fields with the
 * current status and created_at).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_LIMIT 1000000000

typedef struct listing {
	bool json;
	int64_t now, rows;
} listing;

/* The age as one short unit: 42s, 5m, 3h, 12d. */
static void format_age(int64_t ms, char out[16])
{
	int64_t sec = ms > 0 ? ms / 1000 : 0;
	if (sec < 60)
		snprintf(out, 16, "%llds", (long long)sec);
	else if (sec < 3600)
		snprintf(out, 16, "%lldm", (long long)(sec / 60));
	else if (sec < 86400)
		snprintf(out, 16, "%lldh", (long long)(sec / 3600));
	else
		snprintf(out, 16, "%lldd", (long long)(sec / 86400));
}

/* One column of outside text (n bytes, which may hold NUL; "-" for none),
 * through the terminal writer: cut to max characters, so that a row stays
 * one line whatever its title holds, and padded to width. */
static void column(const char *s, size_t n, size_t max, size_t width)
{
	if (s == NULL)
		s = "-", n = 1;
	term_field(stdout, s, n, VIS_TEXT, max, width);
}

static bool print_row(void *ctx, const sub_row *r, const char *result)
{
	listing *l = ctx;
	if (l->json) {
		term_json_line(stdout, result);
	} else {
		if (l->rows == 0)
			out_printf("%-7s %-8s %-20s %-10s %-16s %5s %-9s %s\n", "ID", "KIND",
			    "ACTION", "STATUS", "SUBMITTER", "AGE", "C/W/I", "TITLE");
		char age[16], counts[40];
		format_age(l->now - r->created_ms, age);
		snprintf(counts, sizeof counts, "%d/%d/%d", r->counts[2], r->counts[1], r->counts[0]);
		out_printf("%-7lld %-8s ", (long long)r->id, r->kind);
		column(r->action, strlen(r->action), 20, 21);
		out_printf("%-10s ", r->status);
		column(r->submitter, r->submitter_len, 16, 17);
		out_printf("%5s %-9s ", age, counts);
		column(r->title, r->title_len, 60, 0);
		term_exact(stdout, "\n", 1);
	}
	l->rows++;
	return true;
}

/* "no submissions with status pending of kind export ...": the filters given. */
static void print_none(const args *a)
{
	static const char *const says[][2] = { { "--status", "with status" }, { "--kind", "of kind" },
		{ "--action", "with action" }, { "--policy", "with a finding of policy" },
		{ "--submitter", "from" }, { "--since", "since" }, { "--until", "until" },
		{ "--after", "after" } };
	out_printf("no submissions");
	for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
		if (arg_get(a, says[i][0]) != NULL)
			out_printf(" %s %s", says[i][1], arg_get(a, says[i][0]));
	out_printf("\n");
}

/* An id for --after: a whole number from 1. */
static bool get_after(const command *c, const args *a, int64_t *after)
{
	const char *t = arg_get(a, "--after");
	*after = 0;
	if (t == NULL)
		return true;
	char *end;
	errno = 0;
	long long n = strtoll(t, &end, 10);
	if (*t < '0' || *t > '9' || *end != '\0' || errno != 0 || n < 1) {
		usage_error(c, "--after takes a submission id, not %s", t);
		return false;
	}
	*after = n;
	return true;
}

static int cmd_list(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	sub_filter f = { .status = arg_get(a, "--status"), .kind = arg_get(a, "--kind"),
		.action = arg_get(a, "--action"), .policy = arg_get(a, "--policy"),
		.submitter = arg_get(a, "--submitter"), .limit = LIST_DEFAULT_LIMIT };
	if (f.status != NULL && !query_status_filter_valid(f.status)) {
		usage_error(c, "unknown status %s (allowed, pending, blocked, approved, rejected, "
		    "overridden, expired, waiting, decided or all)", f.status);
		return EXIT_USAGE;
	}
	if (f.kind != NULL && strcmp(f.kind, "proposal") != 0 && strcmp(f.kind, "export") != 0 &&
	    strcmp(f.kind, "import") != 0) {
		usage_error(c, "unknown kind %s (proposal, export or import)", f.kind);
		return EXIT_USAGE;
	}
	const char *lim = arg_get(a, "--limit");
	if (lim != NULL) {
		char *end;
		long long n = strtoll(lim, &end, 10);
		if (*lim < '0' || *lim > '9' || *end != '\0' || n < 1 || n > LIST_MAX_LIMIT) {
			usage_error(c, "--limit takes a whole number from 1 to %d, not %s", LIST_MAX_LIMIT,
			    lim);
			return EXIT_USAGE;
		}
		f.limit = n;
	}
	if (!arg_window(c, a, &f.since_ms, &f.until_ms) || !get_after(c, a, &f.after))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	listing l = { .json = arg_has(a, "--json"), .now = now_ms() };
	int64_t next = 0;
	op_reply r;
	bool ok = op_list(s, &f, l.json, print_row, &l, &next, &r) == OUT_OK;
	if (!ok)
		err_printf("arbiter: %s\n", r.message);
	else if (l.rows == 0 && !l.json)
		print_none(a);
	else if (next != 0 && !l.json)
		out_printf("(more: --after %lld)\n", (long long)next);
	store_close(s);
	return ok ? EXIT_OK : EXIT_ERROR;
}

static const char *const list_options[] = { "--status S", "--kind K", "--action GLOB",
	"--policy GLOB", "--submitter NAME", "--since T", "--until T", "--after ID", "--limit N",
	"--json", NULL };
const command list_command = { "list", "[--status S] [--kind K] [--action GLOB] [--policy GLOB] "
	"[--submitter NAME] [--since T] [--until T] [--after ID] [--limit N] [--json]",
	"list submissions (S: a status, waiting, decided or all)", list_options, cmd_list };
