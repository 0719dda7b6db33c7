/*
 * evidence_store.c: a submission's row against its signed events, on a
 * store opened here; the override approvals the chain proves; and the
 * audit of a mismatch (PRODUCT.md sections 4, 6 and 7).
 *
 * The row is what every command reads; the events are what was signed. So
 * before a status is reported as allowing, or a submission is decided or
 * evaluated again, the last event that set its status is read (by subject,
 * through the audit_subject index: the events about one submission, newest
 * first, not the log) and judged by evidence.c. A mismatch is the store
 * having been written around arbiter: the caller refuses with OUT_TAMPERED
 * and audits state.tamper in a transaction of its own (op_tamper_record),
 * once per distinct mismatch, so that a console redrawing a tampered
 * submission does not fill the log.
 *
 * A reevaluation evaluates the document the row keeps, which is as easy to
 * swap as a status: before it does, the document's digest is computed
 * again and must be the one the signed submission.create names
 * (evidence_document), so that a harmless document put in its place can
 * never earn an allow for the original's digest.
 *
 * The two-person rule counts override.partial events, not rows of the
 * decisions table: an approval without its signed event (a row inserted by
 * hand) counts for nothing.
 *
 * The keys: each event is checked with the key in force at its seq, from
 * the store's first key through the chain's key.rotate events (the
 * connection's ring, store_keyring). A rotation that does not hold (made
 * without the key in force) proves no status: every check fails closed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_impl.h"

static const char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

/* One audit row (seq, ts, actor, event, subject, details, prev, hash, sig)
 * into e, its strings in a. */
static void read_event(sqlite3_stmt *st, arena *a, audit_event *e)
{
	memset(e, 0, sizeof *e);
	e->seq = sqlite3_column_int64(st, 0);
	snprintf(e->ts, sizeof e->ts, "%s", col(st, 1));
	e->actor = arena_strdup(a, col(st, 2));
	e->event = arena_strdup(a, col(st, 3));
	e->subject = arena_strdup(a, col(st, 4));
	e->details = arena_strdup(a, col(st, 5));
	snprintf(e->prev, sizeof e->prev, "%s", col(st, 6));
	snprintf(e->hash, sizeof e->hash, "%s", col(st, 7));
	snprintf(e->sig, sizeof e->sig, "%s", col(st, 8));
}

#define EVENT_COLUMNS "seq, ts, actor, event, subject, details, prev, hash, sig"

/* The keys events are checked with: the store's ring (keyring_store.c). 1,
 * 0 (a rotation that does not hold: why), -1 error. */
static int signing_keys(store *s, const keyring **ring, char *why, size_t len)
{
	int r = store_keyring(s, ring, why, len);
	if (r == 0) {
		char cause[320];
		snprintf(cause, sizeof cause, "%.300s", why);
		snprintf(why, len, "the store's keys cannot be followed (%s): no status can be proven",
		    cause);
	}
	return r;
}

/* The newest event about submission subject among names (SQL list), or the
 * oldest with oldest: 1 into e, 0 none, -1 error. */
static int event_about(store *s, const char *subject, const char *names, bool oldest, arena *a,
    audit_event *e)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT " EVENT_COLUMNS " FROM audit WHERE subject = ? AND event "
	    "IN (%s) ORDER BY seq %s LIMIT 1", names, oldest ? "ASC" : "DESC");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log"), -1;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_event(st, a, e);
	else if (rc != SQLITE_DONE)
		store_fail(s, "cannot read the audit log");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void put_event(strbuf *b, const audit_event *e)
{
	if (!audit_event_write(b, e))
		abort();
}

int evidence_check(store *s, const evidence_want *want, strbuf *events, char *why, size_t len)
{
	const keyring *ring;
	int key = signing_keys(s, &ring, why, len);
	if (key <= 0)
		return key;
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)want->id);
	arena *a = arena_new();
	audit_event set, create;
	int found = event_about(s, subject, evidence_setters_sql, false, a, &set);
	int created = found == 1 && evidence_needs_create(&set) ?
	    event_about(s, subject, "'submission.create'", true, a, &create) : 0;
	int held = -1;
	if (found >= 0 && created >= 0)
		held = evidence_judge(found == 1 ? &set : NULL, created == 1 ? &create : NULL, ring, want,
		    why, len) ? 1 : 0;
	if (held == 1 && events != NULL) {
		events->n = 0;
		sb_puts(events, "[");
		put_event(events, &set);
		if (created == 1) {
			sb_puts(events, ",");
			put_event(events, &create);
		}
		sb_puts(events, "]");
	}
	arena_free(a);
	return held;
}

