/*
 * verify_rows.c: each checked table read once, in its key order, against
 * what the events said (verify_tables.c): policy_versions, reviewers,
 * agents, submissions (and status_counts, which counts them), findings,
 * decisions. The first row that differs is named: its table, its key, the
 * column, and the event that says otherwise. A row no event wrote, and an
 * event's row that is missing, are named too.
 *
 * Submissions are merge-joined with the expectations by submission id, in
 * one scan that reads each row's findings column with it (hashed as it
 * comes: the submissions table, the largest, is read once); the
 * decisions are paired with their events in order, as each decision's row
 * and event are written in one transaction. Only a mismatch reads an event
 * again (by seq, or a submission's by subject through audit_subject), to
 * say what it held.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_impl.h"

/* What is read of each table, in the order checked: tables_read lists
 * them for the bench's floor (bench_store.c), which reads the same. */
#define READ_PINS "SELECT version, actor, justification, files FROM policy_versions ORDER BY " \
	"version"
#define READ_REVIEWERS "SELECT name, login, uid, token_hash IS NOT NULL, role, disabled FROM " \
	"reviewers ORDER BY name"
#define READ_AGENTS "SELECT name, login, uid, token_hash IS NOT NULL, rate, revoked_at IS NOT " \
	"NULL, actor FROM agents ORDER BY name"
#define READ_SUBMISSIONS "SELECT id, action, kind, ref, digest, submitter, content_hash, " \
	"status, policy_version, info, warning, critical, expires_at, document, findings FROM " \
	"submissions ORDER BY id"
#define READ_STATUS_COUNTS "SELECT status, n FROM status_counts"
#define READ_FINDING_POLICIES "SELECT policy, submission_id, critical, warning, info FROM " \
	"finding_policies"
#define READ_DECISIONS "SELECT id, submission_id, reviewer, decision, note, expires_at FROM " \
	"decisions ORDER BY id"

const char *const tables_read[] = { READ_PINS, READ_REVIEWERS, READ_AGENTS, READ_SUBMISSIONS,
	READ_STATUS_COUNTS, READ_FINDING_POLICIES, READ_DECISIONS, NULL };

enum { ROWS_PER_CALL = 256 };

/* sqlite3_step of a table's scan; every ROWS_PER_CALL rows of the scans,
 * the caller's on_rows runs first (tables_on_rows). */
static int rows_step(table_check *t, sqlite3_stmt *st)
{
	if (t->on_rows != NULL && ++t->rows_read % ROWS_PER_CALL == 0)
		t->on_rows(t->on_rows_ctx);
	return sqlite3_step(st);
}

static bool mismatch(verify_result *r, int64_t seq, const char *fmt, ...) ATTR_PRINTF(3, 4);
static bool mismatch(verify_result *r, int64_t seq, const char *fmt, ...)
{
	r->ok = false;
	r->tables = true;
	r->bad_seq = seq;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	return true;
}

static text_span col_span(sqlite3_stmt *st, int i)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	return (text_span){ p, p ? (size_t)sqlite3_column_bytes(st, i) : 0 };
}

