/*
 * test_store_ops.c: the operations layer (data/ops.h) as every front end
 * calls it: each operation's outcome for what it is given (a code needed,
 * a wrong one, one's own submission, one already decided, tampered policy
 * files, the first admin, the last admin, nothing to pin), what it leaves in
 * the store (statuses, audit events, reviewers) and the two tables every
 * front end maps outcomes and statuses through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_support.h"

static decide_result R;

/* op_decide of one id by actor with code (NULL: none). */
static outcome decide_one(const char *kind, const char *actor, const char *code, int64_t id,
    const char *text)
{
	decide_request q = { .kind = kind, .auth = { .actor = actor, .code = code }, .ack = true,
		.text = text, .ids = &id, .nids = 1 };
	return op_decide(S.s, &S.cfg, &q, &R);
}

static int64_t events(const char *event)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM audit WHERE event = '%s'", event);
	return db_int(sql);
}

static void test_tables(void **state)
{
	(void)state;
	assert_int_equal(outcome_exit(OUT_OK), 0);
	assert_int_equal(outcome_exit(OUT_WAITING), 3);
	assert_int_equal(outcome_exit(OUT_BAD_INPUT), 1);
	assert_int_equal(outcome_exit(OUT_CODE_REFUSED), 4);
	assert_int_equal(outcome_of(OUT_LOCKED_OUT)->http_status, 423);
	assert_int_equal(outcome_of(OUT_BUSY)->http_status, 503);
	assert_string_equal(outcome_of(OUT_ALREADY_DECIDED)->name, "already_decided");
	for (int o = 0; o < OUT__COUNT; o++)
		assert_non_null(outcome_of((outcome)o)->name);
	static const int exits[] = { [ST_ALLOWED] = 0, [ST_PENDING] = 3, [ST_BLOCKED] = 3,
		[ST_APPROVED] = 0, [ST_REJECTED] = 4, [ST_OVERRIDDEN] = 0, [ST_EXPIRED] = 4 };
	for (int st = 0; st <= ST_EXPIRED; st++) {
		assert_int_equal(outcome_exit(status_outcome(st)), exits[st]);
		assert_int_equal(status_parse(status_name(st)), st);
		assert_int_equal(status_name_exit(status_name(st)), exits[st]);
		assert_int_equal(status_final(st), st != ST_PENDING && st != ST_BLOCKED);
	}
	assert_int_equal(status_parse("approve"), -1);
	assert_int_equal(status_name_exit("nonsense"), 4);      /* unknown: refused */
}

static void test_decide_asks_for_a_code_then_decides(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t id = submit_action("test.review", "agent-a", "ops/1");
	int64_t failures = events("code.failure");
	assert_int_equal(decide_one("approve", "bob", NULL, id, NULL), OUT_UNAUTHENTICATED);
	assert_true(R.reply.code_needed);
	assert_string_equal(status_of(id), "pending");
	assert_int_equal(events("code.failure"), failures);     /* asking costs nothing */
	char code[7];
	assert_int_equal(decide_one("approve", "bob", code_now("bob", code), id, NULL), OUT_OK);
	assert_true(R.reply.code_accepted);
	assert_int_equal(R.n, 1);
	assert_int_equal(R.items[0].out, OUT_OK);
	assert_non_null(strstr(R.items[0].message, "approved by bob"));
	assert_string_equal(status_of(id), "approved");
	assert_int_equal(events("decision.approve"), 1);
	/* the same code again is a replay, and the submission is decided anyway */
	int64_t other = submit_action("test.review", "agent-a", "ops/2");
	assert_int_equal(decide_one("approve", "bob", code, other, NULL), OUT_CODE_REFUSED);
	assert_true(R.call_refused);
	assert_string_equal(status_of(other), "pending");
	assert_int_equal(events("code.replay"), 1);
	assert_int_equal(decide_one("approve", "bob", NULL, id, NULL), OUT_ALREADY_DECIDED);
	assert_non_null(strstr(R.items[0].message, "already approved by bob"));
}

