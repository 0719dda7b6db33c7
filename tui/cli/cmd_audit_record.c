/*
 * cmd_audit_record.c: arbiter audit record app.NAME [--subject S]
 * [--details JSON|-] (PRODUCT.md section 6).
 *
 * A reviewer's own event in the signed chain: a deployment done, a ticket
 * opened, a check run elsewhere. The operation (op_audit_record) checks the
 * name, the subject and the details, and that the actor is an enabled
 * reviewer; a refusal of the actor is audited as access.denied. --details -
 * reads the JSON object from standard input, for objects too long for an
 * argument.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_audit_record(const command *c, args *a)
{
	if (a->npos != 1) {
		usage_error(c, "%s", a->npos == 0 ? "no event name given (app.NAME)" :
		    "one event at a time");
		return EXIT_USAGE;
	}
	const char *given = arg_get(a, "--details"), *file = "--details";
	char *read = NULL;
	size_t len = given ? strlen(given) : 0;
	if (given != NULL && strcmp(given, "-") == 0) {
		char err[512];
		if ((read = read_file("-", &len, err, sizeof err)) == NULL) {
			err_printf("arbiter: %s\n", err);
			return EXIT_ERROR;
		}
		file = "<stdin>";
	}
	store *s = open_store(a);
	if (s == NULL) {
		free(read);
		return EXIT_ERROR;
	}
	app_record q = { .actor = actor_of(a, s), .event = a->pos[0],
		.subject = arg_get(a, "--subject"), .details = read ? read : given,
		.details_len = len, .details_file = file, .audit_refusal = true };
	app_recorded r;
	outcome o = op_audit_record(s, &q, &r);
	if (o == OUT_OK)
		term_printf(stdout, "%s\n", r.reply.message);
	else
		term_printf(stderr, "arbiter: %s\n", r.reply.message);
	free(read);
	store_close(s);
	return outcome_exit(o);
}

static const char *const audit_record_options[] = { "--subject S", "--details JSON", "--as NAME",
	NULL };
const command audit_record_command = { "audit record", "app.NAME [--subject S] "
	"[--details JSON|-] [--as NAME]", "record an app.* event of your own in the audit log",
	audit_record_options, cmd_audit_record };