static bool same(text_span a, text_span b)
{
	if (a.p == NULL || b.p == NULL)
		return a.p == b.p;
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static bool same_str(text_span a, const char *b)
{
	return same(a, (text_span){ b, b ? strlen(b) : 0 });
}

/* "text" quoted, or NULL, for a message. */
static const char *quoted(char *out, size_t len, text_span v)
{
	char inner[80];
	if (v.p == NULL)
		return "NULL";
	shown(inner, sizeof inner, v.p, v.n);
	snprintf(out, len, "\"%s\"", inner);
	return out;
}

static bool prepare(store *s, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ||
	    store_fail(s, "cannot read the tables to verify them");
}

static bool stepped(store *s, sqlite3_stmt *st, int rc)
{
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || store_fail(s, "cannot read the tables to verify them");
}

/* The event at seq, or the first of name about subject (seq 0), scanned
 * into d (which keeps its text); its seq, or 0 when there is none. */
static int64_t event_again(table_check *t, int64_t seq, const char *name, int64_t subject,
    details *d)
{
	sqlite3_stmt *st;
	int64_t found = 0;
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)subject);
	if (sqlite3_prepare_v2(t->s->db, seq == 0 ? "SELECT seq, details FROM audit WHERE "
	    "subject = ?1 AND event = ?2 ORDER BY seq LIMIT 1" : "SELECT seq, details FROM audit "
	    "WHERE seq = ?3", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (seq == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(st, 3, seq);
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		d->text_owned = strdup(text ? text : "");
		if (d->text_owned != NULL && details_scan(d->text_owned, d))
			found = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return found;
}

static void event_done(details *d)
{
	free(d->text_owned);
	d->text_owned = NULL;
	details_free(d);
}

/* ---- policy_versions ---- */

static bool check_pins(table_check *t, verify_result *r)
{
	sqlite3_stmt *st;
	if (!prepare(t->s, READ_PINS, &st))
		return false;
	int rc;
	char a[100], b[100];
	while (r->ok && (rc = rows_step(t, st)) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);
		pin_expect *x = NULL;
		for (size_t i = 0; i < t->npins && x == NULL; i++)
			if (t->pins[i].version == v)
				x = &t->pins[i];
		if (x == NULL) {
			mismatch(r, 0, "policy_versions row %lld has no store.init or policy.pin event "
			    "(a row written around arbiter)", (long long)v);
			break;
		}
		x->seen = true;
		text_span actor = col_span(st, 1), just = col_span(st, 2), files = col_span(st, 3);
		if (!same_str(actor, x->actor))
			mismatch(r, x->seq, "policy_versions row %lld actor is %s but the events say %s "
			    "(event seq %lld)", (long long)v, quoted(a, sizeof a, actor), quoted(b, sizeof b,
			    (text_span){ x->actor, strlen(x->actor) }), (long long)x->seq);
		else if (x->justification_known && !same_str(just, x->justification))
			mismatch(r, x->seq, "policy_versions row %lld justification is %s but the events "
			    "say %s (event seq %lld)", (long long)v, quoted(a, sizeof a, just),
			    quoted(b, sizeof b, (text_span){ x->justification, x->justification ?
			    strlen(x->justification) : 0 }), (long long)x->seq);
		else if (x->files != NULL && !same_str(files, x->files))
			mismatch(r, x->seq, "policy_versions row %lld files differ from what the events "
			    "pinned (event seq %lld): a policy's pinned digest was edited", (long long)v,
			    (long long)x->seq);
	}
	if (!r->ok) {
		sqlite3_finalize(st);
		return true;
	}
	if (!stepped(t->s, st, rc))
		return false;
	for (size_t i = 0; i < t->npins; i++)
		if (!t->pins[i].seen)
			return mismatch(r, t->pins[i].seq, "policy_versions row %lld is missing, but event "
			    "seq %lld pinned it", (long long)t->pins[i].version, (long long)t->pins[i].seq);
	return true;
}

/* ---- reviewers and agents ---- */

/* Whether row column i (an integer or NULL) is v (-1: NULL). */
static bool same_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? v == -1 :
	    v != -1 && sqlite3_column_int64(st, i) == v;
}

static const char *int_text(char *out, size_t len, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return "NULL";
	snprintf(out, len, "%lld", (long long)sqlite3_column_int64(st, i));
	return out;
}

static const char *int_or_null(char *out, size_t len, int64_t v)
{
	if (v == -1)
		return "NULL";
	snprintf(out, len, "%lld", (long long)v);
	return out;
}

