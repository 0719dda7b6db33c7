/*
 * audit.c: the append-only, hash-chained, signed audit log.
 *
 * Each event's hash is SHA-256 over the previous event's hash and an
 * unambiguous encoding of the event (docs/audit.md); its signature is Ed25519
 * over that hash (both computed and checked by audit_hash.c). Appends happen inside the caller's write transaction, which
 * holds SQLite's write lock from BEGIN IMMEDIATE, so the head read here is
 * the head: concurrent writers form one linear chain.
 *
 * Verification recomputes every hash and link in one pass (catching edited,
 * deleted, inserted and reordered events), then checks the head's signature:
 * through the chain it covers every earlier event. When it fails, a binary
 * search names the first event whose signature fails; that is well defined
 * because rewriting an event forces rewriting every later hash, and so
 * invalidates every later signature. The log starts with store.init at seq
 * 1, and ends where the signed head record says (audit_head.c), which
 * every appending transaction writes: so neither end can be cut off. The
 * same pass hands each event to the check of the tables against the events
 * (verify_tables.c), which reads the tables once the chain is proved. Each
 * signature is checked with the key in force at its seq (keyring.c:
 * key.rotate events name the next key). A signature is not part of the
 * hash, so one edited alone, in the middle of the chain, changes nothing
 * the head's signature covers: only --full (audit_full.c: every signature,
 * on every core) finds it.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

enum { SIGN_INLINE = 16 };      /* events a bulk write signs itself */

/* The head is read once per transaction and forgotten when it ends:
 * another process may append before the next one, and a rollback may
 * have moved it back. What it was stays readable (the checkpoint records
 * the head its own transaction committed). */
static bool forget_head(store *s, void *ctx)
{
	(void)ctx;
	s->head_known = false;
	return true;
}

static void drop_head(store *s, void *ctx)
{
	forget_head(s, ctx);
}

static const store_keeper head_keeper = { forget_head, drop_head };

