/*
 * cmd_audit_export.c: arbiter audit export, the signed JSON report.
 *
 * The report and its signature are written by op_audit_export
 * (data/ops_audit.c), which the console's audit browser shares. A log that
 * fails verification is still exported, its verification says where, and
 * the exit is 4.
 */
#include <limits.h>
#include <stdio.h>

#include "cli.h"

static int cmd_audit_export(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	char path[PATH_MAX];
	const char *out = out_file(a, "export", "json", path, sizeof path);
	audit_exported r;
	int rc = outcome_exit(op_audit_export(s, actor_name(a), out, NULL, NULL, &r));
	if (r.reply.out == OUT_IO_ERROR)
		err_printf("arbiter: %s\n", r.reply.message);
	else if (r.reply.out == OUT_TAMPERED)
		out_printf("audit: %s\nwrote %s and %s.minisig (the report records the failure)\n",
		    r.reply.message, out, out);
	else
		out_printf("%s\nwrote %s and %s.minisig\n", r.reply.message, out, out);
	store_close(s);
	return rc;
}

static const char *const audit_export_options[] = { "--out FILE", "--as NAME", NULL };
const command audit_export_command = { "audit export", "[--out FILE] [--as NAME]",
	"write a signed JSON report of the audit log", audit_export_options, cmd_audit_export };
