/*
 * store.c: the connection to a store's database, and its transactions.
 *
 * Writers take SQLite's write lock at BEGIN (BEGIN IMMEDIATE), before they
 * read anything, so that two processes appending audit events never read the
 * same chain head: the chain stays linear under concurrency. A busy handler
 * and a bounded retry of BEGIN keep "database is locked" from reaching users.
 *
 * This is the floor of data/: of data/ it calls only the schema, the key
 * files (keys.c, and keys_settle.c, which at open puts into place or
 * discards what an interrupted rotation of the key left), the time formats
 * (times.c) and the check that the store's files are its owner's alone
 * (modes.c), which every opener passes first. What
 * the files above keep in memory for a transaction and write at its commit
 * (counts, quota sums, audit events signed alongside) they register here,
 * each in its slot (store_keep); the transaction code runs the slots
 * without knowing what they hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

bool store_fail(store *s, const char *what)
{
	snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
	return false;
}

bool store_path(char *out, size_t n, const char *dir, const char *name, char *err, size_t errlen)
{
	int len = snprintf(out, n, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= n) {
		snprintf(err, errlen, "path too long: %.64s.../%s", dir, name);
		return false;
	}
	return true;
}

/* Waiting for the write lock: SQLite's own busy timeout sleeps up to 100 ms
 * between tries, and a busy writer (submit commits a batch, then takes the
 * lock again at once) may hold it nearly all the time, so a waiter could miss
 * every short gap. Trying every 0.2 to 1 ms finds them; up to about 10 s. */
static int busy_wait(void *ctx, int tries)
{
	(void)ctx;
	if (tries >= 16000)
		return 0;
	usleep(200 + (useconds_t)randombytes_uniform(800));
	return 1;
}

/* WAL with synchronous FULL: a commit appends to the log and syncs it, so a
 * submission is durable before it is reported stored. A process leaves a
 * small log behind for the next one to read back (store_close); the log
 * file is kept between processes (no file made and removed per command) and
 * truncated at each checkpoint. A 64 MiB page cache holds a whole batch of
 * submit without spilling; temporary data stays in memory. */
/* Each connection is used by one thread at a time (the threads of a bulk
 * submit never touch SQLite), so it needs no mutex of its own; and arbiter
 * reads no memory statistics, whose upkeep takes a global lock per malloc.
 * Both must be chosen before SQLite's first use. */
static int open_db(const char *path, int flags, sqlite3 **db)
{
	static bool configured;
	if (!configured) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = true;
	}
	return sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, store_vfs_name());
}

static bool configure(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;
	sqlite3_busy_handler(db, busy_wait, NULL);
	int persist = 1;
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
	    "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; "
	    "PRAGMA journal_size_limit = 0;",
	    NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure the database: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return false;
	}
	return true;
}

/* The database file is made here, 0600 whatever the umask, before SQLite
 * opens it: SQLite gives the log and its index (-wal, -shm) the database
 * file's mode whichever process creates them, so they are 0600 too. */
bool store_create_db(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	sqlite3 *db;
	if (open_db(path, SQLITE_OPEN_READWRITE, &db) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return false;
	}
	unsigned char raw[16];
	char id[33];
	randombytes_buf(raw, sizeof raw);
	public_hex(id, raw, sizeof raw);
	char sql[256];
	snprintf(sql, sizeof sql, "INSERT INTO meta VALUES ('store_id', '%s');", id);
	char *msg = NULL;
	bool ok = configure(db, err, errlen) && schema_create(db, err, errlen);
	if (ok && sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot initialise %s: %s", path, msg);
		sqlite3_free(msg);
		ok = false;
	}
	sqlite3_close(db);
	return ok;
}

