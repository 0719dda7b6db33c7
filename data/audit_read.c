/*
 * audit_read.c: reading the audit log for audit list, tail and export.
 *
 * Reads never load the log: audit_read steps one SQLite statement and hands
 * each row to a callback, so a million events cost one row of memory. The
 * filters are bound parameters on one statement whose ORDER BY seq DESC LIMIT
 * lets SQLite walk an index backwards and stop early: audit_event (event, seq)
 * audit_actor (actor, seq) and audit_subject (subject, seq) serve --event,
 * --actor and --subject, the primary key serves the rest. A time window is a
 * range of seqs (ranges.c: time grows with seq), so a window that holds no
 * event is not a walk over the log; each event's ts (fixed-width RFC 3339
 * UTC text) is still compared. --action names the submissions whose action
 * its glob matches (through submissions_action, ranges.c): when they are
 * few, their own events are read by subject (audit_subject) and sorted;
 * when many, the log is walked and each event's submission looked up, as
 * one event in a few is then about one of them.
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

/* A statement's parameters, bound in order once its text is complete. */
typedef struct binds {
	struct { const char *text; int64_t n; } v[80];
	int n;
} binds;

static void bind_text(binds *b, strbuf *sql, const char *cond, const char *text)
{
	sb_puts(sql, cond);
	b->v[b->n].text = text;
	b->v[b->n++].n = 0;
}

static void bind_int(binds *b, strbuf *sql, const char *cond, int64_t n)
{
	sb_puts(sql, cond);
	b->v[b->n].text = NULL;
	b->v[b->n++].n = n;
}

/* Submissions whose action is one of the values, or matches the glob. */
static void action_cond(binds *b, strbuf *sql, const audit_filter *f, const glob_values *actions)
{
	if (actions->many) {
		bind_text(b, sql, "arbiter_glob(?, action)", f->action);
		return;
	}
	sb_puts(sql, "action IN (");
	for (size_t i = 0; i < actions->n; i++)
		bind_text(b, sql, i ? ", ?" : "?", actions->v[i]);
	sb_puts(sql, ")");
}

/* Submissions counted before --action is read from the log instead of from
 * the submissions' own events. */
enum { FEW_SUBJECTS = 1000 };

/* Whether at most FEW_SUBJECTS submissions have one of the actions: 1 or
 * 0, -1 on error. */
static int few_subjects(store *s, const audit_filter *f, const glob_values *actions)
{
	strbuf sql = { 0 };
	binds b = { .n = 0 };
	sb_puts(&sql, "SELECT count(*) FROM (SELECT 1 FROM submissions INDEXED BY "
	    "submissions_action WHERE ");
	action_cond(&b, &sql, f, actions);
	char tail[48];
	snprintf(tail, sizeof tail, " LIMIT %d)", FEW_SUBJECTS + 1);
	sb_puts(&sql, tail);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql.s, (int)sql.n, &st, NULL);
	free(sql.s);
	if (rc != SQLITE_OK)
		return store_fail(s, "cannot read the audit log"), -1;
	for (int i = 0; i < b.n; i++)
		sqlite3_bind_text(st, i + 1, b.v[i].text, -1, SQLITE_STATIC);
	int few = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		few = sqlite3_column_int(st, 0) <= FEW_SUBJECTS;
	else
		store_fail(s, "cannot read the audit log");
	sqlite3_finalize(st);
	return few;
}

/* The events that are about a submission: their subject is its id. */
#define ABOUT_SUBMISSIONS "(event GLOB 'submission.*' OR event GLOB 'decision.*' OR " \
	"event GLOB 'override.*')"

