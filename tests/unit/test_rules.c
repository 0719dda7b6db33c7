/*
 * test_rules.c: each of the eight rule types, the selection of policies
 * (kinds, action globs, `when` guards, enabled flags), severity and effect
 * defaults, override blocks, modify rules and the built-in self_protection.
 *
 * Every policy set here is one inline file, "policies/test.yaml", whose text
 * is "version: 1\npolicies:\n" followed by the test's policies: the first
 * policy starts on line 3, column 5. Findings are checked field by field,
 * details exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "support.h"

/* ---- helpers ---- */

static void dump(const eval_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const finding *f = &r->findings[i];
		print_error("  finding %zu: %s %s %s %s ov=%d msg=\"%s\" detail=\"%s\" path=%s src=%s\n",
		    i, f->name, f->type, severity_name(f->severity), effect_name(f->effect),
		    f->overridable, f->message, f->detail ? f->detail : "(null)",
		    f->path ? f->path : "(null)", f->source);
	}
}

#define EXPECT_N(r, want) expect_n(__FILE__, __LINE__, (r), (want))
static void expect_n(const char *file, int line, const eval_result *r, size_t want)
{
	if (r->n != want) {
		print_error("%s:%d: %zu findings, expected %zu\n", file, line, r->n, want);
		dump(r);
		_fail(file, line);
	}
}

static bool same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const char *yes_no(int b)
{
	return b ? "true" : "false";
}

#define CHECK(f, ...) check_finding(__FILE__, __LINE__, (f), __VA_ARGS__)
static void check_finding(const char *file, int line, const finding *f, const char *name,
    const char *type, int severity, int effect, bool overridable, const char *message,
    const char *detail, const char *path, const char *source)
{
	bool ok = true;
#define FIELD_STR(got, want) \
	if (!same(got, want)) { \
		print_error("%s:%d: " #want ": got \"%s\", expected \"%s\"\n", file, line, \
		    (got) ? (got) : "(null)", (want) ? (want) : "(null)"); \
		ok = false; \
	}
#define FIELD_INT(got, want, show) \
	if ((got) != (want)) { \
		print_error("%s:%d: " #want ": got %s, expected %s\n", file, line, show(got), \
		    show(want)); \
		ok = false; \
	}
	assert_non_null(f);
	FIELD_STR(f->name, name);
	FIELD_STR(f->type, type);
	FIELD_INT(f->severity, severity, severity_name);
	FIELD_INT(f->effect, effect, effect_name);
	FIELD_INT(f->overridable, overridable, yes_no);
	FIELD_STR(f->message, message);
	FIELD_STR(f->detail, detail);
	FIELD_STR(f->path, path);
	FIELD_STR(f->source, source);
#undef FIELD_STR
#undef FIELD_INT
	if (!ok)
		_fail(file, line);
}

static size_t count_named(const eval_result *r, const char *name)
{
	size_t n = 0;
	for (size_t j = 0; j < r->n; j++)
		n += strcmp(r->findings[j].name, name) == 0;
	return n;
}

/* ---- expression ---- */

static const char *const EXPRESSION =
    "  - name: big_change\n"
    "    type: expression\n"
    "    condition: 'bytes_changed > 1024'\n"
    "    severity: warning\n"
    "    message: Change is too big\n";

static void test_expression_fires(void **state)
{
	(void)state;
	load(EXPRESSION);
	const eval_result *r = eval("action: rom.patch\nbytes_changed: 2048\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "big_change", "expression", SEV_WARNING, EFF_WARN, true,
	    "Change is too big", "bytes_changed = 2048", "bytes_changed", SRC ":3");
	assert_ptr_equal(r->findings[0].policy, policy_named("big_change"));
	assert_int_equal(r->status, ST_PENDING);
}

static void test_expression_does_not_fire(void **state)
{
	(void)state;
	load(EXPRESSION);
	const eval_result *r = eval("action: rom.patch\nbytes_changed: 1024\n");
	EXPECT_N(r, 0);
	assert_int_equal(r->status, ST_ALLOWED);
}

static void test_expression_detail_names_every_field(void **state)
{
	(void)state;
	load("  - name: two_fields\n"
	     "    type: expression\n"
	     "    condition: 'bytes_changed > 10 && tenant == \"acme\"'\n");
	const eval_result *r = eval("action: rom.patch\nbytes_changed: 20\ntenant: acme\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "two_fields", "expression", SEV_WARNING, EFF_WARN, true,
	    "policy two_fields matched", "bytes_changed = 20, tenant = \"acme\"", "bytes_changed",
	    SRC ":3");
}

static void test_expression_without_fields_describes_itself(void **state)
{
	(void)state;
	load("  - name: always\n"
	     "    description: Always on\n"
	     "    type: expression\n"
	     "    condition: '1 < 2'\n");
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 1);
	/* no message: the description stands in */
	CHECK(&r->findings[0], "always", "expression", SEV_WARNING, EFF_WARN, true, "Always on",
	    "1 < 2 is true", NULL, SRC ":3");
}

static void test_expression_evaluation_error(void **state)
{
	(void)state;
	load(EXPRESSION);
	const eval_result *r = eval("action: rom.patch\nbytes_changed: lots\n");
	EXPECT_N(r, 1);
	const finding *f = &r->findings[0];
	CHECK(f, "big_change", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy big_change", f->detail, "bytes_changed", SRC ":3");
	/* the operator's position in the file: the text starts at column 17 */
	assert_string_equal(f->detail,
	    SRC ":5:31: cannot compare string \"lots\" with int 1024 using >");
	assert_int_equal(r->status, ST_BLOCKED);
}

/* ---- forbidden_range ---- */

static const char *const RANGES =
    "  - name: protect_header\n"
    "    type: forbidden_range\n"
    "    ranges:\n"
    "      - {start: 0xFFB0, end: 0xFFFF, reason: ROM header}\n"
    "      - {start: 0x8000, end: 0x80FF}\n"
    "    severity: critical\n"
    "    message: Proposal modifies protected ROM region\n";

static void test_forbidden_range_offset_length(void **state)
{
	(void)state;
	load(RANGES);
	const eval_result *r = eval("action: rom.patch\nchanges:\n  - {offset: 0xFFB2, length: 4}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "protect_header", "forbidden_range", SEV_CRITICAL, EFF_DENY, true,
	    "Proposal modifies protected ROM region",
	    "change 0xFFB2+4 overlaps 0xFFB0-0xFFFF (ROM header)", "changes[0]", SRC ":3");
	assert_int_equal(r->status, ST_BLOCKED);
}

static void test_forbidden_range_start_end_overlapping_two_ranges(void **state)
{
	(void)state;
	load(RANGES);
	const eval_result *r = eval("action: rom.patch\nchanges:\n  - {start: 0x80F0, end: 0xFFB0}\n");
	EXPECT_N(r, 2);
	CHECK(&r->findings[0], "protect_header", "forbidden_range", SEV_CRITICAL, EFF_DENY, true,
	    "Proposal modifies protected ROM region",
	    "change 0x80F0-0xFFB0 overlaps 0xFFB0-0xFFFF (ROM header)", "changes[0]", SRC ":3");
	CHECK(&r->findings[1], "protect_header", "forbidden_range", SEV_CRITICAL, EFF_DENY, true,
	    "Proposal modifies protected ROM region", "change 0x80F0-0xFFB0 overlaps 0x8000-0x80FF",
	    "changes[0]", SRC ":3");
}

static void test_forbidden_range_one_finding_per_overlap(void **state)
{
	(void)state;
	load(RANGES);
	const eval_result *r = eval("action: rom.patch\nchanges:\n"
	    "  - {offset: 0x1000, length: 16}\n"
	    "  - {offset: 0x80FF, length: 1}\n"
	    "  - {offset: 0xFFAF, length: 1}\n"     /* ends just before the header */
	    "  - {offset: 0xFFAF, length: 2}\n"     /* its last byte is the header's first */
	    "  - {start: 0x10000, end: 0x10010}\n");
	EXPECT_N(r, 2);
	CHECK(&r->findings[0], "protect_header", "forbidden_range", SEV_CRITICAL, EFF_DENY, true,
	    "Proposal modifies protected ROM region", "change 0x80FF+1 overlaps 0x8000-0x80FF",
	    "changes[1]", SRC ":3");
	CHECK(&r->findings[1], "protect_header", "forbidden_range", SEV_CRITICAL, EFF_DENY, true,
	    "Proposal modifies protected ROM region",
	    "change 0xFFAF+2 overlaps 0xFFB0-0xFFFF (ROM header)", "changes[3]", SRC ":3");
}

static void test_forbidden_range_no_overlap_passes(void **state)
{
	(void)state;
	load(RANGES);
	const eval_result *r = eval("action: rom.patch\nchanges:\n  - {offset: 0x100, length: 64}\n");
	EXPECT_N(r, 0);
	r = eval("action: rom.patch\n");     /* no changes at all */
	EXPECT_N(r, 0);
}

static void test_forbidden_range_zero_length_change(void **state)
{
	(void)state;
	load(RANGES);
	const eval_result *r = eval("action: rom.patch\nchanges:\n  - {offset: 0xFFB2, length: 0}\n");
	EXPECT_N(r, 0);
	assert_int_equal(r->status, ST_ALLOWED);
}

static void test_forbidden_range_field_not_a_list(void **state)
{
	(void)state;
	load(RANGES);
	const eval_result *r = eval("action: rom.patch\nchanges: 5\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "protect_header", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy protect_header",
	    SRC ":3:5: changes must be a list of changes, not int 5", "changes", SRC ":3");
}

static void test_forbidden_range_malformed_change(void **state)
{
	(void)state;
	load(RANGES);
	const eval_result *r = eval("action: rom.patch\nchanges:\n  - {offset: 0xFFB2}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "protect_header", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy protect_header",
	    SRC ":3:5: changes[0] must be {offset, length} or {start, end} with integers, "
	    "not {offset: 65458}", "changes[0]", SRC ":3");

	r = eval("action: rom.patch\nchanges:\n  - {offset: 0x10, length: 2}\n"
	    "  - {offset: \"0xFFB2\", length: 4}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "protect_header", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy protect_header",
	    SRC ":3:5: changes[1] must be {offset, length} or {start, end} with integers, "
	    "not {offset: \"0xFFB2\", length: 4}", "changes[1]", SRC ":3");

	r = eval("action: rom.patch\nchanges:\n  - {offset: 0xFFB2, length: -4}\n");
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].type, "error");

	r = eval("action: rom.patch\nchanges:\n  - 0xFFB2\n");
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].type, "error");
}

