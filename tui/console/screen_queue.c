/*
 * screen_queue.c: the queue, the console's start screen.
 *
 * Only the visible rows are read: the screen remembers the id of its first
 * row and reads one page after it through the status index (keyset paging,
 * data/queries.c), so scrolling costs the same at row 10 and at row 100,000.
 * Views: Waiting (pending and blocked, oldest first), Decided and All (newest
 * first); a kind filter and a status filter narrow them. / searches title,
 * action, submitter and ref, jumping to the next match; n and N repeat it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

enum { MAX_ROWS = 512 };

typedef struct qrow {
	int64_t id, created_ms;
	int counts[3];
	char kind[12], action[64], title[160], submitter[64], status[16], ref[96];
} qrow;

typedef struct queue {
	int view;               /* 0 waiting, 1 decided, 2 all */
	int kind;               /* 0 any, else kinds[kind] */
	int status;             /* 0 the view's, else statuses[status] */
	char search[128];
	int64_t top_id;         /* the first visible row; 0: from the start */
	qrow rows[MAX_ROWS];
	int n, sel, height;
	int64_t total;
} queue;

static const char *const views[] = { "Waiting", "Decided", "All" };
static const char *const view_filters[] = { "waiting", "decided", "all" };
static const char *const kinds[] = { NULL, "proposal", "export", "import" };
static const char *const statuses[] = { NULL, "pending", "blocked", "approved", "rejected",
	"overridden", "expired", "allowed" };

static bool ascending(const queue *q)
{
	return q->view == 0;
}

static const char *filter_of(const queue *q)
{
	return q->status ? statuses[q->status] : view_filters[q->view];
}

typedef struct collect {
	qrow *rows;
	int n, max;
} collect;

static bool take(void *ctx, const sub_row *r)
{
	collect *c = ctx;
	if (c->n >= c->max)
		return false;
	qrow *q = &c->rows[c->n++];
	q->id = r->id;
	q->created_ms = r->created_ms;
	memcpy(q->counts, r->counts, sizeof q->counts);
	snprintf(q->kind, sizeof q->kind, "%s", r->kind);
	snprintf(q->action, sizeof q->action, "%s", r->action);
	snprintf(q->title, sizeof q->title, "%s", r->title ? r->title : "");
	snprintf(q->submitter, sizeof q->submitter, "%s", r->submitter ? r->submitter : "");
	snprintf(q->status, sizeof q->status, "%s", r->status);
	snprintf(q->ref, sizeof q->ref, "%s", r->ref ? r->ref : "");
	return true;
}

/* Reads up to max rows from after (exclusive; 0: from the start), in the
 * view's direction or against it. */
static int fetch(console *c, queue *q, int64_t after, bool forward, const char *search, qrow *out,
    int max)
{
	page_query pq = { .filter = filter_of(q), .kind = kinds[q->kind], .search = search,
		.after = after != 0, .cursor = after };
	collect col = { out, 0, max };
	if (!query_page(c->s, &pq, forward ? ascending(q) : !ascending(q), max, take, &col))
		console_message(c, MSG_ERROR, "%s", store_errmsg(c->s));
	return col.n;
}

/* The id just before id in the view's direction, as a cursor that includes id. */
static int64_t including(const queue *q, int64_t id)
{
	return id == 0 ? 0 : ascending(q) ? id - 1 : id + 1;
}

static void load(console *c, queue *q)
{
	q->n = fetch(c, q, including(q, q->top_id), true, NULL, q->rows,
	    q->height > 0 && q->height < MAX_ROWS ? q->height : MAX_ROWS);
	if (q->n == 0 && q->top_id != 0) {   /* the rows at the top went away: from the start */
		q->top_id = 0;
		q->n = fetch(c, q, 0, true, NULL, q->rows, q->height > 0 ? q->height : MAX_ROWS);
	}
	if (q->sel >= q->n)
		q->sel = q->n > 0 ? q->n - 1 : 0;
}

/* The view's size: on opening, on a change of view or filter, and when the
 * store changes; never while scrolling. */
static void count(console *c, queue *q)
{
	q->total = q->kind || strcmp(filter_of(q), "all") == 0 ? -1 :
	    strcmp(filter_of(q), "waiting") == 0 ?
	    c->waiting + c->blocked : query_count(c->s, filter_of(q));
}

