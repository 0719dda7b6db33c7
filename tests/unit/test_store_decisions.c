/*
 * test_store_decisions.c: decisions.c, approve, reject and override as
 * decision_check and decision_record make them in the caller's transaction:
 * what may be decided (a pending one approved, with its warnings
 * acknowledged; a blocked one overridden or rejected), what is refused with
 * its reason (one's own submission, one already decided, the wrong status,
 * a short justification, an expiry beyond max_duration), what is recorded
 * (the decision, the status, the audit event), an override's expiry,
 * reached by moving the test clock, and the quota sums that follow a
 * rejection and an override.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store_support.h"

static char why[512];

/* decision_check in a transaction; on OUT_OK decision_record too. The
 * transaction is committed when something was decided, else rolled back. A
 * refusal's outcome is returned with its reason in why. */
static outcome decide(int64_t id, const decision_req *q, decision_plan *p)
{
	why[0] = '\0';
	if (!store_begin(S.s))
		fail_msg("store_begin: %s", store_errmsg(S.s));
	outcome d = decision_check(S.s, &S.cfg, id, q, p, why, sizeof why);
	if (d != OUT_OK && why[0] == '\0')
		fail_msg("decision_check: %s", store_errmsg(S.s));
	if (d != OUT_OK) {
		store_rollback(S.s);
		return d;
	}
	if (!decision_record(S.s, q, p) || !store_commit(S.s))
		fail_msg("recording the decision: %s", store_errmsg(S.s));
	return d;
}

static decision_req approve_by(const char *name)
{
	return (decision_req){ .kind = "approve", .reviewer = name, .ack = true,
		.text = "looked at it" };
}

static void test_approve_a_pending_submission(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t id = submit_action("test.review", "agent-a", "approve/1");
	assert_string_equal(status_of(id), "pending");
	decision_plan p;
	decision_req q = approve_by("bob");
	q.ack = false;
	assert_int_equal(decide(id, &q, &p), OUT_NOT_PERMITTED);
	assert_non_null(strstr(why, "has 1 warning: approve with --ack"));
	assert_string_equal(status_of(id), "pending");
	q.ack = true;
	clock_advance(5);
	assert_int_equal(decide(id, &q, &p), OUT_OK);
	assert_int_equal(p.id, id);
	assert_string_equal(status_of(id), "approved");
	assert_string_equal(db_text(arena_printf(T.a, "SELECT reviewer || ' ' || decision || ' ' || "
	    "note || ' ' || at FROM decisions WHERE submission_id = %lld", (long long)id)),
	    "bob approve looked at it 2030-01-01T00:00:05.000Z");
	assert_string_equal(db_text(arena_printf(T.a, "SELECT actor || ' ' || json_extract(details, "
	    "'$.acknowledged_warnings') FROM audit WHERE event = 'decision.approve' AND subject = "
	    "'%lld'", (long long)id)), "bob 1");
	assert_int_equal(query_count(S.s, "pending"), 0);
	assert_int_equal(query_count(S.s, "approved"), 1);
}

static void test_nobody_decides_their_own_submission(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t mine = submit_action("test.review", "bob", "self/1");
	int64_t shouted = submit_action("test.block", "BOB", "self/2");
	decision_plan p;
	decision_req q = approve_by("bob");
	assert_int_equal(decide(mine, &q, &p), OUT_NOT_PERMITTED);
	assert_non_null(strstr(why, "submitted by bob: nobody decides their own submission"));
	q = (decision_req){ .kind = "reject", .reviewer = "bob", .text = "not mine to judge" };
	assert_int_equal(decide(shouted, &q, &p), OUT_NOT_PERMITTED);
	assert_non_null(strstr(why, "nobody decides their own submission"));
	q = (decision_req){ .kind = "override", .reviewer = "bob",
		.text = "a justification long enough to pass" };
	assert_int_equal(decide(shouted, &q, &p), OUT_NOT_PERMITTED);
	assert_string_equal(status_of(mine), "pending");
	assert_string_equal(status_of(shouted), "blocked");
	assert_int_equal(db_int("SELECT count(*) FROM decisions"), 0);
}

static void test_a_decided_submission_is_not_decided_again(void **state)
{
	(void)state;
	enrol("bob", false);
	enrol("carol", false);
	int64_t id = submit_action("test.review", "agent-a", "twice/1");
	decision_plan p;
	decision_req q = approve_by("bob");
	assert_int_equal(decide(id, &q, &p), OUT_OK);
	q = approve_by("carol");
	assert_int_equal(decide(id, &q, &p), OUT_ALREADY_DECIDED);
	assert_non_null(strstr(why, "already approved by bob"));
	q = (decision_req){ .kind = "reject", .reviewer = "carol", .text = "too late" };
	assert_int_equal(decide(id, &q, &p), OUT_ALREADY_DECIDED);
	assert_non_null(strstr(why, "already approved by bob"));
	assert_int_equal(db_int("SELECT count(*) FROM decisions"), 1);
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event LIKE 'decision.%'"), 1);
}

static void test_each_decision_takes_its_statuses(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t pending = submit_action("test.review", "agent-a", "kinds/1");
	int64_t blocked = submit_action("test.block", "agent-a", "kinds/2");
	int64_t allowed = submit_action("test.other", "agent-a", "kinds/3");
	assert_string_equal(status_of(allowed), "allowed");
	decision_plan p;
	decision_req q = approve_by("bob");
	assert_int_equal(decide(blocked, &q, &p), OUT_WRONG_STATE);
	assert_non_null(strstr(why, "approve takes a pending submission"));
	assert_int_equal(decide(allowed, &q, &p), OUT_WRONG_STATE);
	assert_non_null(strstr(why, "is allowed: there is nothing to decide"));
	assert_int_equal(decide(999, &q, &p), OUT_NOT_FOUND);
	assert_string_equal(why, "no submission 999");
	q = (decision_req){ .kind = "override", .reviewer = "bob",
		.text = "a justification long enough to pass" };
	assert_int_equal(decide(pending, &q, &p), OUT_WRONG_STATE);
	assert_non_null(strstr(why, "override takes a blocked submission"));
	q = (decision_req){ .kind = "reject", .reviewer = "bob", .text = "not now" };
	assert_int_equal(decide(blocked, &q, &p), OUT_OK);
	assert_string_equal(status_of(blocked), "rejected");
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'decision.reject'"), 1);
}

