/*
 * screen_audit.c: the audit browser (A): the log newest first, one event in
 * full, and the state of the hash chain.
 *
 * The same list as the queue's (listview.c), its pages read by seq
 * (audit_page: keyset paging through the primary key, or the event and
 * subject indexes), so scrolling costs the same at the newest event and at
 * the millionth.
 * Filters on event, actor and submission (the event's subject) narrow the
 * pages; # jumps to a seq.
 *
 * The header shows the chain state. Verifying reads the whole log, about 3 s
 * a million events, so it runs unasked only while the log is small
 * (AUTO_VERIFY events; then again whenever the store changes). Otherwise v
 * runs it, its progress in the header and message line, Esc stopping it. A
 * result speaks only for the events it covered, hence "verified to seq N";
 * an export verifies its snapshot too, and its result is taken.
 *
 * Enter opens the event in a text view with checks of its own: the hash
 * recomputed from prev and the fields, the link to the event before, and the
 * signature against the store's public key. x and w write the signed export
 * report and a checkpoint (data/audit_files.c, shared with audit export and
 * audit checkpoint) beside the .arbiter directory and name them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "console.h"
#include "listview.h"
#include "textview.h"

enum { AUTO_VERIFY = 20000, MAX_HELD_KEYS = 16 };
enum { CHAIN_UNKNOWN, CHAIN_VERIFYING, CHAIN_OK, CHAIN_TAMPERED, CHAIN_ERROR };

typedef struct arow {
	int64_t seq;
	char ts[32], actor[65], event[32], subject[72], details[256];
} arow;

typedef struct audit_view {
	char event[64], actor[128], subject[128];       /* filters; empty: any */
	list_view list;
	int body_top;
	int64_t head;           /* the last seq */
	int chain;
	const char *busy;       /* while verifying: "verifying" or "exporting" */
	int percent;
	verify_result vr;       /* the last verification that finished */
} audit_view;

static const char *const event_names[] = { "store.init", "policy.pin", "policy.tamper",
	"submission.create", "submission.reevaluate", "decision.approve", "decision.reject",
	"override.partial", "override.grant", "code.failure", "code.replay", "reviewer.lockout",
	"reviewer.add", "reviewer.disable", "reviewer.enable", "reviewer.unlock", "reviewer.reset",
	"reviewer.role", "enforcement.toggle", "audit.export", "audit.checkpoint", "session.signin" };

