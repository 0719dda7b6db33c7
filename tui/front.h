/*
 * front.h: what the front ends (cli/, console/) share: the options a user
 * gave, exit codes, and finding and opening the store.
 *
 * Front ends include only this, the engine and data public headers, curses,
 * qrencode and libc (tests/cli/layers.sh).
 */
#ifndef ARBITER_FRONT_H
#define ARBITER_FRONT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "../data/ops.h"
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
	char code[64];                  /* --code CODE, moved out of argv (cli/parse.c) */
} args;

/* args.c */
const char *arg_get(const args *a, const char *name);
bool arg_has(const args *a, const char *name);

/* home.c: finding the store, or the server that owns it */
/* Writes the store directory (.arbiter, or a store of another name) to out;
 * false when there is none. */
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
/* The store: the server's, when a server is named or answers on the store's
 * own socket (its operations then run there), else the one find_store finds,
 * opened here. Prints the error and returns NULL. */
store *open_store(const args *a);
/* open_store for a command that changes the store (op_prepare next): p is
 * begun, and config.yaml, read as the store opens, kept in it for
 * op_prepare, which then does not read the file again. NULL (said, p
 * freed) when the store cannot be opened. */
store *open_store_prepared(const args *a, prepared *p);
/* The same, also giving the settings it read from config.yaml (settings_ok:
 * without errors, which are added to errs), so that a command uses the very
 * bytes open_store checked instead of reading the file again; through a
 * server, the defaults (the server holds the settings). */
store *open_store_settings(const args *a, settings *c, diags *errs, bool *settings_ok);
/* The store's files themselves, server or not: for the commands that need
 * them (audit verify) and the console. */
store *open_local_store(const args *a);
/* The acting user: --as NAME, else the OS login name. */
const char *actor_name(const args *a);
/* The actor of a command on store s: --as NAME, else through a server the
 * name the server knows the caller by (a reviewer's login may differ from
 * their name), else the login name. */
const char *actor_of(const args *a, const store *s);

/* Says loudly that the policy files were tampered with, and audits it once. */
void integrity_warn(store *s, const integrity *in, const char *actor);

/* term.c: the terminal writer. Text that did not come from arbiter reaches
 * a terminal only through these (escaped by visible_put, engine/visible.c). */
/* printf to out with every %s argument escaped (VIS_TEXT). A precision is
 * the argument's length, NUL bytes included ("%.*s", (int)len, s); a width
 * pads by characters. The format is arbiter's own and written as it is. */
void term_printf(FILE *out, const char *fmt, ...) ATTR_PRINTF(2, 3);
void term_vprintf(FILE *out, const char *fmt, va_list ap);
/* term_printf to standard output and to standard error. */
void out_printf(const char *fmt, ...) ATTR_PRINTF(1, 2);
void err_printf(const char *fmt, ...) ATTR_PRINTF(1, 2);
/* One column: s (len bytes) escaped in mode (VIS_TEXT, or VIS_ESCAPED for
 * JSON text), cut to max characters ending in "..." (0: no limit), then
 * padded with spaces to width characters. */
void term_field(FILE *out, const char *s, size_t len, int mode, size_t max, size_t width);
/* Bytes written exactly: JSON output (--json), which must stay exact, and
 * text an engine printer has already escaped. */
void term_exact(FILE *out, const char *s, size_t len);
/* One line of JSON output (--json), exact. */
void term_json_line(FILE *out, const char *json);
/* s (len bytes) escaped in mode into b (emptied first), NUL-terminated:
 * what the console draws (put_clipped). */
const char *term_escape(strbuf *b, const char *s, size_t len, int mode);

/* console/console.c: the reviewer console, on a terminal */
int console_run(const args *a);

/* serve/server.c: arbiter serve, until SIGTERM */
int serve_run(const args *a);

#endif
