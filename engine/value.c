/*
 * value.c: run-time values of the expression language.
 *
 * A value is a scalar held inline or a reference to a list or map node of the
 * submission's tree, so reading a field never copies. Values built during
 * evaluation (list literals with fields in them, string results) live in the
 * evaluation's scratch arena.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

node *value_to_node(arena *a, value v)
{
	if (v.type == NODE_LIST || v.type == NODE_MAP)
		return (node *)v.u.n;
	node *n = arena_alloc(a, sizeof *n);
	memset(n, 0, sizeof *n);
	n->type = v.type;
	switch (v.type) {
	case NODE_BOOL: n->u.b = v.u.b; break;
	case NODE_INT: n->u.i = v.u.i; break;
	case NODE_FLOAT: n->u.d = v.u.d; break;
	case NODE_STRING: n->u.str.s = v.u.str.s; n->u.str.len = v.u.str.len; break;
	default: break;
	}
	return n;
}

size_t utf8_length(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xC0) != 0x80;
	return count;
}

bool value_is_number(value v)
{
	return v.type == NODE_INT || v.type == NODE_FLOAT;
}

double value_number(value v)
{
	return v.type == NODE_INT ? (double)v.u.i : v.u.d;
}

static bool number_equal(value a, value b)
{
	if (a.type == NODE_INT && b.type == NODE_INT)
		return a.u.i == b.u.i;
	return value_number(a) == value_number(b);
}

/* Each node compared, and each 64 bytes of string, takes one unit of *budget:
 * lists of lists that share items (a DAG) and maps, whose keys are matched
 * pairwise, could otherwise cost far more than their size. */
