/*
 * canon.c: RFC 8785, the JSON Canonicalization Scheme (JCS), of a document.
 *
 * A submission's digest (PRODUCT.md section 2) is the SHA-256 of this text,
 * and a client holding the same JSON value must be able to compute it with
 * any JCS implementation: the bytes are RFC 8785's, nothing of arbiter's own.
 *
 * - Members are sorted by their names as UTF-16 code units (section 3.2.3).
 *   UTF-8's byte order is code point order, which differs from UTF-16's in
 *   one place only: a character above U+FFFF (a surrogate pair, D800-DBFF
 *   first) sorts before one of U+E000-U+FFFF in UTF-16, after it by code
 *   point. Comparing bytes and correcting that one case is the whole sort.
 * - Strings are written as ECMAScript's JSON.stringify writes them (3.2.2.2):
 *   `"` and `\` and the controls below U+0020 escaped (\b \t \n \f \r, the
 *   others \u00xx in lower case), everything else as its UTF-8 bytes.
 * - Numbers are ECMAScript's Number::toString of the double (3.2.2.3): the
 *   fewest significant digits that read back as the same double, plainly
 *   from 1e-7 up to below 1e21 and with an exponent outside (1e+21, 5e-324);
 *   -0 is 0. A document's integer is the double it reads as: within
 *   +-2^53, where doubles hold every integer, its own digits (doc.c refuses
 *   integers beyond +-(2^53 - 1)); beyond, the nearest double, as a JSON
 *   parser reads it (documents stored before that limit).
 *
 * The shortest digits are found three ways, cheapest first. A whole number
 * below 2^53 is its own digits. A short decimal, as documents mostly hold
 * (0.38, 2.75), is m / 10^k for the fewest fraction digits k whose m (below
 * 10^15) gives back the double: IEEE division is correctly rounded, so
 * m / 10^k is the double strtod reads for "m e-k", and a normal double is
 * within 2^-53 (relatively) of any decimal of at most 15 digits that reads
 * back as it, while such decimals lie at least 10^-15 apart: there is only
 * one for each k, the nearest, which rounding d x 10^k finds. Anything else
 * asks the C library's correctly rounded printf for the first precision
 * whose text strtod reads back as the same double; a correctly rounded
 * p-digit decimal is the nearest, and round-half-even breaks ties, which is
 * Number::toString's choice too. For a normal double the search starts at
 * 15 digits, by the same argument; a subnormal one, whose doubles lie
 * farther apart than its digits say, starts at one. printf and strtod share
 * the locale, so the round trip holds whatever its decimal point; the
 * digits are then taken without it.
 *
 * JSON holds no NaN or infinity and no string that is not UTF-8: a node with
 * one fails the writer (doc_parse makes neither).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* 2^53: every integer of at most this magnitude is a double exactly. */
#define EXACT_INT 9007199254740992LL

/* The digits of the shortest decimal that reads back as d (finite, not 0),
 * without sign, leading or trailing zeros, into digits: their count, and
 * *n, the exponent of ECMAScript's digits x 10^(n - count). */
