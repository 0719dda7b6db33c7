/*
 * cmd_tui.c: arbiter tui, the reviewer console (the default on a terminal).
 * It finds its store as every command does: through a server when one is
 * named or answers on the store's socket, else the files.
 */
#include <stdio.h>

#include "cli.h"

static int cmd_tui(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	return console_run(a);
}

static const char *const tui_options[] = { "--as NAME", NULL };
const command tui_command = { "tui", "[--as NAME]",
	"the reviewer console (the default on a terminal)", tui_options, cmd_tui };