int evidence_of(store *s, int64_t id, bool allowing_only, strbuf *events, char status[16],
    char *why, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT " EFFECTIVE_STATUS ", digest, expires_at FROM "
	    "submissions WHERE id = :id", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the submission"), -1;
	store_bind_now(st);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			snprintf(why, len, "no submission %lld", (long long)id);
		else
			store_fail(s, "cannot read the submission");
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -2 : -1;
	}
	char digest[65], expires[40];
	snprintf(status, 16, "%s", col(st, 0));
	snprintf(digest, sizeof digest, "%s", col(st, 1));
	snprintf(expires, sizeof expires, "%s", col(st, 2));
	bool has_expiry = sqlite3_column_type(st, 2) != SQLITE_NULL;
	bool has_digest = sqlite3_column_type(st, 1) != SQLITE_NULL;
	sqlite3_finalize(st);
	if (events != NULL)
		events->n = 0;
	if (allowing_only && status_outcome(status_parse(status)) != OUT_OK)
		return 1;
	evidence_want want = { .id = id, .status = status, .digest = has_digest ? digest : NULL,
		.expires_at = has_expiry ? expires : NULL };
	return evidence_check(s, &want, events, why, len);
}

/* ---- the two-person rule ---- */

int evidence_partials(store *s, int64_t id, const char *digest, const char *who, bool *mine,
    int64_t *earliest)
{
	*mine = false;
	*earliest = 0;
	const keyring *ring;
	char why[512];
	int key = signing_keys(s, &ring, why, sizeof why);
	if (key <= 0)
		return key;     /* keys that cannot be followed prove no approval */
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)id);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT " EVENT_COLUMNS " FROM audit WHERE subject = ? AND "
	    "event IN ('submission.create', 'submission.reevaluate', 'override.partial') ORDER BY seq",
	    -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log"), -1;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	arena *a = arena_new();
	const char *names[64];
	int n = 0;
	int64_t soonest = 0, now = now_ms();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		audit_event e;
		read_event(st, a, &e);
		if (strcmp(e.event, "override.partial") != 0) {
			n = 0;          /* evaluated again: approvals start over */
			soonest = 0;
			continue;
		}
		bool hash_ok, sig_ok;
		keyring_event_verify(ring, &e, &hash_ok, &sig_ok);
		json_t *d = json_loads(e.details, 0, NULL);
		const char *until = json_string_value(json_object_get(d, "expires_at"));
		const char *named = json_string_value(json_object_get(d, "digest"));
		int64_t until_ms = 0;
		bool live = hash_ok && sig_ok && until != NULL && parse_time(until, &until_ms) &&
		    until_ms > now && (named == NULL || (digest != NULL && strcmp(named, digest) == 0));
		json_decref(d);
		int k = 0;
		while (k < n && strcasecmp(names[k], e.actor) != 0)
			k++;
		if (!live || k < n || n == (int)(sizeof names / sizeof names[0]))
			continue;
		names[n++] = e.actor;
		if (soonest == 0 || until_ms < soonest)
			soonest = until_ms;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		arena_free(a);
		return store_fail(s, "cannot read the audit log"), -1;
	}
	for (int k = 0; k < n; k++)
		*mine |= strcasecmp(names[k], who) == 0;
	*earliest = soonest;
	arena_free(a);
	return n;
}

/* ---- a mismatch: refused, and audited ---- */

outcome evidence_refusal(op_reply *r, int64_t id, const char *why)
{
	return op_say(r, OUT_TAMPERED, "submission %lld: state does not match the audit chain: %s",
	    (long long)id, why);
}

