/*
 * store_vfs.c: SQLite's unix files, without a directory sync per process.
 *
 * SQLite syncs a log's directory after the first sync of every log it opens
 * with SQLITE_OPEN_CREATE, which it always asks for: the log might be new,
 * and a new file's name must be as durable as its bytes. The store keeps its
 * log between processes (SQLITE_FCNTL_PERSIST_WAL, store.c), so every
 * command found the file there and still paid a second sync, of .arbiter/,
 * at its first commit: about 0.2 ms of a one-document submit's 5.
 *
 * This VFS is the platform's own ("unix") with two changes. A log that
 * exists is opened without SQLITE_OPEN_CREATE, so it is not taken for new.
 * A log that does not is opened with it, as before, and its directory is
 * synced at once, whatever the process goes on to do: SQLite would sync it
 * only at the log's first sync, which a process that only reads (list, the
 * console, a server's readers) never makes, and every later writer would
 * then write into a log whose name no one made durable. So every log an
 * arbiter process makes is durable by name before it is used; one made by
 * another program (the sqlite3 shell) is taken as it is.
 *
 * And SQLite writes a commit's frames to the log two system calls each, a
 * 24-byte header and then the page, each write a page of the file's cache
 * begun and ended by the file system: 128,000 writes for a bulk submit of
 * 100,000 documents, a tenth of its writer's time. This VFS's log file
 * gathers writes that follow one another into LOG_BUFFER bytes and writes
 * them at once, within one write transaction:
 * - what is gathered is written before any other use of the log file (a
 *   read, its size, a truncation) and at a sync, which every commit makes
 *   (the store is synchronous FULL); a file system that cannot overwrite
 *   part of a sector safely (no SQLITE_IOCAP_POWERSAFE_OVERWRITE), where
 *   SQLite pads a commit past its sync, gets no gathering at all;
 * - the database's file, which this VFS wraps too (db_file), makes sure no
 *   frame is published unwritten: before the log's index is published
 *   (xShmBarrier) what is left is written, and a failure there ends the
 *   process rather than let readers take unwritten frames for committed;
 * - when the write lock is let go (xShmLock) what is left belongs to no
 *   commit (a transaction rolled back after its pages spilled): it is
 *   dropped, never written later over frames that another writer has since
 *   committed (in exclusive locking mode, which the store does not use, it
 *   is written before the database's lock goes);
 * - a failed write fails every later use of the log until the transaction
 *   ends, so a transaction that lost frames can never commit.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

/* SQLite's unix files write at most 128 KiB - 1 bytes a call (a longer
 * write is cut, and taken for a full disk); WAL_WRITE_LOCK is the offset
 * of the log's write lock among its index's locks (SQLite's wal.c) */
enum { LOG_BUFFER = 124 * 1024, WAL_WRITE_LOCK = 0 };

static sqlite3_vfs store_vfs;
static sqlite3_vfs *platform;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

typedef struct log_file log_file;

/* A file of this VFS: the platform's, after the struct that holds this. */
typedef struct wrapped {
	sqlite3_file base;
	sqlite3_file *real;
} wrapped;

/* A database file: the platform's, after this struct, and its log while
 * that is open. */
typedef struct db_file {
	wrapped w;
	const char *name;       /* as SQLite named it, which its log's name points back to */
	log_file *log;
	struct db_file *next;   /* open_dbs */
} db_file;

/* A log file: the platform's, after this struct, and the writes gathered
 * for it (len bytes from offset at). */
struct log_file {
	wrapped w;
	db_file *db;            /* NULL: none found, or no safe overwrite: nothing is gathered */
	char *buf;
	size_t len;
	sqlite3_int64 at;
	int failed;             /* a write failed in this transaction: its error */
};

#define ROUND16(n) (((n) + 15) & ~(size_t)15)
#define WRAPPER_SIZE ROUND16(sizeof(db_file) > sizeof(log_file) ? sizeof(db_file) : \
	sizeof(log_file))

