/*
 * codes.c: checking a reviewer's TOTP code (PRODUCT.md section 4), the one
 * place a code is compared with a secret.
 *
 * A guess must cost something whatever the store does, so every attempt is
 * written down before the code is looked at: code_attempt_begin records it,
 * in a transaction of its own, as a failure (a row of code_failures), and only
 * then opens the transaction the operation checks the code in. A store that
 * cannot record it (a full disk, a read-only store, any failing write) gets
 * the code refused unchecked, so a right and a wrong code get the same answer
 * and nothing learns which it was. The attempt stops counting as a failure
 * only when the code proves right: code_verify deletes its row in the
 * operation's transaction, which commits it with the change (a change that
 * fails leaves it counted). An attempt whose code was never checked (the
 * operation refused first: not a reviewer, already decided) is deleted when
 * the operation's transaction ends (the KEEP_CODE_ATTEMPT slot).
 *
 * A wrong and a replayed code are refused with one message; their audit
 * events (code.failure, code.replay) tell them apart, each written with the
 * failure count in a transaction of its own before the answer, and both
 * count towards a lockout. The comparison itself is engine/totp.c's, in
 * constant time.
 *
 * Failures are counted per reviewer and origin, the one who is trying: this
 * process's uid for a command run on the store, the calling identity through
 * the server (which lets a reviewer try only their own codes, and the owner,
 * whose uid the server runs as, anyone's). totp.max_failures from one origin
 * within totp.lockout lock the reviewer out from that origin only, for
 * totp.lockout, so that nobody can lock a reviewer out of their own work by
 * failing codes in their name.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

void code_origin(const char *given, char out[CODE_ORIGIN_MAX])
{
	if (given != NULL)
		snprintf(out, CODE_ORIGIN_MAX, "%s", given);
	else
		snprintf(out, CODE_ORIGIN_MAX, "uid %lu", (unsigned long)getuid());
}

static bool delete_attempt(store *s, int64_t id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM code_failures WHERE rowid = ?", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot clear the code's attempt");
	sqlite3_bind_int64(st, 1, id);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot clear the code's attempt");
	sqlite3_finalize(st);
	return ok;
}

/* The operation commits: an attempt whose code was never checked was no
 * failure. */
static bool attempt_flush(store *s, void *ctx)
{
	(void)ctx;
	int64_t id = s->attempt.checked ? 0 : s->attempt.id;
	s->attempt.id = 0;
	return id == 0 || delete_attempt(s, id);
}

/* The operation rolled back: the same, in a statement of its own (a failure
 * to delete leaves one failure too many, never one too few). */
static void attempt_drop(store *s, void *ctx)
{
	(void)ctx;
	int64_t id = s->attempt.checked ? 0 : s->attempt.id;
	s->attempt.id = 0;
	if (id != 0 && sqlite3_get_autocommit(s->db))
		delete_attempt(s, id);
}

static const store_keeper attempt_keeper = { attempt_flush, attempt_drop };

bool code_attempt_begin(store *s, const char *name, const char *origin_given, bool *recorded)
{
	char origin[CODE_ORIGIN_MAX];
	code_origin(origin_given, origin);
	*recorded = false;
	s->attempt.id = 0;
	s->attempt.checked = false;
	if (!store_begin(s))
		return false;
	sqlite3_stmt *st;
	bool ok = sqlite3_prepare_v2(s->db, "INSERT INTO code_failures (reviewer, origin, at_ms) "
	    "VALUES (?, ?, ?)", -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms());
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	int64_t id = sqlite3_last_insert_rowid(s->db);
	if (!ok) {
		store_fail(s, "cannot record the attempt");
		store_rollback(s);
		return false;
	}
	if (!store_commit(s))
		return false;
	*recorded = true;
	if (!store_begin(s)) {
		delete_attempt(s, id);          /* never checked */
		return false;
	}
	s->attempt.id = id;
	store_keep(s, KEEP_CODE_ATTEMPT, &attempt_keeper, NULL);
	return true;
}

