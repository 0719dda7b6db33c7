/*
 * eval.c: evaluating a submission against a policy set.
 *
 * Each enabled policy whose kinds, action globs and `when` guard select the
 * submission runs its rule type and adds findings. An evaluation error in a
 * rule is itself a finding of that rule (type "error"), with effect deny when
 * the set fails closed. The status is a pure function of the findings' effects
 * (deny wins, then require_approval and warn), so it does not depend on the
 * order of the policies. Everything is allocated in the caller's scratch
 * arena: one evaluation costs no malloc in the steady state.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

typedef struct run {
	const policy_set *ps;
	const submission *sub;
	const eval_options *o;
	arena *a;
	eval_result *r;
	eval_ctx ctx;
	size_t action_len;
	signed char *glob_memo; /* per distinct action glob: -1 untested, 0, 1 */
} run;

void eval_options_default(eval_options *o)
{
	memset(o, 0, sizeof *o);
	o->fail_closed = true;
	o->enforcement = true;
}

finding *result_add(eval_result *r, arena *a)
{
	r->findings = arena_grow(a, r->findings, r->n, &r->cap, sizeof *r->findings, 8);
	finding *f = &r->findings[r->n++];
	memset(f, 0, sizeof *f);
	return f;
}

void result_finish(eval_result *r)
{
	bool deny = false, review = false;
	memset(r->counts, 0, sizeof r->counts);
	for (size_t i = 0; i < r->n; i++) {
		const finding *f = &r->findings[i];
		r->counts[f->severity]++;
		deny = deny || f->effect == EFF_DENY;
		review = review || f->effect == EFF_REQUIRE_APPROVAL || f->effect == EFF_WARN;
	}
	r->status = deny ? ST_BLOCKED : review ? ST_PENDING : ST_ALLOWED;
}

/* A finding of policy p with its defaults filled in. */
static finding *add(run *u, const policy *p, const char *detail, const char *path)
{
	finding *f = result_add(u->r, u->a);
	f->policy = p;
	f->name = p->name;
	f->type = rule_type_name(p->type);
	f->severity = p->severity;
	f->effect = p->effect;
	f->overridable = p->override.allowed;
	f->message = p->message;
	f->detail = detail;
	f->path = path;
	f->source = p->source;
	return f;
}

static void add_error(run *u, const policy *p, const expr_error *e, const char *path)
{
	finding *f = add(u, p, arena_printf(u->a, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg),
	    path);
	f->type = "error";
	f->message = arena_printf(u->a, "evaluation error in policy %s", p->name);
	f->effect = u->o->fail_closed ? EFF_DENY : EFF_LOG;
	if (u->o->fail_closed)
		f->severity = SEV_CRITICAL;
}

/* An error found by a rule itself (not by an expression): a wrong type. */
ATTR_PRINTF(4, 5)
static void rule_error(run *u, const policy *p, const char *path, const char *fmt, ...)
{
	expr_error e = { .file = p->file, .line = p->line, .col = p->col };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	add_error(u, p, &e, path);
}

static const char *shown(run *u, value v)
{
	return value_describe(u->a, v);
}

static bool field_value(run *u, const policy *p, const expr *e, value *out)
{
	if (expr_eval(e, &u->ctx, out))
		return true;
	add_error(u, p, &u->ctx.err, expr_first_field(e));
	return false;
}

static const char *item_path(run *u, const char *base, size_t i)
{
	char index[24];
	format_int((int64_t)i, index);
	return arena_concat(u->a, base, "[", index, "]", (char *)NULL);
}

/* "0x%04llX" without printf: offsets are formatted several times per finding. */
static const char *hex(run *u, int64_t v)
{
	static const char digits[] = "0123456789ABCDEF";
	char buf[20], *p = buf + sizeof buf;
	unsigned long long x = (unsigned long long)v;
	int n = 0;
	*--p = '\0';
	do {
		*--p = digits[x & 15];
		x >>= 4;
		n++;
	} while (x != 0 || n < 4);
	*--p = 'x';
	*--p = '0';
	return arena_strndup(u->a, p, (size_t)(buf + sizeof buf - 1 - p));
}

/* ---- the rule types ---- */

