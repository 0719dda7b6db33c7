/*
 * cmd_policy.c: arbiter policy check and policy list.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int cmd_policy_check(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	diags errs = { 0 };
	store_policies_tampered(a);
	policy_set *ps = read_policies(a, &errs);
	if (ps == NULL) {
		diags_free(&errs);
		return EXIT_ERROR;
	}
	int rc = EXIT_OK;
	if (errs.n > 0) {
		diags_print(&errs, stderr);
		err_printf("%zu error%s in %zu file%s\n", errs.n, errs.n == 1 ? "" : "s",
		    ps->nfiles, ps->nfiles == 1 ? "" : "s");
		rc = EXIT_ERROR;
	} else {
		size_t enabled = 0;
		for (size_t i = 0; i < ps->n; i++)
			enabled += ps->items[i].enabled;
		out_printf("%zu policies (%zu enabled) in %zu files: ok\n", ps->n, enabled, ps->nfiles);
	}
	diags_free(&errs);
	policy_set_free(ps);
	return rc;
}

/* The store's pinned policy versions, oldest first. */
static void print_versions(const args *a)
{
	store *s = open_store(a);
	if (s == NULL)
		return;
	json_t *list = integrity_versions(s);
	size_t i;
	json_t *v;
	out_printf("\npolicy versions:\n");
	json_array_foreach(list, i, v) {
		const char *why = json_string_value(json_object_get(v, "justification"));
		out_printf("  %3d  %s  by %-12s %2d files  %s\n",
		    (int)json_integer_value(json_object_get(v, "version")),
		    json_string_value(json_object_get(v, "created_at")),
		    json_string_value(json_object_get(v, "actor")),
		    (int)json_integer_value(json_object_get(v, "files")), why ? why : "");
	}
	json_decref(list);
	store_close(s);
}

static int cmd_policy_list(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store_policies_tampered(a);
	policy_set *ps = load_policies(a);
	if (ps == NULL)
		return EXIT_ERROR;
	bool json = arg_has(a, "--json");
	if (!json)
		out_printf("%-32s %-18s %-8s %-16s %s\n", "NAME", "TYPE", "SEVERITY", "EFFECT", "SOURCE");
	for (size_t i = 0; i < ps->n; i++) {
		const policy *p = &ps->items[i];
		if (json) {
			json_t *j = policy_to_json(p);
			char *s = json_dumps(j, JSON_COMPACT);
			term_json_line(stdout, s);
			free(s);
			json_decref(j);
		} else {
			out_printf("%-32s %-18s %-8s %-16s %s%s\n", p->name, rule_type_name(p->type),
			    severity_name(p->severity), effect_name(p->effect), p->source,
			    p->enabled ? "" : " (disabled)");
		}
	}
	policy_set_free(ps);
	if (!json && arg_get(a, "--policies") == NULL)
		print_versions(a);
	return EXIT_OK;
}

static const char *const policy_check_options[] = { "--policies DIR", NULL };
const command policy_check_command = { "policy check", "[--policies DIR]",
	"load the policies and report every error", policy_check_options, cmd_policy_check };

static const char *const policy_list_options[] = { "--policies DIR", "--json", NULL };
const command policy_list_command = { "policy list", "[--policies DIR] [--json]",
	"list the policies", policy_list_options, cmd_policy_list };
