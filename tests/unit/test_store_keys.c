/*
 * test_store_keys.c: the keys of a chain (keyring.c, keyring_store.c), the
 * rotation (ops_keys.c) and verify --full (audit_full.c): a ring follows
 * rotations signed by the key in force and stops at one that is not, or
 * that names no key; a rotation needs an admin's good code, signs with the
 * old key, switches the store to the new one and keeps the retired public
 * key; verify follows it from the first key; leftovers of a rotation that
 * never committed are discarded at open; --full finds a signature edited
 * alone, which no hash covers, across batches of its workers, and checks
 * the events it set aside while its queue was full, read again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store_support.h"

static unsigned char PREV[32];

/* A key.rotate event at seq naming (pk, keyid), chained to PREV, signed by
 * sk. */
static audit_event rotation(int64_t seq, const unsigned char pk[32], const unsigned char keyid[8],
    const unsigned char sk[64])
{
	audit_event e = { .seq = seq, .ts = "2030-01-01T00:00:00.000Z", .actor = "tester",
		.event = "key.rotate", .subject = "" };
	char line[57], id[17];
	keys_public_line(pk, keyid, line);
	keys_id_hex(keyid, id);
	e.details = arena_printf(T.a, "{\"keyid\":\"%s\",\"pubkey\":\"%s\",\"was\":\"0\"}", id, line);
	unsigned char h[32], sig[64];
	audit_hash(PREV, seq, e.ts, e.actor, e.event, e.subject, e.details, h);
	crypto_sign_detached(sig, NULL, h, 32, sk);
	sodium_bin2hex(e.prev, sizeof e.prev, PREV, 32);
	sodium_bin2hex(e.hash, sizeof e.hash, h, 32);
	sodium_bin2hex(e.sig, sizeof e.sig, sig, 64);
	memcpy(PREV, h, 32);
	return e;
}

static void test_a_ring_follows_rotations_signed_by_the_key_in_force(void **state)
{
	(void)state;
	unsigned char pk[3][32], sk[3][64], id[3][8];
	for (int i = 0; i < 3; i++) {
		crypto_sign_keypair(pk[i], sk[i]);
		randombytes_buf(id[i], 8);
	}
	keyring k;
	char why[256];
	keyring_init(&k, pk[0], id[0]);
	audit_event r1 = rotation(5, pk[1], id[1], sk[0]);
	audit_event r2 = rotation(9, pk[2], id[2], sk[1]);
	assert_true(keyring_follow(&k, &r1, why, sizeof why));
	assert_true(keyring_follow(&k, &r2, why, sizeof why));
	assert_int_equal(k.n, 3);
	assert_memory_equal(keyring_at(&k, 1)->pk, pk[0], 32);
	assert_memory_equal(keyring_at(&k, 5)->pk, pk[0], 32);   /* the rotation itself: the old key */
	assert_memory_equal(keyring_at(&k, 6)->pk, pk[1], 32);
	assert_memory_equal(keyring_at(&k, 9)->pk, pk[1], 32);
	assert_memory_equal(keyring_at(&k, 10)->pk, pk[2], 32);
	assert_memory_equal(keyring_last(&k)->pk, pk[2], 32);
	assert_false(keyring_follow(&k, &r2, why, sizeof why));  /* not after the last */
	keyring_free(&k);

	/* a rotation signed by a key not in force (the new key signing itself in) */
	memset(PREV, 0, sizeof PREV);
	keyring_init(&k, pk[0], id[0]);
	audit_event forged = rotation(3, pk[1], id[1], sk[1]);
	assert_false(keyring_follow(&k, &forged, why, sizeof why));
	assert_non_null(strstr(why, "the key.rotate event at seq 3 is not signed by the key in force"));
	assert_int_equal(k.n, 1);
	/* edited after signing */
	memset(PREV, 0, sizeof PREV);
	audit_event edited = rotation(3, pk[1], id[1], sk[0]);
	edited.actor = "mallory";
	assert_false(keyring_follow(&k, &edited, why, sizeof why));
	assert_non_null(strstr(why, "does not match its hash"));
	/* naming no key, or a key id that is not the key's */
	memset(PREV, 0, sizeof PREV);
	audit_event none = rotation(3, pk[1], id[1], sk[0]);
	assert_true(key_rotation_named(none.details, pk[2], id[2]));
	assert_memory_equal(pk[2], pk[1], 32);
	assert_false(key_rotation_named("{\"keyid\":\"00\",\"pubkey\":\"RWQ=\"}", pk[2], id[2]));
	assert_false(key_rotation_named("{}", pk[2], id[2]));
	assert_false(key_rotation_named("not json", pk[2], id[2]));
	keyring_free(&k);
}

