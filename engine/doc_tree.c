/*
 * doc_tree.c: a parsed tree as bytes, and the bytes back as the same tree.
 *
 * A store keeps its policy files' trees (data/policy_trees.c) so that a
 * process reads them back instead of running libyaml over the text, which is
 * most of the cost of loading a policy set. The tree read back is the tree
 * doc_parse gave: types, values, scalar styles and positions (doc_same_tree
 * holds between them); key hashes are made again, as they are drawn per
 * process.
 *
 * A record per node, in pre-order: a byte of type (NODE_*), or TREE_SEEN and
 * the number of a node already written, for a node that aliases made shared
 * (a tree is a DAG); then style, verbatim, line and column, then the value:
 * nothing for null, a byte for a bool, eight bytes (little-endian) for an int
 * or a double, a length and bytes for a string, a count and the records of
 * the items (of key and value, for a map). Numbers other than the eight-byte
 * ones are LEB128.
 *
 * doc_tree_read trusts nothing: it is given bytes that a MAC vouches for, but
 * it refuses what doc_parse refuses, and answers NULL for it: every length
 * and count is checked against what is left (a count against the smallest
 * records it could take, so no allocation outgrows the input), every back
 * reference against the nodes finished so far (so none makes a cycle), and
 * as doc.c does, the expanded size of what back references share
 * (DOC_MAX_ALIAS_NODES), nesting (DOC_MAX_DEPTH containers), map keys as
 * strings without a duplicate, and integers within +-DOC_MAX_INT
 * (tests/fuzz/fuzz_tree.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "doc_impl.h"

/* TREE_SEEN: a back reference. The smallest records: a back reference is
 * two bytes, a node five; a map's key and value four together. */
enum { TREE_SEEN = 7, LEAST_ITEM = 2, LEAST_PAIR = 4 };

/* The record's format: bumped with any change of it, or of what doc.c and
 * json.c make of a text (a type, a limit, a position). */
#define DOC_TREE_FORMAT 1

void doc_tree_format(char out[128])
{
	snprintf(out, 128, "doc-tree %d, arbiter %s, libyaml %s", DOC_TREE_FORMAT, ARBITER_VERSION,
	    yaml_get_version_string());
}

/* ---- writing ---- */

/* The nodes written so far, by address: open addressing over a power of two. */
typedef struct seen_table {
	const node **keys;
	uint32_t *ids;
	size_t cap, n;
} seen_table;

static size_t slot_of(const seen_table *t, const node *n)
{
	uint64_t h = (uint64_t)(uintptr_t)n * 0x9E3779B97F4A7C15u;
	size_t i = (size_t)(h >> 32) & (t->cap - 1);
	while (t->keys[i] != NULL && t->keys[i] != n)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void seen_grow(seen_table *t)
{
	seen_table bigger = { .cap = t->cap ? t->cap * 2 : 256, .n = t->n };
	bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
	bigger.ids = malloc(bigger.cap * sizeof *bigger.ids);
	if (bigger.keys == NULL || bigger.ids == NULL)
		abort();
	for (size_t i = 0; i < t->cap; i++)
		if (t->keys[i] != NULL) {
			size_t j = slot_of(&bigger, t->keys[i]);
			bigger.keys[j] = t->keys[i];
			bigger.ids[j] = t->ids[i];
		}
	free(t->keys);
	free(t->ids);
	*t = bigger;
}

static void put_varint(strbuf *b, uint64_t v)
{
	char buf[10];
	size_t n = 0;
	do {
		buf[n++] = (char)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	sb_put(b, buf, n);
}

static void put_u64(strbuf *b, uint64_t v)
{
	char buf[8];
	for (int i = 0; i < 8; i++)
		buf[i] = (char)(v >> (8 * i));
	sb_put(b, buf, 8);
}

static void write_node(strbuf *b, seen_table *t, const node *n)
{
	if (2 * (t->n + 1) > t->cap)
		seen_grow(t);
	size_t slot = slot_of(t, n);
	if (t->keys[slot] != NULL) {
		char seen = TREE_SEEN;
		sb_put(b, &seen, 1);
		put_varint(b, t->ids[slot]);
		return;
	}
	t->keys[slot] = n;
	t->ids[slot] = (uint32_t)t->n++;
	char head[3] = { (char)n->type, (char)n->style, (char)n->verbatim };
	sb_put(b, head, 3);
	put_varint(b, n->line);
	put_varint(b, n->col);
	switch (n->type) {
	case NODE_BOOL: {
		char v = n->u.b ? 1 : 0;
		sb_put(b, &v, 1);
		break;
	}
	case NODE_INT:
		put_u64(b, (uint64_t)n->u.i);
		break;
	case NODE_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &n->u.d, sizeof bits);
		put_u64(b, bits);
		break;
	}
	case NODE_STRING:
		put_varint(b, n->u.str.len);
		sb_put(b, n->u.str.s, n->u.str.len);
		break;
	case NODE_LIST:
		put_varint(b, n->u.list.n);
		for (size_t i = 0; i < n->u.list.n; i++)
			write_node(b, t, n->u.list.items[i]);
		break;
	case NODE_MAP:
		put_varint(b, n->u.map.n);
		for (size_t i = 0; i < n->u.map.n; i++) {
			write_node(b, t, n->u.map.keys[i]);
			write_node(b, t, n->u.map.vals[i]);
		}
		break;
	default:
		break;
	}
}

void doc_tree_write(strbuf *b, const node *root)
{
	seen_table t = { 0 };
	write_node(b, &t, root);
	free(t.keys);
	free(t.ids);
}

/* ---- reading ---- */

