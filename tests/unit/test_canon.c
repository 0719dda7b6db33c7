/*
 * test_canon.c: RFC 8785, the JSON Canonicalization Scheme (engine/canon.c),
 * and the digest of a submission built on it (engine/submission.c).
 *
 * The RFC's own examples are the tests: the number table of its appendix B
 * (IEEE 754 bit patterns and the text each must take), the transformation
 * example of section 3.2.4 and the sorting example of section 3.2.3, whose
 * names include one above U+FFFF that UTF-16 sorts before U+FB33. Then what
 * arbiter adds: integers (exact within 2^53, the nearest double beyond),
 * what JSON cannot hold refused, and the digest leaving out the top-level
 * ref, title and meta only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static double from_bits(uint64_t bits)
{
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

static const char *number(double d)
{
	char *out = arena_alloc(T.a, CANON_NUMBER_MAX);
	if (!canon_number(d, out))
		fail_msg("canon_number refused %.17g", d);
	return out;
}

/* The canonical text of the document text (JSON or YAML). */
static const char *canon_of(const char *text)
{
	strbuf b = { 0 };
	assert_true(canon_write(&b, parse(text)));
	const char *out = arena_strndup(T.a, b.s, b.n);
	free(b.s);
	return out;
}

static void test_rfc8785_appendix_b_numbers(void **state)
{
	(void)state;
	static const struct { uint64_t bits; const char *text; } table[] = {
		{ 0x0000000000000000, "0" },
		{ 0x8000000000000000, "0" },            /* minus zero */
		{ 0x0000000000000001, "5e-324" },
		{ 0x8000000000000001, "-5e-324" },
		{ 0x7fefffffffffffff, "1.7976931348623157e+308" },
		{ 0xffefffffffffffff, "-1.7976931348623157e+308" },
		{ 0x4340000000000000, "9007199254740992" },
		{ 0xc340000000000000, "-9007199254740992" },
		{ 0x4430000000000000, "295147905179352830000" },
		{ 0x44b52d02c7e14af5, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6, "1e+23" },
		{ 0x44b52d02c7e14af7, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4e, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4f, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8d, "0.000001" },
		{ 0x41b3de4355555553, "333333333.3333332" },
		{ 0x41b3de4355555554, "333333333.33333325" },
		{ 0x41b3de4355555555, "333333333.3333333" },
		{ 0x41b3de4355555556, "333333333.3333334" },
		{ 0x41b3de4355555557, "333333333.33333343" },
		{ 0xbecbf647612f3696, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959, "1424953923781206.2" },      /* round to even */
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const char *got = number(from_bits(table[i].bits));
		if (strcmp(got, table[i].text) != 0)
			fail_msg("%016llx: %s, not %s", (unsigned long long)table[i].bits, got,
			    table[i].text);
	}
	/* NaN and Infinity have no JSON form */
	char out[CANON_NUMBER_MAX];
	assert_false(canon_number(from_bits(0x7fffffffffffffff), out));
	assert_false(canon_number(from_bits(0x7ff0000000000000), out));
	assert_false(canon_number(-INFINITY, out));
}

static void test_numbers_at_the_edges_of_each_form(void **state)
{
	(void)state;
	assert_string_equal(number(1e21), "1e+21");
	assert_string_equal(number(1e20), "100000000000000000000");
	assert_string_equal(number(1e-6), "0.000001");
	assert_string_equal(number(1e-7), "1e-7");
	assert_string_equal(number(1.5e-7), "1.5e-7");
	assert_string_equal(number(0.1), "0.1");
	assert_string_equal(number(-1.5), "-1.5");
	assert_string_equal(number(4.5), "4.5");
	assert_string_equal(number(100), "100");
	assert_string_equal(number(123.456), "123.456");
	assert_string_equal(number(1e300), "1e+300");
	assert_string_equal(number(-2.5e-300), "-2.5e-300");
}

