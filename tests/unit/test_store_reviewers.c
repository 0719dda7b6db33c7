/*
 * test_store_reviewers.c: reviewers.c and codes.c, reviewers, users.oath and
 * their codes: enrolment (the secret in users.oath only, names that differ
 * only in case are one), and code checking: the right code, the window, a
 * wrong code, a replayed or older step (one answer for both), the lockout
 * after max_failures from one origin and its end, other origins unaffected,
 * the attempt recorded before any code is checked (and a store that cannot
 * record it checks none), and refusals of unknown and disabled reviewers.
 * Time is the test clock, moved rather than waited for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_support.h"

/* This process's origin, as codes.c names it. */
static const char *here(void)
{
	return arena_printf(T.a, "uid %lu", (unsigned long)getuid());
}

static int64_t attempts(const char *name)
{
	return db_int(arena_printf(T.a, "SELECT count(*) FROM code_failures WHERE reviewer = '%s'",
	    name));
}

static int64_t events(const char *event)
{
	return db_int(arena_printf(T.a, "SELECT count(*) FROM audit WHERE event = '%s'", event));
}

static void test_enrolment_keeps_the_secret_in_users_oath(void **state)
{
	(void)state;
	const unsigned char *key = enrol("alice", true);
	enrol("bob", false);
	reviewer r;
	assert_int_equal(reviewer_get(S.s, "alice", &r), 1);
	assert_true(r.admin);
	assert_false(r.disabled);
	assert_int_equal(r.last_step, 0);
	assert_int_equal(reviewer_get(S.s, "bob", &r), 1);
	assert_false(r.admin);
	assert_int_equal(reviewer_get(S.s, "carol", &r), 0);
	assert_int_equal(reviewer_admins(S.s, false), 1);
	assert_int_equal(reviewer_admins(S.s, true), 2);

	unsigned char back[REVIEWER_KEY_BYTES];
	assert_true(users_secret(S.s, "alice", back));
	assert_memory_equal(back, key, REVIEWER_KEY_BYTES);
	char hex[2 * REVIEWER_KEY_BYTES + 1];
	sodium_bin2hex(hex, sizeof hex, key, REVIEWER_KEY_BYTES);
	size_t len;
	char why[256];
	char *text = read_file(in_store("users.oath"), &len, why, sizeof why);
	assert_non_null(text);
	assert_non_null(strstr(text, arena_printf(T.a, "HOTP/T30/6\talice\t-\t%s\n", hex)));
	free(text);
	assert_int_equal(db_int(arena_printf(T.a, "SELECT count(*) FROM reviewers, audit WHERE "
	    "reviewers.name LIKE '%%%s%%' OR audit.details LIKE '%%%s%%'", hex, hex)), 0);
	assert_int_equal(events("reviewer.add"), 2);
}

static void test_enrolment_replaces_every_stale_line(void **state)
{
	(void)state;
	/* lines left by enrolments that did not commit, or by hand: the new
	 * secret must be the one found, so none of them may stay before it */
	FILE *f = fopen(in_store("users.oath"), "w");
	assert_non_null(f);
	fputs("HOTP/T30/6\talice\t-\t0101010101010101010101010101010101010101\n"
	    "HOTP/T30/6\tbob\t-\t0202020202020202020202020202020202020202\n"
	    "HOTP/T30/6 alice - 0303030303030303030303030303030303030303\n", f);
	assert_int_equal(fclose(f), 0);
	const unsigned char *key = enrol("alice", true);
	unsigned char back[REVIEWER_KEY_BYTES];
	assert_true(users_secret(S.s, "alice", back));
	assert_memory_equal(back, key, REVIEWER_KEY_BYTES);
	assert_true(users_secret(S.s, "bob", back));    /* another's line stays */
	assert_int_equal(back[0], 2);
	size_t len;
	char why[256];
	char *text = read_file(in_store("users.oath"), &len, why, sizeof why);
	assert_non_null(text);
	int lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	free(text);
	assert_int_equal(lines, 2);
	/* disabling removes every line of the name too */
	assert_true(store_begin(S.s));
	assert_true(reviewer_disable(S.s, "tester", "alice"));
	assert_true(store_commit(S.s));
	assert_false(users_secret(S.s, "alice", back));
	assert_true(users_secret(S.s, "bob", back));
}

