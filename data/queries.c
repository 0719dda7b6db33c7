/*
 * queries.c: reading submissions back for show, wait and stats, and what
 * listings (list.c) share with them.
 *
 * Everything here must stay fast with a million submissions, so every query
 * either reads by key or aggregates over covering indexes. The status shown
 * is the status as it reads now: an override past its expires_at reads as
 * expired (times are RFC 3339 UTC text, which compares in time order).
 * --since in stats is turned into a submission id once (ids grow with
 * created_ms: both are assigned under the write lock), so the windowed
 * aggregates are rowid range scans.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

#define NSTATUS (ST_EXPIRED + 1)

static const char *text_or_null(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

void query_read_row(sqlite3_stmt *st, sub_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->ref = text_or_null(st, 1);
	r->kind = text_or_null(st, 2);
	r->action = text_or_null(st, 3);
	r->title = text_or_null(st, 4);
	r->submitter = text_or_null(st, 5);
	r->ref_len = (size_t)sqlite3_column_bytes(st, 1);
	r->title_len = (size_t)sqlite3_column_bytes(st, 4);
	r->submitter_len = (size_t)sqlite3_column_bytes(st, 5);
	r->status = text_or_null(st, 6);
	r->created_at = text_or_null(st, 7);
	r->created_ms = sqlite3_column_int64(st, 8);
	r->counts[0] = sqlite3_column_int(st, 9);
	r->counts[1] = sqlite3_column_int(st, 10);
	r->counts[2] = sqlite3_column_int(st, 11);
	r->policy_version = sqlite3_column_int(st, 12);
	r->decided_at = text_or_null(st, 13);
	r->expires_at = text_or_null(st, 14);
	r->digest = text_or_null(st, 15);
}

bool query_status_filter_valid(const char *word)
{
	if (strcmp(word, "waiting") == 0 || strcmp(word, "decided") == 0 || strcmp(word, "all") == 0)
		return true;
	for (size_t i = 0; i < NSTATUS; i++)
		if (strcmp(word, status_name((int)i)) == 0)
			return true;
	return false;
}

/* One UNION ALL branch: stored status, and how its expiry is read. */
enum { EXP_ANY, EXP_LIVE, EXP_PAST };
typedef struct branch {
	const char *stored;
	int expiry;
} branch;

static size_t branches_for(const char *filter, branch out[8])
{
	size_t n = 0;
	if (strcmp(filter, "waiting") == 0) {
		out[n++] = (branch){ "pending", EXP_ANY };
		out[n++] = (branch){ "blocked", EXP_ANY };
	} else if (strcmp(filter, "decided") == 0) {
		out[n++] = (branch){ "approved", EXP_ANY };
		out[n++] = (branch){ "rejected", EXP_ANY };
		out[n++] = (branch){ "overridden", EXP_ANY };
		out[n++] = (branch){ "expired", EXP_ANY };
	} else if (strcmp(filter, "overridden") == 0) {
		out[n++] = (branch){ "overridden", EXP_LIVE };
	} else if (strcmp(filter, "expired") == 0) {
		out[n++] = (branch){ "expired", EXP_ANY };
		out[n++] = (branch){ "overridden", EXP_PAST };
	} else {
		for (size_t i = 0; i < NSTATUS; i++)
			if (strcmp(filter, status_name((int)i)) == 0)
				out[n++] = (branch){ status_name((int)i), EXP_ANY };
	}
	return n;
}

int query_status_stored(const char *filter, const char *reads[8], bool *recheck)
{
	*recheck = strcmp(filter, "overridden") == 0 || strcmp(filter, "expired") == 0;
	if (strcmp(filter, "all") == 0)
		return 0;
	branch br[8];
	size_t n = branches_for(filter, br);
	for (size_t i = 0; i < n; i++)
		reads[i] = br[i].stored;
	return n > 0 ? (int)n : -1;
}

