/*
 * signing_key.c: every connection signs with the key the chain says is
 * current.
 *
 * Every connection (the server keeps several) learns of a rotation
 * (ops_keys.c) at its next write transaction: the seq of the last
 * key.rotate is read once per transaction (one index lookup, audit.c asks
 * before its first event), and a new one loads the new key before anything
 * is signed, so nothing is ever signed by a retired key. A rotation by a
 * connection that stopped before its files were in place is finished here
 * first (keys_settle.c), under the write lock the transaction holds.
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

bool store_last_rotation(store *s, key_rotation *r)
{
	sqlite3_stmt *st = store_stmt(s, SQL_KEY_ROTATION, keys_last_rotation_sql);
	if (st == NULL)
		return false;
	bool ok = keys_last_rotation(st, r, s->err, sizeof s->err);
	sqlite3_reset(st);
	return ok;
}

/* Loads keys/audit.pub and the secret key again. */
static bool reload(store *s)
{
	char path[PATH_MAX + 32];
	unsigned char keyid[8];
	snprintf(path, sizeof path, "%s/keys/audit.pub", s->dir);
	return keys_load_public(path, s->pk, keyid, s->err, sizeof s->err) &&
	    store_load_signing_key(s);
}

bool signing_key_current(store *s)
{
	key_rotation last;
	if (!store_last_rotation(s, &last))
		return false;
	if (s->key_known && last.seq == s->key_seq)
		return true;
	char err[512];
	if (last.seq > 0 && memcmp(s->pk, last.pk, 32) != 0) {
		if (!keys_settle(s->dir, &last, err, sizeof err)) {
			snprintf(s->err, sizeof s->err, "%s", err);
			return false;
		}
		if (!reload(s))
			return false;
		if (memcmp(s->pk, last.pk, 32) != 0) {
			char id[17];
			keys_id_hex(last.keyid, id);
			snprintf(s->err, sizeof s->err, "keys/audit.pub is not the key that key.rotate at "
			    "seq %lld names (%s): nothing is signed with another", (long long)last.seq, id);
			return false;
		}
	}
	s->key_seq = last.seq;
	s->key_known = true;
	return true;
}
