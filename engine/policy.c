/*
 * policy.c: loading a policy set from YAML files and compiling it.
 *
 * Every file of the policy directory is read in name order, checked key by
 * key, and compiled: expressions are parsed once here, globs and ranges are
 * stored ready for evaluation. Loading never stops at the first problem: each
 * unknown key, bad value, duplicate name or bad expression is added to the
 * error list with its FILE:LINE:COL, so `policy check` can show them all at
 * once. A set with errors must not be used to evaluate.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

typedef struct loader {
	policy_set *ps;
	arena *a;
	const char *file;       /* as shown */
	diags *errs;
} loader;

/* The keys each rule type takes besides the common ones. */
static const char *const type_keys[RULE__COUNT][5] = {
	[RULE_EXPRESSION] = { "condition" },
	[RULE_FORBIDDEN_RANGE] = { "ranges", "field" },
	[RULE_TEST_REQUIREMENT] = { "rules", "field" },
	[RULE_CHANGE_CONSTRAINT] = { "rules" },
	[RULE_REVIEW_REQUIREMENT] = { "conditions" },
	[RULE_PROTECTED_PATHS] = { "patterns", "operations", "field" },
	[RULE_ALLOWLIST] = { "field", "values" },
	[RULE_DENYLIST] = { "field", "values" },
	[RULE_QUOTA] = { "limit", "window", "per", "field" },
};
static const char *const common_keys[] = {
	"name", "description", "enabled", "applies_to", "actions", "when", "type",
	"severity", "effect", "override", "message", "set", NULL,
};

ATTR_PRINTF(3, 4)
static void err(loader *l, const node *at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diags_add(l->errs, l->file, at ? (int)at->line : 1, at ? (int)at->col : 1, "%s", msg);
}

/* The rule types, for a message: "expression, ..., denylist or quota". */
static char *expected_types(arena *a)
{
	char buf[256] = "";
	size_t off = 0;
	for (int i = 0; i < RULE__COUNT; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
		    i == 0 ? "" : i == RULE__COUNT - 1 ? " or " : ", ", rule_type_name(i));
	return arena_strdup(a, buf);
}

/* ---- typed getters: each reports a wrong type and returns false ---- */

static bool want(loader *l, const node *v, int type, const char *key)
{
	if (v->type == type)
		return true;
	if (type == NODE_FLOAT && v->type == NODE_INT)
		return true;
	char shown[96];
	value_format(value_of_node(v), shown, sizeof shown);
	/* "an int": the only expected type whose name starts with a vowel */
	err(l, v, "%s must be a%s %s, not %s %s", key, type == NODE_INT ? "n" : "",
	    type == NODE_FLOAT ? "number" : node_type_name(type), node_type_name(v->type), shown);
	return false;
}

static const char *get_str(loader *l, const node *v, const char *key)
{
	return want(l, v, NODE_STRING, key) ? v->u.str.s : NULL;
}

static bool get_bool(loader *l, const node *v, const char *key, bool *out)
{
	if (!want(l, v, NODE_BOOL, key))
		return false;
	*out = v->u.b;
	return true;
}

/* A list of strings; a single string is accepted as a list of one. */
static const char **get_str_list(loader *l, const node *v, const char *key, size_t *n)
{
	if (v->type == NODE_STRING) {
		const char **out = arena_alloc(l->a, sizeof *out);
		out[0] = v->u.str.s;
		*n = 1;
		return out;
	}
	if (!want(l, v, NODE_LIST, key))
		return NULL;
	const char **out = arena_alloc(l->a, v->u.list.n * sizeof *out + 1);
	*n = 0;
	for (size_t i = 0; i < v->u.list.n; i++) {
		const char *s = get_str(l, v->u.list.items[i], key);
		if (s == NULL)
			return NULL;
		out[(*n)++] = s;
	}
	return out;
}

