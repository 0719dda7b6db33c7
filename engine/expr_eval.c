/*
 * expr_eval.c: evaluation of compiled expressions.
 *
 * A tree walk over the compiled form. The rules that make it safe to run on
 * hostile submissions: a missing field reads as null; any operation on types
 * it does not define (comparing a string with an int, adding null) is an
 * error with the operator's FILE:LINE:COL, never a silent false; integer
 * arithmetic is checked for overflow; and each evaluation has a step budget,
 * so nested list macros over large lists cannot run away.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "expr_impl.h"

#define EVAL_MAX_STEPS 1000000u
/* How much work inside one operation costs as much as a step: list items
 * scanned or copied, map keys compared, string bytes walked or copied. */
#define ITEMS_PER_STEP 8
#define BYTES_PER_STEP 64

static bool eval(const expr *e, eval_ctx *c, value *out);

/* Charges work done inside one step to the budget. Without this, an
 * operation that is linear in the size of its operands (x in list, list
 * concatenation, string search) under a list macro would make evaluation
 * quadratic in the document's size while counting one step per item. The
 * next step taken (or the end of expr_eval) reports the excess. */
static void charge(eval_ctx *c, size_t work, size_t per_step)
{
	size_t n = work / per_step;
	if (n >= EVAL_MAX_STEPS || c->steps + n > EVAL_MAX_STEPS)
		c->steps = EVAL_MAX_STEPS + 1;
	else
		c->steps += (unsigned)n;
}

/* Charges for walking the whole of v (a string's bytes, a list's items or a
 * map's keys; nested containers are not counted). */
static void charge_value(eval_ctx *c, value v)
{
	if (v.type == NODE_STRING)
		charge(c, v.u.str.len, BYTES_PER_STEP);
	else if (v.type == NODE_LIST)
		charge(c, v.u.n->u.list.n, ITEMS_PER_STEP);
	else if (v.type == NODE_MAP)
		charge(c, v.u.n->u.map.n, ITEMS_PER_STEP);
}

ATTR_PRINTF(3, 4)
static bool fail(eval_ctx *c, const expr *e, const char *fmt, ...)
{
	c->err.file = e->file;
	c->err.line = e->line;
	c->err.col = e->col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err.msg, sizeof c->err.msg, fmt, ap);
	va_end(ap);
	return false;
}

static const char *show(eval_ctx *c, value v)
{
	return value_describe(c->scratch, v);
}

/* A value for messages with its type first ("string \"lots\""), null once. */
static const char *show_typed(eval_ctx *c, value v)
{
	if (v.type == NODE_NULL)
		return "null";
	return arena_printf(c->scratch, "%s %s", node_type_name(v.type), value_describe(c->scratch, v));
}

static const char *type_of(value v)
{
	return node_type_name(v.type);
}

static value v_bool(bool b)
{
	value v = { .type = NODE_BOOL, .u.b = b };
	return v;
}

static value v_int(int64_t i)
{
	value v = { .type = NODE_INT, .u.i = i };
	return v;
}

static value v_float(double d)
{
	value v = { .type = NODE_FLOAT, .u.d = d };
	return v;
}

static value v_str(const char *s, size_t len)
{
	value v = { .type = NODE_STRING, .u.str = { s, len } };
	return v;
}

static value v_null(void)
{
	value v = { .type = NODE_NULL };
	return v;
}

void eval_ctx_index(eval_ctx *c)
{
	const node *m = c->doc;
	c->slots = NULL;
	if (m == NULL || m->type != NODE_MAP || m->u.map.n < 8 || m->u.map.n > 16384)
		return;         /* small maps scan as fast; huge ones are not worth it */
	uint32_t size = 16;
	while (size < 2 * m->u.map.n)
		size *= 2;
	c->slots = arena_alloc(c->scratch, size * sizeof *c->slots);
	memset(c->slots, 0, size * sizeof *c->slots);
	c->mask = size - 1;
	for (size_t i = 0; i < m->u.map.n; i++) {
		uint32_t j = m->u.map.keys[i]->hash & c->mask;
		while (c->slots[j] != 0)
			j = (j + 1) & c->mask;
		c->slots[j] = (uint16_t)(i + 1);
	}
}

