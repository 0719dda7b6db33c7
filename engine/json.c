/*
 * json.c: reads one JSON document (RFC 8259, exactly) into the typed tree.
 *
 * yajl's event parser does the lexing and the grammar; this file builds the
 * same tree as doc.c (the YAML reader) and adds what yajl leaves out:
 *
 * - Strings are checked against the raw text: strict UTF-8 (no overlong
 *   forms, no encoded surrogates, nothing past U+10FFFF) and escapes whose
 *   surrogates come in pairs. yajl would pass an ill-formed byte sequence
 *   through and turn a lone surrogate escape into "?": either would let a
 *   gate and the agent it guards read one document differently.
 * - Nesting deeper than DOC_MAX_DEPTH and duplicate keys are refused, as in
 *   YAML; a byte-order mark is refused; a number outside the range of a
 *   double is refused, and an integer beyond +-DOC_MAX_INT is refused as the
 *   YAML reader refuses it (DOC_INT64 reads 64 bits).
 * - Positions: every node carries the line and column (in characters) of
 *   its first byte, computed from byte offsets with one cursor that only
 *   moves forward, so the whole document is scanned once.
 *
 * A number is an int when it has neither a fraction nor an exponent, else a
 * float: the YAML reader types the same text the same way, so both readers
 * give one tree, one digest and one evaluation for one JSON document.
 *
 * Tokens are located in the text from yajl's byte count, which stands just
 * past the token when a callback runs: a string that yajl did not copy
 * points into the text, a copied one is found by scanning back from its
 * closing quote to the first quote not escaped. A scalar that ends the text
 * is completed only by yajl_complete_parse, from yajl's own buffer; it is
 * the whole document then, found after the leading blanks.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "doc_impl.h"

struct jframe {
	node *n;
	size_t base;            /* its first item in builder.items */
	map_keys keys;          /* for duplicates (doc_map_has_key) */
};

struct jbuilder {
	arena *a;
	const char *file;
	const char *text;
	size_t len;
	char *copy;             /* text, copied into the arena: unescaped strings live here */
	int first_line, flags;
	diags *errs;
	yajl_handle h;
	bool completing;        /* inside yajl_complete_parse: offsets are not the text's */
	struct jframe stack[DOC_MAX_DEPTH];
	int depth;
	node **items;           /* the open containers' items, keys and values interleaved */
	size_t count, cap;
	node *root;
	size_t root_end;        /* the offset just past the root value */
	size_t last_end;        /* the offset just past the last token read */
	bool failed;
	size_t cur;             /* position cursor: offset, line and column there */
	uint32_t cur_line, cur_col;
	bool flat;              /* one line of ASCII: a column is an offset plus one */
};

static void locate(struct jbuilder *b, size_t off, uint32_t *line, uint32_t *col)
{
	if (off > b->len)
		off = b->len;
	if (b->flat) {
		*line = (uint32_t)b->first_line;
		*col = (uint32_t)off + 1;
		return;
	}
	if (off < b->cur) {     /* an error behind the cursor: count from the start */
		b->cur = 0;
		b->cur_line = 0;
		b->cur_col = 0;
	}
	const unsigned char *t = (const unsigned char *)b->text;
	for (size_t i = b->cur; i < off; i++) {
		/* a line ends at LF, CRLF or a lone CR, as YAML counts lines */
		if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= b->len || t[i + 1] != '\n'))) {
			b->cur_line++;
			b->cur_col = 0;
		} else if ((t[i] & 0xC0) != 0x80) {
			b->cur_col++;
		}
	}
	b->cur = off;
	*line = (uint32_t)b->first_line + b->cur_line;
	*col = b->cur_col + 1;
}

static int fail_at(struct jbuilder *b, size_t off, const char *fmt, const char *arg)
{
	if (b->failed)
		return 0;
	b->failed = true;
	uint32_t line, col;
	locate(b, off, &line, &col);
	char msg[512];
	snprintf(msg, sizeof msg, fmt, arg);
	diags_add(b->errs, b->file, (int)line, (int)col, "%s", msg);
	return 0;
}

/* Between the last token and the next at off stand only JSON's blanks and
 * the separators yajl took: yajl also skips a form feed or a vertical tab,
 * which RFC 8259 does not count as whitespace. */
static bool gap_ok(struct jbuilder *b, size_t off)
{
	for (size_t i = b->last_end; i < off; i++) {
		char c = b->text[i];
		if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != ',' && c != ':') {
			fail_at(b, i, "%s", "a character that is not JSON whitespace (only space, "
			    "tab, line feed and carriage return are)");
			return false;
		}
	}
	return true;
}

