/*
 * term.c: the terminal writer of the front ends.
 *
 * Every string that did not come from arbiter itself (a title, a ref, a
 * policy message, a file name, an audit actor, anything read from the store
 * or a file) reaches a terminal through here, escaped by visible_put
 * (engine/visible.c): the command line prints with term_printf, whose %s
 * arguments are escaped while its format, arbiter's own text, is written as
 * it is; the console draws every string through term_escape (put_clipped in
 * console/console.c). So a call site cannot forget to escape: it can only
 * print through another function, and tests/cli/escapes.sh checks that
 * nothing in tui/ does.
 *
 * JSON output (--json) is the JSON writer's and stays exact: it goes out
 * through term_exact, untouched. JSON shown to a person inside text (the
 * details of an audit event, show's document) is escaped in VIS_ESCAPED, so
 * its own escapes stay as they are and only what JSON leaves raw (C1 and
 * bidi controls) is escaped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "front.h"

/* The characters of escaped text (valid UTF-8 by construction). */
static size_t chars(const char *s, size_t n)
{
	return utf8_length(s, n);
}

static void pad(strbuf *b, size_t have, size_t width)
{
	for (; have < width; have++)
		sb_put(b, " ", 1);
}

/* One %s: arg escaped, padded to width characters (left-aligned with '-'). */
static void put_string(strbuf *b, const char *arg, size_t len, size_t width, bool left)
{
	strbuf e = { 0 };
	visible_put(&e, arg, len, VIS_TEXT);
	size_t n = chars(e.s, e.n);
	if (!left)
		pad(b, n, width);
	sb_put(b, e.s, e.n);
	if (left)
		pad(b, n, width);
	free(e.s);
}

/* A number or character: spec is the conversion as written, with any '*'
 * already replaced by its value; the argument is read by its type. */
static void put_other(strbuf *b, const char *spec, const char *length, char conv, va_list *ap)
{
	char out[512];
	int n = 0;
	bool wide = length[0] == 'l' && length[1] == 'l';
	switch (conv) {
	case 'd': case 'i':
		if (wide)
			n = snprintf(out, sizeof out, spec, va_arg(*ap, long long));
		else if (length[0] == 'l')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, long));
		else if (length[0] == 'z')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, ssize_t));
		else if (length[0] == 'j')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, intmax_t));
		else if (length[0] == 't')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, ptrdiff_t));
		else
			n = snprintf(out, sizeof out, spec, va_arg(*ap, int));
		break;
	case 'u': case 'x': case 'X': case 'o':
		if (wide)
			n = snprintf(out, sizeof out, spec, va_arg(*ap, unsigned long long));
		else if (length[0] == 'l')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, unsigned long));
		else if (length[0] == 'z')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, size_t));
		else if (length[0] == 'j')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, uintmax_t));
		else if (length[0] == 't')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, ptrdiff_t));
		else
			n = snprintf(out, sizeof out, spec, va_arg(*ap, unsigned));
		break;
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
		if (length[0] == 'L')
			n = snprintf(out, sizeof out, spec, va_arg(*ap, long double));
		else
			n = snprintf(out, sizeof out, spec, va_arg(*ap, double));
		break;
	case 'c':
		n = snprintf(out, sizeof out, spec, va_arg(*ap, int));
		break;
	case 'p':
		n = snprintf(out, sizeof out, spec, va_arg(*ap, void *));
		break;
	default:
		/* the compiler checks every format (ATTR_PRINTF): nothing else is used */
		abort();
	}
	if (n > 0)
		sb_put(b, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
}

/* Formats like vprintf into b; see term_printf. */
static void format(strbuf *b, const char *fmt, va_list *ap)
{
	const char *p = fmt;
	while (*p) {
		const char *pct = strchr(p, '%');
		if (pct == NULL) {
			sb_puts(b, p);
			break;
		}
		sb_put(b, p, (size_t)(pct - p));
		p = pct + 1;
		if (*p == '%') {
			sb_put(b, "%", 1);
			p++;
			continue;
		}
		char spec[64] = "%";
		size_t sl = 1;
		bool left = false;
		while (*p && strchr("-+ #0", *p)) {
			left |= *p == '-';
			if (sl < 8)
				spec[sl++] = *p;
			p++;
		}
		long width = -1, prec = -1;
		if (*p == '*') {
			width = va_arg(*ap, int);
			if (width < 0) {
				left = true;
				spec[sl++] = '-';
				width = -width;
			}
			p++;
		} else if (*p >= '0' && *p <= '9') {
			width = strtol(p, (char **)&p, 10);
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				prec = va_arg(*ap, int);
				p++;
			} else {
				prec = strtol(p, (char **)&p, 10);
			}
		}
		char length[3] = "";
		for (size_t i = 0; i < 2 && *p && strchr("hlzjtL", *p); i++)
			length[i] = *p++;
		char conv = *p ? *p++ : '\0';
		if (conv == 's') {
			const char *arg = va_arg(*ap, const char *);
			if (arg == NULL)
				arg = "(null)";
			size_t len = prec >= 0 ? (size_t)prec : strlen(arg);
			put_string(b, arg, len, width > 0 ? (size_t)width : 0, left);
			continue;
		}
		sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "%.0ld", width > 0 ? width : 0);
		if (prec >= 0)
			sl += (size_t)snprintf(spec + sl, sizeof spec - sl, ".%ld", prec);
		snprintf(spec + sl, sizeof spec - sl, "%s%c", length, conv);
		put_other(b, spec, length, conv, ap);
	}
}

void term_vprintf(FILE *out, const char *fmt, va_list ap)
{
	strbuf b = { 0 };
	va_list copy;
	va_copy(copy, ap);
	format(&b, fmt, &copy);
	va_end(copy);
	if (b.n > 0)
		fwrite(b.s, 1, b.n, out);
	free(b.s);
}

void term_printf(FILE *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	term_vprintf(out, fmt, ap);
	va_end(ap);
}

void out_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	term_vprintf(stdout, fmt, ap);
	va_end(ap);
}

void err_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	term_vprintf(stderr, fmt, ap);
	va_end(ap);
}

void term_field(FILE *out, const char *s, size_t len, int mode, size_t max, size_t width)
{
	strbuf e = { 0 };
	visible_put(&e, s ? s : "", s ? len : 0, mode);
	size_t n = chars(e.s, e.n), bytes = e.n;
	bool cut = max > 3 && n > max;
	if (cut) {
		/* the first max - 3 characters, then "..." */
		bytes = 0;
		for (size_t c = 0; c < max - 3; c++) {
			bytes++;
			while (bytes < e.n && ((unsigned char)e.s[bytes] & 0xC0) == 0x80)
				bytes++;
		}
		n = max;
	}
	fwrite(e.s, 1, bytes, out);
	if (cut)
		fputs("...", out);
	for (; n < width; n++)
		fputc(' ', out);
	free(e.s);
}

void term_exact(FILE *out, const char *s, size_t len)
{
	fwrite(s, 1, len, out);
}

void term_json_line(FILE *out, const char *json)
{
	fputs(json, out);
	fputc('\n', out);
}

const char *term_escape(strbuf *b, const char *s, size_t len, int mode)
{
	b->n = 0;
	visible_put(b, s ? s : "", s ? len : 0, mode);
	sb_put(b, "", 0);       /* NUL-terminated even when empty */
	return b->s;
}
