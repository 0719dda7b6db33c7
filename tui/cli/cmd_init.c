/*
 * cmd_init.c: arbiter init [DIR]: creates DIR/.arbiter with the example
 * policy set (built into the binary), pinned as policy version 1.
 */
#include <stdio.h>

#include "cli.h"

extern const named_text example_policies[];
extern const size_t example_policy_count;

static int cmd_init(const command *c, args *a)
{
	if (a->npos > 1) {
		usage_error(c, "unexpected argument %s", a->pos[1]);
		return EXIT_USAGE;
	}
	const char *dir = a->npos ? a->pos[0] : ".";
	char err[768] = "";
	if (!store_init(dir, example_policies, example_policy_count, actor_name(a), err, sizeof err)) {
		err_printf("arbiter init: %s\n", err);
		return EXIT_ERROR;
	}
	out_printf("created %s/.arbiter: %zu policy files pinned as version 1, an Ed25519 audit key "
	    "(keys/audit.pub), an empty users.oath\n", dir, example_policy_count);
	out_printf("next: arbiter reviewer add NAME --role admin, then arbiter submit FILE\n");
	return EXIT_OK;
}

static const char *const init_options[] = { "--as NAME", NULL };
const command init_command = { "init", "[DIR] [--as NAME]",
	"create a store in DIR/.arbiter with the example policies", init_options, cmd_init };
