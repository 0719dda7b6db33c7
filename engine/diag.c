/*
 * diag.c: lists of user-facing errors.
 *
 * Loading a policy set reports every error, not just the first, so errors are
 * collected here and printed at the end, each as "FILE:LINE:COL: message" (a
 * zero line or column is left out).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static char *dup_or_abort(const char *s)
{
	char *p = strdup(s ? s : "");
	if (p == NULL)
		abort();
	return p;
}

void diags_add(diags *d, const char *file, int line, int col, const char *fmt, ...)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->items = realloc(d->items, d->cap * sizeof *d->items);
		if (d->items == NULL)
			abort();
	}
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	diag *g = &d->items[d->n++];
	g->file = dup_or_abort(file);
	g->line = line;
	g->col = col;
	g->msg = dup_or_abort(buf);
}

/* File names and messages carry outside text (a path, a key, a value): they
 * are written through visible (visible.c). */
void diags_print(const diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const diag *g = &d->items[i];
		visible_fputs(out, g->file);
		if (g->line > 0 && g->col > 0)
			fprintf(out, ":%d:%d", g->line, g->col);
		else if (g->line > 0)
			fprintf(out, ":%d", g->line);
		fputs(": ", out);
		visible_fputs(out, g->msg);
		fputc('\n', out);
	}
}

void diags_clear(diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	d->n = 0;
}

void diags_free(diags *d)
{
	diags_clear(d);
	free(d->items);
	d->items = NULL;
	d->cap = 0;
}
