/*
 * test_listview.c: the console's list widget (tui/console/listview.c) on a
 * source of numbered rows, the way the queue (keys growing along the list),
 * the audit browser (newest first) and the findings (an in-memory list) use
 * it: keyset paging, rows that go away, reading again in place, search that
 * goes round, the mouse and the hardware cursor. Curses draws to /dev/null;
 * the console's message line (shared.c) and prompt (dialogs.c) are stood in
 * for here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/console/console.h"
#include "../../tui/console/listview.h"

/* ---- what shared.c and dialogs.c give the widget ---- */

static char message[256];
static const char *answer;      /* what the next prompt is answered; NULL: Esc */

void console_message(console *c, int kind, const char *fmt, ...)
{
	(void)c, (void)kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
}

bool prompt_line(console *c, const char *label, char *buf, size_t len)
{
	(void)c, (void)label;
	if (answer == NULL)
		return false;
	snprintf(buf, len, "%s", answer);
	return true;
}

/* ---- a source: rows 1..n, without the gone ones ---- */

enum { MAX = 1000 };

typedef struct row {
	int64_t key;
	int version;            /* bumped by reread */
} row;

typedef struct fake {
	int n;
	bool ascending, gone[MAX + 1];
	int match_every;        /* search matches the keys divisible by it */
	int reads, version;
	int opened;
} fake;

static bool asc(const void *ctx)
{
	return ((const fake *)ctx)->ascending;
}

static bool present(const fake *f, int64_t k, const char *search)
{
	return k >= 1 && k <= f->n && !f->gone[k] && (search == NULL || k % f->match_every == 0);
}

static int fetch(console *c, void *ctx, int64_t after, bool forward, const char *search,
    void *out, int max)
{
	(void)c;
	fake *f = ctx;
	row *r = out;
	int got = 0;
	/* the direction keys take: growing along the list when ascending */
	int step = (f->ascending == forward) ? 1 : -1;
	int64_t k = after != 0 ? after + step : step > 0 ? 1 : f->n;
	f->reads++;
	for (; k >= 1 && k <= f->n && got < max; k += step)
		if (present(f, k, search))
			r[got++] = (row){ k, f->version };
	return got;
}

static int64_t key(const void *r)
{
	return ((const row *)r)->key;
}

static void reread(console *c, void *ctx, void *r)
{
	(void)c;
	((row *)r)->version = ((fake *)ctx)->version;
}

static int drawn[64];           /* the key drawn on each line, 0: none */

static void draw_row(console *c, screen *sc, const void *r, int y, bool sel)
{
	(void)c, (void)sc, (void)sel;
	if (y >= 0 && y < 64)
		drawn[y] = (int)key(r);
}

static void open_row(console *c, screen *sc)
{
	(void)c;
	((fake *)sc->list->ctx)->opened = (int)key(list_selected(sc->list));
}

static const list_source source = { sizeof(row), asc, fetch, key, NULL };
static const list_source in_place = { sizeof(row), asc, fetch, key, reread };

static console C = { .cols = 80, .rows = 24 };
static fake F;
static list_view L;
static screen S;

/* A list of n rows, newest first unless ascending, drawn 10 rows high from
 * line 2. */
static void setup_list(int n, bool ascending, const list_source *src)
{
	memset(&F, 0, sizeof F);
	F.n = n;
	F.ascending = ascending;
	F.match_every = 7;
	list_free(&L);
	L = (list_view){ .src = src, .ctx = &F, .draw_row = draw_row, .open = open_row,
		.search_prompt = "search: " };
	S = (screen){ .title = "test", .list = &L };
	message[0] = '\0';
}

static bool draw(void)
{
	memset(drawn, 0, sizeof drawn);
	S.cursor_y = -1;
	return list_draw(&C, &S, 2, 10);
}

static int64_t first(void) { return key(list_row(&L, 0)); }
static int64_t last(void) { return key(list_row(&L, L.n - 1)); }
static int64_t sel(void) { return key(list_selected(&L)); }

static SCREEN *term;
static FILE *term_out, *term_in;

static int group_setup(void **state)
{
	(void)state;
	term_out = fopen("/dev/null", "w");
	term_in = fopen("/dev/null", "r");
	term = term_out && term_in ? newterm("xterm", term_out, term_in) : NULL;
	return term ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	list_free(&L);
	endwin();
	delscreen(term);
	fclose(term_out);
	fclose(term_in);
	return 0;
}

/* ---- paging ---- */

