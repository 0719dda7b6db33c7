/*
 * cmd_reviewer.c: arbiter reviewer add, list and disable.
 *
 * add makes a random 20-byte secret from the system's random source, writes it to users.oath
 * only, and prints it once: in base32, as an otpauth:// URI and as a QR code,
 * for the reviewer's authenticator app. The first reviewer must be an admin
 * and needs no code; every later change needs an admin's code (--as ADMIN).
 * disable removes the reviewer's secret and refuses to leave no admin.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* As an admin: the guard open, the code read and verified inside the open
 * transaction. Returns EXIT_OK with the transaction open. */
static int as_admin(args *a, guard *g)
{
	reviewer r;
	int known = reviewer_get(g->s, g->actor, &r);
	if (known < 0) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g->s));
		return EXIT_ERROR;
	}
	if (known == 0 || !r.admin || r.disabled) {
		fprintf(stderr, "arbiter: only an admin may change reviewers; %s is %s (act as an "
		    "admin with --as NAME)\n", g->actor, known == 0 ? "not a reviewer" :
		    r.disabled ? "disabled" : "not an admin");
		code_refusal_audit(g->s, g->actor, "reviewer change by a non-admin");
		return EXIT_REFUSED;
	}
	if (!read_code(a, g->actor, g->code, sizeof g->code))
		return EXIT_USAGE;
	if (!store_begin(g->s)) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g->s));
		return EXIT_ERROR;
	}
	return guard_verify(g);
}

static void print_enrolment(const char *name, const unsigned char key[REVIEWER_KEY_BYTES],
    bool admin)
{
	char *b32 = totp_base32(key, REVIEWER_KEY_BYTES);
	char uri[512];
	snprintf(uri, sizeof uri, "otpauth://totp/arbiter:%s?secret=%s&issuer=arbiter&algorithm=SHA1"
	    "&digits=6&period=30", name, b32 ? b32 : "");
	printf("enrolled %s as %s\n\n", name, admin ? "admin" : "reviewer");
	printf("secret (base32): %s\n", b32 ? b32 : "?");
	printf("URI:             %s\n\n", uri);
	printf("Scan this with an authenticator app (TOTP, SHA-1, 6 digits, 30 s):\n\n");
	fflush(stdout);
	if (!qr_print(stdout, uri))
		printf("(the QR code could not be drawn: type the secret instead)\n");
	printf("\nThe secret is shown only now and kept only in users.oath. A code from the command "
	    "line: oathtool --totp -b SECRET\n");
	if (b32 != NULL) {
		secret_wipe(b32, strlen(b32));
		free(b32);
	}
	secret_wipe(uri, sizeof uri);
}

static int cmd_reviewer_add(const command *c, args *a)
{
	if (a->npos != 1) {
		usage_error(c, "%s", a->npos == 0 ? "no reviewer name given" : "one name at a time");
		return EXIT_USAGE;
	}
	const char *name = a->pos[0], *role = arg_get(a, "--role");
	if (!reviewer_name_valid(name)) {
		usage_error(c, "\"%s\" is not a reviewer name (letters, digits, . _ - @; at most 64)",
		    name);
		return EXIT_USAGE;
	}
	if (role != NULL && strcmp(role, "admin") != 0 && strcmp(role, "reviewer") != 0) {
		usage_error(c, "--role %s: the roles are reviewer and admin", role);
		return EXIT_USAGE;
	}
	bool admin = role != NULL && strcmp(role, "admin") == 0;
	guard g;
	if (!guard_open(a, &g, false))
		return guard_exit(&g);
	/* only a store that never had a reviewer enrols without a code */
	int enrolled = reviewer_admins(g.s, true), rc = EXIT_OK;
	if (enrolled < 0) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g.s));
		rc = EXIT_ERROR;
	} else if (enrolled == 0 && !admin) {
		fprintf(stderr, "arbiter: there is no admin yet: the first reviewer must be one "
		    "(arbiter reviewer add %s --role admin)\n", name);
		rc = EXIT_REFUSED;
	} else if (enrolled == 0) {
		if (!store_begin(g.s)) {
			fprintf(stderr, "arbiter: %s\n", store_errmsg(g.s));
			rc = EXIT_ERROR;
		} else if (reviewer_admins(g.s, true) != 0) {
			/* another process enrolled the first admin meanwhile */
			fprintf(stderr, "arbiter: an admin was enrolled meanwhile: run the command again "
			    "as an admin with their code\n");
			rc = EXIT_REFUSED;
		}
	} else {
		rc = as_admin(a, &g);
	}
	reviewer existing;
	int known = rc == EXIT_OK ? reviewer_get(g.s, name, &existing) : 0;
	if (known != 0) {
		fprintf(stderr, "arbiter: %s\n", known < 0 ? store_errmsg(g.s) : "that reviewer already exists "
		    "(disabled reviewers keep their name)");
		rc = known < 0 ? EXIT_ERROR : EXIT_REFUSED;
		if (known > 0)
			store_commit(g.s);      /* the admin's code was used: keep that */
	}
	unsigned char key[REVIEWER_KEY_BYTES];
	secret_random(key, sizeof key);
	if (rc == EXIT_OK && (!reviewer_add(g.s, g.actor, name, admin, key) || !store_commit(g.s))) {
		fprintf(stderr, "arbiter: %s; %s was not enrolled\n", store_errmsg(g.s), name);
		store_rollback(g.s);
		users_remove(g.s, name);        /* a secret written before a failed commit */
		rc = EXIT_ERROR;
	}
	if (rc == EXIT_OK)
		print_enrolment(name, key, admin);
	secret_wipe(key, sizeof key);
	guard_close(&g);
	return rc;
}

