/*
 * test_store_checkpoints.c: where the log starts and ends, and checkpoints.
 *
 * audit_head.c: every appending transaction writes one signed head record,
 * the head it leaves; a log that does not start with store.init at seq 1,
 * or does not end where the record says, fails verification. minisig.c: a
 * signature keys_sign_file wrote holds, and an edit of the file, of its
 * trusted comment or another key's signature does not. checkpoints.c: when
 * a checkpoint is due, a checkpoint written and checked, one the log no
 * longer extends, and the server's claim that writes one once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_support.h"

static void append(const char *event, int n)
{
	assert_true(store_begin(S.s));
	for (int i = 0; i < n; i++)
		if (!audit_append(S.s, "tester", event, "subject", NULL))
			fail_msg("audit_append: %s", store_errmsg(S.s));
	assert_true(store_commit(S.s));
}

static void test_one_head_record_per_transaction(void **state)
{
	(void)state;
	append("test.event", 40);       /* more than a bulk write signs inline */
	assert_int_equal(db_int("SELECT count(*) FROM audit_head"), 1);
	assert_int_equal(db_int("SELECT seq FROM audit_head"), 41);
	assert_string_equal(db_text("SELECT hash FROM audit_head"),
	    db_text("SELECT hash FROM audit WHERE seq = 41"));
	/* its signature is over the documented text, by the store's key */
	char text[192];
	size_t n = audit_head_text(store_id(S.s), 41, db_text("SELECT hash FROM audit_head"), text,
	    sizeof text);
	assert_string_equal(text, arena_printf(T.a, "arbiter audit head v1\n%s\n41\n%s\n",
	    store_id(S.s), db_text("SELECT hash FROM audit_head")));
	unsigned char sig[64], pk[32], keyid[8];
	char err[256];
	assert_true(keys_load_public(in_store("keys/audit.pub"), pk, keyid, err, sizeof err));
	assert_int_equal(sodium_hex2bin(sig, 64, db_text("SELECT sig FROM audit_head"), 128, NULL,
	    NULL, NULL), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)text, n, pk), 0);
	assert_true(verified().ok);
	/* a rolled back transaction leaves the record as it was */
	assert_true(store_begin(S.s));
	assert_true(audit_append(S.s, "tester", "test.event", "subject", NULL));
	store_rollback(S.s);
	assert_int_equal(db_int("SELECT seq FROM audit_head"), 41);
	assert_true(verified().ok);
}

static void test_the_log_starts_with_store_init(void **state)
{
	(void)state;
	/* a log made again from seq 1 with the key: signed, chained, and still
	 * not a store's log */
	db_exec("DROP TRIGGER audit_no_delete; DELETE FROM audit; DELETE FROM audit_head");
	append("test.event", 2);
	verify_result r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 1);
	assert_non_null(strstr(r.why, "not store.init"));
}

static void test_the_log_ends_at_the_head_record(void **state)
{
	(void)state;
	append("test.event", 4);
	db_exec("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 4");
	verify_result r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 4);
	assert_string_equal(r.why, "the log ends at seq 3 but the signed head record says seq 5: "
	    "events were deleted");
	/* the record of another head of the same length: rewritten */
	db_exec("UPDATE audit_head SET seq = 3");
	r = verified();
	assert_false(r.ok);
	assert_non_null(strstr(r.why, "does not verify"));
}

static void test_a_checkpoint_is_due_after_events_or_minutes(void **state)
{
	(void)state;
	settings c;
	settings_default(&c);
	assert_int_equal(c.checkpoint_events, 10000);
	assert_int_equal(c.checkpoint_minutes, 60);
	assert_string_equal(c.checkpoint_dir, "checkpoints");
	assert_string_equal(c.checkpoint_command, "");
	int64_t t = 1893456000000;
	/* the head has not moved: never, however long */
	assert_false(audit_checkpoint_due(&c, 50, t, 50, t + 1000LL * 86400000));
	/* moved: after 10000 events, or after 60 minutes */
	assert_false(audit_checkpoint_due(&c, 50, t, 10049, t + 59 * 60000));
	assert_true(audit_checkpoint_due(&c, 50, t, 10050, t));
	assert_true(audit_checkpoint_due(&c, 50, t, 51, t + 60 * 60000));
	assert_false(audit_checkpoint_due(&c, 50, t, 51, t + 60 * 60000 - 1));
}

static char *slurp(const char *path, size_t *n)
{
	char err[256];
	char *text = read_file(path, n, err, sizeof err);
	if (text == NULL)
		fail_msg("%s", err);
	return text;
}

