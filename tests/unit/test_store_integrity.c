/*
 * test_store_integrity.c: integrity.c, the pinned policy set: a new store is
 * intact at version 1; a policy file edited, added or removed, or
 * config.yaml edited, makes it tampered with a description of what changed;
 * a pin records the files as the next version, makes them read-only and
 * audits policy.pin; a policy_versions row edited beside arbiter does not
 * count as a pin; and a tampered state is audited once, not once per look.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store_support.h"

static integrity checked(void)
{
	integrity in;
	if (!integrity_check(S.s, &in))
		fail_msg("integrity_check: %s", store_errmsg(S.s));
	return in;
}

/* Appends text to the store file rel, made writable first. */
static void append_to(const char *rel, const char *text)
{
	const char *path = in_store(rel);
	chmod(path, 0644);
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int pin(const char *actor)
{
	int version = 0;
	assert_true(store_begin(S.s));
	if (!integrity_pin(S.s, actor, "the change was reviewed", "policy.pin", &version))
		fail_msg("integrity_pin: %s", store_errmsg(S.s));
	assert_true(store_commit(S.s));
	return version;
}

static void test_a_new_store_is_intact(void **state)
{
	(void)state;
	integrity in = checked();
	assert_int_equal(in.version, 1);
	assert_false(in.tampered);
	assert_string_equal(in.what, "");
	assert_int_equal(strlen(in.digest), 64);
	/* the settings and policies as loaded agree with the files */
	assert_true(integrity_check_loaded(S.s, S.ps, &S.cfg, &in));
	assert_false(in.tampered);
}

static void test_changed_files_are_tampering(void **state)
{
	(void)state;
	char digest[65];
	snprintf(digest, sizeof digest, "%s", checked().digest);
	append_to("policies/10-test.yaml", "# an edit nobody pinned\n");
	integrity in = checked();
	assert_true(in.tampered);
	assert_int_equal(in.version, 1);
	assert_string_equal(in.what, "policies/10-test.yaml edited");
	assert_string_not_equal(in.digest, digest);
	append_to("config.yaml", "# and another\n");
	append_to("policies/20-new.yaml", "version: 1\npolicies: []\n");
	in = checked();
	assert_string_equal(in.what, "config.yaml edited, policies/10-test.yaml edited, "
	    "policies/20-new.yaml added");
	/* what was loaded before the edits still matches the pin: the bytes in
	 * use are compared, not a second read of the files */
	assert_true(integrity_check_loaded(S.s, S.ps, &S.cfg, &in));
	assert_false(in.tampered);
	remove(in_store("policies/10-test.yaml"));
	assert_non_null(strstr(checked().what, "policies/10-test.yaml removed"));
	/* files that are not policies do not count */
	remove(in_store("policies/20-new.yaml"));
	append_to("policies/README", "notes\n");
	assert_string_equal(checked().what, "config.yaml edited, policies/10-test.yaml removed");
}

static void test_a_pin_makes_the_files_the_next_version(void **state)
{
	(void)state;
	append_to("policies/10-test.yaml", "# reviewed\n");
	assert_true(checked().tampered);
	assert_int_equal(pin("admin"), 2);
	integrity in = checked();
	assert_false(in.tampered);
	assert_int_equal(in.version, 2);
	assert_int_equal(store_policy_version(S.s), 2);
	struct stat st;
	assert_int_equal(stat(in_store("policies/10-test.yaml"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	assert_string_equal(db_text("SELECT actor || ' ' || subject || ' ' || json_extract(details, "
	    "'$.justification') FROM audit WHERE event = 'policy.pin'"),
	    "admin 2 the change was reviewed");
	assert_int_equal(db_int("SELECT count(*) FROM policy_versions"), 2);
	json_t *versions = integrity_versions(S.s);
	assert_non_null(versions);
	size_t n = json_array_size(versions);
	json_decref(versions);
	assert_int_equal(n, 2);
}

static void test_the_pin_is_the_signed_event_not_the_row(void **state)
{
	(void)state;
	append_to("policies/10-test.yaml", "# slipped in\n");
	/* someone records the edited files as version 1 straight in the database */
	const char *files = db_text("SELECT files FROM policy_versions WHERE version = 1");
	assert_non_null(files);
	db_exec("UPDATE policy_versions SET files = json_set(files, '$.\"policies/10-test.yaml\"', "
	    "'0000') WHERE version = 1");
	integrity in = checked();
	assert_true(in.tampered);
	assert_non_null(strstr(in.what, "does not match its signed audit event"));
	/* a row for a version nobody signed is no pin either */
	db_exec(arena_printf(T.a, "UPDATE policy_versions SET files = '%s' WHERE version = 1; "
	    "INSERT INTO policy_versions (version, created_at, actor, justification, files) "
	    "SELECT 2, created_at, 'mallory', 'unsigned', files FROM policy_versions WHERE version = 1",
	    files));
	in = checked();
	assert_true(in.tampered);
	assert_non_null(strstr(in.what, "does not match its signed audit event"));
}

static void test_tampering_is_audited_once_per_change(void **state)
{
	(void)state;
	integrity in = checked();
	assert_true(integrity_audit_tamper(S.s, &in, "tester"));        /* intact: nothing */
	append_to("policies/10-test.yaml", "# one\n");
	in = checked();
	assert_true(integrity_audit_tamper(S.s, &in, "tester"));
	assert_true(integrity_audit_tamper(S.s, &in, "someone-else"));
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'policy.tamper'"), 1);
	assert_string_equal(db_text("SELECT json_extract(details, '$.changes') FROM audit WHERE "
	    "event = 'policy.tamper'"), "policies/10-test.yaml edited");
	append_to("policies/10-test.yaml", "# two\n");
	in = checked();
	assert_true(integrity_audit_tamper(S.s, &in, "tester"));
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'policy.tamper'"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_a_new_store_is_intact),
		store_test(test_changed_files_are_tampering),
		store_test(test_a_pin_makes_the_files_the_next_version),
		store_test(test_the_pin_is_the_signed_event_not_the_row),
		store_test(test_tampering_is_audited_once_per_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