static expr *get_expr(loader *l, const node *v, const char *key)
{
	if (v->type == NODE_BOOL) {
		/* `when: true` reads naturally; compile it as the literal */
		return expr_compile(l->a, v->u.b ? "true" : "false", v->u.b ? 4 : 5, l->file, v, l->errs);
	}
	const char *s = get_str(l, v, key);
	return s ? expr_compile(l->a, s, v->u.str.len, l->file, v, l->errs) : NULL;
}

static expr *get_path(loader *l, const node *v, const char *key)
{
	expr *e = get_expr(l, v, key);
	if (e != NULL && !expr_is_path(e)) {
		/* the source, not v's string: `field: true` compiles but is a bool node */
		err(l, v, "%s must be a field path such as changes or tests.smoke, not \"%s\"", key,
		    expr_source(e));
		return NULL;
	}
	return e;
}

static expr *default_path(loader *l, const char *path)
{
	diags ignore = { 0 };
	expr *e = expr_compile(l->a, path, strlen(path), l->file, NULL, &ignore);
	diags_free(&ignore);
	return e;
}

static bool get_number(loader *l, const node *v, const char *key, double *out)
{
	if (!want(l, v, NODE_FLOAT, key))
		return false;
	*out = v->type == NODE_INT ? (double)v->u.i : v->u.d;
	return true;
}

static bool get_duration(loader *l, const node *v, const char *key, int64_t *out)
{
	if (v->type == NODE_INT && v->u.i > 0) {
		*out = v->u.i;  /* plain seconds */
		return true;
	}
	if (v->type != NODE_STRING) {
		char shown[64];
		value_format(value_of_node(v), shown, sizeof shown);
		err(l, v, "%s must be a duration such as 90s, 15m, 24h or 30d, not %s", key, shown);
		return false;
	}
	const char *s = v->u.str.s;
	if (!duration_parse(s, out) || *out <= 0) {
		err(l, v, "%s: bad duration \"%s\" (expected a number and a unit, e.g. 90s, 15m, 24h, 30d)",
		    key, s);
		return false;
	}
	return true;
}

/* Checks that every key of map m is one of names; reports the others. */
static void check_keys(loader *l, const node *m, const char *const *names, const char *what)
{
	for (size_t i = 0; i < m->u.map.n; i++) {
		bool known = false;
		for (const char *const *k = names; *k && !known; k++)
			known = node_str_eq(m->u.map.keys[i], *k);
		if (!known) {
			char list[256] = "";
			size_t off = 0;
			for (const char *const *k = names; *k; k++)
				off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
				    off ? ", " : "", *k);
			err(l, m->u.map.keys[i], "unknown key \"%s\" in %s (expected %s)",
			    m->u.map.keys[i]->u.str.s, what, list);
		}
	}
}

/* ---- the parts of a policy ---- */

static void load_override(loader *l, policy *p, const node *v)
{
	static const char *const keys[] = { "allowed", "approvals", "role", "max_duration", NULL };
	if (!want(l, v, NODE_MAP, "override"))
		return;
	check_keys(l, v, keys, "override");
	const node *x;
	if ((x = node_get(v, "allowed")) != NULL)
		get_bool(l, x, "override.allowed", &p->override.allowed);
	if ((x = node_get(v, "approvals")) != NULL && want(l, x, NODE_INT, "override.approvals")) {
		if (x->u.i < 1 || x->u.i > 5)
			err(l, x, "override.approvals must be from 1 to 5, not %lld", (long long)x->u.i);
		else
			p->override.approvals = (int)x->u.i;
	}
	if ((x = node_get(v, "role")) != NULL && get_str(l, x, "override.role")) {
		int r = role_by_name(x->u.str.s, x->u.str.len);
		if (r < 0)
			err(l, x, "unknown role \"%s\" (expected reviewer or admin)", x->u.str.s);
		else
			p->override.role = r;
	}
	if ((x = node_get(v, "max_duration")) != NULL)
		get_duration(l, x, "override.max_duration", &p->override.max_duration);
}