/* h is key_hash(key, len): compiled names carry it, run-time keys pass it. */
static const node *map_get(eval_ctx *c, const node *m, const char *key, size_t len, uint32_t h)
{
	if (m == c->doc && c->slots != NULL) {
		for (uint32_t j = h & c->mask; c->slots[j] != 0; j = (j + 1) & c->mask) {
			const node *k = m->u.map.keys[c->slots[j] - 1];
			if (k->hash == h && k->u.str.len == len && memcmp(k->u.str.s, key, len) == 0)
				return m->u.map.vals[c->slots[j] - 1];
		}
		return NULL;
	}
	charge(c, m->u.map.n, ITEMS_PER_STEP);
	for (size_t i = 0; i < m->u.map.n; i++) {
		const node *k = m->u.map.keys[i];
		if (k->hash == h && k->u.str.len == len && memcmp(k->u.str.s, key, len) == 0)
			return m->u.map.vals[i];
	}
	return NULL;
}

static node *new_list(eval_ctx *c, size_t n)
{
	node *l = arena_alloc(c->scratch, sizeof *l);
	memset(l, 0, sizeof *l);
	l->type = NODE_LIST;
	l->u.list.items = arena_alloc(c->scratch, n * sizeof(node *) + 1);
	l->u.list.n = n;
	return l;
}

static bool eval_field(const expr *e, eval_ctx *c, value *out)
{
	/* `kind` reads the kind the policies were selected by, derived or given */
	if (c->kind != NULL && e->is_kind) {
		*out = v_str(c->kind, strlen(c->kind));
		return true;
	}
	/* `submitter` reads the name as it is compared (lower-cased), or through
	 * the server the caller's identity, so that a quota per submitter counts
	 * ALICE and alice as one */
	if (c->submitter != NULL && e->is_submitter) {
		*out = v_str(c->submitter, strlen(c->submitter));
		return true;
	}
	*out = value_of_node(map_get(c, c->doc, e->name, e->len, e->hash));
	return true;
}

static bool eval_member(const expr *e, eval_ctx *c, value *out)
{
	value base;
	if (!eval(e->a, c, &base))
		return false;
	if (base.type == NODE_NULL) {
		*out = v_null();
		return true;
	}
	if (base.type != NODE_MAP)
		return fail(c, e, "cannot read field .%s of %s", e->name, show_typed(c, base));
	*out = value_of_node(map_get(c, base.u.n, e->name, e->len, e->hash));
	return true;
}

static bool eval_index(const expr *e, eval_ctx *c, value *out)
{
	value base, idx;
	if (!eval(e->a, c, &base) || !eval(e->b, c, &idx))
		return false;
	if (base.type == NODE_NULL) {
		*out = v_null();
		return true;
	}
	if (base.type == NODE_LIST) {
		if (idx.type != NODE_INT)
			return fail(c, e, "a list index must be an int, not %s", show_typed(c, idx));
		const node *l = base.u.n;
		*out = idx.u.i >= 0 && (uint64_t)idx.u.i < l->u.list.n
		    ? value_of_node(l->u.list.items[idx.u.i]) : v_null();
		return true;
	}
	if (base.type == NODE_MAP) {
		if (idx.type != NODE_STRING)
			return fail(c, e, "a map key must be a string, not %s", show_typed(c, idx));
		*out = value_of_node(map_get(c, base.u.n, idx.u.str.s, idx.u.str.len,
		    key_hash(idx.u.str.s, idx.u.str.len)));
		return true;
	}
	return fail(c, e, "cannot index %s", show_typed(c, base));
}

