/*
 * log_copier.c: copying the log into the database off the writer's path.
 *
 * Every commit appends to SQLite's log (arbiter.db-wal); from time to time
 * the log's pages must be copied into the database and both files synced
 * (a checkpoint). Done by the committing thread, as SQLite does by
 * default, that copy stops the writer behind it: a third of a bulk
 * submit's writing, every request behind one commit of a server. So a
 * writer that copies its log aside (store_copy_log_aside) does not
 * checkpoint at commit: a commit that leaves the log at wake_pages or
 * more wakes this file's thread, which copies the log on a connection of
 * its own while the writer goes on (a passive checkpoint).
 *
 * That copy can only reach what the writer had committed when its open
 * transaction began, and SQLite writes the log again from its beginning
 * only when a transaction begins with the whole log copied. A writer that
 * goes on at once (a server under load, a bulk submit) never begins one
 * so, and its log would grow for ever; so the writer itself copies the
 * few pages left, between two transactions (store_log_finish): when the
 * last copy aside ended short (commits came meanwhile), and, with
 * finish_pages, whenever the log has reached finish_pages. When no
 * transaction comes to finish it (the load stopped), this thread tries
 * again itself until the copy is whole. The log file thus keeps its size,
 * and a commit's sync overwrites blocks the file already has, which costs
 * a file system less than making the file longer.
 *
 * A server's writer copies its log aside from its start. A bulk writer
 * (store_bulk, here) does once its log first reaches BULK_WAKE_PAGES, and
 * finishes the copies itself at BULK_FINISH_PAGES (store_commit calls its
 * s->committed after each commit).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store_impl.h"

enum {
	COPIER_CACHE_KIB = 1024,
	BULK_WAKE_PAGES = 4096,         /* 16 MiB of log */
	BULK_FINISH_PAGES = 16384,      /* 64 MiB */
	RETRY_MIN_MS = 100,
	RETRY_MAX_MS = 5000,
};

struct log_copier {
	store *writer;
	store *conn;                    /* the thread's own connection */
	int wake_pages, finish_pages;
	void (*report)(void *ctx, const char *msg);
	void *report_ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	bool due, done;
	bool finish;                    /* the last copy ended short: the writer copies the rest */
};

static void report(log_copier *c, store *s)
{
	if (c->report != NULL)
		c->report(c->report_ctx, store_errmsg(s));
}