store *store_open(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], pub[PATH_MAX];
	if (!store_path(path, sizeof path, dir, "arbiter.db", err, errlen) ||
	    !store_path(pub, sizeof pub, dir, "keys/audit.pub", err, errlen))
		return NULL;
	if (!store_private(dir, err, errlen))
		return NULL;
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "%s: no database (is %s an arbiter store? create one with arbiter init)",
		    path, dir);
		return NULL;
	}
	store *s = calloc(1, sizeof *s);
	if (s == NULL)
		abort();
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	char why[512] = "";
	if (open_db(path, SQLITE_OPEN_READWRITE, &s->db) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
	} else if (!configure(s->db, why, sizeof why) || !schema_migrate(s->db, dir, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
	} else {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'store_id'", -1, &st,
		    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			snprintf(s->id, sizeof s->id, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		unsigned char keyid[8];
		if (store_settle_keys(s, err, errlen) &&
		    keys_load_public(pub, s->pk, keyid, err, errlen))
			return s;
	}
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

bool store_settle_keys(store *s, char *err, size_t errlen)
{
	if (!keys_left_over(s->dir))
		return true;
	if (!store_begin(s)) {
		snprintf(err, errlen, "%s", s->err);
		return false;
	}
	bool ok = keys_settle_leftovers(s->db, s->dir, err, errlen);
	store_rollback(s);
	return ok;
}

bool store_load_signing_key(store *s)
{
	keypair kp;
	if (!keys_load_secret(s->dir, &kp, s->err, sizeof s->err))
		return false;
	if (memcmp(kp.pk, s->pk, 32) != 0) {
		sodium_memzero(&kp, sizeof kp);
		snprintf(s->err, sizeof s->err, "keys/audit.key does not match keys/audit.pub");
		return false;
	}
	memcpy(s->sk, kp.sk, sizeof s->sk);
	sodium_memzero(&kp, sizeof kp);
	s->have_sk = true;
	return true;
}

sqlite3_stmt *store_stmt(store *s, int which, const char *sql)
{
	sqlite3_stmt *st = s->stmts[which];
	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
			store_fail(s, "cannot prepare a statement");
			return NULL;
		}
		s->stmts[which] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* A connection a server keeps for its whole life. Its page cache is small:
 * a reader's is dropped whenever another connection has committed, and a
 * writer's commit walks the whole cache whenever the transaction split a
 * page (SQLite truncates its cache past the end of the database, and a
 * split briefly names a page there), which with a few documents per commit
 * costs more than reading the pages again from the file system's cache.
 * SQLite's page splits also take a few pages of scratch memory from malloc
 * and give it back at once: glibc would hand it to the kernel each time and
 * fault it in again, so the server keeps up to 8 MiB of freed memory. Its
 * audit events go to the signing thread as soon as two wait (audit_signer.c). */
void store_serving(store *s, int cache_kib)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d;", cache_kib);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	s->sign_at_once = true;
}

void store_bind_opt(sqlite3_stmt *st, int i, const char *text)
{
	if (text)
		sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

bool store_checkpoint(store *s, bool *whole)
{
	int frames = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
	*whole = rc == SQLITE_OK && copied >= frames;
	return rc == SQLITE_OK || rc == SQLITE_BUSY || store_fail(s, "cannot checkpoint the log");
}

void store_keep(store *s, int slot, const store_keeper *keeper, void *ctx)
{
	s->kept[slot].keeper = keeper;
	s->kept[slot].ctx = ctx;
}

void *store_kept(const store *s, int slot)
{
	return s->kept[slot].ctx;
}

void store_on_settle(store *s, void (*fn)(store *s, bool committed))
{
	for (size_t i = 0; i < sizeof s->settlers / sizeof s->settlers[0]; i++) {
		if (s->settlers[i] == fn)
			return;
		if (s->settlers[i] == NULL) {
			s->settlers[i] = fn;
			return;
		}
	}
	abort();        /* more kinds of settler than slots: a programming error */
}

void store_on_close(store *s, void (*fn)(store *s, void *ctx), void *ctx)
{
	for (size_t i = 0; i < sizeof s->closers / sizeof s->closers[0]; i++)
		if (s->closers[i].fn == NULL) {
			s->closers[i].fn = fn;
			s->closers[i].ctx = ctx;
			return;
		}
	abort();        /* more than data/ ever registers: a programming error */
}

/* What the writers keep for the open transaction is written by
 * store_commit, or forgotten here: on a rollback, when a new transaction
 * begins (what a failed commit or a close left), and at close. */
static void settle(store *s, bool committed)
{
	for (size_t i = 0; i < sizeof s->settlers / sizeof s->settlers[0]; i++)
		if (s->settlers[i] != NULL)
			s->settlers[i](s, committed);
}

static void store_forget(store *s)
{
	settle(s, false);
	for (int i = 0; i < KEEP__COUNT; i++) {
		const store_keeper *k = s->kept[i].keeper;
		void *ctx = s->kept[i].ctx;
		if (k == NULL)
			continue;
		s->kept[i].keeper = NULL;
		s->kept[i].ctx = NULL;
		k->drop(s, ctx);
	}
}

/* A checkpoint at close costs three syncs and the pages' copy (about 1 ms),
 * while reading back a small log costs the next process a fraction of that:
 * so the last connection to close checkpoints (and truncates the log) only
 * once the log has grown past WAL_KEEP. Commits are synced (FULL), so what
 * is left in the log is as durable as the database. */
enum { WAL_KEEP = 256 * 1024 };

static bool log_is_small(const store *s)
{
	const char *wal = sqlite3_filename_wal(sqlite3_db_filename(s->db, "main"));
	struct stat st;
	return wal != NULL && stat(wal, &st) == 0 && st.st_size <= WAL_KEEP;
}

void store_close(store *s)
{
	if (s == NULL)
		return;
	if (s->remote != NULL) {
		/* a store reached through a server: its connection is remote.c's,
		 * closed by the closer it registered */
		for (int i = (int)(sizeof s->closers / sizeof s->closers[0]) - 1; i >= 0; i--)
			if (s->closers[i].fn != NULL)
				s->closers[i].fn(s, s->closers[i].ctx);
		free(s);
		return;
	}
	if (s->bulk_log)
		sqlite3_exec(s->db, "PRAGMA journal_size_limit = 0;", NULL, NULL, NULL);
	if (log_is_small(s))
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	store_forget(s);
	for (int i = (int)(sizeof s->closers / sizeof s->closers[0]) - 1; i >= 0; i--)
		if (s->closers[i].fn != NULL)
			s->closers[i].fn(s, s->closers[i].ctx);
	for (int i = 0; i < SQL__COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	sodium_memzero(s->sk, sizeof s->sk);
	free(s->findings_text.s);
	free(s);
}

bool store_begin(store *s)
{
	/* busy_timeout covers most waits; BEGIN IMMEDIATE may still report busy
	 * at once when another writer holds the lock, so retry it a while */
	for (int attempt = 0; attempt < 200; attempt++) {
		int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			store_forget(s);
			return true;
		}
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		usleep(5000 + (useconds_t)randombytes_uniform(20000));
	}
	return store_fail(s, "cannot start a transaction");
}

void store_on_signed(store *s, void (*fn)(void *ctx, bool alone), void *ctx)
{
	s->signed_fn = fn;
	s->signed_ctx = ctx;
}

static bool commit(store *s)
{
	/* slot by slot; a slot that fails stays, for the rollback to drop */
	for (int i = 0; i < KEEP__COUNT; i++) {
		const store_keeper *k = s->kept[i].keeper;
		if (k == NULL)
			continue;
		if (!k->flush(s, s->kept[i].ctx)) {
			store_rollback(s);
			return false;
		}
		s->kept[i].keeper = NULL;
		s->kept[i].ctx = NULL;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
		settle(s, true);
		if (s->committed != NULL)
			s->committed(s);
		return true;
	}
	store_fail(s, "cannot commit");
	store_rollback(s);
	return false;
}

bool store_commit(store *s)
{
	bool ok = commit(s);
	if (s->signed_fn != NULL)
		s->signed_fn(s->signed_ctx, false);     /* committed or not, it is over */
	return ok;
}

void store_rollback(store *s)
{
	if (s->remote != NULL)
		return;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	store_forget(s);
}

bool store_data_version(store *s, int64_t *version)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot poll the database");
	bool ok = sqlite3_step(st) == SQLITE_ROW || store_fail(s, "cannot poll the database");
	if (ok)
		*version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ok;
}

const char *store_errmsg(const store *s)
{
	return s->err;
}

const char *store_dir(const store *s)
{
	return s->dir;
}

const char *store_id(const store *s)
{
	return s->id;
}

bool store_in_transaction(store *s)
{
	return s->remote == NULL && !sqlite3_get_autocommit(s->db);
}

void store_bind_now(sqlite3_stmt *st)
{
	int i = sqlite3_bind_parameter_index(st, ":now");
	if (i > 0) {
		char ts[32];
		format_time(now_ms(), ts);
		sqlite3_bind_text(st, i, ts, -1, SQLITE_TRANSIENT);
	}
}
