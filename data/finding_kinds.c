/*
 * finding_kinds.c: what a policy's findings have in common, stored once.
 *
 * A finding is its policy's (name, type, severity, effect, whether and how it
 * may be overridden, message, source line) and its own (detail, path). The
 * first part is the same for every finding a policy version makes, so it is
 * a row of finding_kinds, named by id from the findings column of each
 * submission (findings_column.c): a submission keeps [kind, detail, path]
 * per finding, about a third of the whole. Kinds are only ever added, and
 * a kind row never changes, so each connection keeps those it has met in
 * memory: the writer finds a finding's kind without a query, and a reader
 * turns an id back into its fields once.
 *
 * A kind added in a transaction that rolls back is gone from the database;
 * the ids the connection learnt in it could later name other kinds. So the
 * kinds added in the open transaction are pending: store_commit settles them
 * when COMMIT succeeds, and a rollback (store_forget) forgets every kind the
 * connection knew, to be read again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* Kinds are numbered from 1 as they come, a few per policy version: an id
 * beyond this (only written around arbiter) names no kind, so that no
 * reader sizes its table by it. */
enum { KIND_ID_MAX = 1 << 20 };

struct finding_kinds {
	kind_table ids;         /* the kinds met, by id */
	strmap by_key;          /* kind_key() -> the id, as a pointer */
	bool pending;           /* kinds added in the open transaction */
};

static void kinds_free(store *s, void *ctx);
static void settle(store *s, bool committed);

static struct finding_kinds *kinds_of(store *s)
{
	if (s->kinds == NULL) {
		s->kinds = calloc(1, sizeof *s->kinds);
		if (s->kinds == NULL)
			abort();
		s->kinds->ids.a = arena_new();
		if (!s->kinds_closes) {
			s->kinds_closes = true;
			store_on_settle(s, settle);
			store_on_close(s, kinds_free, NULL);
		}
	}
	return s->kinds;
}

static void put_len(strbuf *b, uint64_t n)
{
	sb_put(b, (const char *)&n, sizeof n);
}

static void put_text(strbuf *b, const char *t)
{
	if (t == NULL) {
		put_len(b, UINT64_MAX);
		return;
	}
	size_t n = strlen(t);
	put_len(b, n);
	sb_put(b, t, n);
}

/* The fields of a kind, each length-prefixed: its key in by_key. */
static void kind_key(strbuf *b, const finding_row *f)
{
	b->n = 0;
	put_text(b, f->policy);
	put_text(b, f->type);
	put_text(b, f->severity);
	put_text(b, f->effect);
	put_len(b, (uint64_t)f->overridable);
	put_text(b, f->message);
	put_text(b, f->source);
	put_len(b, (uint64_t)f->approvals);
	put_text(b, f->role);
	put_len(b, (uint64_t)f->max_duration);
}

static const char *copy(arena *a, const char *t)
{
	return t ? arena_strdup(a, t) : NULL;
}

/* The fields of a kind from columns first .. first + 9 of st (policy, type,
 * severity, effect, overridable, message, source, approvals, role,
 * max_duration), valid until st steps again; false when one every kind has
 * is missing. */
static bool kind_columns(sqlite3_stmt *st, int first, finding_row *f)
{
	*f = (finding_row){ .policy = (const char *)sqlite3_column_text(st, first),
		.type = (const char *)sqlite3_column_text(st, first + 1),
		.severity = (const char *)sqlite3_column_text(st, first + 2),
		.effect = (const char *)sqlite3_column_text(st, first + 3),
		.overridable = sqlite3_column_int64(st, first + 4),
		.message = (const char *)sqlite3_column_text(st, first + 5),
		.source = (const char *)sqlite3_column_text(st, first + 6),
		.approvals = sqlite3_column_int64(st, first + 7),
		.role = (const char *)sqlite3_column_text(st, first + 8),
		.max_duration = sqlite3_column_int64(st, first + 9) };
	return f->policy && f->type && f->severity && f->effect && f->role;
}

/* Puts kind id with f's fields (copied into t's arena) into t. */
static const finding_row *kind_table_put(kind_table *t, int64_t id, const finding_row *f)
{
	if ((size_t)id >= t->n) {
		size_t cap = t->n ? t->n : 64;
		while (cap <= (size_t)id)
			cap *= 2;
		finding_row **by = arena_alloc(t->a, cap * sizeof *by);
		memset(by, 0, cap * sizeof *by);
		if (t->n > 0)
			memcpy(by, t->by_id, t->n * sizeof *by);
		t->by_id = by;
		t->n = cap;
	}
	finding_row *e = arena_alloc(t->a, sizeof *e);
	*e = (finding_row){ .policy = copy(t->a, f->policy), .type = copy(t->a, f->type),
		.severity = copy(t->a, f->severity), .effect = copy(t->a, f->effect),
		.overridable = f->overridable, .message = copy(t->a, f->message),
		.source = copy(t->a, f->source), .approvals = f->approvals,
		.role = copy(t->a, f->role), .max_duration = f->max_duration };
	t->by_id[id] = e;
	return e;
}

const finding_row *kind_table_get(const kind_table *t, int64_t id)
{
	return id > 0 && (uint64_t)id < t->n ? t->by_id[id] : NULL;
}

/* Remembers kind id, its fields f and its key (the first id of a key stays:
 * two ids with the same fields are only written around arbiter). */
