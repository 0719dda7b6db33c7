/*
 * list.c: listings of submissions under filters, for list, the console's
 * queue and the server's /v1/submissions, as fast at a million submissions
 * as at ten.
 *
 * Each filter an index serves is a stream of ids in the listing's order:
 * --status walks submissions_status once per stored status it reads, --kind
 * submissions_kind, --submitter submissions_submitter (the name lower-cased,
 * and as given), --action
 * submissions_action once per distinct action its glob matches, --policy
 * findings_policy (policy, submission_id) once per policy its glob matches
 * (ranges.c finds those values). A time window is a range of ids (ranges.c),
 * the cursor one bound more. The listing is the ids that every stream holds,
 * found by leapfrogging: each stream in turn seeks to the candidate id, and
 * one that lands beyond it makes its landing the next candidate. So a
 * listing costs index seeks in proportion to the rows it returns and to the
 * alternations between its streams, and a filter that matches nothing ends
 * it at the first seek, however many rows the others match.
 *
 * What no index serves is checked on each candidate row: the status as it
 * reads now (an override past its expiry), the exact times, the console's
 * search, and a glob matching too many distinct values to walk each.
 * Without any stream, the primary key is the stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* Values a glob may match and still be walked one index range each. */
enum { STREAM_VALUES_MAX = 64 };
/* Rows a cursor steps over towards a candidate before it seeks instead: a
 * step is a tenth of a seek, and streams that interleave closely meet
 * within a few. */
enum { STEPS_BEFORE_SEEK = 8 };

/* One index range walked in the listing's order: one value of a stream. */
typedef struct cursor {
	sqlite3_stmt *st;       /* ?2 a bound: the ids at and beyond it */
	int64_t head;           /* the id it stands on, 0 at its end */
	bool started;
} cursor;

typedef struct stream {
	cursor *c;
	size_t n;
} stream;

typedef struct walk {
	store *s;
	bool desc;
	stream streams[5];
	size_t ns;
	sqlite3_stmt *row;      /* :id an id: its row, when the checks hold */
	int row_id;             /* the index of :id */
} walk;

/* Whether id a comes after id b in the listing's order. */
static bool beyond(const walk *w, int64_t a, int64_t b)
{
	return w->desc ? a < b : a > b;
}

/* A stream of the ids whose row has one of the values (n of them; 0: a
 * statement without a value). */
static bool add_stream(walk *w, const char *sql, const char *const *values, size_t n)
{
	char buf[512];
	snprintf(buf, sizeof buf, sql, w->desc ? "<=" : ">=", w->desc ? "DESC" : "ASC");
	stream *st = &w->streams[w->ns++];
	st->n = n > 0 ? n : 1;
	st->c = calloc(st->n, sizeof *st->c);
	if (st->c == NULL)
		abort();
	for (size_t i = 0; i < st->n; i++) {
		if (sqlite3_prepare_v2(w->s->db, buf, -1, &st->c[i].st, NULL) != SQLITE_OK)
			return store_fail(w->s, "cannot list submissions");
		if (n > 0)
			sqlite3_bind_text(st->c[i].st, 1, values[i], -1, SQLITE_TRANSIENT);
	}
	return true;
}

static bool step(walk *w, cursor *c)
{
	int rc = sqlite3_step(c->st);
	c->head = rc == SQLITE_ROW ? sqlite3_column_int64(c->st, 0) : 0;
	return rc == SQLITE_ROW || rc == SQLITE_DONE || store_fail(w->s, "cannot list submissions");
}

/* Moves c to its first id at or beyond x: a few steps when that is near,
 * else a seek. x never moves back, so a cursor at its end stays there. */
static bool advance(walk *w, cursor *c, int64_t x)
{
	if (c->started && (c->head == 0 || !beyond(w, x, c->head)))
		return true;
	for (int i = 0; c->started && i < STEPS_BEFORE_SEEK; i++) {
		if (!step(w, c))
			return false;
		if (c->head == 0 || !beyond(w, x, c->head))
			return true;
	}
	sqlite3_reset(c->st);
	sqlite3_bind_int64(c->st, 2, x);
	c->started = true;
	return step(w, c);
}

/* The first id at or beyond x among the stream's values: 0 when none, -1
 * on error. */
static int64_t seek(walk *w, stream *st, int64_t x)
{
	int64_t best = 0;
	for (size_t i = 0; i < st->n; i++) {
		cursor *c = &st->c[i];
		if (!advance(w, c, x))
			return -1;
		if (c->head != 0 && (best == 0 || beyond(w, best, c->head)))
			best = c->head;
	}
	return best;
}

