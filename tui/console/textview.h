/*
 * textview.h: scrollable pages of lines for the console (textview.c).
 */
#ifndef ARBITER_TEXTVIEW_H
#define ARBITER_TEXTVIEW_H

typedef struct tv_line {
	char *text;
	attr_t attr;            /* curses attributes */
	bool marked;            /* highlighted; the page opens scrolled to the first */
	bool escaped;           /* JSON text, or built of copy_visible parts: put_escaped */
} tv_line;

typedef struct textview {
	tv_line *lines;
	int n, cap, top;
} textview;

void tv_add(textview *t, attr_t attr, const char *fmt, ...) ATTR_PRINTF(3, 4);
void tv_clear(textview *t);
/* A screen showing the lines build writes; build runs again on reload. */
screen *textview_screen(console *c, const char *title, void (*build)(console *, textview *,
    void *), void *arg, void (*free_arg)(void *));

#endif
