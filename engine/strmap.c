/*
 * strmap.c: a string-keyed hash table (open addressing, linear probing).
 *
 * Used where hostile input could make a linear scan quadratic: duplicate keys
 * in large YAML maps, anchors, policy names. Keys are not copied; they must
 * outlive the table (they live in the document's arena).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct strmap_slot {
	const char *key;
	size_t len;
	uint64_t hash;
	void *value;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct strmap_slot *find(const strmap *m, const char *key, size_t len, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (s->key == NULL)
			return s;
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
	}
}

static void grow(strmap *m)
{
	strmap bigger = { calloc(m->cap ? m->cap * 2 : 16, sizeof(struct strmap_slot)), 0,
		m->cap ? m->cap * 2 : 16 };
	if (bigger.slots == NULL)
		abort();
	for (size_t i = 0; i < m->cap; i++) {
		struct strmap_slot *s = &m->slots[i];
		if (s->key != NULL)
			*find(&bigger, s->key, s->len, s->hash) = *s;
	}
	bigger.n = m->n;
	free(m->slots);
	*m = bigger;
}

void *strmap_put(strmap *m, const char *key, size_t len, void *val)
{
	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	uint64_t h = hash_bytes(key, len);
	struct strmap_slot *s = find(m, key, len, h);
	if (s->key != NULL)
		return s->value;
	s->key = key;
	s->len = len;
	s->hash = h;
	s->value = val;
	m->n++;
	return NULL;
}

void *strmap_get(const strmap *m, const char *key, size_t len)
{
	if (m->cap == 0)
		return NULL;
	struct strmap_slot *s = find(m, key, len, hash_bytes(key, len));
	return s->key ? s->value : NULL;
}

void strmap_free(strmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->n = m->cap = 0;
}