static void test_forbidden_range_reversed_change_is_malformed(void **state)
{
	(void)state;
	load(RANGES);
	/* end before start: not a change that could be checked, so fail closed */
	const eval_result *r = eval("action: rom.patch\nchanges:\n  - {start: 0xFFC0, end: 0x10}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "protect_header", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy protect_header",
	    SRC ":3:5: changes[0] must be {offset, length} or {start, end} with integers, "
	    "not {start: 65472, end: 16}", "changes[0]", SRC ":3");
}

static void test_forbidden_range_custom_field(void **state)
{
	(void)state;
	load("  - name: regions\n"
	     "    type: forbidden_range\n"
	     "    field: patch.regions\n"
	     "    ranges: [{start: 0xFFC0, end: 0xFFDF, reason: Internal ROM header}]\n"
	     "    severity: critical\n");
	const eval_result *r = eval("action: rom.patch\n"
	    "changes: [{offset: 0xFFC0, length: 1}]\n"       /* not the field: ignored */
	    "patch:\n  regions:\n    - {start: 0x10, end: 0x20}\n    - {start: 0xFFDF, end: 0xFFE0}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "regions", "forbidden_range", SEV_CRITICAL, EFF_DENY, true,
	    "policy regions matched",
	    "change 0xFFDF-0xFFE0 overlaps 0xFFC0-0xFFDF (Internal ROM header)",
	    "patch.regions[1]", SRC ":3");
}

/* ---- test_requirement ---- */

static const char *const TESTS =
    "  - name: require_tests\n"
    "    type: test_requirement\n"
    "    rules:\n"
    "      - {test_suite: palette_integrity, min_pass_rate: 1.0}\n"
    "      - {test_suite: overworld_rendering, min_pass_rate: 0.95}\n"
    "      - {test_suite: smoke test, min_pass_rate: 0.5}\n"
    "    severity: critical\n"
    "    message: All required test suites must pass\n";

static void test_test_requirement_missing_and_below(void **state)
{
	(void)state;
	load(TESTS);
	const eval_result *r = eval("action: rom.patch\n"
	    "tests: {palette_integrity: 1, overworld_rendering: 0.9}\n");
	EXPECT_N(r, 2);
	CHECK(&r->findings[0], "require_tests", "test_requirement", SEV_CRITICAL, EFF_DENY, true,
	    "All required test suites must pass",
	    "test suite overworld_rendering passed 0.9, below the required 0.95",
	    "tests.overworld_rendering", SRC ":3");
	CHECK(&r->findings[1], "require_tests", "test_requirement", SEV_CRITICAL, EFF_DENY, true,
	    "All required test suites must pass",
	    "test suite smoke test is missing (needs a pass rate of 0.5)", "tests[\"smoke test\"]",
	    SRC ":3");
}

static void test_test_requirement_at_rate_passes(void **state)
{
	(void)state;
	load(TESTS);
	const eval_result *r = eval("action: rom.patch\n"
	    "tests: {palette_integrity: 1.0, overworld_rendering: 0.95, smoke test: 0.5}\n");
	EXPECT_N(r, 0);
	assert_int_equal(r->status, ST_ALLOWED);
}

static void test_test_requirement_no_tests_at_all(void **state)
{
	(void)state;
	load(TESTS);
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 3);
	assert_string_equal(r->findings[0].detail,
	    "test suite palette_integrity is missing (needs a pass rate of 1)");
	assert_string_equal(r->findings[0].path, "tests.palette_integrity");
	assert_string_equal(r->findings[1].detail,
	    "test suite overworld_rendering is missing (needs a pass rate of 0.95)");
	assert_string_equal(r->findings[2].path, "tests[\"smoke test\"]");
}

static void test_test_requirement_rate_not_a_number(void **state)
{
	(void)state;
	load(TESTS);
	const eval_result *r = eval("action: rom.patch\n"
	    "tests: {palette_integrity: \"yes\", overworld_rendering: 1, smoke test: 1}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "require_tests", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy require_tests",
	    SRC ":3:5: tests.palette_integrity must be a pass rate from 0 to 1, not string \"yes\"",
	    "tests.palette_integrity", SRC ":3");
}

static void test_test_requirement_field_not_a_map(void **state)
{
	(void)state;
	load(TESTS);
	const eval_result *r = eval("action: rom.patch\ntests: [palette_integrity]\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "require_tests", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy require_tests",
	    SRC ":3:5: tests must be a map of test suite to pass rate, not list [\"palette_integrity\"]",
	    "tests", SRC ":3");
}

static void test_test_requirement_custom_field(void **state)
{
	(void)state;
	load("  - name: ci\n"
	     "    type: test_requirement\n"
	     "    field: ci.results\n"
	     "    rules: [{test_suite: unit, min_pass_rate: 0.99}]\n");
	const eval_result *r = eval("action: code.modify\nci: {results: {unit: 0.5}}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "ci", "test_requirement", SEV_WARNING, EFF_WARN, true,
	    "policy ci matched", "test suite unit passed 0.5, below the required 0.99",
	    "ci.results.unit", SRC ":3");
}

/* ---- change_constraint ---- */

