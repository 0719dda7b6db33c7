/*
 * screen_document.c: a submission's document, with the field a finding
 * names highlighted.
 *
 * The stored document (canonical JSON) is printed as indented YAML-like
 * text, tracking each value's path as findings write it (changes[0],
 * tests.palette_integrity, files); the lines of the value at the finding's
 * path, or inside it, are marked, and the page opens scrolled to them.
 * Values are shown as JSON, keys escaped by copy_visible: every line is
 * drawn with put_escaped, so a value's own escapes are not escaped twice.
 * jsontext_outline (engine/jsontext.c) lays the JSON out; this file draws it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "textview.h"

typedef struct doc_arg {
	int64_t id;
	char path[256];
} doc_arg;

/* Whether path is the highlighted one or inside it. */
static bool within(const char *path, const char *mark)
{
	size_t n = strlen(mark);
	return n > 0 && strncmp(path, mark, n) == 0 && (path[n] == '\0' || path[n] == '.' ||
	    path[n] == '[');
}

/* One line of the outline: "key:" or "-" leads, a scalar follows it. */
static void print_line(textview *t, const jsontext_line *l, const char *mark)
{
	char lead[300] = "", text[1024];
	if (l->key) {
		copy_visible(lead, sizeof lead - 1, l->key, strlen(l->key));
		strcat(lead, ":");
	} else if (l->item) {
		snprintf(lead, sizeof lead, "-");
	}
	if (l->value == NULL) {
		tv_add(t, A_NORMAL, "%*s%s", l->indent, "", lead);
	} else {
		snprintf(text, sizeof text, "%s", l->value);
		tv_add(t, A_NORMAL, "%*s%s%s%s", l->indent, "", lead, lead[0] ? " " : "", text);
	}
	t->lines[t->n - 1].marked = mark != NULL && within(l->path, mark);
	t->lines[t->n - 1].escaped = true;      /* a key as copy_visible wrote it, JSON */
}

static void build(console *c, textview *t, void *arg)
{
	doc_arg *d = arg;
	submission_view v;
	op_reply r;
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)d->id);
	outcome o = op_submission_get(c->s, key, &v, &r);
	if (o != OUT_OK && o != OUT_TAMPERED) {
		tv_add(t, A_BOLD, "submission %lld cannot be read: %s", (long long)d->id, r.message);
		return;
	}
	tv_add(t, A_BOLD, "Submission %lld: document%s%s", (long long)d->id,
	    d->path[0] ? ", highlighting " : "", d->path);
	tv_add(t, A_NORMAL, "%s", "");
	jsontext_line *lines;
	size_t n;
	if (!jsontext_outline(v.arena, v.row.document, &lines, &n)) {
		tv_add(t, A_NORMAL, "%s", v.row.document);
		t->lines[t->n - 1].escaped = true;      /* JSON text */
	} else {
		for (size_t i = 0; i < n; i++)
			print_line(t, &lines[i], d->path[0] ? d->path : NULL);
	}
	submission_view_free(&v);
}

screen *document_screen(console *c, int64_t id, const char *highlight_path)
{
	doc_arg *d = calloc(1, sizeof *d);
	if (d == NULL)
		abort();
	d->id = id;
	snprintf(d->path, sizeof d->path, "%s", highlight_path ? highlight_path : "");
	return textview_screen(c, "document", build, d, free);
}
