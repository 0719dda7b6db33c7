/*
 * cmd_pin.c: arbiter policy pin --justification TEXT.
 *
 * An admin, with a code, records the policy files as they are now as the
 * next policy version: the way to change policies (or config.yaml) on
 * purpose. The files must load without errors first, and there must be
 * something to pin; the justification is held to the same minimum length as
 * an override's.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_policy_pin(const command *c, args *a)
{
	const char *why = arg_get(a, "--justification");
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	if (why == NULL) {
		usage_error(c, "%s", "pinning needs --justification TEXT");
		return EXIT_USAGE;
	}
	policy_set *ps = load_policies(a);
	if (ps == NULL)
		return EXIT_ERROR;
	policy_set_free(ps);
	guard g;
	if (!guard_open(a, &g, false))
		return guard_exit(&g);
	int rc = EXIT_OK;
	size_t chars = utf8_length(why, strlen(why));
	reviewer r;
	int known = reviewer_get(g.s, g.actor, &r);
	if (!g.integ.tampered) {
		printf("the policy files are already pinned as version %d: nothing to pin\n",
		    g.integ.version);
	} else if ((int)chars < g.cfg.justification_min_chars) {
		fprintf(stderr, "arbiter: the justification has %zu characters; at least %d are "
		    "required (review.justification_min_chars)\n", chars, g.cfg.justification_min_chars);
		rc = EXIT_REFUSED;
	} else if (known <= 0 || !r.admin || r.disabled) {
		fprintf(stderr, "arbiter: %s\n", known < 0 ? store_errmsg(g.s) : "only an enabled admin may pin "
		    "policies (act as one with --as NAME)");
		rc = known < 0 ? EXIT_ERROR : EXIT_REFUSED;
		if (known >= 0)
			code_refusal_audit(g.s, g.actor, "policy pin by a non-admin");
	} else if (!read_code(a, g.actor, g.code, sizeof g.code)) {
		rc = EXIT_USAGE;
	} else if (!store_begin(g.s)) {
		fprintf(stderr, "arbiter: %s\n", store_errmsg(g.s));
		rc = EXIT_ERROR;
	} else if ((rc = guard_verify(&g)) == EXIT_OK) {
		int version;
		if (!integrity_pin(g.s, g.actor, why, "policy.pin", &version) || !store_commit(g.s)) {
			fprintf(stderr, "arbiter: %s; nothing was pinned\n", store_errmsg(g.s));
			rc = EXIT_ERROR;
		} else {
			printf("pinned the policy files as version %d (was %d: %s)\n", version,
			    g.integ.version, g.integ.what);
		}
	}
	guard_close(&g);
	return rc;
}

static const char *const policy_pin_options[] = { "--as NAME", "--code CODE", "--justification TEXT", NULL };
const command policy_pin_command = { "policy pin", "--justification TEXT [--code CODE|-]",
	"record the policy files as the next policy version (admin)", policy_pin_options, cmd_policy_pin };
