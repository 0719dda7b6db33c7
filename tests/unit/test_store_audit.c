/*
 * test_store_audit.c: audit.c, the hash-chained, signed event log: events
 * appended in a transaction chain to the head and carry the clock's time;
 * verification recomputes the chain, and every way of changing it from
 * beside arbiter (through a second SQLite connection, with the triggers that
 * forbid it dropped) is found at the right seq: an edited field, a deleted
 * or swapped event, a forged signature, another key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "store_support.h"
#include "../../data/ops.h"

/* Appends three events (seq 2 to 4) after store.init, a second apart. */
static void append_three(void)
{
	for (int i = 0; i < 3; i++) {
		clock_advance(1);
		assert_true(store_begin(S.s));
		json_t *d = json_pack("{s:i}", "n", i);
		bool ok = audit_append(S.s, "tester", "test.event", "subject", d);
		json_decref(d);
		if (!ok)
			fail_msg("audit_append: %s", store_errmsg(S.s));
		assert_true(store_commit(S.s));
	}
}

/* Runs sql on the log from beside arbiter, its guards dropped. */
static void tamper(const char *sql)
{
	db_exec(arena_printf(T.a, "DROP TRIGGER IF EXISTS audit_no_update; "
	    "DROP TRIGGER IF EXISTS audit_no_delete; %s", sql));
}

static void test_appended_events_chain_and_verify(void **state)
{
	(void)state;
	append_three();
	verify_result r = verified();
	assert_true(r.ok);
	assert_int_equal(r.events, 4);
	assert_int_equal(r.head_seq, 4);
	char head[65];
	assert_int_equal(audit_hash_at(S.s, 4, head), 1);
	assert_string_equal(r.head, head);
	assert_int_equal(audit_hash_at(S.s, 5, head), 0);
	int64_t last;
	assert_true(audit_last_seq(S.s, &last));
	assert_int_equal(last, 4);
	/* each event's prev is the hash before it; its time is the clock's */
	assert_int_equal(db_int("SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq + 1 "
	    "WHERE b.prev = a.hash"), 3);
	assert_string_equal(db_text("SELECT ts FROM audit WHERE seq = 4"), "2030-01-01T00:00:03.000Z");
	assert_string_equal(db_text("SELECT details FROM audit WHERE seq = 3"), "{\"n\":1}");
}

static void test_the_hash_is_the_documented_encoding(void **state)
{
	(void)state;
	append_three();
	unsigned char prev[32], h[32];
	char hex[65];
	assert_int_equal(sodium_hex2bin(prev, 32, db_text("SELECT prev FROM audit WHERE seq = 2"),
	    64, NULL, NULL, NULL), 0);
	audit_hash(prev, 2, "2030-01-01T00:00:01.000Z", "tester", "test.event", "subject",
	    "{\"n\":0}", h);
	sodium_bin2hex(hex, sizeof hex, h, 32);
	assert_string_equal(hex, db_text("SELECT hash FROM audit WHERE seq = 2"));
	/* the first event chains to 32 zero bytes */
	assert_string_equal(db_text("SELECT prev FROM audit WHERE seq = 1"),
	    "0000000000000000000000000000000000000000000000000000000000000000");
}

static void test_the_log_refuses_updates_and_deletes(void **state)
{
	(void)state;
	append_three();
	sqlite3 *db;
	assert_int_equal(sqlite3_open(in_store("arbiter.db"), &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET actor = 'mallory' WHERE seq = 2",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 4", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_true(verified().ok);
}

static void test_an_edited_event_is_found(void **state)
{
	(void)state;
	append_three();
	tamper("UPDATE audit SET details = '{\"n\":9}' WHERE seq = 3");
	verify_result r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 3);
	assert_non_null(strstr(r.why, "do not match its hash"));
	assert_int_equal(r.events, 2);          /* the good ones before it */
}

static void test_an_edited_time_or_actor_is_found(void **state)
{
	(void)state;
	append_three();
	tamper("UPDATE audit SET ts = '2029-12-31T23:59:59.000Z' WHERE seq = 2");
	verify_result r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 2);
	tamper("UPDATE audit SET ts = '2030-01-01T00:00:01.000Z' WHERE seq = 2");
	assert_true(verified().ok);
	tamper("UPDATE audit SET actor = 'mallory' WHERE seq = 4");
	r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 4);
}