/* The significant digits of a number as canon_number writes it. */
static int significant(const char *text)
{
	int first = -1, last = -1, i = 0;
	for (const char *p = text; *p && *p != 'e'; p++) {
		if (*p >= '1' && *p <= '9') {
			if (first < 0)
				first = i;
			last = i;
		}
		if (*p >= '0' && *p <= '9')
			i++;
	}
	return first < 0 ? 1 : last - first + 1;
}

/* canon_number against the plain search it takes shortcuts from: the fewest
 * digits that read back, tried from one up, for random doubles of every
 * exponent (subnormals too) and for short decimals as documents hold them. */
static void test_numbers_are_the_shortest_that_read_back(void **state)
{
	(void)state;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (int i = 0; i < 60000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		double scale = 1;
		for (uint64_t k = x >> 60; k > 0; k--)
			scale *= 10;
		double d = i % 2 ? from_bits(x) : (double)(int64_t)(x % 2000000) / scale;
		if (!isfinite(d) || d == 0)
			continue;
		int want = 17;
		char text[40];
		for (int p = 1; p <= 17; p++) {
			snprintf(text, sizeof text, "%.*e", p - 1, d);
			if (strtod(text, NULL) == d) {
				want = p;
				break;
			}
		}
		const char *got = number(d);
		if (strtod(got, NULL) != d || significant(got) != want)
			fail_msg("%016llx (%.17g): %s, not the %d digits that read back",
			    (unsigned long long)x, d, got, want);
		arena_reset(T.a);
	}
}

/* RFC 8785 section 3.2.4: the whole transformation, numbers, escapes and
 * literals. The JSON escape \/ and the upper-case \u000F are read by the
 * document parser, the rest is the canonical writer's. */