static void test_decide_refuses_before_using_a_code(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t mine = submit_action("test.review", "bob", "ops/3");
	char code[7];
	assert_int_equal(decide_one("approve", "bob", code_now("bob", code), mine, NULL),
	    OUT_NOT_PERMITTED);
	assert_non_null(strstr(R.items[0].message, "nobody decides their own"));
	/* the code was not used: it still works */
	int64_t other = submit_action("test.review", "agent-a", "ops/4");
	assert_int_equal(decide_one("approve", "bob", code, other, NULL), OUT_OK);
	/* an actor who is not a reviewer is refused, and that is audited */
	int64_t failures = events("code.failure");
	assert_int_equal(decide_one("reject", "mallory", "123456", other, "no"), OUT_NOT_PERMITTED);
	assert_true(R.actor_refused);
	assert_int_equal(events("code.failure"), failures + 1);
	/* a wrong code: refused, recorded, nothing decided */
	int64_t third = submit_action("test.block", "agent-a", "ops/5");
	assert_int_equal(decide_one("reject", "bob", "000000", third, "not this"), OUT_CODE_REFUSED);
	assert_string_equal(status_of(third), "blocked");
	assert_int_equal(R.items[0].out, OUT_CODE_REFUSED);
}

static void test_decide_many_with_one_code(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t ids[3] = { submit_action("test.review", "agent-a", "ops/6"),
		submit_action("test.review", "agent-a", "ops/7"),
		submit_action("test.block", "agent-a", "ops/8") };
	char code[7];
	decide_request q = { .kind = "approve", .auth = { .actor = "bob",
		.code = code_now("bob", code) }, .ack = true, .ids = ids, .nids = 3 };
	/* the blocked one is refused; the two pending ones are approved with one code */
	assert_int_equal(op_decide(S.s, &S.cfg, &q, &R), OUT_WRONG_STATE);
	assert_false(R.call_refused);
	assert_int_equal(R.items[0].out, OUT_OK);
	assert_int_equal(R.items[1].out, OUT_OK);
	assert_int_equal(R.items[2].out, OUT_WRONG_STATE);
	assert_string_equal(status_of(ids[0]), "approved");
	assert_string_equal(status_of(ids[1]), "approved");
	assert_string_equal(status_of(ids[2]), "blocked");
}

static void test_session_and_signin(void **state)
{
	(void)state;
	enrol("bob", false);
	char code[7];
	op_auth auth = { .actor = "bob", .code = "000000" };
	op_reply r;
	assert_int_equal(op_signin(S.s, &S.cfg, &auth, "console", &r), OUT_CODE_REFUSED);
	assert_non_null(strstr(r.message, "code refused: wrong or already used code for bob"));
	auth.code = code_now("bob", code);
	assert_int_equal(op_signin(S.s, &S.cfg, &auth, "console", &r), OUT_OK);
	assert_int_equal(events("session.signin"), 1);
	/* within a session approve and reject need no code; an override always does */
	int64_t id = submit_action("test.review", "agent-a", "ops/9");
	decide_request q = { .kind = "reject", .auth = { .actor = "bob", .session = true },
		.text = "no", .ids = &id, .nids = 1 };
	assert_int_equal(op_decide(S.s, &S.cfg, &q, &R), OUT_OK);
	assert_string_equal(status_of(id), "rejected");
	assert_true(op_decide_needs_code(&S.cfg, "override", true));
	assert_false(op_decide_needs_code(&S.cfg, "approve", true));
	assert_true(op_decide_needs_code(&S.cfg, "approve", false));
}

static void test_no_decision_while_tampered(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t id = submit_action("test.review", "agent-a", "ops/10");
	const char *path = in_store("policies/10-test.yaml");
	chmod(path, 0644);
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs("# an edit nobody pinned\n", f);
	assert_int_equal(fclose(f), 0);
	char code[7];
	assert_int_equal(decide_one("approve", "bob", code_now("bob", code), id, NULL), OUT_TAMPERED);
	assert_string_equal(status_of(id), "pending");
	/* the code was not used up by the refusal */
	assert_int_equal(db_int("SELECT last_step FROM reviewers WHERE name = 'bob'"), 0);
}