static void test_change_constraint_max(void **state)
{
	(void)state;
	load("  - name: scope\n"
	     "    type: change_constraint\n"
	     "    rules:\n"
	     "      - max_bytes_changed: 10240\n"
	     "    severity: critical\n"
	     "    message: Proposal exceeds allowed change scope\n");
	const eval_result *r = eval("action: rom.patch\nbytes_changed: 20000\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "scope", "change_constraint", SEV_CRITICAL, EFF_DENY, true,
	    "Proposal exceeds allowed change scope",
	    "bytes_changed is 20000, over the maximum of 10240", "bytes_changed", SRC ":3");
	EXPECT_N(eval("action: rom.patch\nbytes_changed: 10240\n"), 0);
	EXPECT_N(eval("action: rom.patch\n"), 0);        /* max of nothing: nothing to limit */
}

static void test_change_constraint_min(void **state)
{
	(void)state;
	load("  - name: enough_tests\n"
	     "    type: change_constraint\n"
	     "    rules: [min_tests_run: 3]\n");
	const eval_result *r = eval("action: code.modify\ntests_run: 2\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "enough_tests", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy enough_tests matched", "tests_run is 2, under the minimum of 3", "tests_run",
	    SRC ":3");
	EXPECT_N(eval("action: code.modify\ntests_run: 3\n"), 0);
}

static void test_change_constraint_min_of_missing_field(void **state)
{
	(void)state;
	load("  - name: enough_tests\n"
	     "    type: change_constraint\n"
	     "    rules: [min_tests_run: 3]\n");
	const eval_result *r = eval("action: code.modify\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "enough_tests", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy enough_tests matched", "tests_run is missing (min_tests_run is 3)", "tests_run",
	    SRC ":3");
}

static const char *const MEMBERSHIP =
    "  - name: banks\n"
    "    type: change_constraint\n"
    "    rules:\n"
    "      - allowed_bank: [0x00, 0x01, 0x0E, 0x0F]\n"
    "      - forbidden_color_indices: [0]\n"
    "      - forbidden_mode: [unsafe]\n";

static void test_change_constraint_allowed_scalar(void **state)
{
	(void)state;
	load(MEMBERSHIP);
	const eval_result *r = eval("action: rom.patch\nbank: 5\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "banks", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy banks matched", "bank = 5 is not among the allowed [0, 1, 14, 15]", "bank",
	    SRC ":3");
	EXPECT_N(eval("action: rom.patch\nbank: 0x0E\n"), 0);
}

static void test_change_constraint_allowed_list_elements(void **state)
{
	(void)state;
	load(MEMBERSHIP);
	const eval_result *r = eval("action: rom.patch\nbank: [0, 16, 1, 32]\n");
	EXPECT_N(r, 2);
	CHECK(&r->findings[0], "banks", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy banks matched", "bank[1] = 16 is not among the allowed [0, 1, 14, 15]", "bank[1]",
	    SRC ":3");
	CHECK(&r->findings[1], "banks", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy banks matched", "bank[3] = 32 is not among the allowed [0, 1, 14, 15]", "bank[3]",
	    SRC ":3");
}

static void test_change_constraint_forbidden(void **state)
{
	(void)state;
	load(MEMBERSHIP);
	const eval_result *r = eval("action: rom.patch\ncolor_indices: [3, 0]\nmode: unsafe\n");
	EXPECT_N(r, 2);
	CHECK(&r->findings[0], "banks", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy banks matched", "color_indices[1] = 0 is forbidden ([0])", "color_indices[1]",
	    SRC ":3");
	CHECK(&r->findings[1], "banks", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy banks matched", "mode = \"unsafe\" is forbidden ([\"unsafe\"])", "mode", SRC ":3");
	EXPECT_N(eval("action: rom.patch\ncolor_indices: [3, 4]\nmode: safe\n"), 0);
}

static void test_change_constraint_max_of_list_is_its_size(void **state)
{
	(void)state;
	load("  - name: few_files\n"
	     "    type: change_constraint\n"
	     "    rules: [max_files: 2]\n");
	const eval_result *r = eval("action: code.modify\nfiles: [a.c, b.c, c.c]\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "few_files", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy few_files matched", "the size of files is 3, over the maximum of 2", "files",
	    SRC ":3");
	EXPECT_N(eval("action: code.modify\nfiles: [a.c, b.c]\n"), 0);
}

static void test_change_constraint_nested_field(void **state)
{
	(void)state;
	load("  - name: small_diff\n"
	     "    type: change_constraint\n"
	     "    rules:\n"
	     "      - max_stats.lines: 100\n");
	const eval_result *r = eval("action: code.modify\nstats: {lines: 150}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "small_diff", "change_constraint", SEV_WARNING, EFF_WARN, true,
	    "policy small_diff matched", "stats.lines is 150, over the maximum of 100", "stats.lines",
	    SRC ":3");
	EXPECT_N(eval("action: code.modify\nstats: {lines: 99.5}\n"), 0);
}

static void test_change_constraint_wrong_type(void **state)
{
	(void)state;
	load("  - name: scope\n"
	     "    type: change_constraint\n"
	     "    rules: [max_bytes_changed: 10, allowed_bank: [0]]\n");
	const eval_result *r = eval("action: rom.patch\nbytes_changed: true\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "scope", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy scope",
	    SRC ":3:5: bytes_changed must be a number for max_bytes_changed, not bool true",
	    "bytes_changed", SRC ":3");

	r = eval("action: rom.patch\nbank: {a: 1}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "scope", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy scope",
	    SRC ":3:5: bank must be a value or a list for allowed_bank, not a map", "bank", SRC ":3");
}

/* ---- review_requirement ---- */

static const char *const REVIEW =
    "  - name: human_review\n"
    "    type: review_requirement\n"
    "    conditions:\n"
    "      - if: 'bytes_changed > 1024'\n"
    "        then: require_diff_review\n"
    "        message: Large change requires diff review\n"
    "      - if: 'commands_executed > 10'\n"
    "        then: require_log_review\n"
    "      - if: 'test_failures > 0'\n"
    "        then: require_explanation\n"
    "        message: Test failures require explanation\n"
    "    severity: warning\n"
    "    message: Proposal needs human review\n";

static void test_review_requirement_each_condition(void **state)
{
	(void)state;
	load(REVIEW);
	const eval_result *r = eval("action: rom.patch\nbytes_changed: 2048\n"
	    "commands_executed: 12\ntest_failures: 0\n");
	EXPECT_N(r, 2);
	CHECK(&r->findings[0], "human_review", "review_requirement", SEV_WARNING,
	    EFF_REQUIRE_APPROVAL, true, "Large change requires diff review",
	    "require_diff_review: bytes_changed = 2048", "bytes_changed", SRC ":3");
	/* no message of its own: the policy's */
	CHECK(&r->findings[1], "human_review", "review_requirement", SEV_WARNING,
	    EFF_REQUIRE_APPROVAL, true, "Proposal needs human review",
	    "require_log_review: commands_executed = 12", "commands_executed", SRC ":3");
	assert_int_equal(r->status, ST_PENDING);
}

static void test_review_requirement_none_true(void **state)
{
	(void)state;
	load(REVIEW);
	const eval_result *r = eval("action: rom.patch\nbytes_changed: 10\n"
	    "commands_executed: 1\ntest_failures: 0\n");
	EXPECT_N(r, 0);
}

static void test_review_requirement_effect_default_ignores_severity(void **state)
{
	(void)state;
	load("  - name: critical_review\n"
	     "    type: review_requirement\n"
	     "    conditions: [{if: 'big', then: look, message: Look at it}]\n"
	     "    severity: critical\n");
	const eval_result *r = eval("action: rom.patch\nbig: true\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "critical_review", "review_requirement", SEV_CRITICAL,
	    EFF_REQUIRE_APPROVAL, true, "Look at it", "look: big = true", "big", SRC ":3");
	assert_int_equal(r->status, ST_PENDING);
}

static void test_review_requirement_explicit_effect(void **state)
{
	(void)state;
	load("  - name: deny_review\n"
	     "    type: review_requirement\n"
	     "    conditions: [{if: 'big', then: stop}]\n"
	     "    effect: deny\n");
	const eval_result *r = eval("action: rom.patch\nbig: true\n");
	EXPECT_N(r, 1);
	assert_int_equal(r->findings[0].effect, EFF_DENY);
	assert_int_equal(r->status, ST_BLOCKED);
}