typedef struct tree_reader {
	arena *a;
	const unsigned char *p, *end;
	node **nodes;           /* by number, in the order they were begun */
	uint64_t *weight;       /* each finished node's expanded size; 0 until then */
	size_t n, cap;
	uint64_t shared;        /* the expanded size of the back references so far */
} tree_reader;

static bool get_varint(tree_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p == r->end)
			return false;
		unsigned char c = *r->p++;
		v |= (uint64_t)(c & 0x7F) << shift;
		if ((c & 0x80) == 0) {
			*out = v;
			return true;
		}
	}
	return false;
}

static bool get_u64(tree_reader *r, uint64_t *out)
{
	if (r->end - r->p < 8)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	*out = v;
	return true;
}

/* A count of items, each of which takes at least `least` bytes of what is left. */
static bool get_count(tree_reader *r, size_t least, size_t *out)
{
	uint64_t v;
	if (!get_varint(r, &v) || v > (uint64_t)(r->end - r->p) / least)
		return false;
	*out = (size_t)v;
	return true;
}

static node *read_node(tree_reader *r, int depth, uint64_t *weight);

static bool read_value(tree_reader *r, node *n, int depth, uint64_t *weight)
{
	uint64_t v, w;
	size_t count;
	switch (n->type) {
	case NODE_NULL:
		return true;
	case NODE_BOOL:
		if (r->p == r->end || *r->p > 1)
			return false;
		n->u.b = *r->p++ == 1;
		return true;
	case NODE_INT:
		if (!get_u64(r, &v))
			return false;
		n->u.i = (int64_t)v;
		return n->u.i <= DOC_MAX_INT && n->u.i >= -DOC_MAX_INT;
	case NODE_FLOAT:
		if (!get_u64(r, &v))
			return false;
		memcpy(&n->u.d, &v, sizeof v);
		return true;
	case NODE_STRING:
		if (!get_count(r, 1, &count))
			return false;
		n->u.str.s = arena_strndup(r->a, (const char *)r->p, count);
		n->u.str.len = count;
		r->p += count;
		return true;
	case NODE_LIST:
		if (depth >= DOC_MAX_DEPTH || !get_count(r, LEAST_ITEM, &count))
			return false;
		n->u.list.items = arena_alloc(r->a, count ? count * sizeof(node *) : 1);
		n->u.list.n = count;
		for (size_t i = 0; i < count; i++) {
			if ((n->u.list.items[i] = read_node(r, depth + 1, &w)) == NULL)
				return false;
			*weight += w;
		}
		return true;
	case NODE_MAP: {
		if (depth >= DOC_MAX_DEPTH || !get_count(r, LEAST_PAIR, &count))
			return false;
		/* keys and values interleaved, for doc_map_has_key */
		node **items = arena_alloc(r->a, count ? 2 * count * sizeof(node *) : 1);
		map_keys keys = { 0 };
		bool ok = true;
		for (size_t i = 0; ok && i < count; i++) {
			node *k = read_node(r, depth + 1, &w);
			ok = k != NULL && k->type == NODE_STRING;
			if (ok) {
				k->hash = key_hash(k->u.str.s, k->u.str.len);
				ok = !doc_map_has_key(items, 2 * i, &keys, k);
			}
			*weight += w;
			items[2 * i] = k;
			ok = ok && (items[2 * i + 1] = read_node(r, depth + 1, &w)) != NULL;
			*weight += w;
		}
		strmap_free(&keys.big);
		if (ok)
			doc_container_fill(r->a, n, items, 2 * count);
		return ok;
	}
	default:
		return false;
	}
}

/* The next record's node, *weight its expanded size (doc.c's weight). */
static node *read_node(tree_reader *r, int depth, uint64_t *weight)
{
	*weight = 0;
	if (r->p == r->end)
		return NULL;
	unsigned char type = *r->p++;
	uint64_t v;
	if (type == TREE_SEEN) {
		/* as an alias in doc.c: the shared node counts its size again */
		if (!get_varint(r, &v) || v >= r->n || r->weight[v] == 0)
			return NULL;
		*weight = r->weight[v];
		r->shared += *weight;
		return r->shared <= DOC_MAX_ALIAS_NODES ? r->nodes[v] : NULL;
	}
	if (type > NODE_MAP || r->end - r->p < 2 || r->p[0] > STYLE_BLOCK || r->p[1] > 1)
		return NULL;
	node *n = arena_alloc(r->a, sizeof *n);
	memset(n, 0, sizeof *n);
	n->type = type;
	n->style = *r->p++;
	n->verbatim = *r->p++;
	uint64_t line, col;
	if (!get_varint(r, &line) || !get_varint(r, &col) || line > UINT32_MAX || col > UINT32_MAX)
		return NULL;
	n->line = (uint32_t)line;
	n->col = (uint32_t)col;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->nodes = realloc(r->nodes, r->cap * sizeof *r->nodes);
		r->weight = realloc(r->weight, r->cap * sizeof *r->weight);
		if (r->nodes == NULL || r->weight == NULL)
			abort();
	}
	size_t id = r->n++;
	r->nodes[id] = n;
	r->weight[id] = 0;
	uint64_t size = 1;
	if (!read_value(r, n, depth, &size))
		return NULL;
	r->weight[id] = size;
	*weight = size;
	return n;
}

node *doc_tree_read(arena *a, const void *bytes, size_t len)
{
	tree_reader r = { .a = a, .p = bytes, .end = (const unsigned char *)bytes + len };
	uint64_t weight;
	node *root = read_node(&r, 0, &weight);
	free(r.nodes);
	free(r.weight);
	return root != NULL && r.p == r.end ? root : NULL;
}
