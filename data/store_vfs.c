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
 */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

static sqlite3_vfs store_vfs;
static sqlite3_vfs *platform;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

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

static int store_open_file(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *out_flags)
{
	(void)vfs;
	bool wal = (flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name != NULL;
	if (wal && access(name, F_OK) == 0) {
		int rc = platform->xOpen(platform, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
		if (rc != SQLITE_CANTOPEN)
			return rc;
	}
	int rc = platform->xOpen(platform, name, file, flags, out_flags);
	if (wal && rc == SQLITE_OK)
		sync_directory_of(name);
	return rc;
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
	if (sqlite3_vfs_register(&store_vfs, 0) != SQLITE_OK)
		platform = NULL;
}

const char *store_vfs_name(void)
{
	pthread_once(&registered, register_vfs);
	return platform != NULL ? store_vfs.zName : NULL;
}
