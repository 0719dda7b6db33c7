/*
 * test_store_verify.c: audit_verify's check of the tables against the
 * events (verify_tables.c, verify_rows.c, details_scan.c, findings_digest.c):
 * the findings digest a new event names is the one recomputed from the rows;
 * texts with escapes read back as stored; events that name nothing that
 * must exist (app.*, access.denied, failures of unknown actors) pass; an
 * event about a submission never created is named; a submission.outcome
 * needs its submission and comes once; and a submission written
 * by an older arbiter, whose event lacks the submitter, the content hash and
 * the findings' digest, gets the weaker check docs/audit.md describes: its
 * findings' count and severities, not their texts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "store_support.h"

static void assert_clean(void)
{
	verify_result r = verified();
	if (!r.ok)
		fail_msg("verify: seq %lld: %s", (long long)r.bad_seq, r.why);
}

/* verify fails naming what (a substring of why). */
static void assert_caught(const char *what)
{
	verify_result r = verified();
	assert_false(r.ok);
	if (strstr(r.why, what) == NULL)
		fail_msg("verify says \"%s\", not \"%s\"", r.why, what);
}

static void append(const char *actor, const char *event, const char *subject,
    const char *details)
{
	assert_true(store_begin(S.s));
	if (!audit_append_text(S.s, actor, event, subject, details))
		fail_msg("audit_append: %s", store_errmsg(S.s));
	assert_true(store_commit(S.s));
}