/* The colour of an event name, in the words console_attr knows. */
static int event_attr(const console *c, const char *event)
{
	static const struct { const char *event, *word; } map[] = {
		{ "policy.tamper", "critical" }, { "code.failure", "warning" },
		{ "code.replay", "warning" }, { "reviewer.lockout", "warning" },
		{ "decision.reject", "rejected" }, { "decision.approve", "approved" },
		{ "override.grant", "overridden" }, { "override.partial", "pending" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(event, map[i].event) == 0)
			return console_attr(c, map[i].word);
	return (int)A_NORMAL;
}

static const char *or_null(const char *filter)
{
	return filter[0] ? filter : NULL;
}

/* A row's details as "key=value ...": quicker to scan than the JSON. Kept
 * as drawn (copy_visible: a ref may hold controls and NUL), for put_escaped. */
static void flatten(const char *details, char *out, size_t len)
{
	strbuf b = { 0 };
	if (jsontext_flat(details, &b, len))
		copy_visible(out, len, b.s ? b.s : "", b.n);
	else
		copy_visible(out, len, details, strlen(details));
	free(b.s);
}

static void take(const audit_event *e, arow *r)
{
	r->seq = e->seq;
	snprintf(r->ts, sizeof r->ts, "%s", e->ts);
	copy_visible(r->actor, sizeof r->actor, e->actor, strlen(e->actor));
	copy_visible(r->event, sizeof r->event, e->event, strlen(e->event));
	copy_visible(r->subject, sizeof r->subject, e->subject, strlen(e->subject));
	flatten(e->details, r->details, sizeof r->details);
}

/* The list's source: the log newest first, so going forward is going older. */
static bool newest_first(const void *ctx)
{
	(void)ctx;
	return false;
}

static int fetch(console *c, void *ctx, int64_t seq, bool older, const char *search, void *out,
    int max)
{
	(void)search;
	const audit_view *av = ctx;
	audit_cursor q = { .event = or_null(av->event), .actor = or_null(av->actor),
		.subject = or_null(av->subject), .seq = seq, .older = older };
	audit_events page;
	op_reply r;
	if (op_audit_page(c->s, &q, max, &page, &r) != OUT_OK) {
		console_message(c, MSG_ERROR, "%s", r.message);
		return 0;
	}
	int n = 0;
	for (size_t i = 0; i < page.n && n < max; i++)
		take(&page.items[i], (arow *)out + n++);
	audit_events_free(&page);
	return n;
}

static int64_t key(const void *row)
{
	return ((const arow *)row)->seq;
}

static const list_source source = { sizeof(arow), newest_first, fetch, key, NULL };

static const arow *selected(const audit_view *av)
{
	return list_selected(&av->list);
}

/* ---- verification ---- */

typedef struct progress {
	console *c;
	screen *sc;
	const char *doing;              /* "verifying the audit chain" */
	bool stoppable;
	int held[MAX_HELD_KEYS];        /* keys typed meanwhile, for after */
	int nheld;
	bool stopped;
} progress;

static void draw_title(console *c, const audit_view *av, int y);

static void paint_message(console *c)
{
	move(c->rows - 1, 0);
	clrtoeol();
	put_clipped(c->rows - 1, 0, c->message, c->cols);
}

/* Shows how far a long read has got; Esc stops it if it may be stopped,
 * other keys wait for it to end (the caller puts them back). */
static bool on_progress(void *ctx, int64_t done, int64_t total)
{
	progress *p = ctx;
	audit_view *av = p->sc->state;
	av->percent = total > 0 ? (int)(done * 100 / total) : 100;
	console_message(p->c, MSG_INFO, "%s: %d%%%s", p->doing, av->percent,
	    p->stoppable ? "; Esc stops" : "");
	draw_title(p->c, av, av->body_top);
	paint_message(p->c);
	refresh();
	int delay = wgetdelay(stdscr), ch;
	timeout(0);
	while (!p->stopped && (ch = getch()) != ERR) {
		if (ch == 27 && p->stoppable)
			p->stopped = true;
		else if (ch != KEY_MOUSE && ch != 27 && p->nheld < MAX_HELD_KEYS)
			p->held[p->nheld++] = ch;
	}
	timeout(delay);
	return !p->stopped;
}

static void put_back(progress *p)
{
	while (p->nheld > 0)
		ungetch(p->held[--p->nheld]);
}

static void verify_now(console *c, screen *sc, bool announce)
{
	audit_view *av = sc->state;
	if (c->served) {
		/* the log, the key and the tables are the server's: audit verify
		 * is one of the commands that run where the files are */
		if (announce)
			console_message(c, MSG_INFO, "the chain is verified where the store is (arbiter "
			    "audit verify on the server's host); x exports it with the server's "
			    "verification");
		return;
	}
	int before = av->chain;
	progress p = { .c = c, .sc = sc, .doing = "verifying the audit chain", .stoppable = true };
	verify_result r;
	av->chain = CHAIN_VERIFYING;
	av->busy = "verifying";
	av->percent = 0;
	int64_t start = mono_ms();
	bool ok = announce ? audit_verify_progress(c->s, NULL, &r, on_progress, &p) :
	    audit_verify(c->s, NULL, &r);
	put_back(&p);
	if (p.stopped) {
		av->chain = before;
		console_message(c, MSG_INFO, "verification stopped: the chain state is as before");
	} else if (!ok) {
		av->chain = CHAIN_ERROR;
		console_message(c, MSG_ERROR, "cannot verify the audit log: %s", store_errmsg(c->s));
	} else {
		av->vr = r;
		av->chain = r.ok ? CHAIN_OK : CHAIN_TAMPERED;
		if (!r.ok && r.tables && (announce || before != CHAIN_TAMPERED))
			console_message(c, MSG_ERROR, "TAMPERED: %s", r.why);
		else if (!r.ok && (announce || before != CHAIN_TAMPERED))
			console_message(c, MSG_ERROR, "audit chain TAMPERED at seq %lld: %s (# %lld goes "
			    "there)", (long long)r.bad_seq, r.why, (long long)r.bad_seq);
		else if (announce)
			console_message(c, MSG_INFO, "audit chain verified: %lld events, head seq %lld, "
			    "hash %.16s... (%.1f s)", (long long)r.events, (long long)r.head_seq, r.head,
			    (double)(mono_ms() - start) / 1000);
	}
}

static void verify(console *c, screen *sc)
{
	verify_now(c, sc, true);
}

/* The head of the chain, and while the log is small its verification. */
static void read_head(console *c, screen *sc)
{
	audit_view *av = sc->state;
	char hash[65];
	op_reply r;
	if (op_chain_head(c->s, &av->head, hash, &r) != OUT_OK)
		console_message(c, MSG_ERROR, "%s", r.message);
	else if (av->head <= AUTO_VERIFY && av->chain != CHAIN_VERIFYING)
		verify_now(c, sc, false);
}

static void reload(console *c, screen *sc)
{
	audit_view *av = sc->state;
	list_reload(c, &av->list);
	read_head(c, sc);
}

/* ---- moving ---- */

static void go_to(console *c, screen *sc)
{
	audit_view *av = sc->state;
	char text[32] = "";
	if (av->chain == CHAIN_TAMPERED)
		snprintf(text, sizeof text, "%lld", (long long)av->vr.bad_seq);
	if (!prompt_line(c, "go to seq: ", text, sizeof text))
		return;
	char *end;
	long long seq = strtoll(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || seq < 1) {
		console_message(c, MSG_ERROR, "a seq is a number from 1, not \"%s\"", text);
		return;
	}
	list_scroll_to(c, &av->list, seq, 0);
	const arow *first = list_row(&av->list, 0);
	if (first != NULL && first->seq != seq)
		console_message(c, MSG_INFO, "seq %lld is not shown%s: the nearest older event is %lld",
		    seq, av->event[0] || av->actor[0] || av->subject[0] ? " with these filters" : "",
		    (long long)first->seq);
}

/* ---- filters ---- */

/* ", event E, actor A, subject S" for the filters that are set. */
static void filters_text(const audit_view *av, char *out, size_t len)
{
	bool is_id = av->subject[0] && strspn(av->subject, "0123456789") ==
	    strlen(av->subject);
	snprintf(out, len, "%s%s%s%s%s%s", av->event[0] ? ", event " : "", av->event,
	    av->actor[0] ? ", actor " : "", av->actor, !av->subject[0] ? "" : is_id ?
	    ", submission " : ", subject ", av->subject);
}

static void describe_filters(console *c, const audit_view *av)
{
	char what[400];
	filters_text(av, what, sizeof what);
	if (what[0] == '\0')
		console_message(c, MSG_INFO, "no filters: every event");
	else
		console_message(c, MSG_INFO, "%s: %s; c clears the filters", av->list.n ? "showing" :
		    "no events match", what + 2);
}

/* Asks for a filter's new value (empty: any); false when cancelled. */
static bool ask(console *c, const char *label, char *filter, size_t len)
{
	char text[128];
	snprintf(text, sizeof text, "%s", filter);
	if (!prompt_line(c, label, text, sizeof text))
		return false;
	char *p = text + strspn(text, " \t");
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	snprintf(filter, len, "%s", p);
	return true;
}

static void filter_event(console *c, screen *sc)
{
	audit_view *av = sc->state;
	char was[sizeof av->event];
	memcpy(was, av->event, sizeof was);
	if (!ask(c, "event (empty: any; a unique start will do): ", av->event, sizeof av->event))
		return;
	char candidates[256] = "";
	const char *match = NULL;
	int matches = 0;
	for (size_t i = 0; av->event[0] && i < sizeof event_names / sizeof event_names[0]; i++) {
		if (strcmp(av->event, event_names[i]) == 0) {
			matches = 0;
			break;
		}
		if (strncmp(av->event, event_names[i], strlen(av->event)) == 0) {
			size_t used = strlen(candidates);
			snprintf(candidates + used, sizeof candidates - used, "%s%s", matches ? ", " : "",
			    event_names[i]);
			match = event_names[i];
			matches++;
		}
	}
	if (matches > 1) {
		console_message(c, MSG_ERROR, "\"%s\" starts %s: type more", av->event, candidates);
		memcpy(av->event, was, sizeof was);
		return;
	}
	if (matches == 1)
		snprintf(av->event, sizeof av->event, "%s", match);
	list_scroll_to(c, &av->list, 0, 0);
	describe_filters(c, av);
}

static void filter_actor(console *c, screen *sc)
{
	audit_view *av = sc->state;
	if (!ask(c, "actor (empty: any): ", av->actor, sizeof av->actor))
		return;
	list_scroll_to(c, &av->list, 0, 0);
	describe_filters(c, av);
}

/* A submission's events have its id as their subject; a ref is looked up,
 * and any other word is taken as a subject (a reviewer, "policies"). */
static void filter_subject(console *c, screen *sc)
{
	audit_view *av = sc->state;
	if (!ask(c, "submission id or ref (or any subject; empty: any): ", av->subject,
	    sizeof av->subject))
		return;
	const char *key = av->subject[0] == '#' ? av->subject + 1 : av->subject;
	submission_view v;
	op_reply r;
	outcome o = key[0] ? op_submission_get(c->s, key, &v, &r) : OUT_NOT_FOUND;
	if (o == OUT_OK || o == OUT_TAMPERED) {
		snprintf(av->subject, sizeof av->subject, "%lld", (long long)v.row.id);
		submission_view_free(&v);
	} else if (key != av->subject) {
		memmove(av->subject, key, strlen(key) + 1);
	}
	list_scroll_to(c, &av->list, 0, 0);
	describe_filters(c, av);
}

static void clear_filters(console *c, screen *sc)
{
	audit_view *av = sc->state;
	av->event[0] = av->actor[0] = av->subject[0] = '\0';
	list_scroll_to(c, &av->list, 0, 0);
	describe_filters(c, av);
}

/* ---- export and checkpoint ---- */

/* The directory holding the .arbiter directory, where the files go; through
 * a server, the directory the console was started in. */
static void beside_store(const console *c, char *out, size_t len)
{
	if (c->served) {
		if (getcwd(out, len) == NULL)
			snprintf(out, len, ".");
		return;
	}
	char real[PATH_MAX];
	const char *dir = realpath(store_dir(c->s), real) ? real : store_dir(c->s);
	const char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(out, len, ".");
	else
		snprintf(out, len, "%.*s", (int)(slash - dir), dir);     /* "" for "/": "/arbiter-..." */
}

static void export_report(console *c, screen *sc)
{
	audit_view *av = sc->state;
	char dir[PATH_MAX], path[PATH_MAX + 64];
	beside_store(c, dir, sizeof dir);
	audit_file_name(dir, "export", "json", path, sizeof path);
	/* not stoppable: its audit.export event is already in the log by then */
	progress p = { .c = c, .sc = sc, .doing = "exporting and verifying the audit log" };
	int before = av->chain;
	av->chain = CHAIN_VERIFYING;
	av->busy = "exporting";
	av->percent = 0;
	on_progress(&p, 0, 1);
	audit_exported done;
	outcome o = op_audit_export(c->s, c->user, path, on_progress, &p, &done);
	put_back(&p);
	av->chain = before;
	if (o == OUT_IO_ERROR) {
		console_message(c, MSG_ERROR, "cannot export: %s", done.reply.message);
		return;
	}
	verify_result r = done.verify;
	av->vr = r;
	av->chain = r.ok ? CHAIN_OK : CHAIN_TAMPERED;
	console_reload(c);
	if (r.ok)
		console_message(c, MSG_INFO, "exported %lld events: %s (and .minisig)",
		    (long long)r.events, path);
	else
		console_message(c, MSG_ERROR, "exported: %s (and .minisig); the chain is TAMPERED at "
		    "seq %lld, as the report says", path, (long long)r.bad_seq);
}

static void checkpoint(console *c, screen *sc)
{
	(void)sc;
	char dir[PATH_MAX], path[PATH_MAX + 64];
	beside_store(c, dir, sizeof dir);
	audit_file_name(dir, "checkpoint", "txt", path, sizeof path);
	audit_checkpointed done;
	if (op_audit_checkpoint(c->s, c->user, path, &done) != OUT_OK) {
		console_message(c, MSG_ERROR, "cannot write a checkpoint: %s", done.reply.message);
		return;
	}
	console_reload(c);
	console_message(c, MSG_INFO, "checkpoint of seq %lld: %s (and .minisig); keep them off "
	    "this machine", (long long)done.seq, path);
}

/* ---- one event ---- */

typedef struct full_event {
	bool found;
	int64_t seq;
	char ts[32], prev[65], hash[65], sig[129];
	char *actor, *event, *subject, *details;
} full_event;

static bool take_full(const audit_event *e, void *ctx)
{
	full_event *f = ctx;
	f->found = true;
	f->seq = e->seq;
	snprintf(f->ts, sizeof f->ts, "%s", e->ts);
	snprintf(f->prev, sizeof f->prev, "%s", e->prev);
	snprintf(f->hash, sizeof f->hash, "%s", e->hash);
	snprintf(f->sig, sizeof f->sig, "%s", e->sig);
	f->actor = strdup(e->actor);
	f->event = strdup(e->event);
	f->subject = strdup(e->subject);
	f->details = strdup(e->details);
	if (!f->actor || !f->event || !f->subject || !f->details)
		abort();
	return false;
}

static void free_event(full_event *f)
{
	free(f->actor);
	free(f->event);
	free(f->subject);
	free(f->details);
	memset(f, 0, sizeof *f);
}

/* Event seq whatever the filters; found false when there is none. */
static bool read_event(console *c, int64_t seq, full_event *f)
{
	memset(f, 0, sizeof *f);
	audit_cursor q = { .seq = seq + 1, .older = true };
	audit_events page;
	op_reply r;
	if (op_audit_page(c->s, &q, 1, &page, &r) != OUT_OK) {
		console_message(c, MSG_ERROR, "%s", r.message);
		return false;
	}
	if (page.n == 1)
		take_full(&page.items[0], f);
	audit_events_free(&page);
	if (f->found && f->seq != seq)
		free_event(f);
	return true;
}

/* Adds text as lines of at most width columns, each after indent; escaped:
 * the text is JSON (its lines are drawn with put_escaped). */
static void add_wrapped(textview *t, int attr, const char *indent, const char *text, int width,
    bool escaped)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	const char *p = text, *start = text;
	int used = 0;
	while (*p) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			n = 1;
			wc = L'?';
			memset(&st, 0, sizeof st);
		}
		int w = wcwidth(wc);
		w = w < 0 ? 1 : w;
		if (used + w > width && p > start) {
			tv_add(t, attr, "%s%.*s", indent, (int)(p - start), start);
			t->lines[t->n - 1].escaped = escaped;
			start = p;
			used = 0;
		}
		used += w;
		p += n;
	}
	if (p > start || text[0] == '\0') {
		tv_add(t, attr, "%s%.*s", indent, (int)(p - start), start);
		t->lines[t->n - 1].escaped = escaped;
	}
}