/* The people of table (reviewers or agents) against p. */
static bool check_people(table_check *t, verify_result *r, people *p, bool agents)
{
	const char *table = agents ? "agents" : "reviewers";
	const char *added = agents ? "agent.add" : "reviewer.add";
	sqlite3_stmt *st;
	if (!prepare(t->s, agents ? READ_AGENTS : READ_REVIEWERS, &st))
		return false;
	int rc;
	char name[80], a[100], b[100];
	while (r->ok && (rc = rows_step(t, st)) == SQLITE_ROW) {
		text_span n = col_span(st, 0), login = col_span(st, 1);
		shown(name, sizeof name, n.p, n.n);
		person *x = n.p ? people_find(p, n.p) : NULL;
		if (x == NULL || !same_str(n, x->name)) {
			mismatch(r, 0, "%s row %s has no %s event (a row written around arbiter)", table,
			    name, added);
			break;
		}
		x->seen = true;
		long long seq = (long long)x->last_seq;
		bool token = sqlite3_column_int(st, 3) != 0;
		if (!same_str(login, x->login))
			mismatch(r, seq, "%s row %s login is %s but the events say %s (event seq %lld)",
			    table, name, quoted(a, sizeof a, login), quoted(b, sizeof b, (text_span){
			    x->login, x->login ? strlen(x->login) : 0 }), (long long)x->add_seq);
		else if (!same_int(st, 2, x->uid))
			mismatch(r, seq, "%s row %s uid is %s but the events say %s (event seq %lld)", table,
			    name, int_text(a, sizeof a, st, 2), int_or_null(b, sizeof b, x->uid),
			    (long long)x->add_seq);
		else if (token != x->token)
			mismatch(r, seq, "%s row %s token_hash is %s but the events say %s (last event seq "
			    "%lld)", table, name, token ? "set" : "NULL", x->token ? "a token" : "none",
			    seq);
		else if (agents && !same_int(st, 4, x->rate ? x->rate : -1))
			mismatch(r, seq, "agents row %s rate is %s but the events say %s (event seq %lld)",
			    name, int_text(a, sizeof a, st, 4), int_or_null(b, sizeof b, x->rate ?
			    x->rate : -1), (long long)x->add_seq);
		else if (agents && (sqlite3_column_int(st, 5) != 0) != x->revoked)
			mismatch(r, seq, "agents row %s revoked_at is %s but the events say %s (last event "
			    "seq %lld)", name, x->revoked ? "NULL" : "set", x->revoked ? "revoked" :
			    "not revoked", seq);
		else if (agents && !same_str(col_span(st, 6), x->actor))
			mismatch(r, seq, "agents row %s actor is %s but the events say %s (event seq %lld)",
			    name, quoted(a, sizeof a, col_span(st, 6)), quoted(b, sizeof b, (text_span){
			    x->actor, strlen(x->actor) }), (long long)x->add_seq);
		else if (!agents && (sqlite3_column_text(st, 4) != NULL &&
		    strcmp((const char *)sqlite3_column_text(st, 4), "admin") == 0) != x->admin)
			mismatch(r, seq, "reviewers row %s role is %s but the events say %s (last event "
			    "seq %lld)", name, quoted(a, sizeof a, col_span(st, 4)), x->admin ? "admin" :
			    "reviewer", seq);
		else if (!agents && (sqlite3_column_int(st, 5) != 0) != x->disabled)
			mismatch(r, seq, "reviewers row %s disabled is %d but the events say %s (last "
			    "event seq %lld)", name, sqlite3_column_int(st, 5), x->disabled ? "disabled" :
			    "enabled", seq);
	}
	if (!r->ok) {
		sqlite3_finalize(st);
		return true;
	}
	if (!stepped(t->s, st, rc))
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].seen) {
			shown(name, sizeof name, p->v[i].name, strlen(p->v[i].name));
			return mismatch(r, p->v[i].add_seq, "%s row %s is missing, but event seq %lld (%s) "
			    "added it", table, name, (long long)p->v[i].add_seq, added);
		}
	return true;
}

/* ---- submissions and status_counts ---- */

static const char *status_or_none(uint8_t st)
{
	return st == 0xFF ? "no status" : status_name(st);
}

/* Names the ident field of row id (columns 1..6 of st) that differs from
 * its submission.create. */