/* The end of name's lockout from origin (or from everywhere: one recorded
 * before lockouts had origins), or with origin NULL from any origin, in
 * *until_ms; 0 when none is in force. */
static bool locked_until(store *s, const char *name, const char *origin, int64_t now,
    int64_t *until_ms)
{
	sqlite3_stmt *st;
	*until_ms = 0;
	char at[32];
	format_time(now, at);
	if (sqlite3_prepare_v2(s->db, "SELECT max(until) FROM code_lockouts WHERE reviewer = ?1 AND "
	    "(?2 IS NULL OR origin IN (?2, '')) AND until > ?3", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the lockouts");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (origin != NULL)
		sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	const char *until = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (until != NULL && !parse_time(until, until_ms))
		*until_ms = 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || store_fail(s, "cannot read the lockouts");
}

bool code_lockout_end(store *s, const char *name, int64_t *until_ms)
{
	char lower[IDENTITY_NAME_MAX + 1];
	return locked_until(s, identity_name(name, lower) ? lower : name, NULL, now_ms(), until_ms);
}

bool code_forget(store *s, const char *name)
{
	char lower[IDENTITY_NAME_MAX + 1];
	const char *who = identity_name(name, lower) ? lower : name;
	sqlite3_stmt *st;
	bool ok = true;
	for (int i = 0; ok && i < 2; i++) {
		ok = sqlite3_prepare_v2(s->db, i == 0 ? "DELETE FROM code_failures WHERE reviewer = ?" :
		    "DELETE FROM code_lockouts WHERE reviewer = ?", -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
	}
	return ok || store_fail(s, "cannot forget the code failures");
}

static bool audit_code(store *s, const char *name, const char *event, json_t *details)
{
	bool ok = audit_append(s, name, event, name, details);
	json_decref(details);
	return ok;
}

/* Ends the operation's transaction and records a refusal made before the
 * code was checked in one of its own: its event, and the attempt deleted (it
 * was no guess). false: it could not be recorded (the attempt, committed
 * before, then counts as a failure). */
static bool refusal(store *s, const char *name, json_t *details)
{
	int64_t id = s->attempt.id;
	s->attempt.checked = true;      /* the rollback leaves the attempt to us */
	store_rollback(s);
	s->attempt.id = 0;
	bool ok = store_begin(s) && delete_attempt(s, id) &&
	    audit_code(s, name, "code.failure", json_incref(details)) && store_commit(s);
	if (!ok)
		store_rollback(s);
	json_decref(details);
	return ok;
}

/* A wrong or replayed code: the attempt stays a failure, audited with the
 * count of failures from origin; at the limit, a lockout from origin. */
static void failure(store *s, const settings *c, const char *name, const char *origin,
    int64_t now, json_t *details, const char *event, code_check *out)
{
	s->attempt.checked = true;      /* it stays: a failure */
	store_rollback(s);
	s->attempt.id = 0;
	sqlite3_stmt *st;
	int n = 0;
	bool ok = store_begin(s) && sqlite3_prepare_v2(s->db, "SELECT count(*) FROM code_failures "
	    "WHERE reviewer = ? AND origin = ? AND at_ms > ?", -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now - c->totp_lockout * 1000);
		ok = sqlite3_step(st) == SQLITE_ROW;
		n = ok ? sqlite3_column_int(st, 0) : 0;
		sqlite3_finalize(st);
	}
	json_object_set_new(details, "origin", json_string(origin));
	json_object_set_new(details, "failures", json_integer(n));
	json_object_set_new(details, "max_failures", json_integer(c->totp_max_failures));
	ok = ok && audit_code(s, name, event, json_incref(details));
	json_decref(details);
	char until[32];
	bool lock = ok && n >= c->totp_max_failures;
	if (lock) {
		format_time(now + c->totp_lockout * 1000, until);
		ok = sqlite3_prepare_v2(s->db, "INSERT INTO code_lockouts (reviewer, origin, until) "
		    "VALUES (?, ?, ?) ON CONFLICT (reviewer, origin) DO UPDATE SET until = "
		    "excluded.until", -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, until, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_DONE;
			sqlite3_finalize(st);
		}
		ok = ok && audit_code(s, name, "reviewer.lockout", json_pack("{s:s,s:i,s:s}", "until",
		    until, "failures", n, "origin", origin));
	}
	if (ok && store_commit(s)) {
		if (lock) {
			size_t len = strlen(out->why);
			snprintf(out->why + len, sizeof out->why - len, "; %s is now locked out from %s "
			    "for %lld minutes", name, origin, (long long)(c->totp_lockout + 59) / 60);
			parse_time(until, &out->locked_until_ms);
		}
	} else {
		store_rollback(s);      /* the attempt, committed before, still counts */
	}
}

int code_verify(store *s, const settings *c, const char *name, const char *origin_given,
    const char *code, code_check *out)
{
	memset(out, 0, sizeof *out);
	char origin[CODE_ORIGIN_MAX];
	code_origin(origin_given, origin);
	if (s->attempt.id == 0) {
		snprintf(s->err, sizeof s->err, "a code may be checked only after its attempt is "
		    "recorded (code_attempt_begin)");
		return CODE_ERROR;
	}
	reviewer r;
	int found = reviewer_get(s, name, &r);
	if (found < 0)
		return CODE_ERROR;
	if (found == 0 || r.disabled) {
		snprintf(out->why, sizeof out->why, found == 0 ? "%s is not an enrolled reviewer "
		    "(arbiter reviewer add)" : "reviewer %s is disabled", name);
		refusal(s, name, json_pack("{s:s,s:s}", "reason", found == 0 ?
		    "not an enrolled reviewer" : "disabled reviewer", "origin", origin));
		return found == 0 ? CODE_UNKNOWN : CODE_DISABLED;
	}
	int64_t now = now_ms(), until = 0;
	if (!locked_until(s, name, origin, now, &until))
		return CODE_ERROR;
	if (until > now) {
		int64_t left = (until - now + 59999) / 60000;
		snprintf(out->why, sizeof out->why, "%s is locked out from %s after too many wrong "
		    "codes: %lld more minute%s", name, origin, (long long)left, left == 1 ? "" : "s");
		out->locked_until_ms = until;
		refusal(s, name, json_pack("{s:s,s:s}", "reason", "locked out", "origin", origin));
		return CODE_LOCKED;
	}
	unsigned char key[REVIEWER_KEY_BYTES];
	if (!users_secret(s, r.name, key))
		return CODE_ERROR;
	int64_t step = 0;
	bool match = totp_match(key, sizeof key, now / 1000, c->totp_window, code, &step);
	sodium_memzero(key, sizeof key);
	s->attempt.checked = true;
	if (!match || step <= r.last_step) {
		/* one answer for both: the events tell them apart */
		snprintf(out->why, sizeof out->why, "wrong or already used code for %s (a code is "
		    "accepted once)", name);
		if (match)
			failure(s, c, name, origin, now, json_pack("{s:I,s:I}", "step", (json_int_t)step,
			    "last_step", (json_int_t)r.last_step), "code.replay", out);
		else
			failure(s, c, name, origin, now, json_pack("{s:s}", "reason", "wrong code"),
			    "code.failure", out);
		return match ? CODE_REPLAY : CODE_WRONG;
	}
	char ts[32];
	format_time(now, ts);
	out->step = step;
	out->admin = r.admin;
	sqlite3_stmt *st;
	bool ok = sqlite3_prepare_v2(s->db, "UPDATE reviewers SET last_step = ?, last_used = ? "
	    "WHERE name = ?", -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, step);
		sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r.name, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	/* the attempt was no failure, once the change it was for commits */
	if (!ok || !delete_attempt(s, s->attempt.id))
		return store_fail(s, "cannot record the code's use"), CODE_ERROR;
	s->attempt.id = 0;
	return CODE_OK;
}