static void load_ranges(loader *l, policy *p, const node *v)
{
	static const char *const keys[] = { "start", "end", "reason", NULL };
	if (!want(l, v, NODE_LIST, "ranges"))
		return;
	p->u.ranges.items = arena_alloc(l->a, v->u.list.n * sizeof(range_spec) + 1);
	for (size_t i = 0; i < v->u.list.n; i++) {
		const node *r = v->u.list.items[i];
		if (!want(l, r, NODE_MAP, "a range"))
			continue;
		check_keys(l, r, keys, "a range");
		const node *s = node_get(r, "start"), *e = node_get(r, "end"), *why = node_get(r, "reason");
		if (s == NULL || e == NULL) {
			err(l, r, "%s", "a range needs start and end");
			continue;
		}
		if (!want(l, s, NODE_INT, "start") || !want(l, e, NODE_INT, "end"))
			continue;
		if (e->u.i < s->u.i) {
			err(l, e, "range end 0x%llX is before its start 0x%llX", (unsigned long long)e->u.i,
			    (unsigned long long)s->u.i);
			continue;
		}
		range_spec *rs = &p->u.ranges.items[p->u.ranges.n++];
		rs->start = s->u.i;
		rs->end = e->u.i;
		rs->reason = why ? get_str(l, why, "reason") : NULL;
	}
}

static void load_suites(loader *l, policy *p, const node *v)
{
	static const char *const keys[] = { "test_suite", "min_pass_rate", NULL };
	if (!want(l, v, NODE_LIST, "rules"))
		return;
	p->u.suites.items = arena_alloc(l->a, v->u.list.n * sizeof(suite_spec) + 1);
	for (size_t i = 0; i < v->u.list.n; i++) {
		const node *r = v->u.list.items[i];
		if (!want(l, r, NODE_MAP, "a test rule"))
			continue;
		check_keys(l, r, keys, "a test rule");
		const node *s = node_get(r, "test_suite"), *rate = node_get(r, "min_pass_rate");
		if (s == NULL || rate == NULL) {
			err(l, r, "%s", "a test rule needs test_suite and min_pass_rate");
			continue;
		}
		suite_spec *ss = &p->u.suites.items[p->u.suites.n];
		if (!(ss->suite = get_str(l, s, "test_suite")) ||
		    !get_number(l, rate, "min_pass_rate", &ss->min_rate))
			continue;
		if (ss->min_rate < 0 || ss->min_rate > 1) {
			err(l, rate, "min_pass_rate must be from 0 to 1, not %g", ss->min_rate);
			continue;
		}
		ss->pos = r;
		p->u.suites.n++;
	}
}

static void load_limits(loader *l, policy *p, const node *v)
{
	static const char *const prefixes[] = { "max_", "min_", "allowed_", "forbidden_" };
	if (!want(l, v, NODE_LIST, "rules"))
		return;
	p->u.limits.items = arena_alloc(l->a, v->u.list.n * sizeof(limit_spec) + 1);
	for (size_t i = 0; i < v->u.list.n; i++) {
		const node *r = v->u.list.items[i];
		if (!want(l, r, NODE_MAP, "a constraint"))
			continue;
		if (r->u.map.n != 1) {
			err(l, r, "%s", "each constraint is one key, such as max_bytes_changed: 10240");
			continue;
		}
		const node *k = r->u.map.keys[0], *val = r->u.map.vals[0];
		limit_spec *ls = &p->u.limits.items[p->u.limits.n];
		int kind = -1;
		size_t plen = 0;
		for (int j = 0; j < 4 && kind < 0; j++) {
			plen = strlen(prefixes[j]);
			if (k->u.str.len > plen && strncmp(k->u.str.s, prefixes[j], plen) == 0)
				kind = j;
		}
		if (kind < 0) {
			err(l, k, "unknown constraint \"%s\" (expected max_F, min_F, allowed_F or forbidden_F)",
			    k->u.str.s);
			continue;
		}
		ls->kind = kind;
		ls->key = k->u.str.s;
		const char *field = k->u.str.s + plen;
		diags local = { 0 };
		ls->field = expr_compile(l->a, field, strlen(field), l->file, k, &local);
		if (ls->field == NULL || !expr_is_path(ls->field)) {
			err(l, k, "constraint \"%s\" does not name a field", k->u.str.s);
			diags_free(&local);
			continue;
		}
		diags_free(&local);
		if (kind == LIMIT_MAX || kind == LIMIT_MIN) {
			if (!get_number(l, val, k->u.str.s, &ls->number))
				continue;
		} else {
			if (!want(l, val, NODE_LIST, k->u.str.s))
				continue;
			ls->values = value_set_new(l->a, val);
		}
		p->u.limits.n++;
	}
}