static const char *op_text(int op)
{
	static const char *t[] = { "*", "/", "%", "+", "-", "<", "<=", ">", ">=", "==", "!=", "in" };
	return t[op];
}

static bool arith(const expr *e, eval_ctx *c, value a, value b, value *out)
{
	int op = e->op;
	if (op == OP_ADD && a.type == b.type) {
		charge_value(c, a);
		charge_value(c, b);
	}
	if (op == OP_ADD && a.type == NODE_STRING && b.type == NODE_STRING) {
		char *s = arena_alloc(c->scratch, a.u.str.len + b.u.str.len + 1);
		memcpy(s, a.u.str.s, a.u.str.len);
		memcpy(s + a.u.str.len, b.u.str.s, b.u.str.len);
		s[a.u.str.len + b.u.str.len] = '\0';
		*out = v_str(s, a.u.str.len + b.u.str.len);
		return true;
	}
	if (op == OP_ADD && a.type == NODE_LIST && b.type == NODE_LIST) {
		size_t na = a.u.n->u.list.n, nb = b.u.n->u.list.n;
		node *l = new_list(c, na + nb);
		memcpy(l->u.list.items, a.u.n->u.list.items, na * sizeof(node *));
		memcpy(l->u.list.items + na, b.u.n->u.list.items, nb * sizeof(node *));
		out->type = NODE_LIST;
		out->u.n = l;
		return true;
	}
	if (!value_is_number(a) || !value_is_number(b))
		return fail(c, e, "cannot apply %s to %s and %s", op_text(op),
		    show_typed(c, a), show_typed(c, b));
	if (a.type == NODE_INT && b.type == NODE_INT) {
		int64_t x = a.u.i, y = b.u.i, r = 0;
		bool overflow = false;
		switch (op) {
		case OP_ADD: overflow = __builtin_add_overflow(x, y, &r); break;
		case OP_SUB: overflow = __builtin_sub_overflow(x, y, &r); break;
		case OP_MUL: overflow = __builtin_mul_overflow(x, y, &r); break;
		case OP_DIV:
		case OP_MOD:
			if (y == 0)
				return fail(c, e, "%s by zero", op == OP_DIV ? "division" : "modulo");
			if (x == INT64_MIN && y == -1)
				overflow = true;
			else
				r = op == OP_DIV ? x / y : x % y;
			break;
		}
		if (overflow)
			return fail(c, e, "integer overflow in %lld %s %lld", (long long)x, op_text(op),
			    (long long)y);
		*out = v_int(r);
		return true;
	}
	double x = value_number(a), y = value_number(b), r = 0;
	switch (op) {
	case OP_ADD: r = x + y; break;
	case OP_SUB: r = x - y; break;
	case OP_MUL: r = x * y; break;
	case OP_DIV:
		if (y == 0)
			return fail(c, e, "%s", "division by zero");
		r = x / y;
		break;
	case OP_MOD:
		return fail(c, e, "%% needs two ints, not %s and %s", type_of(a), type_of(b));
	}
	if (!isfinite(r))
		return fail(c, e, "%s", "arithmetic result is not a finite number");
	*out = v_float(r);
	return true;
}

static int compare_str(value a, value b)
{
	size_t n = a.u.str.len < b.u.str.len ? a.u.str.len : b.u.str.len;
	int r = memcmp(a.u.str.s, b.u.str.s, n);
	if (r != 0)
		return r;
	return a.u.str.len < b.u.str.len ? -1 : a.u.str.len > b.u.str.len;
}

/* Orders two numbers or two strings; false when they cannot be ordered. */
static bool order(value a, value b, int *cmp)
{
	if (value_is_number(a) && value_is_number(b)) {
		if (a.type == NODE_INT && b.type == NODE_INT)
			*cmp = a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
		else {
			double x = value_number(a), y = value_number(b);
			*cmp = x < y ? -1 : x > y;
		}
		return true;
	}
	if (a.type == NODE_STRING && b.type == NODE_STRING) {
		*cmp = compare_str(a, b);
		return true;
	}
	return false;
}

