/*
 * listview.c: one list widget for every list screen: the queue, a
 * submission's findings and the audit browser are this list with different
 * rows (tmux's mode-tree, htop's Panel).
 *
 * The widget holds only the visible page. It remembers the key of its first
 * row and reads a page from there through the screen's source, so moving
 * costs the same at row 10 and at row 1,000,000 of a store (keyset paging);
 * an in-memory list (list_array) is the same with positions for keys. It
 * owns selection, scrolling, paging, the mouse, search with n and N, and
 * the hardware cursor on the selected row; a screen brings its rows, how to
 * draw one, what Enter does, and binds the handlers below in its own key
 * table, so its help and footer still come from that one table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "listview.h"

static void *row_at(const list_view *lv, char *base, int i)
{
	return base + (size_t)i * lv->src->row_size;
}

const void *list_row(const list_view *lv, int i)
{
	return i >= 0 && i < lv->n ? row_at(lv, lv->rows, i) : NULL;
}

const void *list_selected(const list_view *lv)
{
	return list_row(lv, lv->sel);
}

static int64_t key_of(const list_view *lv, int i)
{
	return lv->src->key(row_at(lv, lv->rows, i));
}

static int fetch(console *c, list_view *lv, int64_t after, bool forward, const char *search,
    void *out, int max)
{
	/* nothing to read into before the first draw gives the page its height */
	return max > 0 && out != NULL ? lv->src->fetch(c, lv->ctx, after, forward, search, out, max) :
	    0;
}

/* The cursor just before key along the list, so that a page read from it
 * starts at key itself. */
static int64_t including(const list_view *lv, int64_t key)
{
	return key == 0 ? 0 : lv->src->ascending(lv->ctx) ? key - 1 : key + 1;
}

/* Reads the page from lv->top; when its rows went away, from the start. */
static void load(console *c, list_view *lv)
{
	lv->n = fetch(c, lv, including(lv, lv->top), true, NULL, lv->rows, lv->height);
	if (lv->n == 0 && lv->top != 0) {
		lv->top = 0;
		lv->n = fetch(c, lv, 0, true, NULL, lv->rows, lv->height);
	}
	if (lv->sel >= lv->n)
		lv->sel = lv->n > 0 ? lv->n - 1 : 0;
}

void list_scroll_to(console *c, list_view *lv, int64_t top, int sel)
{
	lv->top = top;
	lv->sel = sel;
	load(c, lv);
}

void list_reload(console *c, list_view *lv)
{
	if (lv->src->reread != NULL && lv->n > 0) {
		/* in place: a row changed elsewhere stays where it is, showing its
		 * new state, until the page is next read; new rows fill the room */
		for (int i = 0; i < lv->n; i++)
			lv->src->reread(c, lv->ctx, row_at(lv, lv->rows, i));
		lv->n += fetch(c, lv, key_of(lv, lv->n - 1), true, NULL, row_at(lv, lv->rows, lv->n),
		    lv->height - lv->n);
		return;
	}
	int64_t selected = lv->n > 0 ? key_of(lv, lv->sel) : 0;
	load(c, lv);
	for (int i = 0; i < lv->n; i++)
		if (key_of(lv, i) == selected)
			lv->sel = i;
}

void list_down(console *c, screen *sc)
{
	list_view *lv = sc->list;
	if (lv->sel + 1 < lv->n) {
		lv->sel++;
		return;
	}
	if (lv->n > 0 && fetch(c, lv, key_of(lv, lv->n - 1), true, NULL, lv->spare, 1) == 1)
		list_scroll_to(c, lv, lv->n > 1 ? key_of(lv, 1) : lv->src->key(lv->spare), lv->sel);
}

void list_up(console *c, screen *sc)
{
	list_view *lv = sc->list;
	if (lv->sel > 0) {
		lv->sel--;
		return;
	}
	if (lv->n > 0 && fetch(c, lv, key_of(lv, 0), false, NULL, lv->spare, 1) == 1)
		list_scroll_to(c, lv, lv->src->key(lv->spare), 0);
}

void list_page_down(console *c, screen *sc)
{
	list_view *lv = sc->list;
	if (lv->n > 0 && fetch(c, lv, key_of(lv, lv->n - 1), true, NULL, lv->spare, 1) == 1)
		list_scroll_to(c, lv, lv->src->key(lv->spare), 0);
	else
		lv->sel = lv->n > 0 ? lv->n - 1 : 0;
}

void list_page_up(console *c, screen *sc)
{
	list_view *lv = sc->list;
	int n = lv->n > 0 ? fetch(c, lv, key_of(lv, 0), false, NULL, lv->spare, lv->height) : 0;
	if (n > 0)
		list_scroll_to(c, lv, lv->src->key(row_at(lv, lv->spare, n - 1)), 0);
	else
		lv->sel = 0;
}

void list_first(console *c, screen *sc)
{
	list_scroll_to(c, sc->list, 0, 0);
}

