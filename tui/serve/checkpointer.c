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
 * from its beginning. The log file thus keeps its size, and a commit's sync
 * overwrites blocks the file already has, which costs a file system less
 * than making the file longer.
 */
#include <stdio.h>

#include "serve.h"

enum {
	CHECKPOINT_PAGES = 4096,        /* 16 MiB of log */
	WRITER_CACHE_KIB = 8192,
	CHECKPOINTER_CACHE_KIB = 1024,
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

static void *checkpoint_main(void *arg)
{
	server *srv = arg;
	pthread_mutex_lock(&srv->lock);
	for (;;) {
		while (!srv->checkpoint_due && !srv->checkpoint_done)
			pthread_cond_wait(&srv->checkpoint_wake, &srv->lock);
		if (srv->checkpoint_done)
			break;
		srv->checkpoint_due = false;
		pthread_mutex_unlock(&srv->lock);
		bool whole = false;
		if (!store_checkpoint(srv->checkpointer, &whole))
			err_printf("arbiter serve: %s\n", store_errmsg(srv->checkpointer));
		pthread_mutex_lock(&srv->lock);
		if (!whole)
			srv->checkpoint_finish = true;
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
	bool whole;
	if (finish && !store_checkpoint(srv->writer, &whole))
		err_printf("arbiter serve: %s\n", store_errmsg(srv->writer));
}

bool checkpointer_start(server *srv, char *err, size_t errlen)
{
	pthread_cond_init(&srv->checkpoint_wake, NULL);
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
