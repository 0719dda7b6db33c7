/*
 * jsontext.c: JSON texts turned into what a person reads.
 *
 * The front ends show stored JSON (a document, an event's details) and print
 * JSON lines (policy list --json), but they include no JSON library: the
 * tree walks live here, where jansson already builds the results, and hand
 * back plain text. Strings may hold \u0000 (JSON_ALLOW_NUL): their length is
 * kept, never cut at the NUL.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

char *policy_json(const policy *p)
{
	json_t *j = policy_to_json(p);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

char *node_json_text(const node *n)
{
	strbuf canon = { 0 };
	bool representable = canon_write(&canon, n);
	free(canon.s);
	json_t *j = representable ? node_to_json(n) : NULL;
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	return text;
}

char *jsontext_pretty(const char *text, bool sort_keys, int real_precision)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (j == NULL)
		return NULL;
	size_t flags = JSON_INDENT(2) | JSON_ENCODE_ANY | (sort_keys ? JSON_SORT_KEYS : 0) |
	    (real_precision > 0 ? JSON_REAL_PRECISION(real_precision) : 0);
	char *out = json_dumps(j, flags);
	json_decref(j);
	return out;
}

bool jsontext_flat(const char *text, strbuf *b, size_t max)
{
	json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return false;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		char *t = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (t) {                /* {"critical":1} as {critical:1} */
			char *to = t;
			for (const char *from = t; *from; from++)
				if (*from != '"')
					*to++ = *from;
			*to = '\0';
		}
		if (b->n > 0)
			sb_put(b, " ", 1);
		sb_puts(b, key);
		sb_put(b, "=", 1);
		if (t)
			sb_puts(b, t);
		else
			sb_put(b, json_string_value(v), json_string_length(v));
		free(t);
		if (b->n >= max)
			break;
	}
	json_decref(j);
	return true;
}

typedef struct outline {
	arena *a;
	jsontext_line *lines;
	size_t n, cap;
} outline;

static void add(outline *o, int indent, const char *key, bool item, const char *text,
    const char *path)
{
	o->lines = arena_grow(o->a, o->lines, o->n, &o->cap, sizeof *o->lines, 64);
	o->lines[o->n++] = (jsontext_line){ indent, key, item, text, path };
}

/* A value: a non-empty container as its header line (when it has a lead: a
 * key or "-") and its members, anything else as one line of compact JSON. */
static void walk(outline *o, const json_t *v, const char *path, int indent, const char *key,
    bool item)
{
	bool lead = key != NULL || item;
	if (json_is_object(v) && json_object_size(v) > 0) {
		if (lead) {
			add(o, indent, key, item, NULL, path);
			indent += 2;
		}
		const char *k;
		json_t *child;
		json_object_foreach((json_t *)v, k, child)
			walk(o, child, arena_printf(o->a, "%s%s%s", path, path[0] ? "." : "", k),
			    indent, arena_strdup(o->a, k), false);
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		if (lead)
			add(o, indent, key, item, NULL, path);
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child)
			walk(o, child, arena_printf(o->a, "%s[%zu]", path, i), indent + 2, NULL, true);
	} else {
		char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		add(o, indent, key, item, arena_strdup(o->a, t ? t : "?"), path);
		free(t);
	}
}

bool jsontext_outline(arena *a, const char *text, jsontext_line **lines, size_t *n)
{
	json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL);
	if (j == NULL)
		return false;
	outline o = { .a = a };
	walk(&o, j, "", 0, NULL, false);
	json_decref(j);
	*lines = o.lines;
	*n = o.n;
	return true;
}
