/*
 * ops_policies.c: the policy set a store evaluates with, for policy list.
 *
 * On a store opened here that is its files, read now and compared with the
 * pinned version; through a server, the set the server read when it started
 * or was last sent SIGHUP (remote_audit.c). Either way a policy is a view
 * of plain strings with its policy list --json line, so the command prints
 * both alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

void policy_view_of(const policy *p, arena *a, policy_view *out)
{
	char *json = policy_json(p);
	*out = (policy_view){ .name = arena_strdup(a, p->name), .type = rule_type_name(p->type),
		.severity = severity_name(p->severity), .effect = effect_name(p->effect),
		.source = arena_strdup(a, p->source), .enabled = p->enabled,
		.description = p->description ? arena_strdup(a, p->description) : NULL,
		.json = arena_strdup(a, json ? json : "{}") };
	free(json);
}

outcome op_policies(store *s, policies_view *v, op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	v->arena = arena_new();
	if (v->arena == NULL)
		abort();
	if (s->remote)
		return remote_policies(s, v, r);
	if (!integrity_check(s, &v->integ))
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s/policies", s->dir);
	policy_set *ps = policy_set_load(dir, "policies", &v->errs);
	if (ps == NULL)
		return op_say(r, OUT_IO_ERROR, "%s: cannot read the policy directory", dir);
	outcome o = OUT_OK;
	if (v->errs.n > 0) {
		o = op_say(r, OUT_BAD_INPUT, "%zu error%s in the policies", v->errs.n,
		    v->errs.n == 1 ? "" : "s");
	} else {
		v->n = ps->n;
		v->items = arena_alloc(v->arena, (v->n + 1) * sizeof *v->items);
		for (size_t i = 0; i < ps->n; i++)
			policy_view_of(&ps->items[i], v->arena, &v->items[i]);
	}
	policy_set_free(ps);
	return o;
}

void policies_view_free(policies_view *v)
{
	diags_free(&v->errs);
	arena_free(v->arena);
	memset(v, 0, sizeof *v);
}
