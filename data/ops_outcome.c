/*
 * ops_outcome.c: what happened after a submission ran, as its submitter
 * reports it (POST /v1/submissions/ID/outcome, PRODUCT.md sections 3 and 9).
 *
 * The report is a small JSON object (user_json.c), kept whole as the
 * details of a submission.outcome event about the submission: the chain is
 * the only record of it, and the chain says whether one was reported
 * already (the audit_subject index finds the events about one submission),
 * so a second report is a conflict. It runs in one transaction, so two
 * reports never both win.
 *
 * Quotas: a member actual_F is the actual amount of the submission's field
 * F. Each quota use the submission made of a policy that sums F (field: F,
 * a top-level name) is raised to the actual amount when that is more: a
 * quota_usage row of the difference, at the time of the use, so that it
 * falls in the same windows. The submission then counts max(estimate,
 * actual). Policies are found by name in the set the caller evaluates
 * with; a policy renamed or removed since counts nothing more.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_impl.h"

/* What the members arbiter reads must be; false with the refusal in r. */
static bool members_valid(json_t *o, outcome_reported *r)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		if (strncmp(key, "actual_", 7) == 0 && (!json_is_number(v) ||
		    json_number_value(v) < 0)) {
			op_say(&r->reply, OUT_BAD_INPUT, "the outcome's %.80s must be a number of at least "
			    "0 (an actual amount)", key);
			return false;
		}
		if (strcmp(key, "succeeded") == 0 && !json_is_boolean(v)) {
			op_say(&r->reply, OUT_BAD_INPUT, "the outcome's succeeded must be true or false");
			return false;
		}
	}
	return true;
}

/* The submission q names, in r->id: 1, 0 none (r says so), -1 error. A
 * submission of another submitter is refused (r->others). */
static int find(store *s, const outcome_report *q, outcome_reported *r)
{
	sub_row row;
	int found = query_get_for(s, q->key, q->submitter, &row);
	if (found == -2) {
		op_say(&r->reply, OUT_BAD_INPUT, "%s", s->err);
		return 0;
	}
	if (found < 0)
		return -1;
	if (found == 0 && q->submitter != NULL) {
		/* another's, or theirs under a name stored in another case */
		found = query_get(s, q->key, &row);
		if (found == -1)
			return -1;
		if (found == 1) {
			size_t len = row.submitter == NULL ? 0 : row.submitter_len ? row.submitter_len :
			    strlen(row.submitter);
			bool mine = row.submitter != NULL && len == strlen(q->submitter) &&
			    strncasecmp(row.submitter, q->submitter, len) == 0;
			if (!mine) {
				query_row_done(&row);
				r->others = true;
				found = 0;
			}
		}
		found = found < 0 ? 0 : found;
	}
	if (found == 1) {
		r->id = row.id;
		query_row_done(&row);
		return 1;
	}
	if (r->others && !q->agent)
		op_say(&r->reply, OUT_NOT_PERMITTED, "only its submitter reports submission %.100s's "
		    "outcome", q->key);
	else
		op_say(&r->reply, OUT_NOT_FOUND, "no submission %.100s", q->key);
	return 0;
}


/* Raises the submission's quota uses to the actual amounts of o (a
 * refused submission's raise is kept out of the sums, quota.c); *raised
 * counts them. false with s->err. */
static bool count_actuals(store *s, const policy_set *ps, int64_t id, const json_t *o,
    int *raised)
{
	*raised = 0;
	char status[16] = "";
	if (query_status(s, id, status) != 1)
		return store_fail(s, "cannot read the submission");
	return quota_raise_to_actuals(s, ps, id, o, quota_status_counts(status), raised);
}

outcome op_submission_outcome(store *s, const outcome_report *q, outcome_reported *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	if (s->remote)
		return op_say(rep, OUT_BAD_INPUT, "an outcome is reported to the server itself "
		    "(POST /v1/submissions/ID/outcome)");
	user_json_error e;
	json_t *o = user_object_read(q->file ? q->file : "outcome", q->text ? q->text : "",
	    q->text ? q->len : 0, OUTCOME_MAX, "the outcome", &e);
	if (o == NULL) {
		r->line = e.line;
		r->col = e.col;
		r->too_large = e.too_large;
		r->malformed = !e.too_large;
		return op_say(rep, OUT_BAD_INPUT, "%s", e.message);
	}
	if (!members_valid(o, r) || op_begin(s, rep) != OUT_OK) {
		json_decref(o);
		return rep->out;
	}
	int found = find(s, q, r);
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)r->id);
	int64_t before = found == 1 ? outcome_event(s, subject, NULL) : 0;
	int raised = 0;
	bool ok = found >= 0 && before >= 0;
	if (ok && found == 1 && before == 0)
		ok = count_actuals(s, q->ps, r->id, o, &raised) &&
		    audit_append(s, q->actor, "submission.outcome", subject, o);
	json_decref(o);
	if (!ok)
		return op_failed(s, rep);
	if (found == 0) {
		store_rollback(s);
		return rep->out;
	}
	if (before > 0) {
		store_rollback(s);
		return op_say(rep, OUT_CONFLICT, "submission %lld: its outcome was reported already "
		    "(event %lld)", (long long)r->id, (long long)before);
	}
	r->seq = s->head_seq;
	if (raised > 0)
		op_say(rep, OUT_OK, "submission %lld: outcome recorded as event %lld; its actual "
		    "amount counts for %d quota%s", (long long)r->id, (long long)r->seq, raised,
		    raised == 1 ? "" : "s");
	else
		op_say(rep, OUT_OK, "submission %lld: outcome recorded as event %lld",
		    (long long)r->id, (long long)r->seq);
	return op_commit(s, rep);
}