static bool read_head(store *s)
{
	if (s->head_known)
		return true;
	sqlite3_stmt *st = store_stmt(s, SQL_AUDIT_HEAD,
	    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
	if (st == NULL)
		return false;
	int rc = sqlite3_step(st);
	s->head_seq = 0;
	memset(s->head_hash, 0, 32);
	if (rc == SQLITE_ROW) {
		s->head_seq = sqlite3_column_int64(st, 0);
		const char *hex = (const char *)sqlite3_column_text(st, 1);
		if (hex == NULL || sodium_hex2bin(s->head_hash, 32, hex, strlen(hex), NULL, NULL, NULL) != 0) {
			snprintf(s->err, sizeof s->err, "the audit head (seq %lld) has a malformed hash",
			    (long long)s->head_seq);
			return false;
		}
	} else if (rc != SQLITE_DONE) {
		return store_fail(s, "cannot read the audit head");
	}
	sqlite3_reset(st);
	s->head_known = true;
	store_keep(s, KEEP_AUDIT_HEAD, &head_keeper, NULL);
	return true;
}

bool audit_insert(store *s, int64_t seq, const char *ts, const char *actor, const char *event,
    const char *subject, const char *details, const unsigned char prev[32],
    const unsigned char hash[32], const unsigned char sig[64])
{
	char prevhex[65], hashhex[65], sighex[129];
	public_hex(prevhex, prev, 32);
	public_hex(hashhex, hash, 32);
	public_hex(sighex, sig, 64);
	sqlite3_stmt *st = store_stmt(s, SQL_AUDIT_INSERT, "INSERT INTO audit (seq, ts, actor, event, "
	    "subject, details, prev, hash, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, details, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, prevhex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, hashhex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, sighex, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot append the audit event");
	sqlite3_reset(st);
	return ok;
}

bool audit_append(store *s, const char *actor, const char *event, const char *subject,
    json_t *details)
{
	char *text = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	bool ok = audit_append_text(s, actor, event, subject, text ? text : "{}");
	free(text);
	return ok;
}

bool audit_append_text(store *s, const char *actor, const char *event, const char *subject,
    const char *det)
{
	if (!s->have_sk && !store_load_signing_key(s))
		return false;
	if (sqlite3_get_autocommit(s->db)) {
		snprintf(s->err, sizeof s->err, "audit event %s outside a transaction", event);
		return false;
	}
	/* once per transaction, before its first event: the key the chain names */
	if (!s->head_known && !signing_key_current(s))
		return false;
	if (!read_head(s))
		return false;
	char ts[32];
	format_time(now_ms(), ts);
	int64_t seq = s->head_seq + 1;
	unsigned char h[32], sg[64];
	subject = subject ? subject : "";
	audit_hash(s->head_hash, seq, ts, actor, event, subject, det, h);
	bool ok = true;
	/* a bulk write signs on a second thread once it is more than a few events
	 * long; without one, each event is signed here */
	if (s->bulk && !s->sign_inline && s->signer == NULL && ++s->appended > SIGN_INLINE &&
	    !audit_signer_start(s, audit_insert))
		s->sign_inline = true;
	if (s->signer != NULL) {
		/* signed alongside, written before the commit (audit_signer.c) */
		audit_signer_add(s, seq, ts, actor, event, subject, det, s->head_hash, h);
	} else {
		crypto_sign_detached(sg, NULL, h, 32, s->sk);
		ok = audit_insert(s, seq, ts, actor, event, subject, det, s->head_hash, h, sg);
	}
	if (ok) {
		s->head_seq = seq;
		memcpy(s->head_hash, h, 32);
		store_keep(s, KEEP_HEAD_RECORD, &audit_head_keeper, NULL);
	} else {
		s->head_known = false;
	}
	return ok;
}

/* Does the signature of event seq verify? (Its hash is known good.) */
static int check_sig_at(sqlite3_stmt *st, int64_t seq, const unsigned char pk[32])
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) != SQLITE_ROW)
		return -1;
	unsigned char h[32];
	if (!audit_hex32((const char *)sqlite3_column_text(st, 0), h))
		return 0;
	return audit_sig_holds((const char *)sqlite3_column_text(st, 1), h, pk);
}

static const char *event_name(sqlite3_stmt *st)
{
	const char *e = (const char *)sqlite3_column_text(st, 3);
	return e ? e : "";
}

static bool bad(verify_result *r, int64_t seq, const char *why)
{
	r->ok = false;
	r->bad_seq = seq;
	snprintf(r->why, sizeof r->why, "%s", why);
	return true;
}

void audit_event_check(store *s, const audit_event *e, bool *hash_ok, bool *sig_ok_out)
{
	const keyring *ring;
	char why[256];
	audit_event_verify(e, s->pk, hash_ok, sig_ok_out);
	if (store_keyring(s, &ring, why, sizeof why) > 0)
		keyring_event_verify(ring, e, hash_ok, sig_ok_out);
	else
		*sig_ok_out = false;
}

