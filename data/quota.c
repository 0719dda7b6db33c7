/*
 * quota.c: quota usage, and the history quota rules read.
 *
 * Each use of a quota is a quota_usage row. quota_totals sums the uses per
 * second, minute, hour and day, so that any window's history is four range
 * sums (quota_history). The writer keeps those sums, not a trigger: while a
 * transaction is open its uses are also kept in memory, per policy and key,
 * and store_commit writes each sum they touch once (quota_flush), so a batch
 * of a thousand submissions writes tens of sums instead of four thousand.
 * Until then quota_history adds the uses still in memory; the stored part of
 * each answer is read once per transaction, since only this transaction
 * could change it. What is kept is the transaction's slot KEEP_QUOTA_SUMS
 * (store_keep): written at commit (quota_flush), forgotten by a rollback or
 * a new transaction (quota_drop).
 *
 * Only submissions that were not refused count (PRODUCT.md section 3:
 * allowed, pending, approved, overridden, expired; not blocked or
 * rejected). A refused one's uses are kept as rows, out of the sums; when
 * its status moves across that line (an override of a blocked submission,
 * a rejection, an evaluation again) quota_recount adds its uses to the sums
 * or takes them out, at the times they were made. An evaluation again
 * replaces a submission's uses with its own (reevaluate.c), and a reported
 * outcome raises them to its actual amounts (quota_raise_to_actuals, for
 * ops_outcome.c and reevaluate.c alike).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

typedef struct pending_use {
	int64_t at_ms;
	double amount;
} pending_use;

/* One policy and per value (or none) touched in the open transaction. */
typedef struct quota_key {
	const char *policy, *per;       /* per is NULL for a quota without per */
	pending_use *uses;                /* recorded in this transaction */
	size_t n, cap;
	bool stored_known;              /* stored_total holds the sum from stored_since */
	int64_t stored_since;
	double stored_total;
	struct quota_key *next;
} quota_key;

typedef struct quota_pending {
	arena *a;
	strmap keys;
	quota_key *all;
} quota_pending;

static bool quota_flush(store *s, void *ctx);
static void quota_drop(store *s, void *ctx);
static const store_keeper keeper = { quota_flush, quota_drop };

static const int units[] = { 1, 60, 3600, 86400 };

/* The entry of (policy, per), made on first use. Its key in the table is
 * the policy's length, the policy, then the per value with its terminator
 * when there is one (so that no per and an empty per differ). */
static quota_key *key_of(store *s, const char *name, const char *per)
{
	quota_pending *q = store_kept(s, KEEP_QUOTA_SUMS);
	if (q == NULL) {
		q = calloc(1, sizeof *q);
		if (q == NULL)
			abort();
		q->a = arena_new();
		store_keep(s, KEEP_QUOTA_SUMS, &keeper, q);
	}
	uint64_t plen = strlen(name);
	size_t vlen = per ? strlen(per) + 1 : 0, klen = 8 + plen + vlen;
	char *k = arena_alloc(q->a, klen);
	memcpy(k, &plen, 8);
	memcpy(k + 8, name, plen);
	if (per)
		memcpy(k + 8 + plen, per, vlen);
	quota_key *found = strmap_get(&q->keys, k, klen);
	if (found != NULL)
		return found;
	quota_key *e = arena_alloc(q->a, sizeof *e);
	memset(e, 0, sizeof *e);
	e->policy = arena_strdup(q->a, name);
	e->per = per ? arena_strdup(q->a, per) : NULL;
	strmap_put(&q->keys, k, klen, e);
	e->next = q->all;
	q->all = e;
	return e;
}

/* The stored sum of quota_usage at_ms >= since * 1000, from quota_totals:
 * [since, ∞) is the seconds up to the next whole minute, the minutes up to
 * the next whole hour, the hours up to the next whole day, then whole days. */
