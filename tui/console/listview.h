/*
 * listview.h: the list the queue, a submission's findings and the audit
 * browser are built on (listview.c).
 */
#ifndef ARBITER_LISTVIEW_H
#define ARBITER_LISTVIEW_H

/* Where a list's rows come from. Every row has a key, a positive integer
 * that grows or shrinks steadily along the list (an id, a seq, a position),
 * so a page is read from the key of the row before it (keyset paging). */
typedef struct list_source {
	size_t row_size;
	/* Whether keys grow along the list (else they shrink: newest first). */
	bool (*ascending)(const void *ctx);
	/* Writes up to max rows beyond the row keyed after (exclusive; 0: from
	 * the start, or from the end when going backward) to out, row_size
	 * apart, along the list (forward) or against it; with search, only the
	 * rows that match it. Returns how many. */
	int (*fetch)(console *c, void *ctx, int64_t after, bool forward, const char *search,
	    void *out, int max);
	int64_t (*key)(const void *row);
	/* Reads a visible row again in place when the store changes. NULL: the
	 * page is read again from its first row instead. */
	void (*reread)(console *c, void *ctx, void *row);
} list_source;

typedef struct list_view {
	const list_source *src;
	void *ctx;                      /* the source's, usually the screen's state */
	/* Draws one row on line y, the line already cleared in the selection's
	 * colours when selected. */
	void (*draw_row)(console *c, screen *sc, const void *row, int y, bool selected);
	void (*open)(console *c, screen *sc);   /* Enter, and a click on the selected row */
	const char *search_prompt;      /* the / prompt; NULL: the list has no search */
	char search[128];               /* the last search; n and N repeat it */
	int64_t top;                    /* the first visible row's key; 0: the start */
	char *rows, *spare;             /* the visible page; a page read the other way */
	int n, sel, height, first_y;    /* first_y: the first row's line, as last drawn */
	int count;                      /* an in-memory list (list_array): its length */
} list_view;

/* An in-memory list of count items (without search): its rows are the
 * items' positions, which draw_row reads with list_item (from 0). */
void list_array(list_view *lv, int count);
int list_item(const void *row);
/* An in-memory list changed length; the selection stays where it can. */
void list_set_count(console *c, list_view *lv, int count);

/* Draws the visible rows on lines y to y + height - 1, reading a page when
 * the height changed, and puts the hardware cursor on the selected row.
 * false: the list is empty and nothing was drawn. */
bool list_draw(console *c, screen *sc, int y, int height);
/* The store changed: the page is read again (or its rows in place). */
void list_reload(console *c, list_view *lv);
/* Shows the page whose first row is keyed top (0: the start), row sel
 * selected. */
void list_scroll_to(console *c, list_view *lv, int64_t top, int sel);
const void *list_selected(const list_view *lv);
const void *list_row(const list_view *lv, int i);
void list_free(list_view *lv);

/* Key handlers for a screen's key table; they act on sc->list. */
void list_down(console *c, screen *sc);
void list_up(console *c, screen *sc);
void list_page_down(console *c, screen *sc);
void list_page_up(console *c, screen *sc);
void list_first(console *c, screen *sc);
void list_last(console *c, screen *sc);
void list_open(console *c, screen *sc);
void list_search(console *c, screen *sc);
void list_next_match(console *c, screen *sc);
void list_prev_match(console *c, screen *sc);
/* The mouse: the wheel moves the selection three rows, a click selects a
 * row, a click on the selected row opens it. */
void list_mouse(console *c, screen *sc, int y, bool click, int wheel);

#endif