static bool ident_mismatch(table_check *t, verify_result *r, int64_t id, sqlite3_stmt *st,
    uint8_t flags)
{
	static const char *const names[6] = { "action", "kind", "ref", "digest", "submitter",
		"content_hash" };
	details d = { 0 };
	int64_t seq = event_again(t, 0, "submission.create", id, &d);
	char a[100], b[100];
	for (int i = 0; seq && i < 6; i++) {
		if ((i == 3 && !(flags & SUB_DIGEST)) || (i == 4 && !(flags & SUB_SUBMITTER)) ||
		    (i == 5 && !(flags & SUB_CONTENT)))
			continue;
		text_span said, row = col_span(st, 1 + i);
		details_text(&d, names[i], &said);
		if (!same(row, said)) {
			mismatch(r, seq, "submissions row %lld %s is %s but the events say %s (event seq "
			    "%lld)", (long long)id, names[i], quoted(a, sizeof a, row), quoted(b, sizeof b,
			    said), (long long)seq);
			event_done(&d);
			return true;
		}
	}
	event_done(&d);
	return mismatch(r, seq, "submissions row %lld differs from its submission.create (event seq "
	    "%lld)", (long long)id, (long long)seq);
}

static bool missing_submission(verify_result *r, int64_t id, const sub_expect *x)
{
	return mismatch(r, x->last_seq, "submissions row %lld is missing, but the events created it "
	    "(last event seq %lld)", (long long)id, (long long)x->last_seq);
}

static bool check_submission(table_check *t, verify_result *r, int64_t id, sqlite3_stmt *st)
{
	sub_expect *x = &t->subs[id];
	long long seq = (long long)x->last_seq;
	const char *status = (const char *)sqlite3_column_text(st, 7);
	int have = status ? status_parse(status) : -1;
	char a[100], b[100];
	if (have != x->status || have < 0)
		return mismatch(r, seq, "submissions row %lld status is %s but the events say %s (last "
		    "event seq %lld)", (long long)id, quoted(a, sizeof a, col_span(st, 7)),
		    status_or_none(x->status), seq);
	if (!same_int(st, 8, x->policy_version))
		return mismatch(r, seq, "submissions row %lld policy_version is %s but the events say "
		    "%d (last event seq %lld)", (long long)id, int_text(a, sizeof a, st, 8),
		    x->policy_version, seq);
	static const char *const sev[3] = { "info", "warning", "critical" };
	for (int i = 0; i < 3; i++)
		if (!same_int(st, 9 + i, x->counts[i]))
			return mismatch(r, seq, "submissions row %lld %s is %s but the events say %d (last "
			    "event seq %lld)", (long long)id, sev[i], int_text(a, sizeof a, st, 9 + i),
			    x->counts[i], seq);
	text_span expires = col_span(st, 12);
	if ((expires.p != NULL) != ((x->flags & SUB_EXPIRES) != 0) ||
	    (expires.p != NULL && fingerprint(t, &expires, 1) != x->expires)) {
		details d = { 0 };
		text_span said = { NULL, 0 };
		if (event_again(t, x->last_seq, NULL, 0, &d))
			details_text(&d, "expires_at", &said);
		mismatch(r, seq, "submissions row %lld expires_at is %s but the events say %s (last "
		    "event seq %lld)", (long long)id, quoted(a, sizeof a, expires), quoted(b, sizeof b,
		    said), seq);
		event_done(&d);
		return true;
	}
	text_span f[6];
	for (int i = 0; i < 6; i++)
		f[i] = col_span(st, 1 + i);
	if (ident_fingerprint(t, f, x->flags) != x->ident)
		return ident_mismatch(t, r, id, st, x->flags);
	if (x->flags & SUB_CONTENT) {
		text_span doc = col_span(st, 13);
		unsigned char h[32];
		char hex[65];
		sha256(doc.p ? doc.p : "", doc.n, h);
		public_hex(hex, h, 32);
		if (!same_str(f[5], hex)) {
			details d = { 0 };
			int64_t created = event_again(t, 0, "submission.create", id, &d);
			event_done(&d);
			return mismatch(r, created, "submissions row %lld document does not hash to the "
			    "content_hash its events name (event seq %lld): the document was edited",
			    (long long)id, (long long)created);
		}
	}
	return true;
}

/* ---- findings ---- */

typedef struct group {
	int64_t id, n, tally[3];
	int64_t odd;            /* a finding of no known severity (its position), or 0 */
	findings_digest fd;
} group;