static bool stored_sum(store *s, const char *name, const char *per, int64_t since, double *out)
{
	sqlite3_stmt *st = store_stmt(s, SQL_QUOTA_SUM, "SELECT "
	    "(SELECT total(amount) FROM quota_totals WHERE policy = ?1 AND has_per = ?2 AND per = ?3 "
	    "AND unit = 1 AND start >= ?4 AND start < ?5) + "
	    "(SELECT total(amount) FROM quota_totals WHERE policy = ?1 AND has_per = ?2 AND per = ?3 "
	    "AND unit = 60 AND start >= ?5 / 60 AND start < ?6 / 60) + "
	    "(SELECT total(amount) FROM quota_totals WHERE policy = ?1 AND has_per = ?2 AND per = ?3 "
	    "AND unit = 3600 AND start >= ?6 / 3600 AND start < ?7 / 3600) + "
	    "(SELECT total(amount) FROM quota_totals WHERE policy = ?1 AND has_per = ?2 AND per = ?3 "
	    "AND unit = 86400 AND start >= ?7 / 86400)");
	if (st == NULL)
		return false;
	int64_t minute = (since + 59) / 60 * 60, hour = (minute + 3599) / 3600 * 3600,
	    day = (hour + 86399) / 86400 * 86400;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, per != NULL);
	sqlite3_bind_text(st, 3, per ? per : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, since);
	sqlite3_bind_int64(st, 5, minute);
	sqlite3_bind_int64(st, 6, hour);
	sqlite3_bind_int64(st, 7, day);
	bool ok = sqlite3_step(st) == SQLITE_ROW || store_fail(s, "cannot read the quota history");
	if (ok)
		*out = sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	return ok;
}

static bool quota_history(void *ctx, const quota_query *q, double *out, char *err, size_t errlen)
{
	store *s = ctx;
	int64_t since = q->since > 0 ? q->since : 0;
	if (sqlite3_get_autocommit(s->db)) {
		/* outside a transaction (a preview): nothing kept, nothing to keep */
		bool ok = stored_sum(s, q->policy->name, q->per_value, since, out);
		if (!ok)
			snprintf(err, errlen, "%s", s->err);
		return ok;
	}
	quota_key *k = key_of(s, q->policy->name, q->per_value);
	if (!k->stored_known || k->stored_since != since) {
		if (!stored_sum(s, k->policy, k->per, since, &k->stored_total)) {
			snprintf(err, errlen, "%s", s->err);
			return false;
		}
		k->stored_known = true;
		k->stored_since = since;
	}
	double total = k->stored_total;
	for (size_t i = 0; i < k->n; i++)
		if (k->uses[i].at_ms / 1000 >= since)
			total += k->uses[i].amount;
	*out = total;
	return true;
}

void store_history(store *s, history_source *h)
{
	h->quota = quota_history;
	h->ctx = s;
}

bool quota_status_counts(const char *status)
{
	return strcmp(status, "blocked") != 0 && strcmp(status, "rejected") != 0;
}

bool quota_record(store *s, int64_t submission_id, const char *name, const char *per,
    double amount, int64_t at_ms, bool counted)
{
	sqlite3_stmt *st = store_stmt(s, SQL_QUOTA_INSERT, "INSERT INTO quota_usage (policy, "
	    "per_value, amount, at_ms, submission_id) VALUES (?, ?, ?, ?, ?)");
	if (st == NULL)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (per)
		sqlite3_bind_text(st, 2, per, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_double(st, 3, amount);
	sqlite3_bind_int64(st, 4, at_ms);
	sqlite3_bind_int64(st, 5, submission_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_fail(s, "cannot store quota usage");
	if (!counted)
		return true;
	quota_key *k = key_of(s, name, per);
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 16;
		k->uses = realloc(k->uses, k->cap * sizeof *k->uses);
		if (k->uses == NULL)
			abort();
	}
	k->uses[k->n++] = (pending_use){ at_ms, amount };
	return true;
}

static bool add_total(store *s, const char *name, const char *per, int unit, int64_t start,
    double amount)
{
	sqlite3_stmt *st = store_stmt(s, SQL_QUOTA_TOTAL, "INSERT INTO quota_totals (policy, "
	    "has_per, per, unit, start, amount) VALUES (?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (policy, has_per, per, unit, start) DO UPDATE "
	    "SET amount = amount + excluded.amount");
	if (st == NULL)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, per != NULL);
	sqlite3_bind_text(st, 3, per ? per : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, unit);
	sqlite3_bind_int64(st, 5, start);
	sqlite3_bind_double(st, 6, amount);
	return sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot store quota totals");
}

static bool quota_flush(store *s, void *ctx)
{
	quota_pending *q = ctx;
	/* uses come in time order: each run of one second, minute, hour or day
	 * is one sum (a clock stepping back only splits a run) */
	for (quota_key *k = q->all; k != NULL; k = k->next) {
		for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
			size_t i = 0;
			while (i < k->n) {
				int64_t start = k->uses[i].at_ms / 1000 / units[u];
				double sum = 0;
				for (; i < k->n && k->uses[i].at_ms / 1000 / units[u] == start; i++)
					sum += k->uses[i].amount;
				if (!add_total(s, k->policy, k->per, units[u], start, sum))
					return false;
			}
		}
	}
	quota_drop(s, q);
	return true;
}

