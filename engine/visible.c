/*
 * visible.c: text that did not come from arbiter, made safe to show on a
 * terminal.
 *
 * Titles, refs, submitters, policy messages, file names, audit actors and
 * every other string from outside reach a terminal only through
 * visible_put: a terminal must show them, never obey them. Everything a
 * terminal could act on, or that could make a line read other than it is,
 * is written as a visible escape:
 *
 *   - C0 controls and DEL: \t, \n and \r for tab, newline and carriage
 *     return (so a one-line field stays on its line), else \xNN (\x1b for
 *     ESC, \x00 for NUL, \x7f for DEL);
 *   - C1 controls U+0080-U+009F (U+009B is a one-character CSI) and the
 *     Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069, and the
 *     marks U+200E, U+200F, U+061C), which reorder what follows them, and
 *     the line and paragraph separators U+2028 and U+2029: \uNNNN;
 *   - bytes that are not UTF-8: \xNN, one escape per byte.
 *
 * Hex digits are lower case. A backslash is the one ambiguity left: in
 * VIS_TEXT (a raw string) it is doubled, so a title that holds the four
 * characters \x1b reads \\x1b and can never pass for an escaped ESC. In
 * VIS_ESCAPED (JSON text, whose writer already escapes every backslash, or
 * text built from VIS_TEXT output) it stays, so JSON is shown as itself and
 * nothing is escaped twice; controls are escaped in both modes, so a
 * wrong mode can at worst show a backslash once, never let a control by.
 *
 * This is pure logic; the front ends' writer (tui/term.c) and the engine's
 * own text printers (report.c, diag.c) are built on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

size_t utf8_char_len(const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* The code point of a valid sequence of len bytes. */
static unsigned decode(const unsigned char *s, size_t len)
{
	unsigned cp = len == 2 ? s[0] & 0x1Fu : len == 3 ? s[0] & 0x0Fu : s[0] & 0x07u;
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3Fu);
	return cp;
}

static bool hidden_code_point(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C ||
	    cp == 0x2028 || cp == 0x2029;
}

/* Whether s can be written as it is: printable ASCII and no backslash, the
 * common case, checked without decoding. */
static bool plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7F || c == '\\')
			return false;
	}
	return true;
}

void visible_put(strbuf *b, const char *s, size_t n, int mode)
{
	static const char hex[] = "0123456789abcdef";
	if (plain(s, n)) {
		sb_put(b, s, n);
		return;
	}
	size_t i = 0;
	while (i < n) {
		size_t run = i;         /* bytes that are written as they are */
		while (run < n) {
			unsigned char c = (unsigned char)s[run];
			if (c < 0x20 || c == 0x7F || (c == '\\' && mode == VIS_TEXT))
				break;
			if (c < 0x80) {
				run++;
				continue;
			}
			size_t k = utf8_char_len(s + run, n - run);
			if (k == 0 || hidden_code_point(decode((const unsigned char *)s + run, k)))
				break;
			run += k;
		}
		sb_put(b, s + i, run - i);
		if (run == n)
			break;
		unsigned char c = (unsigned char)s[run];
		char esc[8] = { '\\' };
		size_t k = c < 0x80 ? 1 : utf8_char_len(s + run, n - run);
		if (c == '\\') {
			sb_put(b, "\\\\", 2);
		} else if (c == '\t' || c == '\n' || c == '\r') {
			esc[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
			sb_put(b, esc, 2);
		} else if (c < 0x80 || k == 0) {
			k = 1;          /* a control, or a byte that begins no character */
			esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
			sb_put(b, esc, 4);
		} else {
			unsigned cp = decode((const unsigned char *)s + run, k);
			esc[1] = 'u', esc[2] = hex[cp >> 12 & 15], esc[3] = hex[cp >> 8 & 15];
			esc[4] = hex[cp >> 4 & 15], esc[5] = hex[cp & 15];
			sb_put(b, esc, 6);
		}
		i = run + k;
	}
}

void visible_write(FILE *out, const char *s, size_t n, int mode)
{
	if (plain(s, n)) {
		fwrite(s, 1, n, out);
		return;
	}
	strbuf b = { 0 };
	visible_put(&b, s, n, mode);
	fwrite(b.s, 1, b.n, out);
	free(b.s);
}

void visible_fputs(FILE *out, const char *s)
{
	visible_write(out, s ? s : "", s ? strlen(s) : 0, VIS_TEXT);
}