static void add_details(console *c, textview *t, const char *details, int width)
{
	char *pretty = jsontext_pretty(details, false, 0);
	if (pretty == NULL) {
		tv_add(t, console_attr(c, "warning"), "    (not JSON: the text as stored)");
		add_wrapped(t, A_NORMAL, "    ", details, width, false);
		return;
	}
	for (char *line = pretty, *nl; line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t lead = strspn(line, " ");
		char indent[64];
		snprintf(indent, sizeof indent, "    %*s", (int)(lead < 40 ? lead : 40), "");
		add_wrapped(t, A_NORMAL, indent, line + lead, width - (int)lead, true);
	}
	free(pretty);
}

/* A check's line: what held, in green, or what failed, in red. */
static void add_check(console *c, textview *t, bool ok, const char *good, const char *bad)
{
	tv_add(t, console_attr(c, ok ? "allowed" : "critical"), "             %s %s", ok ? "ok:" :
	    "FAILS:", ok ? good : bad);
}

typedef struct detail {
	int64_t seq;
	const audit_view *av;   /* the browser below, alive while this is open */
} detail;

static void add_chain(console *c, textview *t, const audit_view *av, int64_t seq)
{
	const verify_result *r = &av->vr;
	if (av->chain == CHAIN_TAMPERED && r->bad_seq == seq)
		tv_add(t, console_attr(c, "critical"), "  log        TAMPERED here: %s", r->why);
	else if (av->chain == CHAIN_TAMPERED)
		tv_add(t, console_attr(c, "critical"), "  log        TAMPERED at seq %lld (%s)",
		    (long long)r->bad_seq, seq < r->bad_seq ? "after this event" : "before this event");
	else if (av->chain == CHAIN_OK && seq <= r->head_seq)
		tv_add(t, console_attr(c, "allowed"), "  log        verified to seq %lld, this event "
		    "included", (long long)r->head_seq);
	else if (av->chain == CHAIN_OK)
		tv_add(t, A_NORMAL, "  log        verified to seq %lld; this event is newer (v "
		    "verifies again)", (long long)r->head_seq);
	else
		tv_add(t, A_NORMAL, "  log        not verified yet (v in the audit log)");
}