static void walk_free(walk *w)
{
	for (size_t i = 0; i < w->ns; i++) {
		for (size_t j = 0; j < w->streams[i].n && w->streams[i].c; j++)
			sqlite3_finalize(w->streams[i].c[j].st);
		free(w->streams[i].c);
	}
	sqlite3_finalize(w->row);
}

bool query_list_ascending(const sub_filter *f)
{
	if (f->order != LIST_QUEUE_ORDER)
		return f->order == LIST_OLDEST_FIRST;
	return f->status != NULL && (strcmp(f->status, "waiting") == 0 ||
	    strcmp(f->status, "pending") == 0 || strcmp(f->status, "blocked") == 0);
}

#define BY_COLUMN(index, column) "SELECT id FROM submissions INDEXED BY " index " WHERE " column \
	" = ?1 AND id %s ?2 ORDER BY id %s"

/* The row of the candidate id when the checks no index made hold. */
static bool prepare_row(walk *w, const sub_filter *f, bool recheck, bool action_rows,
    bool policy_rows)
{
	strbuf sql = { 0 };
	/* named, as :now is: a ?1 would share the first named parameter's slot */
	sb_puts(&sql, "SELECT " ROW_COLUMNS " FROM submissions WHERE id = :id");
	if (recheck)
		sb_puts(&sql, " AND " EFFECTIVE_STATUS " = :status");
	if (f->since_ms != 0)
		sb_puts(&sql, " AND created_ms >= :since");
	if (f->until_ms != 0)
		sb_puts(&sql, " AND created_ms <= :until");
	if (action_rows)
		sb_puts(&sql, " AND arbiter_glob(:action, action)");
	if (policy_rows)
		sb_puts(&sql, " AND EXISTS (SELECT 1 FROM findings WHERE submission_id = "
		    "submissions.id AND arbiter_glob(:policy, policy))");
	bool search = f->search != NULL && f->search[0] != '\0';
	if (search)
		sb_puts(&sql, " AND (instr(lower(ifnull(title, '')), :search) OR "
		    "instr(lower(action), :search) OR instr(lower(ifnull(submitter, '')), :search) OR "
		    "instr(lower(ifnull(ref, '')), :search))");
	int rc = sqlite3_prepare_v2(w->s->db, sql.s, (int)sql.n, &w->row, NULL);
	free(sql.s);
	if (rc != SQLITE_OK)
		return store_fail(w->s, "cannot list submissions");
	sqlite3_stmt *st = w->row;
	w->row_id = sqlite3_bind_parameter_index(st, ":id");
	store_bind_now(st);
	int i;
	if ((i = sqlite3_bind_parameter_index(st, ":status")) > 0)
		sqlite3_bind_text(st, i, f->status, -1, SQLITE_TRANSIENT);
	if ((i = sqlite3_bind_parameter_index(st, ":since")) > 0)
		sqlite3_bind_int64(st, i, f->since_ms);
	if ((i = sqlite3_bind_parameter_index(st, ":until")) > 0)
		sqlite3_bind_int64(st, i, f->until_ms);
	if ((i = sqlite3_bind_parameter_index(st, ":action")) > 0)
		sqlite3_bind_text(st, i, f->action, -1, SQLITE_TRANSIENT);
	if ((i = sqlite3_bind_parameter_index(st, ":policy")) > 0)
		sqlite3_bind_text(st, i, f->policy, -1, SQLITE_TRANSIENT);
	if (search) {
		char *lower = strdup(f->search);
		if (lower == NULL)
			abort();
		for (char *c = lower; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":search"), lower, -1, free);
	}
	return true;
}

/* Walks the candidates from x to stop (inclusive) in the listing's order.
 * *next: the cursor of the next page. */
