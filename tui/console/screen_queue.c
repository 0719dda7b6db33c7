/*
 * screen_queue.c: the queue, the console's start screen.
 *
 * A list (listview.c) whose pages are read by id through the status index
 * (data/queries.c), so scrolling costs the same at row 10 and at row
 * 100,000. Views: Waiting (pending and blocked, oldest first), Decided and
 * All (newest first); a kind filter and a status filter narrow them. /
 * searches title, action, submitter and ref, jumping to the next match; n
 * and N repeat it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "listview.h"

/* A row keeps its texts as drawn: escaped by copy_visible (a title may hold
 * controls and NUL), drawn with put_escaped. */
typedef struct qrow {
	int64_t id, created_ms;
	int counts[3];
	char kind[12], action[64], title[160], submitter[64], status[16], ref[96];
} qrow;

typedef struct queue {
	int view;               /* 0 waiting, 1 decided, 2 all */
	int kind;               /* 0 any, else kinds[kind] */
	int status;             /* 0 the view's, else statuses[status] */
	list_view list;
	int64_t total;
} queue;

static const char *const views[] = { "Waiting", "Decided", "All" };
static const char *const view_filters[] = { "waiting", "decided", "all" };
static const char *const kinds[] = { NULL, "proposal", "export", "import" };
/* The order F steps through the statuses (0: the view's own filter); their
 * names are the engine's. */
static const int statuses[] = { -1, ST_PENDING, ST_BLOCKED, ST_APPROVED, ST_REJECTED,
	ST_OVERRIDDEN, ST_EXPIRED, ST_ALLOWED };

static bool ascending(const void *ctx)
{
	return ((const queue *)ctx)->view == 0;
}

static const char *filter_of(const queue *q)
{
	return q->status ? status_name(statuses[q->status]) : view_filters[q->view];
}

typedef struct collect {
	qrow *rows;
	int n, max;
} collect;

static bool take(void *ctx, const sub_row *r, const char *result)
{
	(void)result;
	collect *c = ctx;
	if (c->n >= c->max)
		return false;
	qrow *q = &c->rows[c->n++];
	q->id = r->id;
	q->created_ms = r->created_ms;
	memcpy(q->counts, r->counts, sizeof q->counts);
	copy_visible(q->kind, sizeof q->kind, r->kind, strlen(r->kind));
	copy_visible(q->action, sizeof q->action, r->action, strlen(r->action));
	copy_visible(q->title, sizeof q->title, r->title, r->title_len);
	copy_visible(q->submitter, sizeof q->submitter, r->submitter, r->submitter_len);
	snprintf(q->status, sizeof q->status, "%s", r->status);
	copy_visible(q->ref, sizeof q->ref, r->ref, r->ref_len);
	return true;
}

/* The list's source: a page of the listing (data/list.c). */
static int fetch(console *c, void *ctx, int64_t after, bool forward, const char *search,
    void *out, int max)
{
	queue *q = ctx;
	bool up = forward ? ascending(q) : !ascending(q);
	sub_filter f = { .status = filter_of(q), .kind = kinds[q->kind], .search = search,
		.after = after, .limit = max, .order = up ? LIST_OLDEST_FIRST : LIST_NEWEST_FIRST };
	collect col = { out, 0, max };
	op_reply r;
	if (op_list(c->s, &f, false, take, &col, NULL, &r) != OUT_OK)
		console_message(c, MSG_ERROR, "%s", r.message);
	return col.n;
}

static int64_t key(const void *row)
{
	return ((const qrow *)row)->id;
}

static void reread(console *c, void *ctx, void *row)
{
	(void)ctx;
	char id[24];
	submission_view v;
	op_reply r;
	if (!console_row_stale(c, key(row)))
		return;
	snprintf(id, sizeof id, "%lld", (long long)key(row));
	outcome o = op_submission_get(c->s, id, &v, &r);
	if (o == OUT_OK || o == OUT_TAMPERED) {
		collect one = { row, 0, 1 };
		take(&one, &v.row, NULL);
	}
	submission_view_free(&v);
}

static const list_source source = { sizeof(qrow), ascending, fetch, key, reread };

/* The view's size: on opening, on a change of view or filter, and when the
 * store changes; never while scrolling. */
static void count(console *c, queue *q)
{
	q->total = q->kind || strcmp(filter_of(q), "all") == 0 ? -1 :
	    strcmp(filter_of(q), "waiting") == 0 ?
	    c->waiting + c->blocked : overview_count(&c->ov, filter_of(q));
}

/* The store changed (another process, or a decision here): the visible rows
 * are read again in place, so a row decided elsewhere stays where it is and
 * shows its new status until the view is next read (a move past the page,
 * a view or filter change, Ctrl-L); new rows fill the room below. */
static void reload(console *c, screen *sc)
{
	queue *q = sc->state;
	list_reload(c, &q->list);
	count(c, q);
}

static void refresh_view(console *c, screen *sc)
{
	queue *q = sc->state;
	list_scroll_to(c, &q->list, q->list.top, q->list.sel);
	count(c, q);
	console_message(c, MSG_INFO, "view read again");
}

static const qrow *selected(const screen *sc)
{
	return list_selected(sc->list);
}

static void open_selected(console *c, screen *sc)
{
	const qrow *r = selected(sc);
	if (r)
		console_push(c, submission_screen(c, r->id));
}

/* A new view or filter: read from its start. */
static void restart(console *c, queue *q)
{
	list_scroll_to(c, &q->list, 0, 0);
	count(c, q);
}

static void set_view(console *c, queue *q, int view)
{
	q->view = view;
	q->status = 0;
	restart(c, q);
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
	restart(c, q);
	console_message(c, MSG_INFO, "kind: %s", q->kind ? kinds[q->kind] : "any");
}

