/*
 * main.c: arbiter's entry point and its table of commands.
 *
 * Each command is one descriptor (name, usage, summary, options, handler) in
 * the table below; its handler lives in a file of its own. Adding a command
 * is one new file and one line here.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The command table: one line per command, in the order --help lists them.
 * Each names the descriptor NAME_command that its own file defines. */
#define COMMANDS(X) \
	X(init) \
	X(eval) \
	X(submit) \
	X(list) \
	X(show) \
	X(wait) \
	X(hook) \
	X(stats) \
	X(approve) \
	X(reject) \
	X(override) \
	X(reviewer_add) \
	X(reviewer_list) \
	X(reviewer_disable) \
	X(reviewer_enable) \
	X(reviewer_unlock) \
	X(reviewer_reset) \
	X(reviewer_role) \
	X(agent_add) \
	X(agent_list) \
	X(agent_revoke) \
	X(reevaluate) \
	X(policy_pin) \
	X(tui) \
	X(serve) \
	X(policy_check) \
	X(policy_list) \
	X(audit_verify) \
	X(audit_checkpoint) \
	X(audit_list) \
	X(audit_record) \
	X(audit_export) \
	X(audit_rotate_key) \
	X(audit_tail)

#define DECLARE(name) extern const command name##_command;
COMMANDS(DECLARE)
#define ENTRY(name) &name##_command,
static const command *const commands[] = { COMMANDS(ENTRY) };

static void print_help(void)
{
	out_printf("arbiter %s: a policy review console\n\n", ARBITER_VERSION);
	out_printf("usage: arbiter [--home DIR] [--server URL] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		out_printf("  %-18s %s\n", commands[i]->name, commands[i]->summary);
	out_printf("\nexit codes: 0 done or allowed, 1 error, 2 usage, 3 awaiting review, 4 refused\n");
	out_printf("arbiter COMMAND --help shows a command's options; man arbiter has the rest.\n");
}

void print_command_help(const command *c)
{
	out_printf("usage: arbiter %s %s\n\n%s\n", c->name, c->usage, c->summary);
	if (c->options == NULL || c->options[0] == NULL)
		return;
	out_printf("\noptions: ");
	for (const char *const *o = c->options; *o; o++)
		out_printf(o[1] ? "%s, " : "%s\n", *o);
}

static void print_notice(const char *message)
{
	err_printf("arbiter: %s\n", message);
}

int main(int argc, char **argv)
{
	const char *name, *sub;
	args a;
	if (!args_parse(argc, argv, commands, sizeof commands / sizeof commands[0], &name, &sub, &a))
		return EXIT_USAGE;
	if (name == NULL) {
		if (arg_has(&a, "--version")) {
			out_printf("arbiter %s\n", ARBITER_VERSION);
			return EXIT_OK;
		}
		if (!arg_has(&a, "--help") && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			name = "tui";   /* arbiter alone on a terminal opens the console */
	}
	if (name == NULL) {
		print_help();
		return arg_has(&a, "--help") ? EXIT_OK : EXIT_USAGE;
	}
	char full[64];
	snprintf(full, sizeof full, "%s%s%s", name, sub ? " " : "", sub ? sub : "");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const command *c = commands[i];
		if (strcmp(c->name, full) != 0)
			continue;
		if (arg_has(&a, "--help")) {
			print_command_help(c);
			return EXIT_OK;
		}
		if (!args_check(c, &a))
			return EXIT_USAGE;
		if (!secrets_init()) {
			err_printf("arbiter: the cryptographic library failed to initialise\n");
			return c->fails_with_2 ? EXIT_USAGE : EXIT_ERROR;
		}
		store_on_notice(print_notice);
		int rc = c->run(c, &a);
		secret_wipe(a.code, sizeof a.code);
		return rc;
	}
	err_printf("arbiter: unknown command \"%s\" (see arbiter --help)\n", full);
	return EXIT_USAGE;
}