static void test_names_differing_in_case_are_one(void **state)
{
	(void)state;
	enrol("alice", true);
	unsigned char key[REVIEWER_KEY_BYTES] = { 1 };
	assert_true(store_begin(S.s));
	assert_false(reviewer_add(S.s, "tester", "ALICE", false, NULL, key));
	assert_non_null(strstr(store_errmsg(S.s), "exists already"));
	store_rollback(S.s);
	assert_int_equal(db_int("SELECT count(*) FROM reviewers"), 1);
	/* a reviewer enrolled before names were lower-cased is found by the
	 * lower-cased name, under the name users.oath knows them by */
	enrol("Bob", false);
	reviewer r;
	assert_int_equal(reviewer_get(S.s, "bob", &r), 1);
	assert_string_equal(r.name, "Bob");
	char code[7];
	code_check c;
	assert_int_equal(verify("bob", code_now("Bob", code), &c), CODE_OK);
}

static void test_the_right_code_is_accepted_once(void **state)
{
	(void)state;
	enrol("alice", true);
	char code[7];
	code_check c;
	assert_int_equal(verify("alice", code_now("alice", code), &c), CODE_OK);
	assert_int_equal(c.step, START_MS / 1000 / TOTP_STEP);
	assert_true(c.admin);
	reviewer r;
	assert_int_equal(reviewer_get(S.s, "alice", &r), 1);
	assert_int_equal(r.last_step, c.step);
	assert_string_equal(db_text("SELECT last_used FROM reviewers WHERE name = 'alice'"),
	    "2030-01-01T00:00:00.000Z");
	assert_int_equal(attempts("alice"), 0);         /* a right code is no failure */
	/* the same code again is a replay, audited without the code, with the
	 * answer a wrong code gets */
	assert_int_equal(verify("alice", code, &c), CODE_REPLAY);
	assert_string_equal(c.why, "wrong or already used code for alice (a code is accepted "
	    "once)");
	assert_int_equal(events("code.replay"), 1);
	assert_int_equal(db_int(arena_printf(T.a, "SELECT count(*) FROM audit WHERE details LIKE "
	    "'%%%s%%'", code)), 0);
	/* it counts towards a lockout as a wrong code does, so that nothing
	 * tells the two apart */
	assert_int_equal(events("code.failure"), 0);
	assert_int_equal(attempts("alice"), 1);
	assert_string_equal(db_text("SELECT json_extract(details, '$.failures') FROM audit WHERE "
	    "event = 'code.replay'"), "1");
}

static void test_the_window_and_older_steps(void **state)
{
	(void)state;
	enrol("alice", true);
	char code[7];
	code_check c;
	/* window 1: the step after now's is accepted... */
	assert_int_equal(verify("alice", code_at("alice", 1, code), &c), CODE_OK);
	assert_int_equal(c.step, START_MS / 1000 / TOTP_STEP + 1);
	/* ...and then nothing older, though still in the window */
	assert_int_equal(verify("alice", code_at("alice", 0, code), &c), CODE_REPLAY);
	assert_int_equal(verify("alice", code_at("alice", -1, code), &c), CODE_REPLAY);
	/* two steps away is outside the window: a wrong code */
	enrol("bob", false);
	assert_int_equal(verify("bob", code_at("bob", -2, code), &c), CODE_WRONG);
	assert_int_equal(verify("bob", code_at("bob", 2, code), &c), CODE_WRONG);
	assert_int_equal(verify("bob", code_at("bob", -1, code), &c), CODE_OK);
	/* a step later the clock has moved on: the next step's code is fresh */
	clock_advance(TOTP_STEP);
	assert_int_equal(verify("alice", code_at("alice", 1, code), &c), CODE_OK);
}