static void load_conds(loader *l, policy *p, const node *v)
{
	static const char *const keys[] = { "if", "then", "message", NULL };
	if (!want(l, v, NODE_LIST, "conditions"))
		return;
	p->u.conds.items = arena_alloc(l->a, v->u.list.n * sizeof(cond_spec) + 1);
	for (size_t i = 0; i < v->u.list.n; i++) {
		const node *r = v->u.list.items[i];
		if (!want(l, r, NODE_MAP, "a condition"))
			continue;
		check_keys(l, r, keys, "a condition");
		const node *c = node_get(r, "if"), *then = node_get(r, "then"), *m = node_get(r, "message");
		if (c == NULL || then == NULL) {
			err(l, r, "%s", "a condition needs if and then");
			continue;
		}
		cond_spec *cs = &p->u.conds.items[p->u.conds.n];
		cs->cond = get_expr(l, c, "if");
		cs->then = get_str(l, then, "then");
		cs->message = m ? get_str(l, m, "message") : NULL;
		if (cs->cond && cs->then)
			p->u.conds.n++;
	}
}

static void load_values(loader *l, policy *p, const node *v)
{
	if (!want(l, v, NODE_LIST, "values"))
		return;
	for (size_t i = 0; i < v->u.list.n; i++) {
		const node *x = v->u.list.items[i];
		if (x->type == NODE_LIST || x->type == NODE_MAP) {
			err(l, x, "%s", "values must be scalars");
			return;
		}
	}
	p->u.values = value_set_new(l->a, v);
}

static glob *compile_globs(loader *l, const char **patterns, size_t n)
{
	glob *g = arena_alloc(l->a, n * sizeof *g + 1);
	for (size_t i = 0; patterns != NULL && i < n; i++)
		glob_compile(&g[i], patterns[i], strlen(patterns[i]));
	return g;
}

/* The indices of patterns in the set's distinct action globs, adding new ones. */
static uint32_t *action_ids(loader *l, const char **patterns, size_t n)
{
	policy_set *ps = l->ps;
	uint32_t *ids = arena_alloc(l->a, n * sizeof *ids + 1);
	for (size_t i = 0; patterns != NULL && i < n; i++) {
		size_t len = strlen(patterns[i]);
		uintptr_t id = (uintptr_t)strmap_get(&ps->glob_ids, patterns[i], len);
		if (id == 0) {
			if (ps->nglobs == ps->globcap) {
				ps->globcap = ps->globcap ? ps->globcap * 2 : 16;
				ps->action_globs = realloc(ps->action_globs, ps->globcap * sizeof(glob));
				if (ps->action_globs == NULL)
					abort();
			}
			glob_compile(&ps->action_globs[ps->nglobs], patterns[i], len);
			id = ++ps->nglobs;
			strmap_put(&ps->glob_ids, patterns[i], len, (void *)id);
		}
		ids[i] = (uint32_t)(id - 1);
	}
	return ids;
}

