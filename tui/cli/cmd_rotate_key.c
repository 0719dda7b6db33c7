/*
 * cmd_rotate_key.c: arbiter audit rotate-key.
 *
 * An admin, with a code, replaces the audit signing key
 * (op_audit_rotate_key): the key.rotate event, signed by the old key, names
 * the new public key, and every later event is signed by the new one.
 * Through a server the server rotates its own key (POST
 * /v1/audit/rotate-key) and signs with the new one from its next event.
 */
#include "cli.h"

static int cmd_audit_rotate_key(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	guard g;
	op_auth auth;
	int started = guard_start(a, &g, false, &auth);
	if (started != EXIT_OK)
		return started;
	key_rotated r;
	while (op_audit_rotate_key(g.s, &g.p.cfg, &auth, &r) == OUT_UNAUTHENTICATED &&
	    guard_code(a, &g, &r.reply, &auth))
		;
	int rc = guard_result(&g, &r.reply);
	guard_close(&g);
	return rc;
}

static const char *const audit_rotate_key_options[] = { "--as NAME", "--code CODE", NULL };
const command audit_rotate_key_command = { "audit rotate-key", "[--as NAME] [--code CODE|-]",
	"replace the audit signing key; the old key signs the rotation (admin)",
	audit_rotate_key_options, cmd_audit_rotate_key };