static int shortest(double d, char digits[24], int *n)
{
	double a = fabs(d);
	int k = 0;
	if (a < (double)EXACT_INT && (double)(int64_t)a == a) {
		k = format_int((int64_t)a, digits);
		*n = k;
		while (k > 1 && digits[k - 1] == '0')
			k--;
		return k;
	}
	int64_t m;
	int places;
	if (a >= 1e-7 && a < 1e14 && short_decimal(a, 1e15, &m, &places)) {
		k = format_int(m, digits);
		*n = k - places;
		return k;
	}
	char text[40];
	for (int p = a >= DBL_MIN ? 15 : 1; p <= 17; p++) {
		snprintf(text, sizeof text, "%.*e", p - 1, a);
		if (strtod(text, NULL) == a)
			break;
	}
	/* text is D[.DDD]e(+|-)XX */
	const char *p = text;
	for (; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[k++] = *p;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	*n = atoi(p + 1) + 1;
	return k;
}

bool canon_number(double d, char *out)
{
	if (!isfinite(d))
		return false;
	if (d == 0) {           /* -0 as well */
		memcpy(out, "0", 2);
		return true;
	}
	char digits[24];
	int n, k = shortest(d, digits, &n);
	char *o = out;
	if (d < 0)
		*o++ = '-';
	if (k <= n && n <= 21) {
		memcpy(o, digits, (size_t)k);
		o += k;
		for (int i = k; i < n; i++)
			*o++ = '0';
	} else if (0 < n && n <= 21) {
		memcpy(o, digits, (size_t)n);
		o += n;
		*o++ = '.';
		memcpy(o, digits + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = n; i < 0; i++)
			*o++ = '0';
		memcpy(o, digits, (size_t)k);
		o += k;
	} else {
		*o++ = digits[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += sprintf(o, "e%c%d", n - 1 > 0 ? '+' : '-', abs(n - 1));
	}
	*o = '\0';
	return true;
}

/* One character: most of what the writer writes, so without a call. */
static inline void put1(strbuf *b, char c)
{
	if (b->n + 2 > b->cap) {
		sb_put(b, &c, 1);
		return;
	}
	b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

/* put1 without the NUL after it: the document's writer below ends its text
 * once, when it is done (canon_write, canon_write_without). There is always
 * room left for that NUL. */
static inline void put1_open(strbuf *b, char c)
{
	if (b->n + 2 > b->cap)
		sb_grow(b, 1);
	b->s[b->n++] = c;
}

static bool put_number(strbuf *b, double d)
{
	char num[CANON_NUMBER_MAX];
	if (!canon_number(d, num))
		return false;
	sb_puts(b, num);
	return true;
}

static void put_int(strbuf *b, int64_t v)
{
	if (v < -EXACT_INT || v > EXACT_INT) {
		put_number(b, (double)v);
		return;
	}
	char num[24];
	sb_put(b, num, (size_t)format_int(v, num));
}

bool json_string_write(strbuf *b, const char *s, size_t n, bool capitals)
{
	/* nearly every string is plain ASCII, found a word at a time; any
	 * other is checked byte by byte: its UTF-8, and whether it needs escapes */
	bool plain = json_plain(s, n);
	if (!plain) {
		plain = true;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c >= 0x80) {
				size_t k = utf8_char_len(s + i, n - i);
				if (k == 0)
					return false;
				i += k - 1;
			} else if (c < 0x20 || c == '"' || c == '\\') {
				plain = false;
			}
		}
	}
	put1(b, '"');
	if (plain) {
		sb_put(b, s, n);
		put1(b, '"');
		return true;
	}
	const char *hex = capitals ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_put(b, s + start, i - start);
		char esc[6] = { '\\', (char)c, 0 };
		size_t len = 2;
		switch (c) {
		case '"': case '\\': break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xF];
			len = 6;
		}
		sb_put(b, esc, len);
		start = i + 1;
	}
	sb_put(b, s + start, n - start);
	put1(b, '"');
	return true;
}

/* RFC 8785's form of a string: JSON.stringify's, \u00xx in small letters. */
static bool put_string(strbuf *b, const char *s, size_t n)
{
	return json_string_write(b, s, n, false);
}

/* -1, 0 or 1 as name a sorts before, with or after name b in UTF-16 code
 * units (both valid UTF-8). */
static int utf16_order(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn, i = 0;
	while (i < n && a[i] == b[i])
		i++;
	if (i == n)
		return (an > bn) - (an < bn);
	/* the first bytes that differ begin two characters (whole characters
	 * precede them), unless both lie in characters of one lead byte, whose
	 * bytes order them in UTF-16 too */
	unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
	if (x >= 0xF0 && (y == 0xEE || y == 0xEF))
		return -1;
	if (y >= 0xF0 && (x == 0xEE || x == 0xEF))
		return 1;
	return x < y ? -1 : 1;
}

typedef map_member member;

static int member_order(const void *x, const void *y)
{
	const node *a = ((const member *)x)->key, *b = ((const member *)y)->key;
	return utf16_order(a->u.str.s, a->u.str.len, b->u.str.s, b->u.str.len);
}

/* Documents of one stream mostly repeat their maps' names in one order, so
 * each thread keeps the last few orders it sorted, by the sequence of the
 * names' hashes. A hit reorders the members as then and checks that each
 * name now sorts after the one before it: k - 1 comparisons instead of the
 * sort's k * k / 4. A check that fails (names that only hash alike) leaves
 * the members to the sort, so an order kept never decides the output. */
enum { ORDERS_KEPT = 8 };

struct kept_order {
	uint64_t names;         /* the hashes of the names, in their order */
	uint8_t k;
	uint8_t from[32];       /* sorted position i takes member from[i] */
};

static _Thread_local struct kept_order kept_orders[ORDERS_KEPT];
static _Thread_local unsigned kept_next;