outcome op_tamper_record(store *s, const char *actor, int64_t id, const char *status,
    const char *why, op_reply *r)
{
	memset(r, 0, sizeof *r);
	if (s->remote)
		return OUT_OK;          /* the server found it, and audited it */
	json_t *d = json_pack("{s:s,s:s}", "mismatch", why, "status", status);
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	if (text == NULL)
		return op_say(r, OUT_IO_ERROR, "out of memory");
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)id);
	/* once per distinct mismatch: the newest state.tamper about it says
	 * whether this one is known */
	arena *a = arena_new();
	audit_event last;
	int known = event_about(s, subject, "'state.tamper'", false, a, &last);
	bool same = known == 1 && strcmp(last.details, text) == 0;
	arena_free(a);
	outcome o = OUT_OK;
	if (known < 0)
		o = op_say(r, OUT_IO_ERROR, "%s", s->err);
	else if (!same && op_begin(s, r) == OUT_OK) {
		if (audit_append_text(s, actor, "state.tamper", subject, text))
			o = op_commit(s, r);
		else
			o = op_failed(s, r);
	} else if (!same) {
		o = r->out;
	}
	free(text);
	return o;
}

outcome op_evidence_event(store *s, int64_t seq, strbuf *events, op_reply *r)
{
	memset(r, 0, sizeof *r);
	audit_event kept;
	if (audit_signer_committed(s, seq, &kept)) {
		/* just committed by this connection: as its row has it */
		events->n = 0;
		sb_puts(events, "[");
		put_event(events, &kept);
		sb_puts(events, "]");
		return OUT_OK;
	}
	sqlite3_stmt *st = store_stmt(s, SQL_AUDIT_AT, "SELECT " EVENT_COLUMNS " FROM audit WHERE "
	    "seq = ?");
	if (st == NULL)
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	sqlite3_bind_int64(st, 1, seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		arena *a = arena_new();
		audit_event e;
		read_event(st, a, &e);
		events->n = 0;
		sb_puts(events, "[");
		put_event(events, &e);
		sb_puts(events, "]");
		arena_free(a);
	} else if (rc != SQLITE_DONE) {
		store_fail(s, "cannot read the audit log");
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return OUT_OK;
	return op_say(r, rc == SQLITE_DONE ? OUT_NOT_FOUND : OUT_IO_ERROR, "%s", rc == SQLITE_DONE ?
	    "no such event" : s->err);
}

outcome op_evidence(store *s, int64_t id, strbuf *events, char status[16], char *why,
    size_t len, op_reply *r)
{
	memset(r, 0, sizeof *r);
	int held = evidence_of(s, id, true, events, status, why, len);
	if (held == 1)
		return OUT_OK;
	if (held == 0)
		return evidence_refusal(r, id, why);
	if (held == -2)
		return op_say(r, OUT_NOT_FOUND, "no submission %lld", (long long)id);
	int code = sqlite3_errcode(s->db) & 0xff;
	return op_say(r, code == SQLITE_BUSY || code == SQLITE_LOCKED ? OUT_BUSY : OUT_IO_ERROR, "%s",
	    s->err);
}

/* ---- the document a submission is evaluated from ---- */

int evidence_document(store *s, int64_t id, const char *digest, const char *row_digest,
    char *why, size_t len)
{
	const keyring *ring;
	int key = signing_keys(s, &ring, why, len);
	if (key <= 0)
		return key;
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)id);
	arena *a = arena_new();
	audit_event create;
	int found = event_about(s, subject, "'submission.create'", true, a, &create);
	int held = found < 0 ? -1 : 1;
	char named[65] = "";
	bool hash_ok = false, sig_ok = false;
	if (found == 1)
		keyring_event_verify(ring, &create, &hash_ok, &sig_ok);
	if (found == 0) {
		held = 0;
		snprintf(why, len, "no submission.create event created it");
	} else if (found == 1 && (!hash_ok || !sig_ok)) {
		held = 0;
		snprintf(why, len, "its submission.create (event %lld) %s", (long long)create.seq,
		    !hash_ok ? "does not hash to its hash (altered)" : "is not signed with the "
		    "public key");
	} else if (found == 1) {
		json_t *d = json_loads(create.details, JSON_ALLOW_NUL, NULL);
		const char *v = json_string_value(json_object_get(d, "digest"));
		snprintf(named, sizeof named, "%s", v ? v : "");
		json_decref(d);
	}
	/* created before digests were signed: the one a migration computed */
	const char *want = named[0] ? named : row_digest;
	if (held == 1 && (want == NULL || strcmp(want, digest) != 0)) {
		held = 0;
		if (named[0])
			snprintf(why, len, "its stored document has digest %.64s, but its signed "
			    "submission.create (event %lld) names %.64s", digest, (long long)create.seq,
			    named);
		else
			snprintf(why, len, "its stored document has digest %.64s, but its row says %.64s",
			    digest, want ? want : "none");
	}
	arena_free(a);
	return held;
}
