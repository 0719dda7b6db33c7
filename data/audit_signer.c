/*
 * audit_signer.c: signing audit events on a second thread, for bulk writes.
 *
 * An Ed25519 signature costs more than storing the event, so a command that
 * writes many events in one transaction (submit of a batch, store_bulk)
 * hands each event's hash to a signing thread and keeps the event in memory.
 * The hash chain is still computed in order on the writing thread; only the
 * signatures run alongside. The kept events are the transaction's slot
 * KEEP_SIGNED_EVENTS (store_keep): before it commits, they wait for their
 * signatures and are inserted in order, through the writer audit.c gave
 * (audit_insert), so each event still commits with its change, or rolls
 * back with it: a rollback, or a new transaction, drops the events kept.
 * The thread lives as long as the connection (store_on_close).
 *
 * The signer takes events from the front (`next`) and writes only their
 * sig; the writer adds events at `count` and grows the array under the
 * lock, and reads the events back once all are signed. At the commit the
 * writer would only wait for the signer, so it signs too, from the back
 * (`stolen` events below `count`), until the two meet: a transaction's
 * events are signed by both threads when the signer has fallen behind.
 *
 * Once every event is signed the writer goes on alone (inserting them,
 * then the commit writes and syncs the log): store_on_signed tells its
 * caller, who may give the idle cores work of its own meanwhile.
 *
 * The events written stay in memory until the next transaction begins,
 * and once their transaction has committed (store_on_settle) they are
 * what audit_signer_committed answers with: a server puts each stored
 * submission's signed event in its answer (evidence_store.c), and reads it
 * here instead of back from the table.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

enum { WAKE_AFTER = 32 };     /* events kept before the signer is woken */

typedef struct kept_event {
	int64_t seq;
	const char *ts, *actor, *event, *subject, *details;     /* in the arena */
	unsigned char prev[32], hash[32], sig[64];
} kept_event;

typedef struct audit_signer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, signed_all;
	const unsigned char *sk;
	kept_event *events;
	size_t count, cap;
	size_t next;            /* the first event nobody has taken to sign */
	size_t stolen;          /* events below count taken by the writer at commit */
	size_t signed_n;        /* signatures made */
	bool stop;
	size_t written;         /* events the last flush wrote, kept (events[0..written)) */
	bool committed;         /* ... whose transaction then committed */
	arena *strings;
	audit_writer write;
} audit_signer;

/* Signs event i, taken under the lock, and records it (the lock is held
 * on entry and on return; the array may grow meanwhile). */
static void sign_one(audit_signer *g, size_t i)
{
	unsigned char hash[32], sig[64];
	memcpy(hash, g->events[i].hash, 32);
	pthread_mutex_unlock(&g->mu);
	crypto_sign_detached(sig, NULL, hash, 32, g->sk);
	pthread_mutex_lock(&g->mu);
	memcpy(g->events[i].sig, sig, 64);
	if (++g->signed_n == g->count)
		pthread_cond_signal(&g->signed_all);
}

/* Whether an event is left for someone to take. */
static bool untaken(const audit_signer *g)
{
	return g->next + g->stolen < g->count;
}

static void *sign_loop(void *ctx)
{
	audit_signer *g = ctx;
	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!untaken(g) && !g->stop)
			pthread_cond_wait(&g->work, &g->mu);
		if (!untaken(g))
			break;
		sign_one(g, g->next++);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void stop(store *s, void *ctx);
static void settle(store *s, bool committed);

bool audit_signer_start(store *s, audit_writer write)
{
	if (s->signer != NULL)
		return true;
	if (!s->have_sk && !store_load_signing_key(s))
		return false;
	audit_signer *g = calloc(1, sizeof *g);
	if (g == NULL)
		abort();
	g->sk = s->sk;
	g->write = write;
	g->strings = arena_new();
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_cond_init(&g->signed_all, NULL);
	if (pthread_create(&g->thread, NULL, sign_loop, g) != 0) {
		snprintf(s->err, sizeof s->err, "cannot start the signing thread");
		arena_free(g->strings);
		free(g);
		return false;
	}
	s->signer = g;
	store_on_close(s, stop, g);
	store_on_settle(s, settle);
	return true;
}

/* Lets the signature being made, if any, finish, and leaves the signer
 * nothing to take until the next add (the events stay in the array). */
static void leave_nothing_to_sign(audit_signer *g)
{
	pthread_mutex_lock(&g->mu);
	g->count = g->next + g->stolen;         /* nothing more to take */
	while (g->signed_n < g->count)
		pthread_cond_wait(&g->signed_all, &g->mu);
	g->count = g->next = g->stolen = g->signed_n = 0;
	pthread_mutex_unlock(&g->mu);
}