static uint64_t names_signature(const member *order, size_t k)
{
	uint64_t h = k;
	for (size_t i = 0; i < k; i++)
		h = (h ^ order[i].key->hash) * 0x100000001B3u + i;
	return h;
}

static void sort_members(member *order, size_t k)
{
	if (k < 3) {
		members_sort(order, k, member_order);
		return;
	}
	uint64_t names = names_signature(order, k);
	member was[32];
	memcpy(was, order, k * sizeof *order);
	for (int i = 0; i < ORDERS_KEPT; i++) {
		const struct kept_order *kept = &kept_orders[i];
		if (kept->k != k || kept->names != names)
			continue;
		for (size_t j = 0; j < k; j++)
			order[j] = was[kept->from[j]];
		bool sorted = true;
		for (size_t j = 1; j < k && sorted; j++)
			sorted = member_order(&order[j - 1], &order[j]) < 0;
		if (sorted)
			return;
		memcpy(order, was, k * sizeof *order);
		break;
	}
	members_sort(order, k, member_order);
	struct kept_order *kept = &kept_orders[kept_next++ % ORDERS_KEPT];
	kept->names = names;
	kept->k = (uint8_t)k;
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < k; j++)
			if (order[i].key == was[j].key)
				kept->from[i] = (uint8_t)j;
}

static bool put_node(strbuf *b, const node *n);

/* A string node: one whose bytes JSON holds as they are (verbatim, the
 * strings of a JSON document without escapes: nearly all) is copied whole. */
static bool put_string_node(strbuf *b, const node *n)
{
	if (!n->verbatim)
		return put_string(b, n->u.str.s, n->u.str.len);
	size_t len = n->u.str.len;
	if (b->n + len + 3 > b->cap)
		sb_grow(b, len + 2);
	char *at = b->s + b->n;
	at[0] = '"';
	memcpy(at + 1, n->u.str.s, len);
	at[len + 1] = '"';
	b->n += len + 2;
	return true;
}

static bool is_omitted(const node *key, const char *const *omit)
{
	for (; omit != NULL && *omit != NULL; omit++)
		if (node_str_eq(key, *omit))
			return true;
	return false;
}

static bool put_map(strbuf *b, const node *m, const char *const *omit)
{
	member small[32], *order = m->u.map.n <= 32 ? small : malloc(m->u.map.n * sizeof *order);
	if (order == NULL)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < m->u.map.n; i++)
		if (!is_omitted(m->u.map.keys[i], omit))
			order[k++] = (member){ m->u.map.keys[i], m->u.map.vals[i] };
	if (k <= 32) {
		sort_members(order, k);
	} else {
		qsort(order, k, sizeof *order, member_order);
	}
	bool ok = true;
	put1_open(b, '{');
	for (size_t i = 0; ok && i < k; i++) {
		if (i > 0)
			put1_open(b, ',');
		ok = order[i].key->type == NODE_STRING && put_string_node(b, order[i].key);
		put1_open(b, ':');
		ok = ok && put_node(b, order[i].val);
	}
	put1_open(b, '}');
	if (order != small)
		free(order);
	return ok;
}

static bool put_node(strbuf *b, const node *n)
{
	switch (n->type) {
	case NODE_NULL:
		sb_put(b, "null", 4);
		return true;
	case NODE_BOOL:
		sb_puts(b, n->u.b ? "true" : "false");
		return true;
	case NODE_INT:
		put_int(b, n->u.i);
		return true;
	case NODE_FLOAT:
		return put_number(b, n->u.d);
	case NODE_STRING:
		return put_string_node(b, n);
	case NODE_LIST: {
		bool ok = true;
		put1_open(b, '[');
		for (size_t i = 0; ok && i < n->u.list.n; i++) {
			if (i > 0)
				put1_open(b, ',');
			ok = put_node(b, n->u.list.items[i]);
		}
		put1_open(b, ']');
		return ok;
	}
	case NODE_MAP:
		return put_map(b, n, NULL);
	default:
		return false;
	}
}

/* The text written by put_node ends with its NUL. */
static bool ended(strbuf *b, bool ok)
{
	if (b->s != NULL)
		b->s[b->n] = '\0';
	return ok;
}

bool canon_write(strbuf *b, const node *n)
{
	return ended(b, put_node(b, n));
}

bool canon_write_without(strbuf *b, const node *m, const char *const *omit)
{
	return ended(b, m->type == NODE_MAP ? put_map(b, m, omit) : put_node(b, m));
}
