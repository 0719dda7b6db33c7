/*
 * doc.c: reads one YAML or JSON document into the typed tree.
 *
 * libyaml's event parser drives a stack of open containers; each finished
 * node is added to its parent. Scalars are typed here, not by libyaml: quoted
 * scalars are always strings, plain ones are null, bool, int (YAML 1.1 forms:
 * decimal, 0x hex, 0o and leading-zero octal, 0b binary, `_` separators),
 * float or string.
 *
 * Integers are kept within +-(2^53 - 1), I-JSON's range (RFC 7493): a JSON
 * number is a double to most readers, exact only there, and a digest
 * (canon.c) is computed over the value every reader sees. Beyond it an
 * integer is refused, never rounded; a float is a double already. Documents
 * a store kept before the limit are read with DOC_INT64.
 *
 * Hostile input is refused with one error at its position: nesting deeper
 * than DOC_MAX_DEPTH, aliases that would expand beyond DOC_MAX_ALIAS_NODES
 * (aliases share the anchored node, so the tree is a DAG, and its expanded
 * size is tracked to stop "billion laughs"), an alias to an unfinished anchor
 * (which would make a cycle), duplicate keys, non-scalar keys, and whatever
 * libyaml itself refuses (bad syntax, invalid UTF-8, control characters).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <sodium.h>

#include "doc_impl.h"

struct frame {
	node *n;                /* the container being built */
	node **items;           /* list items, or map keys and values interleaved */
	size_t count, cap;
	map_keys keys;          /* for duplicates (doc_map_has_key) */
	const char *anchor;
	uint64_t weight;        /* expanded node count of the subtree so far */
	bool want_value;        /* a map whose next node is a value */
};

struct builder {
	arena *a;
	const char *file;
	const char *text;
	size_t len;
	size_t scan_pos;        /* the start of line scan_line of text */
	size_t scan_line;
	int first_line;
	int flags;              /* DOC_* */
	diags *errs;
	struct frame stack[DOC_MAX_DEPTH + 1];
	int depth;
	strmap anchors;         /* name -> struct anchor */
	uint64_t alias_nodes;
	node *root;
	bool root_is_blank;     /* the document is an empty scalar: nothing */
	bool failed;
};

struct anchor {
	node *n;
	uint64_t weight;
};

/* key_hash's seed: drawn once before main, so every thread of the process
 * hashes a key alike (engine.h). */
uint64_t key_hash_seed = 0x9E3779B97F4A7C15u;

__attribute__((constructor)) static void draw_key_hash_seed(void)
{
	uint64_t seed;
	randombytes_buf(&seed, sizeof seed);
	key_hash_seed ^= seed;
}

const char *node_type_name(int type)
{
	static const char *names[] = { "null", "bool", "int", "float", "string", "list", "map" };
	return type >= 0 && type <= NODE_MAP ? names[type] : "?";
}

const node *node_get(const node *m, const char *key)
{
	if (m == NULL || m->type != NODE_MAP)
		return NULL;
	size_t len = strlen(key);
	if (m->u.map.n <= 8) {
		/* a small map's names are compared as they are: cheaper than
		 * hashing the one asked for */
		for (size_t i = 0; i < m->u.map.n; i++) {
			const node *k = m->u.map.keys[i];
			if (k->type == NODE_STRING && k->u.str.len == len &&
			    memcmp(k->u.str.s, key, len) == 0)
				return m->u.map.vals[i];
		}
		return NULL;
	}
	uint32_t h = key_hash(key, len);
	for (size_t i = 0; i < m->u.map.n; i++) {
		const node *k = m->u.map.keys[i];
		if (k->hash == h && k->u.str.len == len && memcmp(k->u.str.s, key, len) == 0)
			return m->u.map.vals[i];
	}
	return NULL;
}

static void fail(struct builder *b, yaml_mark_t m, const char *fmt, const char *arg)
{
	if (b->failed)
		return;
	b->failed = true;
	char msg[512];
	snprintf(msg, sizeof msg, fmt, arg);
	diags_add(b->errs, b->file, b->first_line + (int)m.line, (int)m.column + 1, "%s", msg);
}