static void test_review_requirement_error_in_condition(void **state)
{
	(void)state;
	load(REVIEW);
	const eval_result *r = eval("action: rom.patch\nbytes_changed: big\n"
	    "commands_executed: 12\ntest_failures: 0\n");
	EXPECT_N(r, 1);
	const finding *f = &r->findings[0];
	CHECK(f, "human_review", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy human_review", f->detail, "bytes_changed", SRC ":3");
	assert_string_equal(f->detail,
	    SRC ":6:28: cannot compare string \"big\" with int 1024 using >");
}

/* ---- protected_paths ---- */

static void test_protected_paths_globs_and_operations(void **state)
{
	(void)state;
	load("  - name: secrets\n"
	     "    type: protected_paths\n"
	     "    patterns: [\"secrets/**\", \"*.pem\", \"config/*.yaml\"]\n"
	     "    operations: [write, delete]\n"
	     "    severity: critical\n"
	     "    message: Protected file\n");
	const eval_result *r = eval("action: code.modify\nfiles:\n"
	    "  - {path: secrets/a/b.key, op: write}\n"
	    "  - {path: secrets/x, op: read}\n"
	    "  - {path: ./key.pem, op: delete}\n"
	    "  - {path: config/sub/x.yaml, op: write}\n"
	    "  - {path: config/app.yaml, op: write}\n"
	    "  - {path: src/main.c, op: write}\n");
	EXPECT_N(r, 3);
	CHECK(&r->findings[0], "secrets", "protected_paths", SEV_CRITICAL, EFF_DENY, true,
	    "Protected file", "write secrets/a/b.key matches secrets/**", "files[0]", SRC ":3");
	CHECK(&r->findings[1], "secrets", "protected_paths", SEV_CRITICAL, EFF_DENY, true,
	    "Protected file", "delete key.pem matches *.pem", "files[2]", SRC ":3");
	CHECK(&r->findings[2], "secrets", "protected_paths", SEV_CRITICAL, EFF_DENY, true,
	    "Protected file", "write config/app.yaml matches config/*.yaml", "files[4]", SRC ":3");
}

static void test_protected_paths_strings_and_dot_slash(void **state)
{
	(void)state;
	load("  - name: secrets\n"
	     "    type: protected_paths\n"
	     "    patterns: \"secrets/**\"\n");
	const eval_result *r = eval("action: code.modify\n"
	    "files: [secrets/x, src/main.c, ./secrets/deep/y, ./././secrets/z, secretsx/a]\n");
	EXPECT_N(r, 3);
	CHECK(&r->findings[0], "secrets", "protected_paths", SEV_WARNING, EFF_WARN, true,
	    "policy secrets matched", "secrets/x matches secrets/**", "files[0]", SRC ":3");
	CHECK(&r->findings[1], "secrets", "protected_paths", SEV_WARNING, EFF_WARN, true,
	    "policy secrets matched", "secrets/deep/y matches secrets/**", "files[2]", SRC ":3");
	CHECK(&r->findings[2], "secrets", "protected_paths", SEV_WARNING, EFF_WARN, true,
	    "policy secrets matched", "secrets/z matches secrets/**", "files[3]", SRC ":3");
}

static void test_protected_paths_entry_without_op_is_any_operation(void **state)
{
	(void)state;
	load("  - name: env\n"
	     "    type: protected_paths\n"
	     "    patterns: [\"*.env\"]\n"
	     "    operations: delete\n");
	const eval_result *r = eval("action: code.modify\n"
	    "files: [app.env, {path: b.env}, {path: c.env, op: create}, {path: d.env, op: delete}]\n");
	EXPECT_N(r, 3);
	CHECK(&r->findings[0], "env", "protected_paths", SEV_WARNING, EFF_WARN, true,
	    "policy env matched", "app.env matches *.env", "files[0]", SRC ":3");
	CHECK(&r->findings[1], "env", "protected_paths", SEV_WARNING, EFF_WARN, true,
	    "policy env matched", "b.env matches *.env", "files[1]", SRC ":3");
	CHECK(&r->findings[2], "env", "protected_paths", SEV_WARNING, EFF_WARN, true,
	    "policy env matched", "delete d.env matches *.env", "files[3]", SRC ":3");
}

static void test_protected_paths_double_star_crosses_directories(void **state)
{
	(void)state;
	load("  - name: env_files\n"
	     "    type: protected_paths\n"
	     "    patterns: [\"**/.env\", \"*.key\"]\n");
	const eval_result *r = eval("action: code.modify\n"
	    "files: [.env, app/.env, a/b/c/.env, a/b.key, b.key, .envrc]\n");
	EXPECT_N(r, 4);
	assert_string_equal(r->findings[0].detail, ".env matches **/.env");
	assert_string_equal(r->findings[1].detail, "app/.env matches **/.env");
	assert_string_equal(r->findings[2].detail, "a/b/c/.env matches **/.env");
	assert_string_equal(r->findings[3].detail, "b.key matches *.key");
	assert_string_equal(r->findings[3].path, "files[4]");
}

static void test_protected_paths_bad_entries(void **state)
{
	(void)state;
	load("  - name: secrets\n"
	     "    type: protected_paths\n"
	     "    patterns: [\"secrets/**\"]\n");
	const eval_result *r = eval("action: code.modify\nfiles: [ok.c, 5]\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "secrets", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy secrets",
	    SRC ":3:5: files[1] must be a path or {path, op}, not 5", "files[1]", SRC ":3");
	r = eval("action: code.modify\nfiles: secrets/x\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "secrets", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy secrets",
	    SRC ":3:5: files must be a list of files, not string \"secrets/x\"", "files", SRC ":3");
}

/* ---- allowlist and denylist ---- */

static const char *const VENDORS =
    "  - name: vendors\n"
    "    type: allowlist\n"
    "    field: vendor\n"
    "    values: [openai, anthropic]\n"
    "    severity: critical\n"
    "    message: Vendor not approved\n";

static void test_allowlist_value_outside(void **state)
{
	(void)state;
	load(VENDORS);
	const eval_result *r = eval("action: llm.request\nvendor: acme\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "vendors", "allowlist", SEV_CRITICAL, EFF_DENY, true,
	    "Vendor not approved",
	    "vendor = \"acme\" is not in the allowlist [\"openai\", \"anthropic\"]", "vendor",
	    SRC ":3");
	EXPECT_N(eval("action: llm.request\nvendor: anthropic\n"), 0);
}

static void test_allowlist_missing_value_fails_closed(void **state)
{
	(void)state;
	load(VENDORS);
	const eval_result *r = eval("action: llm.request\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "vendors", "allowlist", SEV_CRITICAL, EFF_DENY, true,
	    "Vendor not approved", "vendor is missing; the allowlist is [\"openai\", \"anthropic\"]",
	    "vendor", SRC ":3");
	EXPECT_N(eval("action: llm.request\nvendor: null\n"), 1);
}

static void test_allowlist_null_in_values_allows_missing(void **state)
{
	(void)state;
	load("  - name: vendors\n"
	     "    type: allowlist\n"
	     "    field: vendor\n"
	     "    values: [openai, null]\n");
	EXPECT_N(eval("action: llm.request\n"), 0);
	EXPECT_N(eval("action: llm.request\nvendor: ~\n"), 0);
	EXPECT_N(eval("action: llm.request\nvendor: acme\n"), 1);
}

static void test_allowlist_list_element_outside(void **state)
{
	(void)state;
	load(VENDORS);
	const eval_result *r = eval("action: llm.request\nvendor: [openai, acme, anthropic]\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "vendors", "allowlist", SEV_CRITICAL, EFF_DENY, true,
	    "Vendor not approved",
	    "vendor[1] = \"acme\" is not in the allowlist [\"openai\", \"anthropic\"]", "vendor[1]",
	    SRC ":3");
}

static void test_allowlist_element_of_wrong_type(void **state)
{
	(void)state;
	load(VENDORS);
	const eval_result *r = eval("action: llm.request\nvendor: [[openai]]\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "vendors", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy vendors", SRC ":3:5: vendor[0] must be a scalar, not a list",
	    "vendor[0]", SRC ":3");
}

static const char *const LICENSES =
    "  - name: no_copyleft\n"
    "    type: denylist\n"
    "    field: bundle.license\n"
    "    values: [GPL-3.0, AGPL-3.0]\n"
    "    severity: warning\n";

static void test_denylist_value_inside(void **state)
{
	(void)state;
	load(LICENSES);
	const eval_result *r = eval("action: export.bundle\nbundle: {license: AGPL-3.0}\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "no_copyleft", "denylist", SEV_WARNING, EFF_WARN, true,
	    "policy no_copyleft matched", "bundle.license = \"AGPL-3.0\" is in the denylist",
	    "bundle.license", SRC ":3");
}

static void test_denylist_value_outside_or_missing_passes(void **state)
{
	(void)state;
	load(LICENSES);
	EXPECT_N(eval("action: export.bundle\nbundle: {license: MIT}\n"), 0);
	EXPECT_N(eval("action: export.bundle\n"), 0);
}

static void test_denylist_list_elements(void **state)
{
	(void)state;
	load(LICENSES);
	const eval_result *r = eval("action: export.bundle\n"
	    "bundle: {license: [MIT, GPL-3.0, Apache-2.0, AGPL-3.0]}\n");
	EXPECT_N(r, 2);
	assert_string_equal(r->findings[0].detail, "bundle.license[1] = \"GPL-3.0\" is in the denylist");
	assert_string_equal(r->findings[0].path, "bundle.license[1]");
	assert_string_equal(r->findings[1].detail,
	    "bundle.license[3] = \"AGPL-3.0\" is in the denylist");
	assert_string_equal(r->findings[1].path, "bundle.license[3]");
}

/* ---- quota ---- */

/* A history source that answers with a fixed value and records the query. */
typedef struct fake_history {
	double answer;
	bool fail;
	int calls;
	const policy *policy_seen;
	const submission *sub_seen;
	char per_value[64];
	bool per_null;
	int64_t since;
} fake_history;

static bool fake_quota(void *ctx, const quota_query *q, double *out, char *err, size_t errlen)
{
	fake_history *h = ctx;
	h->calls++;
	h->policy_seen = q->policy;
	h->sub_seen = q->sub;
	h->per_null = q->per_value == NULL;
	snprintf(h->per_value, sizeof h->per_value, "%s", q->per_value ? q->per_value : "");
	h->since = q->since;
	if (h->fail) {
		snprintf(err, errlen, "%s", "database is locked");
		return false;
	}
	*out += h->answer;
	return true;
}

static const eval_result *eval_history(const char *yaml, fake_history *h)
{
	history_source src = { .quota = fake_quota, .ctx = h };
	eval_options o = opts();
	o.history = &src;
	return eval_with(yaml, &o);
}

static const char *const RATE =
    "  - name: rate\n"
    "    type: quota\n"
    "    limit: 5\n"
    "    window: 1h\n"
    "    per: submitter\n"
    "    severity: warning\n"
    "    message: Too many submissions\n";

static void test_quota_count_per_key_over_limit(void **state)
{
	(void)state;
	load(RATE);
	fake_history h = { .answer = 5 };
	const eval_result *r = eval_history("action: tool.call\nsubmitter: bot-7\n", &h);
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "rate", "quota", SEV_WARNING, EFF_WARN, true, "Too many submissions",
	    "6 submissions for submitter \"bot-7\" in 1h (5 before this one), over the limit of 5",
	    "submitter", SRC ":3");
	assert_int_equal(h.calls, 1);
	assert_ptr_equal(h.policy_seen, policy_named("rate"));
	assert_ptr_equal(h.sub_seen, &T.sub);
	assert_false(h.per_null);
	assert_string_equal(h.per_value, "bot-7");
	assert_int_equal(h.since, NOW - 3600);
}