/* Applies one type-specific key. */
static void load_type_key(loader *l, policy *p, const node *k, const node *v)
{
	const char *key = k->u.str.s;
	if (strcmp(key, "field") == 0) {
		p->field = get_path(l, v, "field");
	} else if (strcmp(key, "condition") == 0) {
		p->u.condition = get_expr(l, v, "condition");
	} else if (strcmp(key, "ranges") == 0) {
		load_ranges(l, p, v);
	} else if (strcmp(key, "rules") == 0) {
		if (p->type == RULE_TEST_REQUIREMENT)
			load_suites(l, p, v);
		else
			load_limits(l, p, v);
	} else if (strcmp(key, "conditions") == 0) {
		load_conds(l, p, v);
	} else if (strcmp(key, "patterns") == 0) {
		p->u.paths.patterns = get_str_list(l, v, "patterns", &p->u.paths.npatterns);
		p->u.paths.globs = compile_globs(l, p->u.paths.patterns, p->u.paths.npatterns);
	} else if (strcmp(key, "operations") == 0) {
		size_t n;
		if (get_str_list(l, v, "operations", &n) != NULL)
			p->u.paths.operations = v->type == NODE_LIST ? v : NULL;
		if (v->type == NODE_STRING) {
			node *list = arena_alloc(l->a, sizeof *list);
			*list = (node){ .type = NODE_LIST, .line = v->line, .col = v->col };
			list->u.list.items = arena_alloc(l->a, sizeof(node *));
			list->u.list.items[0] = (node *)v;
			list->u.list.n = 1;
			p->u.paths.operations = list;
		}
	} else if (strcmp(key, "values") == 0) {
		load_values(l, p, v);
	} else if (strcmp(key, "limit") == 0) {
		if (get_number(l, v, "limit", &p->u.quota.limit) && p->u.quota.limit < 0)
			err(l, v, "%s", "limit must not be negative");
	} else if (strcmp(key, "window") == 0) {
		get_duration(l, v, "window", &p->u.quota.window);
	} else if (strcmp(key, "per") == 0) {
		p->u.quota.per = get_path(l, v, "per");
	}
}

/* The keys a rule type requires. */
static const char *const required_keys[RULE__COUNT][3] = {
	[RULE_EXPRESSION] = { "condition" },
	[RULE_FORBIDDEN_RANGE] = { "ranges" },
	[RULE_TEST_REQUIREMENT] = { "rules" },
	[RULE_CHANGE_CONSTRAINT] = { "rules" },
	[RULE_REVIEW_REQUIREMENT] = { "conditions" },
	[RULE_PROTECTED_PATHS] = { "patterns" },
	[RULE_ALLOWLIST] = { "field", "values" },
	[RULE_DENYLIST] = { "field", "values" },
	[RULE_QUOTA] = { "limit", "window" },
};

/* Is key taken by some rule type? */
static bool any_type_key(const char *key)
{
	for (int t = 0; t < RULE__COUNT; t++)
		for (int j = 0; j < 5 && type_keys[t][j]; j++)
			if (strcmp(key, type_keys[t][j]) == 0)
				return true;
	return false;
}

static policy *new_policy(policy_set *ps)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 32;
		ps->items = realloc(ps->items, ps->cap * sizeof *ps->items);
		if (ps->items == NULL)
			abort();
	}
	policy *p = &ps->items[ps->n++];
	memset(p, 0, sizeof *p);
	return p;
}