static bool equal(value a, value b, bool *comparable, size_t *budget)
{
	*comparable = true;
	if (*budget == 0)
		return false;
	(*budget)--;
	if (a.type == NODE_NULL || b.type == NODE_NULL)
		return a.type == b.type;
	if (value_is_number(a) && value_is_number(b))
		return number_equal(a, b);
	if (a.type != b.type) {
		*comparable = false;
		return false;
	}
	switch (a.type) {
	case NODE_BOOL:
		return a.u.b == b.u.b;
	case NODE_STRING:
		if (a.u.str.len != b.u.str.len)
			return false;
		if (a.u.str.len / 64 >= *budget) {
			*budget = 0;
			return false;
		}
		*budget -= a.u.str.len / 64;
		return memcmp(a.u.str.s, b.u.str.s, a.u.str.len) == 0;
	case NODE_LIST: {
		const node *x = a.u.n, *y = b.u.n;
		if (x->u.list.n != y->u.list.n)
			return false;
		for (size_t i = 0; i < x->u.list.n; i++) {
			bool c;
			if (!equal(value_of_node(x->u.list.items[i]),
			    value_of_node(y->u.list.items[i]), &c, budget))
				return false;
		}
		return true;
	}
	case NODE_MAP: {
		const node *x = a.u.n, *y = b.u.n;
		if (x->u.map.n != y->u.map.n)
			return false;
		for (size_t i = 0; i < x->u.map.n; i++) {
			const node *k = x->u.map.keys[i];
			const node *other = NULL;
			for (size_t j = 0; j < y->u.map.n && other == NULL; j++)
				if (equal(value_of_node(k), value_of_node(y->u.map.keys[j]), comparable, budget))
					other = y->u.map.vals[j];
			*comparable = true;
			bool c;
			if (other == NULL || !equal(value_of_node(x->u.map.vals[i]),
			    value_of_node(other), &c, budget))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

bool value_equal(value a, value b, bool *comparable)
{
	size_t unbounded = SIZE_MAX;
	return equal(a, b, comparable, &unbounded);
}

bool value_equal_within(value a, value b, bool *comparable, size_t *budget)
{
	return equal(a, b, comparable, budget);
}

/* Appends to buf at *off, never past len; always NUL-terminates. */
static void put(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	if (*off + 1 >= len)
		return;
	size_t room = len - 1 - *off;
	if (n > room)
		n = room;
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = '\0';
}

int format_int(int64_t v, char out[24])
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	int n = (int)(tmp + sizeof tmp - p);
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	return n;
}

bool short_decimal(double a, double below, int64_t *m, int *places)
{
	double scale = 1;
	for (int k = 1; k <= 21; k++) {
		scale *= 10;
		double x = a * scale;
		if (x >= below)
			return false;
		*m = (int64_t)(x + 0.5);
		if ((double)*m / scale == a) {
			*places = k;
			return true;
		}
	}
	return false;
}

/* %g's six significant digits, without printf, for the numbers details
 * mostly hold. A whole number of at most six digits is its digits. A short
 * decimal from 0.0001 up to a million is m / 10^k for the fewest fraction
 * digits k whose m (at most six digits) gives back d exactly (short_decimal:
 * the decimal that reads back as d), and
 * d lies within half a unit in its last binary place of it, far closer than
 * half a step of six significant digits: rounded to six, d is that decimal,
 * which %g writes in fixed notation (its exponent, -4 to 5, is below the
 * precision) without trailing zeros, as m's digits with k after the point.
 * Anything else (-0, more digits, further out, not finite) is printf's. */
const char *format_g(double d, char out[32])
{
	double a = fabs(d);
	if (a < 1e6 && d == (double)(int64_t)d && !(d == 0 && signbit(d))) {
		format_int((int64_t)d, out);
		return out;
	}
	int64_t m;
	int k;
	if (!(a >= 1e-4 && a < 1e6 && short_decimal(a, 1e6, &m, &k))) {
		snprintf(out, 32, "%g", d);
		return out;
	}
	char digits[24];
	int n = format_int(m, digits), at = 0;
	if (d < 0)
		out[at++] = '-';
	if (n <= k) {
		out[at++] = '0';
		out[at++] = '.';
		for (int z = n; z < k; z++)
			out[at++] = '0';
		memcpy(out + at, digits, (size_t)n);
		at += n;
	} else {
		memcpy(out + at, digits, (size_t)(n - k));
		at += n - k;
		out[at++] = '.';
		memcpy(out + at, digits + n - k, (size_t)k);
		at += k;
	}
	out[at] = '\0';
	return out;
}

static void format_into(value v, char *buf, size_t len, size_t *off, int depth)
{
	char tmp[64];
	switch (v.type) {
	case NODE_NULL: put(buf, len, off, "null", 4); break;
	case NODE_BOOL: put(buf, len, off, v.u.b ? "true" : "false", v.u.b ? 4 : 5); break;
	case NODE_INT:
		put(buf, len, off, tmp, (size_t)format_int(v.u.i, tmp));
		break;
	case NODE_FLOAT: {
		int n = snprintf(tmp, sizeof tmp, "%.15g", v.u.d);
		if (!strpbrk(tmp, ".eEn"))
			n = snprintf(tmp, sizeof tmp, "%.1f", v.u.d);
		put(buf, len, off, tmp, (size_t)n);
		break;
	}
	case NODE_STRING: {
		size_t n = v.u.str.len > 80 ? 77 : v.u.str.len;
		/* never cut a UTF-8 character in two */
		while (n < v.u.str.len && n > 0 && ((unsigned char)v.u.str.s[n] & 0xC0) == 0x80)
			n--;
		put(buf, len, off, "\"", 1);
		put(buf, len, off, v.u.str.s, n);
		if (n < v.u.str.len)
			put(buf, len, off, "...", 3);
		put(buf, len, off, "\"", 1);
		break;
	}
	case NODE_LIST: {
		const node *l = v.u.n;
		put(buf, len, off, "[", 1);
		for (size_t i = 0; i < l->u.list.n; i++) {
			if (i > 0)
				put(buf, len, off, ", ", 2);
			if (i == 8 || depth > 2) {
				put(buf, len, off, "...", 3);
				break;
			}
			format_into(value_of_node(l->u.list.items[i]), buf, len, off, depth + 1);
		}
		put(buf, len, off, "]", 1);
		break;
	}
	case NODE_MAP: {
		const node *m = v.u.n;
		put(buf, len, off, "{", 1);
		for (size_t i = 0; i < m->u.map.n; i++) {
			if (i > 0)
				put(buf, len, off, ", ", 2);
			if (i == 8 || depth > 2) {
				put(buf, len, off, "...", 3);
				break;
			}
			const node *k = m->u.map.keys[i];
			put(buf, len, off, k->u.str.s, k->u.str.len);
			put(buf, len, off, ": ", 2);
			format_into(value_of_node(m->u.map.vals[i]), buf, len, off, depth + 1);
		}
		put(buf, len, off, "}", 1);
		break;
	}
	}
}

size_t value_format(value v, char *buf, size_t len)
{
	size_t off = 0;
	if (len > 0)
		buf[0] = '\0';
	format_into(v, buf, len, &off, 0);
	return off;
}

char *value_describe(arena *a, value v)
{
	char buf[256];
	value_format(v, buf, sizeof buf);
	return arena_strdup(a, buf);
}

static void free_strings(void *s)
{
	strmap_free(s);
}

value_set *value_set_new(arena *a, const node *list)
{
	/* in the arena, not in a policy: policies move as their array grows */
	value_set *s = arena_alloc(a, sizeof *s);
	memset(s, 0, sizeof *s);
	s->list = list;
	for (size_t i = 0; i < list->u.list.n; i++) {
		const node *x = list->u.list.items[i];
		if (x->type == NODE_STRING)
			strmap_put(&s->strings, x->u.str.s, x->u.str.len, (void *)x);
		else
			s->others = true;
	}
	arena_on_free(a, free_strings, &s->strings);
	return s;
}

bool value_set_has(const value_set *s, value x)
{
	if (x.type == NODE_STRING)     /* a string equals only a string */
		return strmap_get(&s->strings, x.u.str.s, x.u.str.len) != NULL;
	if (!s->others)
		return false;
	for (size_t i = 0; i < s->list->u.list.n; i++) {
		const node *m = s->list->u.list.items[i];
		bool comparable;
		if (m->type != NODE_STRING && value_equal(value_of_node(m), x, &comparable))
			return true;
	}
	return false;
}
