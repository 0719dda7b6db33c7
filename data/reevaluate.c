/*
 * reevaluate.c: evaluating a waiting submission again under the current
 * policy version (arbiter reevaluate).
 *
 * The stored document (canonical JSON) is read back, its digest computed
 * again and checked against the one the signed submission.create names
 * (evidence_document: a document swapped in the database is refused as
 * tampering, OUT_TAMPERED), evaluated, and its findings, status, counts,
 * modifications and policy version replaced, with a submission.reevaluate
 * event naming the statuses and versions before and after and that digest,
 * in the caller's transaction. Partial
 * overrides given before it no longer count (evidence_store.c counts those
 * signed after the last evaluation's event). The submission's
 * own quota usage, recorded when it was created, is taken out of the history
 * it is evaluated against, so that it is not counted twice, and is then
 * replaced by the uses of this evaluation, at the submission's time (so in
 * the windows of its submission): a quota rule added since counts it, one
 * removed no longer does. A reported outcome (its submission.outcome event,
 * the only record of it) raises the new uses to its actual amounts again,
 * as when it was reported, so the submission still counts max(estimate,
 * actual).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

typedef struct own_history {
	history_source store_history;
	store *s;
	int64_t id;
	bool counted;           /* its uses are in the sums (its status counts) */
} own_history;

static bool quota_without_own(void *ctx, const quota_query *q, double *out, char *err,
    size_t errlen)
{
	own_history *h = ctx;
	double total = 0;
	if (!h->store_history.quota(h->store_history.ctx, q, &total, err, errlen))
		return false;
	if (!h->counted) {
		*out += total;
		return true;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(h->s->db, "SELECT total(amount) FROM quota_usage WHERE "
	    "submission_id = ? AND policy = ? AND per_value IS ? AND at_ms >= ?", -1, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(h->s->db));
		return false;
	}
	sqlite3_bind_int64(st, 1, h->id);
	sqlite3_bind_text(st, 2, q->policy->name, -1, SQLITE_STATIC);
	if (q->per_value)
		sqlite3_bind_text(st, 3, q->per_value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (q->since > 0 ? q->since : 0) * 1000);
	if (sqlite3_step(st) == SQLITE_ROW)
		total -= sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	*out += total > 0 ? total : 0;
	return true;
}

/* The row of submission id as r says, its findings column and their rows
 * per policy included (those of its earlier findings deleted first). */