static void test_an_override_lasts_until_it_expires(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t id = submit_action("test.block", "agent-a", "override/1");
	decision_plan p;
	decision_req q = { .kind = "override", .reviewer = "bob", .text = "too short" };
	assert_int_equal(decide(id, &q, &p), OUT_NOT_PERMITTED);
	assert_non_null(strstr(why, "the justification has 9 characters; at least 20"));
	q.text = "checked by hand, fine for a day";
	q.expires_s = 9 * 3600;
	assert_int_equal(decide(id, &q, &p), OUT_NOT_PERMITTED);
	assert_non_null(strstr(why, "policy blocked allows an override of at most 8h"));
	/* the default 24h is capped at max_duration, 8h, silently */
	q.expires_s = 0;
	assert_int_equal(decide(id, &q, &p), OUT_OK);
	assert_true(p.complete);
	assert_int_equal(p.expires_ms, START_MS + 8 * 3600 * 1000);
	assert_string_equal(status_of(id), "overridden");
	assert_string_equal(db_text(arena_printf(T.a, "SELECT expires_at FROM submissions WHERE id = "
	    "%lld", (long long)id)), "2030-01-01T08:00:00.000Z");
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'override.grant'"), 1);
	clock_advance(8 * 3600 - 1);
	assert_string_equal(status_of(id), "overridden");
	clock_advance(1);
	assert_string_equal(status_of(id), "expired");
	assert_int_equal(query_count(S.s, "expired"), 1);
	/* an expired override is decided: not overridden again */
	enrol("carol", false);
	q.reviewer = "carol";
	assert_int_equal(decide(id, &q, &p), OUT_ALREADY_DECIDED);
	assert_non_null(strstr(why, "already overridden by bob (expired)"));
}

/* What the quota "spend" (the fixture's, summing cost) reads as history. */
static double spent(void)
{
	const policy *p = NULL;
	for (size_t i = 0; i < S.ps->n; i++)
		if (strcmp(S.ps->items[i].name, "spend") == 0)
			p = &S.ps->items[i];
	assert_non_null(p);
	history_source h;
	store_history(S.s, &h);
	quota_query q = { .policy = p, .since = 0 };
	double out = 0;
	char err[128];
	assert_true(h.quota(h.ctx, &q, &out, err, sizeof err));
	return out;
}

/* Refused submissions do not count towards quotas (PRODUCT.md section 3):
 * a pending one counts until it is rejected, a blocked one from when it is
 * overridden. */
static void test_quotas_count_what_is_not_refused(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t waiting = submit_yaml("action: test.review\nsubmitter: agent-a\nref: q/1\ncost: 10\n");
	assert_string_equal(status_of(waiting), "pending");
	assert_true(spent() == 10);
	int64_t blocked = submit_yaml("action: test.block\nsubmitter: agent-a\nref: q/2\ncost: 7\n");
	assert_string_equal(status_of(blocked), "blocked");
	assert_true(spent() == 10);
	decision_plan p;
	decision_req q = { .kind = "reject", .reviewer = "bob", .text = "not this one" };
	assert_int_equal(decide(waiting, &q, &p), OUT_OK);
	assert_true(spent() == 0);
	q = (decision_req){ .kind = "override", .reviewer = "bob",
		.text = "the budget allows this run after all" };
	assert_int_equal(decide(blocked, &q, &p), OUT_OK);
	assert_string_equal(status_of(blocked), "overridden");
	assert_true(spent() == 7);
	assert_int_equal(db_int("SELECT count(*) FROM quota_usage"), 2);
}

/* Two records of one checked decision in a transaction (the same id twice):
 * the second fails, and the quota given back once is not given back again. */
static void test_a_decision_is_recorded_once(void **state)
{
	(void)state;
	enrol("bob", false);
	int64_t id = submit_yaml("action: test.review\nsubmitter: agent-a\nref: once/1\ncost: 10\n");
	assert_true(spent() == 10);
	decision_req q = { .kind = "reject", .reviewer = "bob", .text = "not this one" };
	decision_plan first, second;
	assert_true(store_begin(S.s));
	assert_int_equal(decision_check(S.s, &S.cfg, id, &q, &first, why, sizeof why), OUT_OK);
	assert_int_equal(decision_check(S.s, &S.cfg, id, &q, &second, why, sizeof why), OUT_OK);
	assert_true(decision_record(S.s, &q, &first));
	assert_false(decision_record(S.s, &q, &second));
	assert_non_null(strstr(store_errmsg(S.s), "is no longer pending"));
	assert_true(spent() == 0);
	store_rollback(S.s);
	assert_string_equal(status_of(id), "pending");
	assert_true(spent() == 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_approve_a_pending_submission),
		store_test(test_nobody_decides_their_own_submission),
		store_test(test_a_decided_submission_is_not_decided_again),
		store_test(test_each_decision_takes_its_statuses),
		store_test(test_an_override_lasts_until_it_expires),
		store_test(test_quotas_count_what_is_not_refused),
		store_test(test_a_decision_is_recorded_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