static void test_a_deleted_event_is_found(void **state)
{
	(void)state;
	append_three();
	tamper("DELETE FROM audit WHERE seq = 2");
	verify_result r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 2);
	assert_non_null(strstr(r.why, "missing"));
}

static void test_a_rehashed_rewrite_is_found_by_its_signature(void **state)
{
	(void)state;
	append_three();
	/* rewrite event 3 and recompute its hash and every later one, as someone
	 * without the signing key would: the chain holds, the signatures do not */
	const char *fields = db_text("SELECT prev FROM audit WHERE seq = 3");
	unsigned char prev[32], h[32];
	char hex[65];
	assert_int_equal(sodium_hex2bin(prev, 32, fields, 64, NULL, NULL, NULL), 0);
	for (int64_t seq = 3; seq <= 4; seq++) {
		const char *ts = db_text(arena_printf(T.a, "SELECT ts FROM audit WHERE seq = %lld",
		    (long long)seq));
		const char *details = seq == 3 ? "{\"n\":7}" : "{\"n\":2}";
		audit_hash(prev, seq, ts, "tester", "test.event", "subject", details, h);
		char prevhex[65];
		sodium_bin2hex(prevhex, sizeof prevhex, prev, 32);
		sodium_bin2hex(hex, sizeof hex, h, 32);
		tamper(arena_printf(T.a, "UPDATE audit SET details = '%s', prev = '%s', hash = '%s' "
		    "WHERE seq = %lld", details, prevhex, hex, (long long)seq));
		memcpy(prev, h, 32);
	}
	verify_result r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 3);
	assert_non_null(strstr(r.why, "signature"));
}

static void test_another_key_fails_at_the_first_event(void **state)
{
	(void)state;
	append_three();
	unsigned char pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	verify_result r;
	assert_true(audit_verify(S.s, pk, &r));
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 1);
	/* and the store's own public key, read from keys/audit.pub, passes */
	unsigned char own[32], keyid[8];
	char err[256];
	assert_true(keys_load_public(in_store("keys/audit.pub"), own, keyid, err, sizeof err));
	assert_true(audit_verify(S.s, own, &r));
	assert_true(r.ok);
}


/* An event with these details and actor, its hashes and signature filler. */
static audit_event event_of(int64_t seq, const char *actor, const char *details)
{
	audit_event e = { .seq = seq, .actor = actor, .event = "test.event",
		.subject = seq % 2 ? "7" : "", .details = details };
	snprintf(e.ts, sizeof e.ts, "2030-01-01T00:00:00.000Z");
	memset(e.prev, 'a', 64);
	memset(e.hash, 'b', 64);
	memset(e.sig, 'c', 128);
	return e;
}

/* audit_event_text writes an event straight, the details as stored: the
 * same bytes as jansson's compact text of audit_event_json, for details as
 * arbiter writes them (jansson's compact JSON, or the string escaper's) and
 * for what only a log written around arbiter holds (not JSON, an array, a
 * control character, bytes that are not UTF-8), which go through jansson.
 * An object arbiter would not write (a key twice, a number jansson writes
 * otherwise) is printed as stored. */