static outcome rotate(const char *who, const char *code, key_rotated *r)
{
	op_auth auth = { .actor = who, .code = code };
	return op_audit_rotate_key(S.s, &S.cfg, &auth, r);
}

static void test_a_rotation_switches_the_key_and_verify_follows_it(void **state)
{
	(void)state;
	char code[7];
	enrol("ann", true);
	enrol("bob", false);
	unsigned char first[32], first_id[8];
	char err[256];
	assert_true(keys_load_public(in_store("keys/audit.pub"), first, first_id, err, sizeof err));
	key_rotated r;
	assert_int_equal(rotate("bob", code_now("bob", code), &r), OUT_NOT_PERMITTED);
	assert_int_equal(rotate("ann", "000000", &r), OUT_CODE_REFUSED);
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'key.rotate'"), 0);
	assert_int_equal(rotate("ann", code_now("ann", code), &r), OUT_OK);
	assert_int_equal(db_int("SELECT max(seq) FROM audit WHERE event = 'key.rotate'"), r.seq);
	/* the files: the new pair in place, the old public key kept */
	unsigned char now[32], now_id[8], kept[32], kept_id[8];
	assert_true(keys_load_public(in_store("keys/audit.pub"), now, now_id, err, sizeof err));
	assert_memory_not_equal(now, first, 32);
	assert_true(keys_load_public(in_store(arena_printf(T.a, "keys/audit-%s.pub", r.was)), kept,
	    kept_id, err, sizeof err));
	assert_memory_equal(kept, first, 32);
	assert_int_equal(access(in_store("keys/audit.key.new"), F_OK), -1);
	/* later events are signed by the new key; verify follows from the first */
	int64_t id = submit_action("test.other", "ann", "k/1");
	assert_true(id > 0);
	verify_result v;
	assert_true(audit_verify(S.s, NULL, &v));
	assert_true(v.ok);
	assert_true(audit_verify(S.s, first, &v));
	assert_true(v.ok);
	assert_true(audit_verify_full(S.s, first, &v));
	assert_true(v.ok);
	assert_true(audit_verify(S.s, now, &v));         /* not the first key */
	assert_false(v.ok);
	assert_int_equal(v.bad_seq, r.seq);
	keyring k;
	int64_t bad;
	char why[256];
	assert_int_equal(keyring_load(S.s, NULL, NULL, &k, &bad, why, sizeof why), 1);
	assert_int_equal(k.n, 2);
	assert_memory_equal(keyring_at(&k, r.seq)->pk, first, 32);
	assert_memory_equal(keyring_at(&k, r.seq + 1)->pk, now, 32);
	keyring_free(&k);
	/* the signed evidence of an allow is judged with the key of its seq */
	char status[16];
	assert_int_equal(evidence_of(S.s, id, true, NULL, status, why, sizeof why), 1);
}

