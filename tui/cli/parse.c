/*
 * parse.c: command-line parsing.
 *
 * Options may stand before or after the command ("arbiter --as bob approve 7"
 * and "arbiter approve 7 --as bob" are the same), so argv is read in one pass:
 * every option is looked up in one table of known options (which says whether
 * it takes a value), every other word is the command, its subcommand or a
 * positional argument. Each command then checks that it takes the options it
 * was given.
 *
 * A code given as --code CODE is a secret on a command line, which every
 * local user can read in /proc/PID/cmdline while the command runs: the
 * parse, the first thing main does, moves it into the args and overwrites
 * it in argv itself. The window before that is why the manual prefers
 * --code - or the prompt.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Options every command takes. An option that takes a value is written with
 * its value's name ("--home DIR"), as the help shows it. */
static const char *const global_options[] = { "--home DIR", "--server URL", "--token-file FILE",
	"--pubkey FILE", "--help", "--version", NULL };

/* The length of an option's name in a descriptor entry ("--as NAME": 4). */
static size_t name_len(const char *entry)
{
	return strcspn(entry, " ");
}

static bool entry_is(const char *entry, const char *name, size_t n)
{
	return name_len(entry) == n && strncmp(entry, name, n) == 0;
}

/* The option w names (up to n bytes), from the global options and every
 * command's: its canonical spelling, kept for the life of the process, and
 * whether it takes a value. NULL when no command knows it. */
static const char *lookup(const command *const *table, size_t ncommands, const char *w, size_t n,
    bool *takes)
{
	static char interned[64][32];
	static size_t ninterned;
	const char *found = NULL;
	for (const char *const *g = global_options; *g && !found; g++)
		if (entry_is(*g, w, n))
			found = *g;
	for (size_t i = 0; i < ncommands && !found; i++)
		for (const char *const *o = table[i]->options; o && *o && !found; o++)
			if (entry_is(*o, w, n))
				found = *o;
	if (found == NULL || n >= sizeof interned[0])
		return NULL;
	*takes = found[n] == ' ';
	for (size_t i = 0; i < ninterned; i++)
		if (strlen(interned[i]) == n && strncmp(interned[i], w, n) == 0)
			return interned[i];
	if (ninterned == sizeof interned / sizeof interned[0])
		return NULL;
	memcpy(interned[ninterned], w, n);
	interned[ninterned][n] = '\0';
	return interned[ninterned++];
}

/* The value of --code: a copy in a->code, the argument wiped in place (a
 * code read from standard input, "-", is no secret). */
static char *hide_code(char *given, args *a)
{
	if (strcmp(given, "-") == 0)
		return given;
	snprintf(a->code, sizeof a->code, "%s", given);
	secret_wipe(given, strlen(given));
	return a->code;
}

static void plain_usage(const char *fmt, const char *arg)
{
	err_printf("arbiter: ");
	err_printf(fmt, arg);
	err_printf(" (see arbiter --help)\n");
}

/* Whether s is the first word of a two-word command ("policy check"). */
static bool is_command_word(const command *const *table, size_t ncommands, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < ncommands; i++)
		if (strncmp(table[i]->name, s, n) == 0 && table[i]->name[n] == ' ')
			return true;
	return false;
}

bool args_parse(int argc, char **argv, const command *const *table, size_t ncommands,
    const char **cmd, const char **sub, args *a)
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
				name = lookup(table, ncommands, w, n, &takes);
			}
			if (name == NULL) {
				plain_usage("unknown option %s", w);
				return false;
			}
			char *val = NULL;
			if (takes) {
				if (eq)
					val = argv[i] + (eq - w) + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else {
					plain_usage("%s needs a value", name);
					return false;
				}
				if (strcmp(name, "--code") == 0)
					val = hide_code(val, a);
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
		} else if (*sub == NULL && is_command_word(table, ncommands, *cmd) && a->npos == 0) {
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
	err_printf("arbiter %s: ", c->name);
	term_vprintf(stderr, fmt, ap);
	va_end(ap);
	err_printf("\nusage: arbiter %s %s\n", c->name, c->usage);
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
		size_t n = strlen(name);
		for (const char *const *g = global_options; *g && !ok; g++)
			ok = entry_is(*g, name, n);
		for (const char *const *o = c->options; o && *o && !ok; o++)
			ok = entry_is(*o, name, n);
		if (!ok) {
			usage_error(c, "%s does not take %s", c->name, name);
			return false;
		}
	}
	return true;
}

/* One of --since or --until: RFC 3339 or a duration ago, after 1970. */
static bool arg_time(const command *c, const args *a, const char *opt, int64_t *ms)
{
	const char *t = arg_get(a, opt);
	*ms = 0;
	if (t == NULL)
		return true;
	if (!parse_time(t, ms) || *ms <= 0) {
		usage_error(c, "%s takes RFC 3339 (2026-11-21T07:03:12Z) or a duration ago (24h), "
		    "not \"%s\"", opt, t);
		return false;
	}
	return true;
}

bool arg_window(const command *c, const args *a, int64_t *since_ms, int64_t *until_ms)
{
	if (!arg_time(c, a, "--since", since_ms) || !arg_time(c, a, "--until", until_ms))
		return false;
	if (*since_ms != 0 && *until_ms != 0 && *since_ms > *until_ms) {
		usage_error(c, "--since %s is after --until %s", arg_get(a, "--since"),
		    arg_get(a, "--until"));
		return false;
	}
	return true;
}
