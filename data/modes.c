/*
 * modes.c: a store is private to its owner (PRODUCT.md section 1).
 *
 * init makes the store's directories 0700 and its files 0600, except
 * config.yaml and the policy files (0444: pinned, read-only) and
 * keys/audit.pub (0644). People and agents share a store only through
 * arbiter serve, never through file modes, so opening a store (store_open,
 * which every command, the console and the server go through; and eval and
 * policy check, which read a store's policies without opening it) first
 * checks each file it may read or write: a directory or private file with any
 * group or other bit, a read-only file or the public key that others may
 * write, or anything owned by another uid is refused with one line naming
 * the file and the command that fixes it. Nothing is read but the files'
 * status (stat, and one listing of policies/), so the check costs a few
 * microseconds; files that do not exist are left to whoever reads them.
 *
 * Ownership: everything must be the caller's own (its effective uid), root
 * included. A file of another uid is either someone else's store, which
 * the caller reaches through its server, or a file left by another
 * account (a users.oath rewritten by root, a log created by another
 * user), which the owner may no longer be able to read or which another
 * account can change; and a root process working on a user's store would
 * leave such files behind. Either way the store is refused until it is
 * one account's again.
 *
 * The server's socket, when it is not the store's own (--socket PATH), is
 * checked through its directory: owned by the server's uid or root and
 * writable by nobody else, so that no other account can put a socket of its
 * own in the server's place. The socket's own mode is the server's choice
 * (server.socket_group) and it decides by the peer's uid, never by mode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

typedef enum {
	PRIVATE_DIR,    /* 0700 */
	PRIVATE_FILE,   /* 0600 */
	READ_ONLY,      /* 0444: config.yaml and the policy files */
	PUBLIC_KEY,     /* 0644: keys/audit.pub */
	SOCKET_DIR      /* the directory of a shared socket */
} kind;

/* The bits each kind must not have, and the mode that fixes it. */
static const struct {
	mode_t loose;
	const char *fix;
} rules[] = {
	[PRIVATE_DIR] = { 077, "700" },
	[PRIVATE_FILE] = { 077, "600" },
	[READ_ONLY] = { 022, "444" },
	[PUBLIC_KEY] = { 022, "644" },
	[SOCKET_DIR] = { 022, "755" },
};

/* The store's files, the store directory first. */
static const struct {
	const char *name;
	kind k;
} store_files[] = {
	{ "", PRIVATE_DIR },
	{ "keys", PRIVATE_DIR },
	{ "policies", PRIVATE_DIR },
	{ "arbiter.db", PRIVATE_FILE },
	{ "arbiter.db-wal", PRIVATE_FILE },
	{ "arbiter.db-shm", PRIVATE_FILE },
	{ "keys/audit.key", PRIVATE_FILE },
	{ "keys/audit.pub", PUBLIC_KEY },
	{ "keys/" KEYS_FIRST, PUBLIC_KEY },
	{ "keys/audit.key.new", PRIVATE_FILE },
	{ "keys/audit.pub.new", PUBLIC_KEY },
	{ "users.oath", PRIVATE_FILE },
	{ "store.url", PRIVATE_FILE },
	{ "policies.cache", PRIVATE_FILE },
	{ "config.yaml", READ_ONLY },
};