static node *new_node(struct builder *b, int type, yaml_mark_t m)
{
	node *n = arena_alloc(b->a, sizeof *n);
	memset(n, 0, sizeof *n);
	n->type = (uint8_t)type;
	n->line = (uint32_t)(b->first_line + (int)m.line);
	n->col = (uint32_t)m.column + 1;
	return n;
}

/* YAML 1.1 integers: [-+] then 0x.., 0o.., 0b.., 0.. (octal) or decimal,
 * with `_` allowed between digits. Returns false when s is not an integer;
 * sets *overflow when it is one but does not fit in 64 bits. */
static bool parse_int(const char *s, size_t len, int64_t *out, bool *overflow)
{
	size_t i = 0;
	bool neg = false;
	*overflow = false;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == len)
		return false;
	unsigned base = 10;
	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		base = 16, i += 2;
	else if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'o' || s[i + 1] == 'O'))
		base = 8, i += 2;
	else if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'B'))
		base = 2, i += 2;
	else if (len - i > 1 && s[i] == '0')
		base = 8, i += 1;
	uint64_t v = 0;
	bool digits = false;
	for (; i < len; i++) {
		char c = s[i];
		unsigned d;
		if (c == '_' && digits)
			continue;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (d >= base)
			return false;
		digits = true;
		if (v > (UINT64_MAX - d) / base)
			*overflow = true;
		else
			v = v * base + d;
	}
	if (!digits)
		return false;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		*overflow = true;
	if (!*overflow)
		*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static bool parse_float(const char *s, size_t len, double *out)
{
	if (len == 0)
		return false;
	bool digit = false, point = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			digit = true;
		else if (!strchr("+-.eE", c))
			return false;
		else
			point = point || c == '.' || c == 'e' || c == 'E';
	}
	/* YAML 1.1 floats have a point or an exponent: "09" is a string, not 9.0 */
	if (!digit || !point)
		return false;
	char small[64];
	char *buf = len < sizeof small ? small : malloc(len + 1);
	if (buf == NULL)
		abort();
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *end;
	errno = 0;
	double d = strtod(buf, &end);
	bool ok = *end == '\0' && isfinite(d);
	if (buf != small)
		free(buf);
	if (ok)
		*out = d;
	return ok;
}

static bool is_one_of(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(*words, s, len) == 0)
			return true;
	return false;
}