static void test_an_event_is_written_as_jansson_would(void **state)
{
	(void)state;
	json_t *rich = json_pack("{s:s,s:s,s:f,s:I,s:[i,s,n,b],s:{s:s},s:s}", "quote",
	    "say \"hi\" \\ back/slash", "unicode", "caf\u00e9 \u2028 \U0001F600", "real", 1.88,
	    "big", (json_int_t)9007199254740991LL, "list", 1, "two", 1, "nested", "inner", "\x01\t\n",
	    "empty", "");
	assert_non_null(rich);
	char *jansson_written = json_dumps(rich, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(rich);
	strbuf escaped = { 0 };
	sb_puts(&escaped, "{\"detail\":");
	sb_put_json_string(&escaped, "x = \"\u00e9\x7f\x1b[31m\" is \\ not allowed");
	sb_puts(&escaped, ",\"n\":3}");
	const char *details[] = { "{}", jansson_written, escaped.s, "not json", "[1,2]",
		"{\"raw\":\"\x1b[2J\"}", "{\"bad\":\"\xff\xfe\"}", "" };
	const char *actors[] = { "alice", "caf\xc3\xa9", "bad\xff" };
	bool same = true;
	for (size_t i = 0; i < sizeof details / sizeof details[0]; i++)
		for (size_t k = 0; k < sizeof actors / sizeof actors[0]; k++) {
			audit_event e = event_of((int64_t)i + 1, actors[k], details[i]);
			json_t *o = audit_event_json(&e);
			char *want = json_dumps(o, JSON_COMPACT);
			json_decref(o);
			char *have = audit_event_text(&e);
			if (strcmp(want, have) != 0) {
				print_error("details %zu, actor %zu:\n want %s\n have %s\n", i, k, want, have);
				same = false;
			}
			free(want);
			free(have);
		}
	free(jansson_written);
	free(escaped.s);
	assert_true(same);
	const char *as_stored[] = { "{\"a\":1,\"a\":2}", "{\"n\":1e2}" };
	for (size_t i = 0; i < 2; i++) {
		audit_event e = event_of(1, "alice", as_stored[i]);
		char *have = audit_event_text(&e);
		bool verbatim = strstr(have, as_stored[i]) != NULL;
		free(have);
		assert_true(verbatim);
	}
}

/* A bulk write signs its events on a second thread past its first few and
 * writes them at the commit; once that committed, the signer answers for
 * them from memory (audit_signer_committed, which a server's evidence
 * reads) with what the table holds, until the next transaction begins. An
 * event signed inline, or one not committed, is not answered from memory. */
static void test_committed_events_are_answered_until_the_next_transaction(void **state)
{
	(void)state;
	store_bulk(S.s);
	assert_true(store_begin(S.s));
	for (int i = 0; i < 40; i++)
		assert_true(audit_append_text(S.s, "tester", "test.event", "subject", "{\"n\":1}"));
	int64_t last = S.s->head_seq;
	audit_event e;
	assert_false(audit_signer_committed(S.s, last, &e));   /* not committed yet */
	assert_true(store_commit(S.s));
	for (int64_t seq = last - 20; seq <= last; seq++) {
		assert_true(audit_signer_committed(S.s, seq, &e));
		assert_int_equal(e.seq, seq);
		const char *where = arena_printf(T.a, "FROM audit WHERE seq = %lld", (long long)seq);
		assert_string_equal(e.ts, db_text(arena_printf(T.a, "SELECT ts %s", where)));
		assert_string_equal(e.actor, db_text(arena_printf(T.a, "SELECT actor %s", where)));
		assert_string_equal(e.event, db_text(arena_printf(T.a, "SELECT event %s", where)));
		assert_string_equal(e.subject, db_text(arena_printf(T.a, "SELECT subject %s", where)));
		assert_string_equal(e.details, db_text(arena_printf(T.a, "SELECT details %s", where)));
		assert_string_equal(e.prev, db_text(arena_printf(T.a, "SELECT prev %s", where)));
		assert_string_equal(e.hash, db_text(arena_printf(T.a, "SELECT hash %s", where)));
		assert_string_equal(e.sig, db_text(arena_printf(T.a, "SELECT sig %s", where)));
	}
	assert_false(audit_signer_committed(S.s, 2, &e));      /* signed inline */
	assert_false(audit_signer_committed(S.s, last + 1, &e));
	assert_true(store_begin(S.s));                         /* a new transaction */
	assert_false(audit_signer_committed(S.s, last, &e));
	for (int i = 0; i < 40; i++)
		assert_true(audit_append_text(S.s, "tester", "test.event", "subject", "{\"n\":2}"));
	store_rollback(S.s);                                    /* its events go back */
	assert_false(audit_signer_committed(S.s, last + 1, &e));
	assert_false(audit_signer_committed(S.s, last, &e));
	assert_int_equal(db_int("SELECT max(seq) FROM audit"), last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_appended_events_chain_and_verify),
		store_test(test_the_hash_is_the_documented_encoding),
		store_test(test_the_log_refuses_updates_and_deletes),
		store_test(test_an_edited_event_is_found),
		store_test(test_an_edited_time_or_actor_is_found),
		store_test(test_a_deleted_event_is_found),
		store_test(test_a_rehashed_rewrite_is_found_by_its_signature),
		store_test(test_another_key_fails_at_the_first_event),
		store_test(test_an_event_is_written_as_jansson_would),
		store_test(test_committed_events_are_answered_until_the_next_transaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
