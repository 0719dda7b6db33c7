/*
 * main.c: arbiter's entry point and its table of commands.
 *
 * Each command is one descriptor (name, usage, summary, options, handler) in
 * the table below; its handler lives in a file of its own. Adding a command
 * is one new file and one line here.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *const eval_opts[] = { "--policies", "--json", "--jsonl", NULL };
static const char *const check_options[] = { "--policies", NULL };
static const char *const list_options[] = { "--policies", "--json", NULL };
static const char *const init_options[] = { "--as", NULL };
static const char *const submit_options[] = { "--as", "--json", "--jsonl", NULL };
static const char *const sub_list_options[] = { "--status", "--kind", "--limit", "--json", NULL };
static const char *const show_options[] = { "--json", NULL };
static const char *const wait_options[] = { "--timeout", NULL };
static const char *const stats_options[] = { "--since", "--json", NULL };
static const char *const verify_options[] = { "--pubkey", "--checkpoint", NULL };
static const char *const checkpoint_options[] = { "--out", "--as", NULL };
static const char *const audit_list_options[] = { "--limit", "--event", "--actor", "--subject",
	"--since", "--json", NULL };
static const char *const audit_export_options[] = { "--out", "--as", NULL };
static const char *const approve_options[] = { "--as", "--code", "--ack", "--note", NULL };
static const char *const reject_options[] = { "--as", "--code", "--reason", NULL };
static const char *const override_options[] = { "--as", "--code", "--justification", "--expires",
	NULL };
static const char *const reviewer_add_options[] = { "--as", "--code", "--role", NULL };
static const char *const reviewer_options[] = { "--as", "--code", NULL };
static const char *const json_only[] = { "--json", NULL };
static const char *const pin_options[] = { "--as", "--code", "--justification", NULL };
static const char *const reevaluate_options[] = { "--as", "--pending", NULL };
static const char *const tui_options[] = { "--as", NULL };
static const char *const audit_tail_options[] = { "--follow", "--limit", "--json", NULL };

static const command commands[] = {
	{ "init", "[DIR]", "create a store in DIR/.arbiter with the example policies",
	    init_options, cmd_init },
	{ "eval", "[--policies DIR] [--json] [--jsonl] FILE...|-",
	    "evaluate submissions against the policies; store nothing", eval_opts, cmd_eval },
	{ "submit", "[--json] [--jsonl] FILE...|-",
	    "evaluate submissions and store them with their findings", submit_options, cmd_submit },
	{ "list", "[--status S] [--kind K] [--limit N] [--json]",
	    "list submissions (S: a status, waiting, decided or all)", sub_list_options, cmd_list },
	{ "show", "ID [--json]", "show a submission: document, findings, decisions, events",
	    show_options, cmd_show },
	{ "wait", "ID [--timeout SEC]", "block until a submission is decided", wait_options, cmd_wait },
	{ "stats", "[--since T] [--json]",
	    "findings per policy, submissions per status, rates, top submitters", stats_options,
	    cmd_stats },
	{ "approve", "ID... [--ack] [--note TEXT] [--code CODE|-]",
	    "approve pending submissions (--ack acknowledges warnings)", approve_options,
	    cmd_approve },
	{ "reject", "ID... --reason TEXT [--code CODE|-]", "reject pending or blocked submissions",
	    reject_options, cmd_reject },
	{ "override", "ID --justification TEXT [--expires DURATION] [--code CODE|-]",
	    "override a blocked submission, for a while, with a written justification",
	    override_options, cmd_override },
	{ "reviewer add", "NAME [--role reviewer|admin] [--code CODE|-]",
	    "enrol a reviewer: prints their TOTP secret, URI and QR code", reviewer_add_options,
	    cmd_reviewer_add },
	{ "reviewer list", "[--json]", "list reviewers: role, enrolled, last used, locked until",
	    json_only, cmd_reviewer_list },
	{ "reviewer disable", "NAME [--code CODE|-]", "disable a reviewer and remove their secret",
	    reviewer_options, cmd_reviewer_disable },
	{ "reevaluate", "ID|--pending", "evaluate waiting submissions again under the pinned policies",
	    reevaluate_options, cmd_reevaluate },
	{ "policy pin", "--justification TEXT [--code CODE|-]",
	    "record the policy files as the next policy version (admin)", pin_options,
	    cmd_policy_pin },
	{ "tui", "", "the reviewer console (the default on a terminal)", tui_options, cmd_tui },
	{ "policy check", "[--policies DIR]",
	    "load the policies and report every error", check_options, cmd_policy_check },
	{ "policy list", "[--policies DIR] [--json]",
	    "list the policies", list_options, cmd_policy_list },
	{ "audit verify", "[--pubkey FILE] [--checkpoint FILE]",
	    "recompute the audit chain and check its signatures", verify_options, cmd_audit_verify },
	{ "audit checkpoint", "[--out FILE]",
	    "write a signed checkpoint of the audit log's head", checkpoint_options, cmd_audit_checkpoint },
	{ "audit list", "[--limit 50] [--event E] [--actor A] [--subject ID] [--since T] [--json]",
	    "list audit events, newest first", audit_list_options, cmd_audit_list },
	{ "audit export", "[--out FILE]",
	    "write a signed JSON report of the audit log", audit_export_options, cmd_audit_export },
	{ "audit tail", "[-f|--follow] [--limit 10] [--json]",
	    "print the last audit events; with -f, follow new ones", audit_tail_options, cmd_audit_tail },
};

static void print_help(void)
{
	printf("arbiter %s: a policy review console\n\n", ARBITER_VERSION);
	printf("usage: arbiter [--home DIR] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		printf("  %-14s %s\n", commands[i].name, commands[i].summary);
	printf("\nexit codes: 0 done or allowed, 1 error, 2 usage, 3 awaiting review, 4 refused\n");
	printf("arbiter COMMAND --help shows a command's options; man arbiter has the rest.\n");
}

void print_command_help(const command *c)
{
	printf("usage: arbiter %s %s\n\n%s\n", c->name, c->usage, c->summary);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "arbiter: libsodium failed to initialise\n");
		return EXIT_ERROR;
	}
	const char *name, *sub;
	args a;
	if (!args_parse(argc, argv, &name, &sub, &a))
		return EXIT_USAGE;
	if (name == NULL) {
		if (arg_has(&a, "--version")) {
			printf("arbiter %s\n", ARBITER_VERSION);
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
		const command *c = &commands[i];
		if (strcmp(c->name, full) != 0)
			continue;
		if (arg_has(&a, "--help")) {
			print_command_help(c);
			return EXIT_OK;
		}
		if (!args_check(c, &a))
			return EXIT_USAGE;
		return c->run(c, &a);
	}
	fprintf(stderr, "arbiter: unknown command \"%s\" (see arbiter --help)\n", full);
	return EXIT_USAGE;
}
