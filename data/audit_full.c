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
 * (a few batches per worker), so memory does not grow with the log.
 *
 * The reader has work of its own that no worker can take: the chain, then
 * the tables, which it checks once the chain is read (verify_tables.c),
 * some five seconds at a million events. So while it reads the chain, a
 * batch that finds the queue full is not checked by the reader: its seqs
 * are set aside (deferred), and the reader goes on; but only as many as the
 * other cores check while the reader reads the tables, twice over (an
 * eighth of the events per worker past the first: the tables take the
 * reader about a sixteenth of a check per event), since reading an event
 * again costs about a microsecond, two percent of its check: past that
 * share the reader checks the oldest queued batch itself, as a core would
 * that had nothing else to do, and queues its own. While it reads the
 * tables, it tops the queue up every few hundred rows (sig_pool_refill)
 * with deferred events, read again by seq, their hash and sig: the chain's
 * pass found that hash equal to the one it recomputed, in the same snapshot.
 * At the end (sig_pool_finish) the reader reads what is still deferred and
 * checks batches beside the workers whenever the queue is full. Every core
 * thus has signatures to check from the first event to the last; reading an
 * event's hash and sig twice costs about a microsecond. Signatures are
 * checked out of order; the pool keeps the least seq that failed.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

/* The queue holds up to QUEUED_PER_WORKER batches a worker (16 K
 * signatures, 1.8 MB, with two), a few hundred milliseconds of checking:
 * the reader tops it up far more often than that. */
enum { BATCH = 512, QUEUED_PER_WORKER = 16, MAX_WORKERS = 256, EIGHTHS = 8 };

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

/* Events whose signatures wait to be read again: seqs from..to. */
typedef struct seq_range {
	int64_t from, to;
} seq_range;

struct sig_pool {
	const keyring *ring;
	store *s;                       /* read again from (deferred events) */
	sqlite3_stmt *again;
	bool deferring;                 /* the chain's batches may be set aside (until finish) */
	bool read_failed;
	seq_range *deferred;            /* in seq order */
	size_t ndeferred, capdeferred, next_deferred;
	int64_t set_aside;              /* events deferred in all */
	int64_t added;                  /* events handed over (sig_pool_add) */
	int aside_eighths;              /* set aside at most this share of added */
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

sig_pool *sig_pool_start(store *s, const keyring *ring, int threads, int queued_per_worker,
    int aside_eighths)
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
	p->s = s;
	p->max_queued = (size_t)threads * (size_t)(queued_per_worker > 0 ? queued_per_worker :
	    QUEUED_PER_WORKER);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	p->filling = new_batch();
	/* with no worker, the reader checks every batch itself (queue full) */
	for (int i = 0; i < threads; i++)
		if (pthread_create(&p->threads[p->nthreads], NULL, work, p) == 0)
			p->nthreads++;
	if (p->nthreads == 0)
		p->max_queued = 0;
	/* without workers, or a store to read again, nothing is set aside */
	p->deferring = p->nthreads > 0 && s != NULL;
	p->aside_eighths = aside_eighths >= 0 ? aside_eighths : p->nthreads - 1;
	if (p->aside_eighths > EIGHTHS)
		p->aside_eighths = EIGHTHS;
	return p;
}

/* Sets the seqs of b aside, to be read again (b is consecutive seqs). */
static void defer(sig_pool *p, const batch *b)
{
	int64_t from = b->items[0].seq, to = b->items[b->n - 1].seq;
	p->set_aside += to - from + 1;
	if (p->ndeferred > 0 && p->deferred[p->ndeferred - 1].to + 1 == from) {
		p->deferred[p->ndeferred - 1].to = to;
		return;
	}
	if (p->ndeferred == p->capdeferred) {
		p->capdeferred = p->capdeferred ? 2 * p->capdeferred : 64;
		p->deferred = realloc(p->deferred, p->capdeferred * sizeof *p->deferred);
		if (p->deferred == NULL)
			abort();
	}
	p->deferred[p->ndeferred++] = (seq_range){ from, to };
}

/* Queues the reader's batch. While the queue is full, a batch of the
 * chain's pass (may_defer) is set aside, within the share; otherwise the
 * reader checks the oldest one itself: an event read again is never set
 * aside twice. */
static void submit(sig_pool *p, bool may_defer)
{
	batch *b = p->filling;
	may_defer = may_defer && p->set_aside < p->added * p->aside_eighths / EIGHTHS;
	pthread_mutex_lock(&p->mu);
	if (may_defer && p->queued >= p->max_queued) {
		pthread_mutex_unlock(&p->mu);
		defer(p, b);
		b->n = 0;
		return;
	}
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

/* Adds event seq (its hash, its sig column) to the reader's batch. */
static void fill(sig_pool *p, int64_t seq, const unsigned char hash[32], const char *sighex)
{
	sig_item *it = &p->filling->items[p->filling->n++];
	it->seq = seq;
	memcpy(it->hash, hash, 32);
	it->malformed = sighex == NULL || strlen(sighex) != 128 || !public_unhex(it->sig, sighex, 64);
}

/* Reads the next deferred batch again into the reader's batch and queues
 * it; false when nothing is deferred or the read fails (read_failed). */
static bool read_deferred(sig_pool *p)
{
	if (p->filling->n > 0)
		submit(p, p->deferring);        /* the chain's last batch, not full */
	if (p->read_failed || p->next_deferred == p->ndeferred)
		return false;
	seq_range *r = &p->deferred[p->next_deferred];
	int64_t to = r->to - r->from < BATCH ? r->to : r->from + BATCH - 1;
	if (p->again == NULL && sqlite3_prepare_v2(p->s->db, "SELECT seq, hash, sig FROM audit "
	    "WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq", -1, &p->again, NULL) != SQLITE_OK) {
		p->read_failed = true;
		return false;
	}
	sqlite3_bind_int64(p->again, 1, r->from);
	sqlite3_bind_int64(p->again, 2, to);
	int64_t want = r->from;
	int rc;
	while ((rc = sqlite3_step(p->again)) == SQLITE_ROW) {
		unsigned char hash[32];
		/* the same snapshot as the chain's pass, which read these rows */
		if (sqlite3_column_int64(p->again, 0) != want ||
		    !audit_hex32((const char *)sqlite3_column_text(p->again, 1), hash))
			break;
		fill(p, want++, hash, (const char *)sqlite3_column_text(p->again, 2));
	}
	sqlite3_reset(p->again);
	if (want != to + 1) {
		p->read_failed = true;
		p->filling->n = 0;
		return false;
	}
	if (to == r->to)
		p->next_deferred++;
	else
		r->from = to + 1;
	submit(p, false);
	return true;
}

void sig_pool_refill(sig_pool *p)
{
	for (;;) {
		pthread_mutex_lock(&p->mu);
		bool room = p->queued < p->max_queued;
		pthread_mutex_unlock(&p->mu);
		if (!room || !read_deferred(p))
			return;
	}
}

void sig_pool_add(sig_pool *p, int64_t seq, const unsigned char hash[32], const char *sighex)
{
	fill(p, seq, hash, sighex);
	p->added++;
	if (p->filling->n == BATCH)
		submit(p, p->deferring);
}

int64_t sig_pool_set_aside(const sig_pool *p)
{
	return p->set_aside;
}

int64_t sig_pool_finish(sig_pool *p, bool *read_ok)
{
	/* what is still deferred: the reader checks beside the workers */
	p->deferring = false;
	while (read_deferred(p))
		;
	*read_ok = !p->read_failed;
	sqlite3_finalize(p->again);
	free(p->deferred);
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
