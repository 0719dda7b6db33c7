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
 */
#include <jansson.h>
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

static void scalar(const json_t *v, char *out, size_t len)
{
	char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(out, len, "%s", t ? t : "?");
	free(t);
}

static void print_value(textview *t, const json_t *v, const char *path, const char *mark,
    int indent, const char *lead)
{
	bool on = mark != NULL && within(path, mark);
	char buf[1024];
	if (json_is_object(v) && json_object_size(v) > 0) {
		if (lead[0]) {
			tv_add(t, A_NORMAL, "%*s%s", indent, "", lead);
			t->lines[t->n - 1].marked = on;
			t->lines[t->n - 1].escaped = true;
			indent += 2;
		}
		const char *key;
		json_t *child;
		json_object_foreach((json_t *)v, key, child) {
			char p[512], l[300];
			snprintf(p, sizeof p, "%s%s%s", path, path[0] ? "." : "", key);
			copy_visible(l, sizeof l - 1, key, strlen(key));
			strcat(l, ":");
			print_value(t, child, p, mark, indent, l);
		}
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		if (lead[0]) {
			tv_add(t, A_NORMAL, "%*s%s", indent, "", lead);
			t->lines[t->n - 1].marked = on;
			t->lines[t->n - 1].escaped = true;
		}
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child) {
			char p[512];
			snprintf(p, sizeof p, "%s[%zu]", path, i);
			print_value(t, child, p, mark, indent + 2, "-");
		}
	} else {
		scalar(v, buf, sizeof buf);
		tv_add(t, A_NORMAL, "%*s%s%s%s", indent, "", lead, lead[0] ? " " : "", buf);
		t->lines[t->n - 1].marked = on;
		t->lines[t->n - 1].escaped = true;      /* a key as copy_visible wrote it, JSON */
	}
}

static void build(console *c, textview *t, void *arg)
{
	doc_arg *d = arg;
	sub_row r;
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)d->id);
	if (query_get(c->s, key, &r) != 1) {
		tv_add(t, A_BOLD, "submission %lld cannot be read: %s", (long long)d->id, store_errmsg(c->s));
		return;
	}
	tv_add(t, A_BOLD, "Submission %lld: document%s%s", (long long)d->id,
	    d->path[0] ? ", highlighting " : "", d->path);
	tv_add(t, A_NORMAL, "%s", "");
	/* a string may hold \u0000: jansson keeps its length */
	json_t *doc = json_loads(r.document, JSON_ALLOW_NUL, NULL);
	if (doc == NULL) {
		tv_add(t, A_NORMAL, "%s", r.document);
		t->lines[t->n - 1].escaped = true;      /* JSON text */
	} else {
		print_value(t, doc, "", d->path[0] ? d->path : NULL, 0, "");
	}
	json_decref(doc);
	query_row_done(&r);
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