static void rule_expression(run *u, const policy *p)
{
	bool hit;
	if (!expr_eval_bool(p->u.condition, &u->ctx, &hit)) {
		add_error(u, p, &u->ctx.err, expr_first_field(p->u.condition));
		return;
	}
	if (!hit)
		return;
	const char *detail = expr_describe_fields(p->u.condition, &u->ctx);
	if (*detail == '\0')
		detail = arena_printf(u->a, "%s is true", expr_source(p->u.condition));
	add(u, p, detail, expr_first_field(p->u.condition));
}

static bool int_member(const node *change, const char *key, int64_t *out, bool *present)
{
	const node *n = node_get(change, key);
	*present = n != NULL;
	if (n == NULL)
		return true;
	if (n->type != NODE_INT)
		return false;
	*out = n->u.i;
	return true;
}

/* Reads the rule's field as a list of `items`: false when it is absent (no
 * finding) or not a list (an error finding). */
static bool list_field(run *u, const policy *p, const char *items, value *v)
{
	const char *base = expr_first_field(p->field);
	if (!field_value(u, p, p->field, v) || v->type == NODE_NULL)
		return false;
	if (v->type != NODE_LIST) {
		rule_error(u, p, base, "%s must be a list of %s, not %s %s", base, items,
		    node_type_name(v->type), shown(u, *v));
		return false;
	}
	return true;
}

static void rule_forbidden_range(run *u, const policy *p)
{
	value v;
	const char *base = expr_first_field(p->field);
	if (!list_field(u, p, "changes", &v))
		return;
	for (size_t i = 0; i < v.u.n->u.list.n; i++) {
		const node *c = v.u.n->u.list.items[i];
		int64_t off = 0, len = 0, start = 0, end = 0;
		bool has_off, has_len, has_start, has_end;
		if (c->type != NODE_MAP || !int_member(c, "offset", &off, &has_off) ||
		    !int_member(c, "length", &len, &has_len) ||
		    !int_member(c, "start", &start, &has_start) ||
		    !int_member(c, "end", &end, &has_end) ||
		    !((has_off && has_len) || (has_start && has_end)) || (has_off && has_len && len < 0) ||
		    (!(has_off && has_len) && end < start)) {
			/* a reversed {start, end} would overlap nothing: refuse it, fail closed */
			const char *path = item_path(u, base, i);
			rule_error(u, p, path, "%s must be {offset, length} or {start, end} with integers, not %s",
			    path, shown(u, value_of_node(c)));
			return;
		}
		bool sized = has_off && has_len;
		if (sized) {
			if (len == 0)
				continue;
			start = off;
			if (__builtin_add_overflow(off, len - 1, &end)) {
				const char *path = item_path(u, base, i);
				rule_error(u, p, path, "%s: offset + length overflows", path);
				return;
			}
		}
		/* the texts are made only for a change that overlaps: most do not */
		const char *what = NULL, *path = NULL;
		for (size_t j = 0; j < p->u.ranges.n; j++) {
			const range_spec *r = &p->u.ranges.items[j];
			if (start > r->end || r->start > end)
				continue;
			if (what == NULL) {
				what = sized ? arena_printf(u->a, "%s+%lld", hex(u, off), (long long)len)
				    : arena_printf(u->a, "%s-%s", hex(u, start), hex(u, end));
				path = item_path(u, base, i);
			}
			const char *detail = r->reason
			    ? arena_printf(u->a, "change %s overlaps %s-%s (%s)", what, hex(u, r->start),
				hex(u, r->end), r->reason)
			    : arena_printf(u->a, "change %s overlaps %s-%s", what, hex(u, r->start),
				hex(u, r->end));
			add(u, p, detail, path);
		}
	}
}