/* The last event that evaluated submission id, for a message. */
static int64_t evaluated_seq(table_check *t, int64_t id)
{
	sqlite3_stmt *st;
	int64_t seq = 0;
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)id);
	if (sqlite3_prepare_v2(t->s->db, "SELECT max(seq) FROM audit WHERE subject = ? AND event IN "
	    "('submission.create', 'submission.reevaluate')", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			seq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return seq;
}

static bool group_check(table_check *t, verify_result *r, group *g)
{
	if (g->id < 1 || (size_t)g->id >= t->nsubs || !(t->subs[g->id].flags & SUB_CREATED))
		return true;    /* the submissions' check names the row */
	const sub_expect *x = &t->subs[g->id];
	static const char *const sev[3] = { "info", "warning", "critical" };
	if (g->odd)
		return mismatch(r, evaluated_seq(t, g->id), "submissions row %lld findings: finding "
		    "%lld severity is none of info, warning, critical", (long long)g->id,
		    (long long)g->odd);
	if (g->n != x->nfindings)
		return mismatch(r, evaluated_seq(t, g->id), "submissions row %lld findings are %lld but "
		    "the events say %d (event seq %lld)", (long long)g->id, (long long)g->n,
		    x->nfindings, (long long)evaluated_seq(t, g->id));
	for (int i = 0; i < 3; i++)
		if (g->tally[i] != x->counts[i])
			return mismatch(r, evaluated_seq(t, g->id), "submissions row %lld findings: %lld "
			    "with severity %s but the events say %d (event seq %lld)", (long long)g->id,
			    (long long)g->tally[i], sev[i], x->counts[i],
			    (long long)evaluated_seq(t, g->id));
	if (x->flags & SUB_FDIGEST) {
		unsigned char h[32];
		char hex[65];
		findings_digest_final(&g->fd, h);
		public_hex(hex, h, 32);
		text_span s = { hex, 64 };
		if (fingerprint(t, &s, 1) != x->findings)
			return mismatch(r, evaluated_seq(t, g->id), "submissions row %lld findings differ "
			    "from the findings_digest of event seq %lld: a finding was edited, added or "
			    "removed", (long long)g->id, (long long)evaluated_seq(t, g->id));
	}
	return true;
}

static const char *const severities[3] = { "info", "warning", "critical" };

/* The fingerprint of a finding_policies row: policy, submission, counts
 * (the integers as their bytes: both sides compute it alike). */
static uint64_t policy_row_fp(const table_check *t, const char *pname, int64_t id,
    const int64_t sev[3])
{
	int64_t nums[4] = { id, sev[2], sev[1], sev[0] };
	text_span f[2] = { { pname, strlen(pname) }, { (const char *)nums, sizeof nums } };
	return fingerprint(t, f, 2);
}

/* The sum of the fingerprints of the finding_policies rows the findings of
 * submission id call for. */
static uint64_t policy_rows_fp(const table_check *t, int64_t id, const finding_row *rows,
    size_t n, policy_tally *counts)
{
	uint64_t sum = 0;
	size_t k = findings_per_policy(rows, n, counts);
	for (size_t p = 0; p < k; p++)
		sum += policy_row_fp(t, counts[p].policy, id, counts[p].sev);
	return sum;
}

/* finding_policies differs from what the findings call for: the row
 * that does, or the submission whose row is missing (a second, slower pass,
 * only after the sums differ). */
static bool name_policy_mismatch(table_check *t, const kind_table *kinds, verify_result *r)
{
	sqlite3_stmt *st, *one;
	arena *a = arena_new();
	bool found = false;
	if (sqlite3_prepare_v2(t->s->db, READ_FINDING_POLICIES, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(t->s->db, "SELECT findings FROM submissions WHERE id = ?", -1, &one,
	    NULL) == SQLITE_OK) {
		while (!found && sqlite3_step(st) == SQLITE_ROW) {
			const char *pname = (const char *)sqlite3_column_text(st, 0);
			int64_t id = sqlite3_column_int64(st, 1);
			int64_t sev[3] = { sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 3),
				sqlite3_column_int64(st, 2) };
			sqlite3_reset(one);
			sqlite3_bind_int64(one, 1, id);
			finding_row *rows = NULL;
			size_t n = 0;
			char why[160];
			arena_reset(a);
			if (sqlite3_step(one) == SQLITE_ROW)
				findings_column_read(t->s, kinds, a, (const char *)sqlite3_column_text(one, 0),
				    (size_t)sqlite3_column_bytes(one, 0), &rows, &n, why, sizeof why);
			policy_tally *counts = arena_alloc(a, (n ? n : 1) * sizeof *counts);
			size_t k = findings_per_policy(rows, n, counts), p = 0;
			while (p < k && strcmp(counts[p].policy, pname ? pname : "") != 0)
				p++;
			const int64_t none[3] = { 0 }, *want = p < k ? counts[p].sev : none;
			if (memcmp(want, sev, sizeof sev) != 0) {
				found = mismatch(r, 0, "finding_policies row (%s, %lld) says %lld critical, "
				    "%lld warning, %lld info but the submission's findings %lld, %lld, %lld",
				    pname ? pname : "NULL", (long long)id, (long long)sev[2],
				    (long long)sev[1], (long long)sev[0], (long long)want[2],
				    (long long)want[1], (long long)want[0]);
			}
		}
		sqlite3_finalize(one);
	}
	sqlite3_finalize(st);
	arena_free(a);
	if (!found)
		mismatch(r, 0, "finding_policies lacks a row the submissions' findings call for "
		    "(a row deleted around arbiter)");
	return true;
}

static bool check_finding_policies(table_check *t, const kind_table *kinds, verify_result *r,
    uint64_t want)
{
	sqlite3_stmt *st;
	if (!prepare(t->s, READ_FINDING_POLICIES, &st))
		return false;
	uint64_t have = 0;
	int rc;
	while ((rc = rows_step(t, st)) == SQLITE_ROW) {
		const char *pname = (const char *)sqlite3_column_text(st, 0);
		int64_t sev[3] = { sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 3),
			sqlite3_column_int64(st, 2) };
		have += policy_row_fp(t, pname ? pname : "", sqlite3_column_int64(st, 1), sev);
	}
	if (!stepped(t->s, st, rc))
		return false;
	return have == want || name_policy_mismatch(t, kinds, r);
}