/* path as a shell word: quoted when it holds anything but the usual. */
static void shell_word(const char *path, char *out, size_t len)
{
	if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%")
	    == strlen(path)) {
		snprintf(out, len, "%s", path);
		return;
	}
	size_t o = 0;
	if (len < 3)
		return;
	out[o++] = '\'';
	for (const char *p = path; *p != '\0' && o + 6 < len; p++) {
		if (*p == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *p;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
}

/* uid's login for a message (sudo's '#UID' when it has none) and as it is
 * shown, "bob (uid 1001)" */
static void login_of(uid_t uid, char *login, size_t len, char *shown, size_t shownlen)
{
	struct passwd *pw = getpwuid(uid);
	if (pw != NULL) {
		snprintf(login, len, "%s", pw->pw_name);
		snprintf(shown, shownlen, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	} else {
		snprintf(login, len, "'#%u'", (unsigned)uid);
		snprintf(shown, shownlen, "uid %u", (unsigned)uid);
	}
}

/* The one line for a file of st that breaks its kind's rule; false when it
 * keeps it. path as the caller named it: shown absolute. first: the store
 * directory itself (or the socket's), whose owner is not a file's. */
static bool refused(const char *path, const struct stat *st, kind k, bool first, char *err,
    size_t errlen)
{
	uid_t me = geteuid();
	bool owner_ok = st->st_uid == me || (k == SOCKET_DIR && st->st_uid == 0);
	mode_t loose = st->st_mode & rules[k].loose;
	if (owner_ok && loose == 0)
		return false;
	char real[PATH_MAX], word[2 * PATH_MAX];
	const char *shown = realpath(path, real) != NULL ? real : path;
	shell_word(shown, word, sizeof word);
	if (!owner_ok) {
		char owner[300], owner_login[256], mine[300], my_login[256];
		login_of(st->st_uid, owner_login, sizeof owner_login, owner, sizeof owner);
		login_of(me, my_login, sizeof my_login, mine, sizeof mine);
		if (k == SOCKET_DIR)
			snprintf(err, errlen, "%s: owned by %s, not by root or the server's user, %s: "
			    "another account could put its own socket in the server's place; put the "
			    "socket in a directory of yours (--socket PATH)", shown, owner, mine);
		else if (first)
			snprintf(err, errlen, "%s: owned by %s, and you are %s: a store is its owner's "
			    "alone; run arbiter as its owner (sudo -u %s arbiter ...), or reach the "
			    "store through its server", shown, owner, mine, owner_login);
		else
			snprintf(err, errlen, "%s: owned by %s, not by the store's owner, %s; run as "
			    "root: chown %s %s", shown, owner, mine, my_login, word);
		return true;
	}
	unsigned mode = (unsigned)(st->st_mode & 07777);
	if (k == SOCKET_DIR && (st->st_uid != me || (st->st_mode & S_ISVTX)))
		snprintf(err, errlen, "%s: mode %04o lets other users replace the socket; put it in a "
		    "directory that only you or root can write, such as /run/arbiter (systemd's "
		    "RuntimeDirectory=)", shown, mode);
	else
		snprintf(err, errlen, "%s: mode %04o %s; run: chmod %s %s", shown, mode,
		    rules[k].loose == 077 ? "is open to other users" : k == SOCKET_DIR ?
		    "lets other users replace the socket" : "lets other users write it",
		    rules[k].fix, word);
	return true;
}

/* Whether dir/name (at, the store directory opened) keeps the rule of its
 * kind; a name that is not there does (whoever reads it says so). */
static bool file_ok(int at, const char *dir, const char *name, kind k, char *err, size_t errlen)
{
	char path[PATH_MAX + 300];
	struct stat st;
	if (fstatat(at, name, &st, name[0] ? 0 : AT_EMPTY_PATH) == 0) {
		snprintf(path, sizeof path, "%s%s%s", dir, name[0] ? "/" : "", name);
		return !refused(path, &st, k, name[0] == '\0', err, errlen);
	}
	if (errno == ENOENT)
		return true;
	snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
	return false;
}

/* The policy files, read-only: one listing of policies/, one fstatat each. */
static bool policies_ok(int at, const char *dir, char *err, size_t errlen)
{
	int fd = openat(at, "policies", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return true;    /* not there: loading the policies says so */
	}
	bool ok = true;
	struct dirent *e;
	while (ok && (e = readdir(d)) != NULL) {
		struct stat st;
		char path[PATH_MAX + 300];
		if (!policy_file_name(e->d_name) || fstatat(fd, e->d_name, &st, 0) != 0)
			continue;
		snprintf(path, sizeof path, "%s/policies/%s", dir, e->d_name);
		ok = !refused(path, &st, READ_ONLY, false, err, errlen);
	}
	closedir(d);
	return ok;
}

bool store_private(const char *dir, char *err, size_t errlen)
{
	int at = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (at < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return true;    /* no store there: opening it says so */
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return false;
	}
	bool ok = true;
	for (size_t i = 0; ok && i < sizeof store_files / sizeof store_files[0]; i++)
		ok = file_ok(at, dir, store_files[i].name, store_files[i].k, err, errlen);
	ok = ok && policies_ok(at, dir, err, errlen);
	close(at);
	return ok;
}

bool socket_dir_private(const char *socket_path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	path_dir(socket_path, dir, sizeof dir);
	struct stat st;
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return false;
	}
	return !refused(dir, &st, SOCKET_DIR, true, err, errlen);
}