static void load_policy(loader *l, const node *m, bool file_enabled)
{
	if (!want(l, m, NODE_MAP, "a policy"))
		return;
	size_t errors_before = l->errs->n;
	policy *p = new_policy(l->ps);
	p->file = l->file;
	p->line = (int)m->line;
	p->col = (int)m->col;
	p->source = arena_printf(l->a, "%s:%d", l->file, p->line);
	p->enabled = file_enabled;
	p->kinds = KIND_ALL;
	p->severity = SEV_WARNING;
	p->effect = -1;
	p->override = (override_spec){ .allowed = true, .approvals = 1, .role = ROLE_REVIEWER };

	const node *name = node_get(m, "name"), *type = node_get(m, "type");
	if (name == NULL)
		err(l, m, "%s", "a policy needs a name");
	else if ((p->name = get_str(l, name, "name")) != NULL) {
		if (name->u.str.len == 0)
			err(l, name, "%s", "a policy name must not be empty");
		size_t *first = strmap_get(&l->ps->names, p->name, name->u.str.len);
		if (first != NULL) {
			const policy *other = &l->ps->items[*first];
			err(l, name, "duplicate policy name \"%s\" (first defined at %s)", p->name,
			    other->source);
		} else {
			size_t *idx = arena_alloc(l->ps->arena, sizeof *idx);
			*idx = l->ps->n - 1;
			strmap_put(&l->ps->names, p->name, name->u.str.len, idx);
		}
	}
	const char *what = p->name ? arena_printf(l->a, "policy \"%s\"", p->name) : "a policy";
	p->type = -1;
	if (type == NULL)
		err(l, m, "%s needs a type (%s)", what, expected_types(l->a));
	else if (get_str(l, type, "type")) {
		p->type = rule_type_by_name(type->u.str.s, type->u.str.len);
		if (p->type < 0)
			err(l, type, "unknown type \"%s\" (expected %s)", type->u.str.s,
			    expected_types(l->a));
	}

	for (size_t i = 0; i < m->u.map.n; i++) {
		const node *k = m->u.map.keys[i], *v = m->u.map.vals[i];
		const char *key = k->u.str.s;
		int common = -1;
		for (int j = 0; common_keys[j]; j++)
			if (strcmp(key, common_keys[j]) == 0)
				common = j;
		if (common < 0) {
			bool typed = false;
			if (p->type >= 0)
				for (int j = 0; j < 5 && type_keys[p->type][j]; j++)
					typed = typed || strcmp(key, type_keys[p->type][j]) == 0;
			if (typed)
				load_type_key(l, p, k, v);
			else if (p->type >= 0) {
				char list[128] = "";
				size_t off = 0;
				for (int j = 0; j < 5 && type_keys[p->type][j]; j++)
					off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
					    off ? ", " : "", type_keys[p->type][j]);
				err(l, k, "unknown key \"%s\" in %s (type %s takes %s besides the common keys)",
				    key, what, rule_type_name(p->type), list);
			} else if (!any_type_key(key)) {
				/* no type yet, but a key no type takes is unknown all the same */
				err(l, k, "unknown key \"%s\" in %s", key, what);
			}
			continue;
		}
		if (strcmp(key, "name") == 0 || strcmp(key, "type") == 0) {
			continue;
		} else if (strcmp(key, "description") == 0) {
			p->description = get_str(l, v, key);
		} else if (strcmp(key, "message") == 0) {
			p->message = get_str(l, v, key);
		} else if (strcmp(key, "enabled") == 0) {
			bool on = true;
			if (get_bool(l, v, key, &on))
				p->enabled = p->enabled && on;
		} else if (strcmp(key, "applies_to") == 0) {
			size_t n;
			const char **kinds = get_str_list(l, v, key, &n);
			if (kinds != NULL) {
				p->kinds = 0;
				for (size_t j = 0; j < n; j++) {
					const node *item = v->type == NODE_LIST ? v->u.list.items[j] : v;
					int kb = kind_by_name(item->u.str.s, item->u.str.len);
					if (kb < 0)
						err(l, item, "unknown kind \"%s\" (expected proposal, export or import)",
						    kinds[j]);
					else
						p->kinds |= kb;
				}
			}
		} else if (strcmp(key, "actions") == 0) {
			p->actions = get_str_list(l, v, key, &p->nactions);
			p->action_ids = action_ids(l, p->actions, p->nactions);
		} else if (strcmp(key, "when") == 0) {
			p->when = get_expr(l, v, key);
		} else if (strcmp(key, "severity") == 0) {
			if (get_str(l, v, key) && (p->severity = severity_by_name(v->u.str.s, v->u.str.len)) < 0) {
				err(l, v, "unknown severity \"%s\" (expected info, warning or critical)",
				    v->u.str.s);
				p->severity = SEV_WARNING;
			}
		} else if (strcmp(key, "effect") == 0) {
			if (get_str(l, v, key) && (p->effect = effect_by_name(v->u.str.s, v->u.str.len)) < 0)
				err(l, v, "unknown effect \"%s\" (expected deny, require_approval, warn, log or modify)",
				    v->u.str.s);
		} else if (strcmp(key, "override") == 0) {
			load_override(l, p, v);
		} else if (strcmp(key, "set") == 0) {
			if (want(l, v, NODE_MAP, "set"))
				p->set = v;
		}
	}

	if (p->type >= 0)
		for (int j = 0; j < 3 && required_keys[p->type][j]; j++)
			if (node_get(m, required_keys[p->type][j]) == NULL)
				err(l, m, "%s of type %s needs %s", what, rule_type_name(p->type),
				    required_keys[p->type][j]);
	const node *effect = node_get(m, "effect");
	if (p->effect == EFF_MODIFY && p->set == NULL && effect != NULL)
		err(l, effect, "%s has effect modify but no set: {attribute: value}", what);
	if (p->set != NULL && p->effect != EFF_MODIFY)
		err(l, node_get(m, "set"), "%s has set but its effect is not modify", what);
	if (p->effect < 0)
		p->effect = p->type == RULE_REVIEW_REQUIREMENT ? EFF_REQUIRE_APPROVAL
		    : p->severity == SEV_CRITICAL ? EFF_DENY
		    : p->severity == SEV_WARNING ? EFF_WARN : EFF_LOG;
	if (p->type == RULE_FORBIDDEN_RANGE && p->field == NULL)
		p->field = default_path(l, "changes");
	if (p->type == RULE_TEST_REQUIREMENT && p->field == NULL)
		p->field = default_path(l, "tests");
	if (p->type == RULE_PROTECTED_PATHS && p->field == NULL)
		p->field = default_path(l, "files");
	if (p->message == NULL)
		p->message = p->description ? p->description
		    : arena_printf(l->a, "policy %s matched", p->name ? p->name : "?");
	if (l->errs->n > errors_before || p->type < 0)
		p->enabled = false;     /* never evaluated: the set is refused anyway */
	p->json_name = json_quote(l->a, p->name);
	p->json_message = json_quote(l->a, p->message);
	p->json_source = json_quote(l->a, p->source);
}

