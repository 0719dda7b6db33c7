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
 * This VFS is the platform's own ("unix") with one change: a log that
 * exists is opened without SQLITE_OPEN_CREATE, so it is not taken for new.
 * Its name was made durable by the process that created it, which synced
 * the directory before its first commit was reported. A log that is not
 * there, or that vanishes between the look and the open, is opened with
 * SQLITE_OPEN_CREATE as before, directory sync included.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store_impl.h"

static sqlite3_vfs platform_vfs_copy, store_vfs;
static sqlite3_vfs *platform;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

static int store_open_file(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *out_flags)
{
	(void)vfs;
	if ((flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name != NULL &&
	    access(name, F_OK) == 0) {
		int rc = platform->xOpen(platform, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
		if (rc != SQLITE_CANTOPEN)
			return rc;
	}
	return platform->xOpen(platform, name, file, flags, out_flags);
}

static void register_vfs(void)
{
	platform = sqlite3_vfs_find(NULL);
	if (platform == NULL)
		return;
	/* every other method is the platform's: none of them reads pAppData
	 * or the vfs they are given, but xOpen, which gets the platform's */
	platform_vfs_copy = *platform;
	store_vfs = platform_vfs_copy;
	store_vfs.zName = "arbiter-unix";
	store_vfs.pNext = NULL;
	store_vfs.xOpen = store_open_file;
	if (sqlite3_vfs_register(&store_vfs, 0) != SQLITE_OK)
		platform = NULL;
}

const char *store_vfs_name(void)
{
	pthread_once(&registered, register_vfs);
	return platform != NULL ? store_vfs.zName : NULL;
}