/* The node of a token of type at offset off, once the gap before it holds
 * only blanks and separators; NULL when it does not (the error is set). */
static node *new_node(struct jbuilder *b, int type, size_t off)
{
	if (!gap_ok(b, off))
		return NULL;
	node *n = arena_alloc(b->a, sizeof *n);
	n->type = (uint8_t)type;
	n->style = 0;
	n->verbatim = 0;
	n->hash = 0;
	uint32_t line, col;
	locate(b, off, &line, &col);
	n->line = line;
	n->col = col;
	return n;
}

static size_t consumed(const struct jbuilder *b)
{
	return b->completing ? b->len : yajl_get_bytes_consumed(b->h);
}

/* The offset of the first byte that is not JSON whitespace, from off. */
static size_t skip_blanks(const struct jbuilder *b, size_t off)
{
	while (off < b->len && strchr(" \t\r\n", b->text[off]) != NULL && b->text[off] != '\0')
		off++;
	return off;
}

static void push_item(struct jbuilder *b, node *n)
{
	if (b->count == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->items = realloc(b->items, b->cap * sizeof *b->items);
		if (b->items == NULL)
			abort();
	}
	b->items[b->count++] = n;
}

/* The items of open container f so far (none yet: NULL). */
static node **open_items(const struct jbuilder *b, const struct jframe *f)
{
	return b->count > f->base ? b->items + f->base : NULL;
}

/* Adds a finished value that ends at offset end to the open container. */
static int add_value(struct jbuilder *b, node *n, size_t end)
{
	b->last_end = end;
	if (b->depth == 0) {
		b->root = n;
		b->root_end = end;
		return 1;
	}
	push_item(b, n);
	return 1;
}

/* ---- strings: the raw text checked, the decoded value kept ---- */

static unsigned hex4(const unsigned char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* Checks a raw string from just past its opening quote at from: UTF-8
 * well formed (no overlong forms, no surrogates, nothing past U+10FFFF),
 * control characters escaped, escapes known and surrogate escapes in
 * pairs. Returns the offset of the first fault with *why set, or of the
 * closing quote with *why NULL. */
static size_t string_fault(const struct jbuilder *b, size_t from, const char **why)
{
	const unsigned char *t = (const unsigned char *)b->text;
	size_t i = from, to = b->len;
	*why = NULL;
	while (i < to) {
		unsigned c = t[i];
		if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
			i++;
			continue;
		}
		if (c == '"')
			return i;
		if (c < 0x20) {
			*why = "a control character inside a string (it must be escaped)";
			return i;
		}
		if (c == '\\') {
			if (i + 1 < to && strchr("\"\\/bfnrt", t[i + 1]) != NULL && t[i + 1] != '\0') {
				i += 2;
				continue;
			}
			bool hex = i + 6 <= to && t[i + 1] == 'u';
			for (size_t k = 2; hex && k < 6; k++)
				hex = strchr("0123456789abcdefABCDEF", t[i + k]) != NULL && t[i + k] != '\0';
			if (!hex) {
				*why = "an invalid escape inside a string";
				return i;
			}
			unsigned u = hex4(t + i + 2);
			if (u >= 0xDC00 && u <= 0xDFFF) {
				*why = "a lone surrogate escape (the second half of a character without its first)";
				return i;
			}
			if (u >= 0xD800 && u <= 0xDBFF) {
				bool pair = i + 12 <= to && t[i + 6] == '\\' && t[i + 7] == 'u';
				for (size_t k = 8; pair && k < 12; k++)
					pair = strchr("0123456789abcdefABCDEF", t[i + k]) != NULL && t[i + k] != '\0';
				if (!pair || hex4(t + i + 8) < 0xDC00 || hex4(t + i + 8) > 0xDFFF) {
					*why = "a lone surrogate escape (the first half of a character without its second)";
					return i;
				}
				i += 12;
				continue;
			}
			i += 6;
			continue;
		}
		/* a multi-byte sequence: the lead byte sets its length and the range
		 * of its second byte (no overlong forms, no surrogates, <= U+10FFFF) */
		size_t n;
		unsigned lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 3;
			if (c == 0xE0)
				lo = 0xA0;
			if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 4;
			if (c == 0xF0)
				lo = 0x90;
			if (c == 0xF4)
				hi = 0x8F;
		} else {
			*why = "invalid UTF-8";
			return i;
		}
		bool ok = i + n <= to && t[i + 1] >= lo && t[i + 1] <= hi;
		for (size_t k = 2; ok && k < n; k++)
			ok = (t[i + k] & 0xC0) == 0x80;
		if (!ok) {
			*why = "invalid UTF-8";
			return i;
		}
		i += n;
	}
	*why = "the text ends inside this string";
	return from - 1;
}