static void test_quota_count_at_limit_passes(void **state)
{
	(void)state;
	load(RATE);
	fake_history h = { .answer = 4 };
	EXPECT_N(eval_history("action: tool.call\nsubmitter: bot-7\n", &h), 0);
	assert_int_equal(h.calls, 1);
}

static void test_quota_per_value_follows_the_submission(void **state)
{
	(void)state;
	load("  - name: per_tenant\n"
	     "    type: quota\n"
	     "    limit: 10\n"
	     "    window: 30m\n"
	     "    per: org.id\n");
	fake_history h = { .answer = 0 };
	EXPECT_N(eval_history("action: tool.call\norg: {id: 42}\n", &h), 0);
	assert_string_equal(h.per_value, "42");
	assert_int_equal(h.since, NOW - 1800);
	EXPECT_N(eval_history("action: tool.call\norg: {id: acme}\n", &h), 0);
	assert_string_equal(h.per_value, "acme");
}

static void test_quota_sum_with_field(void **state)
{
	(void)state;
	load("  - name: budget\n"
	     "    type: quota\n"
	     "    limit: 100\n"
	     "    window: 1d\n"
	     "    per: tenant\n"
	     "    field: cost_usd\n"
	     "    severity: critical\n"
	     "    message: Budget exceeded\n");
	fake_history h = { .answer = 80 };
	const eval_result *r = eval_history("action: llm.request\ntenant: acme\ncost_usd: 30.5\n", &h);
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "budget", "quota", SEV_CRITICAL, EFF_DENY, true, "Budget exceeded",
	    "110.5 cost_usd for tenant \"acme\" in 1d (80 before this one), over the limit of 100",
	    "cost_usd", SRC ":3");
	assert_string_equal(h.per_value, "acme");
	assert_int_equal(h.since, NOW - 86400);

	h.answer = 69.5;
	EXPECT_N(eval_history("action: llm.request\ntenant: acme\ncost_usd: 30.5\n", &h), 0);
}

/* Amounts count to the millionth: a history of 249 uses of 0.1, summed in
 * binary floating point in any order, and one more make exactly the limit
 * of 25; the same history summed in another order gives the same finding,
 * word for word. */
static const char *const DIMES =
    "  - {name: dimes, type: quota, limit: 25, window: 1d, field: cost, severity: critical,\n"
    "     message: Spent}\n";

static void test_quota_decimal_amounts_reach_the_limit_exactly(void **state)
{
	(void)state;
	load(DIMES);
	double up = 0, down = 0;
	for (int i = 0; i < 249; i++)
		up += 0.1;
	for (int i = 0; i < 249; i++)
		down = 0.1 + down * 1.0;
	fake_history h = { .answer = up };
	assert_true(up + 0.1 != 25.0);        /* what the store's sums are like */
	EXPECT_N(eval_history("action: a.b\ncost: 0.1\n", &h), 0);
	h.answer = up + 0.1;
	const eval_result *r = eval_history("action: a.b\ncost: 0.1\n", &h);
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].detail,
	    "25.1 cost in 1d (25 before this one), over the limit of 25");
	/* sums of 0.1, 0.2 and 0.3 grouped two ways differ in binary, not here */
	double a = (0.1 + 0.2) + 0.3, b = 0.1 + (0.2 + 0.3);
	assert_true(a != b);
	h.answer = a;
	char first[200];
	r = eval_history("action: a.b\ncost: 24.5\n", &h);
	EXPECT_N(r, 1);
	snprintf(first, sizeof first, "%s", r->findings[0].detail);
	h.answer = b;
	r = eval_history("action: a.b\ncost: 24.5\n", &h);
	assert_string_equal(r->findings[0].detail, first);
	assert_string_equal(first, "25.1 cost in 1d (0.6 before this one), over the limit of 25");
	h.answer = a;
	EXPECT_N(eval_history("action: a.b\ncost: 24.4\n", &h), 0);
	h.answer = b;
	EXPECT_N(eval_history("action: a.b\ncost: 24.4\n", &h), 0);
}