static void test_a_wrong_code_is_a_counted_failure(void **state)
{
	(void)state;
	enrol("alice", true);
	code_check c;
	assert_int_equal(verify("alice", "000000", &c), CODE_WRONG);
	assert_string_equal(c.why, "wrong or already used code for alice (a code is accepted "
	    "once)");
	assert_int_equal(events("code.failure"), 1);
	assert_string_equal(db_text("SELECT actor || ' ' || subject || ' ' || details FROM audit "
	    "WHERE event = 'code.failure'"), arena_printf(T.a, "alice alice {\"failures\":1,"
	    "\"max_failures\":5,\"origin\":\"%s\",\"reason\":\"wrong code\"}", here()));
	assert_string_equal(db_text("SELECT origin FROM code_failures"), here());
	assert_int_equal(verify("alice", "12345", &c), CODE_WRONG);     /* malformed */
	assert_int_equal(verify("alice", "", &c), CODE_WRONG);
	assert_int_equal(events("code.failure"), 3);
	/* a failure uses no step: the right code still works */
	char code[7];
	assert_int_equal(verify("alice", code_now("alice", code), &c), CODE_OK);
}

/* Five wrong codes: the fifth locks name out. */
static void lock_out(const char *name)
{
	code_check c;
	for (int i = 1; i <= 4; i++) {
		assert_int_equal(verify(name, "000000", &c), CODE_WRONG);
		assert_null(strstr(c.why, "locked out"));
	}
	assert_int_equal(verify(name, "000000", &c), CODE_WRONG);
	assert_non_null(strstr(c.why, arena_printf(T.a, "is now locked out from %s for 15 minutes",
	    here())));
}

static void test_max_failures_lock_out(void **state)
{
	(void)state;
	enrol("frank", false);
	lock_out("frank");
	assert_int_equal(events("reviewer.lockout"), 1);
	assert_string_equal(db_text("SELECT origin || ' ' || until FROM code_lockouts WHERE "
	    "reviewer = 'frank'"), arena_printf(T.a, "%s 2030-01-01T00:15:00.000Z", here()));
	assert_string_equal(db_text("SELECT json_extract(details, '$.origin') FROM audit WHERE "
	    "event = 'reviewer.lockout'"), here());
	reviewer r;
	json_t *list = reviewer_list(S.s);
	assert_non_null(list);
	const char *until = json_string_value(json_object_get(json_array_get(list, 0),
	    "locked_until"));
	until = arena_strdup(T.a, until ? until : "(none)");
	json_decref(list);
	assert_string_equal(until, "2030-01-01T00:15:00.000Z");
	/* the right code is refused during the lockout, and audited */
	char code[7];
	code_check c;
	int64_t failures = events("code.failure");
	assert_int_equal(verify("frank", code_now("frank", code), &c), CODE_LOCKED);
	assert_non_null(strstr(c.why, arena_printf(T.a, "frank is locked out from %s after too "
	    "many wrong codes: 15 more minutes", here())));
	assert_int_equal(c.locked_until_ms, START_MS + 15 * 60 * 1000);
	assert_int_equal(events("code.failure"), failures + 1);
	assert_int_equal(attempts("frank"), 5); /* refused unchecked: no failure more */
	assert_int_equal(reviewer_get(S.s, "frank", &r), 1);
	assert_int_equal(r.last_step, 0);       /* the refused code used no step */
	/* another reviewer is not affected */
	enrol("grace", false);
	assert_int_equal(verify("grace", code_now("grace", code), &c), CODE_OK);
}

