/*
 * authorize.c: what every command that changes review state shares.
 *
 * A guarded command opens the store with its settings and signing key
 * (op_prepare; through a server, the server holds them), and warns (auditing
 * it once per change) while the policy files differ from the pinned
 * version. The change itself is an operation of data/ops.h, which
 * checks everything again under the write lock and verifies the actor's code
 * there. The code is read only when the operation asks for it, and before
 * the operation runs again: a prompt never holds the write lock.
 *
 * The code comes from --code CODE, --code - (one line of standard input), or
 * a prompt with echo off when standard input is a terminal. It is wiped from
 * memory once used, and never printed, logged or stored.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static bool read_line(FILE *in, char *out, size_t len)
{
	if (fgets(out, (int)len, in) == NULL)
		return false;
	out[strcspn(out, "\r\n")] = '\0';
	return true;
}

bool read_code(const args *a, const char *who, char *out, size_t len)
{
	const char *given = arg_get(a, "--code");
	out[0] = '\0';
	if (given != NULL && strcmp(given, "-") != 0) {
		snprintf(out, len, "%s", given);
		return true;
	}
	if (given != NULL) {
		if (!read_line(stdin, out, len)) {
			err_printf("arbiter: --code -: no code on standard input\n");
			return false;
		}
		return true;
	}
	if (!isatty(STDIN_FILENO)) {
		err_printf("arbiter: %s's TOTP code is needed: --code CODE, or --code - to read "
		    "it from standard input\n", who);
		return false;
	}
	struct termios old, quiet;
	bool echo_off = tcgetattr(STDIN_FILENO, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	err_printf("TOTP code for %s: ", who);
	fflush(stderr);
	bool ok = read_line(stdin, out, len);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	err_printf("\n");
	if (!ok)
		err_printf("arbiter: no code given\n");
	return ok;
}

bool guard_open(const args *a, guard *g, bool policies)
{
	memset(g, 0, sizeof *g);
	g->s = open_store_prepared(a, &g->p);
	if (g->s == NULL)
		return false;
	g->actor = actor_of(a, g->s);
	op_reply r;
	outcome o = op_prepare(g->s, policies, &g->p, &r);
	if (o == OUT_BAD_INPUT) {
		diags_print(&g->p.policy_errs, stderr);
		if (g->p.policy_errs.n == 0)
			diags_print(&g->p.cfg_errs, stderr);
		err_printf("arbiter: %s; nothing was changed\n", r.message);
	} else if (o != OUT_OK) {
		err_printf("arbiter: %s\n", r.message);
	} else if (g->p.integ.tampered) {
		integrity_warn(g->s, &g->p.integ, g->actor);
	}
	if (o != OUT_OK) {
		prepared_free(&g->p);
		store_close(g->s);
		g->s = NULL;
	}
	return o == OUT_OK;
}

void guard_close(guard *g)
{
	secret_wipe(g->code, sizeof g->code);
	if (g->s != NULL) {
		store_rollback(g->s);
		store_close(g->s);
		prepared_free(&g->p);
	}
	g->s = NULL;
}

bool guard_auth(const args *a, guard *g, op_auth *auth)
{
	*auth = (op_auth){ .actor = g->actor };
	if (arg_get(a, "--code") == NULL)
		return true;            /* asked for only if the operation needs one */
	/* given: read now, so the operation runs once, not once to learn that
	 * it needs the code and again with it */
	if (!read_code(a, g->actor, g->code, sizeof g->code)) {
		g->no_code = true;
		return false;
	}
	auth->code = g->code;
	return true;
}

bool guard_code(const args *a, guard *g, const op_reply *r, op_auth *auth)
{
	if (!r->code_needed || auth->code != NULL)
		return false;
	if (!read_code(a, g->actor, g->code, sizeof g->code)) {
		g->no_code = true;
		return false;
	}
	auth->code = g->code;
	return true;
}

int guard_result(const guard *g, const op_reply *r)
{
	if (g->no_code)
		return EXIT_USAGE;
	FILE *to = r->out == OUT_OK || r->out == OUT_WAITING ? stdout : stderr;
	term_printf(to, "%s%s\n", to == stderr ? "arbiter: " : "", r->message);
	return outcome_exit(r->out);
}

int guard_start(const args *a, guard *g, bool policies, op_auth *auth)
{
	if (!guard_open(a, g, policies))
		return EXIT_ERROR;
	if (!guard_auth(a, g, auth)) {
		guard_close(g);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

bool one_name(const command *c, const args *a, const char *what)
{
	if (a->npos == 1)
		return true;
	if (a->npos == 0)
		usage_error(c, "no %s name given", what);
	else
		usage_error(c, "%s", "one name at a time");
	return false;
}

int guard_name_command(const command *c, args *a, const char *what, name_op op)
{
	if (!one_name(c, a, what))
		return EXIT_USAGE;
	guard g;
	op_auth auth;
	int started = guard_start(a, &g, false, &auth);
	if (started != EXIT_OK)
		return started;
	op_reply r;
	while (op(g.s, &g.p.cfg, &auth, a->pos[0], &r) == OUT_UNAUTHENTICATED &&
	    guard_code(a, &g, &r, &auth))
		;
	int rc = guard_result(&g, &r);
	guard_close(&g);
	return rc;
}
