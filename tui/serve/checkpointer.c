/*
 * checkpointer.c: copying the log into the database off the writer's path.
 *
 * Every commit appends to SQLite's log (arbiter.db-wal) and syncs it; from
 * time to time the log's pages must be copied into the database and both
 * files synced (a checkpoint). Done by the committing thread, as a command
 * does, that copy and its syncs would stop every request behind one commit.
 * So the server's writer does not checkpoint (store_serving): a commit that
 * leaves the log at CHECKPOINT_PAGES or more wakes this thread, which
 * copies the log on a connection of its own while the writer goes on
 * committing (a passive checkpoint). Under steady load that copy never
 * ends whole, since commits came meanwhile, and the log would grow for
 * ever; so the writer itself then copies the few pages left, between two
 * rounds (checkpoint_finish), and its next transaction writes the log again
 * from its beginning. When no round comes (the load stopped), this thread
 * tries again itself until the copy is whole. The log file thus keeps its
 * size, and a commit's sync overwrites blocks the file already has, which
 * costs a file system less than making the file longer.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "serve.h"

enum {
	CHECKPOINT_PAGES = 4096,        /* 16 MiB of log */
	WRITER_CACHE_KIB = 8192,
	CHECKPOINTER_CACHE_KIB = 1024,
	RETRY_MIN_MS = 100,
	RETRY_MAX_MS = 5000,
};

/* The writer's log hook (on the writer's thread, after a commit). */
static void checkpoint_due(void *ctx)
{
	server *srv = ctx;
	pthread_mutex_lock(&srv->lock);
	srv->checkpoint_due = true;
	pthread_cond_signal(&srv->checkpoint_wake);
	pthread_mutex_unlock(&srv->lock);
}

/* Waits, under the lock, until a copy is due or the server stops. While a
 * copy is left for the writer to finish and no round comes to finish it (a
 * server gone quiet after a burst), this thread tries again itself after
 * *pause, which doubles with each try up to RETRY_MAX_MS (a reader's
 * snapshot that stopped the last copy short is soon gone, and the log must
 * not stay long; one that stays, or a copy that keeps failing, is tried
 * every few seconds, not ten times a second) and starts again at
 * RETRY_MIN_MS once a copy is whole. */
static void wait_due(server *srv, int64_t *pause)
{
	while (!srv->checkpoint_due && !srv->checkpoint_done) {
		if (!srv->checkpoint_finish) {
			*pause = RETRY_MIN_MS;
			pthread_cond_wait(&srv->checkpoint_wake, &srv->lock);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t ns = ts.tv_nsec + *pause * 1000000;
		ts.tv_sec += ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		if (pthread_cond_timedwait(&srv->checkpoint_wake, &srv->lock, &ts) == ETIMEDOUT &&
		    srv->checkpoint_finish) {
			srv->checkpoint_due = true;
			*pause = *pause * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : *pause * 2;
		}
	}
}

static void *checkpoint_main(void *arg)
{
	server *srv = arg;
	int64_t pause = RETRY_MIN_MS;
	pthread_mutex_lock(&srv->lock);
	for (;;) {
		wait_due(srv, &pause);
		if (srv->checkpoint_done)
			break;
		srv->checkpoint_due = false;
		pthread_mutex_unlock(&srv->lock);
		bool whole = false;
		if (!store_checkpoint(srv->checkpointer, &whole))
			err_printf("arbiter serve: %s\n", store_errmsg(srv->checkpointer));
		pthread_mutex_lock(&srv->lock);
		srv->checkpoint_finish = !whole;
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

void checkpoint_finish(server *srv)
{
	pthread_mutex_lock(&srv->lock);
	bool finish = srv->checkpoint_finish;
	srv->checkpoint_finish = false;
	pthread_mutex_unlock(&srv->lock);
	if (!finish)
		return;
	bool whole = false;
	if (!store_checkpoint(srv->writer, &whole))
		err_printf("arbiter serve: %s\n", store_errmsg(srv->writer));
	if (whole)
		return;
	pthread_mutex_lock(&srv->lock);         /* still short: the checkpointer tries again */
	srv->checkpoint_finish = true;
	pthread_cond_signal(&srv->checkpoint_wake);
	pthread_mutex_unlock(&srv->lock);
}

bool checkpointer_start(server *srv, char *err, size_t errlen)
{
	pthread_condattr_t ca;          /* the retries' pauses count monotonic time */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->checkpoint_wake, &ca);
	pthread_condattr_destroy(&ca);
	srv->checkpointer = store_open(srv->home, err, errlen);
	if (srv->checkpointer == NULL)
		return false;
	store_serving(srv->checkpointer, CHECKPOINTER_CACHE_KIB, 0, NULL, NULL);
	if (pthread_create(&srv->checkpoint_thread, NULL, checkpoint_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the checkpoint thread");
		store_close(srv->checkpointer);
		srv->checkpointer = NULL;
		return false;
	}
	store_serving(srv->writer, WRITER_CACHE_KIB, CHECKPOINT_PAGES, checkpoint_due, srv);
	return true;
}

void checkpointer_stop(server *srv)
{
	if (srv->checkpointer == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->checkpoint_done = true;
	pthread_cond_signal(&srv->checkpoint_wake);
	pthread_mutex_unlock(&srv->lock);
	pthread_join(srv->checkpoint_thread, NULL);
	store_close(srv->checkpointer);
	srv->checkpointer = NULL;
	pthread_cond_destroy(&srv->checkpoint_wake);
}