/* Amounts too large for millionths are added as they are; the largest that
 * are counted in millionths add up without overflow. */
static void test_quota_huge_amounts(void **state)
{
	(void)state;
	load("  - {name: tokens, type: quota, limit: 1e13, window: 1d, field: n, severity: info,\n"
	     "     message: Many}\n");
	fake_history h = { .answer = 9.5e12 };
	const eval_result *r = eval_history("action: a.b\nn: 1e12\n", &h);
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].detail,
	    "1.05e+13 n in 1d (9.5e+12 before this one), over the limit of 1e+13");
	h.answer = 8.5e12;
	EXPECT_N(eval_history("action: a.b\nn: 1e12\n", &h), 0);
}

static void test_quota_millionths_add_without_overflow(void **state)
{
	(void)state;
	load("  - {name: small, type: quota, limit: 1e12, window: 1d, field: m, severity: info,\n"
	     "     message: Some}\n");
	/* each just under the bound of millionths: their sum still over 1e12 */
	fake_history h = { .answer = 3.9e12 };
	const eval_result *r;
	h.answer = 3.9e12;
	r = eval_history("action: a.b\nm: 3.9e12\n", &h);
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].detail,
	    "7.8e+12 m in 1d (3.9e+12 before this one), over the limit of 1e+12");
	/* one over it, the other under: added as they are, still over */
	h.answer = 5e11;
	r = eval_history("action: a.b\nm: 8.9e12\n", &h);
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].detail,
	    "9.4e+12 m in 1d (5e+11 before this one), over the limit of 1e+12");
}

/* A negative amount would take back what others used: it is an error of
 * the rule (denying, failing closed), and counts nothing. */
static void test_quota_negative_amount_is_an_error(void **state)
{
	(void)state;
	load(DIMES);
	fake_history h = { .answer = 24.9 };
	const eval_result *r = eval_history("action: a.b\ncost: -1000\n", &h);
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].type, "error");
	assert_int_equal(r->findings[0].effect, EFF_DENY);
	assert_string_equal(r->findings[0].detail,
	    SRC ":3:5: cost must not be negative for the quota, not -1000");
	assert_int_equal(r->nuses, 0);
	assert_int_equal(r->status, ST_BLOCKED);
}

static void test_quota_window_shown_in_days(void **state)
{
	(void)state;
	load("  - {name: monthly, type: quota, limit: 0, window: 30d}\n");
	const eval_result *r = eval("action: tool.call\n");
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].detail,
	    "1 submission in 30d (0 before this one), over the limit of 0");
}

static void test_quota_global_count(void **state)
{
	(void)state;
	load("  - name: global\n"
	     "    type: quota\n"
	     "    limit: 3\n"
	     "    window: 90s\n");
	fake_history h = { .answer = 3 };
	const eval_result *r = eval_history("action: tool.call\nsubmitter: bot\n", &h);
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "global", "quota", SEV_WARNING, EFF_WARN, true,
	    "policy global matched",
	    "4 submissions in 1m30s (3 before this one), over the limit of 3", NULL, SRC ":3");
	assert_true(h.per_null);
	assert_int_equal(h.since, NOW - 90);
}

static void test_quota_history_failure_is_error(void **state)
{
	(void)state;
	load(RATE);
	fake_history h = { .fail = true };
	const eval_result *r = eval_history("action: tool.call\nsubmitter: bot-7\n", &h);
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "rate", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy rate",
	    SRC ":3:5: cannot read the quota's history: database is locked", "submitter", SRC ":3");
	assert_int_equal(r->status, ST_BLOCKED);
}

static void test_quota_history_failure_of_global_count(void **state)
{
	(void)state;
	load("  - name: global\n"
	     "    type: quota\n"
	     "    limit: 3\n"
	     "    window: 1h\n");
	fake_history h = { .fail = true };
	const eval_result *r = eval_history("action: tool.call\n", &h);
	EXPECT_N(r, 1);
	/* a count reads no field: the error has no path */
	CHECK(&r->findings[0], "global", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy global",
	    SRC ":3:5: cannot read the quota's history: database is locked", NULL, SRC ":3");
}

static void test_quota_without_history_counts_only_this_one(void **state)
{
	(void)state;
	load("  - name: none_allowed\n"
	     "    type: quota\n"
	     "    limit: 0\n"
	     "    window: 1h\n"
	     "  - name: one_allowed\n"
	     "    type: quota\n"
	     "    limit: 1\n"
	     "    window: 1h\n"
	     "  - name: spend\n"
	     "    type: quota\n"
	     "    limit: 10\n"
	     "    window: 1h\n"
	     "    field: cost_usd\n");
	const eval_result *r = eval("action: tool.call\ncost_usd: 11\n");
	EXPECT_N(r, 2);
	CHECK(find(r, "none_allowed"), "none_allowed", "quota", SEV_WARNING, EFF_WARN, true,
	    "policy none_allowed matched",
	    "1 submission in 1h (0 before this one), over the limit of 0", NULL, SRC ":3");
	CHECK(find(r, "spend"), "spend", "quota", SEV_WARNING, EFF_WARN, true,
	    "policy spend matched", "11 cost_usd in 1h (0 before this one), over the limit of 10",
	    "cost_usd", SRC ":11");
	assert_null(find(r, "one_allowed"));
}

static void test_quota_field_not_a_number(void **state)
{
	(void)state;
	load("  - name: spend\n"
	     "    type: quota\n"
	     "    limit: 10\n"
	     "    window: 1h\n"
	     "    field: cost_usd\n");
	fake_history h = { .answer = 0 };
	const eval_result *r = eval_history("action: tool.call\ncost_usd: cheap\n", &h);
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "spend", "error", SEV_CRITICAL, EFF_DENY, true,
	    "evaluation error in policy spend",
	    SRC ":3:5: cost_usd must be a number for the quota, not string \"cheap\"", "cost_usd",
	    SRC ":3");
	assert_int_equal(h.calls, 0);
}

/* ---- selection: kinds, actions, when, enabled ---- */

static void test_applies_to_kinds(void **state)
{
	(void)state;
	load("  - name: exports_only\n"
	     "    applies_to: [export]\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "  - name: not_exports\n"
	     "    applies_to: [proposal, import]\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "  - name: imports_only\n"
	     "    applies_to: import\n"
	     "    type: expression\n"
	     "    condition: 'true'\n");
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 1);
	assert_non_null(find(r, "not_exports"));
	r = eval("action: export.bundle\n");
	EXPECT_N(r, 1);
	assert_non_null(find(r, "exports_only"));
	r = eval("action: import.chat\n");
	EXPECT_N(r, 2);
	assert_non_null(find(r, "not_exports"));
	assert_non_null(find(r, "imports_only"));
	r = eval("action: bundle.send\nkind: export\n");      /* kind given, not derived */
	EXPECT_N(r, 1);
	assert_non_null(find(r, "exports_only"));
}

static void test_actions_globs(void **state)
{
	(void)state;
	load("  - name: rom_and_code\n"
	     "    actions: [\"rom.*\", code.modify]\n"
	     "    type: expression\n"
	     "    condition: 'true'\n");
	EXPECT_N(eval("action: rom.patch\n"), 1);
	EXPECT_N(eval("action: rom.bank.swap\n"), 1);
	EXPECT_N(eval("action: code.modify\n"), 1);
	EXPECT_N(eval("action: code.modify.all\n"), 0);
	EXPECT_N(eval("action: rom\n"), 0);
	EXPECT_N(eval("action: export.bundle\n"), 0);
}

static const char *const GUARDED =
    "  - name: acme_only\n"
    "    when: 'tenant == \"acme\"'\n"
    "    type: expression\n"
    "    condition: 'cost_usd > 1'\n";