/* Drops the events kept and not yet written; the signer finishes the
 * signature it is making, if any, before they go. */
static void drop_all(audit_signer *g)
{
	leave_nothing_to_sign(g);
	arena_reset(g->strings);
	g->written = 0;
	g->committed = false;
}

/* The events of an earlier transaction, no longer needed. */
static void forget_written(audit_signer *g)
{
	if (g->written == 0)
		return;
	g->written = 0;
	g->committed = false;
	arena_reset(g->strings);
}

static void settle(store *s, bool committed)
{
	audit_signer *g = s->signer;
	if (g == NULL)
		return;
	if (committed)
		g->committed = g->written > 0;
	else
		forget_written(g);
}

static void drop(store *s, void *ctx)
{
	(void)s;
	drop_all(ctx);
}

/* At close: the signer finishes what it was given, then its thread ends. */
static void stop(store *s, void *ctx)
{
	audit_signer *g = ctx;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->work);
	pthread_cond_destroy(&g->signed_all);
	pthread_mutex_destroy(&g->mu);
	arena_free(g->strings);
	free(g->events);
	free(g);
	s->signer = NULL;
}

/* At commit: signs alongside the signer until every event is taken, waits
 * for the last signatures, and writes the kept events in order. */
static bool flush(store *s, void *ctx)
{
	audit_signer *g = ctx;
	pthread_mutex_lock(&g->mu);
	pthread_cond_signal(&g->work);
	while (untaken(g))
		sign_one(g, g->count - ++g->stolen);
	while (g->signed_n < g->count)
		pthread_cond_wait(&g->signed_all, &g->mu);
	size_t n = g->count;
	pthread_mutex_unlock(&g->mu);
	if (s->signed_fn != NULL)
		s->signed_fn(s->signed_ctx, true);      /* the rest is the writer's alone */
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		kept_event *e = &g->events[i];
		ok = g->write(s, e->seq, e->ts, e->actor, e->event, e->subject, e->details, e->prev,
		    e->hash, e->sig);
	}
	if (!ok) {
		drop_all(g);
		return false;
	}
	leave_nothing_to_sign(g);       /* all signed already: no wait */
	g->written = n;
	g->committed = false;
	return true;
}

bool audit_signer_committed(const store *s, int64_t seq, audit_event *e)
{
	const audit_signer *g = s->signer;
	if (g == NULL || !g->committed)
		return false;
	size_t lo = 0, hi = g->written;         /* the events are in seq order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->events[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == g->written || g->events[lo].seq != seq)
		return false;
	const kept_event *k = &g->events[lo];
	memset(e, 0, sizeof *e);
	e->seq = k->seq;
	snprintf(e->ts, sizeof e->ts, "%s", k->ts);
	e->actor = k->actor;
	e->event = k->event;
	e->subject = k->subject;
	e->details = k->details;
	public_hex(e->prev, k->prev, 32);
	public_hex(e->hash, k->hash, 32);
	public_hex(e->sig, k->sig, 64);
	return true;
}

static const store_keeper keeper = { flush, drop };

void audit_signer_add(store *s, int64_t seq, const char *ts, const char *actor,
    const char *event, const char *subject, const char *details, const unsigned char prev[32],
    const unsigned char hash[32])
{
	audit_signer *g = s->signer;
	forget_written(g);      /* an earlier transaction's; count is 0 then */
	pthread_mutex_lock(&g->mu);
	if (g->count == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 1024;
		g->events = realloc(g->events, g->cap * sizeof *g->events);
		if (g->events == NULL)
			abort();
	}
	kept_event *e = &g->events[g->count];
	pthread_mutex_unlock(&g->mu);
	store_keep(s, KEEP_SIGNED_EVENTS, &keeper, g);
	/* the signer reads only events below count: this one is the writer's */
	e->seq = seq;
	e->ts = arena_strdup(g->strings, ts);
	e->actor = arena_strdup(g->strings, actor);
	e->event = arena_strdup(g->strings, event);
	e->subject = arena_strdup(g->strings, subject);
	e->details = arena_strdup(g->strings, details);
	memcpy(e->prev, prev, 32);
	memcpy(e->hash, hash, 32);
	pthread_mutex_lock(&g->mu);
	/* woken for a run of events, not for each one; a server's, whose
	 * transactions hold a few events each, as soon as a second one waits,
	 * so that the signatures are made while the next documents are stored
	 * (a transaction of one event is signed at its commit by the writer,
	 * which saves handing it to another thread and back) */
	if (++g->count - g->next == (s->sign_at_once ? 2 : WAKE_AFTER))
		pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->mu);
}