static void test_rfc8785_example(void **state)
{
	(void)state;
	const char *in = "{\n"
	    "  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
	    "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
	    "  \"literals\": [null, true, false]\n"
	    "}";
	assert_string_equal(canon_of(in), "{\"literals\":[null,true,false],"
	    "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
	    "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

/* RFC 8785 section 3.2.3: names sort as UTF-16 code units. The emoji
 * (U+1F600, D83D DE00 in UTF-16) comes before U+FB33, though its code
 * point is larger. Written as UTF-8 but for the C1 control U+0080: the JSON
 * parser under arbiter takes no surrogate escapes, nor a raw C1 control. */
static void test_rfc8785_sorting(void **state)
{
	(void)state;
	const char *in = "{\n"
	    "  \"\xE2\x82\xAC\": \"Euro Sign\",\n"
	    "  \"\\r\": \"Carriage Return\",\n"
	    "  \"\xEF\xAC\xB3\": \"Hebrew Letter Dalet With Dagesh\",\n"
	    "  \"1\": \"One\",\n"
	    "  \"\xF0\x9F\x98\x80\": \"Emoji: Grinning Face\",\n"
	    "  \"\\u0080\": \"Control\",\n"
	    "  \"\xC3\xB6\": \"Latin Small Letter O With Diaeresis\"\n"
	    "}";
	assert_string_equal(canon_of(in), "{\"\\r\":\"Carriage Return\",\"1\":\"One\","
	    "\"\xC2\x80\":\"Control\",\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\","
	    "\"\xE2\x82\xAC\":\"Euro Sign\",\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
	    "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
	/* a prefix first; a supplementary character against U+E000 and U+FFFD
	 * either way round; a map past the insertion sort's 32 */
	assert_string_equal(canon_of("{\"ab\": 1, \"a\": 2, \"\": 3}"), "{\"\":3,\"a\":2,\"ab\":1}");
	assert_string_equal(canon_of("{\"\xEE\x80\x80\": 1, \"\xF0\x90\x80\x80\": 2, "
	    "\"\xEF\xBF\xBD\": 3, \"\xED\x9F\xBF\": 4}"),
	    "{\"\xED\x9F\xBF\":4,\"\xF0\x90\x80\x80\":2,\"\xEE\x80\x80\":1,\"\xEF\xBF\xBD\":3}");
	strbuf big = { 0 }, want = { 0 };
	sb_puts(&big, "{");
	for (int i = 39; i >= 0; i--)
		sb_puts(&big, arena_printf(T.a, "%s\"k%02d\": %d", i < 39 ? ", " : "", i, i));
	sb_puts(&big, ", \"\xF0\x9F\x98\x80\": 0, \"\xEF\xAC\xB3\": 0}");
	sb_puts(&want, "{");
	for (int i = 0; i < 40; i++)
		sb_puts(&want, arena_printf(T.a, "\"k%02d\":%d,", i, i));
	sb_puts(&want, "\"\xF0\x9F\x98\x80\":0,\"\xEF\xAC\xB3\":0}");
	assert_string_equal(canon_of(big.s), want.s);
	free(big.s);
	free(want.s);
}

static void test_strings_escape_what_json_stringify_escapes(void **state)
{
	(void)state;
	/* controls: the five short escapes, the rest \u00xx in lower case; DEL,
	 * C1, U+2028 and non-ASCII as they are; NUL kept */
	assert_string_equal(canon_of("s: \"\\b\\t\\n\\f\\r \\x01\\x1f\\x7f \\u0085 \\u2028 \\0 "
	    "\\\" \\\\ /\""), "{\"s\":\"\\b\\t\\n\\f\\r \\u0001\\u001f\x7f \xC2\x85 \xE2\x80\xA8 "
	    "\\u0000 \\\" \\\\ /\"}");
	/* what JSON cannot hold: a string that is not UTF-8, a number that is
	 * not finite */
	node bad = { .type = NODE_STRING, .u.str = { "\xC0\xAF", 2 } };
	strbuf b = { 0 };
	assert_false(canon_write(&b, &bad));
	node surrogate = { .type = NODE_STRING, .u.str = { "\xED\xA0\x80", 3 } };
	b.n = 0;
	assert_false(canon_write(&b, &surrogate));
	node inf = { .type = NODE_FLOAT, .u.d = INFINITY };
	b.n = 0;
	assert_false(canon_write(&b, &inf));
	free(b.s);
}

/* The JSON string writer (results, stored documents, findings) writes what
 * jansson writes for the same bytes, without asking jansson unless they are
 * not UTF-8: strings drawn from pieces of every kind (controls, quotes,
 * backslashes, DEL, characters of two to four bytes, and bytes that are no
 * UTF-8: a lone continuation, an overlong form, a surrogate, 0xFF). */
static void test_json_strings_are_written_as_jansson_writes_them(void **state)
{
	(void)state;
	static const char *const pieces[] = { "a", "Z09", " ", "\"", "\\", "/", "\x7F", "\x01",
		"\x1F", "\n", "\t", "\r", "\b", "\f", "\xC3\xA9", "\xE2\x80\xA8", "\xF0\x9F\x98\x80",
		"\xEF\xBF\xBF", "\x80", "\xC0\x80", "\xED\xA0\x80", "\xFF", "\xE2\x82" };
	uint64_t x = 0x2545F4914F6CDD1Du;
	for (int i = 0; i < 20000; i++) {
		char text[128];
		size_t n = 0;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (int k = 0; k < (int)(x % 12); k++) {
			const char *p = pieces[(x >> (4 + k * 5)) % (sizeof pieces / sizeof *pieces)];
			memcpy(text + n, p, strlen(p));
			n += strlen(p);
		}
		if (x & 1 << 30)        /* a NUL inside */
			text[n++] = '\0';
		strbuf got = { 0 };
		sb_put_json_stringn(&got, text, n);
		json_t *j = json_string_lossy(text, n);
		char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(j);
		if (got.s == NULL || strcmp(got.s, want) != 0)
			fail_msg("%zu bytes written as %s, jansson writes %s", n, got.s, want);
		free(want);
		free(got.s);
	}
}

static void test_integers_are_the_doubles_they_read_as(void **state)
{
	(void)state;
	assert_string_equal(canon_of("i: [0, -1, 10, 9007199254740991, -9007199254740991, 0x1F]"),
	    "{\"i\":[0,-1,10,9007199254740991,-9007199254740991,31]}");
	/* a float that is a whole number is written as one: 1.0 and 1 agree */
	assert_string_equal(canon_of("f: [1.0, -0.0, 2.50, 1e2]"), "{\"f\":[1,0,2.5,100]}");
	/* beyond 2^53 (a document stored before the limit): the nearest double */
	node big = { .type = NODE_INT, .u.i = 9007199254740993LL };
	node max = { .type = NODE_INT, .u.i = INT64_MAX };
	node exact = { .type = NODE_INT, .u.i = -9007199254740992LL };
	strbuf b = { 0 };
	assert_true(canon_write(&b, &big));
	sb_puts(&b, " ");
	assert_true(canon_write(&b, &max));
	sb_puts(&b, " ");
	assert_true(canon_write(&b, &exact));
	assert_string_equal(b.s, "9007199254740992 9223372036854776000 -9007199254740992");
	free(b.s);
}

static const char *digest_of(const char *yaml)
{
	char *d = arena_alloc(T.a, 65);
	assert_true(document_digest(parse(yaml), d));
	return d;
}

static void test_digest_leaves_out_ref_title_and_meta(void **state)
{
	(void)state;
	/* the SHA-256 of {"action":"tool.call","cwd":"/w","input":{"a":[1.5,"x",
	 * 1e+21,0.000001],"b":1},"tool":"Bash"}, as any JCS implementation
	 * writes it */
	const char *want = "399a4f64f140ee79658846f7913756058591801e8d8732b3d4b54d0be70507ac";
	assert_string_equal(digest_of("action: tool.call\ntool: Bash\ncwd: /w\n"
	    "input: {b: 1, a: [1.5, x, 1e21, 1e-6]}\nref: r-1\ntitle: first\nmeta: {session: s1}\n"),
	    want);
	/* the same call as JSON, in another order, with another ref, title and
	 * session, and none of them */
	assert_string_equal(digest_of("{\"meta\": {\"session\": \"s2\"}, \"title\": \"again\", "
	    "\"ref\": \"r-2\", \"tool\": \"Bash\", \"input\": {\"a\": [1.50, \"x\", 1E21, 0.000001], "
	    "\"b\": 1.0}, \"cwd\": \"/w\", \"action\": \"tool.call\"}"), want);
	assert_string_equal(digest_of("{\"tool\": \"Bash\", \"input\": {\"a\": [1.5, \"x\", 1e21, "
	    "1e-6], \"b\": 1}, \"cwd\": \"/w\", \"action\": \"tool.call\"}"), want);
	/* what is asked counts: another directory, a nested ref, a submitter,
	 * a kind written out */
	assert_string_not_equal(digest_of("action: tool.call\ntool: Bash\ncwd: /x\n"
	    "input: {b: 1, a: [1.5, x, 1e21, 1e-6]}\n"), want);
	assert_string_not_equal(digest_of("action: tool.call\ntool: Bash\ncwd: /w\n"
	    "input: {b: 1, a: [1.5, x, 1e21, 1e-6], ref: r}\n"), want);
	assert_string_not_equal(digest_of("action: tool.call\ntool: Bash\ncwd: /w\n"
	    "input: {b: 1, a: [1.5, x, 1e21, 1e-6]}\nsubmitter: ann\n"), want);
	assert_string_not_equal(digest_of("action: tool.call\ntool: Bash\ncwd: /w\n"
	    "input: {b: 1, a: [1.5, x, 1e21, 1e-6]}\nkind: proposal\n"), want);
}

/* The content hash (what a retried ref is compared by) covers the whole
 * document; the digest what is asked. */
static void test_content_hash_and_digest_differ_in_purpose(void **state)
{
	(void)state;
	submission a, b;
	diags errs = { 0 };
	assert_true(submission_from_doc(parse("action: x.y\nref: r\ntitle: one\nn: 1\n"), "a", &a,
	    &errs));
	assert_true(submission_from_doc(parse("action: x.y\nref: r\ntitle: two\nn: 1\n"), "b", &b,
	    &errs));
	assert_true(submission_canonical(&a, T.a) && submission_digest(&a));
	assert_true(submission_canonical(&b, T.a) && submission_digest(&b));
	assert_string_equal(a.digest, b.digest);
	assert_string_not_equal(a.content_hash, b.content_hash);
	assert_int_equal(strlen(a.digest), 64);
	/* meta is a map, or nothing */
	assert_false(submission_from_doc(parse("action: x.y\nmeta: [1]\n"), "c", &a, &errs));
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].msg, "meta must be a map, not a list");
	diags_free(&errs);
}

/* The scans a word at a time (engine.h) say what a byte at a time says, for
 * every length up to five words and each kind of byte at every position,
 * the words around it plain. */
static void test_word_scans_agree_with_bytes(void **state)
{
	(void)state;
	static const unsigned char kinds[] = { 'a', ' ', '~', 0x7F, 0x1F, 0x00, '"', '\\', 0x80,
		0xC3, 0xFF, '!', '#', '[', ']', 0x21, 0x5B, 0x5D, 0x22 ^ 0x80, 0x5C ^ 0x80 };
	char text[48];
	for (size_t n = 0; n <= 40; n++)
		for (size_t at = 0; at < (n ? n : 1); at++)
			for (size_t k = 0; k < sizeof kinds; k++) {
				memset(text, 'x', sizeof text);
				if (n > 0)
					text[at] = (char)kinds[k];
				bool ascii = true, plain = true;
				for (size_t i = 0; i < n; i++) {
					unsigned char c = (unsigned char)text[i];
					ascii = ascii && c < 0x80;
					plain = plain && c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
				}
				if (all_ascii(text, n) != ascii || json_plain(text, n) != plain)
					fail_msg("length %zu, byte 0x%02x at %zu: ascii %d plain %d", n,
					    kinds[k], at, all_ascii(text, n), json_plain(text, n));
			}
	/* a quote or a backslash next to a byte that borrows */
	assert_false(json_plain("abc\x01\"defgh", 9));
	assert_false(json_plain("\x01\x01\x01\x01\x01\x01\x01\\", 8));
}

/* A map whose names only hash alike (forced here: different names whose
 * 32-bit hashes collide) is sorted by its names, whatever order a map
 * before it left for that hash: the order kept for it is checked, not
 * trusted. */
static void test_kept_member_order_is_checked(void **state)
{
	(void)state;
	static const char *const orders[][4] = {
		{ "b", "a", "d", "c" }, { "a", "c", "b", "d" }, { "d", "c", "b", "a" },
		{ "x", "a", "c", "b" }, { "b", "a", "d", "c" },
	};
	static const char *const want[] = {
		"{\"a\":1,\"b\":0,\"c\":3,\"d\":2}", "{\"a\":0,\"b\":2,\"c\":1,\"d\":3}",
		"{\"a\":3,\"b\":2,\"c\":1,\"d\":0}", "{\"a\":1,\"b\":3,\"c\":2,\"x\":0}",
		"{\"a\":1,\"b\":0,\"c\":3,\"d\":2}",
	};
	for (size_t m = 0; m < sizeof orders / sizeof orders[0]; m++) {
		node *map = parse("{\"p\": 0, \"q\": 1, \"r\": 2, \"s\": 3}");
		for (size_t i = 0; i < 4; i++) {
			node *k = map->u.map.keys[i];
			k->u.str.s = orders[m][i];
			k->u.str.len = 1;
			k->verbatim = 1;
			k->hash = 0;            /* every name hashes alike */
		}
		strbuf b = { 0 };
		assert_true(canon_write(&b, map));
		assert_string_equal(b.s, want[m]);
		free(b.s);
	}
}

#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_rfc8785_appendix_b_numbers),
		T_(test_numbers_at_the_edges_of_each_form),
		T_(test_numbers_are_the_shortest_that_read_back),
		T_(test_rfc8785_example),
		T_(test_rfc8785_sorting),
		T_(test_strings_escape_what_json_stringify_escapes),
		T_(test_json_strings_are_written_as_jansson_writes_them),
		T_(test_integers_are_the_doubles_they_read_as),
		T_(test_digest_leaves_out_ref_title_and_meta),
		T_(test_content_hash_and_digest_differ_in_purpose),
		T_(test_word_scans_agree_with_bytes),
		T_(test_kept_member_order_is_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