static void add_file(policy_set *ps, const char *path, const char *shown,
    const unsigned char sha256_of_text[32], bool enabled)
{
	if (ps->nfiles == ps->filecap) {
		ps->filecap = ps->filecap ? ps->filecap * 2 : 8;
		ps->files = realloc(ps->files, ps->filecap * sizeof *ps->files);
		if (ps->files == NULL)
			abort();
	}
	policy_file *f = &ps->files[ps->nfiles++];
	f->path = arena_strdup(ps->arena, path);
	f->shown = arena_strdup(ps->arena, shown);
	f->enabled = enabled;
	memcpy(f->sha256, sha256_of_text, 32);
}

/* The file's tree: the one trees kept for these bytes, else parsed (and
 * handed to trees to keep when it parsed without an error). */
static const node *file_tree(policy_set *ps, const char *file, const char *text, size_t len,
    const unsigned char sha[32], const policy_trees *trees, bool *empty, diags *errs)
{
	*empty = false;
	const node *root = trees ? trees->find(trees->ctx, ps->arena, sha) : NULL;
	if (root != NULL)
		return root;
	size_t errors_before = errs->n;
	root = doc_parse(ps->arena, file, text, len, 1, empty, errs);
	if (root != NULL && trees != NULL && errs->n == errors_before)
		trees->keep(trees->ctx, sha, root);
	return root;
}