static const finding_row *remember(struct finding_kinds *k, int64_t id, const finding_row *f,
    const strbuf *key)
{
	if (strmap_get(&k->by_key, key->s, key->n) == NULL) {
		char *kk = arena_alloc(k->ids.a, key->n);
		memcpy(kk, key->s, key->n);
		strmap_put(&k->by_key, kk, key->n, (void *)(intptr_t)id);
	}
	return kind_table_put(&k->ids, id, f);
}

static void bind_kind(sqlite3_stmt *st, const finding_row *f)
{
	sqlite3_bind_text(st, 1, f->policy, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->effect, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, f->overridable);
	store_bind_opt(st, 6, f->message);
	store_bind_opt(st, 7, f->source);
	sqlite3_bind_int64(st, 8, f->approvals);
	sqlite3_bind_text(st, 9, f->role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, f->max_duration);
}

/* The id of f's kind in the database (added when there is none, *added
 * set), or 0 with s->err. */
static int64_t kind_stored(store *s, const finding_row *f, bool *added)
{
	sqlite3_stmt *find = store_stmt(s, SQL_KIND_FIND, "SELECT id FROM finding_kinds WHERE "
	    "policy = ?1 AND type = ?2 AND severity = ?3 AND effect = ?4 AND overridable = ?5 AND "
	    "message IS ?6 AND source IS ?7 AND approvals = ?8 AND role = ?9 AND max_duration = ?10 "
	    "ORDER BY id LIMIT 1");
	if (find == NULL)
		return 0;
	bind_kind(find, f);
	int rc = sqlite3_step(find);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(s, "cannot read the findings' kinds");
	sqlite3_reset(find);
	if (rc != SQLITE_DONE)
		return id;
	sqlite3_stmt *add = store_stmt(s, SQL_KIND_ADD, "INSERT INTO finding_kinds (policy, type, "
	    "severity, effect, overridable, message, source, approvals, role, max_duration) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	if (add == NULL)
		return 0;
	bind_kind(add, f);
	if (sqlite3_step(add) != SQLITE_DONE) {
		store_fail(s, "cannot store a finding's kind");
		sqlite3_reset(add);
		return 0;
	}
	sqlite3_reset(add);
	*added = true;
	return sqlite3_last_insert_rowid(s->db);
}

int64_t finding_kind_id(store *s, const finding_row *f)
{
	struct finding_kinds *k = kinds_of(s);
	strbuf *key = &s->kind_key;
	kind_key(key, f);
	void *known = strmap_get(&k->by_key, key->s, key->n);
	if (known != NULL)
		return (int64_t)(intptr_t)known;
	bool added = false;
	int64_t id = kind_stored(s, f, &added);
	if (id <= 0)
		return 0;
	if (id > KIND_ID_MAX) {
		snprintf(s->err, sizeof s->err, "finding_kinds has more than %d rows", KIND_ID_MAX);
		return 0;
	}
	remember(k, id, f, key);
	k->pending |= added;
	return id;
}

const finding_row *finding_kind(store *s, int64_t id)
{
	struct finding_kinds *k = kinds_of(s);
	const finding_row *known = kind_table_get(&k->ids, id);
	if (known != NULL)
		return known;
	sqlite3_stmt *st = store_stmt(s, SQL_KIND_BY_ID, "SELECT policy, type, severity, effect, "
	    "overridable, message, source, approvals, role, max_duration FROM finding_kinds "
	    "WHERE id = ?");
	if (st == NULL || id <= 0 || id > KIND_ID_MAX)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	const finding_row *out = NULL;
	finding_row f;
	if (sqlite3_step(st) == SQLITE_ROW && kind_columns(st, 0, &f)) {
		kind_key(&s->kind_key, &f);
		out = remember(k, id, &f, &s->kind_key);
	}
	sqlite3_reset(st);
	return out;
}

/* What a rolled-back transaction added is gone: every kind the connection
 * knew is forgotten, to be read again. */
static void forget(store *s)
{
	struct finding_kinds *k = s->kinds;
	if (k == NULL)
		return;
	strmap_free(&k->by_key);
	kind_table_free(&k->ids);
	free(k);
	s->kinds = NULL;
}

static void settle(store *s, bool committed)
{
	struct finding_kinds *k = s->kinds;
	if (k == NULL || !k->pending)
		return;
	k->pending = false;
	if (!committed)
		forget(s);
}

static void kinds_free(store *s, void *ctx)
{
	(void)ctx;
	forget(s);
	free(s->kind_key.s);
	s->kind_key = (strbuf){ 0 };
}

bool kind_table_read(store *s, kind_table *t)
{
	memset(t, 0, sizeof *t);
	t->a = arena_new();
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT id, policy, type, severity, effect, overridable, "
	    "message, source, approvals, role, max_duration FROM finding_kinds ORDER BY id", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the findings' kinds");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		finding_row f;
		/* a kind without a field every finding has names nothing: its
		 * findings are refused as naming no kind */
		if (!kind_columns(st, 1, &f) || id <= 0 || id > KIND_ID_MAX)
			continue;
		kind_table_put(t, id, &f);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || store_fail(s, "cannot read the findings' kinds");
}

void kind_table_free(kind_table *t)
{
	arena_free(t->a);
	memset(t, 0, sizeof *t);
}
