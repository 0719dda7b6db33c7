/*
 * cli.h: the command-line front end: argument parsing, the command table
 * and the commands themselves (one file each).
 */
#ifndef ARBITER_CLI_H
#define ARBITER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../front.h"

typedef struct command {
	const char *name;               /* "eval", or "policy check" */
	const char *usage;              /* the arguments, after the name */
	const char *summary;
	const char *const *options;     /* the options it takes besides the global ones; one
	                                 * that takes a value names it: "--as NAME" */
	int (*run)(const struct command *, args *);
	bool fails_with_2;              /* exits 0 or 2 only (hook): a failure before
	                                 * run is 2, not 1 */
} command;

/* parse.c */
/* Parses argv into the command's name and its args; on a usage error prints
 * it and returns false. */
bool args_parse(int argc, char **argv, const command *const *table, size_t ncommands,
    const char **cmd, const char **sub, args *a);
bool args_check(const command *c, const args *a);
/* For commands without positional arguments: false (usage printed) if any. */
bool no_arguments(const command *c, const args *a);
void usage_error(const command *c, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* --since T and --until T (0 each when absent): false (usage printed) when
 * either is not a time or the window ends before it starts. */
bool arg_window(const command *c, const args *a, int64_t *since_ms, int64_t *until_ms);

/* main.c */
void print_command_help(const command *c);

/* authorize.c: commands that change review state (see its comment) */
typedef struct guard {
	store *s;
	prepared p;             /* settings, the pin's check, the policy set if asked for */
	const char *actor;
	bool no_code;           /* a code was needed and none could be read */
	char code[64];
} guard;
/* Reads the actor's code (--code CODE, --code -, or a prompt on a terminal);
 * prints why and returns false when there is none. */
bool read_code(const args *a, const char *who, char *out, size_t len);
/* Opens the store (or its server) and prepares the change (op_prepare:
 * settings, signing key, with policies the policy set), and warns (and
 * audits once) when the policy files differ from the pinned version. */
bool guard_open(const args *a, guard *g, bool policies);
/* The actor and, when --code was given, their code, read now (false with the
 * reason printed when it cannot be read). */
bool guard_auth(const args *a, guard *g, op_auth *auth);
/* After an operation answered r: when it asked for a code and none was
 * given yet, reads it into auth and returns true (call the operation again). */
bool guard_code(const args *a, guard *g, const op_reply *r, op_auth *auth);
/* Prints r's message (stdout when done, else stderr) and returns its exit code. */
int guard_result(const guard *g, const op_reply *r);
void guard_close(guard *g);
/* guard_open, then guard_auth: EXIT_OK, or the exit code to return (the
 * reason printed, nothing left open). */
int guard_start(const args *a, guard *g, bool policies, op_auth *auth);
/* Whether the command was given one name and nothing else; false with the
 * usage error printed. what names the argument ("reviewer"). */
bool one_name(const command *c, const args *a, const char *what);
/* A command that acts on one name with an admin's code (reviewer disable,
 * agent revoke): opens the guard, runs op (asking for the code when it
 * needs one) and prints its answer. what names the argument ("reviewer"). */
typedef outcome (*name_op)(store *s, const settings *cfg, const op_auth *auth, const char *name,
    op_reply *r);
int guard_name_command(const command *c, args *a, const char *what, name_op op);

/* cmd_agent.c: how an agent or a reviewer is reached through the server */
/* --user LOGIN, --uid N, --token, --rate N into spec (false: usage printed). */
bool identity_options(const command *c, const args *a, identity_spec *spec);
/* Prints a new token once, with the warning that it is never shown again,
 * and wipes it. */
void print_token(char *token);

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
	bool (*prepare)(const batch *b, submission *sub, arena *a, diags *errs);
	/* on a worker thread, after prepare (may be NULL): the whole handling of
	 * a document that needs only the document and b's policies and options:
	 * appends its output to out (printed in input order) and returns its
	 * exit code; handle is then not called */
	int (*work)(const batch *b, const submission *sub, arena *a, strbuf *out);
	void (*handle)(batch *b, const submission *sub);
	/* on the calling thread, before it waits for documents not yet read
	 * (may be NULL): finish what is held back, so that nothing waits on
	 * input that has not come */
	void (*idle)(batch *b);
	void *ctx;              /* the command's own state */
	struct reader *reader;  /* batch_run's, while it runs */
};
int batch_run(const command *c, args *a, batch *b);
/* On the calling thread of a command with handle: it is busy alone (true:
 * the end of a commit) and the workers may read ahead meanwhile, or no
 * longer (false). */
void batch_read_ahead(batch *b, bool ahead);
void batch_note(batch *b, int code);
/* Prints one result as text or, with --json, as one JSON line after prefix. */
void batch_print(batch *b, const char *prefix, const submission *sub, const eval_result *r);

/* verify_checkpoints.c: after the chain holds, --checkpoint FILE, every
 * checkpoint in audit.checkpoint_dir and their age (--strict): the exit code. */
int verify_checkpoints(store *s, const args *a, const verify_result *r);

/* cmd_audit.c: --out FILE, else arbiter-WHAT-DATE-TIME.EXT here (in path). */
const char *out_file(const args *a, const char *what, const char *ext, char *path, size_t len);

/* cmd_reviewer.c: a reviewer's new secret (base32, otpauth:// URI, QR code)
 * and token, if any, printed once after r's message; the token is wiped. */
void print_secret(const char *name, reviewer_added *r);
/* The end of a command that made a secret: printed when r is OUT_OK, else
 * the refusal said; the secret and token wiped, the guard closed; the exit
 * code. */
int secret_done(guard *g, const char *name, reviewer_added *r);

/* qr.c: a QR code of text, drawn with half blocks */
bool qr_print(FILE *out, const char *text);

#endif
