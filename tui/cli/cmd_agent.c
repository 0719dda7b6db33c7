/*
 * cmd_agent.c: arbiter agent add, list and revoke (PRODUCT.md section 9).
 *
 * An agent is who the server takes a caller for: the peer of its Unix
 * socket by uid (--user LOGIN or --uid N), or the bearer of a token
 * (--token). A token is made by the operation, printed here once and never
 * again: the store keeps only its SHA-256, and no command takes a token as
 * an argument, so none sits in argv or a shell's history. Adding and
 * revoking need an admin's code (--as ADMIN), as reviewer changes do.
 *
 * The options that say how an identity is reached are reviewer add's too
 * (identity_options, print_token).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A decimal number from 0 to max, and nothing else. */
static bool whole_number(const char *s, long max, long *out)
{
	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 10)
		return false;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0' || v > max)
		return false;
	*out = (long)v;
	return true;
}

bool identity_options(const command *c, const args *a, identity_spec *spec)
{
	*spec = (identity_spec){ .login = arg_get(a, "--user"), .uid = -1,
		.token = arg_has(a, "--token") };
	const char *uid = arg_get(a, "--uid"), *rate = arg_get(a, "--rate");
	if (spec->login != NULL && uid != NULL) {
		usage_error(c, "--user and --uid are exclusive: a login, or a uid without one");
		return false;
	}
	if (spec->login != NULL && spec->login[0] == '\0') {
		usage_error(c, "--user: an empty login");
		return false;
	}
	if (uid != NULL && !whole_number(uid, IDENTITY_UID_MAX, &spec->uid)) {
		usage_error(c, "--uid %s: a uid is a number from 0 to %ld", uid, IDENTITY_UID_MAX);
		return false;
	}
	long n = 0;
	if (rate != NULL && (!whole_number(rate, 1000000, &n) || n < 1)) {
		usage_error(c, "--rate %s: requests a second, from 1 to 1000000", rate);
		return false;
	}
	spec->rate = (int)n;
	return true;
}

void print_token(char *token)
{
	out_printf("token: %s\n", token);
	out_printf("The token is shown only now and cannot be shown again: arbiter keeps only its "
	    "SHA-256. Give it to its holder in a file of mode 0600 (--token-file FILE) or in "
	    "$ARBITER_TOKEN, never on a command line.\n");
	secret_wipe(token, strlen(token));
}

static int cmd_agent_add(const command *c, args *a)
{
	if (a->npos != 1) {
		usage_error(c, "%s", a->npos == 0 ? "no agent name given" : "one name at a time");
		return EXIT_USAGE;
	}
	char name[IDENTITY_NAME_MAX + 1];
	if (!identity_name(a->pos[0], name)) {
		usage_error(c, "\"%s\" is not an agent name (%s)", a->pos[0], IDENTITY_NAME_RULE);
		return EXIT_USAGE;
	}
	identity_spec spec;
	if (!identity_options(c, a, &spec))
		return EXIT_USAGE;
	if (spec.login == NULL && spec.uid < 0 && !spec.token) {
		usage_error(c, "an agent is reached by --user LOGIN, --uid N or --token (or a uid "
		    "and a token)");
		return EXIT_USAGE;
	}
	guard g;
	op_auth auth;
	int started = guard_start(a, &g, false, &auth);
	if (started != EXIT_OK)
		return started;
	agent_added r;
	while (op_agent_add(g.s, &g.p.cfg, &auth, name, &spec, &r) == OUT_UNAUTHENTICATED &&
	    guard_code(a, &g, &r.reply, &auth))
		;
	int rc = guard_result(&g, &r.reply);
	if (r.reply.out == OUT_OK && r.token[0] != '\0')
		print_token(r.token);
	secret_wipe(r.token, sizeof r.token);
	guard_close(&g);
	return rc;
}

static int cmd_agent_revoke(const command *c, args *a)
{
	return guard_name_command(c, a, "agent", op_agent_revoke);
}

static int cmd_agent_list(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	agents_view list;
	op_reply rep;
	if (op_agents(s, &list, &rep) != OUT_OK) {
		err_printf("arbiter: %s\n", rep.message);
		agents_view_free(&list);
		store_close(s);
		return outcome_exit(rep.out);
	}
	bool json = arg_has(a, "--json");
	if (!json && list.n == 0)
		out_printf("no agents (an admin adds one with arbiter agent add NAME --user LOGIN)\n");
	else if (!json)
		out_printf("%-20s %-16s %-10s %-5s %-6s %-25s %s\n", "NAME", "LOGIN", "UID", "TOKEN",
		    "RATE", "ADDED", "BY");
	for (size_t i = 0; i < list.n; i++) {
		const agent_view *v = &list.items[i];
		if (json) {
			char *line = agent_json(v);
			term_json_line(stdout, line);
			free(line);
			continue;
		}
		char uid[24] = "-", rate[16] = "-";
		if (v->uid >= 0)
			snprintf(uid, sizeof uid, "%ld", v->uid);
		if (v->rate > 0)
			snprintf(rate, sizeof rate, "%d/s", v->rate);
		out_printf("%-20s %-16s %-10s %-5s %-6s %-25s %s", v->name, v->login ? v->login : "-",
		    uid, v->token ? "yes" : "no", rate, v->created, v->actor);
		if (v->revoked)
			out_printf("  (revoked %s)", v->revoked);
		out_printf("\n");
	}
	agents_view_free(&list);
	store_close(s);
	return EXIT_OK;
}

static const char *const agent_add_options[] = { "--user LOGIN", "--uid N", "--token", "--rate N",
	"--as NAME", "--code CODE", NULL };
const command agent_add_command = { "agent add",
	"NAME [--user LOGIN|--uid N] [--token] [--rate N] [--as NAME] [--code CODE|-]",
	"add an agent the server knows by its login, uid or token", agent_add_options,
	cmd_agent_add };

static const char *const agent_list_options[] = { "--json", NULL };
const command agent_list_command = { "agent list", "[--json]",
	"list agents: login, uid, token, rate, added, revoked", agent_list_options, cmd_agent_list };

static const char *const agent_revoke_options[] = { "--as NAME", "--code CODE", NULL };
const command agent_revoke_command = { "agent revoke", "NAME [--as NAME] [--code CODE|-]",
	"revoke an agent at once: it is refused from then on", agent_revoke_options,
	cmd_agent_revoke };