static void test_leftovers_of_an_uncommitted_rotation_are_discarded(void **state)
{
	(void)state;
	keypair kp;
	char err[256];
	assert_true(keys_write_pair(S.home, ".new", &kp, err, sizeof err));
	assert_true(store_settle_keys(S.s, err, sizeof err));
	assert_int_equal(access(in_store("keys/audit.key.new"), F_OK), -1);
	assert_int_equal(access(in_store("keys/audit.pub.new"), F_OK), -1);
	verify_result v;
	assert_true(audit_verify(S.s, NULL, &v));
	assert_true(v.ok);
}

static void test_full_finds_a_signature_edited_alone(void **state)
{
	(void)state;
	/* more events than one batch of the workers */
	assert_true(store_begin(S.s));
	for (int i = 0; i < 1500; i++)
		assert_true(audit_append(S.s, "tester", "test.event", "x", NULL));
	assert_true(store_commit(S.s));
	verify_result v;
	assert_true(audit_verify_full(S.s, NULL, &v));
	assert_true(v.ok);
	assert_int_equal(v.events, 1501);
	db_exec("DROP TRIGGER audit_no_update; UPDATE audit SET sig = (SELECT sig FROM audit WHERE "
	    "seq = 1200) WHERE seq IN (1201, 700)");
	assert_true(audit_verify(S.s, NULL, &v));
	assert_true(v.ok);              /* no hash covers a signature */
	assert_true(audit_verify_full(S.s, NULL, &v));
	assert_false(v.ok);
	assert_int_equal(v.bad_seq, 700);
	assert_non_null(strstr(v.why, "its signature does not verify with the key in force"));
	/* the pool alone, on several threads and on none */
	keyring k;
	unsigned char pk[32], sk[64], h[32], sig[64];
	char hex[129];
	crypto_sign_keypair(pk, sk);
	keyring_init(&k, pk, NULL);
	for (int threads = 1; threads <= 3; threads++) {
		sig_pool *p = sig_pool_start(NULL, &k, threads, 0, -1);
		for (int64_t seq = 1; seq <= 2000; seq++) {
			randombytes_buf(h, 32);
			crypto_sign_detached(sig, NULL, h, 32, sk);
			if (seq == 1999 || seq == 1333)
				sig[0] ^= 1;
			sodium_bin2hex(hex, sizeof hex, sig, 64);
			sig_pool_add(p, seq, h, seq == 1600 ? "zz" : hex);
		}
		bool read_ok = false;
		assert_int_equal(sig_pool_finish(p, &read_ok), 1333);
		assert_true(read_ok);
	}
	keyring_free(&k);
}

/* The store's own events through a pool whose queue holds one batch a
 * worker: while the chain's pass reads, most batches find it full and are
 * set aside, as many as its share allows (all of them, or an eighth: the
 * reader checks the others itself); between the rows of another read (the
 * tables', in verify) and at the end, they are read again by seq, and
 * every signature is still checked: the least bad seq is found wherever
 * it was set aside or checked. */
