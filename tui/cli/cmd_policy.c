/*
 * cmd_policy.c: arbiter policy check and policy list.
 */
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
static void print_versions(store *s)
{
	versions_view list;
	op_reply r;
	out_printf("\npolicy versions:\n");
	if (op_policy_versions(s, &list, &r) == OUT_OK) {
		for (size_t i = 0; i < list.n; i++) {
			const version_view *v = &list.items[i];
			out_printf("  %3d  %s  by %-12s %2d files  %s\n", v->version, v->created_at,
			    v->actor, v->files, v->justification ? v->justification : "");
		}
		versions_view_free(&list);
	}
}

static void print_policies(const policies_view *v, bool json)
{
	if (!json)
		out_printf("%-32s %-18s %-8s %-16s %s\n", "NAME", "TYPE", "SEVERITY", "EFFECT", "SOURCE");
	for (size_t i = 0; i < v->n; i++) {
		const policy_view *p = &v->items[i];
		if (json)
			term_json_line(stdout, p->json);
		else
			out_printf("%-32s %-18s %-8s %-16s %s%s\n", p->name, p->type, p->severity, p->effect,
			    p->source, p->enabled ? "" : " (disabled)");
	}
}

/* A policy directory of --policies: its files alone, no store. */
static int list_directory(const args *a, bool json)
{
	policy_set *ps = load_policies(a);
	if (ps == NULL)
		return EXIT_ERROR;
	policies_view v = { .n = ps->n, .arena = arena_new() };
	v.items = arena_alloc(v.arena, (v.n + 1) * sizeof *v.items);
	for (size_t i = 0; i < ps->n; i++)
		policy_view_of(&ps->items[i], v.arena, &v.items[i]);
	policy_set_free(ps);
	print_policies(&v, json);
	policies_view_free(&v);
	return EXIT_OK;
}

/* The set the store evaluates with (op_policies: its files, or its
 * server's), and its pinned versions. */
static int cmd_policy_list(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	bool json = arg_has(a, "--json");
	if (arg_get(a, "--policies") != NULL)
		return list_directory(a, json);
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	policies_view v;
	op_reply r;
	outcome o = op_policies(s, &v, &r);
	if (v.integ.tampered)
		integrity_warn(s, &v.integ, actor_name(a));
	int rc = EXIT_OK;
	if (o == OUT_BAD_INPUT) {
		diags_print(&v.errs, stderr);
		err_printf("arbiter: %s; nothing was evaluated\n", r.message);
		rc = EXIT_ERROR;
	} else if (o != OUT_OK) {
		err_printf("arbiter: %s\n", r.message);
		rc = EXIT_ERROR;
	} else {
		print_policies(&v, json);
		if (!json)
			print_versions(s);
	}
	policies_view_free(&v);
	store_close(s);
	return rc;
}

static const char *const policy_check_options[] = { "--policies DIR", NULL };
const command policy_check_command = { "policy check", "[--policies DIR]",
	"load the policies and report every error", policy_check_options, cmd_policy_check };

static const char *const policy_list_options[] = { "--policies DIR", "--json", NULL };
const command policy_list_command = { "policy list", "[--policies DIR] [--json]",
	"list the policies", policy_list_options, cmd_policy_list };