static void build_detail(console *c, textview *t, void *arg)
{
	const detail *d = arg;
	full_event e, before;
	int width = (c->cols > 60 ? c->cols : 60) - 5;
	bool read = read_event(c, d->seq, &e);
	if (!read || !e.found) {
		tv_add(t, console_attr(c, "critical"), "Event %lld: %s", (long long)d->seq,
		    read ? "not in the audit log" : c->message);
		return;
	}
	tv_add(t, A_BOLD, "Audit event %lld", (long long)e.seq);
	tv_add(t, A_NORMAL, "%s", "");
	tv_add(t, A_NORMAL, "  time       %s", e.ts);
	tv_add(t, A_NORMAL, "  actor      %s", e.actor);
	tv_add(t, event_attr(c, e.event), "  event      %s", e.event);
	submission_view v;
	op_reply rep;
	outcome o = e.subject[0] && strspn(e.subject, "0123456789") == strlen(e.subject) ?
	    op_submission_get(c->s, e.subject, &v, &rep) : OUT_NOT_FOUND;
	if (o == OUT_OK || o == OUT_TAMPERED) {
		const sub_row *r = &v.row;
		char action[96], title[256];
		copy_visible(action, sizeof action, r->action, strlen(r->action));
		copy_visible(title, sizeof title, r->title, r->title_len);
		tv_add(t, o == OUT_TAMPERED ? console_attr(c, "critical") : A_NORMAL,
		    "  subject    submission %s: %s %s, %s (now %s%s)", e.subject, r->kind, action, title,
		    o == OUT_TAMPERED ? "TAMPERED: its row says " : "", r->status);
		t->lines[t->n - 1].escaped = true;
		submission_view_free(&v);
	} else {
		tv_add(t, A_NORMAL, "  subject    %s", e.subject[0] ? e.subject : "(none)");
	}
	tv_add(t, A_NORMAL, "%s", "");
	tv_add(t, A_BOLD, "  details");
	add_details(c, t, e.details, width);
	tv_add(t, A_NORMAL, "%s", "");

	bool hash_ok, sig_ok;
	audit_event as_read = { .seq = e.seq, .actor = e.actor, .event = e.event,
		.subject = e.subject, .details = e.details };
	memcpy(as_read.ts, e.ts, sizeof e.ts);
	memcpy(as_read.prev, e.prev, sizeof e.prev);
	memcpy(as_read.hash, e.hash, sizeof e.hash);
	memcpy(as_read.sig, e.sig, sizeof e.sig);
	audit_event_check(c->s, &as_read, &hash_ok, &sig_ok);
	static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
	tv_add(t, A_BOLD, "  hash chain");
	tv_add(t, A_NORMAL, "  prev       %s", e.prev);
	if (e.seq == 1) {
		add_check(c, t, strcmp(e.prev, zeros) == 0, "the first event: all zeros",
		    "the first event's prev should be all zeros");
	} else if (read_event(c, e.seq - 1, &before) && before.found) {
		char why[96];
		snprintf(why, sizeof why, "the hash of event %lld", (long long)before.seq);
		add_check(c, t, strcmp(before.hash, e.prev) == 0, why, "differs from the hash of the "
		    "event before (deleted, inserted or rewritten)");
		free_event(&before);
	} else {
		add_check(c, t, false, "", "the event before it is missing (deleted)");
	}
	tv_add(t, A_NORMAL, "  hash       %s", e.hash);
	add_check(c, t, hash_ok, "recomputed from prev and the fields above", "does not match prev "
	    "and the fields above (edited)");
	tv_add(t, A_NORMAL, "  sig        %.64s", e.sig);
	if (strlen(e.sig) > 64)
		tv_add(t, A_NORMAL, "             %s", e.sig + 64);
	if (c->served)
		tv_add(t, A_NORMAL, "             not checked here: the public key is the server's "
		    "(arbiter audit verify on its host checks every signature)");
	else
		add_check(c, t, sig_ok, "Ed25519 over the hash, with the store's public key "
		    "(keys/audit.pub)", "does not verify with the store's public key (keys/audit.pub): "
		    "another key, or forged");
	add_chain(c, t, d->av, e.seq);
	free_event(&e);
}