/* The offset of the opening quote of the string whose closing quote is at
 * close: the nearest quote before it not escaped by an odd run of
 * backslashes (no unescaped quote can stand inside a string). */
static size_t opening_quote(const struct jbuilder *b, size_t close)
{
	size_t i = close;
	while (i > 0) {
		i--;
		if (b->text[i] != '"')
			continue;
		size_t slashes = 0;
		while (slashes < i && b->text[i - 1 - slashes] == '\\')
			slashes++;
		if (slashes % 2 == 0)
			return i;
	}
	return 0;
}

/* The string node of a value or key yajl decoded into s, len. */
static node *string_node(struct jbuilder *b, const unsigned char *s, size_t len, size_t *at)
{
	const char *p = (const char *)s;
	size_t start, end;
	bool in_text = p > b->text && p + len < b->text + b->len && p[-1] == '"' &&
	    (size_t)(p - b->text) + len + 1 <= consumed(b);
	if (in_text) {
		start = (size_t)(p - b->text) - 1;      /* not copied: no escapes */
		end = start + len + 2;
	} else {
		end = consumed(b);
		if (b->completing)
			end = b->len;
		while (end > 0 && b->text[end - 1] != '"')
			end--;
		start = opening_quote(b, end - 1);
	}
	/* a string yajl did not copy has no escape, and yajl refused control
	 * characters in it: when it is ASCII there is nothing left to check */
	if (!in_text || !all_ascii(p, len)) {
		const char *why;
		size_t fault = string_fault(b, start + 1, &why);
		if (why != NULL) {
			fail_at(b, fault, "%s", why);
			return NULL;
		}
	}
	*at = start;
	node *n = new_node(b, NODE_STRING, start);
	if (n == NULL)
		return NULL;
	n->style = STYLE_QUOTED;
	if (in_text) {
		n->verbatim = 1;        /* checked above, without an escape */
		/* the arena's copy of the text, ended where its closing quote was:
		 * no copy of its own for each string */
		if (b->copy == NULL) {
			b->copy = arena_alloc(b->a, b->len + 1);
			memcpy(b->copy, b->text, b->len);
		}
		b->copy[start + 1 + len] = '\0';
		n->u.str.s = b->copy + start + 1;
	} else {
		n->u.str.s = arena_strndup(b->a, p, len);
	}
	n->u.str.len = len;
	return n;
}

/* ---- yajl's callbacks ---- */

static int on_null(void *ctx)
{
	struct jbuilder *b = ctx;
	size_t end = consumed(b), start = b->completing ? skip_blanks(b, 0) : end - 4;
	node *n = new_node(b, NODE_NULL, start);
	return n != NULL && add_value(b, n, start + 4);
}

static int on_bool(void *ctx, int v)
{
	struct jbuilder *b = ctx;
	size_t width = v ? 4 : 5, end = consumed(b);
	size_t start = b->completing ? skip_blanks(b, 0) : end - width;
	node *n = new_node(b, NODE_BOOL, start);
	if (n == NULL)
		return 0;
	n->u.b = v != 0;
	return add_value(b, n, start + width);
}

/* The double that a plain decimal such as 0.38 or -12.5 reads as, without
 * strtod: when its digits without the point make an integer m below 2^53
 * and it has at most 22 fraction digits k, m and 10^k are doubles exactly
 * and IEEE division rounds m / 10^k correctly, to the very double strtod
 * reads (Clinger's fast path). False for anything else (an exponent, more
 * digits), which strtod reads. s is a JSON number, as yajl checked it. */
