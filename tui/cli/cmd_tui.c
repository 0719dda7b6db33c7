/*
 * cmd_tui.c: arbiter tui, the reviewer console (the default on a terminal).
 *
 * While arbiter serve runs on a store, it alone opens the store; the console
 * does not speak to a server yet, so on a store whose socket answers it says
 * which server owns the store and exits 1 instead of opening it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

/* Whether a server answers on the store's socket (home/arbiter.sock). */
static bool served(const char *home, char *sock, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sock, len, "%s/arbiter.sock", home);
	if (strlen(sock) >= sizeof sa.sun_path)
		return false;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return live;
}

static int cmd_tui(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	char home[4096], sock[4200];
	if (find_store(a, home, sizeof home) && served(home, sock, sizeof sock)) {
		err_printf("arbiter: a server owns this store (arbiter serve answers on %s): the "
		    "console cannot open the store while it runs\n", sock);
		return EXIT_ERROR;
	}
	return console_run(a);
}

static const char *const tui_options[] = { "--as NAME", NULL };
const command tui_command = { "tui", "[--as NAME]",
	"the reviewer console (the default on a terminal)", tui_options, cmd_tui };
