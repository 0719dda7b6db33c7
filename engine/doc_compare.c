/*
 * doc_compare.c: whether two document trees are the same, node for node:
 * types, values, order, key hashes and positions (and, as written, how each
 * scalar was written: a tree read back from its record, doc_tree.c). The YAML and JSON readers
 * must give one tree for one JSON document; the tests and the JSON fuzz
 * target check it with this.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"

static bool differ(char *why, size_t len, const char *what, const node *x)
{
	snprintf(why, len, "%s at %u:%u", what, x->line, x->col);
	return false;
}

static bool same_value(const node *x, const node *y)
{
	switch (x->type) {
	case NODE_BOOL:
		return x->u.b == y->u.b;
	case NODE_INT:
		return x->u.i == y->u.i;
	case NODE_FLOAT:
		return memcmp(&x->u.d, &y->u.d, sizeof x->u.d) == 0;
	case NODE_STRING:
		return x->u.str.len == y->u.str.len &&
		    memcmp(x->u.str.s, y->u.str.s, x->u.str.len) == 0;
	default:
		return true;
	}
}

/* form: the scalars' styles and verbatim flags compared too */
static bool same(const node *x, const node *y, bool form, char *why, size_t len)
{
	if (x->type != y->type) {
		snprintf(why, len, "a %s at %u:%u against a %s at %u:%u", node_type_name(x->type),
		    x->line, x->col, node_type_name(y->type), y->line, y->col);
		return false;
	}
	if (x->line != y->line || x->col != y->col) {
		snprintf(why, len, "a %s at %u:%u against %u:%u", node_type_name(x->type), x->line,
		    x->col, y->line, y->col);
		return false;
	}
	if (!same_value(x, y))
		return differ(why, len, "another value", x);
	if (form && (x->style != y->style || x->verbatim != y->verbatim))
		return differ(why, len, "another style of scalar", x);
	if (x->type == NODE_LIST) {
		if (x->u.list.n != y->u.list.n)
			return differ(why, len, "another length of list", x);
		for (size_t i = 0; i < x->u.list.n; i++)
			if (!same(x->u.list.items[i], y->u.list.items[i], form, why, len))
				return false;
	} else if (x->type == NODE_MAP) {
		if (x->u.map.n != y->u.map.n)
			return differ(why, len, "another size of map", x);
		for (size_t i = 0; i < x->u.map.n; i++) {
			if (!same(x->u.map.keys[i], y->u.map.keys[i], form, why, len))
				return false;
			if (x->u.map.keys[i]->hash != y->u.map.keys[i]->hash)
				return differ(why, len, "another key hash", x->u.map.keys[i]);
			if (!same(x->u.map.vals[i], y->u.map.vals[i], form, why, len))
				return false;
		}
	}
	return true;
}

bool doc_same_tree(const node *x, const node *y, char *why, size_t len)
{
	return same(x, y, false, why, len);
}

bool doc_same_tree_as_written(const node *x, const node *y, char *why, size_t len)
{
	return same(x, y, true, why, len);
}