static void test_newest_first(void **state)
{
	(void)state;
	setup_list(1000, false, &source);
	assert_true(draw());
	assert_int_equal(L.n, 10);
	assert_int_equal(first(), 1000);
	assert_int_equal(last(), 991);
	assert_int_equal(drawn[2], 1000);
	assert_int_equal(drawn[11], 991);
	assert_int_equal(S.cursor_y, 2);
	list_page_down(&C, &S);
	assert_int_equal(first(), 990);
	list_page_down(&C, &S);
	assert_int_equal(first(), 980);
	list_page_up(&C, &S);
	assert_int_equal(first(), 990);
	list_last(&C, &S);
	assert_int_equal(first(), 10);
	assert_int_equal(sel(), 1);
	draw();
	assert_int_equal(S.cursor_y, 11);        /* the hardware cursor on the last row */
	list_page_down(&C, &S);                  /* nothing beyond: stays */
	assert_int_equal(first(), 10);
	list_first(&C, &S);
	assert_int_equal(first(), 1000);
	assert_int_equal(sel(), 1000);
	list_page_up(&C, &S);                    /* nothing before: stays */
	assert_int_equal(first(), 1000);
}

static void test_ascending_moves_by_one_at_the_edges(void **state)
{
	(void)state;
	setup_list(25, true, &source);
	draw();
	assert_int_equal(first(), 1);
	for (int i = 0; i < 9; i++)
		list_down(&C, &S);
	assert_int_equal(sel(), 10);
	assert_int_equal(first(), 1);
	list_down(&C, &S);                       /* past the bottom: the page moves one row */
	assert_int_equal(first(), 2);
	assert_int_equal(sel(), 11);
	list_up(&C, &S);
	assert_int_equal(first(), 2);
	assert_int_equal(sel(), 10);
	for (int i = 0; i < 8; i++)
		list_up(&C, &S);
	assert_int_equal(sel(), 2);
	assert_int_equal(first(), 2);
	list_up(&C, &S);                         /* past the top: back one row */
	assert_int_equal(first(), 1);
	assert_int_equal(sel(), 1);
	list_last(&C, &S);
	assert_int_equal(first(), 16);
	assert_int_equal(sel(), 25);
	list_down(&C, &S);                       /* the end: nothing happens */
	assert_int_equal(sel(), 25);
	list_page_up(&C, &S);
	assert_int_equal(first(), 6);
	list_page_up(&C, &S);                    /* less than a page above: from the start */
	assert_int_equal(first(), 1);
}

static void test_a_page_reads_only_its_rows(void **state)
{
	(void)state;
	setup_list(1000, false, &source);
	draw();
	F.reads = 0;
	list_down(&C, &S);                       /* within the page: no read */
	assert_int_equal(F.reads, 0);
	list_page_down(&C, &S);                  /* a probe, then the page */
	assert_int_equal(F.reads, 2);
}

static void test_gaps_and_rows_that_go_away(void **state)
{
	(void)state;
	setup_list(100, false, &source);
	for (int k = 81; k <= 95; k++)
		F.gone[k] = true;
	draw();
	assert_int_equal(first(), 100);
	assert_int_equal(last(), 76);            /* keyset paging steps over the gap */
	list_page_down(&C, &S);
	assert_int_equal(first(), 75);
	/* the rows of the page and everything after them go away */
	for (int k = 1; k <= 75; k++)
		F.gone[k] = true;
	list_reload(&C, &L);
	assert_int_equal(first(), 100);          /* read again from the start */
	assert_int_equal(L.n, 10);
	assert_int_equal(sel(), 100);
}

static void test_reload_keeps_the_selected_row(void **state)
{
	(void)state;
	setup_list(50, false, &source);
	draw();
	list_down(&C, &S);
	list_down(&C, &S);
	assert_int_equal(sel(), 48);
	F.n = 53;                                /* newer rows arrive */
	list_reload(&C, &L);
	assert_int_equal(first(), 53);           /* at the start, the page shows them */
	assert_int_equal(sel(), 48);             /* and the selection stays on its row */
	list_page_down(&C, &S);
	assert_int_equal(first(), 43);
	F.n = 60;
	list_reload(&C, &L);
	assert_int_equal(first(), 43);           /* further down, the page stays */
}

static void test_in_place_reread_fills_the_room(void **state)
{
	(void)state;
	setup_list(4, true, &in_place);
	draw();
	assert_int_equal(L.n, 4);
	F.gone[2] = true;                        /* decided elsewhere: stays in place */
	F.version = 7;
	F.n = 6;                                 /* and two new ones */
	list_reload(&C, &L);
	assert_int_equal(L.n, 6);
	assert_int_equal(key(list_row(&L, 1)), 2);
	assert_int_equal(((const row *)list_row(&L, 1))->version, 7);
	assert_int_equal(last(), 6);
}

