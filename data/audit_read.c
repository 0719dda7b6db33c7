/*
 * audit_read.c: reading the audit log for audit list, tail and export.
 *
 * Reads never load the log: audit_read steps one SQLite statement and hands
 * each row to a callback, so a million events cost one row of memory. The
 * filters are bound parameters on one statement whose ORDER BY seq DESC LIMIT
 * lets SQLite walk an index backwards and stop early: audit_event (event, seq)
 * and audit_subject (subject, seq) serve --event and --subject, the primary
 * key serves the rest. Timestamps are fixed-width RFC 3339 UTC text, so
 * "since" is a string comparison.
 *
 * The export's summary counts submission.create events by their details
 * (action, status, finding counts) with SQLite's JSON functions, in one
 * grouped query over the audit_event index rather than a parse per event.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static const char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

bool audit_read(store *s, const audit_filter *f, audit_visit visit, void *ctx)
{
	char sql[768], where[256] = "";
	size_t w = 0;
	const char *conds[6];
	int n = 0;
	if (f->event)
		conds[n++] = "event = ?";
	if (f->actor)
		conds[n++] = "actor = ?";
	if (f->subject)
		conds[n++] = "subject = ?";
	if (f->since)
		conds[n++] = "ts >= ?";
	if (f->after_seq > 0)
		conds[n++] = "seq > ?";
	if (f->before_seq > 0)
		conds[n++] = "seq < ?";
	for (int i = 0; i < n; i++)
		w += (size_t)snprintf(where + w, sizeof where - w, "%s%s", i ? " AND " : " WHERE ",
		    conds[i]);
	const char *cols = "seq, ts, actor, event, subject, details, prev, hash, sig";
	if (f->limit > 0 && f->walk)
		snprintf(sql, sizeof sql, "SELECT %s FROM audit%s ORDER BY seq %s LIMIT ?", cols, where,
		    f->oldest_first ? "ASC" : "DESC");
	else if (f->limit > 0 && f->oldest_first)
		snprintf(sql, sizeof sql, "SELECT * FROM (SELECT %s FROM audit%s ORDER BY seq DESC "
		    "LIMIT ?) ORDER BY seq", cols, where);
	else if (f->limit > 0)
		snprintf(sql, sizeof sql, "SELECT %s FROM audit%s ORDER BY seq DESC LIMIT ?", cols, where);
	else
		snprintf(sql, sizeof sql, "SELECT %s FROM audit%s ORDER BY seq %s", cols, where,
		    f->oldest_first ? "ASC" : "DESC");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log");
	int b = 1;
	if (f->event)
		sqlite3_bind_text(st, b++, f->event, -1, SQLITE_STATIC);
	if (f->actor)
		sqlite3_bind_text(st, b++, f->actor, -1, SQLITE_STATIC);
	if (f->subject)
		sqlite3_bind_text(st, b++, f->subject, -1, SQLITE_STATIC);
	if (f->since)
		sqlite3_bind_text(st, b++, f->since, -1, SQLITE_STATIC);
	if (f->after_seq > 0)
		sqlite3_bind_int64(st, b++, f->after_seq);
	if (f->before_seq > 0)
		sqlite3_bind_int64(st, b++, f->before_seq);
	if (f->limit > 0)
		sqlite3_bind_int64(st, b++, f->limit);
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

/* A JSON string of text; bytes that are not UTF-8 (only in a tampered or
 * hand-edited log) become '?' rather than losing the field. */
static json_t *jstr(const char *text)
{
	json_t *j = json_string(text);
	if (j != NULL)
		return j;
	char *copy = strdup(text);
	if (copy == NULL)
		abort();
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *audit_event_json(const audit_event *e)
{
	json_t *details = json_loads(e->details, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (details == NULL)    /* not JSON (only in a tampered log): keep the text */
		details = jstr(e->details);
	json_t *o = json_object();
	json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
	json_object_set_new(o, "ts", jstr(e->ts));
	json_object_set_new(o, "actor", jstr(e->actor));
	json_object_set_new(o, "event", jstr(e->event));
	json_object_set_new(o, "subject", jstr(e->subject));
	json_object_set_new(o, "details", details);
	json_object_set_new(o, "prev", jstr(e->prev));
	json_object_set_new(o, "hash", jstr(e->hash));
	json_object_set_new(o, "sig", jstr(e->sig));
	return o;
}

json_t *audit_summary(store *s, int64_t events)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(json_extract(details, '$.action'), ''), "
	    "count(*), total(json_extract(details, '$.status') = 'blocked'), "
	    "total(json_extract(details, '$.counts.info')), "
	    "total(json_extract(details, '$.counts.warning')), "
	    "total(json_extract(details, '$.counts.critical')) "
	    "FROM audit WHERE event = 'submission.create' AND json_valid(details) "
	    "GROUP BY 1 ORDER BY 1", -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "cannot summarise the audit log");
		return NULL;
	}
	json_t *per_action = json_object();
	json_int_t info = 0, warning = 0, critical = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object_set_new(per_action, col(st, 0), json_pack("{s:I,s:I}",
		    "runs", (json_int_t)sqlite3_column_int64(st, 1),
		    "blocks", (json_int_t)sqlite3_column_int64(st, 2)));
		info += (json_int_t)sqlite3_column_int64(st, 3);
		warning += (json_int_t)sqlite3_column_int64(st, 4);
		critical += (json_int_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(per_action);
		store_fail(s, "cannot summarise the audit log");
		return NULL;
	}
	return json_pack("{s:I,s:{s:I,s:I,s:I},s:o}", "events", (json_int_t)events, "totals",
	    "info", info, "warning", warning, "critical", critical, "per_action", per_action);
}

bool audit_last_seq(store *s, int64_t *seq)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq), 0) FROM audit", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_fail(s, "cannot read the audit log");
	bool ok = sqlite3_step(st) == SQLITE_ROW || store_fail(s, "cannot read the audit log");
	if (ok)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ok;
}


