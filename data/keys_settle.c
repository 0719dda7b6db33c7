/*
 * keys_settle.c: the key files of a rotation (ops_keys.c), put into place
 * or discarded.
 *
 * A rotation writes its new pair beside the old one as keys/audit.key.new
 * and keys/audit.pub.new, and only after its key.rotate event commits are
 * they put into place: the retired public key is kept as
 * keys/audit-OLDID.pub (and, for a store made before init kept it, as
 * keys/audit-1.pub on its first rotation), the old secret key is
 * overwritten with zeros and synced, the new one renamed over it, then the
 * new public key over audit.pub. A crash before the commit leaves new files
 * the chain does not name: they are wiped and removed. A crash after it
 * leaves files the chain's last key.rotate names: they are put into place.
 * Either happens at the next open (store.c) or at the next write of any
 * connection (signing_key.c), always under the write lock for what is
 * removed, so that a rotation still in flight elsewhere (its files
 * written, its event not yet committed) is never taken for a leftover.
 * Putting into place is safe to race: each step checks the file it acts on
 * through the descriptor it opened.
 *
 * Settling runs while a store is being opened, so this file knows only the
 * database connection, the store's directory and the key files (keys.c,
 * and keyring.c for what a key.rotate event names): nothing of the store
 * above them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

const char keys_last_rotation_sql[] = "SELECT seq, details, (SELECT min(seq) FROM audit WHERE "
    "event = 'key.rotate') FROM audit WHERE event = 'key.rotate' ORDER BY seq DESC LIMIT 1";

bool keys_last_rotation(sqlite3_stmt *st, key_rotation *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	int rc = sqlite3_step(st);
	bool ok = rc == SQLITE_DONE;
	if (rc == SQLITE_ROW) {
		r->seq = sqlite3_column_int64(st, 0);
		r->first = sqlite3_column_int64(st, 2) == r->seq;
		ok = key_rotation_named((const char *)sqlite3_column_text(st, 1), r->pk, r->keyid);
		if (!ok)
			snprintf(err, errlen, "the key.rotate event at seq %lld names no public key",
			    (long long)r->seq);
	} else if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the audit log: %s",
		    sqlite3_errmsg(sqlite3_db_handle(st)));
	}
	return ok;
}

/* dir/keys/name into out. */
static void key_path(const char *dir, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/keys/%s", dir, name);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Overwrites the secret key file open as fd with zeros, and syncs it. */
static bool wipe_fd(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return false;
	char zeros[512] = { 0 };
	for (off_t done = 0; done < st.st_size;) {
		size_t n = (size_t)(st.st_size - done) < sizeof zeros ? (size_t)(st.st_size - done) :
		    sizeof zeros;
		ssize_t w = write(fd, zeros, n);
		if (w <= 0)
			return false;
		done += w;
	}
	return fsync(fd) == 0;
}

/* Opens the secret key file at path and reads its pair: 1, 0 not there,
 * -1 error (err). *fd stays open for a wipe (close it), unless 0. */
static int open_secret(const char *path, int *fd, keypair *kp, char *err, size_t errlen)
{
	*fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT)
		return 0;
	char text[512], why[256];
	ssize_t n = *fd < 0 ? -1 : read(*fd, text, sizeof text);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (*fd >= 0)
			close(*fd);
		return -1;
	}
	bool ok = keys_parse_secret(text, (size_t)n, kp, why, sizeof why);
	sodium_memzero(text, sizeof text);
	if (!ok)
		memset(kp, 0, sizeof *kp);      /* a wiped or broken file: no key */
	return 1;
}

/* Wipes and removes the secret key file at path, if it is there. */
static bool discard_secret(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || (snprintf(err, errlen, "%s: %s", path, strerror(errno)), false);
	bool ok = wipe_fd(fd);
	ok = close(fd) == 0 && ok && unlink(path) == 0;
	if (!ok)
		snprintf(err, errlen, "cannot destroy %s: %s", path, strerror(errno));
	return ok;
}