static bool plain_decimal(const char *s, size_t len, double *out)
{
	static const double tens[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
		1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t m = 0;
	int fraction = -1;      /* digits after the point; -1 before it */
	for (size_t i = s[0] == '-'; i < len; i++) {
		if (s[i] == '.') {
			fraction = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || m > ((UINT64_C(1) << 53) - 9) / 10)
			return false;
		m = m * 10 + (uint64_t)(s[i] - '0');
		if (fraction >= 0)
			fraction++;
	}
	if (fraction < 0 || fraction > 22)
		return false;
	double d = (double)m / tens[fraction];
	*out = s[0] == '-' ? -d : d;
	return true;
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct jbuilder *b = ctx;
	size_t start = s >= b->text && s + len <= b->text + b->len ? (size_t)(s - b->text)
	    : skip_blanks(b, 0);
	bool real = false;
	for (size_t i = 0; i < len && !real; i++)
		real = s[i] == '.' || (s[i] | 0x20) == 'e';
	node *n = new_node(b, real ? NODE_FLOAT : NODE_INT, start);
	if (n == NULL)
		return 0;
	if (real && plain_decimal(s, len, &n->u.d))
		return add_value(b, n, start + len);
	if (real) {
		char small[64];
		char *buf = len < sizeof small ? small : arena_alloc(b->a, len + 1);
		memcpy(buf, s, len);
		buf[len] = '\0';
		n->u.d = strtod(buf, NULL);
		if (!isfinite(n->u.d))
			return fail_at(b, start, "number %s is outside the range of a double",
			    arena_strndup(b->a, s, len > 40 ? 40 : len));
		return add_value(b, n, start + len);
	}
	bool neg = s[0] == '-';
	uint64_t v = 0, limit = (b->flags & DOC_INT64) ? (neg ? (uint64_t)INT64_MAX + 1
	    : (uint64_t)INT64_MAX) : (uint64_t)DOC_MAX_INT;
	bool over = false;
	for (size_t i = neg; i < len && !over; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over)
		return fail_at(b, start, (b->flags & DOC_INT64) ? "integer %s does not fit in 64 bits"
		    : DOC_BEYOND_MAX_INT, arena_strndup(b->a, s, len > 40 ? 40 : len));
	n->u.i = neg ? (int64_t)(0 - v) : (int64_t)v;
	return add_value(b, n, start + len);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct jbuilder *b = ctx;
	size_t at;
	node *n = string_node(b, s, len, &at);
	return n != NULL && add_value(b, n, consumed(b));
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
	struct jbuilder *b = ctx;
	size_t at;
	node *k = string_node(b, s, len, &at);
	if (k == NULL)
		return 0;
	k->hash = key_hash(k->u.str.s, k->u.str.len);
	struct jframe *f = &b->stack[b->depth - 1];
	if (doc_map_has_key(open_items(b, f), b->count - f->base, &f->keys, k)) {
		char name[80];
		snprintf(name, sizeof name, "%.*s", (int)(len > 64 ? 64 : len), (const char *)s);
		return fail_at(b, at, "duplicate key \"%s\"", name);
	}
	push_item(b, k);
	b->last_end = consumed(b);
	return 1;
}

static int open_container(struct jbuilder *b, int type)
{
	size_t at = consumed(b) - 1;
	if (b->depth >= DOC_MAX_DEPTH)
		return fail_at(b, at, "nesting deeper than %s levels", "64");
	struct jframe *f = &b->stack[b->depth++];
	memset(f, 0, sizeof *f);
	f->n = new_node(b, type, at);
	if (f->n == NULL) {
		b->depth--;
		return 0;
	}
	f->base = b->count;
	b->last_end = at + 1;
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, NODE_MAP);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, NODE_LIST);
}

static int close_container(void *ctx)
{
	struct jbuilder *b = ctx;
	if (!gap_ok(b, consumed(b) - 1))
		return 0;
	struct jframe *f = &b->stack[--b->depth];
	doc_container_fill(b->a, f->n, open_items(b, f), b->count - f->base);
	b->count = f->base;
	strmap_free(&f->keys.big);
	return add_value(b, f->n, consumed(b));
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = close_container,
	.yajl_start_array = on_start_array,
	.yajl_end_array = close_container,
};

/* Where yajl's error stands and what it is. A fault inside a string is
 * found by string_fault from the string's opening quote; a token that
 * breaks the grammar starts at the first byte past the last value read
 * that is not a blank or a separator yajl took (yajl's count stands past
 * the offending token); a character that starts no token is the one yajl's
 * count stands at or just past. */