/* value_equal with its work charged: lists of lists that share items (built
 * by macros, or aliases) are walked along every path, far beyond their size,
 * so the comparison stops where the budget does. */
static bool equal(eval_ctx *c, value a, value b, bool *comparable)
{
	size_t budget = c->steps < EVAL_MAX_STEPS ? EVAL_MAX_STEPS - c->steps : 0;
	size_t left = budget;
	bool eq = value_equal_within(a, b, comparable, &left);
	charge(c, budget - left + (left == 0), 1);
	return eq;
}

static bool list_has(eval_ctx *c, const node *l, value x)
{
	charge(c, l->u.list.n, ITEMS_PER_STEP);
	for (size_t i = 0; i < l->u.list.n && c->steps <= EVAL_MAX_STEPS; i++) {
		bool comparable;
		if (equal(c, value_of_node(l->u.list.items[i]), x, &comparable))
			return true;
	}
	return false;
}

static bool eval_binary(const expr *e, eval_ctx *c, value *out)
{
	value a, b;
	if (!eval(e->a, c, &a) || !eval(e->b, c, &b))
		return false;
	int cmp;
	bool comparable;
	switch (e->op) {
	case OP_MUL: case OP_DIV: case OP_MOD: case OP_ADD: case OP_SUB:
		return arith(e, c, a, b, out);
	case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		charge_value(c, a);
		if (!order(a, b, &cmp))
			return fail(c, e, "cannot compare %s with %s using %s", show_typed(c, a),
			    show_typed(c, b), op_text(e->op));
		*out = v_bool(e->op == OP_LT ? cmp < 0 : e->op == OP_LE ? cmp <= 0
		    : e->op == OP_GT ? cmp > 0 : cmp >= 0);
		return true;
	case OP_EQ: case OP_NE: {
		charge_value(c, a);
		bool eq = equal(c, a, b, &comparable);
		if (!comparable)
			return fail(c, e, "cannot compare %s with %s using %s", show_typed(c, a),
			    show_typed(c, b), op_text(e->op));
		*out = v_bool(e->op == OP_EQ ? eq : !eq);
		return true;
	}
	case OP_IN:
		if (b.type == NODE_LIST) {
			*out = v_bool(list_has(c, b.u.n, a));
			return true;
		}
		if (b.type == NODE_MAP) {
			if (a.type != NODE_STRING)
				return fail(c, e, "in on a map needs a string key, not %s", show_typed(c, a));
			*out = v_bool(map_get(c, b.u.n, a.u.str.s, a.u.str.len,
			    key_hash(a.u.str.s, a.u.str.len)) != NULL);
			return true;
		}
		return fail(c, e, "in needs a list or map on its right, not %s", show_typed(c, b));
	}
	return fail(c, e, "%s", "unknown operator");
}

static bool want_bool(const expr *e, eval_ctx *c, const char *what, value v)
{
	if (v.type == NODE_BOOL)
		return true;
	return fail(c, e, "%s needs a bool, not %s", what, show_typed(c, v));
}

static bool want_str(const expr *e, eval_ctx *c, value v)
{
	static const char *names[] = { "size", "has", "glob", "matches", "starts_with",
		"ends_with", "contains", "lower", "upper", "int", "float", "string", "min", "max" };
	if (v.type == NODE_STRING)
		return true;
	return fail(c, e, "%s() needs a string, not %s", names[e->op], show_typed(c, v));
}

static bool str_to_int(const char *s, size_t n, int64_t *out)
{
	char buf[32];
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* decimal, as in the language's literals, or 0x hex: never C's octal */
	const char *digits = buf + (buf[0] == '-' || buf[0] == '+');
	int base = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') ? 16 : 10;
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, base);
	if (*end != '\0' || end == buf || errno == ERANGE)
		return false;
	*out = v;
	return true;
}