static void test_the_lockout_ends_on_time(void **state)
{
	(void)state;
	enrol("frank", false);
	lock_out("frank");
	char code[7];
	code_check c;
	clock_advance(15 * 60 - 1);
	assert_int_equal(verify("frank", code_now("frank", code), &c), CODE_LOCKED);
	assert_non_null(strstr(c.why, ": 1 more minute"));
	clock_advance(1);
	assert_int_equal(verify("frank", code_now("frank", code), &c), CODE_OK);
	/* the failures before the lockout no longer count: one more wrong code
	 * is one failure, not a second lockout */
	assert_int_equal(verify("frank", "000000", &c), CODE_WRONG);
	assert_null(strstr(c.why, "locked out"));
	assert_int_equal(events("reviewer.lockout"), 1);
	json_t *list = reviewer_list(S.s);
	assert_non_null(list);
	bool shown = json_string_value(json_object_get(json_array_get(list, 0), "locked_until"));
	json_decref(list);
	assert_false(shown);            /* reviewer list shows no ended lockout */
}

static void test_failures_far_apart_do_not_add_up(void **state)
{
	(void)state;
	enrol("frank", false);
	code_check c;
	for (int i = 0; i < 4; i++)
		assert_int_equal(verify("frank", "000000", &c), CODE_WRONG);
	clock_advance(15 * 60 + 1);     /* the lockout's length: older failures drop out */
	assert_int_equal(verify("frank", "000000", &c), CODE_WRONG);
	assert_null(strstr(c.why, "locked out"));
	assert_string_equal(db_text("SELECT json_extract(details, '$.failures') FROM audit WHERE "
	    "event = 'code.failure' ORDER BY seq DESC LIMIT 1"), "1");
	assert_int_equal(events("reviewer.lockout"), 0);
}

static void test_unknown_and_disabled_reviewers(void **state)
{
	(void)state;
	code_check c;
	assert_int_equal(verify("nobody", "123456", &c), CODE_UNKNOWN);
	assert_non_null(strstr(c.why, "not an enrolled reviewer"));
	enrol("carol", false);
	enrol("dave", true);
	assert_true(store_begin(S.s));
	assert_true(reviewer_disable(S.s, "dave", "carol"));
	assert_true(store_commit(S.s));
	char code[7];
	assert_int_equal(verify("carol", code_now("carol", code), &c), CODE_DISABLED);
	assert_non_null(strstr(c.why, "disabled"));
	unsigned char key[REVIEWER_KEY_BYTES];
	assert_false(users_secret(S.s, "carol", key));          /* the secret is gone */
	assert_true(users_secret(S.s, "dave", key));
	assert_int_equal(events("reviewer.disable"), 1);
	/* refused before any code was checked: audited, and no failure */
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'code.failure' AND "
	    "actor = 'nobody'"), 1);
	assert_int_equal(attempts("nobody") + attempts("carol"), 0);
}

/* A lockout holds for the origin its failures came from: failing codes in
 * someone's name locks them out for whoever fails them, not for everyone. */
static void test_a_lockout_holds_for_its_origin(void **state)
{
	(void)state;
	enrol("frank", false);
	code_check c;
	for (int i = 0; i < 5; i++)
		assert_int_equal(verify_from("frank", "reviewer mallory", "000000", &c), CODE_WRONG);
	assert_non_null(strstr(c.why, "now locked out from reviewer mallory"));
	char code[7];
	assert_int_equal(verify_from("frank", "reviewer mallory", code_now("frank", code), &c),
	    CODE_LOCKED);
	/* frank's own origin, and this process's, are not locked out */
	assert_int_equal(verify_from("frank", "reviewer frank", code_now("frank", code), &c),
	    CODE_OK);
	assert_int_equal(verify("frank", code_at("frank", 1, code), &c), CODE_OK);
	/* and the failures of one origin do not add to another's */
	for (int i = 0; i < 4; i++)
		assert_int_equal(verify_from("frank", "reviewer frank", "000000", &c), CODE_WRONG);
	assert_null(strstr(c.why, "locked out"));
	assert_string_equal(db_text("SELECT json_extract(details, '$.origin') || ' ' || "
	    "json_extract(details, '$.failures') FROM audit WHERE event = 'code.failure' ORDER BY "
	    "seq DESC LIMIT 1"), "reviewer frank 4");
	/* a lockout recorded before origins were (origin '') holds everywhere */
	enrol("grace", false);
	db_exec("INSERT INTO code_lockouts VALUES ('grace', '', '2030-01-01T00:10:00.000Z')");
	assert_int_equal(verify_from("grace", "reviewer grace", code_now("grace", code), &c),
	    CODE_LOCKED);
	assert_int_equal(verify("grace", code_now("grace", code), &c), CODE_LOCKED);
}

