/*
 * cmd_audit_export.c: arbiter audit export, the signed JSON report.
 *
 * The report and its signature are written by audit_write_export
 * (data/audit_files.c), which the console's audit browser shares. A log that
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
	char path[PATH_MAX], err[512];
	const char *out = arg_get(a, "--out");
	if (out == NULL) {
		audit_file_name(NULL, "export", "json", path, sizeof path);
		out = path;
	}
	verify_result r;
	int rc = EXIT_OK;
	if (!audit_write_export(s, actor_name(a), out, &r, NULL, NULL, err, sizeof err)) {
		err_printf("arbiter: %s\n", err);
		rc = EXIT_ERROR;
	} else if (!r.ok) {
		out_printf("audit: TAMPERED at seq %lld: %s\nwrote %s and %s.minisig (the report "
		    "records the failure)\n", (long long)r.bad_seq, r.why, out, out);
		rc = EXIT_REFUSED;
	} else {
		out_printf("export: %lld events through seq %lld, hash %s\nwrote %s and %s.minisig\n",
		    (long long)r.events, (long long)r.head_seq, r.head, out, out);
	}
	store_close(s);
	return rc;
}

static const char *const audit_export_options[] = { "--out FILE", "--as NAME", NULL };
const command audit_export_command = { "audit export", "[--out FILE] [--as NAME]",
	"write a signed JSON report of the audit log", audit_export_options, cmd_audit_export };
