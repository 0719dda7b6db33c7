/*
 * decisions.c: approving, rejecting and overriding submissions.
 *
 * A decision is checked and recorded inside one write transaction (BEGIN
 * IMMEDIATE), so two reviewers deciding the same submission at once are
 * serialised: the second sees the first's decision and is refused with its
 * name. decision_check runs before the reviewer's code is verified, so that a
 * decision that cannot be made does not use up a code.
 *
 * The rules (PRODUCT.md section 4): approve takes a pending submission
 * (warnings need an acknowledgement), reject a pending or blocked one,
 * override a blocked one whose every deny finding may be overridden; the
 * strictest terms of those findings apply (the most approvals, the higher
 * role, the shortest max_duration). With approvals above one, each reviewer's
 * code records a partial override until the count is reached; partials given
 * before the submission's last evaluation do not count, and only those the
 * signed chain proves count at all (evidence_store.c): a row of the
 * decisions table is what show lists, not what the rule believes. Nobody
 * decides their own submission: names are compared lower-cased (PRODUCT.md
 * section 2): the reviewer's always is (ops_common.c), a submitter's is
 * compared as one. Nobody decides a submission whose row says other than
 * its signed events: the decision would launder the forged state into a
 * signed one. The event of each decision that may allow names the
 * document's digest, so that what it allows is bound to what was reviewed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "store_impl.h"

enum { MAX_OVERRIDE_S = 366 * 86400 };

/* Whether a submitter (len bytes as stored) is the reviewer (a name as
 * compared): names are compared lower-cased (PRODUCT.md section 2), so
 * ALICE's submission is alice's, and a submitter that is no name (stored
 * before the rule: "alice\u00a0", " alice ") is nobody's. */
static bool same_person(const char *submitter, size_t len, const char *who)
{
	char name[IDENTITY_NAME_MAX + 1];
	return submitter != NULL && identity_name_n(submitter, len, name) && strcmp(name, who) == 0;
}

static const char *past_tense(const char *decision)
{
	return strcmp(decision, "approve") == 0 ? "approved" :
	    strcmp(decision, "reject") == 0 ? "rejected" : "overridden";
}

/* "already approved by bob" (an override names each of its reviewers). */
static void already(store *s, int64_t id, const char *status, char *why, size_t len)
{
	sqlite3_stmt *st;
	char names[200] = "";
	const char *decision = "approve";
	if (sqlite3_prepare_v2(s->db, "SELECT decision, reviewer FROM decisions WHERE "
	    "submission_id = ? AND decision IN ('approve', 'reject', 'override') ORDER BY id DESC "
	    "LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			decision = strcmp((const char *)sqlite3_column_text(st, 0), "approve") == 0 ?
			    "approve" : strcmp((const char *)sqlite3_column_text(st, 0), "reject") == 0 ?
			    "reject" : "override";
			snprintf(names, sizeof names, "%s", (const char *)sqlite3_column_text(st, 1));
		}
	}
	sqlite3_finalize(st);
	snprintf(why, len, "submission %lld: already %s by %s%s", (long long)id, past_tense(decision),
	    names[0] ? names : "someone", strcmp(status, "expired") == 0 ? " (expired)" : "");
}

/* The override terms of the deny findings; false when one of them may not
 * be overridden (why says which). */
static bool override_terms(store *s, int64_t id, decision_plan *p, char *why, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT policy, overridable, approvals, role, max_duration "
	    "FROM findings WHERE submission_id = ? AND effect = 'deny' ORDER BY position", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the findings");
	sqlite3_bind_int64(st, 1, id);
	p->approvals = 1;
	p->max_duration = 0;
	p->needs_admin = false;
	p->denies = 0;
	bool ok = true;
	while (ok && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		p->denies++;
		if (!sqlite3_column_int(st, 1)) {
			snprintf(why, len, "submission %lld: finding %s may not be overridden", (long long)id,
			    name);
			ok = false;
			break;
		}
		int approvals = sqlite3_column_int(st, 2);
		int64_t max = sqlite3_column_int64(st, 4);
		if (approvals > p->approvals)
			p->approvals = approvals;
		if (strcmp((const char *)sqlite3_column_text(st, 3), "admin") == 0)
			p->needs_admin = true;
		if (max > 0 && (p->max_duration == 0 || max < p->max_duration)) {
			p->max_duration = max;
			snprintf(p->max_policy, sizeof p->max_policy, "%s", name);
		}
	}
	sqlite3_finalize(st);
	return ok;
}

