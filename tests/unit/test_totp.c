/*
 * test_totp.c: TOTP codes (totp.c) through arbiter's own code path: the
 * RFC 6238 Appendix B SHA-1 vectors, the window, malformed codes, and the
 * base32 form of a secret.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "support.h"

/* RFC 6238's SHA-1 seed: the ASCII of "12345678901234567890". */
static const unsigned char seed[] = "12345678901234567890";
#define SEED_LEN 20

static void test_rfc6238_sha1_vectors(void **state)
{
	(void)state;
	static const struct { int64_t t; const char *code; } vectors[] = {
		{ 59, "94287082" }, { 1111111109, "07081804" }, { 1111111111, "14050471" },
		{ 1234567890, "89005924" }, { 2000000000, "69279037" }, { 20000000000, "65353130" },
	};
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		char out[9];
		assert_true(totp_code(seed, SEED_LEN, vectors[i].t, 8, out));
		assert_string_equal(out, vectors[i].code);
	}
}

static void test_six_digits_are_the_last_six(void **state)
{
	(void)state;
	char out[7];
	assert_true(totp_code(seed, SEED_LEN, 59, 6, out));
	assert_string_equal(out, "287082");
	assert_false(totp_code(seed, SEED_LEN, 59, 5, out));
	assert_false(totp_code(seed, SEED_LEN, -1, 6, out));
}

static void test_match_within_the_window(void **state)
{
	(void)state;
	int64_t step = 0;
	/* 287082 is the code of step 1 (t 30..59) */
	assert_true(totp_match(seed, SEED_LEN, 59, 0, "287082", &step));
	assert_int_equal(step, 1);
	assert_true(totp_match(seed, SEED_LEN, 89, 1, "287082", &step));      /* one step late */
	assert_int_equal(step, 1);
	assert_true(totp_match(seed, SEED_LEN, 29, 1, "287082", &step));      /* one step early */
	assert_false(totp_match(seed, SEED_LEN, 89, 0, "287082", &step));
	assert_false(totp_match(seed, SEED_LEN, 119, 1, "287082", &step));    /* two steps late */
}

static void test_malformed_codes_never_match(void **state)
{
	(void)state;
	int64_t step = 0;
	static const char *const bad[] = { "", "28708", "2870822", "28708a", " 287082", "287082 ",
		"-28708", "94287082" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(totp_match(seed, SEED_LEN, 59, 1, bad[i], &step));
}

static void test_base32_of_the_seed(void **state)
{
	(void)state;
	char *b = totp_base32(seed, SEED_LEN);
	assert_non_null(b);
	assert_string_equal(b, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	free(b);
	static const unsigned char five[] = "abcde", four[] = "abcd";
	b = totp_base32(four, 4);       /* padded by base32: the padding is dropped */
	assert_string_equal(b, "MFRGGZA");
	free(b);
	b = totp_base32(five, 5);
	assert_string_equal(b, "MFRGGZDF");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_sha1_vectors),
		cmocka_unit_test(test_six_digits_are_the_last_six),
		cmocka_unit_test(test_match_within_the_window),
		cmocka_unit_test(test_malformed_codes_never_match),
		cmocka_unit_test(test_base32_of_the_seed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