static const char *const null_words[] = { "null", "Null", "NULL", "~", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", NULL };
static const char *const false_words[] = { "false", "False", "FALSE", NULL };

/* The offset in text of the start of line (0-based). Block scalars come in
 * document order, so the scans add up to one pass over the text. */
static size_t line_start(struct builder *b, size_t line)
{
	while (b->scan_line < line && b->scan_pos < b->len) {
		const char *nl = memchr(b->text + b->scan_pos, '\n', b->len - b->scan_pos);
		b->scan_pos = nl ? (size_t)(nl - b->text) + 1 : b->len;
		b->scan_line++;
	}
	return b->scan_pos;
}

/* A block scalar's value starts on the line after its indicator (| or >), at
 * the content's indentation (set by its first non-blank line): the node is
 * placed there rather than on the indicator, so that an offset into the value
 * (an expression's error) maps to a line and column of the file. */
static void place_block(struct builder *b, size_t indicator_line, node *n)
{
	size_t j = line_start(b, indicator_line + 1);
	while (j < b->len) {
		size_t k = j;
		while (k < b->len && b->text[k] == ' ')
			k++;
		if (k < b->len && b->text[k] != '\n' && b->text[k] != '\r') {
			n->line = (uint32_t)(b->first_line + (int)indicator_line + 1);
			n->col = (uint32_t)(k - j) + 1;
			return;
		}
		const char *nl = memchr(b->text + k, '\n', b->len - k);
		j = nl ? (size_t)(nl - b->text) + 1 : b->len;
	}
}

static node *scalar_node(struct builder *b, yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	yaml_scalar_style_t style = ev->data.scalar.style;
	bool plain = style == YAML_PLAIN_SCALAR_STYLE;
	node *n = new_node(b, NODE_STRING, ev->start_mark);

	if (tag != NULL && strcmp(tag, "tag:yaml.org,2002:str") != 0 && strcmp(tag, "!") != 0) {
		static const char *const known[] = { "tag:yaml.org,2002:int",
			"tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
			"tag:yaml.org,2002:null", NULL };
		if (!is_one_of(tag, strlen(tag), known)) {
			fail(b, ev->start_mark, "unsupported tag %s", tag);
			return NULL;
		}
		plain = true;   /* typed by its text, and the tag is checked below */
	}
	if (tag != NULL && (strcmp(tag, "tag:yaml.org,2002:str") == 0 || strcmp(tag, "!") == 0))
		plain = false;

	if (plain) {
		int64_t i;
		double d;
		bool overflow;
		if (len == 0 || is_one_of(s, len, null_words)) {
			n->type = NODE_NULL;
			if (len == 0 && b->depth == 0 && tag == NULL)
				b->root_is_blank = true;
		} else if (is_one_of(s, len, true_words) || is_one_of(s, len, false_words)) {
			n->type = NODE_BOOL;
			n->u.b = is_one_of(s, len, true_words);
		} else if (parse_int(s, len, &i, &overflow)) {
			if (overflow) {
				fail(b, ev->start_mark, (b->flags & DOC_INT64) ?
				    "integer %s does not fit in 64 bits" : DOC_BEYOND_MAX_INT,
				    arena_strndup(b->a, s, len > 40 ? 40 : len));
				return NULL;
			}
			n->type = NODE_INT;
			n->u.i = i;
		} else if (parse_float(s, len, &d)) {
			n->type = NODE_FLOAT;
			n->u.d = d;
		}
		if (tag != NULL) {
			const char *want = strrchr(tag, ':') + 1;
			bool ok = (strcmp(want, "int") == 0 && n->type == NODE_INT) ||
			    (strcmp(want, "float") == 0 && (n->type == NODE_FLOAT || n->type == NODE_INT)) ||
			    (strcmp(want, "bool") == 0 && n->type == NODE_BOOL) ||
			    (strcmp(want, "null") == 0 && n->type == NODE_NULL);
			if (!ok) {
				fail(b, ev->start_mark, "value does not match its tag !!%s", want);
				return NULL;
			}
			if (strcmp(want, "float") == 0 && n->type == NODE_INT) {
				n->type = NODE_FLOAT;
				n->u.d = (double)n->u.i;
			}
		}
		if (n->type == NODE_INT && (b->flags & DOC_INT64) == 0 &&
		    (n->u.i > DOC_MAX_INT || n->u.i < -DOC_MAX_INT)) {
			fail(b, ev->start_mark, DOC_BEYOND_MAX_INT, arena_strndup(b->a, s, len > 40 ? 40 : len));
			return NULL;
		}
		if (n->type != NODE_STRING)
			return n;
	}
	n->style = style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE
	    ? STYLE_BLOCK : plain || style == YAML_PLAIN_SCALAR_STYLE ? STYLE_PLAIN : STYLE_QUOTED;
	n->u.str.s = arena_strndup(b->a, s, len);
	n->u.str.len = len;
	if (n->style == STYLE_BLOCK && len > 0)
		place_block(b, ev->start_mark.line, n);
	return n;
}

static void frame_push_item(struct frame *f, node *n)
{
	if (f->count == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->items = realloc(f->items, f->cap * sizeof *f->items);
		if (f->items == NULL)
			abort();
	}
	f->items[f->count++] = n;
}

/* A document's maps are small and are scanned; a map past SMALL_MAP keys,
 * which a hostile document may hold by the thousand, is looked up in big,
 * filled with the keys so far when it gets there. */
enum { SMALL_MAP = 32 };
bool doc_map_has_key(node *const *items, size_t count, map_keys *keys, const node *n)
{
	size_t have = count / 2;
	if (have < SMALL_MAP) {
		uint64_t bit = UINT64_C(1) << (n->hash & 63);
		bool maybe = (keys->seen & bit) != 0;
		keys->seen |= bit;
		for (size_t i = 0; maybe && i < have; i++) {
			const node *k = items[2 * i];
			if (k->hash == n->hash && k->u.str.len == n->u.str.len &&
			    memcmp(k->u.str.s, n->u.str.s, n->u.str.len) == 0)
				return true;
		}
		return false;
	}
	if (have == SMALL_MAP)          /* the map outgrows the scan */
		for (size_t i = 0; i < have; i++)
			strmap_put(&keys->big, items[2 * i]->u.str.s, items[2 * i]->u.str.len,
			    items[2 * i]);
	return strmap_put(&keys->big, n->u.str.s, n->u.str.len, (void *)n) != NULL;
}

void doc_container_fill(arena *a, node *n, node *const *items, size_t count)
{
	if (n->type == NODE_LIST) {
		node **copy = arena_alloc(a, count ? count * sizeof *copy : 1);
		if (count)
			memcpy(copy, items, count * sizeof *copy);
		n->u.list.items = copy;
		n->u.list.n = count;
		return;
	}
	size_t pairs = count / 2;
	n->u.map.keys = arena_alloc(a, pairs ? pairs * sizeof(node *) : 1);
	n->u.map.vals = arena_alloc(a, pairs ? pairs * sizeof(node *) : 1);
	for (size_t i = 0; i < pairs; i++) {
		n->u.map.keys[i] = items[2 * i];
		n->u.map.vals[i] = items[2 * i + 1];
	}
	n->u.map.n = pairs;
}

static void remember_anchor(struct builder *b, const char *name, node *n, uint64_t weight)
{
	if (name == NULL)
		return;
	struct anchor *an = arena_alloc(b->a, sizeof *an);
	an->n = n;
	an->weight = weight;
	char *key = arena_strdup(b->a, name);
	struct anchor *old = strmap_put(&b->anchors, key, strlen(key), an);
	if (old != NULL)
		*old = *an;     /* YAML lets a later anchor of the same name win */
}

/* Adds a finished node (weight: its expanded size) to the open container. */
static void add_node(struct builder *b, node *n, uint64_t weight, yaml_mark_t m)
{
	if (b->depth == 0) {
		b->root = n;
		return;
	}
	struct frame *f = &b->stack[b->depth - 1];
	f->weight += weight;
	if (f->n->type == NODE_MAP && !f->want_value) {
		if (n->type == NODE_LIST || n->type == NODE_MAP) {
			fail(b, m, "%s", "a map key must be a scalar");
			return;
		}
		if (n->type != NODE_STRING) {
			/* a plain key such as 1 or true names the field "1" or "true"; on
			 * a copy, as n may be an anchored value that an alias also uses */
			char buf[64];
			value_format(value_of_node(n), buf, sizeof buf);
			node *k = arena_alloc(b->a, sizeof *k);
			*k = *n;
			n = k;
			n->u.str.s = arena_strdup(b->a, buf);
			n->u.str.len = strlen(buf);
			n->type = NODE_STRING;
		}
		n->hash = key_hash(n->u.str.s, n->u.str.len);
		if (doc_map_has_key(f->items, f->count, &f->keys, n)) {
			fail(b, m, "duplicate key \"%s\"", n->u.str.s);
			return;
		}
	}
	if (f->n->type == NODE_MAP)
		f->want_value = !f->want_value;
	frame_push_item(f, n);
}

static void open_container(struct builder *b, int type, yaml_event_t *ev, const char *anchor)
{
	if (b->depth >= DOC_MAX_DEPTH) {
		fail(b, ev->start_mark, "nesting deeper than %s levels", "64");
		return;
	}
	struct frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof *f);
	f->n = new_node(b, type, ev->start_mark);
	f->anchor = anchor ? arena_strdup(b->a, anchor) : NULL;
	f->weight = 1;
}