static void test_when_guard_true_and_false(void **state)
{
	(void)state;
	load(GUARDED);
	const eval_result *r = eval("action: llm.request\ntenant: acme\ncost_usd: 2\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "acme_only", "expression", SEV_WARNING, EFF_WARN, true,
	    "policy acme_only matched", "cost_usd = 2", "cost_usd", SRC ":3");
	EXPECT_N(eval("action: llm.request\ntenant: other\ncost_usd: 2\n"), 0);
	/* a missing field reads as null, and null == "acme" is false */
	EXPECT_N(eval("action: llm.request\ncost_usd: 2\n"), 0);
}

static void test_when_guard_literal_bool(void **state)
{
	(void)state;
	load("  - name: off\n"
	     "    when: false\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "  - name: on\n"
	     "    when: true\n"
	     "    type: expression\n"
	     "    condition: 'true'\n");
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 1);
	assert_non_null(find(r, "on"));
}

static void test_when_guard_error_is_error_finding(void **state)
{
	(void)state;
	load("  - name: guarded\n"
	     "    when: 'tenant > 5'\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    severity: info\n");
	const eval_result *r = eval("action: llm.request\ntenant: acme\n");
	EXPECT_N(r, 1);   /* the error only: the rule itself does not run */
	const finding *f = &r->findings[0];
	CHECK(f, "guarded", "error", SEV_CRITICAL, EFF_DENY, true, "evaluation error in policy guarded",
	    f->detail, "tenant", SRC ":3");
	/* `when: '` puts the expression at column 12; ">" is 7 bytes in */
	assert_string_equal(f->detail,
	    SRC ":4:19: cannot compare string \"acme\" with int 5 using >");
	assert_int_equal(r->status, ST_BLOCKED);

	r = eval("action: llm.request\ntenant: acme\nx: 1\n");
	EXPECT_N(r, 1);
	r = eval("action: llm.request\ntenant: 7\n");
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].type, "expression");
}

static void test_when_guard_not_bool_is_error(void **state)
{
	(void)state;
	load("  - name: guarded\n"
	     "    when: tenant\n"
	     "    type: expression\n"
	     "    condition: 'true'\n");
	const eval_result *r = eval("action: llm.request\ntenant: acme\n");
	EXPECT_N(r, 1);
	assert_string_equal(r->findings[0].type, "error");
	assert_int_equal(r->findings[0].effect, EFF_DENY);
	assert_true(strncmp(r->findings[0].detail, SRC ":4:", strlen(SRC ":4:")) == 0);
}

static void test_enabled_false_on_rule(void **state)
{
	(void)state;
	load("  - name: off\n"
	     "    enabled: false\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "  - name: on\n"
	     "    enabled: true\n"
	     "    type: expression\n"
	     "    condition: 'true'\n");
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 1);
	assert_non_null(find(r, "on"));
	assert_false(policy_named("off")->enabled);
	assert_true(policy_named("on")->enabled);
}

static void test_enabled_false_on_file(void **state)
{
	(void)state;
	load_file("version: 1\n"
	    "enabled: false\n"
	    "policies:\n"
	    "  - name: off\n"
	    "    type: expression\n"
	    "    condition: 'true'\n"
	    "    severity: critical\n");
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 0);
	assert_false(policy_named("off")->enabled);
	assert_int_equal(T.ps->nfiles, 1);
	assert_false(T.ps->files[0].enabled);
}

/* ---- severity, effect, override ---- */

static void test_severity_effect_defaults(void **state)
{
	(void)state;
	load("  - name: crit\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    severity: critical\n"
	     "  - name: warn\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    severity: warning\n"
	     "  - name: info\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    severity: info\n"
	     "  - name: plain\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "  - name: crit_but_logged\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    severity: critical\n"
	     "    effect: log\n");
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 5);
	assert_int_equal(find(r, "crit")->severity, SEV_CRITICAL);
	assert_int_equal(find(r, "crit")->effect, EFF_DENY);
	assert_int_equal(find(r, "warn")->severity, SEV_WARNING);
	assert_int_equal(find(r, "warn")->effect, EFF_WARN);
	assert_int_equal(find(r, "info")->severity, SEV_INFO);
	assert_int_equal(find(r, "info")->effect, EFF_LOG);
	assert_int_equal(find(r, "plain")->severity, SEV_WARNING);
	assert_int_equal(find(r, "plain")->effect, EFF_WARN);
	assert_int_equal(find(r, "crit_but_logged")->severity, SEV_CRITICAL);
	assert_int_equal(find(r, "crit_but_logged")->effect, EFF_LOG);
	assert_string_equal(find(r, "info")->source, SRC ":11");
}

static void test_override_block_parsed(void **state)
{
	(void)state;
	load("  - name: hard\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    severity: critical\n"
	     "    override:\n"
	     "      allowed: false\n"
	     "      approvals: 2\n"
	     "      role: admin\n"
	     "      max_duration: 4h\n"
	     "  - name: soft\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    severity: critical\n"
	     "  - name: secs\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    override: {max_duration: 1h30m, approvals: 5}\n");
	const policy *hard = policy_named("hard"), *soft = policy_named("soft");
	assert_false(hard->override.allowed);
	assert_int_equal(hard->override.approvals, 2);
	assert_int_equal(hard->override.role, ROLE_ADMIN);
	assert_int_equal(hard->override.max_duration, 4 * 3600);
	assert_true(soft->override.allowed);
	assert_int_equal(soft->override.approvals, 1);
	assert_int_equal(soft->override.role, ROLE_REVIEWER);
	assert_int_equal(soft->override.max_duration, 0);
	assert_int_equal(policy_named("secs")->override.max_duration, 5400);
	assert_int_equal(policy_named("secs")->override.approvals, 5);
	const eval_result *r = eval("action: rom.patch\n");
	EXPECT_N(r, 3);
	assert_false(find(r, "hard")->overridable);
	assert_true(find(r, "soft")->overridable);
}

/* ---- modify ---- */

static const char *const DEGRADE =
    "  - name: degrade\n"
    "    type: expression\n"
    "    condition: 'cost_usd > 1'\n"
    "    effect: modify\n"
    "    set: {mode: draft, max_tokens: 100}\n"
    "    message: Expensive request degraded\n";

static void test_modify_gives_modifications(void **state)
{
	(void)state;
	load(DEGRADE);
	const eval_result *r = eval("action: llm.request\ncost_usd: 2\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "degrade", "expression", SEV_WARNING, EFF_MODIFY, true,
	    "Expensive request degraded", "cost_usd = 2", "cost_usd", SRC ":3");
	assert_int_equal(r->status, ST_ALLOWED);
	assert_int_equal(r->nmods, 2);
	assert_string_equal(r->mods[0].key, "mode");
	assert_int_equal(r->mods[0].value->type, NODE_STRING);
	assert_string_equal(r->mods[0].value->u.str.s, "draft");
	assert_ptr_equal(r->mods[0].by, policy_named("degrade"));
	assert_string_equal(r->mods[1].key, "max_tokens");
	assert_int_equal(r->mods[1].value->type, NODE_INT);
	assert_int_equal(r->mods[1].value->u.i, 100);
}

static void test_modify_not_firing_gives_none(void **state)
{
	(void)state;
	load(DEGRADE);
	const eval_result *r = eval("action: llm.request\ncost_usd: 0.5\n");
	EXPECT_N(r, 0);
	assert_int_equal(r->nmods, 0);
}

static void test_modify_conflict_is_error(void **state)
{
	(void)state;
	load(arena_printf(T.a, "%s%s", DEGRADE,
	    "  - name: sandbox\n"
	    "    type: expression\n"
	    "    condition: 'true'\n"
	    "    effect: modify\n"
	    "    set: {mode: sandbox}\n"));
	const eval_result *r = eval("action: llm.request\ncost_usd: 2\n");
	EXPECT_N(r, 3);
	assert_int_equal(count_named(r, "sandbox"), 2);
	const finding *f = nth(r, "sandbox", 1);
	CHECK(f, "sandbox", "error", SEV_CRITICAL, EFF_DENY, true, "evaluation error in policy sandbox",
	    SRC ":9:5: sandbox sets mode to \"sandbox\" but degrade sets it to \"draft\"", "mode",
	    SRC ":9");
	assert_int_equal(r->status, ST_BLOCKED);
	assert_int_equal(r->nmods, 2);  /* the first setting stands */
	assert_string_equal(r->mods[0].value->u.str.s, "draft");
}