static bool fn_minmax(const expr *e, eval_ctx *c, value *args, size_t n, value *out)
{
	const char *name = e->op == F_MIN ? "min" : "max";
	value *vals = args;
	if (n == 1) {
		if (args[0].type != NODE_LIST)
			return fail(c, e, "%s() of one argument needs a list, not %s", name, type_of(args[0]));
		const node *l = args[0].u.n;
		if (l->u.list.n == 0)
			return fail(c, e, "%s() of an empty list", name);
		for (size_t i = 0; i < l->u.list.n; i++) {
			value v = value_of_node(l->u.list.items[i]);
			int cmp;
			if (i == 0) {
				*out = v;
				if (!value_is_number(v) && v.type != NODE_STRING)
					return fail(c, e, "%s() cannot order %s", name, type_of(v));
				continue;
			}
			if (!order(v, *out, &cmp))
				return fail(c, e, "%s() cannot order %s with %s", name, type_of(v), type_of(*out));
			if (e->op == F_MIN ? cmp < 0 : cmp > 0)
				*out = v;
		}
		return true;
	}
	*out = vals[0];
	if (!value_is_number(*out) && out->type != NODE_STRING)
		return fail(c, e, "%s() cannot order %s", name, show_typed(c, *out));
	for (size_t i = 1; i < n; i++) {
		int cmp;
		if (!order(vals[i], *out, &cmp))
			return fail(c, e, "%s() cannot order %s with %s", name, show_typed(c, vals[i]),
			    show_typed(c, *out));
		if (e->op == F_MIN ? cmp < 0 : cmp > 0)
			*out = vals[i];
	}
	return true;
}