static bool update_row(store *s, int64_t id, int version, const eval_result *r,
    char findings[65])
{
	strbuf mods = { 0 }, found = { 0 };
	if (r->nmods > 0)
		result_write_modifications(&mods, r);
	sqlite3_stmt *st;
	bool ok = findings_column_write(s, &found, r, findings) && findings_policies_delete(s, id);
	if (ok && sqlite3_prepare_v2(s->db, "UPDATE submissions SET status = ?, policy_version = ?, "
	    "modifications = ?, info = ?, warning = ?, critical = ?, evaluated_ms = ?, findings = ? "
	    "WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		ok = store_fail(s, "cannot update the submission");
	if (ok) {
		sqlite3_bind_text(st, 1, status_name(r->status), -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, version);
		if (mods.s != NULL)
			sqlite3_bind_text(st, 3, mods.s, (int)mods.n, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int(st, 4, r->counts[SEV_INFO]);
		sqlite3_bind_int(st, 5, r->counts[SEV_WARNING]);
		sqlite3_bind_int(st, 6, r->counts[SEV_CRITICAL]);
		sqlite3_bind_int64(st, 7, now_ms());
		findings_column_bind(st, 8, &found);
		sqlite3_bind_int64(st, 9, id);
		ok = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_finalize(st);
		if (!ok)
			store_fail(s, "cannot update the submission");
	}
	free(mods.s);
	free(found.s);
	return ok && findings_policies_insert(s, id, r);
}

/* Submission id's quota uses replaced by r's, at at_ms (in the sums when
 * counts), raised again to the actual amounts of its reported outcome (the
 * rows are new: none was raised yet).
 * Its earlier uses were in the sums when counted. */
static bool replace_uses(store *s, const policy_set *ps, int64_t id, const char *key,
    int64_t at_ms, bool counted, bool counts, const eval_result *r)
{
	if (counted && !quota_recount(s, id, false))
		return false;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM quota_usage WHERE submission_id = ?", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot replace the quota usage");
	sqlite3_bind_int64(st, 1, id);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot replace the quota usage");
	sqlite3_finalize(st);
	for (size_t i = 0; ok && i < r->nuses; i++)
		ok = quota_record(s, id, r->uses[i].policy->name, r->uses[i].per_value,
		    r->uses[i].amount, at_ms, counts);
	json_t *o = NULL;
	int raised;
	ok = ok && outcome_event(s, key, &o) >= 0 &&
	    (o == NULL || quota_raise_to_actuals(s, ps, id, o, counts, &raised));
	json_decref(o);
	return ok;
}

outcome store_reevaluate(store *s, const policy_set *ps, int version, int64_t id,
    const eval_options *o, const char *actor, char before[16], eval_result *r)
{
	sub_row row;
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	int found = query_get(s, key, &row);
	if (found <= 0) {
		if (found == 0)
			snprintf(s->err, sizeof s->err, "no submission %lld", (long long)id);
		return found == 0 ? OUT_NOT_FOUND : OUT_IO_ERROR;
	}
	snprintf(before, 16, "%s", row.status);
	char digest[65], findings[65];
	snprintf(digest, sizeof digest, "%s", row.digest ? row.digest : "");
	int old_version = row.policy_version;
	int64_t created_ms = row.created_ms;
	bool waiting = strcmp(row.status, "pending") == 0 || strcmp(row.status, "blocked") == 0;
	if (!waiting) {
		snprintf(s->err, sizeof s->err, "submission %lld is %s: only a waiting (pending or "
		    "blocked) submission is evaluated again", (long long)id, row.status);
		query_row_done(&row);
		return OUT_WRONG_STATE;
	}
	arena *a = arena_new();
	diags errs = { 0 };
	bool empty;
	char file[48];
	snprintf(file, sizeof file, "submission %lld", (long long)id);
	/* as it was accepted: a document stored before integers were kept
	 * within 2^53 may hold larger ones */
	node *doc = doc_parse_kept(a, file, row.document, strlen(row.document), &empty,
	    &errs);
	/* the submitter is the one stored (through the server, the identity the
	 * document may not name), as a name when it is one */
	char submitter[IDENTITY_NAME_MAX + 1] = "";
	if (row.submitter != NULL && !identity_name_n(row.submitter, row.submitter_len ?
	    row.submitter_len : strlen(row.submitter), submitter))
		submitter[0] = '\0';
	query_row_done(&row);
	/* the document evaluated is the one the chain signed */
	char computed[65] = "";
	int same = 1;
	if (doc != NULL && !document_digest(doc, computed)) {
		same = 0;
		snprintf(s->err, sizeof s->err, "its stored document has no digest (it holds what "
		    "JSON cannot)");
	} else if (doc != NULL) {
		same = evidence_document(s, id, computed, digest[0] ? digest : NULL, s->err,
		    sizeof s->err);
	}
	if (same <= 0) {
		diags_free(&errs);
		arena_free(a);
		return same == 0 ? OUT_TAMPERED : OUT_IO_ERROR;
	}
	if (doc != NULL)
		memcpy(digest, computed, sizeof digest);
	submission sub;
	bool ok = doc != NULL && submission_from_stored(doc, file, &sub, &errs);
	if (ok)
		memcpy(sub.submitter_name, submitter, sizeof submitter);
	if (!ok) {
		snprintf(s->err, sizeof s->err, "submission %lld: the stored document cannot be read "
		    "again: %s", (long long)id, errs.n ? errs.items[0].msg : "empty");
	} else {
		own_history h = { .s = s, .id = id, .counted = quota_status_counts(before) };
		store_history(s, &h.store_history);
		history_source mine = { .quota = quota_without_own, .ctx = &h };
		eval_options opts = *o;
		opts.history = &mine;
		evaluate(ps, &sub, &opts, a, r);
		ok = update_row(s, id, version, r, findings) &&
		    replace_uses(s, ps, id, key, created_ms, h.counted,
		    quota_status_counts(status_name(r->status)), r);
	}
	if (ok) {
		json_t *d = json_pack("{s:s,s:s,s:i,s:i,s:{s:i,s:i,s:i}}", "before", before, "status",
		    status_name(r->status), "policy_version_before", old_version, "policy_version",
		    version, "counts", "info", r->counts[SEV_INFO], "warning", r->counts[SEV_WARNING],
		    "critical", r->counts[SEV_CRITICAL]);
		if (digest[0])
			json_object_set_new(d, "digest", json_string(digest));
		/* what audit verify checks the findings rows against */
		json_object_set_new(d, "findings", json_integer((json_int_t)r->n));
		if (r->n > 0)
			json_object_set_new(d, "findings_digest", json_string(findings));
		ok = audit_append(s, actor, "submission.reevaluate", key, d);
		json_decref(d);
	}
	diags_free(&errs);
	/* r's strings live in the arena: the caller reads only status and counts */
	r->findings = NULL;
	r->n = 0;
	arena_free(a);
	return ok ? OUT_OK : OUT_IO_ERROR;
}
