/*
 * verify_expect.c: what both passes of audit verify's table check compute
 * alike (verify_impl.h): the keyed fingerprints of texts, the reviewers
 * and agents by name, the growth of the arrays of expectations, and texts
 * shown in messages. The event pass (verify_tables.c) builds the
 * expectations with them and the table pass (verify_rows.c) reads rows
 * against them; neither calls the other for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verify_impl.h"

/* ---- fingerprints ---- */

/* Each field: a tag (0 none, 1 text, 2 a long text's own fingerprint) and
 * its length, then its bytes; so that no two lists of fields encode alike. */
uint64_t fingerprint(const table_check *t, const text_span *f, int n)
{
	enum { MAX_FIELDS = 8, LONG_TEXT = 200 };
	unsigned char buf[MAX_FIELDS * (5 + LONG_TEXT)];
	if (n > MAX_FIELDS)
		abort();
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		size_t len = f[i].p ? f[i].n : 0;
		unsigned char tag = f[i].p == NULL ? 0 : len > LONG_TEXT ? 2 : 1;
		unsigned char sub[8];
		if (tag == 2) {
			crypto_shorthash(sub, (const unsigned char *)f[i].p, len, t->key);
			len = sizeof sub;
		}
		buf[at++] = tag;
		for (int k = 0; k < 4; k++)
			buf[at++] = (unsigned char)(len >> (24 - 8 * k));
		if (tag)
			memcpy(buf + at, tag == 2 ? (const char *)sub : f[i].p, len);
		at += tag ? len : 0;
	}
	unsigned char out[8];
	crypto_shorthash(out, buf, at, t->key);
	uint64_t v;
	memcpy(&v, out, 8);
	return v;
}

uint64_t ident_fingerprint(const table_check *t, const text_span f[6], uint8_t flags)
{
	static const text_span none = { NULL, 0 };
	text_span g[6] = { f[0], f[1], f[2], none, none, none };
	if (flags & SUB_DIGEST)
		g[3] = f[3];
	if (flags & SUB_SUBMITTER)
		g[4] = f[4];
	if (flags & SUB_CONTENT)
		g[5] = f[5];
	return fingerprint(t, g, 6);
}

uint64_t decision_fingerprint(const table_check *t, const text_span f[4])
{
	return fingerprint(t, f, 4);
}

void shown(char *out, size_t len, const char *p, size_t n)
{
	size_t o = 0;
	if (p == NULL) {
		snprintf(out, len, "NULL");
		return;
	}
	for (size_t i = 0; i < n && o + 4 < len && i < 60; i++)
		out[o++] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
	if (n > 60 && o + 4 < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

bool expect_grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*v, n * size);
	if (p == NULL)
		return false;
	memset((char *)p + *cap * size, 0, (n - *cap) * size);
	*v = p;
	*cap = n;
	return true;
}

/* ---- reviewers and agents by name (compared lower-cased, as names are) ---- */

static size_t name_hash(const char *name)
{
	size_t h = 1469598103934665603u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ (size_t)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) * 1099511628211u;
	return h;
}

person *people_find(const people *p, const char *name)
{
	if (p->nslots == 0)
		return NULL;
	for (size_t i = name_hash(name) & (p->nslots - 1); p->slots[i]; i = (i + 1) & (p->nslots - 1))
		if (strcasecmp(p->v[p->slots[i] - 1].name, name) == 0)
			return &p->v[p->slots[i] - 1];
	return NULL;
}

static bool slots_put(people *p, size_t index)
{
	size_t i = name_hash(p->v[index].name) & (p->nslots - 1);
	while (p->slots[i])
		i = (i + 1) & (p->nslots - 1);
	p->slots[i] = index + 1;
	return true;
}

person *people_add(people *p, const char *name)
{
	if (!expect_grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v))
		return NULL;
	if (2 * (p->n + 1) > p->nslots) {
		size_t n = p->nslots ? 2 * p->nslots : 64;
		size_t *slots = calloc(n, sizeof *slots);
		if (slots == NULL)
			return NULL;
		free(p->slots);
		p->slots = slots;
		p->nslots = n;
		for (size_t k = 0; k < p->n; k++)
			slots_put(p, k);
	}
	person *x = &p->v[p->n];
	memset(x, 0, sizeof *x);
	x->name = strdup(name);
	if (x->name == NULL)
		return NULL;
	x->uid = -1;
	slots_put(p, p->n++);
	return x;
}

void people_free(people *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].login);
		free(p->v[i].actor);
	}
	free(p->v);
	free(p->slots);
}