static bool eval_call(const expr *e, eval_ctx *c, value *out)
{
	value args[64];
	args[0] = (value){ .type = NODE_NULL };   /* every function takes an argument */
	for (size_t i = 0; i < e->nargs; i++)
		if (!eval(e->args[i], c, &args[i]))
			return false;
	value a = args[0];
	/* the work each function does walking its operands, for the step budget */
	switch (e->op) {
	case F_SIZE: case F_MATCHES: case F_CONTAINS: case F_LOWER: case F_UPPER: case F_FLOAT:
		if (a.type == NODE_STRING)
			charge_value(c, a);
		break;
	case F_STARTS_WITH: case F_ENDS_WITH:
		if (args[1].type == NODE_STRING)
			charge_value(c, args[1]);
		break;
	case F_GLOB:
		if (a.type == NODE_STRING && args[1].type == NODE_STRING)
			/* a table of pattern by text: a cell costs about half a step */
			charge(c, (args[1].u.str.len + 1) * a.u.str.len, 2);
		break;
	case F_MIN: case F_MAX:
		if (e->nargs == 1)
			charge_value(c, a);
		break;
	default:
		break;
	}
	bool wrap = false;      /* for a pattern compiled here, see regex_compile */
	if (e->op == F_MATCHES && a.type == NODE_STRING && args[1].type == NODE_STRING) {
		/* matching walks the text once per state of the pattern */
		size_t weight = e->re_weight;
		const char *why = e->re ? NULL : regex_refusal(args[1].u.str.s,
		    strnlen(args[1].u.str.s, args[1].u.str.len), &weight, &wrap);
		if (why != NULL)
			return fail(c, e, "bad regular expression %s: %s", show(c, args[1]), why);
		charge(c, (a.u.str.len + 1) * (weight + 1) + (e->re ? 0 : 64 * weight + 256), BYTES_PER_STEP);
	}
	/* one glob or regex over long text can take far longer than a step:
	 * refuse it before the work, not after */
	if (c->steps > EVAL_MAX_STEPS)
		return fail(c, e, "evaluation exceeds %u steps", EVAL_MAX_STEPS);
	switch (e->op) {
	case F_SIZE:
		if (a.type == NODE_STRING)
			*out = v_int((int64_t)utf8_length(a.u.str.s, a.u.str.len));
		else if (a.type == NODE_LIST)
			*out = v_int((int64_t)a.u.n->u.list.n);
		else if (a.type == NODE_MAP)
			*out = v_int((int64_t)a.u.n->u.map.n);
		else
			return fail(c, e, "size() needs a string, list or map, not %s", show_typed(c, a));
		return true;
	case F_HAS:
		if (e->nargs == 1) {
			*out = v_bool(a.type != NODE_NULL);
			return true;
		}
		if (a.type == NODE_NULL) {
			*out = v_bool(false);
			return true;
		}
		if (a.type != NODE_MAP || args[1].type != NODE_STRING)
			return fail(c, e, "has(map, key) needs a map and a string, not %s and %s",
			    type_of(a), type_of(args[1]));
		*out = v_bool(map_get(c, a.u.n, args[1].u.str.s, args[1].u.str.len,
		    key_hash(args[1].u.str.s, args[1].u.str.len)) != NULL);
		return true;
	case F_GLOB:
		if (!want_str(e, c, a) || !want_str(e, c, args[1]))
			return false;
		*out = v_bool(glob_match(args[1].u.str.s, args[1].u.str.len, a.u.str.s, a.u.str.len));
		return true;
	case F_MATCHES: {
		if (!want_str(e, c, a) || !want_str(e, c, args[1]))
			return false;
		/* regexec needs a terminated string; field strings are terminated */
		const char *s = a.u.str.s[a.u.str.len] == '\0' ? a.u.str.s
		    : arena_strndup(c->scratch, a.u.str.s, a.u.str.len);
		if (e->re != NULL) {
			*out = v_bool(regexec(e->re, s, 0, NULL, 0) == 0);
			return true;
		}
		regex_t re;
		const char *pat = arena_strndup(c->scratch, args[1].u.str.s, args[1].u.str.len);
		int rc = regex_compile(&re, pat, wrap);
		if (rc != 0) {
			char buf[128];
			regerror(rc, &re, buf, sizeof buf);
			return fail(c, e, "bad regular expression %s: %s", show(c, args[1]), buf);
		}
		*out = v_bool(regexec(&re, s, 0, NULL, 0) == 0);
		regfree(&re);
		return true;
	}
	case F_STARTS_WITH: case F_ENDS_WITH: {
		if (!want_str(e, c, a) || !want_str(e, c, args[1]))
			return false;
		size_t n = args[1].u.str.len;
		bool r = n <= a.u.str.len && memcmp(e->op == F_STARTS_WITH ? a.u.str.s
		    : a.u.str.s + a.u.str.len - n, args[1].u.str.s, n) == 0;
		*out = v_bool(r);
		return true;
	}
	case F_CONTAINS:
		if (a.type == NODE_LIST) {
			*out = v_bool(list_has(c, a.u.n, args[1]));
			return true;
		}
		if (!want_str(e, c, a) || !want_str(e, c, args[1]))
			return false;
		if (args[1].u.str.len == 0) {
			*out = v_bool(true);
			return true;
		}
		*out = v_bool(memmem(a.u.str.s, a.u.str.len, args[1].u.str.s, args[1].u.str.len) != NULL);
		return true;
	case F_LOWER: case F_UPPER: {
		if (!want_str(e, c, a))
			return false;
		char *s = arena_alloc(c->scratch, a.u.str.len + 1);
		for (size_t i = 0; i < a.u.str.len; i++)
			s[i] = (char)(e->op == F_LOWER ? tolower((unsigned char)a.u.str.s[i])
			    : toupper((unsigned char)a.u.str.s[i]));
		s[a.u.str.len] = '\0';
		*out = v_str(s, a.u.str.len);
		return true;
	}
	case F_INT:
		if (a.type == NODE_INT) {
			*out = a;
		} else if (a.type == NODE_FLOAT) {
			if (!(a.u.d >= -9.2e18 && a.u.d <= 9.2e18))
				return fail(c, e, "int() of %s is out of range", show(c, a));
			*out = v_int((int64_t)a.u.d);
		} else if (a.type == NODE_STRING) {
			int64_t i;
			if (!str_to_int(a.u.str.s, a.u.str.len, &i))
				return fail(c, e, "int() cannot read %s as an integer", show(c, a));
			*out = v_int(i);
		} else {
			return fail(c, e, "int() needs a number or string, not %s", type_of(a));
		}
		return true;
	case F_FLOAT:
		if (value_is_number(a)) {
			*out = v_float(value_number(a));
		} else if (a.type == NODE_STRING) {
			char *s = arena_strndup(c->scratch, a.u.str.s, a.u.str.len), *end;
			double d = strtod(s, &end);
			if (a.u.str.len == 0 || *end != '\0' || !isfinite(d))
				return fail(c, e, "float() cannot read %s as a number", show(c, a));
			*out = v_float(d);
		} else {
			return fail(c, e, "float() needs a number or string, not %s", type_of(a));
		}
		return true;
	case F_STRING:
		if (a.type == NODE_STRING) {
			*out = a;
		} else if (a.type == NODE_LIST || a.type == NODE_MAP) {
			return fail(c, e, "string() needs a scalar, not %s", type_of(a));
		} else {
			char buf[64];
			size_t n = value_format(a, buf, sizeof buf);
			*out = v_str(arena_strndup(c->scratch, buf, n), n);
		}
		return true;
	case F_MIN: case F_MAX:
		return fn_minmax(e, c, args, e->nargs, out);
	}
	return fail(c, e, "%s", "unknown function");
}

