/*
 * keyring.c: the sequence of public keys that sign one chain.
 *
 * Key 1 signs from seq 1. `arbiter audit rotate-key` appends a key.rotate
 * event, signed by the key in force at its seq, whose details name the next
 * key; that key signs every event after it. So the keys of a chain follow
 * from its first key alone: each rotation is checked with the key before
 * it, and a rotation signed by any other key (someone who wrote the
 * database without the key) ends the ring there. The ring knows nothing of
 * where events come from: a store's table (keyring_store.c), a server's
 * GET /v1/keys (evidence_client.c), a unit test.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

void keyring_init(keyring *k, const unsigned char pk[32], const unsigned char keyid[8])
{
	memset(k, 0, sizeof *k);
	k->keys = calloc(1, sizeof *k->keys);
	if (k->keys == NULL)
		abort();
	k->n = 1;
	k->keys[0].from = 1;
	memcpy(k->keys[0].pk, pk, 32);
	if (keyid != NULL)
		memcpy(k->keys[0].keyid, keyid, 8);
}

void keyring_free(keyring *k)
{
	free(k->keys);
	memset(k, 0, sizeof *k);
}

const ring_key *keyring_at(const keyring *k, int64_t seq)
{
	size_t i = k->n;
	while (i > 1 && k->keys[i - 1].from > seq)
		i--;
	return &k->keys[i - 1];
}

const ring_key *keyring_last(const keyring *k)
{
	return &k->keys[k->n - 1];
}

bool key_rotation_named(const char *details, unsigned char pk[32], unsigned char keyid[8])
{
	json_t *d = json_loads(details ? details : "", JSON_REJECT_DUPLICATES, NULL);
	const char *line = json_string_value(json_object_get(d, "pubkey"));
	const char *id = json_string_value(json_object_get(d, "keyid"));
	char shown[17];
	bool ok = line != NULL && id != NULL &&
	    keys_parse_public_line(line, strlen(line), pk, keyid);
	if (ok) {
		keys_id_hex(keyid, shown);
		ok = strcmp(shown, id) == 0;
	}
	json_decref(d);
	return ok;
}

void keyring_event_verify(const keyring *k, const audit_event *e, bool *hash_ok, bool *sig_ok)
{
	audit_event_verify(e, keyring_at(k, e->seq)->pk, hash_ok, sig_ok);
}

const ring_key *keyring_by_id(const keyring *k, const unsigned char keyid[8])
{
	for (size_t i = k->n; i > 0; i--)
		if (memcmp(k->keys[i - 1].keyid, keyid, 8) == 0)
			return &k->keys[i - 1];
	return NULL;
}

void ring_key_name(const ring_key *key, char out[24])
{
	static const unsigned char none[8];
	if (memcmp(key->keyid, none, 8) == 0)
		snprintf(out, 24, "the first key");
	else
		keys_id_hex(key->keyid, out);
}

bool keyring_follow(keyring *k, const audit_event *e, char *why, size_t len)
{
	char id[24];
	const ring_key *in_force = keyring_at(k, e->seq);
	ring_key_name(in_force, id);
	bool hash_ok, sig_ok;
	unsigned char pk[32], keyid[8];
	if (e->event == NULL || strcmp(e->event, "key.rotate") != 0 || e->seq <= k->followed) {
		snprintf(why, len, "event %lld is not the key.rotate after seq %lld", (long long)e->seq,
		    (long long)k->followed);
		return false;
	}
	audit_event_verify(e, in_force->pk, &hash_ok, &sig_ok);
	if (!hash_ok) {
		snprintf(why, len, "the key.rotate event at seq %lld does not match its hash (edited)",
		    (long long)e->seq);
		return false;
	}
	if (!sig_ok) {
		snprintf(why, len, "the key.rotate event at seq %lld is not signed by the key in force "
		    "(%s): a rotation made without that key", (long long)e->seq, id);
		return false;
	}
	if (!key_rotation_named(e->details, pk, keyid)) {
		snprintf(why, len, "the key.rotate event at seq %lld names no public key",
		    (long long)e->seq);
		return false;
	}
	ring_key *keys = realloc(k->keys, (k->n + 1) * sizeof *k->keys);
	if (keys == NULL)
		abort();
	k->keys = keys;
	ring_key *next = &k->keys[k->n++];
	next->from = e->seq + 1;
	memcpy(next->pk, pk, 32);
	memcpy(next->keyid, keyid, 8);
	k->followed = e->seq;
	return true;
}