/* The store changed (another process, or a decision here): the visible rows
 * are read again in place, so a row decided elsewhere stays where it is and
 * shows its new status until the view is next read (a move past the page,
 * a view or filter change, Ctrl-L); new rows fill the room below. */
static void reload(console *c, screen *sc)
{
	queue *q = sc->state;
	if (q->n == 0) {
		load(c, q);
		count(c, q);
		return;
	}
	for (int i = 0; i < q->n; i++) {
		char key[24];
		sub_row r;
		snprintf(key, sizeof key, "%lld", (long long)q->rows[i].id);
		if (query_get(c->s, key, &r) == 1) {
			collect one = { &q->rows[i], 0, 1 };
			take(&one, &r);
			query_row_done(&r);
		}
	}
	int room = (q->height > 0 && q->height < MAX_ROWS ? q->height : MAX_ROWS) - q->n;
	if (room > 0)
		q->n += fetch(c, q, q->rows[q->n - 1].id, true, NULL, q->rows + q->n, room);
	count(c, q);
}

static void refresh_view(console *c, screen *sc)
{
	queue *q = sc->state;
	load(c, q);
	count(c, q);
	console_message(c, MSG_INFO, "view read again");
}

static void scroll_to(console *c, queue *q, int64_t top, int sel)
{
	q->top_id = top;
	q->sel = sel;
	load(c, q);
}

static void down(console *c, screen *sc)
{
	queue *q = sc->state;
	if (q->sel + 1 < q->n) {
		q->sel++;
		return;
	}
	qrow next;
	if (q->n > 0 && fetch(c, q, q->rows[q->n - 1].id, true, NULL, &next, 1) == 1 && q->n > 1)
		scroll_to(c, q, q->rows[1].id, q->sel);
}

static void up(console *c, screen *sc)
{
	queue *q = sc->state;
	if (q->sel > 0) {
		q->sel--;
		return;
	}
	qrow prev;
	if (q->n > 0 && fetch(c, q, q->rows[0].id, false, NULL, &prev, 1) == 1)
		scroll_to(c, q, prev.id, 0);
}

static void page_down(console *c, screen *sc)
{
	queue *q = sc->state;
	qrow next;
	if (q->n > 0 && fetch(c, q, q->rows[q->n - 1].id, true, NULL, &next, 1) == 1)
		scroll_to(c, q, next.id, 0);
	else
		q->sel = q->n > 0 ? q->n - 1 : 0;
}

static void page_up(console *c, screen *sc)
{
	queue *q = sc->state;
	static qrow back[MAX_ROWS];
	int n = q->n > 0 ? fetch(c, q, q->rows[0].id, false, NULL, back, q->height) : 0;
	if (n > 0)
		scroll_to(c, q, back[n - 1].id, 0);
	else
		q->sel = 0;
}

static void first(console *c, screen *sc)
{
	scroll_to(c, sc->state, 0, 0);
}

static void last(console *c, screen *sc)
{
	queue *q = sc->state;
	static qrow back[MAX_ROWS];
	int n = fetch(c, q, 0, false, NULL, back, q->height);
	if (n > 0)
		scroll_to(c, q, back[n - 1].id, n - 1);
}

static const qrow *selected(const queue *q)
{
	return q->n > 0 ? &q->rows[q->sel] : NULL;
}

static void open_selected(console *c, screen *sc)
{
	const qrow *r = selected(sc->state);
	if (r)
		console_push(c, submission_screen(c, r->id));
}

static void set_view(console *c, queue *q, int view)
{
	q->view = view;
	q->status = 0;
	scroll_to(c, q, 0, 0);
	count(c, q);
	console_message(c, MSG_INFO, "view: %s", views[view]);
}

static void next_view(console *c, screen *sc)
{
	queue *q = sc->state;
	set_view(c, q, (q->view + 1) % 3);
}

static void view_waiting(console *c, screen *sc) { set_view(c, sc->state, 0); }
static void view_decided(console *c, screen *sc) { set_view(c, sc->state, 1); }
static void view_all(console *c, screen *sc) { set_view(c, sc->state, 2); }

static void next_kind(console *c, screen *sc)
{
	queue *q = sc->state;
	q->kind = (q->kind + 1) % 4;
	scroll_to(c, q, 0, 0);
	count(c, q);
	console_message(c, MSG_INFO, "kind: %s", q->kind ? kinds[q->kind] : "any");
}