static bool override_check(store *s, const settings *c, int64_t id, const decision_req *q,
    decision_plan *p, char *why, size_t len, outcome *refusal)
{
	*refusal = OUT_NOT_PERMITTED;
	if (!override_terms(s, id, p, why, len))
		return false;
	if (p->needs_admin && !q->reviewer_admin) {
		*refusal = OUT_NOT_PERMITTED;
		snprintf(why, len, "submission %lld: overriding it needs an admin; %s is a reviewer",
		    (long long)id, q->reviewer);
		return false;
	}
	size_t chars = q->text ? utf8_length(q->text, strlen(q->text)) : 0;
	if ((int)chars < c->justification_min_chars) {
		*refusal = OUT_NOT_PERMITTED;
		snprintf(why, len, "the justification has %zu characters; at least %d are required "
		    "(review.justification_min_chars)", chars, c->justification_min_chars);
		return false;
	}
	int64_t secs = q->expires_s ? q->expires_s : c->override_default_duration;
	if (secs > MAX_OVERRIDE_S) {
		*refusal = OUT_NOT_PERMITTED;
		snprintf(why, len, "an override lasts at most 366 days");
		return false;
	}
	if (p->max_duration > 0 && secs > p->max_duration) {
		if (q->expires_s) {
			arena *a = arena_new();
			*refusal = OUT_NOT_PERMITTED;
			snprintf(why, len, "submission %lld: policy %s allows an override of at most %s "
			    "(max_duration); --expires asked for %s", (long long)id, p->max_policy,
			    duration_format(a, p->max_duration), duration_format(a, q->expires_s));
			arena_free(a);
			return false;
		}
		secs = p->max_duration;         /* the default, capped */
	}
	p->expires_ms = now_ms() + secs * 1000;
	bool mine;
	int64_t earliest;
	/* only approvals the signed chain proves count */
	int given = evidence_partials(s, id, p->digest[0] ? p->digest : NULL, q->reviewer, &mine,
	    &earliest);
	if (given < 0)
		return false;
	if (earliest > 0 && earliest < p->expires_ms)
		p->expires_ms = earliest;       /* no approval outlives an earlier one */
	if (mine) {
		*refusal = OUT_ALREADY_DECIDED;
		snprintf(why, len, "submission %lld: %s already gave an approval (%d of %d); a second, "
		    "different reviewer must complete the override", (long long)id, q->reviewer, given,
		    p->approvals);
		return false;
	}
	p->given = given + 1;
	p->complete = p->given >= p->approvals;
	return true;
}

outcome decision_check(store *s, const settings *c, int64_t id, const decision_req *q,
    decision_plan *p, char *why, size_t len)
{
	memset(p, 0, sizeof *p);
	p->id = id;
	char status[16];
	int found = query_status(s, id, status);
	if (found < 0)
		return OUT_IO_ERROR;
	if (found == 0) {
		snprintf(why, len, "no submission %lld", (long long)id);
		return OUT_NOT_FOUND;
	}
	/* the status read is the one the signed chain says, or nothing is
	 * decided on it: a decision would launder a forged state */
	int held = evidence_of(s, id, false, NULL, p->status, p->tamper, sizeof p->tamper);
	if (held == -1)
		return OUT_IO_ERROR;
	if (held == 0) {
		snprintf(why, len, "submission %lld: state does not match the audit chain: %s",
		    (long long)id, p->tamper);
		return OUT_TAMPERED;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT submitter, warning, digest FROM submissions WHERE "
	    "id = ?", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the submission"), OUT_IO_ERROR;
	sqlite3_bind_int64(st, 1, id);
	bool own = false;
	int warnings = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		own = same_person((const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), q->reviewer);
		const char *digest = (const char *)sqlite3_column_text(st, 2);
		warnings = sqlite3_column_int(st, 1);
		snprintf(p->digest, sizeof p->digest, "%s", digest ? digest : "");
	}
	sqlite3_finalize(st);
	bool approve = strcmp(q->kind, "approve") == 0, reject = strcmp(q->kind, "reject") == 0;
	if (strcmp(status, "approved") == 0 || strcmp(status, "rejected") == 0 ||
	    strcmp(status, "overridden") == 0 || strcmp(status, "expired") == 0) {
		already(s, id, status, why, len);
		return OUT_ALREADY_DECIDED;
	}
	if (strcmp(status, "allowed") == 0) {
		snprintf(why, len, "submission %lld is allowed: there is nothing to decide",
		    (long long)id);
		return OUT_WRONG_STATE;
	}
	if (own) {
		snprintf(why, len, "submission %lld was submitted by %s: nobody decides their own "
		    "submission", (long long)id, q->reviewer);
		return OUT_NOT_PERMITTED;
	}
	if (approve && strcmp(status, "pending") != 0) {
		snprintf(why, len, "submission %lld is %s: approve takes a pending submission (a blocked "
		    "one needs an override or a rejection)", (long long)id, status);
		return OUT_WRONG_STATE;
	}
	if (approve && warnings > 0 && !q->ack) {
		snprintf(why, len, "submission %lld has %d warning%s: approve with --ack to acknowledge "
		    "them", (long long)id, warnings, warnings == 1 ? "" : "s");
		return OUT_NOT_PERMITTED;
	}
	if (!approve && !reject && strcmp(status, "blocked") != 0) {
		snprintf(why, len, "submission %lld is %s: override takes a blocked submission (approve "
		    "a pending one)", (long long)id, status);
		return OUT_WRONG_STATE;
	}
	why[0] = '\0';
	outcome refusal = OUT_NOT_PERMITTED;
	if (!approve && !reject && !override_check(s, c, id, q, p, why, len, &refusal))
		return why[0] ? refusal : OUT_IO_ERROR;     /* no reason: SQLite failed */
	return OUT_OK;
}