static void test_resize_reads_a_page_of_the_new_height(void **state)
{
	(void)state;
	setup_list(100, true, &source);
	draw();
	list_page_down(&C, &S);
	assert_int_equal(first(), 11);
	assert_true(list_draw(&C, &S, 2, 4));
	assert_int_equal(L.n, 4);
	assert_int_equal(first(), 11);
	assert_true(list_draw(&C, &S, 2, 30));
	assert_int_equal(L.n, 30);
	assert_int_equal(last(), 40);
}

static void test_empty(void **state)
{
	(void)state;
	setup_list(0, true, &source);
	assert_false(draw());
	assert_int_equal(S.cursor_y, -1);
	assert_null(list_selected(&L));
	list_down(&C, &S);
	list_page_up(&C, &S);
	list_last(&C, &S);
	list_open(&C, &S);
	assert_int_equal(F.opened, 0);
}

/* ---- search ---- */

static void test_search_goes_round(void **state)
{
	(void)state;
	setup_list(100, true, &source);
	draw();
	list_next_match(&C, &S);
	assert_string_equal(message, "no search yet: / to search");
	answer = "x";
	list_search(&C, &S);
	assert_int_equal(sel(), 7);              /* on the page: only the selection moves */
	assert_int_equal(first(), 1);
	list_next_match(&C, &S);
	assert_int_equal(sel(), 14);             /* beyond it: the page starts at the match */
	assert_int_equal(first(), 14);
	list_prev_match(&C, &S);
	assert_int_equal(sel(), 7);
	list_last(&C, &S);
	message[0] = '\0';
	list_next_match(&C, &S);
	assert_int_equal(sel(), 7);
	assert_string_equal(message, "search went round to the top");
	answer = NULL;                           /* Esc at the prompt keeps the search */
	list_search(&C, &S);
	assert_string_equal(L.search, "x");
	F.match_every = 1000;
	list_next_match(&C, &S);
	assert_string_equal(message, "no match for \"x\"");
	assert_int_equal(sel(), 7);
}

/* ---- the mouse ---- */

static void test_mouse(void **state)
{
	(void)state;
	setup_list(100, false, &source);
	draw();
	list_mouse(&C, &S, 5, true, 0);          /* line 5 is the fourth row */
	assert_int_equal(sel(), 97);
	assert_int_equal(F.opened, 0);
	list_mouse(&C, &S, 5, true, 0);          /* again: opens it */
	assert_int_equal(F.opened, 97);
	list_mouse(&C, &S, 40, true, 0);         /* below the rows: nothing */
	assert_int_equal(sel(), 97);
	list_mouse(&C, &S, 5, false, 1);         /* the wheel: three rows */
	assert_int_equal(sel(), 94);
	list_mouse(&C, &S, 5, false, -1);
	assert_int_equal(sel(), 97);
}

/* ---- an in-memory list ---- */

static void test_array(void **state)
{
	(void)state;
	setup_list(0, true, &source);
	list_array(&L, 12);
	draw();
	assert_int_equal(L.n, 10);
	assert_int_equal(list_item(list_row(&L, 0)), 0);
	list_last(&C, &S);
	assert_int_equal(list_item(list_selected(&L)), 11);
	assert_int_equal(list_item(list_row(&L, 0)), 2);
	list_set_count(&C, &L, 5);               /* shorter: the page keeps its first row */
	assert_int_equal(L.n, 3);
	assert_int_equal(list_item(list_selected(&L)), 4);
	list_first(&C, &S);
	list_down(&C, &S);
	list_set_count(&C, &L, 8);               /* longer: the selection stays */
	assert_int_equal(list_item(list_selected(&L)), 1);
	assert_int_equal(L.n, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newest_first),
		cmocka_unit_test(test_ascending_moves_by_one_at_the_edges),
		cmocka_unit_test(test_a_page_reads_only_its_rows),
		cmocka_unit_test(test_gaps_and_rows_that_go_away),
		cmocka_unit_test(test_reload_keeps_the_selected_row),
		cmocka_unit_test(test_in_place_reread_fills_the_room),
		cmocka_unit_test(test_resize_reads_a_page_of_the_new_height),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_search_goes_round),
		cmocka_unit_test(test_mouse),
		cmocka_unit_test(test_array),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
