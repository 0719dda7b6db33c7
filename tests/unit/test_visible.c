/*
 * test_visible.c: outside text made safe for a terminal (visible.c): each
 * class of character the writer escapes, what it leaves alone, the two
 * modes, and that no output ever holds a byte a terminal could act on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "support.h"

/* s (n bytes) as visible_put writes it in mode; the caller frees it. */
static char *vis_n(const char *s, size_t n, int mode)
{
	strbuf b = { 0 };
	visible_put(&b, s, n, mode);
	sb_put(&b, "", 0);
	return b.s;
}

#define assert_visible(in, mode, want) do { \
	char *got_ = vis_n(in, sizeof(in) - 1, mode); \
	assert_string_equal(got_, want); \
	free(got_); \
} while (0)

static void test_plain_text_is_unchanged(void **state)
{
	(void)state;
	assert_visible("Fix cartridge title", VIS_TEXT, "Fix cartridge title");
	assert_visible("", VIS_TEXT, "");
	/* printable UTF-8 stays as it is: accents, CJK, emoji, U+00A0 */
	assert_visible("\xC3\xA9t\xC3\xA9 \xE6\xBC\xA2 \xF0\x9F\x98\x80 \xC2\xA0", VIS_TEXT,
	    "\xC3\xA9t\xC3\xA9 \xE6\xBC\xA2 \xF0\x9F\x98\x80 \xC2\xA0");
}

static void test_c0_controls_and_del(void **state)
{
	(void)state;
	assert_visible("x\x1b[2K\rstatus: approved", VIS_TEXT, "x\\x1b[2K\\rstatus: approved");
	assert_visible("a\tb\nc", VIS_TEXT, "a\\tb\\nc");
	assert_visible("bell\a del\x7f", VIS_TEXT, "bell\\x07 del\\x7f");
	assert_visible("\x01\x1f", VIS_TEXT, "\\x01\\x1f");
}

static void test_nul_keeps_the_rest(void **state)
{
	(void)state;
	assert_visible("a\0b\0", VIS_TEXT, "a\\x00b\\x00");
}

static void test_c1_controls(void **state)
{
	(void)state;
	/* U+009B is a one-character CSI on terminals that take C1 */
	assert_visible("\xC2\x9B" "2J", VIS_TEXT, "\\u009b2J");
	assert_visible("\xC2\x80\xC2\x9F", VIS_TEXT, "\\u0080\\u009f");
}

static void test_bidi_controls(void **state)
{
	(void)state;
	assert_visible("\xE2\x80\xAE" "evil", VIS_TEXT, "\\u202eevil");     /* RLO */
	assert_visible("\xE2\x80\xAA\xE2\x80\xAD\xE2\x81\xA6\xE2\x81\xA9", VIS_TEXT,
	    "\\u202a\\u202d\\u2066\\u2069");
	assert_visible("\xE2\x80\x8E\xE2\x80\x8F\xD8\x9C", VIS_TEXT, "\\u200e\\u200f\\u061c");
	assert_visible("a\xE2\x80\xA8" "b", VIS_TEXT, "a\\u2028b");     /* a line separator */
}

static void test_invalid_utf8_byte_by_byte(void **state)
{
	(void)state;
	assert_visible("\xff", VIS_TEXT, "\\xff");
	assert_visible("a\xC3\x28" "b", VIS_TEXT, "a\\xc3(b");          /* a lead byte alone */
	assert_visible("\xE2\x80", VIS_TEXT, "\\xe2\\x80");               /* cut short */
	assert_visible("\xC0\xAF", VIS_TEXT, "\\xc0\\xaf");               /* overlong */
	assert_visible("\xED\xA0\x80", VIS_TEXT, "\\xed\\xa0\\x80");      /* a surrogate */
}

static void test_backslash_by_mode(void **state)
{
	(void)state;
	/* a literal \x1b typed by an agent never reads like an escaped ESC */
	assert_visible("\\x1b", VIS_TEXT, "\\\\x1b");
	assert_visible("\x1b", VIS_TEXT, "\\x1b");
	/* JSON text keeps its own escapes; what JSON leaves raw is escaped */
	assert_visible("{\"t\":\"a\\u001b\\\\\"}", VIS_ESCAPED, "{\"t\":\"a\\u001b\\\\\"}");
	assert_visible("\"\xC2\x9B\xE2\x80\xAE\"", VIS_ESCAPED, "\"\\u009b\\u202e\"");
	/* controls are escaped in both modes */
	assert_visible("a\x1b" "b", VIS_ESCAPED, "a\\x1bb");
}

/* Every byte value, alone and around others: the output holds no C0 or DEL
 * byte, no C1 or bidi character, and is valid UTF-8. */
static void test_no_output_holds_a_control(void **state)
{
	(void)state;
	char in[3 * 256];
	for (int i = 0; i < 256; i++) {
		in[3 * i] = (char)i;
		in[3 * i + 1] = (char)(0xC2 + i % 3);
		in[3 * i + 2] = (char)(0x80 + i % 64);
	}
	for (int mode = VIS_TEXT; mode <= VIS_ESCAPED; mode++) {
		char *out = vis_n(in, sizeof in, mode);
		size_t n = strlen(out);
		for (size_t i = 0; i < n;) {
			unsigned char c = (unsigned char)out[i];
			assert_false(c < 0x20 || c == 0x7F);
			size_t k = utf8_char_len(out + i, n - i);
			assert_true(k > 0);
			assert_false(k == 2 && c == 0xC2 && (unsigned char)out[i + 1] < 0xA0);
			i += k;
		}
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_is_unchanged),
		cmocka_unit_test(test_c0_controls_and_del),
		cmocka_unit_test(test_nul_keeps_the_rest),
		cmocka_unit_test(test_c1_controls),
		cmocka_unit_test(test_bidi_controls),
		cmocka_unit_test(test_invalid_utf8_byte_by_byte),
		cmocka_unit_test(test_backslash_by_mode),
		cmocka_unit_test(test_no_output_holds_a_control),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