int64_t query_count(store *s, const char *filter)
{
	branch br[8];
	size_t nb = branches_for(filter, br);
	int64_t total = 0;
	for (size_t i = 0; i < nb; i++) {
		char sql[256];
		/* a stored status that does not expire is one row of status_counts */
		bool counted = br[i].expiry == EXP_ANY && strcmp(br[i].stored, "overridden") != 0 &&
		    strcmp(br[i].stored, "expired") != 0;
		if (counted)
			snprintf(sql, sizeof sql, "SELECT ifnull((SELECT n FROM status_counts WHERE "
			    "status = '%s'), 0)", br[i].stored);
		else
			snprintf(sql, sizeof sql, "SELECT count(*) FROM submissions WHERE status = '%s'%s",
			    br[i].stored, br[i].expiry == EXP_LIVE ?
			    " AND (expires_at IS NULL OR expires_at > :now)" :
			    br[i].expiry == EXP_PAST ? " AND expires_at <= :now" : "");
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return store_fail(s, "cannot count submissions"), -1;
		store_bind_now(st);
		if (sqlite3_step(st) == SQLITE_ROW)
			total += sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return total;
}

/* A ref that several submitters use: which submissions it names, in
 * s->err, for the caller to show. */
static void say_ambiguous(store *s, const char *ref)
{
	sqlite3_stmt *st;
	strbuf b = { 0 };
	int64_t n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id, submitter FROM submissions WHERE ref = ? "
	    "ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (++n > 4)
				continue;
			const char *who = text_or_null(st, 1);
			char line[128];
			snprintf(line, sizeof line, "%s#%lld (%s%.48s)", n > 1 ? ", " : "",
			    (long long)sqlite3_column_int64(st, 0), who ? "submitter " : "no submitter",
			    who ? who : "");
			sb_puts(&b, line);
		}
		sqlite3_finalize(st);
	}
	snprintf(s->err, sizeof s->err, "ref %.100s names %lld submissions of different submitters: "
	    "%s%s; give the id of one", ref, (long long)n, b.s ? b.s : "", n > 4 ? ", ..." : "");
	free(b.s);
}

int query_get_for(store *s, const char *key, const char *submitter, sub_row *r)
{
	memset(r, 0, sizeof *r);
	bool numeric = *key != '\0' && strspn(key, "0123456789") == strlen(key) && strlen(key) < 19;
	char sql[512];
	/* a ref alone reads submissions_ref by its first column, with the number
	 * of rows it names; with the submitter, by both: the index's expression */
	snprintf(sql, sizeof sql, "SELECT " ROW_COLUMNS ", document, count(*) OVER () FROM "
	    "submissions WHERE %s%s ORDER BY id LIMIT 1", numeric ? "id = :key" : "ref = :key",
	    submitter ? " AND ifnull(submitter, '') = :submitter" : "");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the submission"), -1;
	store_bind_now(st);
	int k = sqlite3_bind_parameter_index(st, ":key");
	if (numeric)
		sqlite3_bind_int64(st, k, strtoll(key, NULL, 10));
	else
		sqlite3_bind_text(st, k, key, -1, SQLITE_TRANSIENT);
	if (submitter)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":submitter"), submitter, -1,
		    SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 17) > 1) {
		sqlite3_finalize(st);
		say_ambiguous(s, key);
		return -2;
	}
	if (rc == SQLITE_ROW) {
		query_read_row(st, r);
		r->document = text_or_null(st, 16);
		r->stmt = st;
		return 1;
	}
	if (rc != SQLITE_DONE)
		store_fail(s, "cannot read the submission");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int query_get(store *s, const char *key, sub_row *r)
{
	return query_get_for(s, key, NULL, r);
}

void query_row_done(sub_row *r)
{
	sqlite3_finalize(r->stmt);
	r->stmt = NULL;
}

int query_status(store *s, int64_t id, char out[16])
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT " EFFECTIVE_STATUS " FROM submissions WHERE id = :id",
	    -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the status"), -1;
	store_bind_now(st);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, 16, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		store_fail(s, "cannot read the status");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A column as a JSON string: whole (a submitter may hold NUL), and present
 * even when it is not UTF-8 (an actor is any --as). */
static json_t *text_json(sqlite3_stmt *st, int col)
{
	const char *t = text_or_null(st, col);
	return json_string_lossy(t, t ? (size_t)sqlite3_column_bytes(st, col) : 0);
}

json_t *query_result(store *s, const sub_row *r)
{
	const char *stored_status = NULL;
	char *text = store_result_json(s, r->id, &stored_status);
	/* a title or ref may hold \u0000 */
	json_t *j = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
	free(text);
	if (j == NULL) {
		snprintf(s->err, sizeof s->err, "submission %lld: its stored result cannot be read",
		    (long long)r->id);
		return NULL;
	}
	/* the stored result has the status of its evaluation: give the current one */
	json_object_set_new(j, "status", json_string(r->status));
	json_object_set_new(j, "created_at", json_string(r->created_at));
	if (r->decided_at)
		json_object_set_new(j, "decided_at", json_string(r->decided_at));
	if (r->expires_at)
		json_object_set_new(j, "expires_at", json_string(r->expires_at));
	return j;
}