static bool eval_macro(const expr *e, eval_ctx *c, value *out)
{
	static const char *names[] = { "any", "all", "count", "sum" };
	value l;
	if (!eval(e->a, c, &l))
		return false;
	if (l.type != NODE_LIST && l.type != NODE_MAP)
		return fail(c, e, "%s() needs a list or map, not %s", names[e->op], show_typed(c, l));
	size_t n = l.type == NODE_LIST ? l.u.n->u.list.n : l.u.n->u.map.n;
	node **items = l.type == NODE_LIST ? l.u.n->u.list.items : l.u.n->u.map.keys;
	int64_t count = 0, isum = 0;
	double fsum = 0;
	bool is_float = false;
	for (size_t i = 0; i < n; i++) {
		c->vars[e->slot] = value_of_node(items[i]);
		value r;
		if (!eval(e->b, c, &r))
			return false;
		if (e->op == M_SUM) {
			if (!value_is_number(r))
				return fail(c, e, "sum() needs numbers, not %s", show_typed(c, r));
			if (r.type == NODE_FLOAT || is_float) {
				if (!is_float)
					fsum = (double)isum;
				is_float = true;
				fsum += value_number(r);
			} else if (__builtin_add_overflow(isum, r.u.i, &isum)) {
				return fail(c, e, "%s", "integer overflow in sum()");
			}
			continue;
		}
		if (!want_bool(e, c, names[e->op], r))
			return false;
		if (e->op == M_ANY && r.u.b) {
			*out = v_bool(true);
			return true;
		}
		if (e->op == M_ALL && !r.u.b) {
			*out = v_bool(false);
			return true;
		}
		count += r.u.b;
	}
	switch (e->op) {
	case M_ANY: *out = v_bool(false); break;
	case M_ALL: *out = v_bool(true); break;
	case M_COUNT: *out = v_int(count); break;
	default: *out = is_float ? v_float(fsum) : v_int(isum); break;
	}
	return true;
}

