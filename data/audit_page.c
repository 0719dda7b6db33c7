/*
 * audit_page.c: the audit log a window at a time, for the console's browser,
 * and verification that reports how far it has got.
 *
 * A browser shows a few dozen events of a log that may hold millions, so it
 * reads only those: each page is one statement that starts beyond a seq
 * cursor and walks the primary key (or audit_event or audit_subject, which
 * end in seq) in either direction and stops at a LIMIT. This is keyset
 * paging: the page at the millionth event costs what the newest page costs.
 * audit_read cannot serve it: its after_seq always ends at the newest event
 * (tail), while scrolling needs the events just before or just after a seq.
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

#include "store.h"

static const char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

bool audit_page(store *s, const audit_cursor *q, int64_t limit, audit_visit visit, void *ctx)
{
	char sql[512], where[192] = "";
	size_t w = 0;
	const char *conds[4];
	int n = 0;
	if (q->event)
		conds[n++] = "event = ?";
	if (q->actor)
		conds[n++] = "actor = ?";
	if (q->subject)
		conds[n++] = "subject = ?";
	if (q->seq > 0)
		conds[n++] = q->older ? "seq < ?" : "seq > ?";
	for (int i = 0; i < n; i++)
		w += (size_t)snprintf(where + w, sizeof where - w, "%s%s", i ? " AND " : " WHERE ",
		    conds[i]);
	snprintf(sql, sizeof sql, "SELECT seq, ts, actor, event, subject, details, prev, hash, sig "
	    "FROM audit%s ORDER BY seq %s LIMIT ?", where, q->older ? "DESC" : "ASC");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log");
	int b = 1;
	if (q->event)
		sqlite3_bind_text(st, b++, q->event, -1, SQLITE_STATIC);
	if (q->actor)
		sqlite3_bind_text(st, b++, q->actor, -1, SQLITE_STATIC);
	if (q->subject)
		sqlite3_bind_text(st, b++, q->subject, -1, SQLITE_STATIC);
	if (q->seq > 0)
		sqlite3_bind_int64(st, b++, q->seq);
	sqlite3_bind_int64(st, b, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		audit_event e = { .seq = sqlite3_column_int64(st, 0) };
		snprintf(e.ts, sizeof e.ts, "%s", col(st, 1));
		e.actor = col(st, 2);
		e.event = col(st, 3);
		e.subject = col(st, 4);
		e.details = col(st, 5);
		snprintf(e.prev, sizeof e.prev, "%s", col(st, 6));
		snprintf(e.hash, sizeof e.hash, "%s", col(st, 7));
		snprintf(e.sig, sizeof e.sig, "%s", col(st, 8));
		if (!visit(&e, ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	bool ok = rc == SQLITE_DONE || store_fail(s, "cannot read the audit log");
	sqlite3_finalize(st);
	return ok;
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