/* Runs a query bound to id and turns each row into an object. */
static json_t *rows_json(store *s, const char *sql, int64_t id, const char *const *names,
    const char *what)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, what);
		return NULL;
	}
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; names[i]; i++) {
			json_t *v;
			if (strcmp(names[i], "overridable") == 0) {
				v = json_boolean(sqlite3_column_int(st, i));
			} else if (strcmp(names[i], "seq") == 0 || strcmp(names[i], "approvals") == 0 ||
			    strcmp(names[i], "max_duration") == 0) {
				v = json_integer(sqlite3_column_int64(st, i));
			} else if (strcmp(names[i], "details") == 0) {
				v = json_loads(text_or_null(st, i) ? text_or_null(st, i) : "{}",
				    JSON_ALLOW_NUL, NULL);
				if (v == NULL)
					v = text_json(st, i);
			} else {
				v = text_json(st, i);
			}
			json_object_set_new(o, names[i], v);
		}
		json_array_append_new(arr, o);
	}
	if (rc != SQLITE_DONE) {
		store_fail(s, what);
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(st);
	return arr;
}

json_t *query_findings(store *s, int64_t id)
{
	static const char *const names[] = { "policy", "type", "severity", "effect", "overridable",
		"message", "detail", "path", "source", "approvals", "role", "max_duration", NULL };
	return rows_json(s, "SELECT policy, type, severity, effect, overridable, message, detail, "
	    "path, source, approvals, role, max_duration FROM findings WHERE submission_id = :id "
	    "ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, position", id,
	    names, "cannot read the findings");
}

json_t *query_decisions(store *s, int64_t id)
{
	static const char *const names[] = { "reviewer", "decision", "note", "at", "expires_at",
		NULL };
	return rows_json(s, "SELECT reviewer, decision, note, at, expires_at FROM decisions "
	    "WHERE submission_id = :id ORDER BY id", id, names, "cannot read the decisions");
}

json_t *query_events(store *s, int64_t id)
{
	static const char *const names[] = { "seq", "ts", "actor", "event", "details", NULL };
	return rows_json(s, "SELECT seq, ts, actor, event, details FROM audit "
	    "WHERE subject = CAST(:id AS TEXT) ORDER BY seq", id, names, "cannot read the audit events");
}

/* Prepares sql with "%s" replaced by its source: the table, or within the
 * window (since_id > 0) the given windowed source, and binds :since_id. The
 * windowed sources name their access path: left to itself the planner
 * prefers a covering index over the whole table to a short rowid range. */
static sqlite3_stmt *windowed(store *s, const char *sql, const char *table, const char *window,
    int64_t since_id)
{
	char buf[1024];
	snprintf(buf, sizeof buf, sql, since_id > 0 ? window : table);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, buf, -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "cannot compute the statistics");
		return NULL;
	}
	store_bind_now(st);
	int i = sqlite3_bind_parameter_index(st, ":since_id");
	if (i > 0)
		sqlite3_bind_int64(st, i, since_id);
	return st;
}

#define SUBS "submissions", "submissions NOT INDEXED WHERE id > :since_id"

static bool finish(store *s, sqlite3_stmt *st, int rc)
{
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || store_fail(s, "cannot compute the statistics");
}