static void next_status(console *c, screen *sc)
{
	queue *q = sc->state;
	q->status = (q->status + 1) % (int)(sizeof statuses / sizeof statuses[0]);
	scroll_to(c, q, 0, 0);
	count(c, q);
	console_message(c, MSG_INFO, "status: %s", q->status ? statuses[q->status] : "the view's");
}

/* Moves the selection to the next match after (or before) the selected row. */
static void find(console *c, queue *q, bool forward)
{
	if (q->search[0] == '\0') {
		console_message(c, MSG_INFO, "no search yet: / to search");
		return;
	}
	const qrow *r = selected(q);
	qrow hit;
	int n = fetch(c, q, r ? r->id : 0, forward, q->search, &hit, 1);
	if (n == 0 && r != NULL) {
		/* past the end: go round, as tig and vi do */
		n = fetch(c, q, 0, forward, q->search, &hit, 1);
		if (n == 1)
			console_message(c, MSG_INFO, "search went round to the %s", forward ? "top" :
			    "bottom");
	}
	if (n == 0) {
		console_message(c, MSG_INFO, "no match for \"%s\"", q->search);
		return;
	}
	for (int i = 0; i < q->n; i++)
		if (q->rows[i].id == hit.id) {
			q->sel = i;
			return;
		}
	scroll_to(c, q, hit.id, 0);
}

static void search(console *c, screen *sc)
{
	queue *q = sc->state;
	char text[128] = "";
	if (!prompt_line(c, "search (title, action, submitter, ref): ", text, sizeof text))
		return;
	snprintf(q->search, sizeof q->search, "%s", text);
	find(c, q, true);
}

static void next_match(console *c, screen *sc) { find(c, sc->state, true); }
static void prev_match(console *c, screen *sc) { find(c, sc->state, false); }

static void approve(console *c, screen *sc)
{
	const qrow *r = selected(sc->state);
	if (r && dialog_approve(c, r->id))
		console_reload(c);
}

static void reject(console *c, screen *sc)
{
	const qrow *r = selected(sc->state);
	if (r && dialog_reject(c, r->id))
		console_reload(c);
}

static void override(console *c, screen *sc)
{
	const qrow *r = selected(sc->state);
	if (r && dialog_override(c, r->id))
		console_reload(c);
}

static void document(console *c, screen *sc)
{
	const qrow *r = selected(sc->state);
	if (r)
		console_push(c, document_screen(c, r->id, NULL));
}

static void history(console *c, screen *sc)
{
	const qrow *r = selected(sc->state);
	if (r)
		console_push(c, history_screen(c, r->id));
}

static void quit(console *c, screen *sc)
{
	(void)sc;
	c->quit = true;
}