static void test_reviewers(void **state)
{
	(void)state;
	op_auth owner = { .actor = "tester" };
	reviewer_added added;
	/* the first reviewer must be an admin, and needs no code */
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &owner, "ann", false, &added),
	    OUT_NOT_PERMITTED);
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &owner, "ann", true, &added), OUT_OK);
	assert_string_equal(db_text("SELECT role FROM reviewers WHERE name = 'ann'"), "admin");
	/* after that an admin's code: asked for, then given */
	op_auth ann = { .actor = "ann" };
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &ann, "carl", false, &added),
	    OUT_UNAUTHENTICATED);
	assert_true(added.reply.code_needed);
	char code[7];
	/* ann's secret came back once, in added.key of the first call; the key
	 * users.oath now holds is the same */
	unsigned char key[REVIEWER_KEY_BYTES];
	assert_true(users_secret(S.s, "ann", key));
	assert_true(totp_code(key, sizeof key, now_ms() / 1000, 6, code));
	ann.code = code;
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &ann, "carl", false, &added), OUT_OK);
	/* the same code again is a replay; a fresh one meets the name taken */
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &ann, "carl", false, &added),
	    OUT_CODE_REFUSED);
	clock_advance(30);
	assert_true(totp_code(key, sizeof key, now_ms() / 1000, 6, code));
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &ann, "carl", false, &added),
	    OUT_WRONG_STATE);
	/* a plain reviewer may not change reviewers; the refusal is audited */
	op_auth carl = { .actor = "carl", .code = "123456" };
	op_reply r;
	assert_int_equal(op_reviewer_disable(S.s, &S.cfg, &carl, "ann", &r), OUT_NOT_PERMITTED);
	/* the last enabled admin is never disabled (refused before the code) */
	clock_advance(30);
	assert_true(totp_code(key, sizeof key, now_ms() / 1000, 6, code));
	assert_int_equal(op_reviewer_disable(S.s, &S.cfg, &ann, "ann", &r), OUT_NOT_PERMITTED);
	assert_non_null(strstr(r.message, "the last admin"));
	assert_int_equal(op_reviewer_disable(S.s, &S.cfg, &ann, "nobody", &r), OUT_NOT_FOUND);
	assert_int_equal(op_reviewer_disable(S.s, &S.cfg, &ann, "carl", &r), OUT_OK);
	assert_int_equal(db_int("SELECT disabled FROM reviewers WHERE name = 'carl'"), 1);
	assert_int_equal(events("reviewer.disable"), 1);
}

static void test_pin_and_reevaluate(void **state)
{
	(void)state;
	enrol("root", true);
	op_auth root = { .actor = "root" };
	policy_pinned p;
	assert_int_equal(op_policy_pin(S.s, &S.cfg, &root, "nothing changed at all here", &p),
	    OUT_OK);
	assert_int_equal(p.version, 0);
	assert_non_null(strstr(p.reply.message, "nothing to pin"));
	int64_t id = submit_action("test.review", "agent-a", "ops/11");
	const char *path = in_store("policies/10-test.yaml");
	chmod(path, 0644);
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs("# reviewed and pinned\n", f);
	assert_int_equal(fclose(f), 0);
	/* the set as it reads now differs from the pin: nothing is evaluated */
	policy_set_free(S.ps);
	diags errs = { 0 };
	S.ps = policy_set_load(in_store("policies"), "policies", &errs);
	assert_non_null(S.ps);
	reevaluated rv;
	assert_int_equal(op_reevaluate(S.s, &S.cfg, S.ps, "root", id, &rv), OUT_TAMPERED);
	assert_int_equal(op_policy_pin(S.s, &S.cfg, &root, "too short", &p), OUT_NOT_PERMITTED);
	assert_int_equal(op_policy_pin(S.s, &S.cfg, &root, "the comment was reviewed by two", &p),
	    OUT_UNAUTHENTICATED);
	char code[7];
	root.code = code_now("root", code);
	assert_int_equal(op_policy_pin(S.s, &S.cfg, &root, "the comment was reviewed by two", &p),
	    OUT_OK);
	assert_int_equal(p.version, 2);
	assert_int_equal(p.was, 1);
	/* pinned now: the same set is evaluated again */
	diags_free(&errs);
	assert_int_equal(op_reevaluate(S.s, &S.cfg, S.ps, "root", id, &rv), OUT_WAITING);
	assert_string_equal(rv.before, "pending");
	assert_int_equal(rv.version, 2);
	assert_int_equal(events("submission.reevaluate"), 1);
	assert_int_equal(op_reevaluate(S.s, &S.cfg, S.ps, "root", 999, &rv), OUT_NOT_FOUND);
}

