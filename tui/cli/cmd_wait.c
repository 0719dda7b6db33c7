/*
 * cmd_wait.c: arbiter wait ID [--timeout SEC]: block until a decision.
 *
 * How an agent pipeline pauses on require_approval. The waiting is
 * op_wait's (data/ops_follow.c): a cheap poll of the store, or long polls of
 * its server. Exit 0 when the submission may proceed, 4 when it was refused
 * (rejected, expired), 3 when the timeout passed first. An allow stands only
 * on its signed events: when the row says more than they do, wait says the
 * state does not match the audit chain, audits it and exits 4.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

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
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	waited w;
	op_reply r;
	int rc;
	outcome o = op_wait(s, a->pos[0], timeout >= 0 ? timeout * 1000 : -1, &w, &r);
	op_reply audited;
	if (o == OUT_TAMPERED && op_tamper_record(s, actor_of(a, s), w.id, w.status, w.tampered,
	    &audited) != OUT_OK) {
		err_printf("arbiter: %s (and it could not be audited: %s)\n", r.message,
		    audited.message);
		rc = EXIT_REFUSED;
	} else if (o != OUT_OK) {
		err_printf("arbiter: %s\n", r.message);
		rc = o == OUT_TAMPERED ? EXIT_REFUSED : EXIT_ERROR;
	} else if (w.timed_out) {
		out_printf("submission %lld: still %s after %llds\n", (long long)w.id, w.status,
		    (long long)timeout);
		rc = EXIT_WAITING;
	} else {
		out_printf("submission %lld: %s\n", (long long)w.id, w.status);
		rc = status_name_exit(w.status);
	}
	store_close(s);
	return rc;
}

static const char *const wait_options[] = { "--timeout SEC", NULL };
const command wait_command = { "wait", "ID [--timeout SEC]",
	"block until a submission is decided", wait_options, cmd_wait };