static void close_container(struct builder *b, yaml_mark_t m)
{
	struct frame *f = &b->stack[--b->depth];
	node *n = f->n;
	doc_container_fill(b->a, n, f->items, f->count);
	uint64_t weight = f->weight;
	const char *anchor = f->anchor;
	free(f->items);
	strmap_free(&f->keys.big);
	remember_anchor(b, anchor, n, weight);
	add_node(b, n, weight, m);
}

static void handle_alias(struct builder *b, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct anchor *an = strmap_get(&b->anchors, name, strlen(name));
	if (an == NULL) {
		/* either never defined, or still open: an alias into itself */
		for (int i = 0; i < b->depth; i++)
			if (b->stack[i].anchor && strcmp(b->stack[i].anchor, name) == 0) {
				fail(b, ev->start_mark, "alias *%s refers to itself", name);
				return;
			}
		fail(b, ev->start_mark, "unknown alias *%s", name);
		return;
	}
	b->alias_nodes += an->weight;
	if (b->alias_nodes > DOC_MAX_ALIAS_NODES) {
		fail(b, ev->start_mark, "aliases expand to more than %s nodes", "10000");
		return;
	}
	add_node(b, an->n, an->weight, ev->start_mark);
}

static void free_builder(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *f = &b->stack[--b->depth];
		free(f->items);
		strmap_free(&f->keys.big);
	}
	strmap_free(&b->anchors);
}

