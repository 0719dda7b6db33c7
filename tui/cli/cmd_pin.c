/*
 * cmd_pin.c: arbiter policy pin --justification TEXT.
 *
 * An admin, with a code, records the policy files as they are now as the
 * next policy version: the way to change policies (or config.yaml) on
 * purpose. The files must load without errors first (guard_open reads
 * them; through a server, the server does), and there must be something to
 * pin; the justification is held to the same minimum length as an
 * override's.
 */
#include <stdio.h>

#include "cli.h"

static int cmd_policy_pin(const command *c, args *a)
{
	const char *why = arg_get(a, "--justification");
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	if (why == NULL) {
		usage_error(c, "%s", "pinning needs --justification TEXT");
		return EXIT_USAGE;
	}
	guard g;
	op_auth auth;
	int started = guard_start(a, &g, true, &auth);
	if (started != EXIT_OK)
		return started;
	policy_pinned r;
	while (op_policy_pin(g.s, &g.p.cfg, &auth, why, &r) == OUT_UNAUTHENTICATED &&
	    guard_code(a, &g, &r.reply, &auth))
		;
	int rc = guard_result(&g, &r.reply);
	guard_close(&g);
	return rc;
}

static const char *const policy_pin_options[] = { "--as NAME", "--code CODE", "--justification TEXT", NULL };
const command policy_pin_command = { "policy pin", "--justification TEXT [--as NAME] [--code CODE|-]",
	"record the policy files as the next policy version (admin)", policy_pin_options, cmd_policy_pin };