/* The database files open in this process, for their logs to find. */
static pthread_mutex_t open_dbs_lock = PTHREAD_MUTEX_INITIALIZER;
static db_file *open_dbs;

/* ---- what both kinds of file pass on to the platform's ---- */

static sqlite3_file *real_of(sqlite3_file *file)
{
	return ((wrapped *)file)->real;
}

static int pass_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	return real_of(file)->pMethods->xRead(real_of(file), out, amt, off);
}

static int pass_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	return real_of(file)->pMethods->xWrite(real_of(file), data, amt, off);
}

static int pass_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	return real_of(file)->pMethods->xTruncate(real_of(file), size);
}

static int pass_sync(sqlite3_file *file, int flags)
{
	return real_of(file)->pMethods->xSync(real_of(file), flags);
}

static int pass_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	return real_of(file)->pMethods->xFileSize(real_of(file), size);
}

static int pass_lock(sqlite3_file *file, int level)
{
	return real_of(file)->pMethods->xLock(real_of(file), level);
}

static int pass_unlock(sqlite3_file *file, int level)
{
	return real_of(file)->pMethods->xUnlock(real_of(file), level);
}

static int pass_check_reserved(sqlite3_file *file, int *out)
{
	return real_of(file)->pMethods->xCheckReservedLock(real_of(file), out);
}

static int pass_file_control(sqlite3_file *file, int op, void *arg)
{
	return real_of(file)->pMethods->xFileControl(real_of(file), op, arg);
}

static int pass_sector_size(sqlite3_file *file)
{
	return real_of(file)->pMethods->xSectorSize(real_of(file));
}

static int pass_device(sqlite3_file *file)
{
	return real_of(file)->pMethods->xDeviceCharacteristics(real_of(file));
}

static int pass_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
	return real_of(file)->pMethods->xShmMap(real_of(file), page, size, extend, out);
}

static int pass_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return real_of(file)->pMethods->xShmLock(real_of(file), offset, n, flags);
}

static void pass_shm_barrier(sqlite3_file *file)
{
	real_of(file)->pMethods->xShmBarrier(real_of(file));
}

static int pass_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return real_of(file)->pMethods->xShmUnmap(real_of(file), delete_flag);
}

static int pass_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
	return real_of(file)->pMethods->xFetch(real_of(file), off, amt, out);
}

static int pass_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	return real_of(file)->pMethods->xUnfetch(real_of(file), off, p);
}

/* ---- the log ---- */

static int log_flush(log_file *f)
{
	if (f->len == 0)
		return SQLITE_OK;
	int rc = pass_write(&f->w.base, f->buf, (int)f->len, f->at);
	f->len = 0;
	if (rc != SQLITE_OK)
		f->failed = rc;
	return rc;
}

/* What is gathered written, before another use of the file. */
static int log_settle(log_file *f)
{
	return f->failed != SQLITE_OK ? f->failed : log_flush(f);
}

/* The transaction ended (its write lock let go): what is left is frames of
 * no commit, dropped. */
static void log_ended(log_file *f)
{
	f->len = 0;
	f->failed = SQLITE_OK;
}

static int log_close(sqlite3_file *file)
{
	log_file *f = (log_file *)file;
	log_ended(f);
	if (f->db != NULL)
		f->db->log = NULL;
	int rc = f->w.real->pMethods->xClose(f->w.real);
	free(f->buf);
	f->buf = NULL;
	return rc;
}

static int log_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	log_file *f = (log_file *)file;
	int rc = log_settle(f);
	return rc != SQLITE_OK ? rc : pass_read(file, out, amt, off);
}

static int log_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	log_file *f = (log_file *)file;
	if (f->len > 0 && (off != f->at + (sqlite3_int64)f->len || f->len + (size_t)amt > LOG_BUFFER)) {
		int rc = log_flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	if (f->failed != SQLITE_OK)
		return f->failed;
	if (f->db == NULL || (size_t)amt > LOG_BUFFER ||
	    (f->buf == NULL && (f->buf = malloc(LOG_BUFFER)) == NULL))
		return pass_write(file, data, amt, off);
	if (f->len == 0)
		f->at = off;
	memcpy(f->buf + f->len, data, (size_t)amt);
	f->len += (size_t)amt;
	return SQLITE_OK;
}

