/*
 * cmd_tui.c: arbiter tui, the reviewer console (the default on a terminal).
 *
 * While arbiter serve runs on a store, it alone opens the store; the console
 * does not speak to a server yet, so on a store a server owns (or with a
 * server named) it says which server and exits 1 instead of opening it.
 */
#include <stdio.h>

#include "cli.h"

static int cmd_tui(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	char where[1200];
	if (store_served(a, where, sizeof where)) {
		err_printf("arbiter: a server owns this store (arbiter serve answers on %s): the "
		    "console cannot open the store while it runs\n", where);
		return EXIT_ERROR;
	}
	return console_run(a);
}

static const char *const tui_options[] = { "--as NAME", NULL };
const command tui_command = { "tui", "[--as NAME]",
	"the reviewer console (the default on a terminal)", tui_options, cmd_tui };
