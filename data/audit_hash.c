/*
 * audit_hash.c: an audit event's hash and signature, computed and checked
 * from the event alone.
 *
 * Each event's hash is SHA-256 over the previous event's hash and an
 * unambiguous encoding of the event (docs/audit.md: every field as its
 * length, 8 bytes big-endian, then its bytes); its signature is Ed25519
 * over that hash. Nothing here reads a store: the log's writer and its
 * verification (audit.c), the keyring that follows rotations (keyring.c)
 * and the judges of evidence all check events the same way. SHA-256 is the
 * engine's (libcrypto, on the CPU's SHA instructions): verify recomputes a
 * million of them.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

static void put_field(sha256_ctx *h, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	unsigned char n[8];
	for (int i = 0; i < 8; i++)
		n[i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	sha256_update(h, n, 8);
	if (len)
		sha256_update(h, text, len);
}

void audit_hash(const unsigned char prev[32], int64_t seq, const char *ts, const char *actor,
    const char *event, const char *subject, const char *details, unsigned char out[32])
{
	sha256_ctx h;
	char seqtext[24];
	snprintf(seqtext, sizeof seqtext, "%lld", (long long)seq);
	sha256_init(&h);
	sha256_update(&h, prev, 32);
	put_field(&h, seqtext);
	put_field(&h, ts);
	put_field(&h, actor);
	put_field(&h, event);
	put_field(&h, subject);
	put_field(&h, details);
	sha256_final(&h, out);
}

bool audit_hex32(const char *hex, unsigned char out[32])
{
	return hex != NULL && strlen(hex) == 64 && public_unhex(out, hex, 32);
}

bool audit_sig_holds(const char *sighex, const unsigned char hash[32], const unsigned char pk[32])
{
	unsigned char sig[64];
	return sighex != NULL && strlen(sighex) == 128 && public_unhex(sig, sighex, 64) &&
	    crypto_sign_verify_detached(sig, hash, 32, pk) == 0;
}

void audit_event_verify(const audit_event *e, const unsigned char pk[32], bool *hash_ok,
    bool *sig_ok)
{
	unsigned char prev[32], hash[32], recomputed[32];
	bool have = audit_hex32(e->prev, prev) && audit_hex32(e->hash, hash);
	if (have)
		audit_hash(prev, e->seq, e->ts, e->actor, e->event, e->subject, e->details, recomputed);
	*hash_ok = have && memcmp(recomputed, hash, 32) == 0;
	*sig_ok = audit_hex32(e->hash, hash) && audit_sig_holds(e->sig, hash, pk);
}
