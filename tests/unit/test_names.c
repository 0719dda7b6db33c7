/*
 * test_names.c: the engine's words for its numbers (names.c): each word
 * names its number back, only the whole word does, and a number outside a
 * table is "?"; and the names of identities (idname.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "support.h"

static void test_every_name_reads_back(void **state)
{
	(void)state;
	for (int t = 0; t < RULE__COUNT; t++) {
		const char *w = rule_type_name(t);
		assert_int_equal(rule_type_by_name(w, strlen(w)), t);
	}
	for (int s = SEV_INFO; s <= SEV_CRITICAL; s++) {
		const char *w = severity_name(s);
		assert_int_equal(severity_by_name(w, strlen(w)), s);
	}
	for (int e = EFF_LOG; e <= EFF_DENY; e++) {
		const char *w = effect_name(e);
		assert_int_equal(effect_by_name(w, strlen(w)), e);
	}
	for (int r = ROLE_REVIEWER; r <= ROLE_ADMIN; r++) {
		const char *w = role_name(r);
		assert_int_equal(role_by_name(w, strlen(w)), r);
	}
	for (int k = KIND_PROPOSAL; k <= KIND_IMPORT; k <<= 1) {
		const char *w = kind_name(k);
		assert_int_equal(kind_by_name(w, strlen(w)), k);
	}
}

static void test_the_words(void **state)
{
	(void)state;
	static const char *const statuses[] = { "allowed", "pending", "blocked", "approved",
		"rejected", "overridden", "expired" };
	for (int st = ST_ALLOWED; st <= ST_EXPIRED; st++)
		assert_string_equal(status_name(st), statuses[st]);
	assert_string_equal(rule_type_name(RULE_FORBIDDEN_RANGE), "forbidden_range");
	assert_string_equal(rule_type_name(RULE_QUOTA), "quota");
	assert_string_equal(severity_name(SEV_WARNING), "warning");
	assert_string_equal(effect_name(EFF_REQUIRE_APPROVAL), "require_approval");
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
	assert_string_equal(kind_name(KIND_EXPORT), "export");
	assert_string_equal(kind_name(KIND_ALL), "proposal");  /* not one kind: a proposal */
}

static void test_only_the_whole_word(void **state)
{
	(void)state;
	assert_int_equal(severity_by_name("warn", 4), -1);          /* a prefix of warning */
	assert_int_equal(severity_by_name("warnings", 8), -1);
	assert_int_equal(effect_by_name("warn", 4), EFF_WARN);
	assert_int_equal(effect_by_name("deny\0x", 6), -1);         /* a NUL inside */
	assert_int_equal(effect_by_name("denyx", 4), EFF_DENY);     /* len bytes only */
	assert_int_equal(role_by_name("Admin", 5), -1);             /* case counts */
	assert_int_equal(rule_type_by_name("", 0), -1);
	assert_int_equal(kind_by_name("imports", 7), -1);
}

static void test_numbers_outside_are_unknown(void **state)
{
	(void)state;
	assert_string_equal(status_name(-1), "?");
	assert_string_equal(status_name(ST_EXPIRED + 1), "?");
	assert_string_equal(rule_type_name(RULE__COUNT), "?");
	assert_string_equal(severity_name(SEV_CRITICAL + 1), "?");
	assert_string_equal(effect_name(-1), "?");
	assert_string_equal(role_name(ROLE_ADMIN + 1), "?");
}

/* identity_name: PRODUCT.md section 2's rule for the names of people and
 * agents, and their lower-cased form. */
static void test_identity_names(void **state)
{
	(void)state;
	char out[IDENTITY_NAME_MAX + 1];
	assert_true(identity_name("CI-Bot.1", out));
	assert_string_equal(out, "ci-bot.1");
	assert_true(identity_name("0_a", out));
	assert_string_equal(out, "0_a");
	char longest[IDENTITY_NAME_MAX + 2];
	memset(longest, 'a', IDENTITY_NAME_MAX);
	longest[IDENTITY_NAME_MAX] = '\0';
	assert_true(identity_name(longest, out));
	longest[IDENTITY_NAME_MAX] = 'a';
	longest[IDENTITY_NAME_MAX + 1] = '\0';
	assert_false(identity_name(longest, out));
	static const char *const bad[] = { "", "-a", ".a", "_a", "a b", "a@b", "a/b", "caf\xc3\xa9",
		"\xd0\xb0" "dmin", "a\tb", "a\xe2\x80\x8b" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(identity_name(bad[i], out));
	/* a stored submitter, counted bytes that may hold NUL or a no-break
	 * space: a name only when the whole of it is one */
	assert_true(identity_name_n("ALICE", 5, out));
	assert_string_equal(out, "alice");
	assert_false(identity_name_n("alice\0x", 7, out));
	assert_false(identity_name_n("alice\xc2\xa0", 7, out));
	assert_false(identity_name_n("alice ", 6, out));
	assert_false(identity_name_n("", 0, out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_name_reads_back),
		cmocka_unit_test(test_the_words),
		cmocka_unit_test(test_only_the_whole_word),
		cmocka_unit_test(test_numbers_outside_are_unknown),
		cmocka_unit_test(test_identity_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
