/*
 * args.c: reading the options a user gave, for every front end.
 *
 * The command line is parsed by the CLI (cli/parse.c); the console and the
 * commands read the result through these two accessors. The last of a
 * repeated option wins.
 */
#include <string.h>

#include "front.h"

const char *arg_get(const args *a, const char *name)
{
	for (int i = a->nopts - 1; i >= 0; i--)
		if (strcmp(a->opts[i].name, name) == 0)
			return a->opts[i].value;
	return NULL;
}

bool arg_has(const args *a, const char *name)
{
	for (int i = 0; i < a->nopts; i++)
		if (strcmp(a->opts[i].name, name) == 0)
			return true;
	return false;
}