int audit_hash_at(store *s, int64_t seq, char hash[65])
{
	sqlite3_stmt *st;
	hash[0] = '\0';
	if (sqlite3_prepare_v2(s->db, "SELECT hash FROM audit WHERE seq = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		{
		store_fail(s, "cannot read the audit log");
		return -1;
	}
	sqlite3_bind_int64(st, 1, seq);
	int rc = sqlite3_step(st);
	int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	if (found == 1)
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (found < 0)
		store_fail(s, "cannot read the audit log");
	sqlite3_finalize(st);
	return found;
}

/* While the tables are read: the signature workers get the events set
 * aside during the chain's pass (audit_full.c). */
static void keep_checking(void *pool)
{
	sig_pool_refill(pool);
}

/* The chain, in one pass: every hash and link, then the head's signature
 * (full: every event's, on sig_pool's threads), each with the key in force
 * at its seq (keyring.c), starting from pk (NULL: the store's first key);
 * the signed head record; and that the chain's current key is
 * keys/audit.pub. Each event, once its hash holds, also goes to the table
 * check t, which the caller finishes, or, full, this does, while the
 * workers check the signatures set aside during the chain's pass
 * (*tables_done): the tables' reading leaves no core idle. Their verdict
 * counts only when the chain holds. */
static bool verify_chain(store *s, const unsigned char pk[32], bool full, verify_result *r,
    table_check *t, bool *tables_done)
{
	memset(r, 0, sizeof *r);
	r->ok = true;
	keyring ring;
	int64_t ring_bad;
	char ring_why[256];
	int held = keyring_load(s, pk, NULL, &ring, &ring_bad, ring_why, sizeof ring_why);
	if (held < 0)
		return false;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT seq, ts, actor, event, subject, details, prev, hash, sig "
	    "FROM audit ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		keyring_free(&ring);
		return store_fail(s, "cannot read the audit log");
	}
	sig_pool *pool = full ? sig_pool_start(s, &ring, 0, 0, -1) : NULL;
	unsigned char prev[32] = { 0 }, h[32], stored_hash[32], stored_prev[32];
	int64_t expect = 1, chain_bad = 0;
	bool failed = false;            /* the table check failed (s->err) */
	char chain_why[160];
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		if (seq != expect) {
			snprintf(chain_why, sizeof chain_why, seq > expect
			    ? "events %lld to %lld are missing (deleted)"
			    : "an event was inserted or reordered before seq %lld (%lld)",
			    (long long)expect, (long long)seq - 1);
			chain_bad = seq > expect ? expect : seq;
			break;
		}
		if (!audit_hex32((const char *)sqlite3_column_text(st, 6), stored_prev) ||
		    sodium_memcmp(stored_prev, prev, 32) != 0) {
			snprintf(chain_why, sizeof chain_why, "its prev does not match the hash of the "
			    "event before it (an event before it was deleted, inserted, reordered or "
			    "rewritten)");
			chain_bad = seq;
			break;
		}
		audit_hash(prev, seq, (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
		    (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5), h);
		if (!audit_hex32((const char *)sqlite3_column_text(st, 7), stored_hash) ||
		    sodium_memcmp(stored_hash, h, 32) != 0) {
			snprintf(chain_why, sizeof chain_why, "its contents do not match its hash (the "
			    "event was edited)");
			chain_bad = seq;
			break;
		}
		if (seq == 1 && strcmp(event_name(st), "store.init") != 0) {
			snprintf(chain_why, sizeof chain_why, "the first event is not store.init: the log "
			    "does not start where the store began");
			chain_bad = 1;
			break;
		}
		if (t != NULL && !tables_event(t, seq, (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3), (const char *)sqlite3_column_text(st, 4),
		    (const char *)sqlite3_column_text(st, 5))) {
			failed = true;
			break;
		}
		if (pool != NULL)
			sig_pool_add(pool, seq, h, (const char *)sqlite3_column_text(st, 8));
		memcpy(prev, h, 32);
		r->events++;
		r->head_seq = seq;
		expect = seq + 1;
	}
	sqlite3_finalize(st);
	verify_result tables = { .ok = true };
	*tables_done = false;
	if (pool != NULL && t != NULL && !failed && rc == SQLITE_DONE && chain_bad == 0) {
		tables_on_rows(t, keep_checking, pool);
		failed = !tables_finish(t, &tables);
		*tables_done = true;
	}
	bool reread = true;
	int64_t sig_bad = pool != NULL ? sig_pool_finish(pool, &reread) : 0;
	if (failed) {
		keyring_free(&ring);
		return false;
	}
	bool read_ok = (rc == SQLITE_DONE || chain_bad != 0) && reread;
	public_hex(r->head, prev, 32);
	/* the first bad event, of a broken link, a rotation made without the
	 * key in force, or a signature that does not hold */
	char id[24];
	if (read_ok && (sig_bad != 0 || chain_bad != 0 || held == 0)) {
		int64_t first = chain_bad;
		const char *why = chain_why;
		if (held == 0 && (first == 0 || ring_bad < first)) {
			first = ring_bad;
			why = ring_why;
		}
		if (sig_bad != 0 && (first == 0 || sig_bad < first)) {
			first = sig_bad;
			ring_key_name(keyring_at(&ring, sig_bad), id);
			snprintf(chain_why, sizeof chain_why, "its signature does not verify with the key in "
			    "force at its seq (%s): signed by another key, or forged", id);
			why = chain_why;
		}
		keyring_free(&ring);
		return bad(r, first, why);
	}
	if (!read_ok) {
		keyring_free(&ring);
		return store_fail(s, "cannot read the audit log");
	}
	if (r->events > 0 && !full) {
		if (sqlite3_prepare_v2(s->db, "SELECT hash, sig FROM audit WHERE seq = ?", -1, &st,
		    NULL) != SQLITE_OK) {
			keyring_free(&ring);
			return store_fail(s, "cannot read the audit log");
		}
		int head = check_sig_at(st, r->head_seq, keyring_at(&ring, r->head_seq)->pk);
		if (head != 1) {
			/* the first event whose signature fails: all after it fail too */
			int64_t lo = 1, hi = r->head_seq;
			while (lo < hi) {
				int64_t mid = lo + (hi - lo) / 2;
				if (check_sig_at(st, mid, keyring_at(&ring, mid)->pk) == 1)
					lo = mid + 1;
				else
					hi = mid;
			}
			sqlite3_finalize(st);
			ring_key_name(keyring_at(&ring, lo), id);
			snprintf(chain_why, sizeof chain_why, "its signature does not verify with the key in "
			    "force at its seq (%s): signed by another key, or forged", id);
			keyring_free(&ring);
			return bad(r, lo, chain_why);
		}
		sqlite3_finalize(st);
	}
	/* the head record is signed by the key in force at its seq */
	if (!audit_head_check(s, keyring_at(&ring, r->head_seq)->pk, r)) {
		keyring_free(&ring);
		return false;
	}
	if (!r->ok) {
		keyring_free(&ring);
		return true;
	}
	/* the store signs its next event with keys/audit.pub: it must be the
	 * key the chain reached */
	const ring_key *now = keyring_last(&ring);
	bool current = memcmp(now->pk, s->pk, 32) == 0;
	if (!current) {
		ring_key_name(now, id);
		snprintf(chain_why, sizeof chain_why, "keys/audit.pub is not the key the chain reaches at "
		    "its head (%s)", id);
	}
	keyring_free(&ring);
	if (!current)
		return bad(r, r->head_seq, chain_why);
	if (!tables.ok) {
		r->ok = false;
		r->bad_seq = tables.bad_seq;
		r->tables = tables.tables;
		memcpy(r->why, tables.why, sizeof r->why);
	}
	return true;
}

/* verify_chain in one snapshot: the chain and the head record as one
 * commit left them. */
static bool verify(store *s, const unsigned char pk[32], bool full, verify_result *r)
{
	/* one snapshot: the chain, the head record and the tables as one commit
	 * left them (and --full's second read of an event: audit_full.c) */
	memset(r, 0, sizeof *r);
	bool own = sqlite3_get_autocommit(s->db);
	if (own && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log");
	table_check *t = tables_begin(s);
	bool tables_done = false;
	bool ok = t != NULL && verify_chain(s, pk, full, r, t, &tables_done) &&
	    (!r->ok || tables_done || tables_finish(t, r));
	tables_free(t);
	if (own)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return ok;
}

bool audit_verify(store *s, const unsigned char pk[32], verify_result *r)
{
	return verify(s, pk, false, r);
}

bool audit_verify_full(store *s, const unsigned char pk[32], verify_result *r)
{
	return verify(s, pk, true, r);
}
