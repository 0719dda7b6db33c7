/*
 * cmd_serve.c: arbiter serve: the server that owns the store (tui/serve/).
 */
#include "cli.h"

static int cmd_serve(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	return serve_run(a);
}

static const char *const serve_options[] = { "--socket PATH", "--listen HOST:PORT",
	"--tls-cert FILE", "--tls-key FILE", "--log-json", NULL };
const command serve_command = { "serve",
	"[--socket PATH] [--listen HOST:PORT [--tls-cert FILE --tls-key FILE]] [--log-json]",
	"own the store and answer its clients over HTTP (Unix socket, or TCP with --listen)",
	serve_options, cmd_serve };