/* Pins the policy files as they are now, as root with a fresh code, and
 * loads them into S.ps. */
static void pin_now(const char *why)
{
	op_auth root = { .actor = "root" };
	char code[7];
	clock_advance(30);
	root.code = code_now("root", code);
	policy_pinned p;
	if (op_policy_pin(S.s, &S.cfg, &root, why, &p) != OUT_OK)
		fail_msg("op_policy_pin: %s", p.reply.message);
	policy_set_free(S.ps);
	diags errs = { 0 };
	S.ps = store_policies_load(S.s, &errs);
	assert_non_null(S.ps);
	assert_int_equal(errs.n, 0);
}

static double uses_of(int64_t id)
{
	return (double)db_int(arena_printf(T.a, "SELECT total(amount) * 10 FROM quota_usage WHERE "
	    "submission_id = %lld AND policy = 'tenant_cost'", (long long)id)) / 10;
}

/* How many quota sums the store keeps (per policy, value, unit and start)
 * differ from the sums of the stored uses of the submissions that count:
 * 0 when they agree (tests/lib.sh's quota_sums_off; a sum whose uses were
 * all taken out again is kept as 0, which is no difference). */
static int64_t quota_sums_off(void)
{
	return db_int("WITH usage AS (SELECT policy, per_value IS NOT NULL AS has_per, "
	    "ifnull(per_value, '') AS per, unit, at_ms / 1000 / unit AS start, total(amount) AS amount "
	    "FROM quota_usage u JOIN submissions s ON s.id = u.submission_id, (SELECT 1 AS unit "
	    "UNION ALL SELECT 60 UNION ALL SELECT 3600 UNION ALL SELECT 86400) "
	    "WHERE s.status NOT IN ('blocked', 'rejected') GROUP BY 1, 2, 3, 4, 5) "
	    "SELECT (SELECT count(*) FROM (SELECT * FROM usage EXCEPT SELECT * FROM quota_totals)) + "
	    "(SELECT count(*) FROM (SELECT * FROM quota_totals WHERE amount <> 0 EXCEPT "
	    "SELECT * FROM usage))");
}

/* The day's sum of tenant_cost, as quota history reads it. */
static double day_sum(void)
{
	return (double)db_int("SELECT total(amount) * 10 FROM quota_totals WHERE "
	    "policy = 'tenant_cost' AND unit = 86400") / 10;
}

/* A waiting submission evaluated again under a quota added since counts
 * for it from then on, raised to the actual amount its reported outcome
 * gave; under a set without the quota, it counts no more. */
