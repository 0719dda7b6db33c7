/*
 * audit_page.c: the audit log a window at a time, for the console's browser,
 * and verification that reports how far it has got.
 *
 * A browser shows a few dozen events of a log that may hold millions, so it
 * reads only those: each page is one audit_read that starts beyond a seq
 * cursor and walks the primary key (or audit_event, audit_actor or
 * audit_subject, which end in seq) in either direction and stops at a LIMIT
 * (audit_filter.walk). This is keyset paging: the page at the millionth event
 * costs what the newest page costs.
 *
 * Progress: verification (and the export, which reads the log and then
 * verifies it) is a full scan of the audit table in seq order, and SQLite
 * counts the rows each running statement's full scan has stepped over
 * (SQLITE_STMTSTATUS_FULLSCAN_STEP). So audit_watched runs audit_verify or
 * the export unchanged under SQLite's progress handler and reports rows
 * scanned so far, a true measure of events done rather than a guess from
 * time. The handler may also stop the scan (SQLITE_INTERRUPT), which the
 * caller sees as a read error; it is consulted only as scanned rows grow, so
 * lookups by seq after a scan (audit_verify's signature checks) are never
 * stopped half-way.
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

void audit_cursor_filter(const audit_cursor *q, int64_t limit, audit_filter *f)
{
	*f = (audit_filter){ .limit = limit, .event = q->event, .actor = q->actor,
		.subject = q->subject, .oldest_first = !q->older, .walk = true };
	if (q->seq > 0 && q->older)
		f->before_seq = q->seq;
	else if (q->seq > 0)
		f->after_seq = q->seq;
}

bool audit_page(store *s, const audit_cursor *q, int64_t limit, audit_visit visit, void *ctx)
{
	audit_filter f;
	audit_cursor_filter(q, limit, &f);
	return audit_read(s, &f, visit, ctx);
}

typedef struct watch {
	sqlite3 *db;
	audit_progress fn;
	void *ctx;
	int64_t total, step, next;
	int64_t base, last;     /* rows of the scans that ended; of the running ones */
	bool stopped;
} watch;

static int on_progress(void *arg)
{
	watch *w = arg;
	int64_t rows = 0;
	for (sqlite3_stmt *st = sqlite3_next_stmt(w->db, NULL); st; st = sqlite3_next_stmt(w->db, st))
		if (sqlite3_stmt_busy(st))
			rows += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
	if (rows < w->last)     /* a scan ended (its statement is gone) and another began */
		w->base += w->last;
	w->last = rows;
	int64_t done = w->base + rows;
	if (done < w->next)
		return 0;
	w->next = done + w->step;
	if (w->fn(w->ctx, done < w->total ? done : w->total, w->total))
		return 0;
	w->stopped = true;
	return 1;
}

bool audit_watched(store *s, int64_t total, audit_progress progress, void *ctx,
    bool (*run)(store *s, void *arg), void *arg)
{
	if (progress == NULL)
		return run(s, arg);
	watch w = { .db = s->db, .fn = progress, .ctx = ctx, .total = total };
	w.step = total / 100 > 0 ? total / 100 : 1;
	w.next = w.step;
	sqlite3_progress_handler(s->db, 4096, on_progress, &w);
	bool ok = run(s, arg);
	sqlite3_progress_handler(s->db, 0, NULL, NULL);
	if (w.stopped) {
		snprintf(s->err, sizeof s->err, "stopped");
		return false;
	}
	return ok;
}

typedef struct verify_args {
	const unsigned char *pk;
	verify_result *r;
} verify_args;

static bool run_verify(store *s, void *arg)
{
	verify_args *v = arg;
	return audit_verify(s, v->pk, v->r);
}

bool audit_verify_progress(store *s, const unsigned char pk[32], verify_result *r,
    audit_progress progress, void *ctx)
{
	int64_t total;
	verify_args v = { pk, r };
	return audit_last_seq(s, &total) && audit_watched(s, total, progress, ctx, run_verify, &v);
}