/* The findings column of submission sid, created by its events (column
 * col of st, in its row of the submissions' scan), against those events;
 * each finding_policies row its findings call for is added to
 * *policy_rows. */
static bool check_row_findings(table_check *t, verify_result *r, const kind_table *kinds,
    arena *a, int64_t sid, sqlite3_stmt *st, int col, uint64_t *policy_rows)
{
	group g = { .id = sid };
	findings_digest_init(&g.fd);
	/* none: right when the events gave none */
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return t->subs[sid].nfindings == 0 || group_check(t, r, &g);
	finding_row *rows;
	size_t n;
	char why[160];
	arena_reset(a);
	if (!findings_column_read(t->s, kinds, a, (const char *)sqlite3_column_text(st, col),
	    (size_t)sqlite3_column_bytes(st, col), &rows, &n, why, sizeof why))
		return mismatch(r, evaluated_seq(t, sid), "submissions row %lld findings do not read: %s",
		    (long long)sid, why);
	for (size_t i = 0; i < n; i++) {
		int k = 0;
		while (k < 3 && strcmp(rows[i].severity, severities[k]) != 0)
			k++;
		if (k < 3)
			g.tally[k]++;
		else if (g.odd == 0)
			g.odd = (int64_t)i + 1;
		findings_digest_add(&g.fd, &rows[i]);
	}
	g.n = (int64_t)n;
	*policy_rows += policy_rows_fp(t, sid, rows, n, arena_alloc(a, n * sizeof(policy_tally)));
	return group_check(t, r, &g);
}