static void test_full_reads_again_the_events_it_set_aside(void **state)
{
	(void)state;
	assert_true(store_begin(S.s));
	for (int i = 0; i < 6000; i++)
		assert_true(audit_append(S.s, "tester", "test.event", "x", NULL));
	assert_true(store_commit(S.s));
	db_exec("DROP TRIGGER audit_no_update; UPDATE audit SET sig = (SELECT sig FROM audit WHERE "
	    "seq = 10) WHERE seq IN (5900, 4100)");
	for (int run = 0; run < 4; run++) {
		int threads = 1 + run % 2, eighths = run < 2 ? 8 : 1;
		keyring ring;
		int64_t ring_bad;
		char why[256];
		assert_int_equal(keyring_load(S.s, NULL, NULL, &ring, &ring_bad, why, sizeof why), 1);
		assert_int_equal(sqlite3_exec(S.s->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
		sig_pool *p = sig_pool_start(S.s, &ring, threads, 1, eighths);
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(S.s->db, "SELECT seq, hash, sig FROM audit "
		    "ORDER BY seq", -1, &st, NULL), SQLITE_OK);
		int64_t n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			unsigned char h[32];
			assert_true(audit_hex32((const char *)sqlite3_column_text(st, 1), h));
			sig_pool_add(p, sqlite3_column_int64(st, 0), h,
			    (const char *)sqlite3_column_text(st, 2));
			n++;
		}
		sqlite3_finalize(st);
		assert_int_equal(n, 6001);
		/* most of the chain waits in the table (a batch takes a worker
		 * far longer to check than the reader to read), or its share */
		int64_t aside = sig_pool_set_aside(p);
		if (eighths == 8)
			assert_true(aside > 3000);
		else
			assert_true(aside >= 512 && aside <= 6001 / 8 + 511);
		/* a worker frees a place in the queue: the chain's last batch (not
		 * full) and an event set aside go in */
		usleep(100 * 1000);
		sig_pool_refill(p);
		/* between the rows of another statement: some are read again */
		assert_int_equal(sqlite3_prepare_v2(S.s->db, "SELECT seq FROM audit ORDER BY seq",
		    -1, &st, NULL), SQLITE_OK);
		for (int rows = 0; sqlite3_step(st) == SQLITE_ROW; rows++)
			if (rows % 500 == 0)
				sig_pool_refill(p);
		sqlite3_finalize(st);
		/* an event read again is queued or checked, never set aside again */
		assert_true(sig_pool_set_aside(p) <= aside + 511);     /* the chain's last batch */
		bool read_ok = false;
		assert_int_equal(sig_pool_finish(p, &read_ok), 4100);
		assert_true(read_ok);
		assert_int_equal(sqlite3_exec(S.s->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
		keyring_free(&ring);
	}
	/* and verify --full, end to end */
	verify_result v;
	assert_true(audit_verify_full(S.s, NULL, &v));
	assert_false(v.ok);
	assert_int_equal(v.bad_seq, 4100);
}

/* Hashes and signatures to hex and back through the table: what libsodium
 * writes and reads, either case read, anything else refused. */
static void test_public_bytes_go_to_hex_and_back(void **state)
{
	(void)state;
	unsigned char in[64], out[64];
	char hex[129], theirs[129];
	for (int round = 0; round < 200; round++) {
		randombytes_buf(in, sizeof in);
		public_hex(hex, in, sizeof in);
		sodium_bin2hex(theirs, sizeof theirs, in, sizeof in);
		assert_string_equal(hex, theirs);
		assert_true(public_unhex(out, hex, sizeof out));
		assert_memory_equal(out, in, sizeof in);
		for (int i = 0; hex[i]; i++)
			if (hex[i] >= 'a')
				hex[i] = (char)(hex[i] - 'a' + 'A');
		assert_true(public_unhex(out, hex, sizeof out));
		assert_memory_equal(out, in, sizeof in);
	}
	assert_false(public_unhex(out, "0g", 1));
	assert_false(public_unhex(out, "g0", 1));
	assert_false(public_unhex(out, "0:", 1));
	assert_false(public_unhex(out, "@0", 1));
	assert_false(public_unhex(out, "0`", 1));
	assert_false(public_unhex(out, "0/", 1));
	assert_false(public_unhex(out, "00 1", 2));
	assert_true(public_unhex(out, "fF09aA", 3));
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0x09);
	assert_int_equal(out[2], 0xaa);
	assert_false(audit_hex32("zz", out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_ring_follows_rotations_signed_by_the_key_in_force,
		    fixture_setup, fixture_teardown),
		store_test(test_a_rotation_switches_the_key_and_verify_follows_it),
		store_test(test_leftovers_of_an_uncommitted_rotation_are_discarded),
		store_test(test_full_finds_a_signature_edited_alone),
		store_test(test_full_reads_again_the_events_it_set_aside),
		cmocka_unit_test(test_public_bytes_go_to_hex_and_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
