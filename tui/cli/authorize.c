/*
 * authorize.c: what every command that changes review state shares.
 *
 * A guarded command opens the store with its settings and signing key,
 * refuses to go on while the policy files differ from the pinned version
 * (and audits that, once per change), reads the actor's code before taking
 * the write lock (a prompt must never hold it), and then verifies the code
 * inside the write transaction that makes the change: a refused code is
 * committed with its audit event, and the change is not made.
 *
 * The code comes from --code CODE, --code - (one line of standard input), or
 * a prompt with echo off when standard input is a terminal. It is wiped from
 * memory once checked, and never printed, logged or stored.
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
			fprintf(stderr, "arbiter: --code -: no code on standard input\n");
			return false;
		}
		return true;
	}
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "arbiter: %s's TOTP code is needed: --code CODE, or --code - to read "
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
	fprintf(stderr, "TOTP code for %s: ", who);
	fflush(stderr);
	bool ok = read_line(stdin, out, len);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	if (!ok)
		fprintf(stderr, "arbiter: no code given\n");
	return ok;
}

bool guard_open(const args *a, guard *g, bool decides)
{
	memset(g, 0, sizeof *g);
	g->actor = actor_name(a);
	g->s = open_store(a);
	if (g->s == NULL)
		return false;
	diags errs = { 0 };
	bool ok = store_settings(g->s, &g->cfg, &errs);
	if (!ok) {
		diags_print(&errs, stderr);
		fprintf(stderr, "arbiter: config.yaml has errors; nothing was changed\n");
	}
	diags_free(&errs);
	if (ok && !store_load_signing_key(g->s)) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g->s));
		ok = false;
	}
	if (ok && !integrity_check_loaded(g->s, NULL, &g->cfg, &g->integ)) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g->s));
		ok = false;
	}
	if (ok && g->integ.tampered) {
		settings_clamp(&g->cfg);        /* an unpinned config.yaml loosens nothing */
		integrity_warn(g->s, &g->integ, g->actor);
		if (decides) {
			fprintf(stderr, "arbiter: no decision is accepted while the policy files differ "
			    "from the pinned version\n");
			g->refused = true;
			ok = false;
		}
	}
	if (!ok) {
		store_close(g->s);
		g->s = NULL;
	}
	return ok;
}

void guard_close(guard *g)
{
	secret_wipe(g->code, sizeof g->code);
	if (g->s != NULL) {
		store_rollback(g->s);
		store_close(g->s);
	}
	g->s = NULL;
}

int guard_exit(const guard *g)
{
	return g->refused ? EXIT_REFUSED : EXIT_ERROR;
}

int guard_verify(guard *g)
{
	code_check cc;
	int rc = code_verify(g->s, &g->cfg, g->actor, g->code, &cc);
	secret_wipe(g->code, sizeof g->code);
	if (rc == CODE_OK) {
		g->admin = cc.admin;
		return EXIT_OK;
	}
	if (rc == CODE_ERROR) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g->s));
		return EXIT_ERROR;
	}
	/* the refusal and its audit event are kept */
	if (!store_commit(g->s)) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g->s));
		return EXIT_ERROR;
	}
	fprintf(stderr, "arbiter: code refused: %s\n", cc.why);
	return EXIT_REFUSED;
}
