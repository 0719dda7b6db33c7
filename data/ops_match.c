/*
 * ops_match.c: an earlier decision on the same call (the server's
 * POST /v1/submissions?match=digest, which arbiter hook uses).
 *
 * A digest binds a decision to exactly what was reviewed (PRODUCT.md
 * section 2); a policy version, to the rules it was reviewed under. An
 * allowed submission is no answer (an allowed call is evaluated and stored
 * again each time), so submissions_digest holds the others alone, by
 * the digest's first 16 characters and then the rowid: the newest of them
 * is found first, from the last entry of the prefix back; a newer entry
 * that is not the call's (another submitter's, another policy version's,
 * or another digest that shares the prefix) costs the reading of its row.
 * It is the answer only when it still says
 * something about the call: waiting, approved or rejected less than
 * hook.approval_ttl ago, or overridden and not expired. Only the newest
 * counts: a later one (a rejection, an expired override) stands for the
 * call, and an older approval never outlives it; an allowed call stored
 * in between hides no decision.
 */
#include <string.h>

#include "store_impl.h"

outcome op_submission_match(store *s, const char *submitter, size_t submitter_len,
    const char *digest, int policy_version, int64_t ttl_ms, int64_t *id, op_reply *r)
{
	memset(r, 0, sizeof *r);
	*id = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT id, " EFFECTIVE_STATUS ", decided_at " SUBMISSION_MATCH,
	    -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "cannot look up the digest");
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	}
	store_bind_now(st);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":digest"), digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":prefix"), digest,
	    (int)strnlen(digest, 16), SQLITE_STATIC);
	int who = sqlite3_bind_parameter_index(st, ":submitter");
	if (submitter != NULL)
		sqlite3_bind_text(st, who, submitter, submitter_len ? (int)submitter_len : -1,
		    SQLITE_STATIC);
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":version"), policy_version);
	char since[32];
	format_time(now_ms() - ttl_ms, since);
	int rc = sqlite3_step(st);
	bool found = false;
	if (rc == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 1);
		const char *decided = (const char *)sqlite3_column_text(st, 2);
		bool recent = decided != NULL && strcmp(decided, since) > 0;
		found = strcmp(status, "pending") == 0 || strcmp(status, "blocked") == 0 ||
		    strcmp(status, "overridden") == 0 ||
		    ((strcmp(status, "approved") == 0 || strcmp(status, "rejected") == 0) && recent);
		if (found)
			*id = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(s, "cannot look up the digest");
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	if (!found)
		return op_say(r, OUT_NOT_FOUND, "no submission with digest %.64s under policy version %d "
		    "answers for this call", digest, policy_version);
	return op_say(r, OUT_OK, "submission %lld answers for this call", (long long)*id);
}
