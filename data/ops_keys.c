/*
 * ops_keys.c: rotating the audit key (arbiter audit rotate-key), and every
 * connection signing with the key the chain says is current.
 *
 * A rotation is one transaction: an enabled admin's code, a new pair
 * written beside the old one as keys/audit.key.new and keys/audit.pub.new,
 * and the key.rotate event (details: the new key id, its public key as
 * minisign's line, the id it replaces), signed by the old key. Only after
 * the commit are the files put into place: the retired public key is kept
 * as keys/audit-OLDID.pub (and, for a store made before init kept it, as
 * keys/audit-1.pub on its first rotation), the old secret key is
 * overwritten with zeros and synced, the new one renamed over it, then the
 * new public key over audit.pub. A crash before the commit leaves new files
 * the chain does not name: they are wiped and removed. A crash after it
 * leaves files the chain's last key.rotate names: they are put into place.
 * Either happens at the next open (keys_settle_leftovers), or at the next
 * write of any connection (signing_key_current), always under the write
 * lock for what is removed, so that a rotation still in flight elsewhere
 * (its files written, its event not yet committed) is never taken for a
 * leftover. Putting into place is safe to race: each step checks the file
 * it acts on through the descriptor it opened.
 *
 * Every connection (the server keeps several) learns of a rotation at its
 * next write transaction: the seq of the last key.rotate is read once per
 * transaction (one index lookup), and a new one loads the new key before
 * anything is signed, so nothing is ever signed by a retired key.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote.h"

/* dir/keys/name into out. */
static void key_path(const store *s, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/keys/%s", s->dir, name);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* The last key.rotate: its seq (0: none) and the key it names; *first: it
 * is the chain's first rotation. false: s->err. */
static bool last_rotation(store *s, int64_t *seq, unsigned char pk[32], unsigned char keyid[8],
    bool *first)
{
	sqlite3_stmt *st = store_stmt(s, SQL_KEY_ROTATION, "SELECT seq, details, (SELECT min(seq) "
	    "FROM audit WHERE event = 'key.rotate') FROM audit WHERE event = 'key.rotate' ORDER BY "
	    "seq DESC LIMIT 1");
	if (st == NULL)
		return false;
	int rc = sqlite3_step(st);
	*seq = 0;
	bool ok = rc == SQLITE_DONE;
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*first = sqlite3_column_int64(st, 2) == *seq;
		ok = key_rotation_named((const char *)sqlite3_column_text(st, 1), pk, keyid);
		if (!ok)
			snprintf(s->err, sizeof s->err, "the key.rotate event at seq %lld names no public "
			    "key", (long long)*seq);
	} else if (rc != SQLITE_DONE) {
		store_fail(s, "cannot read the audit log");
	}
	sqlite3_reset(st);
	return ok;
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

static bool sync_dir(const store *s)
{
	char path[PATH_MAX + 8];
	snprintf(path, sizeof path, "%s/keys", s->dir);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = fd >= 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Removes new key files that no rotation names (under the write lock). */
static bool discard_new(store *s, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	key_path(s, "audit.key.new", path, sizeof path);
	if (!discard_secret(path, err, errlen))
		return false;
	key_path(s, "audit.pub.new", path, sizeof path);
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	return sync_dir(s);
}

/* Keeps the retired public key pk under its id (and as the first key, when
 * first and the store has none yet). */
static bool keep_retired(store *s, const unsigned char pk[32], const unsigned char keyid[8],
    bool first, char *err, size_t errlen)
{
	char id[17], name[40], path[PATH_MAX + 48];
	keys_id_hex(keyid, id);
	snprintf(name, sizeof name, "audit-%s.pub", id);
	key_path(s, name, path, sizeof path);
	if (!exists(path) && !keys_write_public(path, pk, keyid, err, errlen))
		return false;
	key_path(s, KEYS_FIRST, path, sizeof path);
	return !first || exists(path) || keys_write_public(path, pk, keyid, err, errlen);
}

/* Puts the pair the rotation at seq names (pk, keyid) into place: see the
 * note at the top. false with err. */
static bool put_in_place(store *s, int64_t seq, const unsigned char pk[32],
    const unsigned char keyid[8], bool first, char *err, size_t errlen)
{
	char pub[PATH_MAX + 32], pub_new[PATH_MAX + 32], sec[PATH_MAX + 32], sec_new[PATH_MAX + 32];
	char named[17], why[512];
	keys_id_hex(keyid, named);
	key_path(s, "audit.pub", pub, sizeof pub);
	key_path(s, "audit.pub.new", pub_new, sizeof pub_new);
	key_path(s, "audit.key", sec, sizeof sec);
	key_path(s, "audit.key.new", sec_new, sizeof sec_new);
	unsigned char cur[32], cur_id[8], got[32], got_id[8];
	if (!keys_load_public(pub, cur, cur_id, err, errlen))
		return false;
	bool pub_moves = memcmp(cur, pk, 32) != 0;
	if (pub_moves) {
		if (!keys_load_public(pub_new, got, got_id, why, sizeof why) || memcmp(got, pk, 32) != 0) {
			snprintf(err, errlen, "keys/audit.pub is not the key that key.rotate at seq %lld names "
			    "(%s), and keys/audit.pub.new is not it either", (long long)seq, named);
			return false;
		}
		if (!keep_retired(s, cur, cur_id, first, err, errlen))
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
			    "at seq %lld names (%s), and keys/audit.key.new is not it either", (long long)seq,
			    named);
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
	return ok && sync_dir(s);
}

/* Under the write lock: the leftovers of a rotation put into place when the
 * chain's last key.rotate names them, else discarded. */
static bool settle(store *s, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	key_path(s, "audit.key.new", path, sizeof path);
	bool left = exists(path);
	key_path(s, "audit.pub.new", path, sizeof path);
	left = left || exists(path);
	int64_t seq;
	unsigned char pk[32], keyid[8], cur[32], cur_id[8];
	bool first = false;
	if (!last_rotation(s, &seq, pk, keyid, &first)) {
		snprintf(err, errlen, "%s", s->err);
		return false;
	}
	if (seq == 0)
		return !left || discard_new(s, err, errlen);
	key_path(s, "audit.pub", path, sizeof path);
	if (!left && keys_load_public(path, cur, cur_id, err, errlen) && memcmp(cur, pk, 32) == 0)
		return true;
	/* new files the last rotation does not name are some failed rotation's */
	unsigned char got[32], got_id[8];
	char why[256];
	key_path(s, "audit.pub.new", path, sizeof path);
	if (left && keys_load_public(path, got, got_id, why, sizeof why) && memcmp(got, pk, 32) != 0 &&
	    !discard_new(s, err, errlen))
		return false;
	return put_in_place(s, seq, pk, keyid, first, err, errlen);
}

bool keys_settle_leftovers(store *s, char *err, size_t errlen)
{
	char key[PATH_MAX + 32], pub[PATH_MAX + 32];
	key_path(s, "audit.key.new", key, sizeof key);
	key_path(s, "audit.pub.new", pub, sizeof pub);
	if (!exists(key) && !exists(pub))
		return true;
	if (!store_begin(s)) {
		snprintf(err, errlen, "%s", s->err);
		return false;
	}
	bool ok = settle(s, err, errlen);
	store_rollback(s);
	return ok;
}

/* Loads keys/audit.pub and the secret key again. */
static bool reload(store *s)
{
	char path[PATH_MAX + 32];
	unsigned char keyid[8];
	key_path(s, "audit.pub", path, sizeof path);
	return keys_load_public(path, s->pk, keyid, s->err, sizeof s->err) &&
	    store_load_signing_key(s);
}

bool signing_key_current(store *s)
{
	int64_t seq;
	unsigned char pk[32], keyid[8];
	bool first;
	if (!last_rotation(s, &seq, pk, keyid, &first))
		return false;
	if (s->key_known && seq == s->key_seq)
		return true;
	char err[512];
	if (seq > 0 && memcmp(s->pk, pk, 32) != 0) {
		if (!settle(s, err, sizeof err)) {
			snprintf(s->err, sizeof s->err, "%s", err);
			return false;
		}
		if (!reload(s))
			return false;
		if (memcmp(s->pk, pk, 32) != 0) {
			char id[17];
			keys_id_hex(keyid, id);
			snprintf(s->err, sizeof s->err, "keys/audit.pub is not the key that key.rotate at "
			    "seq %lld names (%s): nothing is signed with another", (long long)seq, id);
			return false;
		}
	}
	s->key_seq = seq;
	s->key_known = true;
	return true;
}

/* ---- arbiter audit rotate-key ---- */

outcome op_audit_rotate_key(store *s, const settings *cfg, const op_auth *given, key_rotated *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	op_auth named;
	const op_auth *auth = &named;
	char name[IDENTITY_NAME_MAX + 1];
	if (op_named(given, &named, name, rep) != OUT_OK)
		return rep->out;
	if (s->remote)
		return remote_audit_rotate_key(s, auth, r);
	if (op_begin_code(s, auth, rep) != OUT_OK)
		return rep->out;
	reviewer who;
	if (op_actor(s, auth->actor, true, "rotate the audit key", &who, rep) != OUT_OK ||
	    op_code(s, cfg, auth, rep, NULL) != OUT_OK)
		return rep->out;
	char err[512], path[PATH_MAX + 32];
	unsigned char old_pk[32], old_id[8];
	key_path(s, "audit.pub", path, sizeof path);
	int64_t prev;
	unsigned char prev_pk[32], prev_id[8];
	bool prev_first;
	if (!signing_key_current(s) || !last_rotation(s, &prev, prev_pk, prev_id, &prev_first))
		return op_failed(s, rep);
	if (!settle(s, err, sizeof err) || !keys_load_public(path, old_pk, old_id, err, sizeof err)) {
		store_rollback(s);
		return op_say(rep, OUT_IO_ERROR, "%s", err);
	}
	keypair kp;
	if (!keys_write_pair(s->dir, ".new", &kp, err, sizeof err)) {
		char also[512];
		sodium_memzero(&kp, sizeof kp);
		discard_new(s, also, sizeof also);
		store_rollback(s);
		return op_say(rep, OUT_IO_ERROR, "%s; the key was not rotated", err);
	}
	char line[57];
	keys_id_hex(kp.keyid, r->keyid);
	keys_id_hex(old_id, r->was);
	keys_public_line(kp.pk, kp.keyid, line);
	snprintf(r->pubkey, sizeof r->pubkey, "%s", line);
	json_t *details = json_pack("{s:s,s:s,s:s}", "keyid", r->keyid, "pubkey", line, "was",
	    r->was);
	bool appended = audit_append(s, auth->actor, "key.rotate", s->id, details);
	json_decref(details);
	if (!appended || op_commit(s, rep) != OUT_OK) {
		if (!appended)
			op_failed(s, rep);
		sodium_memzero(&kp, sizeof kp);
		discard_new(s, err, sizeof err);
		return rep->out;
	}
	r->seq = s->head_seq;
	/* from here on only the new key signs, whatever happens to the files */
	memcpy(s->sk, kp.sk, sizeof s->sk);
	memcpy(s->pk, kp.pk, sizeof s->pk);
	s->key_seq = r->seq;
	s->key_known = true;
	bool placed = put_in_place(s, r->seq, kp.pk, kp.keyid, prev == 0, err, sizeof err);
	sodium_memzero(&kp, sizeof kp);
	if (!placed)
		return op_say(rep, OUT_IO_ERROR, "the key was rotated (key.rotate, seq %lld, key %s), "
		    "but its files are not in place: %s; the next open of the store finishes it",
		    (long long)r->seq, r->keyid, err);
	return op_say(rep, OUT_OK, "rotated the audit key at seq %lld: key %s, was %s "
	    "(keys/audit.pub is the new public key; the old one stays as keys/audit-%s.pub, "
	    "its secret key is destroyed)", (long long)r->seq, r->keyid, r->was, r->was);
}