void list_last(console *c, screen *sc)
{
	list_view *lv = sc->list;
	int n = fetch(c, lv, 0, false, NULL, lv->spare, lv->height);
	if (n > 0)
		list_scroll_to(c, lv, lv->src->key(row_at(lv, lv->spare, n - 1)), n - 1);
}

void list_open(console *c, screen *sc)
{
	if (sc->list->n > 0)
		sc->list->open(c, sc);
}

/* Moves the selection to the next match after (or before) the selected row. */
static void find(console *c, list_view *lv, bool forward)
{
	if (lv->search[0] == '\0') {
		console_message(c, MSG_INFO, "no search yet: / to search");
		return;
	}
	int64_t from = lv->n > 0 ? key_of(lv, lv->sel) : 0;
	int n = fetch(c, lv, from, forward, lv->search, lv->spare, 1);
	if (n == 0 && from != 0) {
		/* past the end: go round, as tig and vi do */
		n = fetch(c, lv, 0, forward, lv->search, lv->spare, 1);
		if (n == 1)
			console_message(c, MSG_INFO, "search went round to the %s", forward ? "top" :
			    "bottom");
	}
	if (n == 0) {
		console_message(c, MSG_INFO, "no match for \"%s\"", lv->search);
		return;
	}
	int64_t hit = lv->src->key(lv->spare);
	for (int i = 0; i < lv->n; i++)
		if (key_of(lv, i) == hit) {
			lv->sel = i;
			return;
		}
	list_scroll_to(c, lv, hit, 0);
}

void list_search(console *c, screen *sc)
{
	list_view *lv = sc->list;
	char text[sizeof lv->search] = "";
	if (!prompt_line(c, lv->search_prompt, text, sizeof text))
		return;
	memcpy(lv->search, text, sizeof text);
	find(c, lv, true);
}

void list_next_match(console *c, screen *sc) { find(c, sc->list, true); }
void list_prev_match(console *c, screen *sc) { find(c, sc->list, false); }

void list_mouse(console *c, screen *sc, int y, bool click, int wheel)
{
	list_view *lv = sc->list;
	for (int i = 0; i < 3 && wheel != 0; i++)
		(wheel > 0 ? list_down : list_up)(c, sc);
	int row = y - lv->first_y;
	if (wheel != 0 || !click || row < 0 || row >= lv->n)
		return;
	if (lv->sel == row)
		list_open(c, sc);        /* a click on the selected row opens it */
	else
		lv->sel = row;
}

bool list_draw(console *c, screen *sc, int y, int height)
{
	list_view *lv = sc->list;
	lv->first_y = y;
	if (height < 1)
		height = 1;
	if (height != lv->height) {
		lv->rows = realloc(lv->rows, (size_t)height * lv->src->row_size);
		lv->spare = realloc(lv->spare, (size_t)height * lv->src->row_size);
		if (lv->rows == NULL || lv->spare == NULL)
			abort();
		lv->height = height;
		load(c, lv);
	}
	for (int i = 0; i < lv->n; i++) {
		bool sel = i == lv->sel;
		attrset(sel ? (c->colour ? COLOR_PAIR(PAIR_SEL) : A_REVERSE) : A_NORMAL);
		move(y + i, 0);
		hline(' ', c->cols);
		lv->draw_row(c, sc, row_at(lv, lv->rows, i), y + i, sel);
		attrset(A_NORMAL);
	}
	if (lv->n > 0)
		sc->cursor_y = y + lv->sel;
	return lv->n > 0;
}

void list_free(list_view *lv)
{
	free(lv->rows);
	free(lv->spare);
	lv->rows = lv->spare = NULL;
	lv->n = lv->height = 0;
}

/* ---- an in-memory list: rows are positions 1..count ---- */

static bool array_ascending(const void *ctx)
{
	(void)ctx;
	return true;
}

static int array_fetch(console *c, void *ctx, int64_t after, bool forward, const char *search,
    void *out, int max)
{
	(void)c, (void)search;
	const list_view *lv = ctx;
	int64_t *pos = out;
	int n = 0;
	if (forward)
		for (int64_t p = after + 1; p <= lv->count && n < max; p++)
			pos[n++] = p;
	else
		for (int64_t p = after == 0 ? lv->count : after - 1; p >= 1 && n < max; p--)
			pos[n++] = p;
	return n;
}

static int64_t array_key(const void *row)
{
	return *(const int64_t *)row;
}

static const list_source array_source = { sizeof(int64_t), array_ascending, array_fetch,
	array_key, NULL };

void list_array(list_view *lv, int count)
{
	lv->src = &array_source;
	lv->ctx = lv;
	lv->count = count;
}

int list_item(const void *row)
{
	return (int)(*(const int64_t *)row - 1);
}

void list_set_count(console *c, list_view *lv, int count)
{
	lv->count = count;
	list_reload(c, lv);
}