node *doc_parse(arena *a, const char *file, const char *text, size_t len,
    int first_line, bool *empty, diags *errs)
{
	return doc_parse_flags(a, file, text, len, first_line, 0, empty, errs);
}

node *doc_parse_flags(arena *a, const char *file, const char *text, size_t len,
    int first_line, int flags, bool *empty, diags *errs)
{
	struct builder b = { .a = a, .file = file, .text = text, .len = len, .first_line = first_line,
		.flags = flags, .errs = errs };
	*empty = false;
	if (len > DOC_MAX_BYTES) {
		diags_add(errs, file, first_line, 1,
		    "document is %zu bytes, over the limit of %d bytes (1 MiB)", len, DOC_MAX_BYTES);
		return NULL;
	}
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int documents = 0;
	bool done = false;
	while (!done && !b.failed) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			const char *problem = p.problem ? p.problem : "malformed document";
			yaml_mark_t m = p.problem_mark;
			/* at the end of the text, the construct left open is the place to
			 * show; failing that the last character, not the line after it */
			if (p.error == YAML_READER_ERROR) {
				/* the reader (invalid UTF-8, control characters) leaves the
				 * mark at the start and gives the bad byte's offset instead */
				m.line = m.column = 0;
				for (size_t i = 0; i < p.problem_offset && i < len; i++) {
					if (text[i] == '\n') {
						m.line++;
						m.column = 0;
					} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
						m.column++;
					}
				}
			} else if (m.index >= len && p.context) {
				m = p.context_mark;
			} else if (m.index >= len && len > 0) {
				m.line = m.column = 0;
				for (size_t i = 0; i + 1 < len; i++) {
					if (text[i] == '\n') {
						m.line++;
						m.column = 0;
					} else {
						m.column++;
					}
				}
			}
			if (p.context) {
				char msg[512];
				snprintf(msg, sizeof msg, "%s %s", problem, p.context);
				fail(&b, m, "%s", msg);
			} else {
				fail(&b, m, "%s", problem);
			}
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1)
				fail(&b, ev.start_mark, "%s", "more than one document in this part of the stream");
			break;
		case YAML_SCALAR_EVENT: {
			node *n = scalar_node(&b, &ev);
			if (n != NULL) {
				remember_anchor(&b, (const char *)ev.data.scalar.anchor, n, 1);
				add_node(&b, n, 1, ev.start_mark);
			}
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
			open_container(&b, NODE_LIST, &ev, (const char *)ev.data.sequence_start.anchor);
			break;
		case YAML_MAPPING_START_EVENT:
			open_container(&b, NODE_MAP, &ev, (const char *)ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			close_container(&b, ev.start_mark);
			break;
		case YAML_ALIAS_EVENT:
			handle_alias(&b, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	free_builder(&b);
	if (b.failed)
		return NULL;
	if (documents == 0 || b.root == NULL || b.root_is_blank) {
		*empty = true;
		return NULL;
	}
	return b.root;
}