static void test_reevaluate_replaces_quota_uses(void **state)
{
	(void)state;
	enrol("root", true);
	int64_t id = submit_yaml("action: test.review\nref: q/1\nsubmitter: agent-a\n"
	    "tenant: t\ncost: 30\n");
	assert_true(uses_of(id) == 0);
	outcome_report q = { .key = arena_printf(T.a, "%lld", (long long)id), .actor = "agent-a",
		.text = "{\"actual_cost\": 45}", .len = 19, .ps = S.ps };
	outcome_reported rep;
	assert_int_equal(op_submission_outcome(S.s, &q, &rep), OUT_OK);
	const char *path = in_store("policies/20-quota.yaml");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("version: 1\npolicies:\n  - name: tenant_cost\n    actions: [\"test.*\"]\n"
	    "    type: quota\n    field: cost\n    per: tenant\n    limit: 50\n    window: 24h\n"
	    "    severity: warning\n", f);
	assert_int_equal(fclose(f), 0);
	pin_now("a daily cost quota per tenant");
	reevaluated rv;
	assert_int_equal(op_reevaluate(S.s, &S.cfg, S.ps, "root", id, &rv), OUT_WAITING);
	/* its estimate, 30, raised to the actual 45, at the submission's time,
	 * in every unit's sums */
	assert_true(uses_of(id) == 45);
	assert_true(day_sum() == 45);
	assert_int_equal(db_int(arena_printf(T.a, "SELECT count(DISTINCT at_ms) FROM quota_usage "
	    "WHERE submission_id = %lld", (long long)id)), 1);
	assert_int_equal(db_int(arena_printf(T.a, "SELECT min(u.at_ms) = s.created_ms FROM "
	    "quota_usage u, submissions s WHERE u.submission_id = s.id AND s.id = %lld",
	    (long long)id)), 1);
	assert_int_equal(quota_sums_off(), 0);
	/* and the next one counts it */
	int64_t next = submit_yaml("action: test.review\nref: q/2\nsubmitter: agent-a\n"
	    "tenant: t\ncost: 10\n");
	assert_string_equal(db_text(arena_printf(T.a, "SELECT detail FROM findings WHERE "
	    "submission_id = %lld AND policy = 'tenant_cost'", (long long)next)),
	    "55 cost for tenant \"t\" in 1d (45 before this one), over the limit of 50");
	assert_true(day_sum() == 55);
	/* evaluated again without the quota: it counts no more */
	assert_int_equal(unlink(path), 0);
	pin_now("the quota was dropped again");
	assert_int_equal(op_reevaluate(S.s, &S.cfg, S.ps, "root", id, &rv), OUT_WAITING);
	assert_true(uses_of(id) == 0);
	assert_true(day_sum() == 10);
	assert_int_equal(quota_sums_off(), 0);
	verify_result v = verified();
	assert_true(v.ok);
}

static void test_submit_batch(void **state)
{
	(void)state;
	eval_options o;
	eval_options_default(&o);
	o.now = now_ms() / 1000;
	submit_batch b = { .s = S.s, .ps = S.ps, .opts = &o, .version = 1, .actor = "agent" };
	arena *a = arena_new();
	diags errs = { 0 };
	submission sub[3];
	const char *docs[3] = { "action: test.review\nref: b/1\n", "action: other\nref: b/2\n",
		"action: other\nref: b/1\n" };
	for (int i = 0; i < 3; i++) {
		bool empty;
		node *n = doc_parse(a, "t.yaml", docs[i], strlen(docs[i]), 1, &empty, &errs);
		assert_non_null(n);
		assert_true(submission_from_doc(n, "t.yaml", &sub[i], &errs));
		assert_true(submission_canonical(&sub[i], a));
	}
	eval_result r;
	stored out = { 0 };
	submit_reply rep;
	assert_int_equal(op_submit(&b, &sub[0], a, &r, &out, &rep), OUT_OK);
	assert_int_equal(r.status, ST_PENDING);
	assert_int_equal(op_submit(&b, &sub[1], a, &r, &out, &rep), OUT_OK);
	/* a ref with other content is refused alone: the batch goes on */
	assert_int_equal(op_submit(&b, &sub[2], a, &r, &out, &rep), OUT_CONFLICT);
	assert_int_equal(rep.lost, 0);
	assert_int_equal(b.pending, 2);
	assert_int_equal(db_int("SELECT count(*) FROM submissions"), 0);  /* not yet committed */
	assert_int_equal(op_submit_commit(&b, &rep), OUT_OK);
	assert_int_equal(db_int("SELECT count(*) FROM submissions"), 2);
	/* the same ref and content again is the stored one */
	assert_int_equal(op_submit(&b, &sub[0], a, &r, &out, &rep), OUT_OK);
	assert_true(out.existing);
	assert_int_equal(op_submit_commit(&b, &rep), OUT_OK);
	free(out.details.s);
	diags_free(&errs);
	arena_free(a);
}