/* The attempt is a failure on record before the code is looked at, and stays
 * one unless the code proves right and its change commits. */
static void test_the_attempt_is_recorded_first(void **state)
{
	(void)state;
	enrol("alice", true);
	bool recorded;
	assert_true(code_attempt_begin(S.s, "alice", NULL, &recorded));
	assert_true(recorded);
	assert_int_equal(attempts("alice"), 1);         /* committed, seen from outside */
	char code[7];
	code_check c;
	assert_int_equal(code_verify(S.s, &S.cfg, "alice", NULL, code_now("alice", code), &c),
	    CODE_OK);
	store_rollback(S.s);            /* the change failed: the attempt still counts */
	assert_int_equal(attempts("alice"), 1);
	assert_int_equal(db_int("SELECT ifnull(last_step, 0) FROM reviewers"), 0);
	/* an attempt whose code was never checked (the operation refused first)
	 * is no failure, whether the operation commits or rolls back */
	assert_true(code_attempt_begin(S.s, "alice", NULL, &recorded));
	assert_int_equal(attempts("alice"), 2);
	assert_true(store_commit(S.s));
	assert_int_equal(attempts("alice"), 1);
	assert_true(code_attempt_begin(S.s, "alice", NULL, &recorded));
	store_rollback(S.s);
	assert_int_equal(attempts("alice"), 1);
	/* without its attempt recorded, no code is checked */
	assert_true(store_begin(S.s));
	assert_int_equal(code_verify(S.s, &S.cfg, "alice", NULL, code_at("alice", 1, code), &c),
	    CODE_ERROR);
	store_rollback(S.s);
}

/* A store that cannot record the attempt (here a trigger stands for a full
 * disk) checks no code: nothing is written, nothing used. */
static void test_a_store_that_cannot_record_checks_no_code(void **state)
{
	(void)state;
	enrol("alice", true);
	db_exec("CREATE TRIGGER full BEFORE INSERT ON code_failures BEGIN "
	    "SELECT RAISE(ABORT, 'database or disk is full'); END");
	bool recorded = true;
	assert_false(code_attempt_begin(S.s, "alice", NULL, &recorded));
	assert_false(recorded);
	assert_non_null(strstr(store_errmsg(S.s), "disk is full"));
	assert_false(store_in_transaction(S.s));
	assert_int_equal(attempts("alice"), 0);
	assert_int_equal(events("code.failure") + events("code.replay"), 0);
	db_exec("DROP TRIGGER full");
	char code[7];
	code_check c;
	assert_int_equal(verify("alice", code_now("alice", code), &c), CODE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_enrolment_keeps_the_secret_in_users_oath),
		store_test(test_enrolment_replaces_every_stale_line),
		store_test(test_names_differing_in_case_are_one),
		store_test(test_the_right_code_is_accepted_once),
		store_test(test_the_window_and_older_steps),
		store_test(test_a_wrong_code_is_a_counted_failure),
		store_test(test_max_failures_lock_out),
		store_test(test_the_lockout_ends_on_time),
		store_test(test_failures_far_apart_do_not_add_up),
		store_test(test_unknown_and_disabled_reviewers),
		store_test(test_a_lockout_holds_for_its_origin),
		store_test(test_the_attempt_is_recorded_first),
		store_test(test_a_store_that_cannot_record_checks_no_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