static void test_modify_same_value_is_no_conflict(void **state)
{
	(void)state;
	load("  - name: one\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    effect: modify\n"
	     "    set: {mode: draft}\n"
	     "  - name: two\n"
	     "    type: expression\n"
	     "    condition: 'true'\n"
	     "    effect: modify\n"
	     "    set: {mode: draft}\n");
	const eval_result *r = eval("action: llm.request\n");
	EXPECT_N(r, 2);
	assert_string_equal(r->findings[0].type, "expression");
	assert_string_equal(r->findings[1].type, "expression");
	assert_int_equal(r->nmods, 1);
	assert_int_equal(r->status, ST_ALLOWED);
}

/* ---- self_protection ---- */

static void test_self_protection_without_policies(void **state)
{
	(void)state;
	T.ps = policy_set_new();
	const eval_result *r = eval("action: code.modify\nfiles:\n"
	    "  - .arbiter/policies/10-rom.yaml\n"
	    "  - {path: a/.arbiter/keys/x, op: write}\n"
	    "  - .arbiterx/y\n"
	    "  - src/.arbiter.bak\n"
	    "  - ./.arbiter/users.oath\n");
	EXPECT_N(r, 3);
	const char *msg = "Submission touches arbiter's own store (policies, keys, reviewers' secrets)";
	CHECK(&r->findings[0], "self_protection", "protected_paths", SEV_CRITICAL, EFF_DENY, false,
	    msg, ".arbiter/policies/10-rom.yaml is inside .arbiter/", "files[0]", "builtin");
	CHECK(&r->findings[1], "self_protection", "protected_paths", SEV_CRITICAL, EFF_DENY, false,
	    msg, "write a/.arbiter/keys/x is inside .arbiter/", "files[1]", "builtin");
	CHECK(&r->findings[2], "self_protection", "protected_paths", SEV_CRITICAL, EFF_DENY, false,
	    msg, "./.arbiter/users.oath is inside .arbiter/", "files[4]", "builtin");
	assert_null(r->findings[0].policy);
	assert_int_equal(r->status, ST_BLOCKED);
	assert_int_equal(r->counts[SEV_CRITICAL], 3);
}

static void test_self_protection_any_case_and_backslash(void **state)
{
	(void)state;
	T.ps = policy_set_new();
	const eval_result *r = eval("action: code.modify\n"
	    "files: [.ARBITER/keys/audit.key, 'repo\\.arbiter\\users.oath']\n");
	EXPECT_N(r, 2);
	assert_string_equal(r->findings[0].detail, ".ARBITER/keys/audit.key is inside .arbiter/");
	assert_string_equal(r->findings[1].detail, "repo\\.arbiter\\users.oath is inside .arbiter/");
	assert_string_equal(r->findings[1].path, "files[1]");
}

static void test_self_protection_ignores_lookalikes(void **state)
{
	(void)state;
	T.ps = policy_set_new();
	EXPECT_N(eval("action: code.modify\nfiles: [.arbiterx/a, x.arbiter/b, arbiter/c, .arbite/d]\n"),
	    0);
}

static void test_self_protection_even_with_file_disabled(void **state)
{
	(void)state;
	load_file("version: 1\nenabled: false\npolicies:\n"
	    "  - name: allow_all\n"
	    "    type: expression\n"
	    "    condition: 'true'\n");
	const eval_result *r = eval("action: code.modify\nfiles: [{path: .arbiter/keys/audit.key, op: delete}]\n");
	EXPECT_N(r, 1);
	CHECK(&r->findings[0], "self_protection", "protected_paths", SEV_CRITICAL, EFF_DENY, false,
	    "Submission touches arbiter's own store (policies, keys, reviewers' secrets)",
	    "delete .arbiter/keys/audit.key is inside .arbiter/", "files[0]", "builtin");
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T_(test_expression_fires),
		T_(test_expression_does_not_fire),
		T_(test_expression_detail_names_every_field),
		T_(test_expression_without_fields_describes_itself),
		T_(test_expression_evaluation_error),
		T_(test_forbidden_range_offset_length),
		T_(test_forbidden_range_start_end_overlapping_two_ranges),
		T_(test_forbidden_range_one_finding_per_overlap),
		T_(test_forbidden_range_no_overlap_passes),
		T_(test_forbidden_range_zero_length_change),
		T_(test_forbidden_range_field_not_a_list),
		T_(test_forbidden_range_malformed_change),
		T_(test_forbidden_range_reversed_change_is_malformed),
		T_(test_forbidden_range_custom_field),
		T_(test_test_requirement_missing_and_below),
		T_(test_test_requirement_at_rate_passes),
		T_(test_test_requirement_no_tests_at_all),
		T_(test_test_requirement_rate_not_a_number),
		T_(test_test_requirement_field_not_a_map),
		T_(test_test_requirement_custom_field),
		T_(test_change_constraint_max),
		T_(test_change_constraint_min),
		T_(test_change_constraint_min_of_missing_field),
		T_(test_change_constraint_allowed_scalar),
		T_(test_change_constraint_allowed_list_elements),
		T_(test_change_constraint_forbidden),
		T_(test_change_constraint_max_of_list_is_its_size),
		T_(test_change_constraint_nested_field),
		T_(test_change_constraint_wrong_type),
		T_(test_review_requirement_each_condition),
		T_(test_review_requirement_none_true),
		T_(test_review_requirement_effect_default_ignores_severity),
		T_(test_review_requirement_explicit_effect),
		T_(test_review_requirement_error_in_condition),
		T_(test_protected_paths_globs_and_operations),
		T_(test_protected_paths_strings_and_dot_slash),
		T_(test_protected_paths_entry_without_op_is_any_operation),
		T_(test_protected_paths_double_star_crosses_directories),
		T_(test_protected_paths_bad_entries),
		T_(test_allowlist_value_outside),
		T_(test_allowlist_missing_value_fails_closed),
		T_(test_allowlist_null_in_values_allows_missing),
		T_(test_allowlist_list_element_outside),
		T_(test_allowlist_element_of_wrong_type),
		T_(test_denylist_value_inside),
		T_(test_denylist_value_outside_or_missing_passes),
		T_(test_denylist_list_elements),
		T_(test_quota_count_per_key_over_limit),
		T_(test_quota_count_at_limit_passes),
		T_(test_quota_per_value_follows_the_submission),
		T_(test_quota_sum_with_field),
		T_(test_quota_decimal_amounts_reach_the_limit_exactly),
		T_(test_quota_huge_amounts),
		T_(test_quota_millionths_add_without_overflow),
		T_(test_quota_negative_amount_is_an_error),
		T_(test_quota_window_shown_in_days),
		T_(test_quota_global_count),
		T_(test_quota_history_failure_is_error),
		T_(test_quota_history_failure_of_global_count),
		T_(test_quota_without_history_counts_only_this_one),
		T_(test_quota_field_not_a_number),
		T_(test_applies_to_kinds),
		T_(test_actions_globs),
		T_(test_when_guard_true_and_false),
		T_(test_when_guard_literal_bool),
		T_(test_when_guard_error_is_error_finding),
		T_(test_when_guard_not_bool_is_error),
		T_(test_enabled_false_on_rule),
		T_(test_enabled_false_on_file),
		T_(test_severity_effect_defaults),
		T_(test_override_block_parsed),
		T_(test_modify_gives_modifications),
		T_(test_modify_not_firing_gives_none),
		T_(test_modify_conflict_is_error),
		T_(test_modify_same_value_is_no_conflict),
		T_(test_self_protection_without_policies),
		T_(test_self_protection_any_case_and_backslash),
		T_(test_self_protection_ignores_lookalikes),
		T_(test_self_protection_even_with_file_disabled),
	};
#undef T_
	return cmocka_run_group_tests(tests, NULL, NULL);
}
