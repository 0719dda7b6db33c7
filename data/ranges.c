/*
 * ranges.c: what the filters of a listing (list.c) and of the audit log
 * (audit_read.c) turn into before they touch a row.
 *
 * A time window becomes a range of keys. Submission ids and audit seqs are
 * assigned under the write lock together with their times, so time grows
 * with the key, and the keys of a window are found by binary search: about
 * twenty point lookups at a million rows, where a time column scanned (or
 * indexed, which every write would pay for) costs the table. The callers
 * still test each row's own time, so a clock that stepped back can hide a
 * row near a bound but never show one outside the window.
 *
 * A glob becomes the distinct values of an indexed column that it matches,
 * each then walked as an index range in id order. They are found by
 * skipping through the index (one seek per distinct value, from the glob's
 * literal prefix on), which is cheap while a column holds a few hundred
 * distinct actions or policy names. Beyond that the glob is left to each
 * row, through arbiter_glob(pattern, text), the engine's glob as an SQL
 * function.
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

void glob_values_free(glob_values *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	memset(g, 0, sizeof *g);
}

static void add_value(glob_values *g, const char *v)
{
	char **grown = realloc(g->v, (g->n + 1) * sizeof *grown);
	char *copy = strdup(v);
	if (grown == NULL || copy == NULL)
		abort();
	g->v = grown;
	g->v[g->n++] = copy;
}

/* Distinct values visited before the glob is left to the rows. */
enum { VISIT_MAX = 1024 };

bool glob_values_find(store *s, const char *table, const char *column, const char *index,
    const char *pat, size_t max, glob_values *out)
{
	memset(out, 0, sizeof *out);
	glob g;
	size_t plen = strlen(pat);
	glob_compile(&g, pat, plen);
	if (g.shape == GLOB_EXACT) {    /* the value itself, present or not */
		add_value(out, pat);
		return true;
	}
	size_t literal = strcspn(pat, "*?[\\");
	char sql[256];
	sqlite3_stmt *first, *next;
	char by[96] = "";
	if (index != NULL)
		snprintf(by, sizeof by, " INDEXED BY %s", index);
	snprintf(sql, sizeof sql, "SELECT %s FROM %s%s WHERE %s >= ?1 ORDER BY %s LIMIT 1",
	    column, table, by, column, column);
	if (sqlite3_prepare_v2(s->db, sql, -1, &first, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the index");
	snprintf(sql, sizeof sql, "SELECT %s FROM %s%s WHERE %s > ?1 ORDER BY %s LIMIT 1",
	    column, table, by, column, column);
	if (sqlite3_prepare_v2(s->db, sql, -1, &next, NULL) != SQLITE_OK) {
		sqlite3_finalize(first);
		return store_fail(s, "cannot read the index");
	}
	sqlite3_bind_text(first, 1, pat, (int)literal, SQLITE_STATIC);
	sqlite3_stmt *st = first;
	int rc;
	for (int visited = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; visited++) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		int len = sqlite3_column_bytes(st, 0);
		/* past the values that start with the prefix: no more can match */
		if (v == NULL || (size_t)len < literal || memcmp(v, pat, literal) != 0)
			break;
		if (glob_test(&g, v, (size_t)len)) {
			if (out->n == max) {
				out->many = true;
				break;
			}
			add_value(out, v);
		}
		if (visited == VISIT_MAX) {
			out->many = true;
			break;
		}
		/* v belongs to st until it is reset, and next takes a binding
		 * only once reset */
		char *last = malloc((size_t)len + 1);
		if (last == NULL)
			abort();
		memcpy(last, v, (size_t)len);
		last[len] = '\0';
		sqlite3_reset(st);
		sqlite3_bind_text(next, 1, last, len, free);
		st = next;
	}
	bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE || store_fail(s, "cannot read the index");
	sqlite3_finalize(first);
	sqlite3_finalize(next);
	if (!ok || out->many) {
		bool many = out->many;
		glob_values_free(out);
		out->many = many;
	}
	return ok;
}

static void glob_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *pat = (const char *)sqlite3_value_text(argv[0]);
	const char *text = (const char *)sqlite3_value_text(argv[1]);
	if (pat == NULL || text == NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	sqlite3_result_int(ctx, glob_match(pat, (size_t)sqlite3_value_bytes(argv[0]), text,
	    (size_t)sqlite3_value_bytes(argv[1])));
}

bool glob_function(store *s)
{
	return sqlite3_create_function_v2(s->db, "arbiter_glob", 2, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, glob_sql, NULL, NULL, NULL) == SQLITE_OK ||
	    store_fail(s, "cannot register arbiter_glob");
}

/* Binds the time t as the column holds it. */
static void bind_time(sqlite3_stmt *st, int i, const time_column *c, int64_t t)
{
	if (c->text) {
		char ts[32];
		format_time(t, ts);
		sqlite3_bind_text(st, i, ts, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_int64(st, i, t);
	}
}

/* The first key in [from, to] whose row's time compares to t by op (">="
 * or ">"), on the assumption that time grows with the key; to + 1 when
 * none. -1 on error. */
static int64_t first_key(store *s, const time_column *c, const char *op, int64_t t, int64_t from,
    int64_t to)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT %s, %s %s ?2 FROM %s WHERE %s >= ?1 ORDER BY %s LIMIT 1",
	    c->key, c->time, op, c->table, c->key, c->key);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the time window"), -1;
	bind_time(st, 2, c, t);
	/* the smallest key k in [from, to] for which the first row at or after
	 * k holds: from then on every row does */
	int64_t lo = from, hi = to + 1, found = to + 1;
	int rc = SQLITE_DONE;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		sqlite3_bind_int64(st, 1, mid);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_int(st, 1)) {
			hi = mid;
			found = sqlite3_column_int64(st, 0);
		} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
			lo = mid + 1;
		} else {
			break;
		}
		rc = SQLITE_DONE;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "cannot read the time window"), -1;
	return found;
}

bool time_keys(store *s, const time_column *c, int64_t since_ms, int64_t until_ms, int64_t *lo,
    int64_t *hi)
{
	char sql[128];
	/* two subqueries: each is one seek, where min and max together scan */
	snprintf(sql, sizeof sql, "SELECT (SELECT min(%s) FROM %s), (SELECT max(%s) FROM %s)", c->key,
	    c->table, c->key, c->table);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the time window");
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_fail(s, "cannot read the time window");
	}
	bool empty = sqlite3_column_type(st, 0) == SQLITE_NULL;
	int64_t min = sqlite3_column_int64(st, 0), max = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (empty) {
		*lo = 1;
		*hi = 0;
		return true;
	}
	*lo = min;
	*hi = max;
	if (since_ms != 0 && (*lo = first_key(s, c, ">=", since_ms, min, max)) < 0)
		return false;
	if (until_ms != 0) {
		int64_t after = first_key(s, c, ">", until_ms, *lo <= max ? *lo : max, max);
		if (after < 0)
			return false;
		*hi = after - 1;
	}
	return true;
}
