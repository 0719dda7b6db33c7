/*
 * details_scan.c: the members of an event's details, read without building
 * a JSON tree, for audit verify's pass over every event (verify_tables.c).
 *
 * Parsing a million details objects with jansson costs more than hashing
 * the chain they are in; what verify needs is a handful of top-level
 * members, so one scan records where each member's value lies in the text
 * (a span), and a string is unescaped only when it holds an escape. The
 * text is what the chain hashed: jansson's compact output, but the scan
 * accepts any JSON object (whitespace, any key order), and an object it
 * cannot read has no members, which the checks then find wanting.
 */
#include <stdlib.h>
#include <string.h>

#include "verify_impl.h"

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at a '"': the character after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* p at a value: the character after it, or NULL. */
static const char *skip_value(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		for (; p < end; p++) {
			if (*p == '"') {
				p = skip_string(p, end);
				if (p == NULL)
					return NULL;
				p--;
			} else if (*p == '{' || *p == '[') {
				depth++;
			} else if ((*p == '}' || *p == ']') && --depth == 0) {
				return p + 1;
			}
		}
		return NULL;
	}
	while (p < end && *p != ',' && *p != '}' && *p != ' ' && *p != '\n' && *p != '\t' &&
	    *p != '\r')
		p++;
	return p;
}

bool details_scan(const char *text, details *d)
{
	return details_scan_n(text, text ? strlen(text) : 0, d);
}

bool details_scan_n(const char *text, size_t len, details *d)
{
	d->n = 0;
	d->used = 0;
	if (text == NULL)
		return true;
	if (len + 1 > d->cap) {
		char *b = realloc(d->buf, len + 1);
		if (b == NULL)
			return false;
		d->buf = b;
		d->cap = len + 1;
	}
	const char *end = text + len, *p = skip_ws(text, end);
	if (p >= end || *p != '{')
		return true;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return true;
	while (p < end && d->n < DETAILS_MAX) {
		if (*p != '"')
			break;
		const char *k = p + 1, *kend = skip_string(p, end);
		if (kend == NULL)
			break;
		p = skip_ws(kend, end);
		if (p >= end || *p != ':')
			break;
		p = skip_ws(p + 1, end);
		const char *v = p, *vend = skip_value(p, end);
		if (vend == NULL)
			break;
		d->m[d->n++] = (details_member){ k, (size_t)(kend - 1 - k), v, (size_t)(vend - v) };
		p = skip_ws(vend, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return true;
		break;
	}
	d->n = 0;       /* not an object it can read: no members */
	return true;
}

void details_free(details *d)
{
	free(d->buf);
	d->buf = NULL;
	d->cap = 0;
}

const details_member *details_get(const details *d, const char *key)
{
	size_t n = strlen(key);
	for (int i = 0; i < d->n; i++)
		if (d->m[i].klen == n && memcmp(d->m[i].key, key, n) == 0)
			return &d->m[i];
	return NULL;
}


static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool hex4(const char *p, const char *end, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		int v = p + i < end ? hexval(p[i]) : -1;
		if (v < 0)
			return false;
		*out = *out << 4 | (unsigned)v;
	}
	return true;
}

static size_t put_utf8(char *o, unsigned c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xC0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3F));
	o[2] = (char)(0x80 | (c >> 6 & 0x3F));
	o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* The string at v (quotes included, n bytes) unescaped into out (room for
 * n bytes, which is always enough); false when it is no JSON string. */
static bool unescape(const char *v, size_t n, char *out, size_t *len)
{
	const char *p = v + 1, *end = v + n - 1;
	char *o = out;
	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		if (++p >= end)
			return false;
		char c = *p++;
		unsigned u, lo;
		switch (c) {
		case '"': case '\\': case '/': *o++ = c; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (!hex4(p, end, &u))
				return false;
			p += 4;
			if (u >= 0xD800 && u < 0xDC00 && p + 6 <= end && p[0] == '\\' && p[1] == 'u' &&
			    hex4(p + 2, end, &lo) && lo >= 0xDC00 && lo < 0xE000) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			o += put_utf8(o, u);
			break;
		default:
			return false;
		}
	}
	*len = (size_t)(o - out);
	return true;
}

int details_text(details *d, const char *key, text_span *out)
{
	const details_member *m = details_get(d, key);
	out->p = NULL;
	out->n = 0;
	if (m == NULL)
		return DT_ABSENT;
	if (m->vlen == 4 && memcmp(m->value, "null", 4) == 0)
		return DT_NULL;
	if (m->vlen < 2 || m->value[0] != '"' || m->value[m->vlen - 1] != '"')
		return DT_OTHER;
	if (memchr(m->value, '\\', m->vlen) == NULL) {
		out->p = m->value + 1;
		out->n = m->vlen - 2;
		return DT_STRING;
	}
	/* the unescaped strings of one event fit in its text's length */
	size_t len;
	char *at = d->buf + d->used;
	if (!unescape(m->value, m->vlen, at, &len))
		return DT_OTHER;
	d->used += len;
	out->p = at;
	out->n = len;
	return DT_STRING;
}

bool details_int(const details *d, const char *key, int64_t *out)
{
	const details_member *m = details_get(d, key);
	if (m == NULL || m->vlen == 0 || m->vlen > 20)
		return false;
	char num[24];
	memcpy(num, m->value, m->vlen);
	num[m->vlen] = '\0';
	char *end;
	long long v = strtoll(num, &end, 10);
	if (*end != '\0' || end == num)
		return false;
	*out = v;
	return true;
}

bool details_bool(const details *d, const char *key, bool *out)
{
	const details_member *m = details_get(d, key);
	if (m != NULL && m->vlen == 4 && memcmp(m->value, "true", 4) == 0)
		return *out = true, true;
	if (m != NULL && m->vlen == 5 && memcmp(m->value, "false", 5) == 0)
		return *out = false, true;
	return false;
}
