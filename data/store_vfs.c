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
 * them at once. Nothing is kept past a commit: the write of a commit
 * frame's page (its header names the database's size) writes what is
 * gathered, before SQLite publishes the frames to other connections in the
 * log's index, and so does every other use of the file (a read, a sync, its
 * size, a truncation, a close), so that the file is never read short of a
 * write SQLite made. A failed write is the error of the write that made it
 * (the commit frame's, whose transaction then fails) or of that use.
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
 * write is cut, and taken for a full disk) */
enum { LOG_BUFFER = 124 * 1024, FRAME_HEADER = 24 };

static sqlite3_vfs store_vfs;
static sqlite3_vfs *platform;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

/* A log file: the platform's, after this struct, and the writes gathered
 * for it (len bytes from offset at). */
typedef struct log_file {
	sqlite3_file base;
	sqlite3_file *real;
	char *buf;
	size_t len;
	sqlite3_int64 at;
	bool commit_page;       /* the next write is a commit frame's page */
} log_file;

#define LOG_FILE_SIZE ((sizeof(log_file) + 15) & ~(size_t)15)

static int log_flush(log_file *f)
{
	if (f->len == 0)
		return SQLITE_OK;
	int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->at);
	f->len = 0;
	return rc;
}

static int log_close(sqlite3_file *file)
{
	log_file *f = (log_file *)file;
	int flushed = log_flush(f);
	int rc = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return flushed != SQLITE_OK ? flushed : rc;
}

static int log_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	log_file *f = (log_file *)file;
	int rc = log_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
}

static int log_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	log_file *f = (log_file *)file;
	bool commit = f->commit_page;
	f->commit_page = false;
	if (amt == FRAME_HEADER) {      /* a frame's header: its bytes 4-7, the size after a commit */
		const unsigned char *h = data;
		f->commit_page = (h[4] | h[5] | h[6] | h[7]) != 0;
	}
	if (f->len > 0 && (off != f->at + (sqlite3_int64)f->len || f->len + (size_t)amt > LOG_BUFFER)) {
		int rc = log_flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	if ((size_t)amt > LOG_BUFFER)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (f->buf == NULL && (f->buf = malloc(LOG_BUFFER)) == NULL)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (f->len == 0)
		f->at = off;
	memcpy(f->buf + f->len, data, (size_t)amt);
	f->len += (size_t)amt;
	return commit ? log_flush(f) : SQLITE_OK;
}

static int log_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	log_file *f = (log_file *)file;
	int rc = log_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int log_sync(sqlite3_file *file, int flags)
{
	log_file *f = (log_file *)file;
	int rc = log_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int log_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	log_file *f = (log_file *)file;
	int rc = log_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int log_lock(sqlite3_file *file, int level)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xLock(f->real, level);
}

static int log_unlock(sqlite3_file *file, int level)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xUnlock(f->real, level);
}

static int log_check_reserved(sqlite3_file *file, int *out)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int log_file_control(sqlite3_file *file, int op, void *arg)
{
	log_file *f = (log_file *)file;
	int rc = log_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int log_sector_size(sqlite3_file *file)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int log_device(sqlite3_file *file)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* A log is never mapped, nor has a shared index of its own: SQLite asks
 * these of the database's file. They are the platform's all the same. */
static int log_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int log_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void log_shm_barrier(sqlite3_file *file)
{
	log_file *f = (log_file *)file;
	f->real->pMethods->xShmBarrier(f->real);
}

static int log_shm_unmap(sqlite3_file *file, int delete_flag)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int log_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
	log_file *f = (log_file *)file;
	int rc = log_flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int log_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	log_file *f = (log_file *)file;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods log_methods = {
	.iVersion = 3, .xClose = log_close, .xRead = log_read, .xWrite = log_write,
	.xTruncate = log_truncate, .xSync = log_sync, .xFileSize = log_file_size,
	.xLock = log_lock, .xUnlock = log_unlock, .xCheckReservedLock = log_check_reserved,
	.xFileControl = log_file_control, .xSectorSize = log_sector_size,
	.xDeviceCharacteristics = log_device, .xShmMap = log_shm_map, .xShmLock = log_shm_lock,
	.xShmBarrier = log_shm_barrier, .xShmUnmap = log_shm_unmap, .xFetch = log_fetch,
	.xUnfetch = log_unfetch,
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
	if (!(flags & SQLITE_OPEN_WAL))
		return open_platform(name, file, flags, out_flags);
	log_file *f = (log_file *)file;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)((char *)file + LOG_FILE_SIZE);
	f->real->pMethods = NULL;
	int rc = open_platform(name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		if (f->real->pMethods != NULL)
			f->real->pMethods->xClose(f->real);
		return rc;
	}
	f->base.pMethods = &log_methods;
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
	store_vfs.szOsFile = (int)LOG_FILE_SIZE + platform->szOsFile;
	if (sqlite3_vfs_register(&store_vfs, 0) != SQLITE_OK)
		platform = NULL;
}

const char *store_vfs_name(void)
{
	pthread_once(&registered, register_vfs);
	return platform != NULL ? store_vfs.zName : NULL;
}