/* The submissions, and the findings of each with its row (column 14). */
static bool check_submissions(table_check *t, verify_result *r, const kind_table *kinds,
    uint64_t *policy_rows, int64_t per_status[8])
{
	sqlite3_stmt *st;
	if (!prepare(t->s, READ_SUBMISSIONS, &st))
		return false;
	arena *a = arena_new();
	int rc;
	int64_t next = 1;       /* the expectations before it are done */
	while (r->ok && (rc = rows_step(t, st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		for (; next < id && (size_t)next < t->nsubs && r->ok; next++)
			if (t->subs[next].flags & SUB_CREATED)
				missing_submission(r, next, &t->subs[next]);
		if (!r->ok)
			break;
		next = id + 1;
		if (id < 1 || (size_t)id >= t->nsubs || !(t->subs[id].flags & SUB_CREATED)) {
			mismatch(r, 0, "submissions row %lld has no submission.create event (a row written "
			    "around arbiter)", (long long)id);
			break;
		}
		t->subs[id].flags |= SUB_SEEN;
		if (!check_submission(t, r, id, st) ||
		    (r->ok && !check_row_findings(t, r, kinds, a, id, st, 14, policy_rows)))
			break;
		per_status[t->subs[id].status & 7]++;
	}
	arena_free(a);
	if (!r->ok) {
		sqlite3_finalize(st);
		return true;
	}
	if (!stepped(t->s, st, rc))
		return false;
	for (; next > 0 && (size_t)next < t->nsubs; next++)
		if (t->subs[next].flags & SUB_CREATED)
			return missing_submission(r, next, &t->subs[next]);
	return true;
}

static bool check_status_counts(table_check *t, verify_result *r, const int64_t per_status[8])
{
	sqlite3_stmt *st;
	if (!prepare(t->s, READ_STATUS_COUNTS, &st))
		return false;
	int64_t counted[8] = { 0 };
	int rc;
	while (r->ok && (rc = rows_step(t, st)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 0);
		int k = status ? status_parse(status) : -1;
		int64_t n = sqlite3_column_int64(st, 1);
		char a[100];
		if (k < 0 && n != 0)
			mismatch(r, 0, "status_counts row %s counts %lld submissions of no status",
			    quoted(a, sizeof a, col_span(st, 0)), (long long)n);
		else if (k >= 0)
			counted[k] = n;
	}
	if (!r->ok) {
		sqlite3_finalize(st);
		return true;
	}
	if (!stepped(t->s, st, rc))
		return false;
	for (int k = 0; k <= ST_EXPIRED; k++)
		if (counted[k] != per_status[k])
			return mismatch(r, 0, "status_counts row %s n is %lld but the submissions the "
			    "events say are %lld", status_name(k), (long long)counted[k],
			    (long long)per_status[k]);
	return true;
}

/* ---- decisions ---- */

static uint64_t row_decision_fp(table_check *t, sqlite3_stmt *st)
{
	text_span f[4] = { col_span(st, 2), col_span(st, 3), col_span(st, 4), col_span(st, 5) };
	return decision_fingerprint(t, f);
}

static bool decision_row_matches(sqlite3_stmt *st, const decision_expect *x, uint64_t fp)
{
	return sqlite3_column_int64(st, 1) == x->submission && fp == x->fp;
}

/* Whether the row after id is the decision of x. */
static bool next_row_matches(table_check *t, int64_t id, const decision_expect *x)
{
	sqlite3_stmt *st;
	bool match = false;
	if (sqlite3_prepare_v2(t->s->db, "SELECT id, submission_id, reviewer, decision, note, "
	    "expires_at FROM decisions WHERE id > ? ORDER BY id LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		match = sqlite3_step(st) == SQLITE_ROW && decision_row_matches(st, x,
		    row_decision_fp(t, st));
		sqlite3_finalize(st);
	}
	return match;
}

static bool decision_mismatch(table_check *t, verify_result *r, sqlite3_stmt *st, size_t k)
{
	int64_t id = sqlite3_column_int64(st, 0);
	char a[100], b[100];
	const decision_expect *x = k < t->ndecs ? &t->decs[k] : NULL;
	if (x == NULL || next_row_matches(t, id, x))
		return mismatch(r, 0, "decisions row %lld (submission %lld, %s by %s) has no decision "
		    "event (a row written around arbiter)", (long long)id,
		    (long long)sqlite3_column_int64(st, 1), quoted(a, sizeof a, col_span(st, 3)),
		    quoted(b, sizeof b, col_span(st, 2)));
	if (k + 1 < t->ndecs && decision_row_matches(st, &t->decs[k + 1], row_decision_fp(t, st)))
		return mismatch(r, x->seq, "the decisions row of event seq %lld (submission %lld) is "
		    "missing (deleted)", (long long)x->seq, (long long)x->submission);
	if (sqlite3_column_int64(st, 1) != x->submission)
		return mismatch(r, x->seq, "decisions row %lld submission_id is %lld but the events say "
		    "%lld (event seq %lld)", (long long)id, (long long)sqlite3_column_int64(st, 1),
		    (long long)x->submission, (long long)x->seq);
	details d = { 0 };
	const char *actor = NULL;
	sqlite3_stmt *q;
	text_span said[4] = { { 0 } };
	if (sqlite3_prepare_v2(t->s->db, "SELECT actor, details FROM audit WHERE seq = ?", -1, &q,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, x->seq);
		if (sqlite3_step(q) == SQLITE_ROW &&
		    details_scan((const char *)sqlite3_column_text(q, 1), &d)) {
			actor = (const char *)sqlite3_column_text(q, 0);
			said[0] = (text_span){ actor, actor ? strlen(actor) : 0 };
			details_text(&d, "decision", &said[1]);
			if (details_text(&d, "note", &said[2]) == DT_ABSENT &&
			    details_text(&d, "reason", &said[2]) == DT_ABSENT)
				details_text(&d, "justification", &said[2]);
			details_text(&d, "expires_at", &said[3]);
		}
	}
	static const char *const names[4] = { "reviewer", "decision", "note", "expires_at" };
	bool named = false;
	for (int i = 0; actor != NULL && i < 4 && !named; i++)
		if (!same(col_span(st, 2 + i), said[i])) {
			mismatch(r, x->seq, "decisions row %lld %s is %s but the events say %s (event seq "
			    "%lld)", (long long)id, names[i], quoted(a, sizeof a, col_span(st, 2 + i)),
			    quoted(b, sizeof b, said[i]), (long long)x->seq);
			named = true;
		}
	sqlite3_finalize(q);
	details_free(&d);
	if (!named)
		mismatch(r, x->seq, "decisions row %lld differs from its event (event seq %lld)",
		    (long long)id, (long long)x->seq);
	return true;
}

static bool check_decisions(table_check *t, verify_result *r)
{
	sqlite3_stmt *st;
	if (!prepare(t->s, READ_DECISIONS, &st))
		return false;
	size_t k = 0;
	int rc;
	while (r->ok && (rc = rows_step(t, st)) == SQLITE_ROW) {
		if (k >= t->ndecs || !decision_row_matches(st, &t->decs[k], row_decision_fp(t, st))) {
			decision_mismatch(t, r, st, k);
			break;
		}
		k++;
	}
	if (!r->ok) {
		sqlite3_finalize(st);
		return true;
	}
	if (!stepped(t->s, st, rc))
		return false;
	if (k < t->ndecs)
		return mismatch(r, t->decs[k].seq, "the decisions row of event seq %lld (submission "
		    "%lld) is missing (deleted)", (long long)t->decs[k].seq,
		    (long long)t->decs[k].submission);
	return true;
}

bool rows_check(table_check *t, verify_result *r)
{
	int64_t per_status[8] = { 0 };
	uint64_t policy_rows = 0;       /* what finding_policies should sum to */
	kind_table kinds;
	bool ok = kind_table_read(t->s, &kinds) && check_pins(t, r) &&
	    (!r->ok || check_people(t, r, &t->reviewers, false)) &&
	    (!r->ok || check_people(t, r, &t->agents, true)) &&
	    (!r->ok || check_submissions(t, r, &kinds, &policy_rows, per_status)) &&
	    (!r->ok || check_status_counts(t, r, per_status)) &&
	    (!r->ok || check_finding_policies(t, &kinds, r, policy_rows)) &&
	    (!r->ok || check_decisions(t, r));
	kind_table_free(&kinds);
	return ok;
}