static void test_the_findings_digest_is_the_rows(void **state)
{
	(void)state;
	int64_t id = submit_action("test.block", "agent-1", "v/1");
	const char *named = db_text(arena_printf(T.a, "SELECT json_extract(details, "
	    "'$.findings_digest') FROM audit WHERE event = 'submission.create' AND subject = '%lld'",
	    (long long)id));
	assert_non_null(named);
	/* recomputed from the rows, as verify reads them */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(S.s->db, "SELECT policy, type, severity, effect, "
	    "overridable, message, detail, path, source, approvals, role, max_duration FROM findings "
	    "WHERE submission_id = ? ORDER BY position", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	findings_digest fd;
	findings_digest_init(&fd);
	while (sqlite3_step(st) == SQLITE_ROW) {
		finding_row f = { (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4),
			(const char *)sqlite3_column_text(st, 5), (const char *)sqlite3_column_text(st, 6),
			(const char *)sqlite3_column_text(st, 7), (const char *)sqlite3_column_text(st, 8),
			sqlite3_column_int64(st, 9), (const char *)sqlite3_column_text(st, 10),
			sqlite3_column_int64(st, 11) };
		findings_digest_add(&fd, &f);
	}
	sqlite3_finalize(st);
	assert_int_equal(fd.n, 1);
	unsigned char h[32];
	char hex[65];
	findings_digest_final(&fd, h);
	sodium_bin2hex(hex, sizeof hex, h, 32);
	assert_string_equal(named, hex);
	/* an allowed submission has none: its count (0) says it all */
	int64_t ok = submit_action("test.other", "agent-1", "v/2");
	assert_int_equal(db_int(arena_printf(T.a, "SELECT json_type(details, '$.findings_digest') "
	    "IS NULL AND json_extract(details, '$.findings') = 0 FROM audit WHERE subject = '%lld'",
	    (long long)ok)), 1);
	assert_clean();
	/* a NULL column and an empty one differ */
	db_exec(arena_printf(T.a, "UPDATE submissions SET findings = json_replace(findings, "
	    "'$[0][1]', ifnull(findings ->> '$[0][1]', '')) WHERE id = %lld", (long long)id));
	db_exec(arena_printf(T.a, "UPDATE submissions SET findings = json_replace(findings, "
	    "'$[0][2]', ifnull(findings ->> '$[0][2]', '')) WHERE id = %lld", (long long)id));
	assert_caught("differ from the findings_digest");
}

static void test_texts_with_escapes_read_back_as_stored(void **state)
{
	(void)state;
	submit_yaml("action: test.review\nref: \"q\\\"uo\\\\te/\\u00e9\\u2603\\U0001F600\\t\"\n"
	    "submitter: agent-1\ntitle: escapes\n");
	assert_clean();
}

/* Texts longer than a fingerprint takes whole are fingerprinted by their own
 * fingerprint: still checked. */
static void test_long_texts_are_checked(void **state)
{
	(void)state;
	char ref[301];
	memset(ref, 'r', 300);
	ref[300] = '\0';
	int64_t id = submit_yaml(arena_printf(T.a, "action: test.review.%s\nref: %s\n"
	    "submitter: agent-1\n", ref, ref));
	assert_clean();
	db_exec(arena_printf(T.a, "UPDATE submissions SET ref = substr(ref, 2) || 'x' WHERE id = %lld",
	    (long long)id));
	assert_caught(arena_printf(T.a, "submissions row %lld ref is \"rrrr", (long long)id));
}

static void test_events_that_name_nothing_pass(void **state)
{
	(void)state;
	append("someone", "app.deploy", "prod/eu-1", "{\"version\":\"1.2\"}");
	append("bob", "app.note", "12345", "{}");   /* an id of no submission: just text */
	append("ci", "access.denied", "ci", "{\"count\":3,\"what\":\"GET /v1/audit\"}");
	append("nobody", "code.failure", "nobody", "{\"reason\":\"not an enrolled reviewer\"}");
	append("root", "server.start", "server", "{}");
	assert_clean();
}

static void test_an_event_about_a_submission_never_created_is_named(void **state)
{
	(void)state;
	append("bob", "decision.approve", "99", "{\"decision\":\"approve\",\"status\":\"approved\"}");
	verify_result r = verified();
	assert_false(r.ok);
	assert_int_equal(r.bad_seq, 2);
	assert_non_null(strstr(r.why, "names submission 99, which no submission.create before it "
	    "created"));
}

static void test_an_outcome_needs_its_submission_and_comes_once(void **state)
{
	(void)state;
	int64_t id = submit_action("test.review", "agent-1", "v/outcome");
	const char *subject = arena_printf(T.a, "%lld", (long long)id);
	append("agent-1", "submission.outcome", subject, "{\"succeeded\":true}");
	assert_clean();
	append("agent-1", "submission.outcome", subject, "{\"succeeded\":false}");
	assert_caught(arena_printf(T.a, "(submission.outcome) reports the outcome of submission %s "
	    "again", subject));
}

static void test_an_outcome_of_no_submission_is_named(void **state)
{
	(void)state;
	append("agent-1", "submission.outcome", "77", "{}");
	assert_caught("event seq 2 (submission.outcome) names submission 77, which no "
	    "submission.create before it created");
}

static void test_a_reviewer_event_needs_its_reviewer(void **state)
{
	(void)state;
	append("alice", "reviewer.role", "ghost", "{\"name\":\"ghost\",\"role\":\"admin\"}");
	assert_caught("names reviewer ghost, who was not added before it");
}

/* A submission as an arbiter before this check stored it: its row and
 * finding written as it did, its event without the submitter, the content
 * hash and the findings' digest. */
static int64_t older_submission(void)
{
	db_exec("INSERT INTO finding_kinds (policy, type, severity, effect, overridable, message, "
	    "approvals, role, max_duration) VALUES ('needs_a_look', 'expression', 'warning', "
	    "'require_approval', 0, 'a reviewer looks first', 1, 'reviewer', 0); "
	    "INSERT INTO submissions (ref, kind, action, title, submitter, status, "
	    "policy_version, created_at, created_ms, content_hash, document, info, warning, critical, "
	    "findings) VALUES ('old/1', 'proposal', 'test.review', 'old', 'agent-1', 'pending', 1, "
	    "'2030-01-01T00:00:00.000Z', 0, 'h', '{\"action\":\"test.review\"}', 0, 1, 0, "
	    "json_array(json_array(last_insert_rowid(), NULL, NULL))); "
	    "INSERT INTO finding_policies VALUES ('needs_a_look', last_insert_rowid(), 0, 1, 0); "
	    "INSERT INTO status_counts VALUES ('pending', 1) ON CONFLICT (status) DO UPDATE "
	    "SET n = n + 1");
	int64_t id = db_int("SELECT max(id) FROM submissions");
	append("agent-1", "submission.create", arena_printf(T.a, "%lld", (long long)id),
	    "{\"action\":\"test.review\",\"counts\":{\"critical\":0,\"info\":0,\"warning\":1},"
	    "\"findings\":1,\"kind\":\"proposal\",\"policy_version\":1,\"ref\":\"old/1\","
	    "\"status\":\"pending\"}");
	return id;
}

static void test_an_older_event_gets_the_weaker_check(void **state)
{
	(void)state;
	int64_t id = older_submission();
	assert_clean();
	/* what its event does not name is not checked: the submitter, the
	 * document, a finding's texts */
	db_exec(arena_printf(T.a, "UPDATE submissions SET submitter = 'eve', document = '{}' "
	    "WHERE id = %lld; UPDATE finding_kinds SET message = 'edited' WHERE policy = "
	    "'needs_a_look'", (long long)id));
	assert_clean();
	/* what it does is: the status, the count and severities of the findings */
	db_exec("UPDATE finding_kinds SET severity = 'info' WHERE policy = 'needs_a_look'");
	assert_caught("with severity info but the events say 0");
	db_exec(arena_printf(T.a, "UPDATE submissions SET findings = NULL WHERE id = %lld",
	    (long long)id));
	assert_caught(arena_printf(T.a, "submissions row %lld findings are 0 but the events say 1",
	    (long long)id));
}

static void test_a_new_event_checks_what_it_names(void **state)
{
	(void)state;
	int64_t id = submit_action("test.review", "agent-1", "v/new");
	db_exec(arena_printf(T.a, "UPDATE submissions SET submitter = 'eve' WHERE id = %lld",
	    (long long)id));
	assert_caught(arena_printf(T.a, "submissions row %lld submitter is \"eve\" but the events "
	    "say \"agent-1\"", (long long)id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_the_findings_digest_is_the_rows),
		store_test(test_texts_with_escapes_read_back_as_stored),
		store_test(test_long_texts_are_checked),
		store_test(test_events_that_name_nothing_pass),
		store_test(test_an_event_about_a_submission_never_created_is_named),
		store_test(test_an_outcome_needs_its_submission_and_comes_once),
		store_test(test_an_outcome_of_no_submission_is_named),
		store_test(test_a_reviewer_event_needs_its_reviewer),
		store_test(test_an_older_event_gets_the_weaker_check),
		store_test(test_a_new_event_checks_what_it_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
