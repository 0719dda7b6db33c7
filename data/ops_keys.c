/*
 * ops_keys.c: rotating the audit key (arbiter audit rotate-key).
 *
 * A rotation is one transaction: an enabled admin's code, a new pair
 * written beside the old one as keys/audit.key.new and keys/audit.pub.new,
 * and the key.rotate event (details: the new key id, its public key as
 * minisign's line, the id it replaces), signed by the old key. Only after
 * the commit are the files put into place (keys_settle.c: the retired
 * public key kept under its id, the old secret key wiped, the new pair
 * renamed over the old); a rotation interrupted before or after its commit
 * is settled at the next open of the store or the next write of any
 * connection (keys_settle.c, signing_key.c). From the commit on, this
 * connection signs with the new key, whatever happens to the files.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "remote.h"

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
	snprintf(path, sizeof path, "%s/keys/audit.pub", s->dir);
	key_rotation prev;
	if (!signing_key_current(s) || !store_last_rotation(s, &prev))
		return op_failed(s, rep);
	if (!keys_settle(s->dir, &prev, err, sizeof err) ||
	    !keys_load_public(path, old_pk, old_id, err, sizeof err)) {
		store_rollback(s);
		return op_say(rep, OUT_IO_ERROR, "%s", err);
	}
	keypair kp;
	if (!keys_write_pair(s->dir, ".new", &kp, err, sizeof err)) {
		char also[512];
		sodium_memzero(&kp, sizeof kp);
		keys_discard_new(s->dir, also, sizeof also);
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
		keys_discard_new(s->dir, err, sizeof err);
		return rep->out;
	}
	r->seq = s->head_seq;
	/* from here on only the new key signs, whatever happens to the files */
	memcpy(s->sk, kp.sk, sizeof s->sk);
	memcpy(s->pk, kp.pk, sizeof s->pk);
	s->key_seq = r->seq;
	s->key_known = true;
	key_rotation now = { .seq = r->seq, .first = prev.seq == 0 };
	memcpy(now.pk, kp.pk, sizeof now.pk);
	memcpy(now.keyid, kp.keyid, sizeof now.keyid);
	bool placed = keys_put_in_place(s->dir, &now, err, sizeof err);
	sodium_memzero(&kp, sizeof kp);
	if (!placed)
		return op_say(rep, OUT_IO_ERROR, "the key was rotated (key.rotate, seq %lld, key %s), "
		    "but its files are not in place: %s; the next open of the store finishes it",
		    (long long)r->seq, r->keyid, err);
	return op_say(rep, OUT_OK, "rotated the audit key at seq %lld: key %s, was %s "
	    "(keys/audit.pub is the new public key; the old one stays as keys/audit-%s.pub, "
	    "its secret key is destroyed)", (long long)r->seq, r->keyid, r->was, r->was);
}