/* list --json's result, written straight from the stored result, is the
 * bytes query_result's tree gave: for every status, with and without
 * decision times and expiry, and for texts that need escapes. */
static bool same_result(void *ctx, const sub_row *row, const char *result)
{
	int *rows = ctx;
	char *tree = submission_result_json_tree(S.s, row);
	assert_non_null(tree);
	if (strcmp(tree, result) != 0)
		fail_msg("row %lld:\n direct: %s\n tree:   %s", (long long)row->id, result, tree);
	free(tree);
	(*rows)++;
	return true;
}

static void test_list_results_written_directly(void **state)
{
	(void)state;
	enrol("bob", false);
	submit_yaml("action: test.review\nref: lr/1\ntitle: \"caf\\u00e9 \\\"q\\\" \\t tab \\u0001 \\u007f\"\n");
	int64_t approved = submit_action("test.review", "agent-a", "lr/2");
	int64_t rejected = submit_action("test.review", "agent-a", "lr/3");
	submit_action("test.block", "agent-b", "lr/4");
	submit_yaml("action: other.thing\nref: lr/5\n");
	char code[7];
	assert_int_equal(decide_one("approve", "bob", code_now("bob", code), approved, NULL), OUT_OK);
	clock_advance(31);
	assert_int_equal(decide_one("reject", "bob", code_now("bob", code), rejected, "not this one"), OUT_OK);
	sub_filter f = { .order = LIST_NEWEST_FIRST };
	int rows = 0;
	int64_t next;
	op_reply r;
	assert_int_equal(op_list(S.s, &f, true, same_result, &rows, &next, &r), OUT_OK);
	assert_int_equal(rows, 5);
}

static void test_audit_files(void **state)
{
	(void)state;
	submit_action("test.review", "agent-a", "ops/12");
	audit_checkpointed ck;
	const char *cp = in_store("../checkpoint.txt");
	assert_int_equal(op_audit_checkpoint(S.s, "tester", cp, &ck), OUT_OK);
	assert_true(ck.seq >= 2);
	assert_int_equal(strlen(ck.hash), 64);
	assert_int_equal(events("audit.checkpoint"), 1);
	struct stat st;
	assert_int_equal(stat(cp, &st), 0);
	assert_int_equal(stat(arena_printf(T.a, "%s.minisig", cp), &st), 0);
	audit_exported ex;
	const char *report = in_store("../export.json");
	assert_int_equal(op_audit_export(S.s, "tester", report, NULL, NULL, &ex), OUT_OK);
	assert_true(ex.verify.ok);
	assert_int_equal(events("audit.export"), 1);
	/* a rewritten event: the report is still written, and says so */
	db_exec("DROP TRIGGER IF EXISTS audit_no_update; "
	    "UPDATE audit SET actor = 'someone else' WHERE seq = 1");
	assert_int_equal(op_audit_export(S.s, "tester", report, NULL, NULL, &ex), OUT_TAMPERED);
	assert_false(ex.verify.ok);
	assert_int_equal(ex.verify.bad_seq, 1);
	assert_non_null(strstr(ex.reply.message, "TAMPERED at seq 1"));
	/* a path that cannot be written: an I/O error, with the reason */
	assert_int_equal(op_audit_checkpoint(S.s, "tester", "/nonexistent/dir/cp.txt", &ck),
	    OUT_IO_ERROR);
	assert_true(ck.reply.message[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		store_test(test_decide_asks_for_a_code_then_decides),
		store_test(test_decide_refuses_before_using_a_code),
		store_test(test_decide_many_with_one_code),
		store_test(test_session_and_signin),
		store_test(test_no_decision_while_tampered),
		store_test(test_reviewers),
		store_test(test_pin_and_reevaluate),
		store_test(test_reevaluate_replaces_quota_uses),
		store_test(test_submit_batch),
		store_test(test_list_results_written_directly),
		store_test(test_audit_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