static int log_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	log_file *f = (log_file *)file;
	int rc = log_settle(f);
	return rc != SQLITE_OK ? rc : pass_truncate(file, size);
}

static int log_sync(sqlite3_file *file, int flags)
{
	log_file *f = (log_file *)file;
	int rc = log_settle(f);
	return rc != SQLITE_OK ? rc : pass_sync(file, flags);
}

static int log_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	log_file *f = (log_file *)file;
	int rc = log_settle(f);
	return rc != SQLITE_OK ? rc : pass_file_size(file, size);
}




static int log_file_control(sqlite3_file *file, int op, void *arg)
{
	log_file *f = (log_file *)file;
	int rc = log_settle(f);
	return rc != SQLITE_OK ? rc : pass_file_control(file, op, arg);
}







static int log_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
	log_file *f = (log_file *)file;
	int rc = log_settle(f);
	return rc != SQLITE_OK ? rc : pass_fetch(file, off, amt, out);
}


static const sqlite3_io_methods log_methods = {
	.iVersion = 3, .xClose = log_close, .xRead = log_read, .xWrite = log_write,
	.xTruncate = log_truncate, .xSync = log_sync, .xFileSize = log_file_size,
	.xLock = pass_lock, .xUnlock = pass_unlock, .xCheckReservedLock = pass_check_reserved,
	.xFileControl = log_file_control, .xSectorSize = pass_sector_size,
	.xDeviceCharacteristics = pass_device, .xShmMap = pass_shm_map, .xShmLock = pass_shm_lock,
	.xShmBarrier = pass_shm_barrier, .xShmUnmap = pass_shm_unmap, .xFetch = log_fetch,
	.xUnfetch = pass_unfetch,
};

/* ---- the database: the platform's, but for the log's two moments ---- */

static int db_close(sqlite3_file *file)
{
	db_file *d = (db_file *)file;
	pthread_mutex_lock(&open_dbs_lock);
	for (db_file **p = &open_dbs; *p != NULL; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	pthread_mutex_unlock(&open_dbs_lock);
	if (d->log != NULL)
		d->log->db = NULL;
	return d->w.real->pMethods->xClose(d->w.real);
}







/* In exclusive locking mode the log's locks are not taken: its writes go
 * out before the database's lock does, as they would have without
 * gathering (the store never uses that mode). */
static int db_unlock(sqlite3_file *file, int level)
{
	db_file *d = (db_file *)file;
	int rc = d->log != NULL && level < SQLITE_LOCK_RESERVED ? log_settle(d->log) : SQLITE_OK;
	int unlocked = pass_unlock(file, level);
	return rc != SQLITE_OK ? rc : unlocked;
}






/* Letting go of the log's write lock ends its transaction. */
static int db_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	db_file *d = (db_file *)file;
	if (d->log != NULL && (flags & SQLITE_SHM_UNLOCK) && offset <= WAL_WRITE_LOCK &&
	    offset + n > WAL_WRITE_LOCK)
		log_ended(d->log);
	return pass_shm_lock(file, offset, n, flags);
}

/* Before the log's index is published, its frames are in the file: the
 * commit's sync wrote them, and this writes whatever a connection that
 * does not sync at commit left. One that cannot be written must not be
 * published, and this call cannot fail: the process ends, and the next
 * opener recovers the log from the file, without the frames. */
static void db_shm_barrier(sqlite3_file *file)
{
	db_file *d = (db_file *)file;
	if (d->log != NULL && d->log->len > 0 && log_settle(d->log) != SQLITE_OK)
		abort();
	pass_shm_barrier(file);
}