json_t *query_stats(store *s, int64_t since_ms, int top)
{
	int64_t since_id = 0;
	sqlite3_stmt *st;
	int rc;
	if (since_ms > 0) {
		/* the newest submission before the window: everything after it is inside */
		if (sqlite3_prepare_v2(s->db, "SELECT id FROM submissions WHERE created_ms < :since "
		    "ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
			store_fail(s, "cannot compute the statistics");
			return NULL;
		}
		sqlite3_bind_int64(st, 1, since_ms);     /* the only parameter */
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			since_id = sqlite3_column_int64(st, 0);
		if (!finish(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc))
			return NULL;
		/* since_id 0: no submission is older, the window holds them all */
	}
	json_t *out = json_object();
	char ts[32];
	if (since_ms > 0)
		format_time(since_ms, ts);
	json_object_set_new(out, "since", since_ms > 0 ? json_string(ts) : json_null());

	/* submissions per status */
	int64_t counts[NSTATUS] = { 0 }, total = 0;
	st = windowed(s, "SELECT status, count(*) FROM %s GROUP BY status", SUBS, since_id);
	if (st == NULL)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = text_or_null(st, 0);
		int64_t n = sqlite3_column_int64(st, 1);
		total += n;
		for (size_t i = 0; i < NSTATUS; i++)
			if (name && strcmp(name, status_name((int)i)) == 0)
				counts[i] += n;
	}
	if (!finish(s, st, rc))
		goto fail;
	st = windowed(s, "SELECT count(*) FROM submissions WHERE status = 'overridden' AND "
	    "expires_at <= :now AND id > %s", "0", ":since_id", since_id);
	if (st == NULL)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t expired = sqlite3_column_int64(st, 0);
		counts[5] -= expired;
		counts[6] += expired;
		rc = SQLITE_DONE;
	}
	if (!finish(s, st, rc))
		goto fail;
	json_t *by_status = json_object();
	for (size_t i = 0; i < NSTATUS; i++)
		json_object_set_new(by_status, status_name((int)i), json_integer(counts[i]));
	int64_t decided = counts[3] + counts[4] + counts[5] + counts[6];
	json_object_set_new(out, "submissions", json_integer(total));
	json_object_set_new(out, "statuses", by_status);
	json_object_set_new(out, "decided", json_integer(decided));
	/* an expired override was an override */
	json_object_set_new(out, "override_rate",
	    json_real(decided ? (double)(counts[5] + counts[6]) / (double)decided : 0.0));
	json_object_set_new(out, "rejection_rate",
	    json_real(decided ? (double)counts[4] / (double)decided : 0.0));

	/* findings per policy and severity, most findings first */
	/* within the window, each policy's range of finding_policies from its
	 * first id in it: the policies found one seek each, in order */
	st = windowed(s, "SELECT policy, sum(critical), sum(warning), sum(info), "
	    "sum(critical + warning + info) AS n FROM %s GROUP BY policy "
	    "ORDER BY n DESC, policy", "finding_policies", "(WITH RECURSIVE named (policy) AS ("
	    "SELECT min(policy) FROM finding_policies UNION ALL SELECT (SELECT min(policy) FROM "
	    "finding_policies WHERE policy > named.policy) FROM named WHERE named.policy IS NOT NULL) "
	    "SELECT f.policy, f.critical, f.warning, f.info FROM named, finding_policies f "
	    "WHERE f.policy = named.policy AND f.submission_id > :since_id)", since_id);
	if (st == NULL)
		goto fail;
	json_t *policies = json_array();
	int64_t sev[3] = { 0 };
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < 3; i++)
			sev[i] += sqlite3_column_int64(st, i + 1);
		json_array_append_new(policies, json_pack("{s:s,s:I,s:I,s:I,s:I}", "policy",
		    text_or_null(st, 0), "critical", (json_int_t)sqlite3_column_int64(st, 1),
		    "warning", (json_int_t)sqlite3_column_int64(st, 2), "info",
		    (json_int_t)sqlite3_column_int64(st, 3), "total",
		    (json_int_t)sqlite3_column_int64(st, 4)));
	}
	json_object_set_new(out, "findings", json_pack("{s:I,s:I,s:I,s:I,s:o}", "total",
	    (json_int_t)(sev[0] + sev[1] + sev[2]), "critical", (json_int_t)sev[0], "warning",
	    (json_int_t)sev[1], "info", (json_int_t)sev[2], "policies", policies));
	if (!finish(s, st, rc))
		goto fail;

	/* top submitters by count */
	st = windowed(s, "SELECT submitter, count(*) AS n FROM %s GROUP BY submitter "
	    "ORDER BY n DESC, submitter LIMIT :top", SUBS, since_id);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":top"), top);
	json_t *subs = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(subs, json_pack("{s:o,s:I}", "submitter", text_json(st, 0),
		    "submissions", (json_int_t)sqlite3_column_int64(st, 1)));
	json_object_set_new(out, "top_submitters", subs);
	if (!finish(s, st, rc))
		goto fail;
	return out;
fail:
	json_decref(out);
	return NULL;
}