bool audit_read(store *s, const audit_filter *f, audit_visit visit, void *ctx)
{
	glob_values actions = { 0 };
	int few = 0;
	if (f->action != NULL) {
		if (!glob_values_find(s, "submissions", "action", "submissions_action", f->action, 64,
		    &actions))
			return false;
		if (!actions.many && actions.n == 0)
			return true;    /* no submission has such an action */
		few = actions.many ? 0 : few_subjects(s, f, &actions);
		if (few < 0 || (actions.many && !glob_function(s))) {
			glob_values_free(&actions);
			return false;
		}
	}
	int64_t lo = 0, hi = 0;
	if (f->since_ms != 0 || f->until_ms != 0) {
		static const time_column ts = { "audit", "seq", "ts", true };
		if (!time_keys(s, &ts, f->since_ms, f->until_ms, &lo, &hi)) {
			glob_values_free(&actions);
			return false;
		}
		if (lo > hi) {
			glob_values_free(&actions);
			return true;
		}
	}
	char since[32], until[32];
	if (f->since_ms != 0)
		format_time(f->since_ms, since);
	if (f->until_ms != 0)
		format_time(f->until_ms, until);

	strbuf sql = { 0 };
	binds b = { .n = 0 };
	/* a few submissions' events are read by their subjects and sorted;
	 * else the log is walked and each event's submission looked up */
	sb_puts(&sql, "SELECT seq, ts, actor, event, subject, details, prev, hash, sig FROM audit");
	sb_puts(&sql, few > 0 ? " INDEXED BY audit_subject WHERE 1" : " WHERE 1");
	if (f->event)
		bind_text(&b, &sql, " AND event = ?", f->event);
	if (f->actor)
		bind_text(&b, &sql, " AND actor = ?", f->actor);
	if (f->subject)
		bind_text(&b, &sql, " AND subject = ?", f->subject);
	if (f->since_ms != 0) {
		bind_int(&b, &sql, " AND seq >= ?", lo);
		bind_text(&b, &sql, " AND ts >= ?", since);
	}
	if (f->until_ms != 0) {
		bind_int(&b, &sql, " AND seq <= ?", hi);
		bind_text(&b, &sql, " AND ts <= ?", until);
	}
	if (f->after_seq > 0)
		bind_int(&b, &sql, " AND seq > ?", f->after_seq);
	if (f->before_seq > 0)
		bind_int(&b, &sql, " AND seq < ?", f->before_seq);
	if (f->action != NULL) {
		sb_puts(&sql, " AND " ABOUT_SUBMISSIONS " AND ");
		if (few > 0) {
			sb_puts(&sql, "subject IN (SELECT CAST(id AS TEXT) FROM submissions WHERE ");
			action_cond(&b, &sql, f, &actions);
			sb_puts(&sql, ")");
		} else {
			sb_puts(&sql, "EXISTS (SELECT 1 FROM submissions WHERE id = CAST(audit.subject AS "
			    "INTEGER) AND CAST(id AS TEXT) = audit.subject AND ");
			action_cond(&b, &sql, f, &actions);
			sb_puts(&sql, ")");
		}
	}
	/* with a limit, the newest N unless walking on from after_seq */
	if (f->limit > 0)
		bind_int(&b, &sql, f->walk && f->oldest_first ? " ORDER BY seq ASC LIMIT ?" :
		    " ORDER BY seq DESC LIMIT ?", f->limit);
	else
		sb_puts(&sql, f->oldest_first ? " ORDER BY seq ASC" : " ORDER BY seq DESC");
	char *text = sql.s;
	if (f->limit > 0 && f->oldest_first && !f->walk) {
		/* the newest N, printed oldest first */
		strbuf outer = { 0 };
		sb_puts(&outer, "SELECT * FROM (");
		sb_puts(&outer, sql.s);
		sb_puts(&outer, ") ORDER BY seq");
		free(sql.s);
		text = outer.s;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, text, -1, &st, NULL);
	free(text);
	if (rc != SQLITE_OK) {
		glob_values_free(&actions);
		return store_fail(s, "cannot read the audit log");
	}
	for (int i = 0; i < b.n; i++) {
		if (b.v[i].text != NULL)
			sqlite3_bind_text(st, i + 1, b.v[i].text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, i + 1, b.v[i].n);
	}
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
	glob_values_free(&actions);
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

/* Whether text is valid UTF-8, and (controls false) holds no control
 * character. */
static bool utf8_text(const char *d, size_t n, bool controls)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)d[i];
		if (!controls && (c < 0x20 || c == 0x7F))
			return false;
		size_t len = c < 0x80 ? 1 : utf8_char_len(d + i, n - i);
		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

/* Whether an event can be written straight (audit_event_text): its texts
 * in valid UTF-8, as jansson takes them, and its details the text arbiter's
 * writers make (jansson's compact JSON, or the same from the one string
 * escaper): an object without a control character. Anything else, only in a
 * log written around arbiter, goes through jansson (audit_event_json), which
 * reads the details or keeps them as a string. */
static bool as_written(const audit_event *e)
{
	const char *texts[] = { e->ts, e->actor, e->event, e->subject, e->prev, e->hash, e->sig };
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (!utf8_text(texts[i], strlen(texts[i]), true))
			return false;
	size_t n = strlen(e->details);
	return n >= 2 && e->details[0] == '{' && e->details[n - 1] == '}' &&
	    utf8_text(e->details, n, false);
}

/* The event as audit_event_json gives it, written straight into a buffer
 * (audit list and tail --json, the API's listings and stream, an answer's
 * evidence): the same bytes as jansson's compact text of that object, which
 * a unit test holds it to (test_store_audit.c). */
bool audit_event_write(strbuf *b, const audit_event *e)
{
	if (!as_written(e)) {
		json_t *o = audit_event_json(e);
		char *text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (text == NULL)
			return false;
		sb_puts(b, text);
		free(text);
		return true;
	}
	sb_puts(b, "{\"seq\":");
	sb_put_int(b, e->seq);
	sb_puts(b, ",\"ts\":");
	const char *texts[] = { e->ts, e->actor, e->event, e->subject };
	static const char *const after[] = { ",\"actor\":", ",\"event\":", ",\"subject\":",
		",\"details\":" };
	for (int i = 0; i < 4; i++) {
		sb_put_json_string(b, texts[i]);
		sb_puts(b, after[i]);
	}
	sb_puts(b, e->details);
	sb_puts(b, ",\"prev\":");
	sb_put_json_string(b, e->prev);
	sb_puts(b, ",\"hash\":");
	sb_put_json_string(b, e->hash);
	sb_puts(b, ",\"sig\":");
	sb_put_json_string(b, e->sig);
	sb_puts(b, "}");
	return true;
}

char *audit_event_text(const audit_event *e)
{
	strbuf b = { 0 };
	if (!audit_event_write(&b, e)) {
		free(b.s);
		return NULL;
	}
	return b.s;
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
	/* prepared once: a server asks after every commit */
	sqlite3_stmt *st = store_stmt(s, SQL_AUDIT_LAST, "SELECT coalesce(max(seq), 0) FROM audit");
	if (st == NULL)
		return store_fail(s, "cannot read the audit log");
	bool ok = sqlite3_step(st) == SQLITE_ROW || store_fail(s, "cannot read the audit log");
	if (ok)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return ok;
}