static const sqlite3_io_methods db_methods = {
	.iVersion = 3, .xClose = db_close, .xRead = pass_read, .xWrite = pass_write,
	.xTruncate = pass_truncate, .xSync = pass_sync, .xFileSize = pass_file_size,
	.xLock = pass_lock, .xUnlock = db_unlock, .xCheckReservedLock = pass_check_reserved,
	.xFileControl = pass_file_control, .xSectorSize = pass_sector_size,
	.xDeviceCharacteristics = pass_device, .xShmMap = pass_shm_map, .xShmLock = db_shm_lock,
	.xShmBarrier = db_shm_barrier, .xShmUnmap = pass_shm_unmap, .xFetch = pass_fetch,
	.xUnfetch = pass_unfetch,
};

/* Syncs the directory that holds path (a failure is SQLite's to meet: it
 * fails the same way at the log's first sync). */
static void sync_directory_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		return;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The platform's file: a log that exists opened without
 * SQLITE_OPEN_CREATE; one made anew, its directory synced. */
static int open_platform(const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	bool wal = (flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name != NULL;
	if (wal && access(name, F_OK) == 0) {
		int rc = platform->xOpen(platform, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
		if (rc != SQLITE_CANTOPEN)
			return rc;
		if (file->pMethods != NULL)
			file->pMethods->xClose(file);
		file->pMethods = NULL;
	}
	int rc = platform->xOpen(platform, name, file, flags, out_flags);
	if (wal && rc == SQLITE_OK)
		sync_directory_of(name);
	return rc;
}

static int store_open_file(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *out_flags)
{
	(void)vfs;
	bool db = (flags & SQLITE_OPEN_MAIN_DB) && name != NULL;
	bool wal = (flags & SQLITE_OPEN_WAL) && name != NULL;
	if (!db && !wal)
		return open_platform(name, file, flags, out_flags);
	sqlite3_file *real = (sqlite3_file *)((char *)file + WRAPPER_SIZE);
	memset(file, 0, WRAPPER_SIZE);
	real->pMethods = NULL;
	int rc = open_platform(name, real, flags, out_flags);
	if (rc != SQLITE_OK) {
		if (real->pMethods != NULL)
			real->pMethods->xClose(real);
		return rc;
	}
	if (real->pMethods->iVersion < 3) {     /* not the unix files this VFS knows */
		real->pMethods->xClose(real);
		return open_platform(name, file, flags, out_flags);
	}
	pthread_mutex_lock(&open_dbs_lock);
	if (db) {
		db_file *d = (db_file *)file;
		d->w.real = real;
		d->name = name;
		d->next = open_dbs;
		open_dbs = d;
		d->w.base.pMethods = &db_methods;
	} else {
		log_file *f = (log_file *)file;
		f->w.real = real;
		const char *db_name = sqlite3_filename_database(name);
		for (db_file *d = open_dbs; d != NULL; d = d->next)
			if (d->name == db_name && d->log == NULL) {
				/* SQLite pads a commit past its sync as its
				 * database's file says */
				if (!(pass_device(&d->w.base) &
				    SQLITE_IOCAP_POWERSAFE_OVERWRITE))
					break;
				d->log = f;
				f->db = d;
				break;
			}
		f->w.base.pMethods = &log_methods;
	}
	pthread_mutex_unlock(&open_dbs_lock);
	return SQLITE_OK;
}

static void register_vfs(void)
{
	platform = sqlite3_vfs_find("unix");
	if (platform == NULL)
		return;
	/* every other method is the platform's: none of them reads pAppData
	 * or the vfs they are given, but xOpen, which gets the platform's */
	store_vfs = *platform;
	store_vfs.zName = "arbiter-unix";
	store_vfs.pNext = NULL;
	store_vfs.xOpen = store_open_file;
	store_vfs.szOsFile = (int)WRAPPER_SIZE + platform->szOsFile;
	if (sqlite3_vfs_register(&store_vfs, 0) != SQLITE_OK)
		platform = NULL;
}

const char *store_vfs_name(void)
{
	pthread_once(&registered, register_vfs);
	return platform != NULL ? store_vfs.zName : NULL;
}