bool decision_record(store *s, const decision_req *q, const decision_plan *p)
{
	bool approve = strcmp(q->kind, "approve") == 0, reject = strcmp(q->kind, "reject") == 0;
	bool partial = !approve && !reject && !p->complete;
	const char *decision = approve ? "approve" : reject ? "reject" : partial ? "override.partial" :
	    "override";
	const char *status = approve ? "approved" : reject ? "rejected" : "overridden";
	const char *event = approve ? "decision.approve" : reject ? "decision.reject" :
	    partial ? "override.partial" : "override.grant";
	int64_t now = now_ms();
	char at[32], expires[32];
	format_time(now, at);
	bool overriding = !approve && !reject;
	if (overriding)
		format_time(p->expires_ms, expires);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO decisions (submission_id, reviewer, decision, note, "
	    "at, at_ms, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot record the decision");
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_text(st, 2, q->reviewer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, decision, -1, SQLITE_STATIC);
	if (q->text)
		sqlite3_bind_text(st, 4, q->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if (overriding)
		sqlite3_bind_text(st, 7, expires, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot record the decision");
	sqlite3_finalize(st);
	if (ok && !partial) {
		/* from the status it was checked in, once: a submission no longer
		 * in it (the same one twice in a transaction) fails the decision,
		 * and its quotas are not counted or given back twice */
		ok = sqlite3_prepare_v2(s->db, "UPDATE submissions SET status = ?, decided_at = ?, "
		    "expires_at = ? WHERE id = ? AND status = ?", -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
			if (overriding)
				sqlite3_bind_text(st, 3, expires, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, p->id);
			sqlite3_bind_text(st, 5, p->status, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
		if (!ok)
			return store_fail(s, "cannot record the decision");
		if (sqlite3_changes(s->db) != 1) {
			snprintf(s->err, sizeof s->err, "submission %lld is no longer %s: it was decided "
			    "meanwhile", (long long)p->id, p->status);
			return false;
		}
		/* an override makes a refused submission count towards its quotas,
		 * a rejection of a pending one takes its uses back */
		if (quota_status_counts(p->status) != quota_status_counts(status) &&
		    !quota_recount(s, p->id, quota_status_counts(status)))
			return false;
	}
	if (!ok)
		return false;
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)p->id);
	json_t *d = json_object();
	json_object_set_new(d, "decision", json_string(decision));
	if (p->digest[0] && !reject)    /* what an allow is bound to */
		json_object_set_new(d, "digest", json_string(p->digest));
	if (q->text)
		json_object_set_new(d, approve ? "note" : reject ? "reason" : "justification",
		    json_string(q->text));
	if (approve && q->ack)
		json_object_set_new(d, "acknowledged_warnings", json_true());
	if (overriding) {
		json_object_set_new(d, "expires_at", json_string(expires));
		json_object_set_new(d, "approvals", json_integer(p->given));
		json_object_set_new(d, "required", json_integer(p->approvals));
	}
	json_object_set_new(d, "status", json_string(partial ? "blocked" : status));
	ok = audit_append(s, q->reviewer, event, subject, d);
	json_decref(d);
	return ok;
}

bool override_progress(store *s, int64_t id, int *given, int *required)
{
	decision_plan p = { .id = id };
	char why[256];
	*given = *required = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT digest FROM submissions WHERE id = ?", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the submission");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(p.digest, sizeof p.digest, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	bool mine;
	int64_t earliest;
	why[0] = '\0';
	if (!override_terms(s, id, &p, why, sizeof why))
		return why[0] != '\0';  /* not overridable: no progress to show */
	int n = evidence_partials(s, id, p.digest[0] ? p.digest : NULL, "", &mine, &earliest);
	if (n < 0)
		return false;
	*given = n;
	*required = p.approvals;
	return true;
}