static void open_selected(console *c, screen *sc)
{
	audit_view *av = sc->state;
	const arow *r = selected(av);
	if (r == NULL)
		return;
	detail *d = malloc(sizeof *d);
	if (d == NULL)
		abort();
	*d = (detail){ r->seq, av };
	console_push(c, textview_screen(c, "audit event", build_detail, d, free));
}

static void back(console *c, screen *sc)
{
	(void)sc;
	console_pop(c);
}

static const key_binding keys[] = {
	{ '\r', KEY_ENTER, "Enter", "details", list_open, false },
	{ 'e', 0, "e", "event filter", filter_event, false },
	{ 'a', 0, "a", "actor filter", filter_actor, false },
	{ 'i', 0, "i", "submission filter", filter_subject, false },
	{ 'c', 0, "c", "clear filters", clear_filters, false },
	{ 'v', 0, "v", "verify chain", verify, false },
	{ 'x', 0, "x", "export report", export_report, false },
	{ 'w', 0, "w", "write checkpoint", checkpoint, false },
	{ '#', 0, "#", "go to seq", go_to, false },
	{ 'j', KEY_DOWN, "j/Down", "older", list_down, false },
	{ 'k', KEY_UP, "k/Up", "newer", list_up, false },
	{ KEY_NPAGE, ' ', "PgDn", "page down", list_page_down, false },
	{ KEY_PPAGE, 'b', "PgUp", "page up", list_page_up, false },
	{ 'g', KEY_HOME, "g", "newest", list_first, false },
	{ 'G', KEY_END, "G", "oldest", list_last, false },
	{ 27, 'q', "Esc/q", "back", back, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

/* ---- drawing ---- */

static void draw_title(console *c, const audit_view *av, int y)
{
	char left[512], right[128], what[400];
	int attr = (int)A_NORMAL;
	filters_text(av, what, sizeof what);
	snprintf(left, sizeof left, " Audit log to seq %lld, newest first%s", (long long)av->head,
	    what);
	switch (av->chain) {
	case CHAIN_VERIFYING:
		snprintf(right, sizeof right, "%s... %d%% ", av->busy, av->percent);
		attr = console_attr(c, "warning");
		break;
	case CHAIN_OK:
		if (av->head > av->vr.head_seq)
			snprintf(right, sizeof right, "verified to seq %lld (%lld newer) ",
			    (long long)av->vr.head_seq, (long long)(av->head - av->vr.head_seq));
		else
			snprintf(right, sizeof right, "verified to seq %lld ", (long long)av->vr.head_seq);
		attr = console_attr(c, "allowed");
		break;
	case CHAIN_TAMPERED:
		snprintf(right, sizeof right, "TAMPERED at seq %lld ", (long long)av->vr.bad_seq);
		attr = console_attr(c, "critical");
		break;
	case CHAIN_ERROR:
		snprintf(right, sizeof right, "not verified: error (v retries) ");
		attr = console_attr(c, "critical");
		break;
	default:
		snprintf(right, sizeof right, "not verified: v verifies ");
		attr = console_attr(c, "warning");
		break;
	}
	move(y, 0);
	clrtoeol();
	int rw = (int)strlen(right);
	attrset(A_BOLD);
	put_clipped(y, 0, left, c->cols - rw - 1);
	attrset(attr | (int)A_BOLD);
	put_clipped(y, c->cols - rw > 0 ? c->cols - rw : 0, right, c->cols);
	attrset(A_NORMAL);
}

typedef struct columns {
	int ts, actor, event, subject, details;
} columns;

static columns layout(int cols)
{
	bool wide = cols >= 110;
	columns w = { wide ? 19 : 14, wide ? 12 : 10, 21, wide ? 12 : 6, 0 };
	w.details = cols - (8 + 1 + w.ts + 2 + w.actor + 1 + w.event + 1 + w.subject + 1);
	if (w.details < 0)
		w.details = 0;
	return w;
}

/* An event's line; the event seq a verification found bad in red. */
static void draw_row(console *c, screen *sc, const void *row, int y, bool sel)
{
	const audit_view *av = sc->state;
	const arow *r = row;
	columns w = layout(c->cols);
	bool bad = av->chain == CHAIN_TAMPERED && r->seq == av->vr.bad_seq;
	int base = sel ? (c->colour ? (int)COLOR_PAIR(PAIR_SEL) : (int)A_REVERSE) :
	    bad ? console_attr(c, "critical") : (int)A_NORMAL;
	attrset(base);
	char seq[24], ts[24];
	snprintf(seq, sizeof seq, "%s%7lld", bad ? "!" : " ", (long long)r->seq);
	/* 2026-11-21T07:03:12.345Z as 2026-11-21 07:03:12, or 11-21 07:03:12 */
	snprintf(ts, sizeof ts, "%.10s %.8s", r->ts, strlen(r->ts) > 11 ? r->ts + 11 : "");
	int x = 0;
	put_clipped(y, x, seq, 8); x += 9;
	put_clipped(y, x, w.ts == 19 ? ts : ts + 5, w.ts); x += w.ts + 2;
	put_escaped(y, x, r->actor, w.actor); x += w.actor + 1;
	if (!sel && !bad)
		attrset(event_attr(c, r->event));
	put_escaped(y, x, r->event, w.event); x += w.event + 1;
	attrset(base);
	put_escaped(y, x, r->subject[0] ? r->subject : "-", w.subject); x += w.subject + 1;
	put_escaped(y, x, r->details, w.details);
}

static void draw(console *c, screen *sc, int top, int height)
{
	audit_view *av = sc->state;
	av->body_top = top;
	draw_title(c, av, top);
	columns w = layout(c->cols);
	char line[512];
	snprintf(line, sizeof line, "%8s %-*s  %-*s %-*s %-*s %s", "SEQ", w.ts, "TIME", w.actor,
	    "ACTOR", w.event, "EVENT", w.subject, w.subject >= 7 ? "SUBJECT" : "SUBJ", "DETAILS");
	attrset(A_UNDERLINE);
	put_clipped(top + 1, 0, line, c->cols);
	attrset(A_NORMAL);
	if (!list_draw(c, sc, top + 2, height - 2))
		put_clipped(top + 3, 2, av->event[0] || av->actor[0] || av->subject[0] ?
		    "No events match these filters: c clears them." : "The audit log is empty.",
		    c->cols - 4);
}

static void destroy(screen *sc)
{
	audit_view *av = sc->state;
	list_free(&av->list);
	free(av);
}

screen *audit_screen(console *c)
{
	screen *sc = calloc(1, sizeof *sc);
	audit_view *av = calloc(1, sizeof *av);
	if (sc == NULL || av == NULL)
		abort();
	av->list = (list_view){ .src = &source, .ctx = av, .draw_row = draw_row,
		.open = open_selected };
	*sc = (screen){ .title = "audit log", .draw = draw, .reload = reload, .destroy = destroy,
		.keys = keys, .state = av, .list = &av->list };
	read_head(c, sc);
	return sc;
}
