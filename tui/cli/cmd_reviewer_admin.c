/*
 * cmd_reviewer_admin.c: arbiter reviewer disable, enable, unlock, reset and
 * role: an admin's changes to an enrolled reviewer (PRODUCT.md section 4).
 *
 * Each is one operation of data/ops.h (ops_reviewer_admin.c), run with the
 * actor's code as every guarded command runs (authorize.c): the code is read
 * when given or when the operation asks for it. enable and reset give the
 * reviewer a new secret, printed once as reviewer add prints it; enable
 * --token also makes a new bearer token (the one from before the disable
 * never comes back).
 */
#include <string.h>

#include "cli.h"

static int cmd_reviewer_disable(const command *c, args *a)
{
	return guard_name_command(c, a, "reviewer", op_reviewer_disable);
}

static int cmd_reviewer_unlock(const command *c, args *a)
{
	return guard_name_command(c, a, "reviewer", op_reviewer_unlock);
}

/* enable and reset: an operation that gives name a new secret. */
typedef outcome (*secret_op)(store *s, const settings *cfg, const op_auth *auth,
    const char *name, bool token, reviewer_added *r);

static int secret_command(const command *c, args *a, secret_op op)
{
	if (!one_name(c, a, "reviewer"))
		return EXIT_USAGE;
	const char *name = a->pos[0];
	bool token = arg_has(a, "--token");
	guard g;
	op_auth auth;
	int started = guard_start(a, &g, false, &auth);
	if (started != EXIT_OK)
		return started;
	reviewer_added r;
	while (op(g.s, &g.p.cfg, &auth, name, token, &r) == OUT_UNAUTHENTICATED &&
	    guard_code(a, &g, &r.reply, &auth))
		;
	return secret_done(&g, name, &r);
}

static int cmd_reviewer_enable(const command *c, args *a)
{
	return secret_command(c, a, op_reviewer_enable);
}

static outcome reset(store *s, const settings *cfg, const op_auth *auth, const char *name,
    bool token, reviewer_added *r)
{
	(void)token;            /* reset takes no --token */
	return op_reviewer_reset(s, cfg, auth, name, r);
}

static int cmd_reviewer_reset(const command *c, args *a)
{
	return secret_command(c, a, reset);
}

static int cmd_reviewer_role(const command *c, args *a)
{
	if (a->npos != 2) {
		usage_error(c, "%s", a->npos == 0 ? "no reviewer name given" : a->npos == 1 ?
		    "no role given (admin or reviewer)" : "one name and one role");
		return EXIT_USAGE;
	}
	const char *name = a->pos[0], *role = a->pos[1];
	if (strcmp(role, "admin") != 0 && strcmp(role, "reviewer") != 0) {
		usage_error(c, "%s: the roles are reviewer and admin", role);
		return EXIT_USAGE;
	}
	bool admin = strcmp(role, "admin") == 0;
	guard g;
	op_auth auth;
	int started = guard_start(a, &g, false, &auth);
	if (started != EXIT_OK)
		return started;
	op_reply r;
	while (op_reviewer_role(g.s, &g.p.cfg, &auth, name, admin, &r) == OUT_UNAUTHENTICATED &&
	    guard_code(a, &g, &r, &auth))
		;
	int rc = guard_result(&g, &r);
	guard_close(&g);
	return rc;
}

static const char *const admin_options[] = { "--as NAME", "--code CODE", NULL };
static const char *const enable_options[] = { "--as NAME", "--code CODE", "--token", NULL };

const command reviewer_disable_command = { "reviewer disable", "NAME [--as NAME] [--code CODE|-]",
	"disable a reviewer and remove their secret", admin_options, cmd_reviewer_disable };
const command reviewer_enable_command = { "reviewer enable",
	"NAME [--token] [--as NAME] [--code CODE|-]",
	"enable a disabled reviewer: prints their new secret", enable_options,
	cmd_reviewer_enable };
const command reviewer_unlock_command = { "reviewer unlock", "NAME [--as NAME] [--code CODE|-]",
	"end a reviewer's lockout and forget their wrong codes", admin_options,
	cmd_reviewer_unlock };
const command reviewer_reset_command = { "reviewer reset", "NAME [--as NAME] [--code CODE|-]",
	"give a reviewer a new secret: the old one is dead at once", admin_options,
	cmd_reviewer_reset };
const command reviewer_role_command = { "reviewer role",
	"NAME admin|reviewer [--as NAME] [--code CODE|-]",
	"make a reviewer an admin, or an admin a reviewer", admin_options, cmd_reviewer_role };
