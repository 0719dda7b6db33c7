/*
 * cli.h: the command-line front end: argument parsing, the command table,
 * store discovery, and the commands themselves (one file each).
 */
#ifndef ARBITER_CLI_H
#define ARBITER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "../data/store.h"

/* Exit codes (PRODUCT.md section 7). */
enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_WAITING = 3, EXIT_REFUSED = 4 };

#define MAX_OPTS 32
#define MAX_POS 4096

typedef struct args {
	struct { const char *name, *value; } opts[MAX_OPTS];
	int nopts;
	const char *pos[MAX_POS];       /* positional arguments after the command */
	int npos;
} args;

typedef struct command {
	const char *name;               /* "eval", or "policy check" */
	const char *usage;              /* the arguments, after the name */
	const char *summary;
	const char *const *options;     /* the options it takes, besides the global ones */
	int (*run)(const struct command *, args *);
} command;

/* args.c */
const char *arg_get(const args *a, const char *name);
bool arg_has(const args *a, const char *name);
/* Parses argv into the command's name and its args; on a usage error prints
 * it and returns false. */
bool args_parse(int argc, char **argv, const char **cmd, const char **sub, args *a);
bool args_check(const command *c, const args *a);
/* For commands without positional arguments: false (usage printed) if any. */
bool no_arguments(const command *c, const args *a);
void usage_error(const command *c, const char *fmt, ...) ATTR_PRINTF(2, 3);

/* main.c */
void print_command_help(const command *c);

/* home.c: finding the store */
/* Writes the .arbiter directory to out; false when there is none. */
bool find_store(const args *a, char *out, size_t len);
/* The same, saying so on stderr when there is none. */
bool find_store_or_say(const args *a, char *out, size_t len);
/* The policy directory to load and how sources name it, from --policies or
 * the store; prints an error and returns false when there is none. */
bool policy_dir(const args *a, char *dir, size_t len, const char **shown_prefix);
/* Reads the policy set for a command; errors go to errs. NULL (with a
 * message printed) when there is no policy directory to read. */
policy_set *read_policies(const args *a, diags *errs);
/* The same for commands that evaluate: a set with errors is printed and
 * refused (NULL). */
policy_set *load_policies(const args *a);

/* When the policies are the store's (no --policies), checks them against
 * the pinned version: warns and audits when they differ, and returns what
 * differs; NULL when intact. */
const char *store_policies_tampered(const args *a);
/* Opens the store found by find_store; prints the error and returns NULL. */
store *open_store(const args *a);
/* The same, also giving the settings it read from config.yaml (settings_ok:
 * without errors, which are added to errs), so that a command uses the very
 * bytes open_store checked instead of reading the file again. */
store *open_store_settings(const args *a, settings *c, diags *errs, bool *settings_ok);
/* Opens the store and finds submission ID (or ref); prints the error and
 * returns NULL when either fails. Call query_row_done on r. */
store *open_submission(const args *a, const char *id_or_ref, sub_row *r);
/* The acting user: --as NAME, else the OS login name. */
const char *actor_name(const args *a);

/* authorize.c: commands that change review state (see its comment) */
typedef struct guard {
	store *s;
	settings cfg;
	integrity integ;
	const char *actor;
	bool admin;             /* the actor's code proved an admin */
	bool refused;           /* guard_open failed by refusing (exit 4), not by error */
	char code[64];
} guard;
/* Reads the actor's code (--code CODE, --code -, or a prompt on a terminal);
 * prints why and returns false when there is none. */
bool read_code(const args *a, const char *who, char *out, size_t len);
/* Opens the store, its settings and signing key, and checks the policy files;
 * when decides, tampered files refuse (g->refused). */
bool guard_open(const args *a, guard *g, bool decides);
/* Inside the write transaction: verifies g->code for g->actor. EXIT_OK, or
 * the refusal committed and printed (EXIT_REFUSED), or EXIT_ERROR. */
int guard_verify(guard *g);
int guard_exit(const guard *g);
void guard_close(guard *g);
/* Says loudly that the policy files were tampered with, and audits it once. */
void integrity_warn(store *s, const integrity *in, const char *actor);

/* documents.c: reading submissions for eval and submit */
typedef struct batch batch;
struct batch {
	const policy_set *ps;
	eval_options opts;
	arena *scratch;         /* the handled document's arena, for evaluation */
	const char *file;
	bool json;
	int worst;              /* exit code so far */
	strbuf out;             /* one JSON result, reused */
	/* on the reader thread, after parsing (may be NULL): more work that needs
	 * only the document; false adds to errs why the document is refused */
	bool (*prepare)(submission *sub, arena *a, diags *errs);
	void (*handle)(batch *b, const submission *sub);
	void *ctx;              /* the command's own state */
};
int batch_run(const command *c, args *a, batch *b);
void batch_note(batch *b, int code);
/* Prints one result as text or, with --json, as one JSON line after prefix. */
void batch_print(batch *b, const char *prefix, const submission *sub, const eval_result *r);

/* the commands */
int cmd_init(const command *c, args *a);
int cmd_submit(const command *c, args *a);
int cmd_audit_verify(const command *c, args *a);
int cmd_audit_checkpoint(const command *c, args *a);
int cmd_audit_list(const command *c, args *a);
int cmd_audit_export(const command *c, args *a);
int cmd_audit_tail(const command *c, args *a);
int cmd_eval(const command *c, args *a);
int cmd_policy_check(const command *c, args *a);
int cmd_policy_list(const command *c, args *a);
int cmd_list(const command *c, args *a);
int cmd_show(const command *c, args *a);
int cmd_wait(const command *c, args *a);
int cmd_stats(const command *c, args *a);
int cmd_approve(const command *c, args *a);
int cmd_reject(const command *c, args *a);
int cmd_override(const command *c, args *a);
int cmd_reviewer_add(const command *c, args *a);
int cmd_reviewer_list(const command *c, args *a);
int cmd_reviewer_disable(const command *c, args *a);
int cmd_policy_pin(const command *c, args *a);
int cmd_reevaluate(const command *c, args *a);
int cmd_tui(const command *c, args *a);

/* qr.c: a QR code of text, drawn with half blocks */
bool qr_print(FILE *out, const char *text);

#endif
