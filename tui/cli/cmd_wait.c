/*
 * cmd_wait.c: arbiter wait ID [--timeout SEC]: block until a decision.
 *
 * How an agent pipeline pauses on require_approval. Polling is cheap: every
 * 200 ms one PRAGMA data_version (no I/O unless another connection
 * committed), and the status is read again only when it changed. No read
 * transaction is held between polls, so writers never wait on us. Exit 0
 * when the submission may proceed, 4 when it was refused (rejected,
 * expired), 3 when the timeout passed first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define POLL_MS 200

static bool waiting(const char *status)
{
	return strcmp(status, "pending") == 0 || strcmp(status, "blocked") == 0;
}

/* --timeout: whole seconds ("30") or a duration ("5m"). */
static bool parse_timeout(const char *text, int64_t *sec)
{
	char *end;
	if (*text >= '0' && *text <= '9') {
		long long n = strtoll(text, &end, 10);
		if (*end == '\0' && n >= 0 && n <= 100LL * 365 * 86400) {
			*sec = n;
			return true;
		}
	}
	return duration_parse(text, sec) && *sec <= 100LL * 365 * 86400;
}

static int cmd_wait(const command *c, args *a)
{
	if (a->npos != 1) {
		usage_error(c, "%s", a->npos == 0 ? "no submission given (its id or ref)" :
		    "one submission at a time");
		return EXIT_USAGE;
	}
	int64_t timeout = -1;
	const char *t = arg_get(a, "--timeout");
	if (t != NULL && !parse_timeout(t, &timeout)) {
		usage_error(c, "--timeout takes seconds (30) or a duration (5m), not %s", t);
		return EXIT_USAGE;
	}
	sub_row r;
	store *s = open_submission(a, a->pos[0], &r);
	if (s == NULL)
		return EXIT_ERROR;
	int64_t id = r.id;
	char status[16];
	snprintf(status, sizeof status, "%s", r.status);
	query_row_done(&r);

	int64_t start = mono_ms(), version = -1;
	store_data_version(s, &version);
	int rc = EXIT_OK;
	while (waiting(status)) {
		if (timeout >= 0 && mono_ms() - start >= timeout * 1000) {
			out_printf("submission %lld: still %s after %llds\n", (long long)id, status,
			    (long long)timeout);
			rc = EXIT_WAITING;
			break;
		}
		struct timespec pause = { 0, POLL_MS * 1000000L };
		nanosleep(&pause, NULL);
		int64_t now_version = -1;
		if (store_data_version(s, &now_version) && now_version == version)
			continue;
		version = now_version;
		int found = query_status(s, id, status);
		if (found <= 0) {
			err_printf("arbiter: %s\n", found == 0 ? "the submission disappeared" : store_errmsg(s));
			rc = EXIT_ERROR;
			break;
		}
	}
	if (rc == EXIT_OK) {
		rc = status_name_exit(status);
		out_printf("submission %lld: %s\n", (long long)id, status);
	}
	store_close(s);
	return rc;
}

static const char *const wait_options[] = { "--timeout SEC", NULL };
const command wait_command = { "wait", "ID [--timeout SEC]",
	"block until a submission is decided", wait_options, cmd_wait };
