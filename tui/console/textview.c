/*
 * textview.c: a scrollable page of lines, for the document, history and help
 * screens. A screen builds its lines (build) and the view scrolls them; the
 * build runs again when the store changes, so a page stays live.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "textview.h"

void tv_add(textview *t, attr_t attr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->lines = realloc(t->lines, (size_t)t->cap * sizeof *t->lines);
		if (t->lines == NULL)
			abort();
	}
	t->lines[t->n++] = (tv_line){ line, attr };
}

void tv_clear(textview *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->lines[i].text);
	t->n = 0;
}

typedef struct tv_screen {
	textview tv;
	void (*build)(console *c, textview *t, void *arg);
	void *arg;
	void (*free_arg)(void *arg);
	int height;
	bool gutter;            /* some line is marked: draw the marker column */
	bool placed;            /* scrolled to the first marked line once */
} tv_screen;

static void scroll_by(tv_screen *v, int delta)
{
	int max = v->tv.n - v->height;
	v->tv.top += delta;
	if (v->tv.top > max)
		v->tv.top = max;
	if (v->tv.top < 0)
		v->tv.top = 0;
}

static void down(console *c, screen *sc) { (void)c; scroll_by(sc->state, 1); }
static void up(console *c, screen *sc) { (void)c; scroll_by(sc->state, -1); }
static void pgdn(console *c, screen *sc)
{
	(void)c;
	tv_screen *v = sc->state;
	scroll_by(v, v->height - 1);
}
static void pgup(console *c, screen *sc)
{
	(void)c;
	tv_screen *v = sc->state;
	scroll_by(v, -(v->height - 1));
}
static void first(console *c, screen *sc) { (void)c; ((tv_screen *)sc->state)->tv.top = 0; }
static void last(console *c, screen *sc) { (void)c; scroll_by(sc->state, 1 << 30); }
static void back(console *c, screen *sc) { (void)sc; console_pop(c); }

static const key_binding keys[] = {
	{ 'j', KEY_DOWN, "j/Down", "scroll down", down, false },
	{ 'k', KEY_UP, "k/Up", "scroll up", up, false },
	{ KEY_NPAGE, ' ', "PgDn", "page down", pgdn, false },
	{ KEY_PPAGE, 'b', "PgUp", "page up", pgup, false },
	{ 'g', KEY_HOME, "g", "top", first, false },
	{ 'G', KEY_END, "G", "bottom", last, false },
	{ 27, 'q', "Esc/q", "back", back, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

static void rebuild(console *c, screen *sc)
{
	tv_screen *v = sc->state;
	tv_clear(&v->tv);
	v->build(c, &v->tv, v->arg);
}

static void draw(console *c, screen *sc, int top, int height)
{
	tv_screen *v = sc->state;
	v->height = height;
	v->gutter = false;
	for (int i = 0; i < v->tv.n && !v->gutter; i++)
		v->gutter = v->tv.lines[i].marked;
	if (!v->placed) {
		v->placed = true;
		for (int i = 0; i < v->tv.n; i++)
			if (v->tv.lines[i].marked) {
				v->tv.top = i > 2 ? i - 2 : 0;
				break;
			}
	}
	scroll_by(v, 0);
	for (int i = 0; i < height && v->tv.top + i < v->tv.n; i++) {
		const tv_line *l = &v->tv.lines[v->tv.top + i];
		attrset(l->marked ? (c->colour ? COLOR_PAIR(PAIR_SEL) | A_BOLD : A_REVERSE) : l->attr);
		if (l->marked) {
			move(top + i, 0);
			hline(' ', c->cols);
		}
		/* a gutter marks the highlighted lines, for monochrome terminals too */
		put_clipped(top + i, 0, v->gutter ? (l->marked ? "\u25b6 " : "  ") : "", 2);
		(l->escaped ? put_escaped : put_clipped)(top + i, v->gutter ? 2 : 0, l->text,
		    c->cols - (v->gutter ? 2 : 0));
		attrset(A_NORMAL);
		if (l->marked && sc->cursor_y < 0)
			sc->cursor_y = top + i;
	}
	if (v->tv.n > height) {
		char pos[32];
		snprintf(pos, sizeof pos, " %d-%d of %d ", v->tv.top + 1,
		    v->tv.top + height < v->tv.n ? v->tv.top + height : v->tv.n, v->tv.n);
		attrset(A_DIM);
		put_clipped(top, c->cols - (int)strlen(pos), pos, (int)strlen(pos));
		attrset(A_NORMAL);
	}
}

static void mouse(console *c, screen *sc, int y, int x, bool click, int wheel)
{
	(void)c, (void)y, (void)x, (void)click;
	scroll_by(sc->state, 3 * wheel);
}

static void destroy(screen *sc)
{
	tv_screen *v = sc->state;
	tv_clear(&v->tv);
	free(v->tv.lines);
	if (v->free_arg)
		v->free_arg(v->arg);
	free(v);
}

screen *textview_screen(console *c, const char *title, void (*build)(console *, textview *,
    void *), void *arg, void (*free_arg)(void *))
{
	screen *sc = calloc(1, sizeof *sc);
	tv_screen *v = calloc(1, sizeof *v);
	if (sc == NULL || v == NULL)
		abort();
	v->build = build;
	v->arg = arg;
	v->free_arg = free_arg;
	*sc = (screen){ .title = title, .draw = draw, .reload = rebuild, .mouse = mouse,
		.destroy = destroy, .keys = keys, .state = v };
	build(c, &v->tv, arg);
	return sc;
}
