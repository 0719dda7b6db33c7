/*
 * args.c: command-line parsing.
 *
 * Options may stand before or after the command ("arbiter --as bob approve 7"
 * and "arbiter approve 7 --as bob" are the same), so argv is read in one pass:
 * every option is looked up in one table of known options (which says whether
 * it takes a value), every other word is the command, its subcommand or a
 * positional argument. Each command then checks that it takes the options it
 * was given.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct option_spec {
	const char *name;
	bool value;
} known[] = {
	{ "--home", true }, { "--as", true }, { "--code", true }, { "--json", false },
	{ "--jsonl", false }, { "--policies", true }, { "--help", false }, { "--version", false },
	{ "--pubkey", true }, { "--checkpoint", true }, { "--out", true },
	{ "--limit", true }, { "--event", true }, { "--actor", true }, { "--subject", true },
	{ "--since", true }, { "--follow", false },
	{ "--status", true }, { "--kind", true }, { "--timeout", true },
	{ "--role", true }, { "--ack", false }, { "--note", true }, { "--reason", true },
	{ "--justification", true }, { "--expires", true }, { "--pending", false },
};

/* Options every command takes. */
static const char *const global_options[] = { "--home", "--help", NULL };

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

static void plain_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "arbiter: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see arbiter --help)\n");
}

static bool is_command_word(const char *s)
{
	static const char *const groups[] = { "policy", "audit", "reviewer", NULL };
	for (const char *const *g = groups; *g; g++)
		if (strcmp(s, *g) == 0)
			return true;
	return false;
}

bool args_parse(int argc, char **argv, const char **cmd, const char **sub, args *a)
{
	memset(a, 0, sizeof *a);
	*cmd = *sub = NULL;
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (!options_done && strcmp(w, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && w[0] == '-' && w[1] != '\0') {
			const char *eq = strchr(w, '=');
			size_t n = eq ? (size_t)(eq - w) : strlen(w);
			const char *name = NULL;
			bool takes = false;
			if (strcmp(w, "-h") == 0) {
				name = "--help";
			} else if (strcmp(w, "-f") == 0) {
				name = "--follow";
			} else {
				for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
					if (strlen(known[k].name) == n && strncmp(known[k].name, w, n) == 0) {
						name = known[k].name;
						takes = known[k].value;
					}
			}
			if (name == NULL) {
				plain_usage("unknown option %s", w);
				return false;
			}
			const char *val = NULL;
			if (takes) {
				if (eq)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else {
					plain_usage("%s needs a value", name);
					return false;
				}
			} else if (eq) {
				plain_usage("%s takes no value", name);
				return false;
			}
			if (a->nopts == MAX_OPTS) {
				plain_usage("%s", "too many options");
				return false;
			}
			a->opts[a->nopts].name = name;
			a->opts[a->nopts++].value = val;
			continue;
		}
		if (*cmd == NULL) {
			*cmd = w;
		} else if (*sub == NULL && is_command_word(*cmd) && a->npos == 0) {
			*sub = w;
		} else {
			if (a->npos == MAX_POS) {
				plain_usage("%s", "too many arguments");
				return false;
			}
			a->pos[a->npos++] = w;
		}
	}
	return true;
}

void usage_error(const command *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "arbiter %s: ", c->name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: arbiter %s %s\n", c->name, c->usage);
}

bool no_arguments(const command *c, const args *a)
{
	if (a->npos == 0)
		return true;
	usage_error(c, "unexpected argument %s", a->pos[0]);
	return false;
}

bool args_check(const command *c, const args *a)
{
	for (int i = 0; i < a->nopts; i++) {
		const char *name = a->opts[i].name;
		bool ok = false;
		for (const char *const *g = global_options; *g && !ok; g++)
			ok = strcmp(*g, name) == 0;
		for (const char *const *o = c->options; o && *o && !ok; o++)
			ok = strcmp(*o, name) == 0;
		if (!ok) {
			usage_error(c, "%s does not take %s", c->name, name);
			return false;
		}
	}
	return true;
}