static int cmd_reviewer_disable(const command *c, args *a)
{
	if (a->npos != 1) {
		usage_error(c, "%s", a->npos == 0 ? "no reviewer name given" : "one name at a time");
		return EXIT_USAGE;
	}
	const char *name = a->pos[0];
	guard g;
	if (!guard_open(a, &g, false))
		return guard_exit(&g);
	reviewer r;
	int known = reviewer_get(g.s, name, &r), rc = EXIT_OK;
	if (known <= 0 || r.disabled) {
		fprintf(stderr, "arbiter: %s\n", known < 0 ? store_errmsg(g.s) : known == 0 ?
		    "no such reviewer" : "that reviewer is already disabled");
		guard_close(&g);
		return known < 0 ? EXIT_ERROR : EXIT_REFUSED;
	}
	if (r.admin && reviewer_admins(g.s, false) == 1) {
		fprintf(stderr, "arbiter: %s is the last admin: add another admin first\n", name);
		guard_close(&g);
		return EXIT_REFUSED;
	}
	rc = as_admin(a, &g);
	/* again under the write lock: another admin may have been disabled meanwhile */
	if (rc == EXIT_OK && (reviewer_get(g.s, name, &r) != 1 || r.disabled ||
	    (r.admin && reviewer_admins(g.s, false) <= 1))) {
		fprintf(stderr, "arbiter: %s\n", r.disabled ? "that reviewer was disabled meanwhile" :
		    "that would leave no enabled admin: add another admin first");
		store_commit(g.s);      /* the admin's code was used: keep that */
		rc = EXIT_REFUSED;
	}
	if (rc == EXIT_OK && (!reviewer_disable(g.s, g.actor, name) || !store_commit(g.s))) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g.s));
		rc = EXIT_ERROR;
	}
	if (rc == EXIT_OK)
		printf("disabled %s: their secret is removed from users.oath\n", name);
	guard_close(&g);
	return rc;
}

static int cmd_reviewer_list(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	json_t *list = reviewer_list(s);
	if (list == NULL) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(s));
		store_close(s);
		return EXIT_ERROR;
	}
	size_t i;
	json_t *r;
	if (!arg_has(a, "--json") && json_array_size(list) == 0)
		printf("no reviewers (the first: arbiter reviewer add NAME --role admin)\n");
	else if (!arg_has(a, "--json"))
		printf("%-20s %-9s %-25s %-25s %s\n", "NAME", "ROLE", "ENROLLED", "LAST USED",
		    "LOCKED UNTIL");
	json_array_foreach(list, i, r) {
		if (arg_has(a, "--json")) {
			char *line = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
			printf("%s\n", line);
			free(line);
			continue;
		}
		const char *used = json_string_value(json_object_get(r, "last_used"));
		const char *locked = json_string_value(json_object_get(r, "locked_until"));
		printf("%-20s %-9s %-25s %-25s %s%s\n", json_string_value(json_object_get(r, "name")),
		    json_string_value(json_object_get(r, "role")),
		    json_string_value(json_object_get(r, "enrolled")), used ? used : "never",
		    locked ? locked : "-", json_is_true(json_object_get(r, "disabled")) ?
		    "  (disabled)" : "");
	}
	json_decref(list);
	store_close(s);
	return EXIT_OK;
}

static const char *const reviewer_add_options[] = { "--as NAME", "--code CODE", "--role ROLE", NULL };
const command reviewer_add_command = { "reviewer add", "NAME [--role reviewer|admin] [--code CODE|-]",
	"enrol a reviewer: prints their TOTP secret, URI and QR code", reviewer_add_options, cmd_reviewer_add };

static const char *const reviewer_list_options[] = { "--json", NULL };
const command reviewer_list_command = { "reviewer list", "[--json]",
	"list reviewers: role, enrolled, last used, locked until", reviewer_list_options, cmd_reviewer_list };

static const char *const reviewer_disable_options[] = { "--as NAME", "--code CODE", NULL };
const command reviewer_disable_command = { "reviewer disable", "NAME [--code CODE|-]",
	"disable a reviewer and remove their secret", reviewer_disable_options, cmd_reviewer_disable };