static bool eval(const expr *e, eval_ctx *c, value *out)
{
	if (++c->steps > EVAL_MAX_STEPS)
		return fail(c, e, "evaluation exceeds %u steps", EVAL_MAX_STEPS);
	value a;
	switch (e->kind) {
	case X_LIT:
		*out = e->lit;
		return true;
	case X_LIST: {
		node *l = new_list(c, e->nargs);
		for (size_t i = 0; i < e->nargs; i++) {
			if (!eval(e->args[i], c, &a))
				return false;
			l->u.list.items[i] = value_to_node(c->scratch, a);
		}
		out->type = NODE_LIST;
		out->u.n = l;
		return true;
	}
	case X_FIELD:
		return eval_field(e, c, out);
	case X_VAR:
		*out = c->vars[e->slot];
		return true;
	case X_MEMBER:
		return eval_member(e, c, out);
	case X_INDEX:
		return eval_index(e, c, out);
	case X_NOT:
		if (!eval(e->a, c, &a) || !want_bool(e, c, "!", a))
			return false;
		*out = v_bool(!a.u.b);
		return true;
	case X_NEG:
		if (!eval(e->a, c, &a))
			return false;
		if (a.type == NODE_INT) {
			if (a.u.i == INT64_MIN)
				return fail(c, e, "%s", "integer overflow in negation");
			*out = v_int(-a.u.i);
		} else if (a.type == NODE_FLOAT) {
			*out = v_float(-a.u.d);
		} else {
			return fail(c, e, "cannot negate %s", show_typed(c, a));
		}
		return true;
	case X_BIN:
		return eval_binary(e, c, out);
	case X_AND: case X_OR: {
		const char *what = e->kind == X_AND ? "&&" : "||";
		if (!eval(e->a, c, &a) || !want_bool(e, c, what, a))
			return false;
		if (a.u.b == (e->kind == X_OR)) {
			*out = a;
			return true;
		}
		if (!eval(e->b, c, &a) || !want_bool(e, c, what, a))
			return false;
		*out = a;
		return true;
	}
	case X_COND:
		if (!eval(e->a, c, &a) || !want_bool(e, c, "?:", a))
			return false;
		return eval(a.u.b ? e->b : e->c, c, out);
	case X_CALL:
		return eval_call(e, c, out);
	case X_MACRO:
		return eval_macro(e, c, out);
	}
	return fail(c, e, "%s", "unknown expression");
}

bool expr_eval(const expr *e, eval_ctx *ctx, value *out)
{
	ctx->steps = 0;
	if (!eval(e, ctx, out))
		return false;
	/* work charged by the last operation, with no step after it to notice */
	if (ctx->steps > EVAL_MAX_STEPS)
		return fail(ctx, e, "evaluation exceeds %u steps", EVAL_MAX_STEPS);
	return true;
}

bool expr_eval_bool(const expr *e, eval_ctx *ctx, bool *out)
{
	value v;
	if (!expr_eval(e, ctx, &v))
		return false;
	if (v.type != NODE_BOOL)
		return fail(ctx, e, "the condition is %s, not a bool", show_typed(ctx, v));
	*out = v.u.b;
	return true;
}

char *expr_describe_fields(const expr *e, eval_ctx *ctx)
{
	char buf[512];
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < e->nfields && off + 1 < sizeof buf; i++) {
		value v;
		/* each field path is cheap: its own budget, not what the
		 * expression's evaluation left over */
		ctx->steps = 0;
		if (!eval(e->fields[i], ctx, &v))
			continue;
		char val[160];
		value_format(v, val, sizeof val);
		const char *parts[] = { off ? ", " : "", e->fields[i]->path, " = ", val };
		for (size_t k = 0; k < 4; k++) {
			size_t n = strlen(parts[k]);
			if (off + n >= sizeof buf)
				n = sizeof buf - 1 - off;      /* cut as snprintf cut it */
			memcpy(buf + off, parts[k], n);
			off += n;
		}
		buf[off] = '\0';
	}
	if (off >= sizeof buf)
		off = sizeof buf - 1;
	return arena_strndup(ctx->scratch, buf, off);
}