/* The writer's log hook (on the writer's thread, after a commit). */
static int log_grew(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	log_copier *c = ctx;
	c->writer->log_frames = frames;
	if (frames >= c->wake_pages) {
		pthread_mutex_lock(&c->lock);
		c->due = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

/* Waits, under the lock, until a copy is due or the copier stops. While a
 * copy is left for the writer to finish and no transaction comes to finish
 * it (a writer gone quiet after a burst), this thread tries again itself
 * after *pause, which doubles with each try up to RETRY_MAX_MS (a reader's
 * snapshot that stopped the last copy short is soon gone, and the log must
 * not stay long; one that stays, or a copy that keeps failing, is tried
 * every few seconds, not ten times a second) and starts again at
 * RETRY_MIN_MS once a copy is whole. */
static void wait_due(log_copier *c, int64_t *pause)
{
	while (!c->due && !c->done) {
		if (!c->finish) {
			*pause = RETRY_MIN_MS;
			pthread_cond_wait(&c->wake, &c->lock);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t ns = ts.tv_nsec + *pause * 1000000;
		ts.tv_sec += ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		if (pthread_cond_timedwait(&c->wake, &c->lock, &ts) == ETIMEDOUT && c->finish) {
			c->due = true;
			*pause = *pause * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : *pause * 2;
		}
	}
}

static void *copier_main(void *arg)
{
	log_copier *c = arg;
	int64_t pause = RETRY_MIN_MS;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		wait_due(c, &pause);
		if (c->done)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->lock);
		bool whole = false;
		if (!store_checkpoint(c->conn, &whole))
			report(c, c->conn);
		pthread_mutex_lock(&c->lock);
		c->finish = !whole;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void copier_stop(store *s, void *ctx)
{
	log_copier *c = ctx;
	sqlite3_wal_hook(s->db, NULL, NULL);    /* the hook's context goes below */
	s->committed = NULL;                    /* and no commit starts another */
	pthread_mutex_lock(&c->lock);
	c->done = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	store_close(c->conn);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	s->copier = NULL;
	free(c);
}

bool store_copy_log_aside(store *s, int wake_pages, int finish_pages,
    void (*report_fn)(void *ctx, const char *msg), void *ctx, char *err, size_t errlen)
{
	if (s->remote != NULL || s->copier != NULL)
		return true;
	log_copier *c = calloc(1, sizeof *c);
	if (c == NULL)
		abort();
	c->writer = s;
	c->wake_pages = wake_pages;
	c->finish_pages = finish_pages;
	c->report = report_fn;
	c->report_ctx = ctx;
	c->conn = store_open(s->dir, err, errlen);
	if (c->conn == NULL) {
		free(c);
		return false;
	}
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d;", COPIER_CACHE_KIB);
	sqlite3_exec(c->conn->db, sql, NULL, NULL, NULL);
	pthread_condattr_t ca;          /* the retries' pauses count monotonic time */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&c->lock, NULL);
	/* the thread takes none of the process's signals (a server waits for
	 * its own in sigwait, and a signal taken here would end it outright) */
	sigset_t all, before;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &before);
	int started = pthread_create(&c->thread, NULL, copier_main, c);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (started != 0) {
		snprintf(err, errlen, "cannot start the thread that copies the log");
		store_close(c->conn);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return false;
	}
	s->copier = c;
	store_on_close(s, copier_stop, c);
	sqlite3_wal_hook(s->db, log_grew, c);
	return true;
}

void store_log_finish(store *s)
{
	log_copier *c = s->copier;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	bool finish = c->finish || (c->finish_pages > 0 && s->log_frames >= c->finish_pages);
	c->finish = false;
	pthread_mutex_unlock(&c->lock);
	if (!finish)
		return;
	bool whole = false;
	if (!store_checkpoint(s, &whole))
		report(c, s);
	if (whole) {
		s->log_frames = 0;
		return;
	}
	pthread_mutex_lock(&c->lock);         /* still short: the copier tries again */
	c->finish = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

/* A bulk writer's log hook until its copier starts: the log's length. */
static int bulk_log_grew(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	store *s = ctx;
	s->log_frames = frames;
	return SQLITE_OK;
}

/* After each commit of a bulk writer (store_commit): a log long enough to
 * copy starts the copier, the first time (a submit of one document never
 * does, nor pays its connection); a copier started so is finished here.
 * One that cannot start leaves the writer checkpointing itself, as SQLite
 * would. */
static void bulk_committed(store *s)
{
	if (s->copier != NULL) {
		if (s->copier->finish_pages > 0)
			store_log_finish(s);
		return;
	}
	if (s->log_frames < BULK_WAKE_PAGES)
		return;
	char err[512];
	if (!s->copier_failed && store_copy_log_aside(s, BULK_WAKE_PAGES, BULK_FINISH_PAGES, NULL,
	    NULL, err, sizeof err)) {
		log_grew(s->copier, s->db, "main", s->log_frames);
		return;
	}
	s->copier_failed = true;
	bool whole;
	if (s->log_frames >= BULK_FINISH_PAGES && store_checkpoint(s, &whole) && whole)
		s->log_frames = 0;
}

/* Many submissions in a row: a checkpoint syncs the log and the database,
 * and truncating the log at each one makes the file system allocate it
 * anew, so while bulk writing the log is copied aside (by the copier from
 * 16 MiB on, by the writer at 64 MiB) and kept at its size; store_close
 * truncates it again.
 * The writers read s->bulk too (audit.c then signs on a second thread). */
void store_bulk(store *s)
{
	if (s->remote != NULL)
		return;         /* the server's writer commits in groups of its own */
	s->bulk_log = sqlite3_exec(s->db, "PRAGMA cache_size = -16384; PRAGMA journal_size_limit = -1;",
	    NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_wal_hook(s->db, bulk_log_grew, s);
	s->committed = bulk_committed;
	s->bulk = true;
}
