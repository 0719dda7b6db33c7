/*
 * audit_full.c: checking every event's signature on every core, for
 * audit verify --full.
 *
 * An Ed25519 check costs some twenty times what reading a row and hashing
 * it does, so one thread reads the chain (audit.c recomputes each hash in
 * order, as plain verify does) and hands the events over in batches to one
 * worker per online CPU, which check each signature with the key in force
 * at its seq. SQLite is read by that one thread only, through one
 * connection: the workers touch nothing but memory. The queue is bounded
 * (a few batches per worker), so memory does not grow with the log; when it
 * is full the reader checks a batch itself instead of waiting, so that no
 * core idles while another could read. Signatures are checked out of order;
 * the pool keeps the least seq that failed.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

/* The queue holds up to QUEUED_PER_WORKER batches a worker (64 K
 * signatures, 7 MB, with two): enough to keep the workers busy while the
 * reader, its chain read, reads the tables (verify_chain), a few seconds
 * at a million events. */
enum { BATCH = 512, QUEUED_PER_WORKER = 64, MAX_WORKERS = 256 };

typedef struct sig_item {
	int64_t seq;
	unsigned char hash[32], sig[64];
	bool malformed;                 /* the sig column is not 64 bytes of hex */
} sig_item;

typedef struct batch {
	struct batch *next;
	size_t n;
	sig_item items[BATCH];
} batch;

struct sig_pool {
	const keyring *ring;
	pthread_t threads[MAX_WORKERS];
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t work;
	batch *head, *tail;             /* queued, oldest first */
	size_t queued, max_queued;
	batch *spare;                   /* checked, to be filled again */
	batch *filling;                 /* the reader's */
	bool done;
	int64_t first_bad;              /* 0: none yet */
};

/* The least failing seq of b (0: none). */
static int64_t check_batch(const keyring *ring, const batch *b)
{
	const ring_key *k = NULL;
	int64_t until = 0;              /* k is in force below this seq (0: to the end) */
	for (size_t i = 0; i < b->n; i++) {
		const sig_item *it = &b->items[i];
		if (k == NULL || it->seq < k->from || (until != 0 && it->seq >= until)) {
			k = keyring_at(ring, it->seq);
			size_t at = (size_t)(k - ring->keys);
			until = at + 1 < ring->n ? ring->keys[at + 1].from : 0;
		}
		if (it->malformed || crypto_sign_verify_detached(it->sig, it->hash, 32, k->pk) != 0)
			return it->seq;         /* a batch is in seq order: the first is the least */
	}
	return 0;
}

/* With the lock held: records b's result and keeps b for reuse. */
static void checked(sig_pool *p, batch *b, int64_t bad)
{
	if (bad != 0 && (p->first_bad == 0 || bad < p->first_bad))
		p->first_bad = bad;
	b->n = 0;
	b->next = p->spare;
	p->spare = b;
}

/* With the lock held: the oldest queued batch, or NULL. */
static batch *take(sig_pool *p)
{
	batch *b = p->head;
	if (b != NULL) {
		p->head = b->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
	}
	return b;
}

static void *work(void *arg)
{
	sig_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		batch *b;
		while ((b = take(p)) == NULL && !p->done)
			pthread_cond_wait(&p->work, &p->mu);
		if (b == NULL)
			break;
		pthread_mutex_unlock(&p->mu);
		int64_t bad = check_batch(p->ring, b);
		pthread_mutex_lock(&p->mu);
		checked(p, b, bad);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static batch *new_batch(void)
{
	batch *b = malloc(sizeof *b);
	if (b == NULL)
		abort();
	b->n = 0;
	b->next = NULL;
	return b;
}

sig_pool *sig_pool_start(const keyring *ring, int threads)
{
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	if (threads > MAX_WORKERS)
		threads = MAX_WORKERS;
	sig_pool *p = calloc(1, sizeof *p);
	if (p == NULL)
		abort();
	p->ring = ring;
	p->max_queued = (size_t)threads * QUEUED_PER_WORKER;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	p->filling = new_batch();
	/* with no worker, the reader checks every batch itself (queue full) */
	for (int i = 0; i < threads; i++)
		if (pthread_create(&p->threads[p->nthreads], NULL, work, p) == 0)
			p->nthreads++;
	if (p->nthreads == 0)
		p->max_queued = 0;
	return p;
}

/* Queues the reader's full batch; while the queue is full, the reader
 * checks the oldest one itself. */
static void submit(sig_pool *p)
{
	batch *b = p->filling;
	pthread_mutex_lock(&p->mu);
	while (p->queued >= p->max_queued) {
		batch *mine = p->max_queued == 0 ? b : take(p);
		pthread_mutex_unlock(&p->mu);
		int64_t bad = check_batch(p->ring, mine);
		pthread_mutex_lock(&p->mu);
		checked(p, mine, bad);
		if (mine == b) {
			b = NULL;
			break;
		}
	}
	if (b != NULL) {
		if (p->tail != NULL)
			p->tail->next = b;
		else
			p->head = b;
		p->tail = b;
		p->queued++;
		pthread_cond_signal(&p->work);
	}
	batch *next = p->spare;
	if (next != NULL)
		p->spare = next->next;
	pthread_mutex_unlock(&p->mu);
	p->filling = next != NULL ? next : new_batch();
	p->filling->n = 0;
	p->filling->next = NULL;
}

void sig_pool_add(sig_pool *p, int64_t seq, const unsigned char hash[32], const char *sighex)
{
	sig_item *it = &p->filling->items[p->filling->n++];
	it->seq = seq;
	memcpy(it->hash, hash, 32);
	it->malformed = sighex == NULL || strlen(sighex) != 128 ||
	    sodium_hex2bin(it->sig, 64, sighex, 128, NULL, NULL, NULL) != 0;
	if (p->filling->n == BATCH)
		submit(p);
}

int64_t sig_pool_finish(sig_pool *p)
{
	if (p->filling->n > 0)
		submit(p);
	pthread_mutex_lock(&p->mu);
	p->done = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* with no worker, everything was checked in submit */
	int64_t bad = p->first_bad;
	free(p->filling);
	while (p->spare != NULL) {
		batch *b = p->spare;
		p->spare = b->next;
		free(b);
	}
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return bad;
}
