/*
 * keyring_store.c: a store's keyring, from its first key and the key.rotate
 * events of its chain (keyring.c).
 *
 * The first key is keys/audit-1.pub (init writes it; a store made before
 * that has only keys/audit.pub, its first key until it rotates, when the
 * rotation keeps it as audit-1.pub). The rotations are read by the
 * audit_event index, oldest first: a handful of rows, whatever the length
 * of the log. A connection keeps its ring and, when asked again, follows
 * only the rotations appended since (the chain only grows), so that the
 * signed events behind every allow are judged by the key in force at their
 * seq for the price of one index lookup. The ring is freed when the store
 * closes, by the closer this file registers (store_on_close).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store_impl.h"

/* Whether the chain holds a key.rotate event: 1, 0, -1 error. */
static int rotated(store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM audit WHERE event = 'key.rotate' LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log"), -1;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(s, "cannot read the audit log");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

bool store_first_key(store *s, unsigned char pk[32], unsigned char keyid[8], char *err,
    size_t errlen)
{
	char path[PATH_MAX + 32];
	struct stat st;
	snprintf(path, sizeof path, "%s/keys/" KEYS_FIRST, s->dir);
	if (stat(path, &st) == 0 || errno != ENOENT)
		return keys_load_public(path, pk, keyid, err, errlen);
	int r = rotated(s);
	if (r != 0) {
		snprintf(err, errlen, r < 0 ? "%s" : "%s is missing and the store's key was rotated: "
		    "give the first public key with --pubkey", r < 0 ? s->err : path);
		return false;
	}
	snprintf(path, sizeof path, "%s/keys/audit.pub", s->dir);
	return keys_load_public(path, pk, keyid, err, errlen);
}

typedef struct follow_ctx {
	keyring *k;
	int64_t bad_seq;
	char *why;
	size_t len;
} follow_ctx;

static bool follow_one(const audit_event *e, void *arg)
{
	follow_ctx *f = arg;
	if (keyring_follow(f->k, e, f->why, f->len))
		return true;
	f->bad_seq = e->seq;
	return false;
}

/* Follows the rotations after k->followed: 1, 0 (bad_seq, why), -1. */
static int follow_new(store *s, keyring *k, int64_t *bad_seq, char *why, size_t len)
{
	audit_filter f = { .event = "key.rotate", .after_seq = k->followed, .oldest_first = true };
	follow_ctx x = { k, 0, why, len };
	if (!audit_read(s, &f, follow_one, &x) && x.bad_seq == 0)
		return -1;
	if (bad_seq != NULL)
		*bad_seq = x.bad_seq;
	return x.bad_seq == 0;
}

int keyring_load(store *s, const unsigned char *pk, const unsigned char *keyid, keyring *k,
    int64_t *bad_seq, char *why, size_t len)
{
	unsigned char first[32], first_id[8];
	if (pk == NULL) {
		if (!store_first_key(s, first, first_id, s->err, sizeof s->err))
			return -1;
		pk = first;
		keyid = first_id;
	}
	keyring_init(k, pk, keyid);
	*bad_seq = 0;
	int r = follow_new(s, k, bad_seq, why, len);
	if (r < 0)
		keyring_free(k);
	return r;
}

/* The store's closer (store_on_close): the ring goes with the connection. */
static void drop_ring(store *s, void *ctx)
{
	(void)ctx;
	keyring_free(&s->ring);
	s->ring_ready = false;
}

int store_keyring(store *s, const keyring **k, char *why, size_t len)
{
	int64_t bad;
	int r;
	*k = NULL;
	if (!s->ring_closes) {
		store_on_close(s, drop_ring, NULL);
		s->ring_closes = true;
	}
	if (!s->ring_ready) {
		r = keyring_load(s, NULL, NULL, &s->ring, &bad, why, len);
		if (r == 0)
			keyring_free(&s->ring);
		s->ring_ready = r > 0;
	} else if ((r = follow_new(s, &s->ring, &bad, why, len)) <= 0) {
		keyring_free(&s->ring);
		s->ring_ready = false;
	}
	if (r < 0)
		snprintf(why, len, "%s", s->err);
	if (r > 0)
		*k = &s->ring;
	return r;
}