static bool is_identifier(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static const char *key_path(run *u, const char *base, const char *key)
{
	return is_identifier(key) ? arena_concat(u->a, base, ".", key, (char *)NULL)
	    : arena_concat(u->a, base, "[\"", key, "\"]", (char *)NULL);
}

static void rule_test_requirement(run *u, const policy *p)
{
	value v;
	const char *base = expr_first_field(p->field);
	if (!field_value(u, p, p->field, &v))
		return;
	if (v.type != NODE_MAP && v.type != NODE_NULL) {
		rule_error(u, p, base, "%s must be a map of test suite to pass rate, not %s %s", base,
		    node_type_name(v.type), shown(u, v));
		return;
	}
	for (size_t i = 0; i < p->u.suites.n; i++) {
		const suite_spec *s = &p->u.suites.items[i];
		const node *rate = v.type == NODE_MAP ? node_get(v.u.n, s->suite) : NULL;
		if (rate == NULL || rate->type == NODE_NULL) {
			char need[32];
			add(u, p, arena_concat(u->a, "test suite ", s->suite,
			    " is missing (needs a pass rate of ", format_g(s->min_rate, need), ")",
			    (char *)NULL), key_path(u, base, s->suite));
			continue;
		}
		value r = value_of_node(rate);
		if (!value_is_number(r)) {
			const char *path = key_path(u, base, s->suite);
			rule_error(u, p, path, "%s must be a pass rate from 0 to 1, not %s %s", path,
			    node_type_name(r.type), shown(u, r));
			return;
		}
		char passed[32], need[32];
		if (value_number(r) < s->min_rate)
			add(u, p, arena_concat(u->a, "test suite ", s->suite, " passed ",
			    format_g(value_number(r), passed), ", below the required ",
			    format_g(s->min_rate, need), (char *)NULL), key_path(u, base, s->suite));
	}
}

/* Where a checked value is: a field, or one element of it. The text is made
 * only for a finding: most values pass. */
typedef struct where {
	const char *base;
	size_t index;
	bool element;
} where;

static const char *where_text(run *u, where w)
{
	return w.element ? item_path(u, w.base, w.index) : w.base;
}

/* Calls fn on v, or on each element when v is a list. */
static void each_element(run *u, const policy *p, value v, const char *path,
    void (*fn)(run *, const policy *, const void *, value, where), const void *arg)
{
	if (v.type != NODE_LIST) {
		fn(u, p, arg, v, (where){ path, 0, false });
		return;
	}
	for (size_t i = 0; i < v.u.n->u.list.n; i++)
		fn(u, p, arg, value_of_node(v.u.n->u.list.items[i]), (where){ path, i, true });
}

static bool list_contains(const node *list, value x)
{
	for (size_t i = 0; i < list->u.list.n; i++) {
		bool comparable;
		if (value_equal(value_of_node(list->u.list.items[i]), x, &comparable))
			return true;
	}
	return false;
}

static void check_membership(run *u, const policy *p, const void *arg, value x, where w)
{
	const limit_spec *ls = arg;
	bool in = value_set_has(ls->values, x);
	if ((ls->kind == LIMIT_ALLOWED) == in)
		return;
	const char *path = where_text(u, w), *list = shown(u, value_of_node(ls->values->list));
	if (ls->kind == LIMIT_ALLOWED)
		add(u, p, arena_concat(u->a, path, " = ", shown(u, x), " is not among the allowed ",
		    list, (char *)NULL), path);
	else
		add(u, p, arena_concat(u->a, path, " = ", shown(u, x), " is forbidden (", list, ")",
		    (char *)NULL), path);
}

static void rule_change_constraint(run *u, const policy *p)
{
	for (size_t i = 0; i < p->u.limits.n; i++) {
		const limit_spec *ls = &p->u.limits.items[i];
		const char *path = expr_first_field(ls->field);
		value v;
		if (!field_value(u, p, ls->field, &v))
			return;
		if (ls->kind == LIMIT_ALLOWED || ls->kind == LIMIT_FORBIDDEN) {
			if (v.type == NODE_MAP) {
				rule_error(u, p, path, "%s must be a value or a list for %s, not a map", path,
				    ls->key);
				return;
			}
			if (v.type != NODE_NULL)
				each_element(u, p, v, path, check_membership, ls);
			continue;
		}
		if (v.type == NODE_NULL) {
			if (ls->kind == LIMIT_MIN)
				add(u, p, arena_printf(u->a, "%s is missing (%s is %g)", path, ls->key,
				    ls->number), path);
			continue;
		}
		double x;
		const char *what = "";
		if (value_is_number(v)) {
			x = value_number(v);
		} else if (v.type == NODE_LIST || v.type == NODE_MAP || v.type == NODE_STRING) {
			x = v.type == NODE_LIST ? (double)v.u.n->u.list.n
			    : v.type == NODE_MAP ? (double)v.u.n->u.map.n
			    : (double)utf8_length(v.u.str.s, v.u.str.len);
			what = "the size of ";
		} else {
			rule_error(u, p, path, "%s must be a number for %s, not %s %s", path, ls->key,
			    node_type_name(v.type), shown(u, v));
			return;
		}
		bool over = ls->kind == LIMIT_MAX ? x > ls->number : x < ls->number;
		char xs[32], limit[32];
		if (over)
			add(u, p, arena_concat(u->a, what, path, " is ", format_g(x, xs),
			    ls->kind == LIMIT_MAX ? ", over the maximum of " : ", under the minimum of ",
			    format_g(ls->number, limit), (char *)NULL), path);
	}
}

static void rule_review_requirement(run *u, const policy *p)
{
	for (size_t i = 0; i < p->u.conds.n; i++) {
		const cond_spec *c = &p->u.conds.items[i];
		bool hit;
		if (!expr_eval_bool(c->cond, &u->ctx, &hit)) {
			add_error(u, p, &u->ctx.err, expr_first_field(c->cond));
			return;
		}
		if (!hit)
			continue;
		const char *fields = expr_describe_fields(c->cond, &u->ctx);
		finding *f = add(u, p, arena_concat(u->a, c->then, ": ",
		    *fields ? fields : expr_source(c->cond), (char *)NULL),
		    expr_first_field(c->cond));
		if (c->message)
			f->message = c->message;
	}
}

/* The path and operation of one entry of a files list: "p" or {path, op}. */
static bool file_entry(const node *n, value *path, const char **op)
{
	*op = NULL;
	if (n->type == NODE_STRING) {
		*path = value_of_node(n);
		return true;
	}
	if (n->type != NODE_MAP)
		return false;
	const node *pn = node_get(n, "path"), *on = node_get(n, "op");
	if (pn == NULL || pn->type != NODE_STRING || (on != NULL && on->type != NODE_STRING))
		return false;
	*path = value_of_node(pn);
	*op = on ? on->u.str.s : NULL;
	return true;
}

/* Strips "./" prefixes so "./secrets/x" meets a pattern on "secrets/". */
static void trim_dot_slash(value *path)
{
	while (path->u.str.len > 2 && path->u.str.s[0] == '.' && path->u.str.s[1] == '/') {
		path->u.str.s += 2;
		path->u.str.len -= 2;
	}
}

static void rule_protected_paths(run *u, const policy *p)
{
	value v;
	const char *base = expr_first_field(p->field);
	if (!list_field(u, p, "files", &v))
		return;
	for (size_t i = 0; i < v.u.n->u.list.n; i++) {
		const char *op;
		value file;
		if (!file_entry(v.u.n->u.list.items[i], &file, &op)) {
			const char *path = item_path(u, base, i);
			rule_error(u, p, path, "%s must be a path or {path, op}, not %s", path,
			    shown(u, value_of_node(v.u.n->u.list.items[i])));
			return;
		}
		/* an entry that does not say its operation could be any of them */
		const node *ops = p->u.paths.operations;
		if (ops != NULL && op != NULL && !list_contains(ops, (value){ .type = NODE_STRING,
		    .u.str = { op, strlen(op) } }))
			continue;
		trim_dot_slash(&file);
		for (size_t j = 0; j < p->u.paths.npatterns; j++) {
			const char *pat = p->u.paths.patterns[j];
			if (!glob_test(&p->u.paths.globs[j], file.u.str.s, file.u.str.len))
				continue;
			add(u, p, arena_printf(u->a, "%s%s%.*s matches %s", op ? op : "", op ? " " : "",
			    (int)file.u.str.len, file.u.str.s, pat), item_path(u, base, i));
			break;
		}
	}
}

static void check_listed(run *u, const policy *p, const void *arg, value x, where w)
{
	(void)arg;
	if (x.type == NODE_MAP || x.type == NODE_LIST) {
		const char *path = where_text(u, w);
		rule_error(u, p, path, "%s must be a scalar, not a %s", path, node_type_name(x.type));
		return;
	}
	bool in = value_set_has(p->u.values, x);
	if ((p->type == RULE_ALLOWLIST) == in)
		return;
	const char *path = where_text(u, w);
	if (p->type == RULE_ALLOWLIST)
		add(u, p, arena_concat(u->a, path, " = ", shown(u, x), " is not in the allowlist ",
		    shown(u, value_of_node(p->u.values->list)), (char *)NULL), path);
	else
		add(u, p, arena_concat(u->a, path, " = ", shown(u, x), " is in the denylist",
		    (char *)NULL), path);
}

static void rule_list(run *u, const policy *p)
{
	value v;
	if (!field_value(u, p, p->field, &v))
		return;
	if (v.type == NODE_NULL) {
		/* fail closed: an absent value is not on an allowlist */
		const char *path = expr_first_field(p->field);
		if (p->type == RULE_ALLOWLIST && !value_set_has(p->u.values, v))
			add(u, p, arena_printf(u->a, "%s is missing; the allowlist is %s", path,
			    shown(u, value_of_node(p->u.values->list))), path);
		return;
	}
	each_element(u, p, v, expr_first_field(p->field), check_listed, NULL);
}

/* Quota amounts count to the millionth. The store's sums of decimal amounts
 * carry binary rounding errors that depend on the order and grouping in
 * which they were added (per second, minute, hour and day, per commit), so
 * the amount, its history and the limit are each rounded to whole
 * millionths and added and compared as integers: 250 uses of 0.1 make
 * exactly 25, within a limit of 25, however the store grouped them, and the
 * words of the finding are the same each time. Amounts of 4e12 or more,
 * whose millionths would not add up within 64 bits, are added as they are. */
enum { MILLION = 1000000 };
static const double MILLIONTHS_MAX = 4e12;

static bool in_millionths(double v, int64_t *out)
{
	if (!(v < MILLIONTHS_MAX && v > -MILLIONTHS_MAX))
		return false;   /* NaN too */
	double m = v * MILLION;
	*out = (int64_t)(m < 0 ? m - 0.5 : m + 0.5);    /* halves away from zero */
	return true;
}

/* total = current + history, and whether it is over limit, in millionths
 * when the three fit. */
static bool quota_over(double current, double history, double limit, double *total,
    double *before)
{
	int64_t c, h, l;
	if (in_millionths(current, &c) && in_millionths(history, &h) && in_millionths(limit, &l)) {
		*total = (double)(c + h) / MILLION;
		*before = (double)h / MILLION;
		return c + h > l;
	}
	*total = current + history;
	*before = history;
	return !(*total <= limit);      /* not a number: over, failing closed */
}

static void rule_quota(run *u, const policy *p)
{
	double current = 1;
	const char *what = "submissions";
	if (p->field != NULL) {
		value v;
		what = expr_first_field(p->field);
		if (!field_value(u, p, p->field, &v))
			return;
		if (v.type == NODE_NULL) {
			current = 0;
		} else if (!value_is_number(v)) {
			rule_error(u, p, what, "%s must be a number for the quota, not %s %s", what,
			    node_type_name(v.type), shown(u, v));
			return;
		} else if (value_number(v) < 0) {
			/* a negative amount would take back what others used */
			rule_error(u, p, what, "%s must not be negative for the quota, not %s", what,
			    shown(u, v));
			return;
		} else {
			current = value_number(v);
		}
	}
	quota_query q = { .policy = p, .sub = u->sub, .since = u->o->now - p->u.quota.window };
	value per = { .type = NODE_NULL };
	if (p->u.quota.per != NULL) {
		if (!field_value(u, p, p->u.quota.per, &per))
			return;
		q.per_value = per.type == NODE_STRING ? arena_strndup(u->a, per.u.str.s, per.u.str.len)
		    : value_describe(u->a, per);
	}
	/* a count reads no field of its own: its path is the per field, if any */
	const char *path = p->field ? what : p->u.quota.per ? expr_first_field(p->u.quota.per) : NULL;
	double history = 0;
	if (u->o->history != NULL && u->o->history->quota != NULL) {
		char why[256] = "";
		if (!u->o->history->quota(u->o->history->ctx, &q, &history, why, sizeof why)) {
			rule_error(u, p, path, "cannot read the quota's history: %s", why);
			return;
		}
	}
	eval_result *r = u->r;
	r->uses = arena_grow(u->a, r->uses, r->nuses, &r->usecap, sizeof *r->uses, 4);
	r->uses[r->nuses++] = (quota_use){ p, q.per_value, current };
	double total, before;
	bool over = quota_over(current, history, p->u.quota.limit, &total, &before);
	if (p->field == NULL && total == 1)
		what = "submission";
	if (!over)
		return;
	const char *scope = p->u.quota.per == NULL ? "" : arena_concat(u->a, " for ",
	    expr_first_field(p->u.quota.per), " ", shown(u, per), (char *)NULL);
	char t[32], b[32], l[32];       /* %g's text, by format_g: no printf on the writer */
	add(u, p, arena_concat(u->a, format_g(total, t), " ", what, scope, " in ",
	    duration_format(u->a, p->u.quota.window), " (", format_g(before, b),
	    " before this one), over the limit of ", format_g(p->u.quota.limit, l), (char *)NULL),
	    path);
}

/* ---- modifications ---- */

static void apply_modify(run *u, const policy *p)
{
	eval_result *r = u->r;
	for (size_t i = 0; i < p->set->u.map.n; i++) {
		const char *key = p->set->u.map.keys[i]->u.str.s;
		const node *val = p->set->u.map.vals[i];
		const modification *clash = NULL;
		for (size_t j = 0; j < r->nmods && clash == NULL; j++)
			if (strcmp(r->mods[j].key, key) == 0)
				clash = &r->mods[j];
		if (clash != NULL) {
			bool comparable;
			if (!value_equal(value_of_node(clash->value), value_of_node(val), &comparable))
				rule_error(u, p, key, "%s sets %s to %s but %s sets it to %s", p->name, key,
				    shown(u, value_of_node(val)), clash->by->name,
				    shown(u, value_of_node(clash->value)));
			continue;
		}
		r->mods = arena_grow(u->a, r->mods, r->nmods, &r->modcap, sizeof *r->mods, 4);
		r->mods[r->nmods++] = (modification){ key, val, p };
	}
}

/* ---- the built-in guard of the store's own files ---- */

static bool touches_store(value path)
{
	/* any segment named .arbiter, in any case (case-insensitive file systems)
	 * and between either kind of slash */
	const char *s = path.u.str.s, *end = s + path.u.str.len;
	while (s < end) {
		const char *seg_end = s;
		while (seg_end < end && *seg_end != '/' && *seg_end != '\\')
			seg_end++;
		if (seg_end - s == 8 && strncasecmp(s, ".arbiter", 8) == 0)
			return true;
		s = seg_end + 1;
	}
	return false;
}

static void self_protection(run *u)
{
	const node *files = node_get(u->sub->doc, "files");
	if (files == NULL || files->type != NODE_LIST)
		return;
	for (size_t i = 0; i < files->u.list.n; i++) {
		value path;
		const char *op;
		if (!file_entry(files->u.list.items[i], &path, &op) || !touches_store(path))
			continue;
		finding *f = result_add(u->r, u->a);
		f->name = "self_protection";
		f->type = "protected_paths";
		f->severity = SEV_CRITICAL;
		f->effect = EFF_DENY;
		f->overridable = false;
		f->message = "Submission touches arbiter's own store (policies, keys, reviewers' secrets)";
		f->detail = arena_printf(u->a, "%s%s%.*s is inside .arbiter/", op ? op : "", op ? " " : "",
		    (int)path.u.str.len, path.u.str.s);
		f->path = item_path(u, "files", i);
		f->source = "builtin";
	}
}

static void policy_integrity(run *u)
{
	finding *f = result_add(u->r, u->a);
	f->name = "policy_integrity";
	f->type = "policy_integrity";
	f->severity = SEV_CRITICAL;
	f->effect = EFF_DENY;
	f->overridable = false;
	f->message = "The policy files differ from the pinned version: no decision until an admin "
	    "pins them (arbiter policy pin)";
	f->detail = u->o->tampered;
	f->source = "builtin";
}

static bool selects(run *u, const policy *p)
{
	if (!p->enabled || !(p->kinds & u->sub->kind_bit))
		return false;
	if (p->nactions > 0) {
		bool any = false;
		for (size_t i = 0; i < p->nactions && !any; i++) {
			/* each distinct glob is tested once per submission */
			uint32_t id = p->action_ids[i];
			if (u->glob_memo[id] < 0)
				u->glob_memo[id] = glob_test(&u->ps->action_globs[id], u->sub->action,
				    u->action_len);
			any = u->glob_memo[id] == 1;
		}
		if (!any)
			return false;
	}
	if (p->when != NULL) {
		bool on;
		if (!expr_eval_bool(p->when, &u->ctx, &on)) {
			add_error(u, p, &u->ctx.err, expr_first_field(p->when));
			return false;
		}
		return on;
	}
	return true;
}

/* Whether an evaluation ahead may stand for every rule but the quotas:
 * not when a quota rule modifies the document, since its modifications
 * would then fall among the others' in an order the one ahead cannot tell. */
static bool reusable(const policy_set *ps, const eval_result *ahead)
{
	if (ahead == NULL)
		return false;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->items[i].type == RULE_QUOTA && ps->items[i].effect == EFF_MODIFY)
			return false;
	return true;
}

