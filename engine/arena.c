/*
 * arena.c: bump allocation for trees that die together.
 *
 * Documents, compiled policies and per-submission results are built from many
 * small pieces and freed at once, so each lives in an arena: a list of chunks
 * carved front to back. arena_reset keeps its chunks for reuse (up to
 * KEEP_BYTES; a big block's own chunk is freed), so an arena reused for
 * every submission, or every chunk of a stream, does not touch malloc in the
 * steady state: freeing and taking again blocks of 64 KiB costs more than
 * the work, as the allocator gives their pages back to the kernel and
 * faults them in again.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define CHUNK_SIZE (64 * 1024)
#define KEEP_BYTES (8 * 1024 * 1024)    /* the chunks a reset arena keeps */
#define ALIGN ARENA_ALIGN

struct chunk {
	struct chunk *next;
	size_t size;
	_Alignas(ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *p;
};

struct arena {
	struct arena_space space;       /* of head: first, as engine.h reads it */
	struct chunk *head;
	struct chunk *spare;    /* kept by arena_reset, taken before malloc */
	size_t spare_bytes;
	struct cleanup *cleanups;
};

static struct chunk *chunk_new(size_t size)
{
	struct chunk *c = size <= SIZE_MAX - sizeof *c ? malloc(sizeof *c + size) : NULL;
	if (c == NULL)
		abort();
	c->next = NULL;
	c->size = size;
	return c;
}

arena *arena_new(void)
{
	arena *a = malloc(sizeof *a);
	if (a == NULL)
		abort();
	a->head = chunk_new(CHUNK_SIZE);
	a->space = (struct arena_space){ a->head->data, a->head->data + CHUNK_SIZE };
	a->spare = NULL;
	a->spare_bytes = 0;
	a->cleanups = NULL;
	return a;
}

static void free_list(struct chunk *c)
{
	while (c != NULL) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
}

void arena_free(arena *a)
{
	if (a == NULL)
		return;
	for (struct cleanup *k = a->cleanups; k != NULL; k = k->next)
		k->fn(k->p);
	free_list(a->head);
	free_list(a->spare);
	free(a);
}

void arena_on_free(arena *a, void (*fn)(void *), void *p)
{
	struct cleanup *k = arena_alloc(a, sizeof *k);
	k->fn = fn;
	k->p = p;
	k->next = a->cleanups;
	a->cleanups = k;
}

void arena_reset(arena *a)
{
	for (struct cleanup *k = a->cleanups; k != NULL; k = k->next)
		k->fn(k->p);
	a->cleanups = NULL;
	/* one chunk of CHUNK_SIZE stays, the next to carve from; a big
	 * allocation's block of its own goes, wherever it sits in the list (one
	 * placed behind the first chunk used to stay as the head, holding its
	 * memory for as long as the arena lived); the other chunks are kept as
	 * spares up to KEEP_BYTES */
	struct chunk *keep = NULL;
	for (struct chunk *c = a->head, *next; c != NULL; c = next) {
		next = c->next;
		if (c->size != CHUNK_SIZE) {
			free(c);
		} else if (keep == NULL) {
			keep = c;
		} else if (a->spare_bytes < KEEP_BYTES) {
			c->next = a->spare;
			a->spare = c;
			a->spare_bytes += CHUNK_SIZE;
		} else {
			free(c);
		}
	}
	if (keep == NULL)
		keep = chunk_new(CHUNK_SIZE);  /* not reached: a chunk of that size stays */
	keep->next = NULL;
	a->head = keep;
	a->space = (struct arena_space){ keep->data, keep->data + CHUNK_SIZE };
}

/* The current chunk has less than size (aligned) left: a block of its own
 * for a big one, else the next chunk, a spare one first. */
void *arena_alloc_more(arena *a, size_t size)
{
	struct chunk *c = a->head;
	if (size > CHUNK_SIZE / 4) {
		struct chunk *n = chunk_new(size);
		if (a->space.next < a->space.end) {
			/* behind the current chunk, whose space is kept */
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			a->head = n;
			a->space = (struct arena_space){ n->data + size, n->data + size };
		}
		return n->data;
	}
	struct chunk *n;
	if (a->spare != NULL) {
		n = a->spare;
		a->spare = n->next;
		a->spare_bytes -= CHUNK_SIZE;
		n->next = NULL;
	} else {
		n = chunk_new(CHUNK_SIZE);
	}
	n->next = c;
	a->head = n;
	a->space = (struct arena_space){ n->data + size, n->data + CHUNK_SIZE };
	return n->data;
}

void *arena_grow(arena *a, void *items, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return items;
	size_t bigger = *cap ? *cap * 2 : first;
	if (bigger < n || (size != 0 && bigger > SIZE_MAX / size))
		abort();        /* more than memory holds */
	void *copy = arena_alloc(a, bigger * size);
	if (n > 0)
		memcpy(copy, items, n * size);
	*cap = bigger;
	return copy;
}