static void next_status(console *c, screen *sc)
{
	queue *q = sc->state;
	q->status = (q->status + 1) % (int)(sizeof statuses / sizeof statuses[0]);
	restart(c, q);
	console_message(c, MSG_INFO, "status: %s", q->status ? status_name(statuses[q->status]) :
	    "the view's");
}

static void approve(console *c, screen *sc)
{
	const qrow *r = selected(sc);
	if (r && dialog_approve(c, r->id))
		console_reload(c);
}

static void reject(console *c, screen *sc)
{
	const qrow *r = selected(sc);
	if (r && dialog_reject(c, r->id))
		console_reload(c);
}

static void override(console *c, screen *sc)
{
	const qrow *r = selected(sc);
	if (r && dialog_override(c, r->id))
		console_reload(c);
}

static void document(console *c, screen *sc)
{
	const qrow *r = selected(sc);
	if (r)
		console_push(c, document_screen(c, r->id, NULL));
}

static void history(console *c, screen *sc)
{
	const qrow *r = selected(sc);
	if (r)
		console_push(c, history_screen(c, r->id));
}

static void quit(console *c, screen *sc)
{
	(void)sc;
	c->quit = true;
}

static const key_binding keys[] = {
	{ 'j', KEY_DOWN, "j/Down", "next", list_down, false },
	{ 'k', KEY_UP, "k/Up", "previous", list_up, false },
	{ KEY_NPAGE, ' ', "PgDn", "page down", list_page_down, false },
	{ KEY_PPAGE, 'b', "PgUp", "page up", list_page_up, false },
	{ 'g', KEY_HOME, "g", "first", list_first, false },
	{ 'G', KEY_END, "G", "last", list_last, false },
	{ '\r', KEY_ENTER, "Enter", "open", list_open, false },
	{ 'a', 0, "a", "approve", approve, true },
	{ 'r', 0, "r", "reject", reject, true },
	{ 'o', 0, "o", "override", override, true },
	{ 'd', 0, "d", "document", document, false },
	{ 'h', 0, "h", "history", history, false },
	{ '/', 0, "/", "search", list_search, false },
	{ 'n', 0, "n", "next match", list_next_match, false },
	{ 'N', 0, "N", "previous match", list_prev_match, false },
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

/* The age of a row created at ms, in its largest unit; returns when it next
 * reads differently, so that an idle console redraws only then. */
static int64_t age(int64_t ms, char out[24])
{
	int64_t s = (now_ms() - ms) / 1000, unit;
	if (s < 0)
		s = 0;
	if (s < 60)
		unit = 1;
	else if (s < 3600)
		unit = 60;
	else if (s < 86400 * 2)
		unit = 3600;
	else
		unit = 86400;
	snprintf(out, 24, "%lld%c", (long long)(s / unit), unit == 1 ? 's' : unit == 60 ? 'm' :
	    unit == 3600 ? 'h' : 'd');
	return ms + (s / unit + 1) * unit * 1000;
}

static void draw_row(console *c, screen *sc, const void *row, int y, bool sel)
{
	const qrow *r = row;
	int title_w = c->cols - (7 + 9 + 19 + 15 + 6 + 11 + 12) - 1;
	if (title_w < 10)
		title_w = 10;
	char id[24], ag[24];
	snprintf(id, sizeof id, "%lld", (long long)r->id);
	console_redraw_at(sc, age(r->created_ms, ag));
	int x = 0;
	put_clipped(y, x, id, 6); x += 7;
	put_escaped(y, x, r->kind, 8); x += 9;
	put_escaped(y, x, r->action, 18); x += 19;
	put_escaped(y, x, r->title, title_w); x += title_w + 1;
	put_escaped(y, x, r->submitter, 14); x += 15;
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
	char line[512], total[32] = "";
	if (q->total >= 0)
		snprintf(total, sizeof total, ", %lld", (long long)q->total);
	snprintf(line, sizeof line, " %s%s%s%s%s%s%s   [Tab] view  [f] kind  [F] status  [/] search",
	    views[q->view], total, q->kind ? ", kind " : "", q->kind ? kinds[q->kind] : "",
	    q->status ? ", status " : "", q->status ? status_name(statuses[q->status]) : "",
	    q->list.search[0] ? ", search set" : "");
	attrset(A_BOLD);
	put_clipped(top, 0, line, c->cols);
	int title_w = c->cols - (7 + 9 + 19 + 15 + 6 + 11 + 12) - 1;
	snprintf(line, sizeof line, "%-6s %-8s %-18s %-*s %-14s %-5s %-10s %s", "ID", "KIND",
	    "ACTION", title_w > 10 ? title_w : 10, "TITLE", "SUBMITTER", "AGE", "STATUS", "C   W   I");
	attrset(A_UNDERLINE);
	put_clipped(top + 1, 0, line, c->cols);
	attrset(A_NORMAL);
	if (!list_draw(c, sc, top + 2, height - 2))
		put_clipped(top + 3, 2, q->view == 0 ? "Nothing is waiting for review." :
		    "No submissions here.", c->cols - 4);
}

static void destroy(screen *sc)
{
	queue *q = sc->state;
	list_free(&q->list);
	free(q);
}

screen *queue_screen(console *c)
{
	(void)c;
	screen *sc = calloc(1, sizeof *sc);
	queue *q = calloc(1, sizeof *q);
	if (sc == NULL || q == NULL)
		abort();
	q->list = (list_view){ .src = &source, .ctx = q, .draw_row = draw_row, .open = open_selected,
		.search_prompt = "search (title, action, submitter, ref): " };
	*sc = (screen){ .title = "queue", .draw = draw, .reload = reload, .destroy = destroy,
		.keys = keys, .state = q, .list = &q->list };
	return sc;
}
