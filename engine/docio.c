/*
 * docio.c: reading input files and splitting them into documents.
 *
 * A YAML stream is split at its document markers (`---` and `...` at the
 * start of a line) before parsing, so that a syntax error in one document
 * does not stop the reading of the next: libyaml cannot resume after an
 * error. YAML forbids those markers inside a document, so the split is exact.
 * JSON Lines input is split at newlines.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static bool is_marker(const char *p, const char *end, char c)
{
	if (end - p < 3 || p[0] != c || p[1] != c || p[2] != c)
		return false;
	return end - p == 3 || p[3] == ' ' || p[3] == '\t' || p[3] == '\n' || p[3] == '\r';
}

void doc_split_yaml(const char *text, size_t len, doc_chunk_fn fn, void *ctx)
{
	const char *end = text + len, *start = text, *p = text;
	int line = 1, start_line = 1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		if (p != start && is_marker(p, end, '-')) {
			fn(ctx, start, (size_t)(p - start), start_line);
			start = p;
			start_line = line;
		} else if (is_marker(p, end, '.')) {
			/* the end marker closes the document; what follows is the next */
			fn(ctx, start, (size_t)(next - start), start_line);
			start = next;
			start_line = line + 1;
		}
		p = next;
		line++;
	}
	if (start < end)
		fn(ctx, start, (size_t)(end - start), start_line);
}

void doc_split_lines(const char *text, size_t len, doc_chunk_fn fn, void *ctx)
{
	const char *end = text + len, *p = text;
	int line = 1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		size_t n = (size_t)((eol ? eol : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		size_t blank = 0;
		while (blank < n && (p[blank] == ' ' || p[blank] == '\t'))
			blank++;
		if (blank < n)
			fn(ctx, p, n, line);
		p = next;
		line++;
	}
}

void path_dir(const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s", path);
	char *slash = strrchr(out, '/');
	if (slash == NULL)
		snprintf(out, len, ".");
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}

char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	if (buf == NULL)
		abort();
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	bool bad = ferror(f);
	int saved = errno;
	if (!is_stdin)
		fclose(f);
	if (bad) {
		snprintf(err, errlen, "cannot read: %s", strerror(saved));
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}