static void load_text(policy_set *ps, const char *path, const char *shown, const char *text,
    size_t len, const policy_trees *trees, diags *errs)
{
	loader l = { .ps = ps, .a = ps->arena, .file = arena_strdup(ps->arena, shown), .errs = errs };
	unsigned char sha[32];
	sha256(text, len, sha);
	bool empty;
	const node *root = file_tree(ps, l.file, text, len, sha, trees, &empty, errs);
	bool enabled = true;
	if (root == NULL) {
		if (empty)
			err(&l, NULL, "%s", "empty policy file (expected version, enabled and policies)");
		add_file(ps, path, shown, sha, false);
		return;
	}
	static const char *const keys[] = { "version", "enabled", "policies", NULL };
	if (!want(&l, root, NODE_MAP, "a policy file")) {
		add_file(ps, path, shown, sha, false);
		return;
	}
	check_keys(&l, root, keys, "a policy file");
	const node *version = node_get(root, "version"), *on = node_get(root, "enabled");
	const node *list = node_get(root, "policies");
	if (version == NULL)
		err(&l, root, "%s", "missing version: 1");
	else if (!((version->type == NODE_INT && version->u.i == 1) ||
	    (version->type == NODE_FLOAT && version->u.d == 1.0))) {
		char shown_v[64];
		value_format(value_of_node(version), shown_v, sizeof shown_v);
		err(&l, version, "unsupported version %s (this arbiter reads version 1)", shown_v);
	}
	if (on != NULL)
		get_bool(&l, on, "enabled", &enabled);
	add_file(ps, path, shown, sha, enabled);
	if (list == NULL) {
		err(&l, root, "%s", "missing policies: a list of policies");
		return;
	}
	if (!want(&l, list, NODE_LIST, "policies"))
		return;
	for (size_t i = 0; i < list->u.list.n; i++)
		load_policy(&l, list->u.list.items[i], enabled);
}

void policy_set_add_text(policy_set *ps, const char *shown, const char *text, size_t len,
    diags *errs)
{
	load_text(ps, shown, shown, text, len, NULL, errs);
}

policy_set *policy_set_new(void)
{
	policy_set *ps = calloc(1, sizeof *ps);
	if (ps == NULL)
		abort();
	ps->arena = arena_new();
	return ps;
}

void policy_set_free(policy_set *ps)
{
	if (ps == NULL)
		return;
	free(ps->items);
	free(ps->files);
	free(ps->action_globs);
	strmap_free(&ps->glob_ids);
	strmap_free(&ps->names);
	arena_free(ps->arena);
	free(ps);
}

bool policy_file_name(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.')
		return false;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

policy_set *policy_set_load_trees(const char *dir, const char *shown_prefix,
    const policy_trees *trees, diags *errs)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!policy_file_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = realloc(names, cap * sizeof *names);
			if (names == NULL)
				abort();
		}
		names[n] = strdup(de->d_name);
		if (names[n++] == NULL)
			abort();
	}
	closedir(d);
	if (n > 0)      /* names is NULL for an empty directory: not for qsort */
		qsort(names, n, sizeof *names, by_name);
	policy_set *ps = policy_set_new();
	const char *prefix = shown_prefix ? shown_prefix : dir;
	size_t plen = strlen(prefix);
	while (plen > 1 && prefix[plen - 1] == '/')
		plen--;
	for (size_t i = 0; i < n; i++) {
		char *path = arena_printf(ps->arena, "%s/%s", dir, names[i]);
		char *shown = arena_printf(ps->arena, "%.*s/%s", (int)plen, prefix, names[i]);
		size_t len;
		char why[256];
		char *text = read_file(path, &len, why, sizeof why);
		if (text == NULL) {
			diags_add(errs, shown, 0, 0, "%s", why);
		} else {
			load_text(ps, path, shown, text, len, trees, errs);
			free(text);
		}
		free(names[i]);
	}
	free(names);
	if (n == 0)
		diags_add(errs, prefix, 0, 0, "no policy files (*.yaml) in %s", dir);
	return ps;
}

policy_set *policy_set_load(const char *dir, const char *shown_prefix, diags *errs)
{
	return policy_set_load_trees(dir, shown_prefix, NULL, errs);
}