static void quota_drop(store *s, void *ctx)
{
	quota_pending *q = ctx;
	(void)s;
	for (quota_key *k = q->all; k != NULL; k = k->next)
		free(k->uses);
	strmap_free(&q->keys);
	arena_free(q->a);
	free(q);
}

bool quota_recount(store *s, int64_t submission_id, bool add)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT policy, per_value, amount, at_ms FROM quota_usage "
	    "WHERE submission_id = ?", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the quota usage");
	sqlite3_bind_int64(st, 1, submission_id);
	bool ok = true;
	int rc;
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *per = (const char *)sqlite3_column_text(st, 1);
		double amount = sqlite3_column_double(st, 2);
		int64_t at = sqlite3_column_int64(st, 3) / 1000;
		for (size_t u = 0; ok && u < sizeof units / sizeof units[0]; u++)
			ok = add_total(s, name, per, units[u], at / units[u], add ? amount : -amount);
	}
	if (ok && rc != SQLITE_DONE)
		ok = store_fail(s, "cannot read the quota usage");
	sqlite3_finalize(st);
	/* the stored sums read earlier in this transaction are stale now */
	quota_pending *q = store_kept(s, KEEP_QUOTA_SUMS);
	for (quota_key *k = q ? q->all : NULL; k != NULL; k = k->next)
		k->stored_known = false;
	return ok;
}

/* ---- a reported outcome's actual amounts (ops_outcome.c, reevaluate.c) ---- */

int64_t outcome_event(store *s, const char *subject, struct json_t **details)
{
	sqlite3_stmt *st;
	if (details != NULL)
		*details = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT seq, details FROM audit WHERE subject = ? AND event = "
	    "'submission.outcome' ORDER BY seq LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log"), -1;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
	if (seq < 0)
		store_fail(s, "cannot read the audit log");
	if (seq > 0 && details != NULL &&
	    (*details = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL)) == NULL) {
		snprintf(s->err, sizeof s->err, "submission %s: the details of its submission.outcome "
		    "event do not read as JSON (arbiter audit verify checks the chain)", subject);
		seq = -1;
	}
	sqlite3_finalize(st);
	return seq;
}

/* The quota policy of ps named name that sums a top-level field, and that
 * field's actual_ member of o: its value, or -1 when none counts. */
static double actual_for(const policy_set *ps, const char *name, const json_t *o)
{
	for (size_t i = 0; ps != NULL && i < ps->n; i++) {
		const policy *p = &ps->items[i];
		if (p->name == NULL || strcmp(p->name, name) != 0)
			continue;
		const char *field = p->type == RULE_QUOTA && p->field != NULL &&
		    expr_is_path(p->field) ? expr_first_field(p->field) : NULL;
		if (field == NULL || field[strcspn(field, ".[")] != '\0')
			return -1;
		char key[160];
		snprintf(key, sizeof key, "actual_%s", field);
		const json_t *v = json_object_get(o, key);
		return json_is_number(v) ? json_number_value(v) : -1;
	}
	return -1;
}

typedef struct use_row {
	char *policy, *per;
	double amount;
	int64_t at_ms;
} use_row;

bool quota_raise_to_actuals(store *s, const policy_set *ps, int64_t id, const json_t *o,
    bool counted, int *raised)
{
	*raised = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT policy, per_value, amount, at_ms FROM quota_usage "
	    "WHERE submission_id = ? ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the quota usage");
	sqlite3_bind_int64(st, 1, id);
	use_row *uses = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			uses = realloc(uses, cap * sizeof *uses);
			if (uses == NULL)
				abort();
		}
		const char *per = (const char *)sqlite3_column_text(st, 1);
		uses[n].policy = strdup((const char *)sqlite3_column_text(st, 0));
		uses[n].per = per ? strdup(per) : NULL;
		uses[n].amount = sqlite3_column_double(st, 2);
		uses[n].at_ms = sqlite3_column_int64(st, 3);
		if (uses[n].policy == NULL || (per != NULL && uses[n].per == NULL))
			abort();
		n++;
	}
	sqlite3_finalize(st);
	bool ok = rc == SQLITE_DONE || store_fail(s, "cannot read the quota usage");
	for (size_t i = 0; ok && i < n; i++) {
		double actual = actual_for(ps, uses[i].policy, o);
		if (actual > uses[i].amount) {
			ok = quota_record(s, id, uses[i].policy, uses[i].per, actual - uses[i].amount,
			    uses[i].at_ms, counted);
			*raised += ok;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(uses[i].policy);
		free(uses[i].per);
	}
	free(uses);
	return ok;
}