/* The findings ahead of policy p (NULL: the built-in checks'), from *at,
 * where they run together: copied into the result when keep, else passed. */
static void take_ahead(run *u, const eval_result *ahead, size_t *at, const policy *p, bool keep)
{
	for (; *at < ahead->n && ahead->findings[*at].policy == p; (*at)++)
		if (keep)
			*result_add(u->r, u->a) = ahead->findings[*at];
}

void evaluate(const policy_set *ps, const submission *sub, const eval_options *o,
    arena *scratch, eval_result *out)
{
	memset(out, 0, sizeof *out);
	run u = { .ps = ps, .sub = sub, .o = o, .a = scratch, .r = out };
	u.ctx.doc = sub->doc;
	u.ctx.kind = sub->kind;
	u.ctx.submitter = sub->submitter_name[0] ? sub->submitter_name : NULL;
	u.ctx.scratch = scratch;
	eval_ctx_index(&u.ctx);
	u.action_len = strlen(sub->action);
	u.glob_memo = arena_alloc(scratch, ps->nglobs + 1);
	memset(u.glob_memo, -1, ps->nglobs + 1);
	const eval_result *ahead = reusable(ps, o->ahead) ? o->ahead : NULL;
	size_t at = 0;
	if (ahead != NULL) {
		take_ahead(&u, ahead, &at, NULL, true);
		/* every modification ahead is a rule's that is not a quota */
		out->mods = ahead->mods;
		out->nmods = out->modcap = ahead->nmods;
	} else {
		self_protection(&u);
		if (o->tampered != NULL)
			policy_integrity(&u);
	}
	for (size_t i = 0; i < ps->n; i++) {
		const policy *p = &ps->items[i];
		if (ahead != NULL) {
			take_ahead(&u, ahead, &at, p, p->type != RULE_QUOTA);
			if (p->type != RULE_QUOTA)
				continue;
		}
		if (!selects(&u, p))
			continue;
		size_t before = out->n;
		switch (p->type) {
		case RULE_EXPRESSION: rule_expression(&u, p); break;
		case RULE_FORBIDDEN_RANGE: rule_forbidden_range(&u, p); break;
		case RULE_TEST_REQUIREMENT: rule_test_requirement(&u, p); break;
		case RULE_CHANGE_CONSTRAINT: rule_change_constraint(&u, p); break;
		case RULE_REVIEW_REQUIREMENT: rule_review_requirement(&u, p); break;
		case RULE_PROTECTED_PATHS: rule_protected_paths(&u, p); break;
		case RULE_ALLOWLIST: case RULE_DENYLIST: rule_list(&u, p); break;
		case RULE_QUOTA: rule_quota(&u, p); break;
		default: break;
		}
		bool fired = false;
		for (size_t j = before; j < out->n; j++)
			fired = fired || strcmp(out->findings[j].type, "error") != 0;
		if (fired && p->effect == EFF_MODIFY && p->set != NULL)
			apply_modify(&u, p);
	}
	if (ahead != NULL && at != ahead->n) {
		/* findings ahead that no rule of this set claimed (an evaluation of
		 * another set, a finding without its rule): they cannot stand in for
		 * anything, so the whole set runs instead of dropping them */
		eval_options whole = *o;
		whole.ahead = NULL;
		evaluate(ps, sub, &whole, scratch, out);
		return;
	}
	result_finish(out);
	if (!o->enforcement && o->tampered == NULL)
		out->status = ST_ALLOWED;   /* tampered policies block even then: fail closed */
}