static bool sync_dir(const char *dir)
{
	char path[PATH_MAX + 8];
	snprintf(path, sizeof path, "%s/keys", dir);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = fd >= 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

bool keys_discard_new(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	key_path(dir, "audit.key.new", path, sizeof path);
	if (!discard_secret(path, err, errlen))
		return false;
	key_path(dir, "audit.pub.new", path, sizeof path);
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	return sync_dir(dir);
}

/* Keeps the retired public key pk under its id (and as the first key, when
 * first and the store has none yet). */
static bool keep_retired(const char *dir, const unsigned char pk[32],
    const unsigned char keyid[8], bool first, char *err, size_t errlen)
{
	char id[17], name[40], path[PATH_MAX + 48];
	keys_id_hex(keyid, id);
	snprintf(name, sizeof name, "audit-%s.pub", id);
	key_path(dir, name, path, sizeof path);
	if (!exists(path) && !keys_write_public(path, pk, keyid, err, errlen))
		return false;
	key_path(dir, KEYS_FIRST, path, sizeof path);
	return !first || exists(path) || keys_write_public(path, pk, keyid, err, errlen);
}

bool keys_put_in_place(const char *dir, const key_rotation *r, char *err, size_t errlen)
{
	char pub[PATH_MAX + 32], pub_new[PATH_MAX + 32], sec[PATH_MAX + 32], sec_new[PATH_MAX + 32];
	char named[17], why[512];
	const unsigned char *pk = r->pk;
	long long seq = r->seq;
	keys_id_hex(r->keyid, named);
	key_path(dir, "audit.pub", pub, sizeof pub);
	key_path(dir, "audit.pub.new", pub_new, sizeof pub_new);
	key_path(dir, "audit.key", sec, sizeof sec);
	key_path(dir, "audit.key.new", sec_new, sizeof sec_new);
	unsigned char cur[32], cur_id[8], got[32], got_id[8];
	if (!keys_load_public(pub, cur, cur_id, err, errlen))
		return false;
	bool pub_moves = memcmp(cur, pk, 32) != 0;
	if (pub_moves) {
		if (!keys_load_public(pub_new, got, got_id, why, sizeof why) || memcmp(got, pk, 32) != 0) {
			snprintf(err, errlen, "keys/audit.pub is not the key that key.rotate at seq %lld names "
			    "(%s), and keys/audit.pub.new is not it either", seq, named);
			return false;
		}
		if (!keep_retired(dir, cur, cur_id, r->first, err, errlen))
			return false;
	}
	int fd;
	keypair kp;
	int have = open_secret(sec, &fd, &kp, err, errlen);
	if (have < 0)
		return false;
	bool ok = true;
	if (have == 0 || memcmp(kp.pk, pk, 32) != 0) {
		keypair next;
		int nfd;
		int found = open_secret(sec_new, &nfd, &next, err, errlen);
		if (found > 0)
			close(nfd);
		ok = found > 0 && memcmp(next.pk, pk, 32) == 0;
		sodium_memzero(&next, sizeof next);
		if (found >= 0 && !ok)
			snprintf(err, errlen, "keys/audit.key is not the secret key of the key that key.rotate "
			    "at seq %lld names (%s), and keys/audit.key.new is not it either", seq, named);
		/* the retired secret is destroyed before the new one takes its name */
		if (ok && have > 0 && !wipe_fd(fd)) {
			snprintf(err, errlen, "cannot destroy %s: %s", sec, strerror(errno));
			ok = false;
		}
		if (ok && rename(sec_new, sec) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", sec, strerror(errno));
			ok = false;
		}
	} else {
		ok = discard_secret(sec_new, err, errlen);
	}
	if (have > 0)
		close(fd);
	sodium_memzero(&kp, sizeof kp);
	if (ok && pub_moves && rename(pub_new, pub) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", pub, strerror(errno));
		ok = false;
	} else if (ok && !pub_moves && unlink(pub_new) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", pub_new, strerror(errno));
		ok = false;
	}
	return ok && sync_dir(dir);
}

bool keys_settle(const char *dir, const key_rotation *last, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	key_path(dir, "audit.key.new", path, sizeof path);
	bool left = exists(path);
	key_path(dir, "audit.pub.new", path, sizeof path);
	left = left || exists(path);
	unsigned char cur[32], cur_id[8];
	if (last->seq == 0)
		return !left || keys_discard_new(dir, err, errlen);
	key_path(dir, "audit.pub", path, sizeof path);
	if (!left && keys_load_public(path, cur, cur_id, err, errlen) &&
	    memcmp(cur, last->pk, 32) == 0)
		return true;
	/* new files the last rotation does not name are some failed rotation's */
	unsigned char got[32], got_id[8];
	char why[256];
	key_path(dir, "audit.pub.new", path, sizeof path);
	if (left && keys_load_public(path, got, got_id, why, sizeof why) &&
	    memcmp(got, last->pk, 32) != 0 && !keys_discard_new(dir, err, errlen))
		return false;
	return keys_put_in_place(dir, last, err, errlen);
}

bool keys_left_over(const char *dir)
{
	char path[PATH_MAX + 32];
	key_path(dir, "audit.key.new", path, sizeof path);
	if (exists(path))
		return true;
	key_path(dir, "audit.pub.new", path, sizeof path);
	return exists(path);
}

bool keys_settle_leftovers(sqlite3 *db, const char *dir, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, keys_last_rotation_sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit log: %s", sqlite3_errmsg(db));
		return false;
	}
	key_rotation last;
	bool ok = keys_last_rotation(st, &last, err, errlen);
	sqlite3_finalize(st);
	return ok && keys_settle(dir, &last, err, errlen);
}