static bool run(walk *w, const sub_filter *f, int64_t x, int64_t stop,
    bool (*fn)(void *ctx, const sub_row *r), void *ctx, int64_t *next)
{
	int64_t given = 0, last = 0;
	while (!beyond(w, x, stop)) {
		/* the next id at or beyond x that every stream holds */
		size_t agree = 0;
		for (size_t i = 0; agree < w->ns; i = (i + 1) % w->ns) {
			int64_t h = seek(w, &w->streams[i], x);
			if (h < 0)
				return false;
			if (h == 0 || beyond(w, h, stop))
				return true;
			if (h == x) {
				agree++;
			} else {
				x = h;
				agree = 1;
			}
		}
		sqlite3_bind_int64(w->row, w->row_id, x);
		int rc = sqlite3_step(w->row);
		if (rc == SQLITE_ROW) {
			if (f->limit > 0 && given == f->limit) {
				/* one more matches: there is a next page */
				if (next)
					*next = last;
				sqlite3_reset(w->row);
				return true;
			}
			sub_row r;
			memset(&r, 0, sizeof r);
			query_read_row(w->row, &r);
			bool more = fn(ctx, &r);
			sqlite3_reset(w->row);
			given++;
			last = x;
			if (!more)
				return true;
		} else {
			sqlite3_reset(w->row);
			if (rc != SQLITE_DONE)
				return store_fail(w->s, "cannot list submissions");
		}
		if (x == (w->desc ? 1 : INT64_MAX))
			break;
		x += w->desc ? -1 : 1;
	}
	return true;
}

bool query_list(store *s, const sub_filter *f, bool (*fn)(void *ctx, const sub_row *r), void *ctx,
    int64_t *next)
{
	if (next)
		*next = 0;
	const char *reads[8];
	bool recheck = false;
	int nstored = 0;
	if (f->status != NULL && (nstored = query_status_stored(f->status, reads, &recheck)) < 0) {
		snprintf(s->err, sizeof s->err, "unknown status filter %s", f->status);
		return false;
	}
	walk w = { .s = s, .desc = !query_list_ascending(f) };
	glob_values actions = { 0 }, policies = { 0 };
	bool ok = true, none = false;
	if (f->action != NULL)
		ok = glob_values_find(s, "submissions", "action", "submissions_action", f->action,
		    STREAM_VALUES_MAX, &actions);
	if (ok && f->policy != NULL)
		ok = glob_values_find(s, "finding_policies", "policy", NULL, f->policy,
		    STREAM_VALUES_MAX, &policies);
	if (ok && (actions.many || policies.many))
		ok = glob_function(s);
	/* a glob that matches no value there is matches no row */
	none = (f->action != NULL && !actions.many && actions.n == 0) ||
	    (f->policy != NULL && !policies.many && policies.n == 0);
	int64_t lo = 1, hi = INT64_MAX;
	if (ok && !none && (f->since_ms != 0 || f->until_ms != 0)) {
		static const time_column created = { "submissions", "id", "created_ms", false };
		ok = time_keys(s, &created, f->since_ms, f->until_ms, &lo, &hi);
	}
	if (ok && !none && nstored > 0)
		ok = add_stream(&w, BY_COLUMN("submissions_status", "status"), reads, (size_t)nstored);
	if (ok && !none && f->kind != NULL)
		ok = add_stream(&w, BY_COLUMN("submissions_kind", "kind"), &f->kind, 1);
	if (ok && !none && f->submitter != NULL) {
		/* the name as submissions keep it (lower-cased), and as given, for
		 * one stored before names were */
		char name[IDENTITY_NAME_MAX + 1];
		const char *who[2] = { f->submitter, name };
		bool named = identity_name(f->submitter, name) && strcmp(name, f->submitter) != 0;
		ok = add_stream(&w, BY_COLUMN("submissions_submitter", "submitter"), who,
		    named ? 2 : 1);
	}
	if (ok && !none && actions.n > 0)
		ok = add_stream(&w, BY_COLUMN("submissions_action", "action"),
		    (const char *const *)actions.v, actions.n);
	if (ok && !none && policies.n > 0)
		ok = add_stream(&w, "SELECT submission_id FROM finding_policies "
		    "WHERE policy = ?1 AND submission_id %s ?2 ORDER BY submission_id %s",
		    (const char *const *)policies.v, policies.n);
	if (ok && !none && w.ns == 0)
		ok = add_stream(&w, "SELECT id FROM submissions WHERE id %s ?2 ORDER BY id %s",
		    NULL, 0);
	if (ok && !none)
		ok = prepare_row(&w, f, recheck, actions.many, policies.many);
	if (ok && !none && lo <= hi) {
		int64_t from = w.desc ? hi : lo, stop = w.desc ? lo : hi;
		/* nothing lies beyond the largest id, oldest first */
		bool past = !w.desc && f->after == INT64_MAX;
		if (f->after > 0 && !past && !beyond(&w, from, f->after))
			from = f->after + (w.desc ? -1 : 1);
		if (!past)
			ok = run(&w, f, from, stop, fn, ctx, next);
	}
	walk_free(&w);
	glob_values_free(&actions);
	glob_values_free(&policies);
	return ok;
}
