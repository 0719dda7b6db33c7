/*
 * cmd_reviewer.c: arbiter reviewer add and list (an admin's changes to an
 * enrolled reviewer: cmd_reviewer_admin.c).
 *
 * add makes a random 20-byte secret from the system's random source, writes it to users.oath
 * only, and prints it once: in base32, as an otpauth:// URI and as a QR code,
 * for the reviewer's authenticator app. The first reviewer must be an admin
 * and needs no code; every later change needs an admin's code (--as ADMIN).
 * The server knows a reviewer by their login (--user; their name unless
 * told otherwise) or uid (--uid), and by a bearer token with --token,
 * printed once as agent add prints one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void print_secret(const char *name, reviewer_added *r)
{
	const unsigned char *key = r->key;
	char *b32 = totp_base32(key, REVIEWER_KEY_BYTES);
	char uri[512];
	snprintf(uri, sizeof uri, "otpauth://totp/arbiter:%s?secret=%s&issuer=arbiter&algorithm=SHA1"
	    "&digits=6&period=30", name, b32 ? b32 : "");
	out_printf("%s\n\n", r->reply.message);
	out_printf("secret (base32): %s\n", b32 ? b32 : "?");
	out_printf("URI:             %s\n\n", uri);
	out_printf("Scan this with an authenticator app (TOTP, SHA-1, 6 digits, 30 s):\n\n");
	fflush(stdout);
	if (!qr_print(stdout, uri))
		out_printf("(the QR code could not be drawn: type the secret instead)\n");
	out_printf("\nThe secret is shown only now and kept only in users.oath. A code from the command "
	    "line: oathtool --totp -b SECRET\n");
	if (b32 != NULL) {
		secret_wipe(b32, strlen(b32));
		free(b32);
	}
	secret_wipe(uri, sizeof uri);
	if (r->token[0] != '\0') {
		out_printf("\n");
		print_token(r->token);
	}
}

int secret_done(guard *g, const char *name, reviewer_added *r)
{
	int rc = EXIT_OK;
	if (r->reply.out == OUT_OK)
		print_secret(name, r);
	else
		rc = guard_result(g, &r->reply);
	secret_wipe(r->key, sizeof r->key);
	secret_wipe(r->token, sizeof r->token);
	guard_close(g);
	return rc;
}

static int cmd_reviewer_add(const command *c, args *a)
{
	if (!one_name(c, a, "reviewer"))
		return EXIT_USAGE;
	const char *role = arg_get(a, "--role");
	char name[IDENTITY_NAME_MAX + 1];
	if (!identity_name(a->pos[0], name)) {
		usage_error(c, "\"%s\" is not a reviewer name (%s)", a->pos[0], IDENTITY_NAME_RULE);
		return EXIT_USAGE;
	}
	if (role != NULL && strcmp(role, "admin") != 0 && strcmp(role, "reviewer") != 0) {
		usage_error(c, "--role %s: the roles are reviewer and admin", role);
		return EXIT_USAGE;
	}
	bool admin = role != NULL && strcmp(role, "admin") == 0;
	identity_spec spec;
	if (!identity_options(c, a, &spec))
		return EXIT_USAGE;
	guard g;
	op_auth auth;
	int started = guard_start(a, &g, false, &auth);
	if (started != EXIT_OK)
		return started;
	reviewer_added r;
	while (op_reviewer_enrol(g.s, &g.p.cfg, &auth, name, admin, &spec, &r) ==
	    OUT_UNAUTHENTICATED && guard_code(a, &g, &r.reply, &auth))
		;
	return secret_done(&g, name, &r);
}

static int cmd_reviewer_list(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	reviewers_view list;
	op_reply rep;
	if (op_reviewers(s, &list, &rep) != OUT_OK) {
		err_printf("arbiter: %s\n", rep.message);
		store_close(s);
		return EXIT_ERROR;
	}
	bool json = arg_has(a, "--json");
	if (!json && list.n == 0)
		out_printf("no reviewers (the first: arbiter reviewer add NAME --role admin)\n");
	else if (!json)
		out_printf("%-20s %-9s %-16s %-10s %-25s %-25s %s\n", "NAME", "ROLE", "LOGIN", "UID",
		    "ENROLLED", "LAST USED", "LOCKED UNTIL");
	for (size_t i = 0; i < list.n; i++) {
		const reviewer_view *r = &list.items[i];
		if (json) {
			char *line = reviewer_json(r);
			term_json_line(stdout, line);
			free(line);
			continue;
		}
		char uid[24] = "-";
		if (r->uid >= 0)
			snprintf(uid, sizeof uid, "%ld", r->uid);
		out_printf("%-20s %-9s %-16s %-10s %-25s %-25s %s%s%s\n", r->name, r->role,
		    r->login ? r->login : "-", uid, r->enrolled, r->last_used ? r->last_used : "never",
		    r->locked_until ? r->locked_until : "-", r->token ? "  (token)" : "",
		    r->disabled ? "  (disabled)" : "");
	}
	reviewers_view_free(&list);
	store_close(s);
	return EXIT_OK;
}

static const char *const reviewer_add_options[] = { "--as NAME", "--code CODE", "--role ROLE",
	"--user LOGIN", "--uid N", "--token", NULL };
const command reviewer_add_command = { "reviewer add",
	"NAME [--role reviewer|admin] [--user LOGIN|--uid N] [--token] [--as NAME] [--code CODE|-]",
	"enrol a reviewer: prints their TOTP secret, URI and QR code", reviewer_add_options, cmd_reviewer_add };

static const char *const reviewer_list_options[] = { "--json", NULL };
const command reviewer_list_command = { "reviewer list", "[--json]",
	"list reviewers: role, login, uid, enrolled, last used, locked until", reviewer_list_options, cmd_reviewer_list };