static const key_binding keys[] = {
	{ 'j', KEY_DOWN, "j/Down", "next", down, false },
	{ 'k', KEY_UP, "k/Up", "previous", up, false },
	{ KEY_NPAGE, ' ', "PgDn", "page down", page_down, false },
	{ KEY_PPAGE, 'b', "PgUp", "page up", page_up, false },
	{ 'g', KEY_HOME, "g", "first", first, false },
	{ 'G', KEY_END, "G", "last", last, false },
	{ '\r', KEY_ENTER, "Enter", "open", open_selected, false },
	{ 'a', 0, "a", "approve", approve, true },
	{ 'r', 0, "r", "reject", reject, true },
	{ 'o', 0, "o", "override", override, true },
	{ 'd', 0, "d", "document", document, false },
	{ 'h', 0, "h", "history", history, false },
	{ '/', 0, "/", "search", search, false },
	{ 'n', 0, "n", "next match", next_match, false },
	{ 'N', 0, "N", "previous match", prev_match, false },
	{ '\t', 0, "Tab", "Waiting/Decided/All", next_view, false },
	{ '1', 0, "1", "Waiting", view_waiting, false },
	{ '2', 0, "2", "Decided", view_decided, false },
	{ '3', 0, "3", "All", view_all, false },
	{ 'f', 0, "f", "kind filter", next_kind, false },
	{ 'F', 0, "F", "status filter", next_status, false },
	{ 'R', 0, "R", "read the view again (drops decided rows)", refresh_view, false },
	{ 'q', 0, "q", "quit", quit, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

static void age(int64_t ms, char out[24])
{
	int64_t s = (now_ms() - ms) / 1000;
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, 24, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, 24, "%lldm", (long long)s / 60);
	else if (s < 86400 * 2)
		snprintf(out, 24, "%lldh", (long long)s / 3600);
	else
		snprintf(out, 24, "%lldd", (long long)s / 86400);
}

static void draw_row(console *c, const qrow *r, int y, bool sel)
{
	int w = c->cols;
	int title_w = w - (7 + 9 + 19 + 15 + 6 + 11 + 12) - 1;
	if (title_w < 10)
		title_w = 10;
	attrset(sel ? (c->colour ? COLOR_PAIR(PAIR_SEL) : A_REVERSE) : A_NORMAL);
	move(y, 0);
	hline(' ', w);
	char id[24], ag[24];
	snprintf(id, sizeof id, "%lld", (long long)r->id);
	age(r->created_ms, ag);
	int x = 0;
	put_clipped(y, x, id, 6); x += 7;
	put_clipped(y, x, r->kind, 8); x += 9;
	put_clipped(y, x, r->action, 18); x += 19;
	put_clipped(y, x, r->title, title_w); x += title_w + 1;
	put_clipped(y, x, r->submitter, 14); x += 15;
	put_clipped(y, x, ag, 5); x += 6;
	if (!sel)
		attrset(console_attr(c, r->status));
	put_clipped(y, x, r->status, 10); x += 11;
	static const char *const sev[3] = { "info", "warning", "critical" };
	static const char letter[3] = { 'I', 'W', 'C' };
	for (int i = 2; i >= 0; i--) {
		char t[8];
		snprintf(t, sizeof t, "%c%d", letter[i], r->counts[i]);
		if (!sel)
			attrset(r->counts[i] ? console_attr(c, sev[i]) : A_NORMAL);
		put_clipped(y, x, t, 4);
		x += 4;
	}
	attrset(A_NORMAL);
}

static void draw(console *c, screen *sc, int top, int height)
{
	queue *q = sc->state;
	int rows = height - 2;
	if (rows != q->height) {
		q->height = rows > MAX_ROWS ? MAX_ROWS : rows;
		load(c, q);
	}
	char line[512], total[32] = "";
	if (q->total >= 0)
		snprintf(total, sizeof total, ", %lld", (long long)q->total);
	snprintf(line, sizeof line, " %s%s%s%s%s%s%s   [Tab] view  [f] kind  [F] status  [/] search",
	    views[q->view], total, q->kind ? ", kind " : "", q->kind ? kinds[q->kind] : "",
	    q->status ? ", status " : "", q->status ? statuses[q->status] : "",
	    q->search[0] ? ", search set" : "");
	attrset(A_BOLD);
	put_clipped(top, 0, line, c->cols);
	int title_w = c->cols - (7 + 9 + 19 + 15 + 6 + 11 + 12) - 1;
	snprintf(line, sizeof line, "%-6s %-8s %-18s %-*s %-14s %-5s %-10s %s", "ID", "KIND",
	    "ACTION", title_w > 10 ? title_w : 10, "TITLE", "SUBMITTER", "AGE", "STATUS", "C   W   I");
	attrset(A_UNDERLINE);
	put_clipped(top + 1, 0, line, c->cols);
	attrset(A_NORMAL);
	if (q->n == 0) {
		put_clipped(top + 3, 2, q->view == 0 ? "Nothing is waiting for review." :
		    "No submissions here.", c->cols - 4);
		return;
	}
	for (int i = 0; i < q->n && i < rows; i++)
		draw_row(c, &q->rows[i], top + 2 + i, i == q->sel);
	sc->cursor_y = top + 2 + q->sel;
}

static void mouse(console *c, screen *sc, int y, int x, bool click, int wheel)
{
	(void)x;
	queue *q = sc->state;
	list_mouse_ev ev = { .y = y, .first_row = (c->integ.tampered ? 2 : 1) + 2, .n = q->n, .sel = &q->sel,
		.click = click, .wheel = wheel, .down = down, .up = up, .open = open_selected };
	list_mouse(c, sc, &ev);
}

screen *queue_screen(console *c)
{
	(void)c;
	screen *sc = calloc(1, sizeof *sc);
	queue *q = calloc(1, sizeof *q);
	if (sc == NULL || q == NULL)
		abort();
	*sc = (screen){ .title = "queue", .draw = draw, .reload = reload, .mouse = mouse,
		.keys = keys, .state = q };
	return sc;
}
