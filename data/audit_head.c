/*
 * audit_head.c: the signed head record, which says where the log ends.
 *
 * The chain proves that no event was edited, inserted or removed before its
 * last one; nothing in the audit table can prove that the last one is the
 * last. So every transaction that appends events also writes one row
 * outside the audit table, audit_head: the seq and hash of the new head and
 * an Ed25519 signature, by the store's key, over a text of its own
 *
 *     arbiter audit head v1\n<store id>\n<seq>\n<hash>\n
 *
 * (the prefix keeps it from being taken for an event's signature, which is
 * over a bare hash, and the store id from another store's record). The row
 * is written once per transaction, at commit (the slot KEEP_HEAD_RECORD,
 * after the events it covers), so a bulk write pays one signature more, not
 * one per event. Deleting the newest events, or every event, then leaves a
 * record that names a head the log no longer has, and writing a new record
 * needs the key: audit verify checks the record's signature and that the
 * chain ends exactly at its seq with its hash (audit_head_check).
 *
 * A store made before the record (schema 13) gets it when it is upgraded
 * (audit_head_migrate): signed over the head the log has then, unverified,
 * since verify still recomputes the chain before it trusts the record. The
 * record's text, its signature and that step are audit_head_sign.c's,
 * below the store that runs the schema; this file writes and checks the
 * record through the store.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static bool write_record(store *s, void *ctx)
{
	(void)ctx;
	char hash[65], sig[129];
	public_hex(hash, s->head_hash, 32);
	audit_head_sign(s->sk, s->id, s->head_seq, hash, sig);
	sqlite3_stmt *st = store_stmt(s, SQL_HEAD_RECORD, "INSERT INTO audit_head (id, seq, hash, "
	    "sig) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, "
	    "hash = excluded.hash, sig = excluded.sig");
	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, s->head_seq);
	sqlite3_bind_text(st, 2, hash, 64, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sig, 128, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot write the audit head record");
	sqlite3_reset(st);
	return ok;
}

static void drop_record(store *s, void *ctx)
{
	(void)s;
	(void)ctx;
}

const store_keeper audit_head_keeper = { write_record, drop_record };

static bool bad(verify_result *r, int64_t seq, const char *fmt, ...) ATTR_PRINTF(3, 4);
static bool bad(verify_result *r, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->ok = false;
	r->bad_seq = seq;
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	return true;
}

bool audit_head_check(store *s, const unsigned char pk[32], verify_result *r)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT seq, hash, sig FROM audit_head WHERE id = 1", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit head record");
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return store_fail(s, "cannot read the audit head record");
	}
	long long last = r->head_seq;
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		if (last == 0)
			return bad(r, 1, "the log is empty: a store's log starts with store.init at "
			    "seq 1 (every event was deleted)");
		return bad(r, last, "the signed head record is missing (deleted): the end of the "
		    "log at seq %lld cannot be proven", last);
	}
	long long seq = sqlite3_column_int64(st, 0);
	const char *hash = (const char *)sqlite3_column_text(st, 1);
	const char *sighex = (const char *)sqlite3_column_text(st, 2);
	char text[192];
	unsigned char sig[64];
	size_t n = hash && strlen(hash) == 64 ? audit_head_text(s->id, seq, hash, text,
	    sizeof text) : 0;
	bool signed_ok = n > 0 && sighex != NULL && strlen(sighex) == 128 &&
	    sodium_hex2bin(sig, 64, sighex, 128, NULL, NULL, NULL) == 0 &&
	    crypto_sign_verify_detached(sig, (const unsigned char *)text, n, pk) == 0;
	bool same_hash = n > 0 && strcmp(hash, r->head) == 0;
	sqlite3_finalize(st);
	if (!signed_ok)
		return bad(r, seq > 0 ? seq : 1, "the signed head record (seq %lld) does not verify "
		    "with this public key: it was forged or edited", seq);
	if (seq > last && last == 0)
		return bad(r, 1, "the log is empty but the signed head record says seq %lld: every "
		    "event was deleted", seq);
	if (seq > last)
		return bad(r, last + 1, "the log ends at seq %lld but the signed head record says "
		    "seq %lld: events were deleted", last, seq);
	if (seq < last)
		return bad(r, seq + 1, "the log goes on past the signed head record (seq %lld, the "
		    "log ends at seq %lld): events were added by something other than arbiter",
		    seq, last);
	if (!same_hash)
		return bad(r, seq, "the signed head record names another hash for seq %lld: the log "
		    "was rewritten", seq);
	return true;
}