static void yajl_fault(struct jbuilder *b, size_t *off, char *msg, size_t len)
{
	unsigned char *e = yajl_get_error(b->h, 0, (const unsigned char *)b->text, b->len);
	const char *text = (const char *)e;
	bool lexical = strncmp(text, "lexical error: ", 15) == 0;
	if (lexical)
		text += 15;
	else if (strncmp(text, "parse error: ", 13) == 0)
		text += 13;
	snprintf(msg, len, "%s", text);
	yajl_free_error(b->h, e);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	static const char *const plain[][2] = {
		{ "after array element, I expect ',' or ']'", "expected ',' or ']' after a list item" },
		{ "after key and value, inside map, I expect ',' or '}'",
		  "expected ',' or '}' after a value in a map" },
		{ "invalid object key (must be a string)", "a map key must be a string" },
		{ "unallowed token at this point in JSON text", "a token that cannot stand here" },
	};
	for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
		if (strcmp(msg, plain[i][0]) == 0)
			snprintf(msg, len, "%s", plain[i][1]);
	size_t at = consumed(b);
	if (at >= b->len)
		at = b->len > 0 ? b->len - 1 : 0;
	if (lexical && (strstr(msg, "string") || strstr(msg, "UTF8")) && !strstr(msg, "json text")) {
		const char *why;
		size_t q = b->last_end;
		while (q < b->len && b->text[q] != '"')
			q++;
		size_t fault = string_fault(b, q + 1, &why);
		if (why != NULL) {
			snprintf(msg, len, "%s", why);
			at = fault;
		}
	} else if (lexical) {
		if (strstr(msg, "invalid char") != NULL) {
			snprintf(msg, len, "%s", "a character that starts no JSON value");
			if (at > b->last_end && consumed(b) <= b->len && at == consumed(b))
				at--;
		} else if (strstr(msg, "invalid string") != NULL) {
			snprintf(msg, len, "%s", "not a JSON value (text is quoted; the literals are "
			    "true, false and null)");
			at = b->last_end;
			while (at < b->len && strchr(" \t\r\n,:", b->text[at]) != NULL && b->text[at] != '\0')
				at++;
		}
	} else {
		size_t end = consumed(b);
		if (end > 0 && b->text[end - 1] == '"') {
			at = opening_quote(b, end - 1);
		} else if (end > 0 && strchr("[]{},:", b->text[end - 1]) != NULL) {
			at = end - 1;
		} else {
			at = end;
			while (at > b->last_end && strchr(" \t\r\n[]{},:\"", b->text[at - 1]) == NULL)
				at--;
		}
	}
	*off = at;
}

node *doc_parse_json(arena *a, const char *file, const char *text, size_t len, int first_line,
    int flags, bool *empty, diags *errs)
{
	struct jbuilder b = { .a = a, .file = file, .text = text, .len = len,
		.first_line = first_line, .flags = flags, .errs = errs };
	*empty = false;
	if (len > DOC_MAX_BYTES) {
		diags_add(errs, file, first_line, 1,
		    "document is %zu bytes, over the limit of %d bytes (1 MiB)", len, DOC_MAX_BYTES);
		return NULL;
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		fail_at(&b, 0, "%s", "a byte-order mark before the JSON text (RFC 8259 forbids it)");
		return NULL;
	}
	b.flat = all_ascii(text, len) && memchr(text, '\n', len) == NULL && memchr(text, '\r', len) == NULL;
	size_t first = skip_blanks(&b, 0);
	if (first == len) {
		*empty = true;
		return NULL;
	}
	b.h = yajl_alloc(&callbacks, NULL, &b);
	if (b.h == NULL)
		abort();
	yajl_config(b.h, yajl_allow_trailing_garbage, 1);
	yajl_status st = yajl_parse(b.h, (const unsigned char *)text, len);
	if (st == yajl_status_ok && b.root == NULL) {
		b.completing = true;
		st = yajl_complete_parse(b.h);
	}
	if (st == yajl_status_error && !b.failed) {
		char msg[256];
		size_t at;
		if (b.completing) {
			/* the text ended inside a value: shown at its end, naming the
			 * innermost container left open */
			at = b.len;
			if (b.depth > 0) {
				const node *open = b.stack[b.depth - 1].n;
				snprintf(msg, sizeof msg, "the text ends before the %s opened at %u:%u is "
				    "closed", open->type == NODE_MAP ? "map" : "list", open->line, open->col);
			} else {
				snprintf(msg, sizeof msg, "%s", "the text ends inside a value");
			}
		} else {
			yajl_fault(&b, &at, msg, sizeof msg);
		}
		fail_at(&b, at, "%s", msg);
	} else if (st == yajl_status_ok && !b.failed) {
		size_t rest = skip_blanks(&b, b.root_end);
		if (rest < len)
			fail_at(&b, rest, "%s", "more text after the JSON value");
	}
	yajl_free(b.h);
	while (b.depth > 0)
		strmap_free(&b.stack[--b.depth].keys.big);
	free(b.items);
	return b.failed ? NULL : b.root;
}

node *doc_parse_kept(arena *a, const char *file, const char *text, size_t len, bool *empty,
    diags *errs)
{
	diags none = { 0 };
	node *n = doc_parse_json(a, file, text, len, 1, DOC_INT64, empty, &none);
	diags_free(&none);
	if (n != NULL || *empty)
		return n;
	return doc_parse_flags(a, file, text, len, 1, DOC_INT64, empty, errs);
}