static void spit(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_a_minisig_holds_only_for_its_file_and_key(void **state)
{
	(void)state;
	keypair kp;
	char err[256];
	assert_true(keys_load_secret(S.home, &kp, err, sizeof err));
	const char *path = in_store("signed.txt");
	spit(path, "some text\n", 10);
	assert_true(keys_sign_file(&kp, path, "a trusted comment", err, sizeof err));
	size_t n;
	char *sig = slurp(arena_printf(T.a, "%s.minisig", path), &n);
	minisign_signature m;
	assert_true(minisig_parse(sig, n, &m, err, sizeof err));
	assert_true(m.prehashed);
	assert_string_equal(m.comment, "a trusted comment");
	assert_memory_equal(m.keyid, kp.keyid, 8);
	assert_true(minisig_check(&m, (const unsigned char *)"some text\n", 10, kp.pk, kp.keyid, err,
	    sizeof err));
	/* the file edited */
	assert_false(minisig_check(&m, (const unsigned char *)"some text!", 10, kp.pk, kp.keyid,
	    err, sizeof err));
	assert_non_null(strstr(err, "does not match its contents"));
	/* the trusted comment edited */
	minisign_signature edited = m;
	edited.comment[0] = 'A';
	assert_false(minisig_check(&edited, (const unsigned char *)"some text\n", 10, kp.pk,
	    kp.keyid, err, sizeof err));
	assert_non_null(strstr(err, "trusted comment"));
	/* another key */
	keypair other;
	crypto_sign_keypair(other.pk, other.sk);
	memset(other.keyid, 7, 8);
	assert_false(minisig_check(&m, (const unsigned char *)"some text\n", 10, other.pk,
	    other.keyid, err, sizeof err));
	assert_non_null(strstr(err, "another key (key id "));
	/* CR LF line ends read the same; a missing line does not read */
	const char *crlf = arena_printf(T.a, "untrusted comment: x\r\n%.*s", (int)(n - (strchr(sig,
	    '\n') + 1 - sig)), strchr(sig, '\n') + 1);
	assert_true(minisig_parse(crlf, strlen(crlf), &m, err, sizeof err));
	assert_false(minisig_parse(sig, (size_t)(strrchr(sig, '\n') - sig - 10), &m, err,
	    sizeof err));
	assert_non_null(strstr(err, "not a minisign signature"));
	free(sig);
	sodium_memzero(&kp, sizeof kp);
}

static void test_a_checkpoint_is_checked_against_the_log(void **state)
{
	(void)state;
	append("test.event", 3);
	keypair kp;
	char err[512], why[1024], hash[65];
	assert_true(keys_load_secret(S.home, &kp, err, sizeof err));
	assert_int_equal(audit_hash_at(S.s, 4, hash), 1);
	const char *path = in_store("cp.txt");
	assert_true(checkpoint_write_file(&kp, store_id(S.s), path, 4, hash, now_ms(), err,
	    sizeof err));
	audit_checkpoint cp;
	keyring ring;
	keyring_init(&ring, kp.pk, kp.keyid);
	assert_int_equal(checkpoint_verify(S.s, path, &ring, 4, &cp, why, sizeof why), 1);
	assert_int_equal(cp.seq, 4);
	assert_int_equal(cp.time_ms, now_ms());
	/* the log no longer reaches it */
	db_exec("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 4");
	assert_int_equal(checkpoint_verify(S.s, path, &ring, 3, &cp, why, sizeof why), 0);
	assert_non_null(strstr(why, "the log ends at seq 3 but checkpoint"));
	/* no signature */
	unlink(arena_printf(T.a, "%s.minisig", path));
	assert_int_equal(checkpoint_verify(S.s, path, &ring, 3, &cp, why, sizeof why), 0);
	assert_non_null(strstr(why, "is unsigned"));
	/* no file */
	assert_int_equal(checkpoint_verify(S.s, in_store("none.txt"), &ring, 3, &cp, why,
	    sizeof why), -1);
	keyring_free(&ring);
	sodium_memzero(&kp, sizeof kp);
}

static void test_the_server_claims_a_due_checkpoint_once(void **state)
{
	(void)state;
	settings c;
	settings_default(&c);
	c.checkpoint_events = 3;
	checkpoint_written w;
	/* store.init alone, a minute old: not due */
	clock_advance(60);
	assert_int_equal(checkpoint_auto(S.s, &c, &w), 0);
	append("test.event", 3);
	assert_int_equal(checkpoint_auto(S.s, &c, &w), 1);
	assert_int_equal(w.seq, 4);
	assert_int_equal(db_int("SELECT seq FROM checkpoint_claim"), 4);
	assert_non_null(strstr(w.path, "/checkpoints/arbiter-checkpoint-000000000004-"));
	assert_int_equal(access(w.path, R_OK), 0);
	assert_int_equal(access(arena_printf(T.a, "%s.minisig", w.path), R_OK), 0);
	/* not an audit event: the log did not move, and nothing is due again */
	assert_int_equal(db_int("SELECT max(seq) FROM audit"), 4);
	assert_int_equal(checkpoint_auto(S.s, &c, &w), 0);
	int64_t seq, at;
	assert_true(checkpoint_last(S.s, &seq, &at));
	assert_int_equal(seq, 4);
	assert_int_equal(at, now_ms());
	/* an hour later with the head still: nothing */
	clock_advance(3600);
	assert_int_equal(checkpoint_auto(S.s, &c, &w), 0);
	/* and verify finds it, up to date */
	checkpoint_scanned scan;
	unsigned char pk[32], keyid[8];
	char err[256];
	assert_true(keys_load_public(in_store("keys/audit.pub"), pk, keyid, err, sizeof err));
	keyring ring;
	keyring_init(&ring, pk, keyid);
	assert_int_equal(checkpoint_scan(S.s, &c, &ring, 4, &scan), 1);
	assert_int_equal(scan.found, 1);
	assert_false(scan.stale);
	/* the head moves one event: an hour after the checkpoint it is stale */
	append("test.event", 1);
	assert_int_equal(checkpoint_scan(S.s, &c, &ring, 5, &scan), 1);
	assert_true(scan.stale);
	assert_non_null(strstr(scan.why, "older than the interval"));
	keyring_free(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_one_head_record_per_transaction),
		store_test(test_the_log_starts_with_store_init),
		store_test(test_the_log_ends_at_the_head_record),
		store_test(test_a_checkpoint_is_due_after_events_or_minutes),
		store_test(test_a_minisig_holds_only_for_its_file_and_key),
		store_test(test_a_checkpoint_is_checked_against_the_log),
		store_test(test_the_server_claims_a_due_checkpoint_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
